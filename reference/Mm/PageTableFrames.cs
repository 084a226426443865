using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Table pages from the page allocator, as pte_alloc_one_kernel / pte_alloc_one take them
/// (__get_free_page(GFP_KERNEL | __GFP_ZERO), or GFP_PGTABLE_USER for a process): real RAM frames
/// that show in buddyinfo, whose entries live in the frame's bytes, marked
/// <see cref="PageState.PageTable"/> in mem_map so that free_pages refuses them, and counted in
/// <see cref="InUse"/> (/proc/meminfo PageTables). Share one instance between the kernel's tables
/// and every process's so that the count covers them all.
/// </summary>
/// <param name="allocZeroedPage">Takes one zeroed low-memory frame (the kernel's __alloc_pages path with its context checks), or returns -1.</param>
internal sealed class PageAllocatorTableFrames(MemMap map, PageAlloc pages, PhysicalMemory memory, Func<int> allocZeroedPage) : IPageTableFrames
{
    /// <summary>Page-allocator frames holding page tables now.</summary>
    public long InUse { get; private set; }

    public int AllocTable(int level)
    {
        int pfn = allocZeroedPage();
        if (pfn < 0) return -1;
        map.State[pfn] = PageState.PageTable;
        InUse++;
        return pfn;
    }

    public void FreeTable(int pfn)
    {
        map.State[pfn] = PageState.Allocated;
        pages.Free(pfn, 0);
        InUse--;
    }

    public byte[] Bytes(int pfn) => memory.FrameBytes(pfn);
}

/// <summary>
/// The frames of the kernel image that hold the boot page tables (swapper_pg_dir, the direct
/// mapping's tables, the PKMAP and fixmap page tables). Linux reserves these before the page
/// allocator starts, so they never show in buddyinfo. This model gives the page allocator all of
/// the profile's RAM, so it keeps the image outside RAM: in the last frames of the physical address
/// space (where a PC's boot ROM sits), which no RAM frame, and no device window the suite maps,
/// reaches. ioremap refuses them as it refuses RAM.
/// </summary>
internal sealed class KernelImageFrames : IPageTableFrames
{
    private readonly byte[][] _bytes;
    private readonly Stack<int> _free;

    public KernelImageFrames(PageTableFormat format, int pageSize, int count)
    {
        FirstPfn = checked((int)(format.MaxPfn - (ulong)count + 1));
        Count = count;
        _bytes = new byte[count][];
        _free = new Stack<int>(Enumerable.Range(FirstPfn, count).Reverse());
        _pageSize = pageSize;
    }

    private readonly int _pageSize;

    /// <summary>The first image frame.</summary>
    public int FirstPfn { get; }
    public int Count { get; }

    public bool Contains(ulong pfn) => pfn >= (ulong)FirstPfn && pfn < (ulong)FirstPfn + (ulong)Count;

    public int AllocTable(int level)
    {
        if (_free.Count == 0) throw new InvalidOperationException("the kernel image has no room left for boot page tables");
        int pfn = _free.Pop();
        var bytes = _bytes[pfn - FirstPfn];
        if (bytes is null) _bytes[pfn - FirstPfn] = new byte[_pageSize];
        else Array.Clear(bytes);
        return pfn;
    }

    public void FreeTable(int pfn) => _free.Push(pfn);

    public byte[] Bytes(int pfn) => _bytes[pfn - FirstPfn];
}

/// <summary>
/// Where the kernel's own tables come from: the image while booting, the page allocator afterwards
/// (vmalloc and ioremap build their tables at run time). Each frame goes back where it came from.
/// </summary>
internal sealed class KernelTableFrames(KernelImageFrames image, PageAllocatorTableFrames runtime) : IPageTableFrames
{
    /// <summary>True until boot is done: new tables come from the image.</summary>
    public bool Booting { get; set; } = true;

    public int AllocTable(int level) => Booting ? image.AllocTable(level) : runtime.AllocTable(level);

    public void FreeTable(int pfn)
    {
        if (image.Contains((ulong)pfn)) image.FreeTable(pfn);
        else runtime.FreeTable(pfn);
    }

    public byte[] Bytes(int pfn) => pfn >= image.FirstPfn ? image.Bytes(pfn) : runtime.Bytes(pfn);
}
