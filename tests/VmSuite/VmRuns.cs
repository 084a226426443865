using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.VmSuite;

/// <summary>Runs the vm family alone with a fixed seed, and renders what it found for assertion messages.</summary>
internal static class VmRuns
{
    public const ulong Seed = 20250309;
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    public static readonly ulong[] Small = [64 * MiB];
    public static readonly ulong[] Both = [64 * MiB, 1 * GiB];

    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory,
        int sequences, int maxSteps = 60, ulong seed = Seed, params string[] families) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = profiles,
            MemorySizes = memory,
            Families = new HashSet<string>(families.Length == 0 ? ["vm"] : families),
            Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps },
        });

    /// <summary>Every rule any property's counterexample names, including rules outside the vm family's list (PAGE-1, PAGE-4, ADDR-11, ...).</summary>
    public static IReadOnlySet<string> EveryFailedRule(SuiteResult result) =>
        result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();

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
