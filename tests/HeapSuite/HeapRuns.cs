using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Shared;

namespace KernelMm.Tests.HeapSuite;

/// <summary>Runs the heap family alone with a fixed seed (<see cref="FamilyRuns"/> renders what it found).</summary>
internal static class HeapRuns
{
    public const ulong Seed = 20240917;

    public static readonly ulong[] Small = [64 * FamilyRuns.MiB];
    public static readonly ulong[] Both = [64 * FamilyRuns.MiB, 1 * FamilyRuns.GiB];

    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory,
        int sequences, int maxSteps = 60, ulong seed = Seed) =>
        FamilyRuns.Run(factory, profiles, memory, ["heap"], sequences, maxSteps, seed);

    /// <inheritdoc cref="FamilyRuns.EveryFailedRule"/>
    public static IReadOnlySet<string> EveryFailedRule(SuiteResult result) => FamilyRuns.EveryFailedRule(result);

    /// <inheritdoc cref="FamilyRuns.Explain"/>
    public static string Explain(SuiteResult result) => FamilyRuns.Explain(result);
}
