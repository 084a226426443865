namespace KernelMm.Spec.Contract;

/// <summary>
/// Base of every error an implementation raises through the contract.
/// An implementation leaves its state unchanged when it raises one of these.
/// </summary>
public abstract class KernelApiException(string message) : Exception(message);

/// <summary>
/// A caller bug that the kernel's debug checks catch (double free, free with the wrong order,
/// a sleeping call in atomic context...). <see cref="RuleId"/> names the rule the caller broke,
/// as the catalogue spells it (e.g. "PAGE-4"). The refused call changed nothing.
/// </summary>
public sealed class KernelBugException(string ruleId, string message)
    : KernelApiException($"BUG [{ruleId}]: {message}")
{
    /// <summary>The rule the caller broke, as the catalogue spells it (e.g. "PAGE-4").</summary>
    public string RuleId { get; } = ruleId;
    /// <summary>What the debug check saw, without the "BUG [RULE]:" prefix of <see cref="Exception.Message"/>.</summary>
    public string Bug { get; } = message;
}

/// <summary>
/// Bad input that is not a documented caller bug: a negative order, a flag the profile does not
/// know. Corresponds to -EINVAL. The refused call changed nothing.
/// </summary>
public sealed class InvalidArgumentException(string parameter, string message)
    : KernelApiException($"EINVAL ({parameter}): {message}")
{
    /// <summary>The parameter that was refused (e.g. "order", "zone").</summary>
    public string Parameter { get; } = parameter;
}

/// <summary>
/// The kernel touched an address with no mapping ("unable to handle kernel paging request").
/// Raised by <see cref="IKernelMemory"/> accessors; the access had no effect.
/// </summary>
public sealed class KernelPageFaultException(ulong address, string message)
    : KernelApiException($"unable to handle kernel paging request at 0x{address:x}: {message}")
{
    /// <summary>The kernel virtual address that has no mapping.</summary>
    public ulong Address { get; } = address;
}
