using BenchmarkDotNet.Attributes;
using KernelMm.Reference;

namespace KernelMm.Benchmarks;

/// <summary>
/// User space in the reference on x86-32/512M: first-touch page faults, fork of a 1,000-page
/// process (plus the child's exit), copy_to_user of 64 KiB, and the user family's conformance run.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class UserBenchmarks
{
    private ReferenceKernel _kernel = null!;
    private UserWorkloads.FirstTouch _touch = null!;
    private UserWorkloads.ForkExit _fork = null!;
    private UserWorkloads.CopyToUser _copy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kernel = Workloads.Boot();
        _touch = new UserWorkloads.FirstTouch(_kernel);
        _fork = new UserWorkloads.ForkExit(_kernel);
        _copy = new UserWorkloads.CopyToUser(_kernel);
    }

    [GlobalCleanup]
    public void Cleanup() => _kernel.Dispose();

    [Benchmark(OperationsPerInvoke = UserWorkloads.TouchPages)]
    public int FirstTouch_Fault() => _touch.Run();

    [Benchmark]
    public int Fork_1000Pages_And_Exit() => _fork.Run();

    [Benchmark]
    public long CopyToUser_64KiB() => _copy.Run();

    [Benchmark]
    public long UserFamily_X86_32_512M_50Sequences() => UserWorkloads.RunUserFamily().Operations;
}
