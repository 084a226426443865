using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Shared;

namespace KernelMm.Tests.VmSuite;

/// <summary>Runs the vm family (or the given families) with a fixed seed (<see cref="FamilyRuns"/> renders what it found).</summary>
internal static class VmRuns
{
    public const ulong Seed = 20250309;

    public static readonly ulong[] Small = [64 * FamilyRuns.MiB];
    public static readonly ulong[] Both = [64 * FamilyRuns.MiB, 1 * FamilyRuns.GiB];

    public static SuiteResult Run(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory,
        int sequences, int maxSteps = 60, ulong seed = Seed, params string[] families) =>
        FamilyRuns.Run(factory, profiles, memory, families.Length == 0 ? ["vm"] : families, sequences, maxSteps, seed);

    /// <inheritdoc cref="FamilyRuns.EveryFailedRule"/>
    public static IReadOnlySet<string> EveryFailedRule(SuiteResult result) => FamilyRuns.EveryFailedRule(result);

    /// <inheritdoc cref="FamilyRuns.Explain"/>
    public static string Explain(SuiteResult result) => FamilyRuns.Explain(result);
}
