using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Expectations;
using KernelMm.Conformance.Families.Shared;
using KernelMm.Conformance.OutOfProcess;
using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.Pages.PageOpKind;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>
/// Runs one page-allocator sequence against an implementation through the contract only, and
/// checks every step against the model. Each check names the rule it enforces.
/// </summary>
internal sealed class PageMachine
{
    private readonly IPageAllocator _pages;
    private readonly IKernelMemory _memory;
    private readonly IExecutionContext? _ctx;
    private readonly IHighmem? _highmem;
    private readonly IReclaim? _reclaim;
    private readonly Profile _p;
    private readonly PageModel _m;
    private readonly CheckScope _s;
    private readonly Trace _t;
    private readonly int _pageSize;
    private Snapshot _pre, _post;
    private readonly ContextDriver _context;
    /// <summary>The suite's own derivation of zones and the direct mapping (never the implementation's).</summary>
    private readonly PhysicalLayout _layout;
    /// <summary>The reserve the implementation declares (or the profile's default), read at boot.</summary>
    private Reserves _reserves = null!;

    private PageMachine(IMemoryManager mm, CheckScope scope, Trace trace)
    {
        var caps = mm.Capabilities;
        _pages = (IPageAllocator)mm;
        _memory = (IKernelMemory)mm;
        _ctx = caps.Contains(Capability.ExecutionContext) ? (IExecutionContext)mm : null;
        _highmem = caps.Contains(Capability.Highmem) ? (IHighmem)mm : null;
        _reclaim = caps.Contains(Capability.Reclaim) ? (IReclaim)mm : null;
        _p = mm.Profile;
        _m = new PageModel(_p);
        _s = scope;
        _t = trace;
        _pageSize = _p.PageSize;
        _pre = new Snapshot(_p.MaxOrder);
        _post = new Snapshot(_p.MaxOrder);
        _context = new ContextDriver(_ctx, scope, trace);
        _layout = new PhysicalLayout(_p);
    }

    public static void Run(IMemoryManager mm, IReadOnlyList<PageOp> ops, CheckScope scope, Trace trace)
    {
        var machine = new PageMachine(mm, scope, trace);
        machine.Boot();
        foreach (var op in ops) machine.Step(op);
    }

    // ---- Rule attribution by flags ---------------------------------------------------------

    /// <summary>Which rule a sleeping call in atomic context tests, by its flags.</summary>
    private static string SleepRule(GfpFlags f) =>
        GfpSemantics.WantsDma(f) ? "GFP-6" : GfpSemantics.UserOrBuffer(f) ? "GFP-7" : "GFP-1";

    /// <summary>Which rule a non-sleeping call tests.</summary>
    private static string NoSleepRule(GfpFlags f) => GfpSemantics.WantsDma(f) ? "GFP-6" : "GFP-2";

    /// <summary>Which rule the low-memory-only placement of a call tests.</summary>
    private static string LowZoneRule(GfpFlags f) =>
        GfpSemantics.UserOrBuffer(f) && !GfpSemantics.AllowsHighmem(f) ? "GFP-7" : "ZONE-3";

    // ---- Boot ------------------------------------------------------------------------------

    private void Boot()
    {
        _pre.Take(_pages, _reclaim, _ctx);
        foreach (var zone in Zones.All)
        {
            var (start, end) = _layout.Span(zone);
            long span = (long)((end - start) / (ulong)_pageSize);
            long free = _pre.Free[(int)zone];
            _s.That("ZONE-1", free <= span,
                () => $"at boot zone {zone.KernelName()} has {free} free pages but spans only {span} pages (0x{start:x}-0x{end:x}) on {_p.Label}");
            _m.BootFree[(int)zone] = free;
            _m.BootMaxBlocks[(int)zone] = _pre.BlocksAt(zone, _p.MaxOrder);
        }
        _context.CheckBoot();
        // GFP-3: the reserve the implementation declares (/proc/zoneinfo) must be one the documents allow.
        ZoneInfo? declared = null;
        var asked = Try(() => declared = _pages.ZoneInfo());
        _s.That("GFP-3", asked is null, () => $"zoneinfo (IPageAllocator.ZoneInfo) raised {Describe(asked)}");
        _reserves = Reserves.Read(declared, _p, _layout, out var problem);
        _s.That("GFP-3", problem is null, () => $"on {_p.Label} the implementation {problem}");
        // ADDR-10: only RAM that exists is direct-mapped.
        ulong beyond = _p.PageOffset + _layout.DirectEnd;
        var outside = Try(() => _pages.VirtToPhys(beyond));
        _s.That("ADDR-10", outside is InvalidArgumentException,
            () => $"virt_to_phys(0x{beyond:x}), just past the direct mapping of {Profile.FormatSize(_layout.DirectEnd)} of low memory, must be refused with InvalidArgumentException, got {Describe(outside)}");
        if (_t.Enabled) _t.Step($"boot {_p.Label}: free pages {_pre.DescribeFree()}", $"// boot {_p.Label}");
    }

    private void Step(PageOp op)
    {
        switch (op.Kind)
        {
            case GetFreePages or AllocPages or GetZeroedPage or GetDmaPages: Allocate(op.Kind, op.Gfp, op.Order); break;
            case Free: FreeValid(op.Slot); break;
            case FreeWrongOrder: FreeWithWrongOrder(op.Slot, op.Arg); break;
            case DoubleFree: FreeTwice(op.Slot); break;
            case FreeInterior: FreeInsideBlock(op.Slot, op.Arg); break;
            case FreeUnaligned: FreeMisaligned(op.Slot, op.Arg); break;
            case FreeUnowned: FreeForeign(op.Arg); break;
            case Write: WriteBytes(op.Slot, op.Arg); break;
            case Verify: if (_m.PickLive(op.Slot) is { } b) { _s.Operations++; VerifyContents(b); } break;
            case Kmap: MapHigh(op.Slot); break;
            case Kunmap: UnmapHigh(op.Slot); break;
            case KmapAtomic: MapAtomic(op.Slot); break;
            case PreemptDisable or PreemptEnable or IrqEnter or IrqExit: ChangeContext(op.Kind); break;
            case FillPageCache: FillCache(op.Arg); break;
            case Exhaust: ExhaustMemory(op.Gfp); break;
            case Fragment: FragmentMemory(op.Gfp, op.Arg); break;
            case FreeAll: FreeEverything(); break;
            case ReclaimUnderPressure: ReclaimAfterExhaustion(op.Arg); break;
        }
    }

    private void Observe(bool before)
    {
        if (before) _pre.Take(_pages, _reclaim, _ctx);
        else _post.Take(_pages, _reclaim, _ctx);
    }

    private void ExpectUnchanged(string rule, string call) =>
        _s.That(rule, _pre.SameCounts(_post),
            () => $"{call} was refused but changed the free counts: before [{_pre.DescribeFree()}], after [{_post.DescribeFree()}]");

    private bool InDirectMap(ulong addr) => _layout.IsDirectMapped(addr);

    // ---- Allocation --------------------------------------------------------------------------

    private LiveBlock? Allocate(PageOpKind kind, GfpFlags gfp, int order)
    {
        bool viaDescriptor = kind == AllocPages;
        var flags = kind == GetDmaPages ? gfp | GfpFlags.Dma : gfp;
        if (kind == GetZeroedPage) order = 0;
        string name = _m.NextName();
        string call = !_t.Enabled ? kind.ToString() : kind switch
        {
            GetFreePages => $"__get_free_pages({Gfp.Describe(flags)}, {order})",
            GetDmaPages => $"__get_dma_pages({Gfp.Describe(gfp)}, {order})",
            GetZeroedPage => $"get_zeroed_page({Gfp.Describe(flags)})",
            _ => $"alloc_pages({Gfp.Describe(flags)}, {order})",
        };
        string code = !_t.Enabled ? "" : kind switch
        {
            GetZeroedPage => $"var {name} = pages.GetZeroedPage({CSharp.Flags(flags)});",
            AllocPages => $"var {name} = pages.AllocPages({CSharp.Flags(flags)}, {order});",
            _ => $"var {name} = pages.GetFreePages({CSharp.Flags(flags)}, {order});",
        };
        bool blocking = GfpSemantics.MaySleep(flags);
        var zones = GfpSemantics.Zonelist(flags, addressReturning: !viaDescriptor);
        _s.Operations++;

        Observe(before: true);
        ulong addr = 0;
        PageHandle page = PageHandle.Null;
        var thrown = Try(() =>
        {
            switch (kind)
            {
                case GetZeroedPage: addr = _pages.GetZeroedPage(flags); break;
                case AllocPages: page = _pages.AllocPages(flags, order); break;
                default: addr = _pages.GetFreePages(flags, order); break;
            }
        });
        Observe(before: false);
        bool ok = thrown is null && (viaDescriptor ? !page.IsNull : addr != 0);
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(thrown is not null ? Describe(thrown) : viaDescriptor ? page.ToString() : $"0x{addr:x}")}", code);

        // Bad input: typed refusal, nothing changed. GFP-7: a bit the profile does not have.
        bool unknown = !GfpSemantics.Exists(_p, flags);
        if (unknown || order < 0)
        {
            string rule = unknown ? "GFP-7" : "PAGE-2";
            string why = unknown ? $"GFP bits 0x{GfpSemantics.Unknown(_p, flags):x} do not exist on {_p.Name}" : "a negative order";
            _s.That(rule, thrown is InvalidArgumentException,
                () => $"{call} on {_p.Name} must be refused with InvalidArgumentException ({why}), got {(thrown is null ? (ok ? "a block" : "NULL") : Describe(thrown))}");
            ExpectUnchanged(rule, call);
            return null;
        }
        // PAGE-2: above the maximum order the call fails cleanly.
        if (order > _p.MaxOrder)
        {
            // The kernel returns NULL before might_sleep() here; a GFP-1 report is accepted as well.
            if (blocking && _ctx is not null && _context.InAtomic && thrown is KernelBugException { RuleId: "GFP-1" }) return null;
            _s.That("PAGE-2", thrown is null && !ok,
                () => $"{call}: order {order} is above the largest order {_p.MaxOrder} of {_p.Name} and must return NULL, got {(thrown is null ? "a block" : Describe(thrown))}");
            ExpectUnchanged("PAGE-2", call);
            return null;
        }
        // GFP-1 (and GFP-6/GFP-7 by flags): a sleeping call in atomic context is reported and refused.
        if (blocking && _ctx is not null && _context.InAtomic)
        {
            string rule = SleepRule(flags);
            _s.That(rule, thrown is KernelBugException { RuleId: "GFP-1" },
                () => $"{call} in atomic context (preempt depth {_context.PreemptDepth}, irq depth {_context.IrqDepth}) must be reported as GFP-1, got {(thrown is null ? (ok ? "a block" : "NULL") : Describe(thrown))}");
            ExpectUnchanged(rule, call);
            _s.That(rule, _post.Sleeps == _pre.Sleeps, () => $"{call} slept in atomic context");
            return null;
        }
        if (thrown is not null)
        {
            string rule = !blocking && _context.InAtomic ? NoSleepRule(flags)
                : _pre.BlockFor(zones, order) is null ? "PAGE-6" : "PAGE-1";
            _s.Fail(rule, $"{call} raised {Describe(thrown)}; an allocation that cannot be served returns NULL");
        }
        // GFP-2 / GFP-6: a non-sleeping call neither sleeps nor reclaims.
        if (!blocking && _ctx is not null)
            _s.That(NoSleepRule(flags), _post.Sleeps == _pre.Sleeps && _pre.Reclaim.AsSpan().SequenceEqual(_post.Reclaim),
                () => $"{call} may not sleep, but the task slept {_post.Sleeps - _pre.Sleeps} time(s) and page-cache pages went from [{string.Join(",", _pre.Reclaim)}] to [{string.Join(",", _post.Reclaim)}]");

        return ok ? Allocated(kind, flags, order, name, call, zones, addr, page) : Failed(flags, order, call, zones, blocking);
    }

    private LiveBlock? Failed(GfpFlags flags, int order, string call, IReadOnlyList<Zone> zones, bool blocking)
    {
        CheckAccounting(call, null, 0);
        // PAGE-2: the largest order is legal, so its availability failures count against PAGE-2.
        string? atMax = order == _p.MaxOrder ? "PAGE-2" : null;
        if (GfpSemantics.UsesReserve(flags))
        {
            // GFP-3: GFP_ATOMIC fails only where no zone could give the block and keep the GFP_ATOMIC floor it declared.
            var demanded = _reserves.Demanded(_pre.BlocksAt, _pre.Free, zones, order, _p.MaxOrder, reserveAccess: true);
            _s.That(atMax ?? "GFP-3", demanded is null,
                () => $"{call} returned NULL although zone {demanded!.Value.Zone.KernelName()} had a free order-{demanded.Value.Order} block and {demanded.Value.Free} free pages, well above the {demanded.Value.Floor} GFP_ATOMIC may not go below ({_reserves.Describe()}); free pages before: [{_pre.DescribeFree()}]");
        }
        else if (blocking && _reclaim is not null)
        {
            long left = _post.ReclaimIn(zones);
            var demanded = _reserves.Demanded(_post.BlocksAt, _post.Free, zones, order, _p.MaxOrder, reserveAccess: false);
            // A usable block left over is PAGE-2's concern at the largest order (the order itself was
            // refused) and GFP-4's below it; reclaimable pages left over are GFP-4's at any order.
            _s.That(atMax ?? "GFP-4", demanded is null,
                () => $"{call} returned NULL although zone {demanded!.Value.Zone.KernelName()} has a free order-{demanded.Value.Order} block and {demanded.Value.Free} free pages, well above its min of {demanded.Value.Floor} ({_reserves.Describe()})");
            _s.That("GFP-4", left == 0, () => $"{call} returned NULL but {left} reclaimable page-cache pages were left in its zones");
        }
        return null;
    }

    private LiveBlock Allocated(PageOpKind kind, GfpFlags flags, int order, string name, string call,
        IReadOnlyList<Zone> zones, ulong addr, PageHandle page)
    {
        bool viaDescriptor = kind == AllocPages;
        ulong pfn;
        if (viaDescriptor)
        {
            pfn = _pages.PageToPfn(page);
            if (order > 0) QueryPrefetch.Announce(_pages, [PureQuery.PfnToPage(pfn), PureQuery.PfnToPage(pfn + (1UL << order) - 1)]);
            _s.That("PAGE-5", _pages.PfnToPage(pfn) == page, () => $"{call}: pfn_to_page(page_to_pfn({page})) = {_pages.PfnToPage(pfn)}, not the same descriptor");
        }
        else
        {
            // ZONE-3 first: an address past the direct mapping that came with HIGHMEM's free pages
            // falling is a HIGHMEM frame handed out by address; ADDR-10 would blame the mapping instead.
            int high = (int)Zone.HighMem;
            long fromHighmem = _pre.Free[high] - _post.Free[high] + (_pre.Reclaim[high] - _post.Reclaim[high]);
            _s.That("ZONE-3", !(_layout.IsHighmemAlias(addr) && fromHighmem > 0),
                () => $"{call} returned 0x{addr:x} = PAGE_OFFSET + PA 0x{addr - _p.PageOffset:x} and zone HighMem's free pages fell by {fromHighmem}: a HIGHMEM frame, but an address-returning call must give direct-mapped low memory (below PA 0x{_layout.DirectEnd:x})");
            _s.That("ADDR-1", addr % (ulong)_pageSize == 0, () => $"{call} returned 0x{addr:x}, not a multiple of PAGE_SIZE 0x{_pageSize:x}");
            _s.That("ADDR-10", InDirectMap(addr),
                () => $"{call} returned 0x{addr:x}, outside the direct mapping [0x{_p.PageOffset:x}, 0x{_p.PageOffset + _layout.DirectEnd:x})");
            ulong pa = 0;
            var e = Try(() => pa = _pages.VirtToPhys(addr));
            _s.That("ADDR-10", e is null && pa == addr - _p.PageOffset,
                () => $"{call}: virt_to_phys(0x{addr:x}) = {(e is null ? $"0x{pa:x}" : Describe(e))}, expected PA = VA - PAGE_OFFSET = 0x{addr - _p.PageOffset:x}");
            pfn = pa >> _p.PageShift;
            // A deterministic, non-zero in-page offset (string hashes differ between processes).
            ulong off = 1 + (ulong)(pfn * 2654435761UL % (ulong)(_pageSize - 1));
            // Out of process, the queries below travel in one round trip; nothing changes in what is asked.
            QueryPrefetch.Announce(_pages, order == 0
                ? [PureQuery.VirtToPhys(addr + off), PureQuery.VirtToPhys(addr), PureQuery.PfnToPage(pfn)]
                : [PureQuery.VirtToPhys(addr + off), PureQuery.VirtToPhys(addr + ((1UL << order) - 1) * (ulong)_pageSize), PureQuery.PfnToPage(pfn),
                   PureQuery.PfnToPage(pfn + (1UL << order) - 1)]);
            _s.That("ADDR-2", _pages.VirtToPhys(addr + off) == pa + off,
                () => $"virt_to_phys(0x{addr + off:x}) = 0x{_pages.VirtToPhys(addr + off):x}: the in-page offset 0x{off:x} was not kept");
            ulong last = addr + ((1UL << order) - 1) * (ulong)_pageSize;
            _s.That("ADDR-1", _pages.VirtToPhys(last) == pa + (last - addr),
                () => $"{call}: the last page 0x{last:x} of the order-{order} block translates to 0x{_pages.VirtToPhys(last):x}, not 0x{pa + (last - addr):x}");
            page = _pages.PfnToPage(pfn);
            _s.That("PAGE-5", _pages.PageAddress(page) == addr,
                () => $"{call}: page_address(pfn_to_page(virt_to_pfn(0x{addr:x}))) = 0x{_pages.PageAddress(page):x}");
        }

        var zone = _layout.ZoneOfPfn(pfn);
        CheckWholeBlockTaken(call, zones, order, pfn, zone);
        _s.That("PAGE-1", _m.InRam(pfn, order), () => $"{call}: block pfn 0x{pfn:x} order {order} lies beyond RAM ({_p.TotalPages} frames)");
        _s.That("PAGE-7", pfn % (1UL << order) == 0, () => $"{call}: order-{order} block starts at pfn 0x{pfn:x}, not a multiple of {1UL << order}");
        if (GfpSemantics.WantsDma(flags))
        {
            ulong end = (pfn + (1UL << order)) << _p.PageShift;
            _s.That("ZONE-2", end <= _layout.DmaEnd,
                () => $"{call}: block [0x{pfn << _p.PageShift:x}, 0x{end:x}) crosses MAX_DMA_ADDRESS 0x{_layout.DmaEnd:x} by 0x{end - _layout.DmaEnd:x} bytes");
        }
        var lastZone = _layout.ZoneOfPfn(pfn + (1UL << order) - 1);
        var reported = _pages.PageZone(page);
        _s.That("ZONE-1", reported == zone && lastZone == zone,
            () => $"{call}: pfn 0x{pfn:x} (PA 0x{pfn << _p.PageShift:x}) lies in zone {zone.KernelName()}{(lastZone != zone ? $" and ends in {lastZone.KernelName()}" : "")}, page_zone says {reported.KernelName()}");
        if (!viaDescriptor || !GfpSemantics.AllowsHighmem(flags))
            _s.That(viaDescriptor ? LowZoneRule(flags) : "ZONE-3", zone != Zone.HighMem,
                () => $"{call} returned HIGHMEM pfn 0x{pfn:x}; {(viaDescriptor ? "the flags do not allow __GFP_HIGHMEM" : "an address-returning call must give low memory")}");
        var other = _m.Overlapping(pfn, order);
        _s.That("PAGE-1", other is null,
            () => $"{call}: block pfn 0x{pfn:x}..0x{pfn + (1UL << order) - 1:x} overlaps live block {other!.Name} (pfn 0x{other.Pfn:x}, order {other.Order})");

        if (viaDescriptor && zone != Zone.HighMem)
        {
            ulong va = _pages.PageAddress(page);
            _s.That("PAGE-5", va != 0 && _pages.VirtToPhys(va) == pfn << _p.PageShift,
                () => $"{call}: page_address({page}) = 0x{va:x} does not translate back to pfn 0x{pfn:x}");
        }
        if (order > 0) CheckTailDescriptor(call, pfn, order, zone, viaDescriptor ? _pages.PageAddress(page) : addr);
        if (viaDescriptor && zone == Zone.HighMem && _highmem is not null)
        {
            ulong va = _pages.PageAddress(page);
            _s.That("ZONE-4", !InDirectMap(va),
                () => $"{call}: HIGHMEM page pfn 0x{pfn:x} has page_address 0x{va:x} in the direct mapping before any kmap");
        }

        var block = new LiveBlock { Name = name, Addr = addr, Page = page, Pfn = pfn, Order = order, Zone = zone, ViaDescriptor = viaDescriptor };
        if (kind == GetZeroedPage || GfpSemantics.WantsZero(flags)) CheckZeroed(block, call);

        CheckAccounting(call, zone, 1L << order);
        // GFP-3: the request kept the floor the implementation declares for it.
        bool reserve = GfpSemantics.UsesReserve(flags);
        var breach = _reserves.Breach(_post.Free, zones, zone, reserve);
        _s.That("GFP-3", breach is null,
            () => $"{call} ({(reserve ? "GFP_ATOMIC reserve access" : "no reserve access")}) took an order-{order} block from zone {zone.KernelName()} and {breach}; free pages after: [{_post.DescribeFree()}]");
        if (_pre.Reclaim.AsSpan().SequenceEqual(_post.Reclaim))
            _s.That("PAGE-6", _pre.Free[(int)zone] >= 1L << order,
                () => $"{call} returned an order-{order} block from zone {zone.KernelName()}, which had only {_pre.Free[(int)zone]} free pages");

        _m.Live.Add(block);
        _m.Claim(block);
        return block;
    }

    /// <summary>
    /// PAGE-6: when buddyinfo listed no free block of the order in any allowed zone and nothing was
    /// reclaimed, a success can only come from free pages merging (a per-CPU drain), and then it takes
    /// a whole 2^order pages from its zone; an allocator that hands out a smaller block instead
    /// ("the best it had") has ignored that no block of the order existed.
    /// </summary>
    private void CheckWholeBlockTaken(string call, IReadOnlyList<Zone> zones, int order, ulong pfn, Zone zone)
    {
        if (order == 0 || _pre.BlockFor(zones, order) is not null || !_pre.Reclaim.AsSpan().SequenceEqual(_post.Reclaim)) return;
        long dropped = _pre.Free[(int)zone] - _post.Free[(int)zone];
        _s.That("PAGE-6", dropped >= 1L << order,
            () => $"{call} returned pfn 0x{pfn:x} although no free block of order >= {order} was listed in its zones ([{_pre.DescribeFree()}]), and zone {zone.KernelName()}'s free pages fell by only {dropped}, not {1L << order}: a smaller block is no order-{order} block");
    }

    /// <summary>
    /// PAGE-5 inside a block: every page of it has its own descriptor, which converts back to its own
    /// frame (and, in low memory, to its own address), not to the block's first page.
    /// </summary>
    private void CheckTailDescriptor(string call, ulong pfn, int order, Zone zone, ulong headAddress)
    {
        ulong index = (1UL << order) - 1;
        ulong tail = pfn + index;
        PageHandle page = PageHandle.Null;
        ulong back = 0;
        var e = Try(() =>
        {
            page = _pages.PfnToPage(tail);
            // Out of process, the two questions about the tail's descriptor travel in one round trip.
            QueryPrefetch.Announce(_pages, [PureQuery.PageToPfn(page), PureQuery.PageAddress(page)]);
            back = _pages.PageToPfn(page);
        });
        _s.That("PAGE-5", e is null && back == tail,
            () => $"{call}: page_to_pfn(pfn_to_page(0x{tail:x})), the last page of the order-{order} block at pfn 0x{pfn:x}, gives {(e is null ? $"pfn 0x{back:x} ({page})" : Describe(e))}");
        if (zone == Zone.HighMem || headAddress == 0) return;
        ulong va = _pages.PageAddress(page), want = headAddress + index * (ulong)_pageSize;
        _s.That("PAGE-5", va == want,
            () => $"{call}: page_address(pfn_to_page(0x{tail:x})), the last page of the block at 0x{headAddress:x}, is 0x{va:x}, not 0x{want:x}");
    }

    /// <summary>ADDR-11: free pages move by exactly the block taken or given back and the pages reclaimed.</summary>
    private void CheckAccounting(string call, Zone? zone, long taken)
    {
        foreach (var z in Zones.All)
        {
            int i = (int)z;
            long expected = (z == zone ? -taken : 0) + (_pre.Reclaim[i] - _post.Reclaim[i]);
            long actual = _post.Free[i] - _pre.Free[i];
            _s.That("ADDR-11", actual == expected,
                () => $"{call}: free pages in zone {z.KernelName()} moved by {actual}, expected {expected} (block {-taken}, reclaimed {_pre.Reclaim[i] - _post.Reclaim[i]})");
        }
    }

    /// <summary>PAGE-3: a zeroed block reads zero. Large blocks are sampled: first, middle and last page.</summary>
    private void CheckZeroed(LiveBlock block, string call)
    {
        int pages = block.IsHighmem ? 1 : 1 << block.Order;
        foreach (int page in pages <= 3 ? Enumerable.Range(0, pages) : [0, pages / 2, pages - 1])
        {
            var bytes = ReadBlock(block, page * _pageSize, _pageSize);
            if (bytes is null) return;
            int nonZero = bytes.AsSpan().IndexOfAnyExcept((byte)0);
            _s.That("PAGE-3", nonZero < 0, () => $"{call}: byte 0x{page * _pageSize + nonZero:x} of the zeroed block is 0x{bytes[nonZero]:x2}");
        }
    }

    // ---- Memory contents ---------------------------------------------------------------------

    /// <summary>
    /// The kernel address to reach a block's bytes: its own address, or for a HIGHMEM page its
    /// kmap address (only the first page is mapped). 0 when no way is available.
    /// </summary>
    private ulong AddressFor(LiveBlock block, out bool atomicMap)
    {
        atomicMap = false;
        if (!block.ViaDescriptor) return block.Addr;
        if (!block.IsHighmem) return _pages.PageAddress(block.Page);
        if (block.KmapCount > 0) return block.KmapAddr;
        if (_highmem is null) return 0;
        atomicMap = true;
        return _highmem.KmapAtomic(block.Page);
    }

    private byte[]? ReadBlock(LiveBlock block, int offset, int length)
    {
        ulong addr = AddressFor(block, out bool atomicMap);
        if (addr == 0) return null;
        var bytes = new byte[length];
        var e = Try(() => _memory.Read(addr + (ulong)offset, bytes));
        if (atomicMap) _highmem!.KunmapAtomic(addr);
        _s.That(block.IsHighmem ? "ZONE-4" : "PAGE-1", e is null, () => $"reading {block.Name} at 0x{addr + (ulong)offset:x}: {Describe(e)}");
        return bytes;
    }

    private void WriteBytes(int slot, int arg)
    {
        if (_m.PickLive(slot) is not { } block) return;
        int size = block.IsHighmem ? _pageSize : _pageSize << block.Order;
        int offset = (int)((uint)arg % (uint)size);
        int length = Math.Min(1 + (int)((uint)arg / 7 % 64), size - offset);
        var data = new byte[length];
        new Random(arg).NextBytes(data);
        ulong addr = AddressFor(block, out bool atomicMap);
        if (addr == 0) return;
        _s.Operations++;
        var e = Try(() => _memory.Write(addr + (ulong)offset, data));
        if (atomicMap) _highmem!.KunmapAtomic(addr);
        if (_t.Enabled) _t.Step($"write {length} bytes to {block.Name}+0x{offset:x} (0x{addr + (ulong)offset:x}) -> {Describe(e)}",
            $"mem.Write({CSharp.AddressOf(block)} + 0x{offset:x}, Bytes({arg}, {length}));");
        _s.That(block.IsHighmem ? "ZONE-4" : "PAGE-1", e is null, () => $"writing {length} bytes into live block {block.Name} at 0x{addr + (ulong)offset:x}: {Describe(e)}");
        block.Writes.Add((offset, data));
        if (block.Writes.Count > 32) CompactWrites(block);
    }

    private static void CompactWrites(LiveBlock block)
    {
        int start = block.Writes.Min(w => w.Offset), end = block.Writes.Max(w => w.Offset + w.Data.Length);
        if (end - start > 1 << 16)
        {
            // Too sparse to merge: keep the latest writes (their bytes are still checked).
            if (block.Writes.Count > 16) block.Writes.RemoveRange(0, block.Writes.Count - 16);
            return;
        }
        var merged = new byte[end - start];
        var mask = new bool[end - start];
        foreach (var (off, data) in block.Writes) { data.CopyTo(merged, off - start); Array.Fill(mask, true, off - start, data.Length); }
        block.Writes.Clear();
        for (int i = 0; i < mask.Length;)
        {
            if (!mask[i]) { i++; continue; }
            int j = i;
            while (j < mask.Length && mask[j]) j++;
            block.Writes.Add((start + i, merged[i..j]));
            i = j;
        }
    }

    /// <summary>PAGE-1 (ZONE-4 through a kmap): every byte written into a live block still reads back.</summary>
    private void VerifyContents(LiveBlock block)
    {
        if (block.Writes.Count == 0) return;
        CompactWrites(block);
        foreach (var (offset, data) in block.Writes)
        {
            var actual = ReadBlock(block, offset, data.Length);
            if (actual is null) return;
            int diff = actual.AsSpan().CommonPrefixLength(data);
            _s.That(block.IsHighmem ? "ZONE-4" : "PAGE-1", diff == data.Length,
                () => $"live block {block.Name} (pfn 0x{block.Pfn:x}, order {block.Order}) lost a written byte at offset 0x{offset + diff:x}: wrote 0x{data[diff]:x2}, read 0x{actual[diff]:x2}");
        }
    }

    // ---- Frees -------------------------------------------------------------------------------

    private void FreeValid(int slot)
    {
        if (_m.PickLive(slot) is not { } block) return;
        Release(block);
    }

    private void Release(LiveBlock block)
    {
        _s.Operations++;
        VerifyContents(block);
        while (block.KmapCount > 0) UnmapOnce(block);
        string call = block.ViaDescriptor ? $"__free_pages({block.Name}, {block.Order})" : $"free_pages({block.Name}, {block.Order})";
        Observe(before: true);
        var e = Try(() =>
        {
            if (block.ViaDescriptor) _pages.FreePagesOf(block.Page, block.Order);
            else _pages.FreePages(block.Addr, block.Order);
        });
        Observe(before: false);
        if (_t.Enabled) _t.Step($"{call} -> {Describe(e)}", block.ViaDescriptor ? $"pages.FreePagesOf({block.Name}, {block.Order});" : $"pages.FreePages({block.Name}, {block.Order});");
        _s.That("PAGE-4", e is null, () => $"{call}, the exact address and order of a live allocation, was refused: {Describe(e)}");
        _m.Live.Remove(block);
        _m.Release(block);
        _m.Freed.Add(block);
        if (_m.Freed.Count > 16) _m.Freed.RemoveAt(0);
        CheckAccounting(call, block.Zone, -(1L << block.Order));
    }

    /// <summary>PAGE-4: a refused free raises a KernelBugException naming PAGE-4 and changes nothing.</summary>
    private void ExpectRefusedFree(string call, string code, Action free)
    {
        _s.Operations++;
        Observe(before: true);
        var e = Try(free);
        Observe(before: false);
        if (_t.Enabled) _t.Step($"{call} -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => {code.TrimEnd(';')});");
        _s.That("PAGE-4", e is KernelBugException { RuleId: "PAGE-4" }, () => $"{call} must be reported as PAGE-4, got {Describe(e)}");
        ExpectUnchanged("PAGE-4", call);
    }

    private void FreeWithWrongOrder(int slot, int delta)
    {
        if (_p.MaxOrder == 0 || _m.PickLive(slot) is not { } block) return;
        int wrong = (block.Order + delta) % (_p.MaxOrder + 1);
        if (wrong == block.Order) wrong = (wrong + 1) % (_p.MaxOrder + 1);
        if (block.ViaDescriptor)
            ExpectRefusedFree($"__free_pages({block.Name}, {wrong}) of an order-{block.Order} block", $"pages.FreePagesOf({block.Name}, {wrong});",
                () => _pages.FreePagesOf(block.Page, wrong));
        else
            ExpectRefusedFree($"free_pages({block.Name}, {wrong}) of an order-{block.Order} block", $"pages.FreePages({block.Name}, {wrong});",
                () => _pages.FreePages(block.Addr, wrong));
    }

    private void FreeTwice(int slot)
    {
        if (_m.Freed.Count == 0) return;
        var block = _m.Freed[slot % _m.Freed.Count];
        if (_m.Overlapping(block.Pfn, block.Order) is not null) return; // reused: a free would be legal
        if (block.ViaDescriptor)
            ExpectRefusedFree($"second __free_pages({block.Name}, {block.Order})", $"pages.FreePagesOf({block.Name}, {block.Order});",
                () => _pages.FreePagesOf(block.Page, block.Order));
        else
            ExpectRefusedFree($"second free_pages({block.Name}, {block.Order})", $"pages.FreePages({block.Name}, {block.Order});",
                () => _pages.FreePages(block.Addr, block.Order));
    }

    private void FreeInsideBlock(int slot, int arg)
    {
        var block = _m.Live.Count == 0 ? null : Enumerable.Range(0, _m.Live.Count).Select(i => _m.Live[(slot + i) % _m.Live.Count]).FirstOrDefault(b => b.Order > 0);
        if (block is null) return;
        int page = 1 + arg % ((1 << block.Order) - 1);
        if (block.ViaDescriptor)
        {
            var inner = _pages.PfnToPage(block.Pfn + (ulong)page);
            ExpectRefusedFree($"__free_pages(page {page} of {block.Name}, 0)", $"pages.FreePagesOf(pages.PfnToPage(pages.PageToPfn({block.Name}) + {page}), 0);",
                () => _pages.FreePagesOf(inner, 0));
        }
        else
        {
            ulong addr = block.Addr + (ulong)page * (ulong)_pageSize;
            ExpectRefusedFree($"free_pages({block.Name} + page {page}, 0)", $"pages.FreePages({block.Name} + 0x{(ulong)page * (ulong)_pageSize:x}, 0);",
                () => _pages.FreePages(addr, 0));
        }
    }

    private void FreeMisaligned(int slot, int arg)
    {
        var block = _m.Live.FirstOrDefault(b => !b.ViaDescriptor);
        if (block is null) return;
        int offset = 1 + arg % (_pageSize - 1);
        ExpectRefusedFree($"free_pages({block.Name} + 0x{offset:x}, {block.Order})", $"pages.FreePages({block.Name} + 0x{offset:x}, {block.Order});",
            () => _pages.FreePages(block.Addr + (ulong)offset, block.Order));
    }

    private void FreeForeign(int arg)
    {
        ulong pfn = (ulong)(uint)arg % _p.TotalPages;
        if (_m.IsOwned(pfn)) return;
        if (_layout.ZoneOfPfn(pfn) != Zone.HighMem)
        {
            ulong addr = _p.PageOffset + (pfn << _p.PageShift);
            ExpectRefusedFree($"free_pages(0x{addr:x}, 0) of a page never handed out", $"pages.FreePages(0x{addr:x}, 0);", () => _pages.FreePages(addr, 0));
        }
        else
        {
            var page = _pages.PfnToPage(pfn);
            ExpectRefusedFree($"__free_pages(pfn 0x{pfn:x}, 0) of a page never handed out", $"pages.FreePagesOf(pages.PfnToPage(0x{pfn:x}), 0);", () => _pages.FreePagesOf(page, 0));
        }
    }

    // ---- Highmem -----------------------------------------------------------------------------

    private LiveBlock? PickDescriptor(int slot)
    {
        for (int i = 0; i < _m.Live.Count; i++)
        {
            var b = _m.Live[(slot + i) % _m.Live.Count];
            if (b.ViaDescriptor) return b;
        }
        return null;
    }

    private void MapHigh(int slot)
    {
        if (_highmem is null || PickDescriptor(slot) is not { } block) return;
        _s.Operations++;
        ulong addr = 0;
        if (_ctx is not null && _context.InAtomic)
        {
            Observe(before: true);
            var bug = Try(() => addr = _highmem.Kmap(block.Page));
            Observe(before: false);
            if (_t.Enabled) _t.Step($"kmap({block.Name}) in atomic context -> {Describe(bug)}", $"Assert.Throws<KernelBugException>(() => hm.Kmap({block.Name}));");
            _s.That("ZONE-4", bug is KernelBugException { RuleId: "GFP-1" }, () => $"kmap({block.Name}) in atomic context must be reported as GFP-1 (kmap may sleep), got {Describe(bug)}");
            return;
        }
        var e = Try(() => addr = _highmem.Kmap(block.Page));
        if (_t.Enabled) _t.Step($"kmap({block.Name}) -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var k_{block.Name} = hm.Kmap({block.Name});");
        _s.That("ZONE-4", e is null && addr != 0, () => $"kmap({block.Name}) failed: {Describe(e)}");
        ulong current = _pages.PageAddress(block.Page);
        if (block.IsHighmem)
        {
            _s.That("ZONE-4", !InDirectMap(addr), () => $"kmap of HIGHMEM {block.Name} returned 0x{addr:x}, inside the direct mapping");
            CheckSingleMapping(block, addr, $"kmap({block.Name})");
            if (block.KmapCount > 0)
                _s.That("ZONE-4", addr == block.KmapAddr, () => $"nested kmap of {block.Name} returned 0x{addr:x}, the first kmap returned 0x{block.KmapAddr:x}");
            _s.That("ZONE-4", current == addr, () => $"page_address({block.Name}) = 0x{current:x} while kmapped at 0x{addr:x}");
        }
        else
            _s.That("ZONE-4", addr == current, () => $"kmap of low-memory {block.Name} returned 0x{addr:x}, not its page_address 0x{current:x}");
        block.KmapCount++;
        block.KmapAddr = addr;
        VerifyContents(block);
    }

    /// <summary>
    /// ZONE-4: a kernel address maps one page at a time. A new mapping of a HIGHMEM page must not be
    /// an address another live page is kmapped at, nor one another page's page_address still gives
    /// (a lazily kept kmap whose slot was handed to a second page).
    /// </summary>
    private void CheckSingleMapping(LiveBlock block, ulong addr, string call)
    {
        foreach (var other in _m.Live)
        {
            if (other == block || !other.IsHighmem || !other.ViaDescriptor) continue;
            ulong its = other.KmapCount > 0 ? other.KmapAddr : _pages.PageAddress(other.Page);
            _s.That("ZONE-4", its == 0 || its != addr,
                () => $"{call} returned 0x{addr:x}, where HIGHMEM page {other.Name} (pfn 0x{other.Pfn:x}) is {(other.KmapCount > 0 ? $"kmapped ({other.KmapCount} time(s))" : "still shown by page_address")}: one address maps two pages");
        }
    }

    private void UnmapHigh(int slot)
    {
        if (_highmem is null || PickDescriptor(slot) is not { } block) return;
        if (block.KmapCount > 0) { _s.Operations++; UnmapOnce(block); return; }
        if (!block.IsHighmem) return;
        _s.Operations++;
        Observe(before: true);
        var e = Try(() => _highmem.Kunmap(block.Page));
        Observe(before: false);
        if (_t.Enabled) _t.Step($"kunmap({block.Name}) without kmap -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => hm.Kunmap({block.Name}));");
        _s.That("ZONE-4", e is KernelBugException { RuleId: "ZONE-4" }, () => $"kunmap({block.Name}) of a page that is not kmapped must be reported as ZONE-4, got {Describe(e)}");
    }

    private void UnmapOnce(LiveBlock block)
    {
        var e = Try(() => _highmem!.Kunmap(block.Page));
        if (_t.Enabled) _t.Step($"kunmap({block.Name}) -> {Describe(e)}", $"hm.Kunmap({block.Name});");
        _s.That("ZONE-4", e is null, () => $"kunmap({block.Name}) after kmap failed: {Describe(e)}");
        block.KmapCount--;
        if (block.KmapCount == 0 && block.IsHighmem)
        {
            ulong now = _pages.PageAddress(block.Page);
            _s.That("ZONE-4", now == 0 || now == block.KmapAddr,
                () => $"after the last kunmap, page_address({block.Name}) = 0x{now:x}: neither NULL nor the old kmap address 0x{block.KmapAddr:x}");
        }
    }

    private void MapAtomic(int slot)
    {
        if (_highmem is null || PickDescriptor(slot) is not { } block) return;
        _s.Operations++;
        ulong addr = 0;
        var e = Try(() => addr = _highmem.KmapAtomic(block.Page));
        if (_t.Enabled) _t.Step($"kmap_atomic({block.Name}) -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var a_{block.Name} = hm.KmapAtomic({block.Name});");
        _s.That("ZONE-4", e is null && addr != 0 && (!block.IsHighmem || !InDirectMap(addr)),
            () => $"kmap_atomic({block.Name}) must return a usable mapping{(block.IsHighmem ? " outside the direct map" : "")}, got {(e is null ? $"0x{addr:x}" : Describe(e))}");
        if (block.IsHighmem) CheckSingleMapping(block, addr, $"kmap_atomic({block.Name})");
        foreach (var (offset, data) in block.Writes.Where(w => w.Offset + w.Data.Length <= _pageSize))
        {
            var actual = new byte[data.Length];
            var re = Try(() => _memory.Read(addr + (ulong)offset, actual));
            _s.That("ZONE-4", re is null && actual.AsSpan().SequenceEqual(data),
                () => $"kmap_atomic({block.Name}) at 0x{addr:x} does not show the bytes written at offset 0x{offset:x}: {Describe(re)}");
        }
        var ue = Try(() => _highmem.KunmapAtomic(addr));
        if (_t.Enabled) _t.Step($"kunmap_atomic(0x{addr:x}) -> {Describe(ue)}", $"hm.KunmapAtomic(a_{block.Name});");
        _s.That("ZONE-4", ue is null, () => $"kunmap_atomic(0x{addr:x}) of the last kmap_atomic was refused: {Describe(ue)}");
    }

    // ---- Context -----------------------------------------------------------------------------

    private void ChangeContext(PageOpKind kind) => _context.Step(kind switch
    {
        PreemptDisable => ContextStep.PreemptDisable,
        PreemptEnable => ContextStep.PreemptEnable,
        IrqEnter => ContextStep.IrqEnter,
        _ => ContextStep.IrqExit,
    });

    // ---- Pressure ----------------------------------------------------------------------------

    private void FillCache(int pages)
    {
        if (_reclaim is null) return;
        _s.Operations++;
        Observe(before: true);
        int added = -1;
        var e = Try(() => added = _reclaim.FillPageCache(pages));
        Observe(before: false);
        if (_t.Enabled) _t.Step($"fill page cache with {pages} pages -> {(e is null ? added.ToString() : Describe(e))}", $"rc.FillPageCache({pages});");
        _s.That("ADDR-11", e is null && added >= 0 && added <= pages, () => $"FillPageCache({pages}) returned {added}: {Describe(e)}");
        foreach (var z in Zones.All)
        {
            int i = (int)z;
            long grown = _post.Reclaim[i] - _pre.Reclaim[i], used = _pre.Free[i] - _post.Free[i];
            _s.That("ADDR-11", grown == used, () => $"filling the page cache took {used} free pages from zone {z.KernelName()} but added {grown} cache pages there");
        }
    }

    private void ExhaustMemory(GfpFlags gfp)
    {
        var kind = (gfp & GfpFlags.HighMem) != 0 ? AllocPages : GetFreePages;
        int budget = 4096;
        for (int order = _p.MaxOrder; order >= 0 && budget > 0; order--)
            while (budget-- > 0)
            {
                int before = _m.Live.Count;
                if (Allocate(kind, gfp, order) is null) break;
                if (_m.Live.Count == before) return;
            }
    }

    /// <summary>GFP-4: with clean cache pages and no free memory, sleeping requests must reclaim before giving up.</summary>
    private void ReclaimAfterExhaustion(int pages)
    {
        if (_reclaim is null) return;
        FillCache(pages);
        ExhaustMemory(Gfp.Atomic | GfpFlags.HighMem);
        Allocate(GetFreePages, Gfp.Kernel, 0);
        Allocate(AllocPages, Gfp.HighUser, 0);
    }

    private void FragmentMemory(GfpFlags gfp, int log2)
    {
        var taken = new List<LiveBlock>();
        for (int i = 0; i < 1 << log2; i++)
            if (Allocate(GetFreePages, gfp, 0) is { } b) taken.Add(b);
        for (int i = 1; i < taken.Count; i += 2) Release(taken[i]);
    }

    /// <summary>PAGE-8 and ADDR-11: after everything is freed and caches drained, boot state returns.</summary>
    private void FreeEverything()
    {
        foreach (var block in _m.Live.ToArray()) Release(block);
        _s.Operations++;
        _reclaim?.DropPageCache();
        _pages.DrainCaches();
        if (_t.Enabled) _t.Step("drop page cache; drain caches", "rc?.DropPageCache(); pages.DrainCaches();");
        Observe(before: false);
        foreach (var z in Zones.All)
        {
            int i = (int)z;
            _s.That("ADDR-11", _post.Free[i] == _m.BootFree[i],
                () => $"with everything freed and caches drained, zone {z.KernelName()} has {_post.Free[i]} free pages; it had {_m.BootFree[i]} at boot");
            long maxBlocks = _post.BlocksAt(z, _p.MaxOrder);
            _s.That("PAGE-8", maxBlocks >= _m.BootMaxBlocks[i],
                () => $"with everything freed and caches drained, zone {z.KernelName()} has {maxBlocks} free order-{_p.MaxOrder} blocks; it had {_m.BootMaxBlocks[i]} at boot (freed buddies did not coalesce)");
        }
        // The max-order blocks GFP_ATOMIC|__GFP_HIGHMEM may take at boot while keeping the floor the implementation declares.
        long want = _reserves.MaxOrderBlocksDemanded(_m.BootFree, _m.BootMaxBlocks, _p.MaxOrder);
        var taken = new List<LiveBlock>();
        for (long n = 0; n < want; n++)
        {
            var block = Allocate(AllocPages, Gfp.Atomic | GfpFlags.HighMem, _p.MaxOrder);
            _s.That("PAGE-8", block is not null, () => $"after freeing everything, max-order allocation {n + 1} of the {want} that fit at boot ({_reserves.Describe()}) failed");
            if (block is null) break;
            taken.Add(block);
        }
        foreach (var block in taken) Release(block);
    }
}
