namespace KernelMm.Conformance.Checking;

/// <summary>
/// Where checks report: counts how often each rule was exercised, turns a failed check into a
/// <see cref="RuleViolation"/>, and keeps the verdicts honest once a masked rule (one already
/// reported failed) has failed in this sequence.
/// </summary>
/// <remarks>
/// <para><b>After a masked failure the sequence goes on.</b> Stopping there would leave every later
/// check unreached, and a rule whose only failing states lie behind the masked failure would be
/// reported "pass" on the evidence of the states before it (issue 7: a lost max-order block was
/// reported <c>PAGE-8 pass</c> because every sequence that reached it stopped at the masked
/// ADDR-11 first). So the first failed check of a masked rule only marks the sequence
/// <see cref="DivergedAt"/>, and the checks after it still run. A check that holds there is
/// evidence like any other. A check that fails there is not reported as a failure (the model may no
/// longer describe the implementation, so it may be a consequence of the masked failure) and not
/// as a pass: it is recorded in <see cref="Blocked"/>, and the rule is reported
/// <c>Blocked</c> by the masked rule unless it also fails before any masked failure.</para>
/// <para><b>A failed call is charged to the check that runs next.</b> When the implementation
/// fails as a call (its process crashes, hangs or breaks the protocol, or a query a check needs
/// raises), the contract boundary records it and stops calling the instance, and the next
/// <c>That</c> of the step, the check that was gathering what it needs, reports it as a
/// failure of its rule. A failure that is not the call's own (the process did not boot, or
/// outgrew its memory limit) goes to the family's primary rule instead (<see cref="CallFailure.ChargedTo"/>).
/// When the rule is masked, or the sequence had already diverged, the sequence is cut short
/// (<see cref="SequenceStopped"/>): no verdict, and never a passing sequence.</para>
/// </remarks>
public sealed class CheckScope
{
    private readonly IReadOnlySet<string> _masked;
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private Dictionary<string, BlockedCheck>? _blocked;

    public CheckScope(IReadOnlySet<string>? masked = null) => _masked = masked ?? new HashSet<string>();

    /// <summary>Operations executed (not skipped by a precondition).</summary>
    public long Operations { get; set; }

    public IReadOnlyDictionary<string, long> Counts => _counts;

    /// <summary>The first masked rule whose check failed in this sequence, or null while none has.</summary>
    public string? DivergedAt { get; private set; }

    /// <summary>Rules whose check failed only after the sequence had diverged, with the first such failure of each.</summary>
    public IReadOnlyDictionary<string, BlockedCheck> Blocked =>
        _blocked ?? (IReadOnlyDictionary<string, BlockedCheck>)EmptyBlocked;

    private static readonly Dictionary<string, BlockedCheck> EmptyBlocked = new();

    /// <summary>The contract boundary of the running sequence, whose failed calls the next check reports.</summary>
    internal Running.CallRecorder? Recorder { get; set; }

    /// <summary>Checks <paramref name="condition"/> for <paramref name="ruleId"/>; the message is only built on failure.</summary>
    public void That(string ruleId, bool condition, Func<string> message)
    {
        if (Holds(ruleId, condition)) return;
        if (DivergedAt is not null)
        {
            if (!Recorded(ruleId)) Block(ruleId, message());
            return;
        }
        throw new RuleViolation(ruleId, message());
    }

    /// <summary>
    /// Checks <paramref name="condition"/> for <paramref name="ruleId"/>; the interpolated message is
    /// formatted only when the check fails, and a check that holds allocates nothing.
    /// </summary>
    public void That(string ruleId, bool condition, [System.Runtime.CompilerServices.InterpolatedStringHandlerArgument("condition")] ref CheckMessage message)
    {
        if (Holds(ruleId, condition)) return;
        if (DivergedAt is not null)
        {
            if (!Recorded(ruleId)) Block(ruleId, message.Text());
            return;
        }
        throw new RuleViolation(ruleId, message.Text());
    }

    /// <summary>The bookkeeping of a check: a pending failed call first, then the mask and the count. True when nothing more is to be done.</summary>
    private bool Holds(string ruleId, bool condition)
    {
        if (Recorder?.Pending is { } failure) Charge(failure.ChargedTo ?? ruleId, failure);
        if (_masked.Count != 0 && _masked.Contains(ruleId))
        {
            if (!condition) DivergedAt ??= ruleId;
            return true;
        }
        ref long count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, ruleId, out _);
        count++;
        return condition;
    }

    /// <summary>Fails <paramref name="ruleId"/> unconditionally.</summary>
    public void Fail(string ruleId, string message) => That(ruleId, false, () => message);

    public bool IsMasked(string ruleId) => _masked.Contains(ruleId);

    /// <summary>
    /// Reports a failed call against <paramref name="ruleId"/>: a violation, or, when the rule is
    /// masked or the sequence has diverged, the end of the sequence without a verdict.
    /// </summary>
    internal void Charge(string ruleId, CallFailure failure)
    {
        if (_masked.Contains(ruleId)) throw new SequenceStopped(ruleId, failure);
        if (DivergedAt is { } masked)
        {
            Block(ruleId, failure.Describe());
            throw new SequenceStopped(masked, failure);
        }
        ref long count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, ruleId, out _);
        count++;
        throw new RuleViolation(ruleId, failure.Describe()) { Failure = failure };
    }

    /// <summary>Rules whose blocked check is already known to the caller: their messages are not built again.</summary>
    public IReadOnlySet<string>? KnownBlocked { get; init; }

    private void Block(string ruleId, string message) =>
        (_blocked ??= new(StringComparer.Ordinal)).TryAdd(ruleId, new BlockedCheck(DivergedAt!, message));

    private bool Recorded(string ruleId) => _blocked?.ContainsKey(ruleId) == true || KnownBlocked?.Contains(ruleId) == true;

    public void MergeInto(Dictionary<string, long> totals)
    {
        foreach (var (rule, n) in _counts)
            totals[rule] = totals.GetValueOrDefault(rule) + n;
    }
}

/// <summary>A check of a rule that failed after the masked rule <see cref="After"/> had failed in the same sequence.</summary>
public sealed record BlockedCheck(string After, string Message);
