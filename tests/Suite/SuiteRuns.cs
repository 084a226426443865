using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Suite;

/// <summary>Runs the conformance suite with fixed seeds and renders what it found for assertion messages.</summary>
internal static class SuiteRuns
{
    public const ulong Seed = 20240601;
    private const ulong MiB = 1 << 20, GiB = 1 << 30;

    public static readonly ulong[] Small = [64 * MiB, 512 * MiB];
    public static readonly ulong[] Large = [1 * GiB, 2 * GiB];
    public static readonly ulong[] All = [.. Small, .. Large];

    /// <summary>Every profile and memory size, the whole page family, a fixed seed.</summary>
    public static SuiteResult Full(IImplementationFactory factory, int sequences = 60) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Settings = new RunSettings { Seed = Seed, Sequences = sequences },
        });

    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory,
        int sequences, int maxSteps = 60, ulong seed = Seed) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = profiles,
            MemorySizes = memory,
            Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps },
        });

    /// <summary>Every failed or not-exercised row, with its counterexample, for an assertion message.</summary>
    public static string Explain(SuiteResult result)
    {
        var sb = new StringBuilder();
        sb.Append($"{result.Implementation}: {result.Sequences} sequences, {result.Operations} operations in {result.Elapsed.TotalSeconds:F1} s\n");
        foreach (var row in result.Results.Where(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised or RuleOutcome.Blocked))
        {
            sb.Append($"{row.Rule.Id} on {row.Profile}: {row.Outcome}{(row.BlockedBy is { } by ? $" by {by}" : "")}");
            if (row.Counterexample is { } ce)
            {
                sb.Append($" on {ce.ProfileLabel} ({ce.OriginalSteps} -> {ce.ShrunkSteps} steps): {ce.Message}\n");
                for (int i = 0; i < ce.Trace.Count; i++) sb.Append($"    {i + 1,3}. {ce.Trace[i]}\n");
            }
            else sb.Append($": {row.Reason}\n");
        }
        return sb.ToString();
    }
}
