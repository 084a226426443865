using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IPageAllocator: the buddy page allocator (mm/page_alloc.c): checks arguments and the calling context, then asks Mm/PageAlloc.</summary>
public sealed partial class ReferenceKernel : IPageAllocator
{
    public ulong GetFreePages(GfpFlags gfp, int order)
    {
        Alive();
        // ZONE-3: an address-returning call strips __GFP_HIGHMEM, as __get_free_pages does.
        int pfn = AllocPagesPfn(gfp & ~GfpFlags.HighMem, order, "__get_free_pages");
        return pfn < 0 ? 0 : _direct.PfnToVirt(pfn);
    }

    public ulong GetZeroedPage(GfpFlags gfp) => GetFreePages(gfp | GfpFlags.Zero, 0);

    public PageHandle AllocPages(GfpFlags gfp, int order)
    {
        Alive();
        int pfn = AllocPagesPfn(gfp, order, "alloc_pages");
        // Stryker disable once Conditional : Handle(-1) is PageHandle.Null (the handle is pfn + 1), so the test only spells out the failure
        return pfn < 0 ? PageHandle.Null : Handle(pfn);
    }

    /// <summary>__alloc_pages: checks, fast path, then the slow path (reclaim, drain) for what allows it.</summary>
    private int AllocPagesPfn(GfpFlags gfp, int order, string caller)
    {
        if (order < 0) throw new InvalidArgumentException("order", $"{caller}: negative order {order}");
        // GFP-7: a bit this kernel does not define is refused.
        _gfp.Check(gfp, caller);
        // PAGE-2: an order above the maximum fails before anything else (WARN and NULL in the kernel).
        if (order > _maxOrder) return -1;
        bool mayBlock = GfpMask.AllowsBlocking(gfp);
        // GFP-1: might_sleep_if(gfpflags_allow_blocking(gfp)).
        if (mayBlock && _sched.InAtomic) _sched.MightSleep($"{caller}({Gfp.Describe(gfp)}, order {order})");

        var zones = GfpMask.Zonelist(gfp);
        bool reserve = GfpMask.ReserveAccess(gfp);
        int pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        if (pfn < 0 && mayBlock)
        {
            // GFP-4: a sleeping request reclaims until it succeeds or nothing reclaimable is left.
            while (pfn < 0 && _vmscan.Reclaim(zones) > 0)
                pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        }
        if (pfn < 0)
        {
            // Last resort: per-CPU pages back to the buddy lists, where they may coalesce.
            _pages.DrainPcp();
            pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        }
        if (pfn >= 0 && (gfp & GfpFlags.Zero) != 0) _pages.Zero(pfn, order);
        return pfn;
    }

    public void FreePages(ulong addr, int order)
    {
        Alive();
        if (addr == 0) return;
        // PAGE-4: only the exact address and order of a live allocation may be freed.
        if (!_direct.Contains(addr) || (addr & (ulong)(_pageSize - 1)) != 0)
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, {order}): not the address of a page allocation");
        // Stryker disable once Bitwise : a ulong address, so >> and >>> are the same shift
        FreeChecked((int)(_direct.VirtToPhys(addr) >> _direct.PageShift), order, "free_pages");
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        Alive();
        if (page.IsNull) return;
        if (!TryPfn(page, out int pfn))
            throw new KernelBugException("PAGE-4", $"__free_pages({page}, {order}): not a page descriptor");
        FreeChecked(pfn, order, "__free_pages");
    }

    private void FreeChecked(int pfn, int order, string caller)
    {
        var state = _map.State[pfn];
        if (state != PageState.Allocated)
            throw new KernelBugException("PAGE-4", state switch
            {
                PageState.Buddy or PageState.PerCpu => $"{caller}: double free of pfn 0x{pfn:x}",
                PageState.Slab => $"{caller}: pfn 0x{pfn:x} belongs to the slab allocator (a slab or a kmalloc block)",
                _ => $"{caller}: pfn 0x{pfn:x} is not the first page of an allocation (state {state})",
            });
        if (_map.Order[pfn] != order)
            throw new KernelBugException("PAGE-4", $"{caller}: pfn 0x{pfn:x} freed with order {order}, allocated with order {_map.Order[pfn]}");
        if (!_direct.IsLowPfn(pfn) && _highmem.IsMapped(pfn))
            throw new KernelBugException("ZONE-4", $"{caller}: pfn 0x{pfn:x} is still kmapped");
        _pages.Free(pfn, order);
    }

    public ulong PageToPfn(PageHandle page)
    {
        Alive();
        return (ulong)PfnOf(page);
    }

    public PageHandle PfnToPage(ulong pfn)
    {
        Alive();
        return pfn < (ulong)_map.Frames ? Handle((int)pfn) : throw new InvalidArgumentException("pfn", $"pfn 0x{pfn:x} is beyond RAM");
    }

    public ulong PageAddress(PageHandle page)
    {
        Alive();
        int pfn = PfnOf(page);
        return _direct.IsLowPfn(pfn) ? _direct.PfnToVirt(pfn) : _highmem.AddressOf(pfn);
    }

    public Zone PageZone(PageHandle page)
    {
        Alive();
        return _pages.ZoneOf(PfnOf(page)).Id;
    }

    public ulong VirtToPhys(ulong addr)
    {
        Alive();
        return _direct.Contains(addr) ? _direct.VirtToPhys(addr)
            // VMAL-5: a vmalloc (or ioremap) address has no single physical address (CONFIG_DEBUG_VIRTUAL's __phys_addr check).
            : _layout.IsVmallocAddr(addr) ? throw new KernelBugException("VMAL-5", $"virt_to_phys(0x{addr:x}): a vmalloc address has no single physical address; use vmalloc_to_pfn per page")
            : throw new InvalidArgumentException("addr", $"virt_to_phys(0x{addr:x}): not a direct-mapped address");
    }

    public long FreeBlocks(Zone zone, int order)
    {
        Alive();
        CheckZone(zone, "buddyinfo");
        // A /proc/buddyinfo column exists for orders 0..MaxOrder only.
        if ((uint)order > (uint)_maxOrder) throw new InvalidArgumentException("order", $"buddyinfo: order {order} is outside 0..{_maxOrder}");
        return _pages.FreeBlocks(zone, order);
    }

    /// <summary>The reserve this kernel keeps: the profile's default (one pooled floor, none for GFP_ATOMIC), read from the allocator itself.</summary>
    public ZoneInfo ZoneInfo()
    {
        Alive();
        return _pages.ZoneInfo();
    }

    public void DrainCaches()
    {
        Alive();
        // Empty slabs first (their order-0 pages land on the per-CPU lists), then the per-CPU lists.
        _slab?.ShrinkAll();
        _vmalloc?.RunDeferred(); // vfree work deferred from interrupt context (linux-6)
        _pages.DrainPcp();
    }

    private static PageHandle Handle(int pfn) => new((ulong)pfn + 1);

    private bool TryPfn(PageHandle page, out int pfn)
    {
        pfn = (int)Math.Min(page.Value - 1, int.MaxValue);
        return !page.IsNull && page.Value <= (ulong)_map.Frames;
    }

    private int PfnOf(PageHandle page) =>
        TryPfn(page, out int pfn) ? pfn : throw new InvalidArgumentException("page", $"{page} is not a page descriptor");
}
