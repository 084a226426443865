using BenchmarkDotNet.Attributes;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Benchmarks;

/// <summary>
/// The reference page allocator on x86-32/512M. Each benchmark method runs a loop of
/// <see cref="Pairs"/> (or one replay of the mixed script) per invocation; OperationsPerInvoke
/// makes BenchmarkDotNet report the time per pair (per operation for the mixed workload), and
/// the "Op/s" column is pairs (operations) per second. Target: 25,000,000 order-0 pairs/s.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class PageAllocatorBenchmarks
{
    public const int Pairs = 1_000_000;
    public const int MixedOperations = 1_000_000;
    public const ulong MixedSeed = 0x5EED_0001;

    private ReferenceKernel _kernel = null!;
    private MixedWorkload _mixed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = Workloads.Boot();
        _mixed = MixedWorkload.Create(MixedSeed, MixedOperations);
        if (_mixed.Operations != MixedOperations)
            throw new InvalidOperationException($"mixed script has {_mixed.Operations} steps, expected {MixedOperations}");
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    /// <summary>(a) order-0 GFP_KERNEL __get_free_pages + free_pages: one pair per operation.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Pairs)]
    public ulong GetFreePages_Kernel_Order0_Pair() => Workloads.GetFreePagesPairs(_kernel, Pairs, Gfp.Kernel);

    /// <summary>
    /// (a') the same with GFP_ATOMIC: no might_sleep() on the allocation path, so the difference to (a)
    /// is the cost of the blocking-context check (see README, hotspot R1).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Pairs)]
    public ulong GetFreePages_Atomic_Order0_Pair() => Workloads.GetFreePagesPairs(_kernel, Pairs, Gfp.Atomic);

    /// <summary>(b) order-0 GFP_KERNEL alloc_pages + __free_pages: one pair per operation.</summary>
    [Benchmark(OperationsPerInvoke = Pairs)]
    public ulong AllocPages_Kernel_Order0_Pair() => Workloads.AllocPagesPairs(_kernel, Pairs, Gfp.Kernel);

    /// <summary>(c) mixed orders 0..5, ~1000 live blocks: one allocation or one free per operation.</summary>
    [Benchmark(OperationsPerInvoke = MixedOperations)]
    public ulong Mixed_Orders0To5_Op() => _mixed.Run(_kernel, Gfp.Kernel);

    /// <summary>(c') the same script with GFP_ATOMIC (no might_sleep() string on the allocation path).</summary>
    [Benchmark(OperationsPerInvoke = MixedOperations)]
    public ulong Mixed_Orders0To5_Atomic_Op() => _mixed.Run(_kernel, Gfp.Atomic);
}
