using KernelMm.Spec.Contract;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// vmalloc and vfree (mm/vmalloc.c): a range of the vmalloc window (<see cref="VmapAreas"/>, with a
/// guard page after it), one order-0 frame per page from the page allocator with GFP_KERNEL |
/// __GFP_HIGHMEM (so frames need not be contiguous, and may be HIGHMEM: VMAL-4), each mapped into the
/// kernel's page tables; vfree unmaps the range, flushes the TLB at once (no stale translation:
/// ADDR-8), gives back the page-table pages it emptied and frees the frames.
/// </summary>
internal sealed class Vmalloc
{
    private readonly KernelLayout _layout;
    private readonly VmapAreas _areas;
    private readonly Func<KernelPageTables> _kpt;
    private readonly Func<int> _allocPage;
    private readonly Action<int> _freePage;
    private readonly MemMap _map;
    private readonly PhysicalMemory _memory;
    private readonly Sched _sched;
    private readonly bool _defersInInterrupt;
    private readonly long _totalPages;
    private readonly int _pageShift;
    private readonly List<VmArea> _deferred = new();

    /// <param name="allocPage">__alloc_pages(GFP_KERNEL | __GFP_HIGHMEM, 0): a frame, or -1.</param>
    /// <param name="freePage">__free_page of a frame allocPage gave.</param>
    public Vmalloc(KernelLayout layout, VmapAreas areas, Func<KernelPageTables> kpt, Func<int> allocPage, Action<int> freePage,
        MemMap map, PhysicalMemory memory, Sched sched, bool defersInInterrupt, long totalPages)
    {
        _layout = layout;
        _areas = areas;
        _kpt = kpt;
        _allocPage = allocPage;
        _freePage = freePage;
        _map = map;
        _memory = memory;
        _sched = sched;
        _defersInInterrupt = defersInInterrupt;
        _totalPages = totalPages;
        _pageShift = layout.PageShift;
    }

    /// <summary>vmalloc(size) or, with <paramref name="zero"/>, vzalloc(size). Returns the area's address or 0.</summary>
    public ulong Alloc(long size, bool zero, string caller)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"{caller}: negative size {size}");
        // VMAL-3: vmalloc may sleep (page allocation and page tables with GFP_KERNEL), so it is refused in atomic context, on every call.
        if (_sched.InAtomic)
            throw new KernelBugException("VMAL-3", $"{caller}({size}): sleeping function called from invalid context "
                + $"(in_interrupt: {(_sched.InInterrupt ? 1 : 0)}, in_atomic: 1)");
        RunDeferred();
        // VMAL-1: vmalloc(0) returns NULL, as __vmalloc_node_range does; so does a size above all of RAM.
        if (size == 0 || (ulong)size > (ulong)_totalPages << _pageShift) return 0;
        long pages = (size + (1L << _pageShift) - 1) >> _pageShift;

        var frames = new int[pages];
        var area = _areas.Reserve((int)pages, start => new VmArea { Kind = VmAreaKind.Vmalloc, Start = start, Pages = (int)pages, Size = size, Frames = frames });
        if (area is null) return 0; // VMAL-2: the window is full
        // VMAL-4: one order-0 frame per page, wherever the allocator finds it.
        for (int i = 0; i < pages; i++)
        {
            int pfn = _allocPage();
            if (pfn < 0) { Undo(area, i, mapping: false); return 0; }
            frames[i] = pfn;
            if (zero) _memory.Clear(pfn, 1);
        }
        var mmu = _kpt().Mmu;
        for (int i = 0; i < pages; i++)
        {
            if (!mmu.MapKernelFresh(area.Start + ((ulong)i << _pageShift), (ulong)frames[i], PteFlags.Kernel))
            {
                Undo(area, (int)pages, mapping: true);
                return 0;
            }
        }
        foreach (int pfn in frames) _map.State[pfn] = PageState.Vmalloc;
        return area.Start;
    }

    /// <summary>A failed vmalloc gives back what it took: the mapped pages, their tables, the frames and the range.</summary>
    private void Undo(VmArea area, int allocated, bool mapping)
    {
        if (mapping)
            _kpt().Mmu.UnmapKernelRange(area.Start, area.Start + ((ulong)area.Pages << _pageShift), freeTables: true);
        for (int i = 0; i < allocated; i++) _freePage(area.Frames[i]);
        _areas.Release(area);
    }

    /// <summary>vfree(addr).</summary>
    public void Free(ulong addr)
    {
        if (addr == 0) return;
        if (_sched.InInterrupt && !_defersInInterrupt || _sched.InAtomic && !_sched.InInterrupt)
            // VMAL-3 decision: vfree may sleep; in interrupt context only linux-6 accepts it (deferred).
            throw new KernelBugException("VMAL-3", $"vfree(0x{addr:x}) in {(_sched.InInterrupt ? "interrupt" : "atomic")} context");
        var area = _areas.StartingAt(addr);
        // VMAL-6: only the start of a live vmalloc area may be freed.
        if (area is null || area.Kind != VmAreaKind.Vmalloc || area.Deferred)
            throw new KernelBugException("VMAL-6", Describe(addr, area));
        if (_sched.InInterrupt)
        {
            // linux-6: vfree in interrupt context hands the area to a work item (vfree_atomic); it stays mapped until that runs.
            area.Deferred = true;
            _deferred.Add(area);
            return;
        }
        RunDeferred();
        Release(area);
    }

    private string Describe(ulong addr, VmArea? exact)
    {
        if (exact is { Deferred: true }) return $"vfree(0x{addr:x}): the area is already being freed (double vfree)";
        if (exact is { Kind: VmAreaKind.Ioremap }) return $"vfree(0x{addr:x}): an ioremap area (iounmap it)";
        if (_areas.Containing(addr) is { } inside) return $"vfree(0x{addr:x}): not the start of the area at 0x{inside.Start:x}";
        if (_layout.IsVmallocAddr(addr)) return $"vfree(0x{addr:x}): trying to vfree() nonexistent vm area (double vfree?)";
        return $"vfree(0x{addr:x}): not a vmalloc address (kmalloc or page-allocator memory?)";
    }

    private void Release(VmArea area)
    {
        _kpt().Mmu.UnmapKernelRange(area.Start, area.Start + ((ulong)area.Pages << _pageShift), freeTables: true);
        foreach (int pfn in area.Frames)
        {
            _map.State[pfn] = PageState.Allocated;
            _freePage(pfn);
        }
        _areas.Release(area);
    }

    /// <summary>The deferred vfree work (linux-6): runs at the next vmalloc or vfree in process context, and at drain.</summary>
    public void RunDeferred()
    {
        if (_deferred.Count == 0 || _sched.InAtomic) return;
        foreach (var area in _deferred) Release(area);
        _deferred.Clear();
    }

    /// <summary>vmalloc_to_pfn(addr). Errors: InvalidArgumentException for an address no vmalloc or ioremap area maps.</summary>
    public ulong ToPfn(ulong addr)
    {
        if (_layout.IsVmallocAddr(addr))
        {
            var walk = _kpt().Table.Walk(addr);
            if (walk.Present) return walk.Pfn;
        }
        throw new InvalidArgumentException("addr", $"vmalloc_to_pfn(0x{addr:x}): not a mapped vmalloc address");
    }
}
