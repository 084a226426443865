using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// The workloads, shared by the BenchmarkDotNet classes and the <c>--quick</c> Stopwatch runner so
/// both measure exactly the same loops. Every method returns the number of operations it did.
/// </summary>
public static class Workloads
{
    public const ulong MiB = 1024 * 1024;
    public const ulong MemoryBytes = 512 * MiB;

    /// <summary>The profile every benchmark boots: x86-32 with 512 MiB (no HIGHMEM zone at this size).</summary>
    public static Profile Profile { get; } = Profiles.X86_32.WithMemory(MemoryBytes);

    public static ReferenceKernel Boot() => new(Profile);

    // ---- Page allocator --------------------------------------------------------------------

    /// <summary>(a) order-0 GFP_KERNEL __get_free_pages + free_pages, <paramref name="pairs"/> times.</summary>
    public static ulong GetFreePagesPairs(ReferenceKernel k, int pairs, GfpFlags gfp)
    {
        ulong sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            ulong addr = k.GetFreePages(gfp, 0);
            k.FreePages(addr, 0);
            sum += addr;
        }
        return sum;
    }

    /// <summary>(b) order-0 GFP_KERNEL alloc_pages + __free_pages, <paramref name="pairs"/> times.</summary>
    public static ulong AllocPagesPairs(ReferenceKernel k, int pairs, GfpFlags gfp)
    {
        ulong sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            var page = k.AllocPages(gfp, 0);
            k.FreePagesOf(page, 0);
            sum += page.Value;
        }
        return sum;
    }

    // ---- Conformance -----------------------------------------------------------------------

    public const ulong ConformanceSeed = 20250101;
    public const int ConformanceSequences = 50;

    public static RunSettings ConformanceSettings(int sequences = ConformanceSequences) =>
        new() { Seed = ConformanceSeed, Sequences = sequences, MaxSteps = new RunSettings().MaxSteps };

    /// <summary>One in-process property run of the page family on x86-32/512M; returns checked operations.</summary>
    public static FamilyOutcome RunPageFamily(RunSettings settings) =>
        PropertyRunner.Run(new PageFamily(), new ReferenceFactory(), Profile, settings, new HashSet<string>());

    /// <summary>The whole suite (probe, family, classification) restricted to x86-32/512M and the page family.</summary>
    public static SuiteResult RunSuite(RunSettings settings) =>
        SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [MemoryBytes],
            Families = new HashSet<string> { "pages" },
            Settings = settings,
        });

    private static readonly Lazy<long> ConformanceOps = new(() => RunPageFamily(ConformanceSettings()).Operations);

    /// <summary>Checked operations of one <see cref="RunPageFamily"/> run with the default settings (deterministic: fixed seed).</summary>
    public static long ConformanceOperationsPerRun => ConformanceOps.Value;
}

/// <summary>
/// (c) A deterministic mixed-order workload: allocations of orders 0..5 and frees of random live
/// blocks, keeping about <see cref="TargetLive"/> blocks live, ending with every block freed so the
/// same script can be replayed any number of times on one kernel.
/// </summary>
public sealed class MixedWorkload
{
    public const int TargetLive = 1000;
    public const int MaxOrder = 5;

    /// <summary>One step: Order &gt;= 0 allocates into Slot with that order; Order &lt; 0 frees Slot.</summary>
    private readonly record struct Step(int Slot, sbyte Order);

    private readonly Step[] _steps;
    private readonly ulong[] _addr;
    private readonly byte[] _order;

    private MixedWorkload(Step[] steps, int slots)
    {
        _steps = steps;
        _addr = new ulong[slots];
        _order = new byte[slots];
    }

    /// <summary>Operations (allocations plus frees) in one replay.</summary>
    public int Operations => _steps.Length;
    public int Allocations { get; private init; }
    public long Failures { get; private set; }

    /// <summary>Builds a script of about <paramref name="operations"/> steps from <paramref name="seed"/>.</summary>
    public static MixedWorkload Create(ulong seed, int operations)
    {
        var rng = new SplitMix64(seed);
        var steps = new List<Step>(operations + TargetLive * 2);
        var live = new List<int>();          // slots currently holding a block
        var freeSlots = new Stack<int>();
        int slots = 0, allocations = 0;

        void Alloc()
        {
            int slot = freeSlots.Count > 0 ? freeSlots.Pop() : slots++;
            // Orders 0..5, smaller ones more likely (as in real workloads): weights 32,16,8,4,2,1.
            int r = (int)rng.Next(63), order = 0;
            for (int w = 32; r >= w && order < MaxOrder; w >>= 1) { r -= w; order++; }
            steps.Add(new Step(slot, (sbyte)order));
            live.Add(slot);
            allocations++;
        }
        void Free()
        {
            int i = (int)rng.Next((ulong)live.Count);
            int slot = live[i];
            live[i] = live[^1];
            live.RemoveAt(live.Count - 1);
            steps.Add(new Step(slot, -1));
            freeSlots.Push(slot);
        }

        for (int i = 0; i < TargetLive; i++) Alloc();
        while (steps.Count < operations - live.Count)
        {
            // Random walk held near TargetLive (+-10 %).
            if (live.Count < TargetLive * 9 / 10) Alloc();
            else if (live.Count > TargetLive * 11 / 10) Free();
            else if (rng.Next(2) == 0) Alloc();
            else Free();
        }
        while (live.Count > 0) Free();
        return new MixedWorkload(steps.ToArray(), slots) { Allocations = allocations };
    }

    /// <summary>Replays the script once on <paramref name="k"/> with GFP_KERNEL; returns a checksum of the addresses.</summary>
    public ulong Run(ReferenceKernel k) => Run(k, Gfp.Kernel);

    /// <summary>Replays the script once on <paramref name="k"/> with <paramref name="gfp"/>; returns a checksum of the addresses.</summary>
    public ulong Run(ReferenceKernel k, GfpFlags gfp)
    {
        var steps = _steps;
        var addr = _addr;
        var order = _order;
        ulong sum = 0;
        for (int i = 0; i < steps.Length; i++)
        {
            var s = steps[i];
            if (s.Order >= 0)
            {
                ulong a = k.GetFreePages(gfp, s.Order);
                if (a == 0) Failures++;
                addr[s.Slot] = a;
                order[s.Slot] = (byte)s.Order;
                sum += a;
            }
            else
            {
                k.FreePages(addr[s.Slot], order[s.Slot]); // free_pages(0, ...) is a no-op, as in the kernel
            }
        }
        return sum;
    }
}

/// <summary>SplitMix64: a tiny deterministic generator, independent of the runtime's Random.</summary>
public struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound) (bound &gt; 0); the modulo bias is irrelevant here.</summary>
    public ulong Next(ulong bound) => Next() % bound;
}
