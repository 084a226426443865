using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Variants;

/// <summary>
/// A second, independent implementation of the page-allocator contract, making other legal
/// choices than the reference: a segment tree per zone instead of free lists, highest-address-first
/// placement, no per-CPU lists, garbage in non-zeroed pages, XOR-encoded page handles, PKMAP slots
/// from the top down with lazy kunmap, and reclaim one page-cache page at a time. Its reserve is
/// either the profile's default (one pooled floor) or, with <c>linuxWatermarks</c>, Linux's own:
/// per-zone min watermarks, a lower floor for GFP_ATOMIC that never reaches the last page, and
/// lowmem_reserve protecting the lower zones from fallback (<see cref="LinuxWatermarks"/>); either
/// way it declares the one it keeps (<see cref="ZoneInfo"/>). It derives what GFP masks mean itself.
/// An optional <see cref="Fault"/> breaks exactly one behaviour, to test the suite itself.
/// </summary>
public sealed class TreeKernel : IMemoryManager, IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim
{
    private const ulong HandleKey = 0x7EA5_0000_0000_0000;
    /// <summary>The second encoding <see cref="Fault.PfnToPageOtherHandle"/> hands out.</summary>
    private const ulong OtherHandleKey = 0x3C1A_0000_0000_0000;

    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.ExecutionContext, Capability.Highmem, Capability.Reclaim,
    };
    private static readonly Zone[] EveryZone = [Zone.HighMem, Zone.Normal, Zone.Dma];

    private readonly Fault _fault;
    /// <summary>Linux's per-zone watermarks, or null for the profile's pooled default.</summary>
    private readonly LinuxWatermarks? _linux;
    /// <summary>The GFP bits this kernel defines: the eight modifiers, GFP_BUFFER's bit on 2.4.</summary>
    private readonly GfpFlags _validGfp;
    private readonly int _frames;
    private readonly int _shift;
    private readonly ulong _pageMask;
    private readonly int _maxOrder;
    private readonly long _reserve;
    /// <summary>Kernel address of frame 0 in the direct mapping.</summary>
    private readonly ulong _directBase;
    private readonly int _lowFrames;
    private readonly BlockTree[] _zones = new BlockTree[Zones.Count];
    private readonly FrameStore _ram;
    private readonly KmapWindow _kmap;
    /// <summary>
    /// Live allocations handed to callers, by the first frame the caller was given: the order and
    /// the block's real first frame (the same unless a fault misplaces it). Page-cache pages are not here.
    /// </summary>
    private readonly Dictionary<int, (int Order, int Block)> _live = new();
    private readonly Stack<int>[] _pageCache = [new(), new(), new()];
    private readonly long[] _phantomFree = new long[Zones.Count];
    private int _preemptDepth;
    private int _irqDepth;

    public TreeKernel(Profile profile, Fault fault = Fault.None, bool linuxWatermarks = false)
    {
        Profile = profile;
        _fault = fault;
        _validGfp = (GfpFlags)0xFF | (profile.HasGfpBuffer ? GfpFlags.Buffer2_4 : 0);
        _frames = checked((int)profile.TotalPages);
        _shift = profile.PageShift;
        _pageMask = (ulong)profile.PageSize - 1;
        _maxOrder = profile.MaxOrder;
        _reserve = profile.EmergencyReservePages;
        _directBase = profile.PageOffset + (fault == Fault.DirectMapShifted ? (ulong)profile.PageSize : 0);
        _lowFrames = (int)(profile.LowMemoryEnd >> _shift);
        foreach (var zone in Zones.All)
        {
            var (start, end) = profile.ZoneSpan(zone);
            _zones[(int)zone] = new BlockTree((int)(start >> _shift), (int)(end >> _shift), _maxOrder, coalesce: fault != Fault.NoCoalescing);
        }
        _ram = new FrameStore(_frames, profile.PageSize);
        _kmap = new KmapWindow(profile.PkmapBase, profile.PkmapSlots, _shift, slotSearchOffByOne: fault == Fault.KmapSlotSearchOffByOne);
        if (linuxWatermarks) _linux = new LinuxWatermarks(profile, Zones.All.Select(z => Tree(z).FreePages).ToArray());
    }

    /// <summary>/proc/zoneinfo: the reserve this kernel keeps.</summary>
    public ZoneInfo ZoneInfo() => _linux?.Declare() ?? new ZoneInfo
    {
        Scope = WatermarkScope.Pooled,
        Zones = [new ZoneWatermark { Min = _reserve, AtomicMin = 0 }, new ZoneWatermark { Min = 0, AtomicMin = 0 }, new ZoneWatermark { Min = 0, AtomicMin = 0 }],
    };

    // ---- What a GFP mask means here (this kernel's own reading) ------------------------------

    private static bool MayBlock(GfpFlags gfp) => (gfp & GfpFlags.DirectReclaim) != 0;
    private static bool HasReserveAccess(GfpFlags gfp) => (gfp & GfpFlags.High) != 0;
    private static readonly Zone[] DmaZones = [Zone.Dma], LowZones = [Zone.Normal, Zone.Dma];
    private static IReadOnlyList<Zone> Zonelist(GfpFlags gfp) =>
        (gfp & GfpFlags.Dma) != 0 ? DmaZones : (gfp & GfpFlags.HighMem) != 0 ? EveryZone : LowZones;

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities => Declared;
    public void Dispose() { }

    // ---- Allocation ----------------------------------------------------------------------

    public ulong GetFreePages(GfpFlags gfp, int order)
    {
        int pfn = Allocate(gfp & ~GfpFlags.HighMem, order, "__get_free_pages", descriptor: false);
        if (pfn < 0) pfn = HighmemFallback(gfp, order);
        if (pfn < 0) return 0;
        return DirectAddress(pfn) + AddressBias;
    }

    public ulong GetZeroedPage(GfpFlags gfp)
    {
        var zero = _fault == Fault.ZeroedPageNotZeroed ? GfpFlags.None : GfpFlags.Zero;
        int pfn = Allocate((gfp & ~GfpFlags.HighMem) | zero, 0, "get_zeroed_page", descriptor: false);
        if (pfn < 0) pfn = HighmemFallback(gfp, 0);
        return pfn < 0 ? 0 : DirectAddress(pfn) + AddressBias;
    }

    public PageHandle AllocPages(GfpFlags gfp, int order)
    {
        int pfn = Allocate(gfp, order, "alloc_pages", descriptor: true);
        return pfn < 0 ? PageHandle.Null : Encode(pfn, HandleKey);
    }

    /// <summary>
    /// For <see cref="Fault.AddressCallsFallBackToHighmem"/>: when low memory has no block, an
    /// address-returning call takes one from HIGHMEM and hands out PAGE_OFFSET + its physical address.
    /// </summary>
    private int HighmemFallback(GfpFlags gfp, int order)
    {
        if (_fault != Fault.AddressCallsFallBackToHighmem || order < 0 || order > _maxOrder || (gfp & ~_validGfp) != 0
            || (gfp & GfpFlags.Dma) != 0 || (MayBlock(gfp) && InAtomic)) return -1;
        int pfn = Tree(Zone.HighMem).TakeHighest(order);
        if (pfn >= 0) _live[pfn] = (order, pfn);
        return pfn;
    }

    /// <summary>The whole allocation path: argument checks, might_sleep, placement, reclaim. Returns the first frame or -1.</summary>
    private int Allocate(GfpFlags gfp, int order, string caller, bool descriptor)
    {
        if (order < 0) throw new InvalidArgumentException("order", $"{caller}: order {order} is negative");
        // The GFP-7 fault ignores the bits no kernel defines (above GFP_BUFFER's), as the reference once did.
        if (_fault == Fault.UnknownGfpBitsAccepted) gfp &= (GfpFlags)0x1FF;
        if ((gfp & ~_validGfp) != 0)
            throw new InvalidArgumentException("gfp", $"{caller}: bits 0x{(uint)(gfp & ~_validGfp):x} of {Gfp.Describe(gfp)} are unknown on {Profile.Name}");
        if (order > _maxOrder) return -1;

        bool blocking = MayBlock(gfp);
        if (blocking && InAtomic && !SleepReportSkipped(gfp))
            throw new KernelBugException("GFP-1", $"{caller}({Gfp.Describe(gfp)}, {order}) may sleep but the CPU is atomic (preempt {_preemptDepth}, irq {_irqDepth})");
        if (_fault == Fault.MaxOrderRefused && order == _maxOrder) return -1;
        if (!blocking && _fault == Fault.AtomicSleeps && (gfp & GfpFlags.Dma) == 0) Sleeps++;

        var allowed = Zonelist(gfp);
        var placement = PlacementZones(gfp, allowed, descriptor);
        bool reserve = HasReserveAccess(gfp) && !(_fault == Fault.AtomicKeptOutOfReserve && order < _maxOrder);
        bool mayReclaim = blocking && !(_fault == Fault.NoReclaim && order < _maxOrder);

        int pfn = Take(allowed, placement, order, reserve);
        while (pfn < 0 && mayReclaim && ReclaimOnePage(allowed))
            pfn = Take(allowed, placement, order, reserve);
        if (pfn < 0 && _fault == Fault.SmallerBlockWhenFragmented && order > 0 && !allowed.Any(z => Tree(z).HasBlock(order)))
        {
            // "The best we have": the largest smaller block, recorded (and freed) at its real order.
            for (int smaller = order - 1; smaller >= 0 && pfn < 0; smaller--)
            {
                pfn = Take(allowed, placement, smaller, reserve);
                if (pfn >= 0) { _live[pfn] = (smaller, pfn); _ram.Scribble(pfn, 1 << smaller); return pfn; }
            }
        }
        if (pfn < 0)
        {
            if (_fault == Fault.ThrowsWhenOutOfMemory && (blocking || !InAtomic) && !allowed.Any(z => Tree(z).HasBlock(order)))
                throw new InvalidOperationException($"{caller}: out of memory for order {order}");
            return -1;
        }

        int? twin = _fault == Fault.OverlappingBlocks ? LiveTwin(pfn, order) : null;
        int head = _fault == Fault.MisalignedBlocks && order > 0 && pfn > 0 ? pfn - 1 : pfn;
        _live[head] = (order, pfn);
        if ((gfp & GfpFlags.Zero) != 0) _ram.Clear(pfn, 1 << order);
        else _ram.Scribble(pfn, 1 << order);
        return twin ?? head;
    }

    /// <summary>Whether a fault hides this sleeping call in atomic context from might_sleep.</summary>
    private bool SleepReportSkipped(GfpFlags gfp) => _fault switch
    {
        Fault.KernelAllowedInAtomic => (gfp & (GfpFlags.Dma | GfpFlags.Hardwall | GfpFlags.Buffer2_4)) == 0,
        Fault.DmaKernelAllowedInAtomic => (gfp & GfpFlags.Dma) != 0,
        _ => false,
    };

    /// <summary>The zones tried, highest first: the allowed ones, unless a fault widens them.</summary>
    private IReadOnlyList<Zone> PlacementZones(GfpFlags gfp, IReadOnlyList<Zone> allowed, bool descriptor)
    {
        const GfpFlags userish = GfpFlags.Hardwall | GfpFlags.Buffer2_4;
        bool lowOnly = (gfp & (GfpFlags.HighMem | GfpFlags.Dma)) == 0;
        return _fault switch
        {
            Fault.DmaFromNormal when (gfp & GfpFlags.Dma) != 0 => [Zone.Normal, Zone.Dma],
            Fault.KernelGetsHighmem when descriptor && lowOnly && (gfp & userish) == 0 => EveryZone,
            Fault.UserGetsHighmem when descriptor && lowOnly && (gfp & userish) != 0 => EveryZone,
            _ => allowed,
        };
    }

    /// <summary>
    /// One attempt. Pooled (the profile's default): without reserve access the allowed zones must keep
    /// the emergency reserve free together after the block is taken. Linux: each zone tried must keep
    /// its own floor (min, or the GFP_ATOMIC floor) plus its protection against the request's highest
    /// zone. Then the highest free aligned block of the first zone that may give one.
    /// </summary>
    private int Take(IReadOnlyList<Zone> allowed, IReadOnlyList<Zone> placement, int order, bool reserveAccess)
    {
        long block = 1L << order;
        if (_linux is null && !reserveAccess && allowed.Sum(z => Tree(z).FreePages) - block < _reserve) return -1;
        foreach (var zone in placement)
        {
            if (_linux is not null)
            {
                long floor = _fault == Fault.ProtectionIgnored
                    ? (reserveAccess ? _linux.AtomicMin[(int)zone] : _linux.Min[(int)zone])
                    : _linux.Floor(zone, reserveAccess, allowed[0]);
                if (Tree(zone).FreePages - block < floor) continue;
            }
            int pfn = Tree(zone).TakeHighest(order);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /// <summary>For <see cref="Fault.OverlappingBlocks"/>: the highest live block of the same order and zone, or null.</summary>
    private int? LiveTwin(int pfn, int order)
    {
        var zone = ZoneOf(pfn);
        var twins = _live.Where(b => b.Value.Order == order && ZoneOf(b.Value.Block) == zone).Select(b => b.Key).ToList();
        return twins.Count > 0 ? twins.Max() : null;
    }

    // ---- Frees ---------------------------------------------------------------------------

    public void FreePages(ulong addr, int order)
    {
        if (addr == 0) return;
        ulong start = addr - AddressBias;
        if (!IsDirect(start) || (start & _pageMask) != 0)
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, {order}): not a page address of the direct mapping");
        Release((int)((start - _directBase) >> _shift), order, $"free_pages(0x{addr:x}, {order})");
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        if (page.IsNull) return;
        if (!TryDecode(page, out int pfn))
            throw new KernelBugException("PAGE-4", $"__free_pages({page}, {order}): not a page descriptor");
        Release(pfn, order, $"__free_pages({page}, {order})");
    }

    private void Release(int pfn, int order, string call)
    {
        if (!_live.TryGetValue(pfn, out var live))
            throw new KernelBugException("PAGE-4", $"{call}: pfn 0x{pfn:x} does not start a live allocation");
        if (live.Order != order && _fault != Fault.WrongOrderFreeAccepted)
            throw new KernelBugException("PAGE-4", $"{call}: pfn 0x{pfn:x} was allocated with order {live.Order}");
        _live.Remove(pfn);
        _kmap.Forget(pfn);
        var zone = ZoneOf(live.Block);
        Tree(zone).Give(live.Block, live.Order);
        if (_fault == Fault.FreeCountOffByOne) _phantomFree[(int)zone]++;
    }

    // ---- Conversions ---------------------------------------------------------------------

    public ulong PageToPfn(PageHandle page) => (ulong)Decode(page);

    public PageHandle PfnToPage(ulong pfn)
    {
        if (pfn >= (ulong)_frames) throw new InvalidArgumentException("pfn", $"pfn 0x{pfn:x} is beyond RAM ({_frames} frames)");
        if (_fault == Fault.PfnToPageGivesHeadOfBlock)
            foreach (var (head, live) in _live)
                if ((ulong)live.Block < pfn && pfn < (ulong)live.Block + (1UL << live.Order)) return Encode(head, HandleKey);
        return Encode((int)pfn, _fault == Fault.PfnToPageOtherHandle ? OtherHandleKey : HandleKey);
    }

    public ulong PageAddress(PageHandle page)
    {
        int pfn = Decode(page);
        if (pfn < _lowFrames) return DirectAddress(pfn);
        ulong kmapped = _kmap.AddressOf(pfn);
        if (kmapped == 0 && _fault == Fault.HighmemHasDirectAddress)
            return Profile.PageOffset + ((ulong)((pfn - _lowFrames) % _lowFrames) << _shift);
        return kmapped;
    }

    public Zone PageZone(PageHandle page)
    {
        int pfn = Decode(page);
        var zone = ZoneOf(pfn);
        if (_fault == Fault.PageZoneWrongAtEdge && pfn == Tree(zone).EndPfn - 1) return (Zone)(((int)zone + 1) % Zones.Count);
        return zone;
    }

    public ulong VirtToPhys(ulong addr)
    {
        if (!IsDirect(addr)) throw new InvalidArgumentException("addr", $"virt_to_phys(0x{addr:x}): outside the direct mapping");
        ulong pa = addr - _directBase;
        return _fault == Fault.VirtToPhysDropsOffset ? pa & ~_pageMask : pa;
    }

    public long FreeBlocks(Zone zone, int order) =>
        Tree(zone).MaximalBlocks(order) + (order == 0 ? _phantomFree[(int)zone] : 0);

    /// <summary>Nothing to drain: this allocator keeps no per-CPU lists and no slabs.</summary>
    public void DrainCaches() { }

    private BlockTree Tree(Zone zone) => _zones[(int)zone];

    private Zone ZoneOf(int pfn)
    {
        foreach (var zone in Zones.All) if (Tree(zone).Contains(pfn)) return zone;
        throw new ArgumentOutOfRangeException(nameof(pfn), $"pfn 0x{pfn:x} is in no zone");
    }

    private static PageHandle Encode(int pfn, ulong key) => new((ulong)pfn ^ key);

    private bool TryDecode(PageHandle page, out int pfn)
    {
        ulong value = page.Value ^ HandleKey;
        if (value >= (ulong)_frames && _fault == Fault.PfnToPageOtherHandle) value = page.Value ^ OtherHandleKey;
        pfn = value < (ulong)_frames ? (int)value : -1;
        return pfn >= 0;
    }

    private int Decode(PageHandle page) =>
        TryDecode(page, out int pfn) ? pfn : throw new InvalidArgumentException("page", $"{page} is not a page descriptor");

    private ulong DirectAddress(int pfn) => _directBase + ((ulong)pfn << _shift);

    /// <summary>What __get_free_pages adds to a block's address (and free_pages takes off again): 8 under <see cref="Fault.UnalignedAddress"/>.</summary>
    private ulong AddressBias => _fault == Fault.UnalignedAddress ? 8UL : 0;

    private bool IsDirect(ulong addr) => addr >= _directBase && addr - _directBase < (ulong)_lowFrames << _shift;

    // ---- Kernel memory -------------------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination)
    {
        EnsureMapped(addr, destination.Length);
        for (int done = 0; done < destination.Length;)
        {
            Translate(addr + (ulong)done, out int pfn, out int offset);
            int length = Math.Min(destination.Length - done, _ram.PageSize - offset);
            _ram.Read(pfn, offset, destination.Slice(done, length));
            done += length;
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        EnsureMapped(addr, source.Length);
        for (int done = 0; done < source.Length;)
        {
            Translate(addr + (ulong)done, out int pfn, out int offset);
            int length = Math.Min(source.Length - done, _ram.PageSize - offset);
            _ram.Write(pfn, offset, source.Slice(done, length));
            done += length;
        }
    }

    /// <summary>Faults before touching anything when any page of the range has no mapping.</summary>
    private void EnsureMapped(ulong addr, int length)
    {
        for (ulong at = addr; at < addr + (ulong)length; at = (at & ~_pageMask) + _pageMask + 1)
            if (!Translate(at, out _, out _)) throw new KernelPageFaultException(at, "no kernel mapping");
    }

    private bool Translate(ulong addr, out int pfn, out int offset)
    {
        if (IsDirect(addr))
        {
            pfn = (int)((addr - _directBase) >> _shift);
            offset = (int)(addr & _pageMask);
            return true;
        }
        return _kmap.TryTranslate(addr, out pfn, out offset);
    }

    // ---- Execution context ---------------------------------------------------------------

    public void PreemptDisable() => _preemptDepth++;

    public void PreemptEnable()
    {
        if (_preemptDepth == 0) throw new KernelBugException("GFP-5", "preempt_enable() with preemption already enabled");
        _preemptDepth--;
    }

    public void IrqEnter() => _irqDepth++;

    public void IrqExit()
    {
        if (_irqDepth == 0) throw new KernelBugException("GFP-5", "irq_exit() outside an interrupt handler");
        _irqDepth--;
    }

    public bool InInterrupt => _irqDepth > 0;
    public bool InAtomic => _preemptDepth > 0 || (_irqDepth > 0 && _fault != Fault.InAtomicIgnoresIrq);
    public long Sleeps { get; private set; }

    // ---- Highmem -------------------------------------------------------------------------

    public ulong Kmap(PageHandle page)
    {
        int pfn = Decode(page);
        if (InAtomic) throw new KernelBugException("GFP-1", $"kmap({page}) may sleep but the CPU is atomic");
        if (pfn < _lowFrames) return DirectAddress(pfn);
        ulong addr = _kmap.Map(pfn);
        return addr != 0 ? addr : throw new KernelBugException("ZONE-4", $"kmap({page}): every PKMAP slot is in use");
    }

    public void Kunmap(PageHandle page)
    {
        int pfn = Decode(page);
        if (pfn < _lowFrames) return;
        if (!_kmap.Unmap(pfn)) throw new KernelBugException("ZONE-4", $"kunmap({page}): the page is not kmapped");
    }

    public ulong KmapAtomic(PageHandle page)
    {
        int pfn = Decode(page);
        ulong addr = pfn < _lowFrames ? _kmap.MapAtomicDirect(DirectAddress(pfn)) : _kmap.MapAtomic(pfn);
        return addr != 0 ? addr : throw new KernelBugException("ZONE-4", $"kmap_atomic({page}): too many nested atomic kmaps");
    }

    public void KunmapAtomic(ulong addr)
    {
        if (!_kmap.UnmapAtomic(addr)) throw new KernelBugException("ZONE-4", $"kunmap_atomic(0x{addr:x}): not an address kmap_atomic returned");
    }

    // ---- Reclaim -------------------------------------------------------------------------

    public int FillPageCache(int pages)
    {
        if (pages < 0) throw new InvalidArgumentException("pages", $"cannot add {pages} pages");
        int added = 0;
        for (; added < pages; added++)
        {
            int pfn = Take(EveryZone, EveryZone, 0, reserveAccess: false);
            if (pfn < 0) break;
            _pageCache[(int)ZoneOf(pfn)].Push(pfn);
        }
        return added;
    }

    public long ReclaimablePages(Zone zone) => _pageCache[(int)zone].Count;

    public void DropPageCache()
    {
        foreach (var zone in EveryZone)
            while (_pageCache[(int)zone].Count > 0) Tree(zone).Give(_pageCache[(int)zone].Pop(), 0);
    }

    /// <summary>Drops one clean page-cache page from the allowed zones; the task sleeps while it does. False when none is left.</summary>
    private bool ReclaimOnePage(IReadOnlyList<Zone> allowed)
    {
        foreach (var zone in allowed)
        {
            if (_pageCache[(int)zone].Count == 0) continue;
            Tree(zone).Give(_pageCache[(int)zone].Pop(), 0);
            Sleeps++;
            return true;
        }
        return false;
    }
}
