using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Shared;

/// <summary>
/// Runs chosen families of the suite with a fixed seed, and renders what they found for assertion
/// messages. The per-area helpers (SuiteRuns, HeapRuns, VmRuns) keep their own seeds and memory sizes
/// and call this.
/// </summary>
internal static class FamilyRuns
{
    public const ulong MiB = 1 << 20, GiB = 1 << 30;

    /// <summary>The families in <paramref name="families"/> (every family when null) on the given profiles and sizes.</summary>
    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile>? profiles, IReadOnlyList<ulong>? memory,
        IReadOnlyCollection<string>? families, int sequences, int maxSteps, ulong seed)
    {
        var options = new SuiteOptions
        {
            Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps },
        };
        if (profiles is not null) options = options with { Profiles = profiles };
        if (memory is not null) options = options with { MemorySizes = memory };
        if (families is not null) options = options with { Families = new HashSet<string>(families) };
        return SuiteRunner.Run(factory, options);
    }

    /// <summary>
    /// Every rule any property's counterexample names, including rules outside the run families' own
    /// lists (a heap or vm machine also checks PAGE-1, PAGE-4, ADDR-11, ...), which
    /// <see cref="SuiteResult.FailedRuleIds"/> reports as "not applicable".
    /// </summary>
    public static IReadOnlySet<string> EveryFailedRule(SuiteResult result) =>
        result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();

    /// <summary>
    /// Every failed, not-exercised or blocked row with its counterexample, then every counterexample
    /// no row showed (a rule outside the families' lists), for an assertion message.
    /// </summary>
    public static string Explain(SuiteResult result)
    {
        var sb = new StringBuilder();
        sb.Append($"{result.Implementation}: {result.Sequences} sequences, {result.Operations} operations in {result.Elapsed.TotalSeconds:F1} s\n");
        var shown = new HashSet<Counterexample>();
        foreach (var row in result.Results.Where(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised or RuleOutcome.Blocked))
        {
            sb.Append($"{row.Rule.Id} on {row.Profile}: {row.Outcome}{(row.BlockedBy is { } by ? $" by {by}" : "")}");
            if (row.Counterexample is { } ce) { Append(sb, ce); shown.Add(ce); }
            else sb.Append($": {row.Reason}\n");
        }
        foreach (var ce in result.Properties.SelectMany(p => p.Failures).Where(f => !shown.Contains(f)))
        {
            sb.Append($"{ce.RuleId} (another property)");
            Append(sb, ce);
        }
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, Counterexample ce)
    {
        sb.Append($" on {ce.ProfileLabel} ({ce.OriginalSteps} -> {ce.ShrunkSteps} steps): {ce.Message}\n");
        for (int i = 0; i < ce.Trace.Count; i++) sb.Append($"    {i + 1,3}. {ce.Trace[i]}\n");
    }
}
