using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel.Smp;

/// <summary>
/// SMP safety of the allocators, for implementations declaring <see cref="Capability.Smp"/>: 2..4 CPUs
/// allocate and free pages, kmalloc blocks and cache objects at once, and what must hold whatever the
/// interleaving is checked. Each block is of the right size, alignment and zone (PAGE-7, ZONE-2, ZONE-3,
/// KMAL-1, SLAB-2, SLAB-7, on the CPU that got it); bytes a CPU wrote into its block are unchanged when
/// it frees it (PAGE-1, KMAL-7, SLAB-2); no two blocks held at the same time overlap (checked after the
/// join from the tickets taken after each allocation returned and before each free was called, so two
/// blocks flagged really were both held); and once every CPU has freed everything, the caches are
/// destroyed and drained, every zone has its boot free pages (ADDR-11) and max-order blocks (PAGE-8) back.
/// </summary>
public sealed class SmpFamily : ParallelFamily<SmpOp>
{
    public override string Name => "smp";
    public override IReadOnlyList<string> RuleIds { get; } =
        ["ADDR-11", "ZONE-2", "ZONE-3", "KMAL-1", "KMAL-7", "PAGE-1", "PAGE-7", "PAGE-8", "SLAB-2", "SLAB-7"];
    public override Capability Gate => Capability.Smp;
    /// <summary>Smp promises that the page allocator may be called concurrently: its traffic is page allocations.</summary>
    public override IReadOnlyList<Capability> Needs { get; } = [Capability.Smp, Capability.PageAllocator];
    public override string PrimaryRule => "PAGE-1";

    public override ParallelProgram<SmpOp> Generate(Random random, Profile profile, RunSettings settings, IReadOnlySet<Capability> declared) =>
        SmpGen.Program(random, settings, declared);

    public override IEnumerable<SmpOp> Simplify(SmpOp op) => SmpGen.Simplify(op);

    public override bool Essential(ParallelProgram<SmpOp> program, SmpOp op) =>
        op.Kind == SmpOpKind.CreateCache && program.Branches.Any(b => b.Any(s => s.Op.Kind == SmpOpKind.CacheAlloc && s.Op.Cache == op.Cache));

    public override StressOutcome? RunStress(IMemoryManager mm, CpuPool cpus, ulong seed, CheckScope scope, TimeSpan budget, TimeSpan timeout) =>
        SmpStress.Run(mm, cpus, seed, scope, budget, timeout);

    public override IReadOnlyList<string> StressRules => SmpStress.Rules;

    public override ParallelRunResult Execute(IMemoryManager mm, ParallelProgram<SmpOp> program, CpuPool cpus, CheckScope scope, bool explain, TimeSpan timeout)
    {
        var p = mm.Profile;
        var pages = (IPageAllocator)mm;
        var kmalloc = mm.Capabilities.Contains(Capability.Kmalloc) ? (IKmalloc)mm : null;
        var slab = mm.Capabilities.Contains(Capability.SlabCache) ? (ISlab)mm : null;
        var boot = Snapshot(pages, p.MaxOrder);
        var clock = new History();
        var after = new List<TimedCall>();

        // The prefix: the caches the branches share.
        var caches = new List<(SlabCacheHandle Handle, int Size, int Align)?>();
        foreach (var step in program.Prefix.Where(s => s.Op.Kind == SmpOpKind.CreateCache))
        {
            var op = step.Op;
            var handle = SlabCacheHandle.Null;
            long start = clock.Tick();
            var e = slab is null ? null : Families.Shared.Calls.Try(() => handle = slab.KmemCacheCreate($"smp{op.Cache}", op.Size, op.Align, SlabFlags.None, null));
            after.Add(new TimedCall(TimedCall.Prefix, $"smp{op.Cache} = {op}", e is null ? handle.ToString() : Families.Shared.Calls.Describe(e), start, clock.Tick()));
            while (caches.Count <= op.Cache) caches.Add(null);
            caches[op.Cache] = handle.IsNull ? null : (handle, op.Size, op.Align);
        }

        var machine = new SmpMachine(p, pages, (IKernelMemory)mm, kmalloc, slab, caches, clock, explain);
        var masked = RuleIds.Where(scope.IsMasked).ToHashSet();
        int n = program.Branches.Count;
        var cpu = new SmpCpu[n];
        for (int i = 0; i < n; i++) cpu[i] = new SmpCpu(i, machine, new CheckScope(masked));
        // On the CPU lanes of an out-of-process program every call of a branch goes on its CPU's lane (RemoteMachine.Lanes.cs);
        // the property runner measures how long the program's lanes ran together.
        (mm as ICpuLanes)?.ClearOverlap();
        if (RunBranches(cpus, n, i => cpu[i].Run(program.Branches[i]), timeout) is { } hung) return new(hung, [], []);
        IReadOnlyList<CheckScope> scopes = cpu.Select(c => c.Scope).ToList();
        IReadOnlyList<string> Draw() => InterleavingDiagram.Render([.. after.Where(c => c.Cpu == TimedCall.Prefix), .. cpu.SelectMany(c => c.Calls), .. after.Where(c => c.Cpu == TimedCall.AfterJoin)]);

        // Two blocks held at the same time never overlap: the most telling failure, so it is looked for first.
        if (Overlap(cpu.SelectMany(c => c.Blocks).ToList()) is { } overlap)
            return scope.IsMasked(overlap.RuleId) ? new(null, [], [], Diverged: true) : new(overlap, Draw(), scopes);
        if (cpu.Where(c => c.Failure is not null).MinBy(c => c.Failure!.Value.Ticket) is { } first)
            return new(first.Failure!.Value.Violation, Draw(), scopes);
        if (cpu.Any(c => c.Diverged || c.Stopped)) return new(null, [], [], Diverged: true);

        // Everything was freed: destroy the caches, drain, and the boot free counts are back.
        foreach (var (cache, index) in caches.Select((c, i) => (c, i)))
            if (cache is { } c)
            {
                int result = 0;
                long start = clock.Tick();
                var e = Families.Shared.Calls.Try(() => result = slab!.KmemCacheDestroy(c.Handle));
                after.Add(new TimedCall(TimedCall.AfterJoin, $"kmem_cache_destroy(smp{index})", e is null ? result.ToString() : Families.Shared.Calls.Describe(e), start, clock.Tick()));
            }
        pages.DrainCaches();
        after.Add(new TimedCall(TimedCall.AfterJoin, "drain caches", "", clock.Tick(), clock.Tick()));
        var end = Snapshot(pages, p.MaxOrder);
        scope.Operations++;
        try
        {
            foreach (var zone in Zones.All)
            {
                long bootFree = Free(boot, zone, p.MaxOrder), nowFree = Free(end, zone, p.MaxOrder);
                scope.That("ADDR-11", nowFree == bootFree,
                    $"after {n} CPUs freed everything they allocated in parallel and the caches were destroyed and drained, zone {zone.KernelName()} has {nowFree} free pages; it had {bootFree} at boot");
                long bootMax = boot[(int)zone, p.MaxOrder], nowMax = end[(int)zone, p.MaxOrder];
                scope.That("PAGE-8", nowMax >= bootMax,
                    $"after {n} CPUs freed everything they allocated in parallel and the caches were drained, zone {zone.KernelName()} has {nowMax} free order-{p.MaxOrder} blocks; it had {bootMax} at boot");
            }
        }
        catch (RuleViolation v) { return new(v, Draw(), scopes); }
        if (scope.DivergedAt is not null) return new(null, [], [], Diverged: true);
        return new(null, [], scopes);
    }

    internal static long[,] Snapshot(IPageAllocator pages, int maxOrder)
    {
        var counts = new long[Zones.Count, maxOrder + 1];
        foreach (var zone in Zones.All)
            for (int o = 0; o <= maxOrder; o++) counts[(int)zone, o] = pages.FreeBlocks(zone, o);
        return counts;
    }

    internal static long Free(long[,] counts, Zone zone, int maxOrder)
    {
        long sum = 0;
        for (int o = 0; o <= maxOrder; o++) sum += counts[(int)zone, o] << o;
        return sum;
    }

    /// <summary>Two blocks whose byte ranges overlap while both were held (by tickets): the implementation handed out the same memory twice.</summary>
    private static RuleViolation? Overlap(List<HeldBlock> blocks)
    {
        blocks.Sort((a, b) => a.Addr.CompareTo(b.Addr));
        RuleViolation? found = null;
        long foundAt = long.MaxValue;
        for (int i = 0; i < blocks.Count; i++)
        {
            var a = blocks[i];
            for (int j = i + 1; j < blocks.Count && blocks[j].Addr < a.Addr + (ulong)a.Length; j++)
            {
                var b = blocks[j];
                if (!(a.Claim < b.Release && b.Claim < a.Release)) continue;
                long at = Math.Max(a.Claim, b.Claim);
                if (at >= foundAt) continue;
                string rule = a.Kind == BlockKind.CacheObject || b.Kind == BlockKind.CacheObject ? "SLAB-2"
                    : a.Kind == BlockKind.Kmalloc || b.Kind == BlockKind.Kmalloc ? "KMAL-7" : "PAGE-1";
                string who = a.Cpu == b.Cpu ? $"CPU{a.Cpu} held both" : $"two CPUs were handed the same memory";
                found = new RuleViolation(rule, $"{a.Describe()} and {b.Describe()} were both held from ticket {at} on and overlap at 0x{b.Addr:x}: {who}");
                foundAt = at;
            }
        }
        return found;
    }

    public override IReadOnlyList<string> CSharp(ParallelProgram<SmpOp> program)
    {
        static string Op(SmpOp o) => $"new KernelMm.Conformance.Parallel.Smp.SmpOp(KernelMm.Conformance.Parallel.Smp.SmpOpKind.{o.Kind}, (GfpFlags){(uint)o.Gfp}, {o.Order}, {o.Size}, {o.Slot}, {o.Cache}, {o.Align})";
        static string Steps(IEnumerable<ParallelStep<SmpOp>> steps) =>
            $"[{string.Join(", ", steps.Select(s => $"new KernelMm.Conformance.Parallel.ParallelStep<KernelMm.Conformance.Parallel.Smp.SmpOp>({Op(s.Op)}, {s.Pause})"))}]";
        var lines = new List<string>
        {
            "// The shrunk program, run in parallel again and again on fresh machines until it fails (a race shows in some runs only):",
            "var program = new KernelMm.Conformance.Parallel.ParallelProgram<KernelMm.Conformance.Parallel.Smp.SmpOp>(",
            $"    {Steps(program.Prefix)},",
            $"    [{string.Join(", ", program.Branches.Select(Steps))}]);",
            "var failure = KernelMm.Conformance.Parallel.ParallelReplay.FirstFailure(new KernelMm.Conformance.Parallel.Smp.SmpFamily(), factory, mm.Profile, program, runs: 200);",
            "Assert.True(failure is null, failure);",
        };
        return lines;
    }
}
