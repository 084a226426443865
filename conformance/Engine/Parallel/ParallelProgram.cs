namespace KernelMm.Conformance.Parallel;

/// <summary>
/// One step of a parallel program: the operation, and the pause the harness makes before it
/// (0: none; above 0: that many spin iterations; <see cref="Yield"/>: give up the CPU). Pauses are
/// the harness's, never the implementation's: they shift the threads against each other so that
/// different interleavings show even on a busy two-core machine.
/// </summary>
public readonly record struct ParallelStep<TOp>(TOp Op, int Pause = 0) where TOp : notnull
{
    public const int Yield = -1;
}

/// <summary>
/// A generated parallel test case: a sequential prefix run by one CPU, then 1 to 4 branches run at
/// the same time, one per CPU, started together on a barrier (a shrunk case may keep one branch).
/// The family adds what runs after the branches join (final reads, frees, drains).
/// </summary>
public sealed record ParallelProgram<TOp>(IReadOnlyList<ParallelStep<TOp>> Prefix, IReadOnlyList<IReadOnlyList<ParallelStep<TOp>>> Branches)
    where TOp : notnull
{
    /// <summary>The seed this program was generated from (reports print it).</summary>
    public ulong Seed { get; init; }

    /// <summary>Operations in the prefix and every branch.</summary>
    public int Steps => Prefix.Count + Branches.Sum(b => b.Count);

    public int Pauses => Prefix.Count(s => s.Pause != 0) + Branches.Sum(b => b.Count(s => s.Pause != 0));
}
