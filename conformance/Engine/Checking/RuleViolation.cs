namespace KernelMm.Conformance.Checking;

/// <summary>A check failed: the implementation broke <see cref="RuleId"/>.</summary>
public sealed class RuleViolation(string ruleId, string message) : Exception($"{ruleId}: {message}")
{
    public string RuleId { get; } = ruleId;
    public string Detail { get; } = message;
}

/// <summary>
/// A check of a masked rule (one already reported failed) would have failed. The state of the
/// implementation is no longer predictable, so the sequence stops here without a verdict.
/// </summary>
internal sealed class MaskedDivergence(string ruleId) : Exception($"diverged at masked rule {ruleId}")
{
    public string RuleId { get; } = ruleId;
}
