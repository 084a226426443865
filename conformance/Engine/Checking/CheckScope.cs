namespace KernelMm.Conformance.Checking;

/// <summary>
/// Where checks report: counts how often each rule was exercised, and turns a failed check into
/// a <see cref="RuleViolation"/> (or, for a rule already reported failed, a quiet stop).
/// </summary>
public sealed class CheckScope
{
    private readonly IReadOnlySet<string> _masked;
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public CheckScope(IReadOnlySet<string>? masked = null) => _masked = masked ?? new HashSet<string>();

    /// <summary>Operations executed (not skipped by a precondition).</summary>
    public long Operations { get; set; }

    public IReadOnlyDictionary<string, long> Counts => _counts;

    /// <summary>Checks <paramref name="condition"/> for <paramref name="ruleId"/>; the message is only built on failure.</summary>
    public void That(string ruleId, bool condition, Func<string> message)
    {
        if (_masked.Contains(ruleId))
        {
            if (!condition) throw new MaskedDivergence(ruleId);
            return;
        }
        ref long count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, ruleId, out _);
        count++;
        if (!condition) throw new RuleViolation(ruleId, message());
    }

    /// <summary>Fails <paramref name="ruleId"/> unconditionally.</summary>
    public void Fail(string ruleId, string message) => That(ruleId, false, () => message);

    public bool IsMasked(string ruleId) => _masked.Contains(ruleId);

    public void MergeInto(Dictionary<string, long> totals)
    {
        foreach (var (rule, n) in _counts)
            totals[rule] = totals.GetValueOrDefault(rule) + n;
    }
}
