using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using KernelMm.Spec.Contract;

namespace KernelMm.Benchmarks;

/// <summary>
/// <c>--quick</c>: the same workloads as the BenchmarkDotNet classes, each warmed up briefly and then
/// invoked repeatedly for about two seconds under a Stopwatch. Good to a few per cent, in seconds.
/// </summary>
internal static class QuickRunner
{
    /// <param name="Warmup">Seconds of warm-up: the conformance engine needs several seconds of tiered JIT
    /// (with dynamic PGO) on two cores before it runs at full speed; measured 2-3x slower before that.</param>
    private sealed record Workload(string Name, string Unit, double Target, Func<long> Invoke, double Warmup = 0.5);

    public static int Run(string[] args)
    {
        double seconds = double.Parse(Program.Option(args, "--seconds") ?? "2", CultureInfo.InvariantCulture);
        string? filter = Program.Option(args, "--filter");
        int rounds = Math.Max(1, int.Parse(Program.Option(args, "--rounds") ?? "1", CultureInfo.InvariantCulture));
        double? warmup = Program.Option(args, "--warmup") is { } wu ? double.Parse(wu, CultureInfo.InvariantCulture) : null;

        var kernel = Workloads.Boot();
        var mixed = MixedWorkload.Create(PageAllocatorBenchmarks.MixedSeed, PageAllocatorBenchmarks.MixedOperations);
        const int pairs = PageAllocatorBenchmarks.Pairs;
        var conformance = Workloads.ConformanceSettings();
        var cache = HeapWorkloads.CreateCache(kernel);
        var heapMixed = new HeapWorkloads.Mixed(0x5EED_0002, 200_000);
        using var vmX86 = new VmWorkloads.Area(Workloads.Profile);
        using var vm64 = new VmWorkloads.Area(KernelMm.Spec.Profiles.Profiles.Bit64_8K.WithMemory(Workloads.MemoryBytes));
        var userKernel = Workloads.Boot();
        var touch = new UserWorkloads.FirstTouch(userKernel);
        var fork = new UserWorkloads.ForkExit(userKernel);
        var copy = new UserWorkloads.CopyToUser(userKernel);
        var workloads = new List<Workload>
        {
            new("(a)  __get_free_pages+free_pages, order 0, GFP_KERNEL", "pairs/s", 25e6,
                () => { Workloads.GetFreePagesPairs(kernel, pairs, Gfp.Kernel); return pairs; }),
            new("(a') __get_free_pages+free_pages, order 0, GFP_ATOMIC", "pairs/s", 25e6,
                () => { Workloads.GetFreePagesPairs(kernel, pairs, Gfp.Atomic); return pairs; }),
            new("(b)  alloc_pages+__free_pages, order 0, GFP_KERNEL", "pairs/s", 25e6,
                () => { Workloads.AllocPagesPairs(kernel, pairs, Gfp.Kernel); return pairs; }),
            new("(c)  mixed orders 0..5, ~1000 live, GFP_KERNEL", "ops/s", 0,
                () => { mixed.Run(kernel, Gfp.Kernel); return mixed.Operations; }),
            new("(c') mixed orders 0..5, ~1000 live, GFP_ATOMIC", "ops/s", 0,
                () => { mixed.Run(kernel, Gfp.Atomic); return mixed.Operations; }),
            new("(f)  kmalloc(64)+kfree, GFP_KERNEL", "pairs/s", 20e6,
                () => { HeapWorkloads.KmallocPairs(kernel, 64, pairs); return pairs; }),
            new("(g)  kmalloc(4096)+kfree, GFP_KERNEL", "pairs/s", 0,
                () => { HeapWorkloads.KmallocPairs(kernel, 4096, pairs); return pairs; }),
            new("(h)  kmem_cache_alloc+kmem_cache_free, 192 B", "pairs/s", 0,
                () => { HeapWorkloads.CachePairs(kernel, cache, pairs); return pairs; }),
            new("(i)  mixed heap script, ~1000 live, kmalloc/cache/krealloc", "steps/s", 0,
                () => heapMixed.Run(kernel, cache)),
            new("(j)  TLB-hit translations (ITlb), x86-32", "translations/s", 100e6,
                () => { VmWorkloads.TlbHits(vmX86, pairs); return pairs; }),
            new("(k)  page-table walks (IKernelPageTables), x86-32, 2 levels", "walks/s", 20e6,
                () => { VmWorkloads.Walks(vmX86, pairs); return pairs; }),
            new("(k') page-table walks, 64-bit-8k, 3 levels", "walks/s", 20e6,
                () => { VmWorkloads.Walks(vm64, pairs); return pairs; }),
            new("(l)  vmalloc(64 KiB)+vfree, x86-32", "pairs/s", 0,
                () => { VmWorkloads.VmallocPairs(vmX86.Kernel, 10_000); return 10_000; }),
            new($"(m)  conformance: PropertyRunner vm, x86-32/512M, {conformance.Sequences} seq", "checked ops/s", 0,
                () => VmWorkloads.RunVmFamily(conformance).Operations, Warmup: 4),
            new($"(n)  first-touch page faults (mmap, 1 store per page, munmap)", "faults/s", 0,
                () => touch.Run()),
            new($"(o)  fork of a {UserWorkloads.ForkPages}-page process + exit of the child", "forks/s", 0,
                () => fork.Run()),
            new($"(p)  copy_to_user of 64 KiB", "copies/s", 0,
                () => { copy.Run(); return 1; }),
            new("(q)  conformance: PropertyRunner user, x86-32/512M, 50 seq", "checked ops/s", 0,
                () => UserWorkloads.RunUserFamily().Operations, Warmup: 4),
            new($"(d)  conformance: PropertyRunner pages, x86-32/512M, {conformance.Sequences} seq", "checked ops/s", 500e3,
                () => CheckedRun(conformance), Warmup: 4),
            new($"(e)  conformance: SuiteRunner pages, x86-32/512M, {conformance.Sequences} seq", "checked ops/s", 500e3,
                () => Workloads.RunSuite(conformance).Operations, Warmup: 4),
        };

        Console.WriteLine($"KernelMm quick benchmark: ~{seconds:0.#} s per workload{(rounds > 1 ? $" x {rounds} rounds (best and median shown)" : "")}, {Environment.ProcessorCount} logical CPU(s), " +
                          $".NET {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, " +
                          $"{(Debugger.IsAttached ? "DEBUGGER ATTACHED, " : "")}{BuildKind()} build");
        Console.WriteLine();
        string header = $"{"Workload",-62} {"Throughput",16} {(rounds > 1 ? $"{"Median",12} " : "")}{"Unit",-14} {"per CPU-s",12} {"ns/op",9} {"B/op",9} {"Gen0/1/2",12} {"Target",10}";
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));

        foreach (var w in workloads.Where(w => filter is null || w.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
        {
            WarmUp(w, warmup ?? w.Warmup);
            var results = Enumerable.Range(0, rounds).Select(_ => Measure(w, seconds)).OrderByDescending(r => r.OpsPerSec).ToList();
            var (opsPerSec, nsPerOp, bytesPerOp, gcs, perCpuSecond) = results[0];
            double median = results[results.Count / 2].OpsPerSec;
            string verdict = w.Target <= 0 ? "-" : opsPerSec >= w.Target ? $"ok {Short(w.Target)}" : $"MISS {Short(w.Target)}";
            Console.WriteLine($"{w.Name,-62} {opsPerSec,16:N0} {(rounds > 1 ? $"{median,12:N0} " : "")}{w.Unit,-14} {perCpuSecond,12:N0} {nsPerOp,9:N1} {bytesPerOp,9:N1} {gcs,12} {verdict,10}");
        }
        if (mixed.Failures > 0) Console.WriteLine($"note: the mixed workload saw {mixed.Failures} failed allocations");
        return 0;
    }

    private static long CheckedRun(KernelMm.Conformance.Running.RunSettings settings)
    {
        var outcome = Workloads.RunPageFamily(settings);
        if (outcome.Failures.Count > 0)
            Console.Error.WriteLine($"warning: the reference fails {string.Join(", ", outcome.Failures.Keys)}; the time includes shrinking");
        return outcome.Operations;
    }

    /// <summary>At least three invocations and <paramref name="seconds"/>, so that tiered JIT has promoted the hot methods.</summary>
    private static void WarmUp(Workload w, double seconds)
    {
        var warm = Stopwatch.StartNew();
        int invocations = 0;
        do { w.Invoke(); invocations++; } while (invocations < 3 || warm.Elapsed.TotalSeconds < seconds);
    }

    /// <summary>
    /// Wall-clock throughput, and throughput per second of the process's CPU time (all threads, GC and
    /// JIT included): on a shared machine the second is the steadier figure.
    /// </summary>
    private static (double OpsPerSec, double NsPerOp, double BytesPerOp, string Gcs, double PerCpuSecond) Measure(Workload w, double seconds)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long bytes = GC.GetTotalAllocatedBytes(precise: true);
        long ops = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        do ops += w.Invoke(); while (clock.Elapsed.TotalSeconds < seconds);
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes;
        string gcs = $"{GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}";
        double s = clock.Elapsed.TotalSeconds;
        return (ops / s, s * 1e9 / ops, (double)bytes / ops, gcs, ops / Math.Max(cpu.TotalSeconds, 1e-9));
    }

    private static string Short(double v) => v >= 1e6 ? $"{v / 1e6:0.#}M" : v >= 1e3 ? $"{v / 1e3:0.#}k" : $"{v:0}";

    private static string BuildKind() =>
        typeof(QuickRunner).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .OfType<DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled) ? "DEBUG (numbers meaningless)" : "optimised";
}
