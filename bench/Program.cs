using BenchmarkDotNet.Running;

namespace KernelMm.Benchmarks;

/// <summary>
/// Entry point. Without options: BenchmarkDotNet (e.g. <c>--job short --filter '*PageAllocator*'</c>).
/// <c>--quick [--seconds N] [--rounds R] [--warmup S] [--filter TEXT]</c>: each workload timed with a plain Stopwatch for about
/// N (default 2) seconds (R times, best and median shown), one short table, no BenchmarkDotNet.
/// <c>--phases [--runs N]</c>: where the conformance run spends its time (generation, boot, checks).
/// <c>--cscheck [--tries N]</c>: CsCheck's SampleParallel on the broken atomic_t counters (the evidence for the runner choice).
/// <c>--parallel-runs [--seconds N]</c>: checked parallel runs per second of the atomic and smp families on the reference.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--quick")) return QuickRunner.Run(args);
        if (args.Contains("--phases")) return PhaseProfiler.Run(args);
        if (args.Contains("--cscheck")) return ParallelComparison.Run(args);
        if (args.Contains("--parallel-runs")) return ParallelThroughput.Run(args);
        if (args.Contains("--transport")) return TransportFloor.Run(args);
        if (args.Contains("--oop")) return OutOfProcessThroughput.Run(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    internal static string? Option(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
