using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapSuite;

/// <summary>Runs the heap family alone with a fixed seed, and renders what it found for assertion messages.</summary>
internal static class HeapRuns
{
    public const ulong Seed = 20240917;
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    public static readonly ulong[] Small = [64 * MiB];
    public static readonly ulong[] Both = [64 * MiB, 1 * GiB];

    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory,
        int sequences, int maxSteps = 60, ulong seed = Seed) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = profiles,
            MemorySizes = memory,
            Families = new HashSet<string> { "heap" },
            Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps },
        });

    /// <summary>
    /// Every rule any property's counterexample names, including rules outside the heap family's own list
    /// (GFP-1, GFP-5, PAGE-1, PAGE-4, ADDR-11), which the heap machine checks but
    /// <see cref="SuiteResult.FailedRuleIds"/> reports as "not applicable" (see the report).
    /// </summary>
    public static IReadOnlySet<string> EveryFailedRule(SuiteResult result) =>
        result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();

    public static string Explain(SuiteResult result)
    {
        var sb = new StringBuilder();
        sb.Append($"{result.Implementation}: {result.Sequences} sequences, {result.Operations} operations in {result.Elapsed.TotalSeconds:F1} s\n");
        foreach (var row in result.Results.Where(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised))
        {
            sb.Append($"{row.Rule.Id} on {row.Profile}: {row.Outcome}");
            if (row.Counterexample is { } ce) AppendCounterexample(sb, ce);
            else sb.Append($": {row.Reason}\n");
        }
        foreach (var ce in result.Properties.SelectMany(p => p.Failures).Where(f => !result.FailedRuleIds.Contains(f.RuleId)))
        {
            sb.Append($"{ce.RuleId} (outside the heap family's rule list)");
            AppendCounterexample(sb, ce);
        }
        return sb.ToString();
    }

    private static void AppendCounterexample(StringBuilder sb, Counterexample ce)
    {
        sb.Append($" on {ce.ProfileLabel} ({ce.OriginalSteps} -> {ce.ShrunkSteps} steps): {ce.Message}\n");
        for (int i = 0; i < ce.Trace.Count; i++) sb.Append($"    {i + 1,3}. {ce.Trace[i]}\n");
    }
}
