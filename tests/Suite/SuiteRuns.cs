using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Shared;

namespace KernelMm.Tests.Suite;

/// <summary>Runs the conformance suite with fixed seeds and renders what it found for assertion messages.</summary>
internal static class SuiteRuns
{
    public const ulong Seed = 20240601;
    private const ulong MiB = FamilyRuns.MiB, GiB = FamilyRuns.GiB;

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
        FamilyRuns.Run(factory, profiles, memory, families: null, sequences, maxSteps, seed);

    /// <inheritdoc cref="FamilyRuns.Explain"/>
    public static string Explain(SuiteResult result) => FamilyRuns.Explain(result);
}
