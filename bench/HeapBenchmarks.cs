using BenchmarkDotNet.Attributes;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Benchmarks;

/// <summary>
/// The reference kmalloc family and slab caches on x86-32/512M, one pair (or script step) per
/// operation. Target: 20,000,000 kmalloc(64)+kfree pairs/s.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class HeapBenchmarks
{
    public const int Pairs = 1_000_000;
    public const int MixedSteps = 1_000_000;
    private ReferenceKernel _kernel = null!;
    private SlabCacheHandle _cache;
    private HeapWorkloads.Mixed _mixed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = Workloads.Boot();
        _cache = HeapWorkloads.CreateCache(_kernel);
        _mixed = new HeapWorkloads.Mixed(0x5EED_0002, MixedSteps);
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Pairs)]
    public ulong Kmalloc64_Kfree_Pair() => HeapWorkloads.KmallocPairs(_kernel, 64, Pairs);

    [Benchmark(OperationsPerInvoke = Pairs)]
    public ulong Kmalloc4K_Kfree_Pair() => HeapWorkloads.KmallocPairs(_kernel, 4096, Pairs);

    [Benchmark(OperationsPerInvoke = Pairs)]
    public ulong KmemCache_Alloc_Free_Pair() => HeapWorkloads.CachePairs(_kernel, _cache, Pairs);

    [Benchmark(OperationsPerInvoke = MixedSteps)]
    public int Mixed_Heap_Step() => _mixed.Run(_kernel, _cache);
}
