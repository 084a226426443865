using BenchmarkDotNet.Attributes;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// The reference's kernel virtual memory through the contract. Targets: 100,000,000 TLB-hit
/// translations/s and 20,000,000 page-table walks/s. x86-32/512M (two-level tables) and
/// 64-bit-8k/512M (three levels).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class VmBenchmarks
{
    public const int Translations = 1_000_000;
    public const int Pairs = 10_000;
    private VmWorkloads.Area _x86 = null!;
    private VmWorkloads.Area _bit64 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _x86 = new VmWorkloads.Area(Workloads.Profile);
        _bit64 = new VmWorkloads.Area(Profiles.Bit64_8K.WithMemory(Workloads.MemoryBytes));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x86.Dispose();
        _bit64.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Translations)]
    public ulong TlbHit_Translation_X86_32() => VmWorkloads.TlbHits(_x86, Translations);

    [Benchmark(OperationsPerInvoke = Translations)]
    public ulong PageTableWalk_X86_32_TwoLevels() => VmWorkloads.Walks(_x86, Translations);

    [Benchmark(OperationsPerInvoke = Translations)]
    public ulong PageTableWalk_64Bit8k_ThreeLevels() => VmWorkloads.Walks(_bit64, Translations);

    [Benchmark(OperationsPerInvoke = Pairs)]
    public ulong Vmalloc64K_Vfree_Pair() => VmWorkloads.VmallocPairs(_x86.Kernel, Pairs);
}
