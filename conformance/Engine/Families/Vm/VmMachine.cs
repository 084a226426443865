using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Expectations;
using KernelMm.Conformance.Families.Shared;
using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.Vm.VmOpKind;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>
/// Runs one kernel-virtual-memory sequence through the contract only and checks every step against
/// the model (<see cref="VmModel"/>) and the suite's own reading of the profile's layout (<see cref="VirtualLayout"/>). Each check names its rule. The
/// machine never demands a placement, a frame, a TLB size or policy, nor when a TLB entry goes; it
/// demands that what comes back is consistent: translations keep the offset and name the frame
/// that holds the bytes, nothing stale is ever answered, and every page is accounted for.
/// </summary>
/// <remarks>
/// One partial file per concept: this one (setup, dispatch, observations), Vmalloc (vmalloc, vfree
/// and their misuse), Access (contents, translations, TLB, unmapped addresses), Ioremap, and
/// Traffic (pages, kmalloc, kmaps, pressure, teardown).
/// </remarks>
internal sealed partial class VmMachine
{
    /// <summary>Pages the implementation may take for an area's own descriptors (vm_struct, vmap_area, the pages array) beyond what the suite can see.</summary>
    private const long MetadataAllowance = 24;

    private readonly IPageAllocator _pages;
    private readonly IKernelMemory _memory;
    private readonly IVmalloc _vm;
    private readonly IKernelPageTables? _kpt;
    private readonly ITlb? _tlb;
    private readonly IHighmem? _hm;
    private readonly IKmalloc? _km;
    private readonly IReclaim? _rc;
    private readonly Profile _p;
    private readonly VmModel _m;
    private readonly CheckScope _s;
    private readonly Trace _t;
    private readonly ContextDriver _context;
    private readonly int _shift;
    private readonly ulong _page;
    private readonly ulong _lowFrames;
    /// <summary>The suite's own derivation of the kernel's virtual layout (never the implementation's).</summary>
    private readonly VirtualLayout _layout;

    private VmMachine(IMemoryManager mm, CheckScope scope, Trace trace)
    {
        var caps = mm.Capabilities;
        _pages = (IPageAllocator)mm;
        _memory = (IKernelMemory)mm;
        _vm = (IVmalloc)mm;
        _kpt = caps.Contains(Capability.KernelPageTables) ? (IKernelPageTables)mm : null;
        _tlb = _kpt is not null && caps.Contains(Capability.Tlb) ? (ITlb)mm : null;
        _hm = caps.Contains(Capability.Highmem) ? (IHighmem)mm : null;
        _km = caps.Contains(Capability.Kmalloc) ? (IKmalloc)mm : null;
        _rc = caps.Contains(Capability.Reclaim) ? (IReclaim)mm : null;
        _p = mm.Profile;
        _m = new VmModel(_p);
        _s = scope;
        _t = trace;
        _context = new ContextDriver(caps.Contains(Capability.ExecutionContext) ? (IExecutionContext)mm : null, scope, trace);
        _shift = _p.PageShift;
        _page = (ulong)_p.PageSize;
        _layout = new VirtualLayout(_p);
        _lowFrames = _layout.LowFrames;
    }

    public static void Run(IMemoryManager mm, IReadOnlyList<VmOp> ops, CheckScope scope, Trace trace)
    {
        var machine = new VmMachine(mm, scope, trace);
        machine.Boot();
        foreach (var op in ops) machine.Step(op);
    }

    private void Boot()
    {
        var c = Snap();
        _m.BootFree = c.Free + c.Reclaim;
        _m.BootTables = c.Tables;
        _context.CheckBoot();
        if (_t.Enabled) _t.Step($"boot {_p.Label}: {c.Free} free pages, {c.Tables} page-table pages", $"// boot {_p.Label}");
    }

    private void Step(VmOp op)
    {
        switch (op.Kind)
        {
            case Vmalloc or Vzalloc: Allocate(op.Size, op.Kind == Vzalloc, demand: false); break;
            case BigVmalloc: AllocateBig(op.Arg); break;
            case WindowOverflow: OverflowWindow(); break;
            case Vfree: if (_m.Pick(_m.Areas, op.Slot) is { } area) Free(area); break;
            case VfreeTwice: FreeTwice(op.Slot); break;
            case VfreeInterior: FreeInterior(op.Slot, op.Arg); break;
            case VfreeForeign: FreeForeign(op.Slot, op.Arg); break;
            case KfreeVmalloc: KfreeArea(op.Slot, op.Arg); break;
            case FreePagesVmalloc: FreePagesOfArea(op.Slot); break;
            case VirtToPhysVmalloc: VirtToPhysOfArea(op.Slot, op.Arg); break;
            case Write: WriteArea(op.Slot, op.Arg); break;
            case Verify: if (_m.Pick(_m.Areas, op.Slot) is { } v) { _s.Operations++; VerifyArea(v); } break;
            case VmOpKind.Translate: TranslateStep(op.Slot, op.Arg); break;
            case TlbFlushPage: FlushOnePage(op.Slot, op.Arg); break;
            case TlbFlushAll: FlushAll(op.Slot); break;
            case TlbScan: ScanTlb(op.Arg); break;
            case ProbeUnmapped: Probe(op.Slot, op.Arg); break;
            case VmOpKind.Ioremap: MapDevice(op.Size, op.Arg); break;
            case VmOpKind.Iounmap: if (_m.Pick(_m.Ioremaps, op.Slot) is { } io) UnmapDevice(io); break;
            case IounmapBad: UnmapBad(op.Slot, op.Arg); break;
            case PageAlloc: AllocateBlock((int)op.Size, op.Arg); break;
            case PageFree: if (_m.Pick(_m.Blocks, op.Slot) is { } b) Release(b); break;
            case VmOpKind.Kmalloc: AllocateObject(op.Size); break;
            case Kfree: if (_m.Pick(_m.Objects, op.Slot) is { } o) Release(o); break;
            case Kmap: MapHigh(op.Slot); break;
            case Kunmap: UnmapHigh(op.Slot); break;
            case KmapAtomic: MapAtomic(op.Slot, op.Arg); break;
            case KmapCycle: CycleKmaps(); break;
            case PreemptDisable: _context.Step(ContextStep.PreemptDisable); break;
            case PreemptEnable: _context.Step(ContextStep.PreemptEnable); break;
            case IrqEnter: _context.Step(ContextStep.IrqEnter); break;
            case IrqExit: _context.Step(ContextStep.IrqExit); break;
            case Exhaust: ExhaustMemory(); break;
            case FragmentAll: FragmentMemory(); break;
            case FreeAll: FreeEverything(); break;
        }
    }

    // ---- Observations --------------------------------------------------------------------------

    /// <summary>Free pages (buddyinfo), page-table pages and reclaimable pages at one moment.</summary>
    private readonly record struct Counts(long Free, long Tables, long Reclaim);

    private Counts Snap()
    {
        long free = 0, reclaim = 0;
        foreach (var zone in Zones.All)
        {
            for (int o = 0; o <= _p.MaxOrder; o++) free += _pages.FreeBlocks(zone, o) << o;
            if (_rc is not null) reclaim += _rc.ReclaimablePages(zone);
        }
        return new Counts(free, _kpt?.PageTablePages ?? 0, reclaim);
    }

    private long LowFree() => Zones.All.Where(z => z != Zone.HighMem)
        .Sum(z => Enumerable.Range(0, _p.MaxOrder + 1).Sum(o => _pages.FreeBlocks(z, o) << o));

    /// <summary>Pages a call took from the allocator beyond the page tables it grew (reclaimed page-cache pages count as taken from the cache, not from the free lists).</summary>
    private static long Consumed(Counts before, Counts after) =>
        (before.Free - after.Free) + (before.Reclaim - after.Reclaim) - (after.Tables - before.Tables);

    private string Show(Counts before, Counts after) =>
        $"free pages {before.Free} -> {after.Free}, page-table pages {before.Tables} -> {after.Tables}" +
        (_rc is null ? "" : $", reclaimable {before.Reclaim} -> {after.Reclaim}");

    private static string Hex(ulong v) => $"0x{v:x}";

    private ulong PageOf(ulong va) => va & ~(_page - 1);

    /// <summary>A deterministic offset inside a page, never 0 (string hashes differ between processes).</summary>
    private ulong OffsetFor(ulong seed) => 1 + seed * 2654435761UL % (_page - 1);

    // ---- Checks shared by every kind of step ---------------------------------------------------

    /// <summary>
    /// A call the implementation must refuse as a caller bug naming <paramref name="rule"/> (or one of
    /// <paramref name="alsoAccepted"/>), changing no count.
    /// </summary>
    private void ExpectBug(string rule, string call, string code, Action action, params string[] alsoAccepted)
    {
        _s.Operations++;
        var before = Snap();
        var e = Try(action);
        var after = Snap();
        if (_t.Enabled) _t.Step($"{call} -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => {code});");
        _s.That(rule, e is KernelBugException bug && (bug.RuleId == rule || alsoAccepted.Contains(bug.RuleId)),
            $"{call} must be reported as {string.Join(" or ", [rule, .. alsoAccepted])}, got {Describe(e)}");
        // While a deferred vfree is pending its work may run at any call, so counts are compared only without one.
        if (!_m.Inexact) _s.That(rule, before == after, $"{call} was refused but changed the counts: {Show(before, after)}");
    }

    /// <summary>
    /// ADDR-8: the TLB answers what a walk of the tables answers, counting exactly one hit or miss.
    /// Returns whether it was a hit (null without a TLB).
    /// </summary>
    private bool? CheckTlb(ulong va, string what)
    {
        if (_tlb is null || _kpt is null) return null;
        var walk = _kpt.Translate(va, Access.KernelRead);
        long hits = _tlb.TlbHits, misses = _tlb.TlbMisses;
        var cached = _tlb.TlbTranslate(va, Access.KernelRead);
        long dh = _tlb.TlbHits - hits, dm = _tlb.TlbMisses - misses;
        if (_t.Enabled) _t.Step($"tlb_translate({what} 0x{va:x}) -> {cached} ({(dh == 1 ? "hit" : dm == 1 ? "miss" : $"{dh} hits, {dm} misses")}); walk -> {walk}",
            $"Assert.Equal(kpt.Translate(0x{va:x}, Access.KernelRead), tlb.TlbTranslate(0x{va:x}, Access.KernelRead));");
        _s.That("ADDR-8", dh + dm == 1 && dh >= 0 && dm >= 0,
            $"one TLB translation of {what} 0x{va:x} moved the counters by {dh} hit(s) and {dm} miss(es); it must count exactly one");
        _s.That("ADDR-8", cached == walk,
            $"the TLB translated {what} 0x{va:x} to {cached}, but the page tables say {walk}: a stale or wrong translation");
        return dh == 1;
    }

    /// <summary>
    /// ADDR-2 on one page the tables must map: the page's start translates to a page-aligned physical
    /// address, and every offset in the page adds to it unchanged. Returns that address, or null when
    /// the page is not mapped (reported against <paramref name="presentRule"/>).
    /// </summary>
    private ulong? CheckPageSplit(ulong pageVa, string what, string presentRule)
    {
        if (_kpt is null) return null;
        var start = _kpt.Translate(pageVa, Access.KernelRead);
        _s.That(presentRule, start.Fault == TranslationFault.None, $"{what} at 0x{pageVa:x} is not mapped: the walk says {start}");
        _s.That("ADDR-2", (start.PhysicalAddress & (_page - 1)) == 0,
            $"{what}: the first byte 0x{pageVa:x} translates to PA 0x{start.PhysicalAddress:x}, which is not the start of a frame (offset bits 0x{_page - 1:x})");
        foreach (ulong off in new[] { OffsetFor(pageVa >> _shift), _page / 2, _page - 1 })
        {
            var t = _kpt.Translate(pageVa + off, Access.KernelRead);
            _s.That("ADDR-2", t.Fault == TranslationFault.None && t.PhysicalAddress == start.PhysicalAddress + off,
                $"{what}: VA 0x{pageVa + off:x} (offset 0x{off:x} in the page at 0x{pageVa:x}, PA 0x{start.PhysicalAddress:x}) translates to {t}; "
                      + $"the low {_shift} bits are the offset and must pass through unchanged");
        }
        return start.PhysicalAddress;
    }

    /// <summary>Reads bytes of frame <paramref name="pfn"/> through another way in: the direct mapping, or kmap_atomic for HIGHMEM. Null when there is none.</summary>
    private byte[]? ReadFrame(ulong pfn, ulong offset, int length)
    {
        var bytes = new byte[length];
        if (pfn < _lowFrames)
        {
            ulong alias = _layout.DirectAddress(pfn, offset);
            return Try(() => _memory.Read(alias, bytes)) is null ? bytes : null;
        }
        if (_hm is null || pfn >= _p.TotalPages) return null;
        ulong addr = 0;
        var e = Try(() => addr = _hm.KmapAtomic(_pages.PfnToPage(pfn)));
        if (e is not null || addr == 0) return null;
        var re = Try(() => _memory.Read(addr + offset, bytes));
        Try(() => _hm.KunmapAtomic(addr));
        return re is null ? bytes : null;
    }
}
