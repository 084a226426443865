namespace KernelMm.Reference.Mm;

/// <summary>What a range of the vmalloc window holds.</summary>
internal enum VmAreaKind { Vmalloc, Ioremap }

/// <summary>One busy range of the vmalloc window (struct vm_struct): its mapped pages and, after them, one guard page.</summary>
internal sealed class VmArea
{
    public required VmAreaKind Kind { get; init; }
    /// <summary>First mapped address (page aligned).</summary>
    public required ulong Start { get; init; }
    /// <summary>Mapped pages (the guard page not included).</summary>
    public required int Pages { get; init; }
    /// <summary>The size asked for, in bytes.</summary>
    public required long Size { get; init; }
    /// <summary>vmalloc: the frame behind each page (area->pages).</summary>
    public int[] Frames { get; init; } = [];
    /// <summary>ioremap: the bus address of the first page.</summary>
    public ulong PhysBase { get; init; }
    /// <summary>vfree from interrupt context was accepted; the area waits for the deferred work (linux-6).</summary>
    public bool Deferred { get; set; }
}

/// <summary>
/// The vmalloc window's allocator of virtual ranges (mm/vmalloc.c's vmap_area tree, much reduced):
/// first fit from VMALLOC_START, and one unmapped guard page after every area, as get_vm_area adds
/// one unless asked not to, so that running off the end of an area faults. Shared by vmalloc and
/// ioremap (DRV-5: ioremap takes its addresses from the same window).
/// </summary>
internal sealed class VmapAreas(ulong start, ulong end, int pageShift)
{
    /// <summary>Busy areas, ordered by start.</summary>
    private readonly List<VmArea> _busy = new();

    public IReadOnlyList<VmArea> Busy => _busy;

    /// <summary>
    /// Finds room for <paramref name="pages"/> mapped pages plus a guard page and books it; null
    /// when the window has no gap that large. <paramref name="make"/> builds the area at the start found.
    /// </summary>
    public VmArea? Reserve(int pages, Func<ulong, VmArea> make)
    {
        ulong need = (ulong)(pages + 1) << pageShift;
        ulong at = start;
        int index = 0;
        for (; index < _busy.Count; index++)
        {
            var a = _busy[index];
            if (a.Start >= at && a.Start - at >= need) break;
            at = a.Start + ((ulong)(a.Pages + 1) << pageShift);
        }
        if (at > end || end - at < need) return null;
        var area = make(at);
        _busy.Insert(index, area);
        return area;
    }

    public void Release(VmArea area) => _busy.Remove(area);

    /// <summary>The area that starts exactly at <paramref name="addr"/>, or null.</summary>
    public VmArea? StartingAt(ulong addr)
    {
        int lo = 0, hi = _busy.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var a = _busy[mid];
            if (a.Start == addr) return a;
            if (a.Start < addr) lo = mid + 1; else hi = mid - 1;
        }
        return null;
    }

    /// <summary>The area whose mapped pages or guard page hold <paramref name="addr"/>, or null.</summary>
    public VmArea? Containing(ulong addr)
    {
        foreach (var a in _busy)
            if (addr >= a.Start && addr - a.Start < (ulong)(a.Pages + 1) << pageShift) return a;
        return null;
    }
}
