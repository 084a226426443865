using System.Collections.Concurrent;
using System.Diagnostics;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel.Smp;

/// <summary>
/// SMP safety under stress, beside the generated programs: every CPU allocates and frees small blocks
/// as fast as it can (order-0..2 pages, kmalloc of the small classes, objects of one slab cache: the
/// paths per-CPU caches serve; three calls in four go to the round's allocator, which rotates) for a
/// millisecond per round, holding up to a dozen at a time. What
/// must hold whatever the interleaving:
/// <list type="bullet">
/// <item><b>no address handed out twice while live</b>: each CPU claims every block it gets in a shared
/// table (every page of a page block, the start of a kmalloc block or object) right after the call
/// returns, and unclaims it right before it frees it; a claim already taken means two live blocks
/// share that address: PAGE-1 for pages, KMAL-7 for kmalloc, SLAB-2 for cache objects;</item>
/// <item><b>bytes kept</b>: each block's first bytes carry its owner's tag until it is freed (same rules);</item>
/// <item><b>no lost frames</b>: once every CPU has freed everything and the caches are destroyed and
/// drained, every zone has its boot free pages (ADDR-11) and max-order blocks (PAGE-8) back.</item>
/// </list>
/// Rounds repeat until the CPUs have been seen running together for <see cref="OverlapTarget"/>
/// (<see cref="OverlapMeter"/>) or the budget is spent. A call that raises is charged to the rule of
/// what it allocates or frees, as in the generated programs.
/// </summary>
public static class SmpStress
{
    public static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan OverlapTarget = TimeSpan.FromMilliseconds(8);
    /// <summary>Blocks a CPU holds at most.</summary>
    public const int Hold = 12;
    private const int StampEvery = 4;
    private static readonly int[] KmallocSizes = [8, 16, 32, 64, 96, 128, 192, 256];
    private const int CacheSize = 64;

    public static IReadOnlyList<string> Rules { get; } = ["PAGE-1", "KMAL-7", "SLAB-2", "ADDR-11", "PAGE-8"];

    private struct Block
    {
        public BlockKind Kind;
        public ulong Addr;
        public PageHandle Page;
        public int Order;
        public long Length;
        public ulong Tag;
        public string Call;
    }

    public static StressOutcome Run(IMemoryManager mm, CpuPool cpus, ulong seed, CheckScope scope, TimeSpan budget, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var p = mm.Profile;
        var pages = (IPageAllocator)mm;
        var memory = (IKernelMemory)mm;
        var kmalloc = mm.Capabilities.Contains(Capability.Kmalloc) ? (IKmalloc)mm : null;
        var slab = mm.Capabilities.Contains(Capability.SlabCache) ? (ISlab)mm : null;
        int threads = StressCpus.For(cpus);
        var meter = new OverlapMeter(threads, 1 << 14);
        // Out of process (CPU lanes, protocol 5): the overlap is the program's own (its lanes' times of each call).
        var lanes = mm is ICpuLanes { Lanes: > 0 } l ? l : null;
        var boot = SmpFamily.Snapshot(pages, p.MaxOrder);
        var cache = SlabCacheHandle.Null;
        if (slab is not null)
            try { cache = slab.KmemCacheCreate("stress", CacheSize, 0, SlabFlags.None, null); }
            catch (Exception e) when (e is not RuleViolation) { /* the generated programs judge kmem_cache_create; the stress uses what it gets */ }
        var kinds = new List<BlockKind> { BlockKind.Pages };
        if (kmalloc is not null) kinds.Add(BlockKind.Kmalloc);
        if (!cache.IsNull) kinds.Add(BlockKind.CacheObject);

        var owners = new ConcurrentDictionary<ulong, (int Cpu, string Call)>();
        long operations = 0;
        int rounds = 0;
        var overlap = TimeSpan.Zero;
        StressOutcome Outcome(RuleViolation? v, IReadOnlyList<string> trace) =>
            new(v, trace, threads, rounds, operations, overlap, clock.Elapsed);
        string Setting() =>
            $"{threads} CPUs at once, rounds of {RoundTime.TotalMilliseconds:F0} ms, each CPU holding up to {Hold} blocks: {string.Join(", ", kinds.Select(Describe))}";

        while (overlap < OverlapTarget && clock.Elapsed < budget)
        {
            var failures = new (long At, RuleViolation V)?[threads];
            var counts = new long[threads * 16];
            int stop = 0;
            int round = rounds;
            var focus = kinds[round % kinds.Count];
            meter.Clear();
            lanes?.ClearOverlap();
            bool finished = cpus.Run(threads, cpu =>
            {
                var rng = new Random(unchecked((int)seed ^ (int)(seed >> 32) ^ (round * 7919) ^ (cpu * 104729)));
                var held = new List<Block>(Hold);
                var lane = meter[cpu];
                long deadline = Stopwatch.GetTimestamp() + (long)(RoundTime.TotalSeconds * Stopwatch.Frequency);
                long n = 0;
                int serial = 0;
                void Fail(RuleViolation v)
                {
                    failures[cpu] = (Stopwatch.GetTimestamp(), v);
                    Volatile.Write(ref stop, 1);
                }
                lane.Stamp();
                try
                {
                    for (int i = 1; Volatile.Read(ref stop) == 0; i++)
                    {
                        bool allocate = held.Count == 0 || (held.Count < Hold && rng.Next(10) < 6);
                        if (allocate)
                        {
                            // Most calls of a round go to one allocator, the round's, so that the CPUs meet on its paths.
                            var kind = rng.Next(4) == 0 ? kinds[rng.Next(kinds.Count)] : focus;
                            if (Allocate(kind, rng, cpu, ++serial) is { } b)
                            {
                                if (Claim(b, cpu) is { } v) { Fail(v); break; }
                                held.Add(b);
                            }
                        }
                        else
                        {
                            int at = rng.Next(held.Count);
                            var b = held[at];
                            held.RemoveAt(at);
                            if (Release(b, cpu) is { } v) { Fail(v); break; }
                        }
                        n++;
                        if (i % StampEvery == 0)
                        {
                            lane.Stamp();
                            if (Stopwatch.GetTimestamp() > deadline) break;
                        }
                    }
                    // Free everything this CPU holds, while the others may still be allocating.
                    while (held.Count > 0 && Volatile.Read(ref stop) == 0)
                    {
                        var b = held[^1];
                        held.RemoveAt(held.Count - 1);
                        if (Release(b, cpu) is { } v) { Fail(v); break; }
                        n++;
                        lane.Stamp();
                    }
                }
                catch (RuleViolation v) { Fail(v); }
                finally { counts[cpu * 16] = n; }
            }, timeout);
            rounds++;
            var seen = lanes?.Overlap() ?? meter.Overlap();
            overlap += seen;
            operations += Enumerable.Range(0, threads).Sum(c => counts[c * 16]);
            if (!finished)
                return Outcome(new RuleViolation("PAGE-1", $"the {threads} CPUs of an allocation stress round did not all finish within {timeout.TotalSeconds:F0} s: a deadlock or livelock in the implementation"), [Setting()]);
            if (failures.Where(f => f is not null).MinBy(f => f!.Value.At) is { } first)
                return Outcome(first.V, [Setting(), $"round {round + 1}: {first.V.Detail}"]);
            foreach (var kind in kinds) scope.That(Rule(kind), true, () => "");
        }

        // Everything was freed: destroy the cache, drain, and the boot free counts are back.
        if (!cache.IsNull)
            try { slab!.KmemCacheDestroy(cache); }
            catch (Exception e) when (e is not RuleViolation)
            {
                return Outcome(new RuleViolation("SLAB-2", $"kmem_cache_destroy(stress) raised {e.GetType().Name}: {e.Message} after every object was freed"), [Setting()]);
            }
        long[,] end;
        try
        {
            pages.DrainCaches();
            end = SmpFamily.Snapshot(pages, p.MaxOrder);
        }
        catch (Exception e) when (e is not RuleViolation)
        {
            // Every block was freed once, validly: an allocator that finds a double free (or anything else) while
            // draining its caches has lost track of which frames are free.
            return Outcome(new RuleViolation("ADDR-11",
                $"free-page conservation: after {threads} CPUs allocated and freed {operations:N0} times at once ({rounds} round(s)), each block freed once, "
                + $"draining the caches raised {e.GetType().Name}: {e.Message}: the allocator lost track of which frames are free"), [Setting(), "after the join: kmem_cache_destroy, drain caches: raised"]);
        }
        operations++;
        foreach (var zone in Zones.All)
        {
            long bootFree = SmpFamily.Free(boot, zone, p.MaxOrder), nowFree = SmpFamily.Free(end, zone, p.MaxOrder);
            if (nowFree != bootFree)
                return Outcome(new RuleViolation("ADDR-11",
                    $"free-page conservation: after {threads} CPUs allocated and freed {operations:N0} times at once ({rounds} round(s)) and freed everything, "
                    + $"and the caches were destroyed and drained, zone {zone.KernelName()} has {nowFree} free pages; it had {bootFree} at boot "
                    + $"({nowFree - bootFree:+#;-#}): frames were {(nowFree < bootFree ? "lost" : "counted twice")}"), [Setting(), $"after the join: kmem_cache_destroy, drain caches: {zone.KernelName()} has {nowFree} free pages, {bootFree} at boot"]);
            long bootMax = boot[(int)zone, p.MaxOrder], nowMax = end[(int)zone, p.MaxOrder];
            if (nowMax < bootMax)
                return Outcome(new RuleViolation("PAGE-8",
                    $"after {threads} CPUs allocated and freed at once and freed everything, and the caches were drained, zone {zone.KernelName()} has {nowMax} free order-{p.MaxOrder} blocks; it had {bootMax} at boot"),
                    [Setting()]);
        }
        scope.That("ADDR-11", true, () => "");
        scope.That("PAGE-8", true, () => "");
        scope.Operations += rounds + 1; // one checked outcome per round, and the conservation check: the calls are not all checked one by one
        return Outcome(null, []);

        // ---- One CPU's calls ----------------------------------------------------------------------

        Block? Allocate(BlockKind kind, Random rng, int cpu, int serial)
        {
            var gfp = rng.Next(3) == 0 ? Gfp.Atomic : Gfp.Kernel;
            var b = new Block { Kind = kind, Tag = ((ulong)(cpu + 1) << 56) | ((ulong)serial << 8) | 0xa5 };
            try
            {
                switch (kind)
                {
                    case BlockKind.Pages:
                        b.Order = rng.Next(10) switch { < 8 => 0, 8 => 1, _ => 2 };
                        b.Length = (long)p.PageSize << b.Order;
                        if (rng.Next(2) == 0)
                        {
                            b.Call = $"alloc_pages({Gfp.Describe(gfp)}, {b.Order})";
                            b.Page = pages.AllocPages(gfp, b.Order);
                            if (b.Page.IsNull) return null;
                            b.Addr = pages.PageAddress(b.Page);
                        }
                        else
                        {
                            b.Call = $"__get_free_pages({Gfp.Describe(gfp)}, {b.Order})";
                            b.Addr = pages.GetFreePages(gfp, b.Order);
                        }
                        break;
                    case BlockKind.Kmalloc:
                        b.Length = KmallocSizes[rng.Next(KmallocSizes.Length)];
                        b.Call = $"kmalloc({b.Length}, {Gfp.Describe(gfp)})";
                        b.Addr = kmalloc!.Kmalloc(b.Length, gfp);
                        break;
                    default:
                        b.Length = CacheSize;
                        b.Call = $"kmem_cache_alloc(stress, {Gfp.Describe(gfp)})";
                        b.Addr = slab!.KmemCacheAlloc(cache, gfp);
                        break;
                }
            }
            catch (Exception e) when (e is not RuleViolation)
            {
                throw Raised(Rule(kind), b.Call ?? kind.ToString(), cpu, e);
            }
            if (b.Addr == 0) return null;
            return b;
        }

        RuleViolation? Claim(Block b, int cpu)
        {
            int keys = b.Kind == BlockKind.Pages ? 1 << b.Order : 1;
            for (int k = 0; k < keys; k++)
            {
                ulong key = b.Addr + (ulong)k * (ulong)p.PageSize;
                if (owners.TryAdd(key, (cpu, b.Call))) continue;
                string holder = owners.TryGetValue(key, out var o) ? $"CPU{o.Cpu}, from {o.Call}," : "another CPU (which was about to free it)";
                string rule = b.Kind == BlockKind.CacheObject ? "SLAB-2" : b.Kind == BlockKind.Kmalloc ? "KMAL-7" : "PAGE-1";
                return new RuleViolation(rule,
                    $"no address twice: {b.Call} on CPU{cpu} returned 0x{b.Addr:x}, but 0x{key:x} was still held by {holder} and not yet freed: "
                    + "two live blocks overlap (the allocator handed the same memory out twice while other CPUs were allocating)");
            }
            Span<byte> tag = stackalloc byte[8];
            BitConverter.TryWriteBytes(tag, b.Tag);
            try { memory.Write(b.Addr, tag[..(int)Math.Min(8, b.Length)]); }
            catch (Exception e) when (e is not RuleViolation) { return Raised(Rule(b.Kind), $"writing into {b.Call} = 0x{b.Addr:x}", cpu, e); }
            return null;
        }

        RuleViolation? Release(Block b, int cpu)
        {
            Span<byte> expected = stackalloc byte[8];
            BitConverter.TryWriteBytes(expected, b.Tag);
            Span<byte> actual = stackalloc byte[8];
            int length = (int)Math.Min(8, b.Length);
            try { memory.Read(b.Addr, actual[..length]); }
            catch (Exception e) when (e is not RuleViolation) { return Raised(Rule(b.Kind), $"reading {b.Call} = 0x{b.Addr:x}", cpu, e); }
            if (!actual[..length].SequenceEqual(expected[..length]))
                return new RuleViolation(Rule(b.Kind),
                    $"bytes kept: CPU{cpu} wrote its tag {Convert.ToHexString(expected[..length])} into its {b.Call} = 0x{b.Addr:x} and reads {Convert.ToHexString(actual[..length])} before freeing it: "
                    + "someone else changed a live block while other CPUs were allocating");
            int keys = b.Kind == BlockKind.Pages ? 1 << b.Order : 1;
            for (int k = 0; k < keys; k++) owners.TryRemove(b.Addr + (ulong)k * (ulong)p.PageSize, out _);
            string call = b.Kind switch
            {
                BlockKind.Pages => b.Page.IsNull ? $"free_pages(0x{b.Addr:x}, {b.Order})" : $"__free_pages({b.Page}, {b.Order})",
                BlockKind.Kmalloc => $"kfree(0x{b.Addr:x})",
                _ => $"kmem_cache_free(stress, 0x{b.Addr:x})",
            };
            try
            {
                switch (b.Kind)
                {
                    case BlockKind.Pages when b.Page.IsNull: pages.FreePages(b.Addr, b.Order); break;
                    case BlockKind.Pages: pages.FreePagesOf(b.Page, b.Order); break;
                    case BlockKind.Kmalloc: kmalloc!.Kfree(b.Addr); break;
                    default: slab!.KmemCacheFree(cache, b.Addr); break;
                }
            }
            catch (Exception e) when (e is not RuleViolation) { return Raised(Rule(b.Kind), call, cpu, e); }
            return null;
        }
    }

    private static string Rule(BlockKind kind) => kind switch { BlockKind.Pages => "PAGE-1", BlockKind.Kmalloc => "KMAL-7", _ => "SLAB-2" };

    private static string Describe(BlockKind kind) => kind switch
    {
        BlockKind.Pages => "order-0..2 pages",
        BlockKind.Kmalloc => $"kmalloc of {KmallocSizes[0]}..{KmallocSizes[^1]} bytes",
        _ => $"objects of a {CacheSize}-byte slab cache",
    };

    private static RuleViolation Raised(string rule, string call, int cpu, Exception e) =>
        new(rule, $"{call} on CPU{cpu} raised {e.GetType().Name}: {e.Message} while other CPUs were calling the allocators too; a valid call must not fail this way");
}
