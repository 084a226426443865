namespace KernelMm.Conformance.Checking;

/// <summary>A check failed: the implementation broke <see cref="RuleId"/>.</summary>
public sealed class RuleViolation(string ruleId, string message) : Exception($"{ruleId}: {message}")
{
    public string RuleId { get; } = ruleId;
    public string Detail { get; } = message;
    /// <summary>When the violation is a failed implementation call (a crash, a hang, an exception outside the contract) charged to this rule's check: that call.</summary>
    public CallFailure? Failure { get; init; }
}

/// <summary>
/// The sequence cannot go on: the implementation failed (crashed, hung, raised outside the
/// contract) in a sequence that had already diverged at a masked rule, or at a check of a masked
/// rule. The sequence ends without a verdict; it is counted as cut short by <see cref="RuleId"/>,
/// never as a passing sequence.
/// </summary>
internal sealed class SequenceStopped(string ruleId, CallFailure? failure) : Exception($"cut short by masked rule {ruleId}")
{
    /// <summary>The masked rule whose failure cut the sequence short.</summary>
    public string RuleId { get; } = ruleId;
    public CallFailure? Failure { get; } = failure;
}

/// <summary>
/// One contract call that failed as a call: it raised an implementation fault (the process crashed,
/// hung or broke the protocol), or raised anything while the suite was reading state a check needs.
/// <see cref="Call"/> is the kernel-style call with its arguments (empty when the failure happened
/// outside any call the suite could see, e.g. while booting), <see cref="CSharp"/> the same call as
/// a C# statement.
/// </summary>
public sealed record CallFailure(string Call, string CSharp, Exception Exception)
{
    /// <summary>
    /// Set when the failure is not the call's own, so no check's rule is to blame: the process was
    /// already dead when the sequence's first call reached it (it did not boot), or it outgrew its
    /// memory limit (noticed at whatever call came next). Such a failure is charged to this rule,
    /// the family's primary rule.
    /// </summary>
    public string? ChargedTo { get; init; }

    public bool IsProcessFault => Exception is OutOfProcess.ImplementationFaultException;

    /// <summary>What a report says about it: the call (when known), and the first exception's own message.</summary>
    public string Describe() => (IsProcessFault, Call.Length > 0) switch
    {
        (true, true) => $"the implementation process failed during {Call}: {Exception.Message}",
        (true, false) => $"the implementation process failed: {Exception.Message}",
        (false, true) => $"{Call} raised {Exception.GetType().Name} outside any documented error: {Exception.Message}",
        _ => $"the implementation raised {Exception.GetType().Name} outside any documented error: {Exception.Message}",
    };
}
