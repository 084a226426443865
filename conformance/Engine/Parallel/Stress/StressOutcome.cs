using KernelMm.Conformance.Checking;

namespace KernelMm.Conformance.Parallel.Stress;

/// <summary>
/// What a family's stress found: the first violated rule (or null), the lines describing it, and how
/// hard it looked: rounds, operations, and how long at least two CPUs really ran together
/// (<see cref="OverlapMeter"/>). <see cref="Diverged"/> when only a masked rule's check failed: no verdict.
/// </summary>
public sealed record StressOutcome(RuleViolation? Violation, IReadOnlyList<string> Trace, int Cpus, int Rounds, long Operations, TimeSpan Overlap, TimeSpan Elapsed)
{
    public bool Diverged { get; init; }

    /// <summary>"2 CPUs, 14 rounds, 1,234,567 operations, 6.1 ms of the 41 ms with two or more CPUs running together".</summary>
    public string Effort =>
        $"{Cpus} CPUs, {Rounds} round(s), {Operations:N0} operations; two or more CPUs ran together for {Overlap.TotalMilliseconds:F1} ms of {Elapsed.TotalMilliseconds:F0} ms";
}

/// <summary>
/// How many stress threads to run: all the pool has (4), even on two cores. On a busy machine each thread
/// is on a core only a small share of the time, and the chance that two of them are at once grows with the
/// number of pairs (bench/README.md, "Parallel mode: stress").
/// </summary>
public static class StressCpus
{
    public static int For(CpuPool cpus) => cpus.Cpus;

    /// <summary>
    /// Spins until <paramref name="condition"/> holds: hard while the others are likely on cores too, yielding
    /// often when there are more threads than cores, and now and then anyway (the awaited thread lost its core).
    /// </summary>
    public static void SpinUntil(Func<bool> condition, int threads)
    {
        int yieldEvery = threads > Environment.ProcessorCount ? 64 : 4096;
        for (int i = 1; !condition(); i++)
        {
            if (i % yieldEvery == 0) Thread.Yield();
            else Thread.SpinWait(4);
        }
    }
}

/// <summary>How a stress runs: CPUs, round length, rest between rounds, overlap wanted per test (null: the family's defaults). For measurements.</summary>
public sealed record StressTuning
{
    public int? Cpus { get; init; }
    public TimeSpan? Round { get; init; }
    public TimeSpan? Rest { get; init; }
    public TimeSpan? OverlapTarget { get; init; }
}
