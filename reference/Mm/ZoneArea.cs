using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// One zone (struct zone): its frame range, one buddy free list per order (free_area), the
/// per-CPU list of order-0 pages (per_cpu_pages) and its free-page count.
/// </summary>
internal sealed class ZoneArea
{
    public readonly Zone Id;
    public readonly int StartPfn;
    public readonly int EndPfn;
    /// <summary>Head of the free list of each order; -1 when empty.</summary>
    public readonly int[] FreeHead;
    /// <summary>Blocks on the free list of each order (nr_free).</summary>
    public readonly long[] NrFree;
    /// <summary>Per-CPU order-0 pages, used as a stack (pcp->lists).</summary>
    public readonly int[] PcpPages;
    public int PcpCount;
    /// <summary>Free pages in this zone, buddy lists and per-CPU list together.</summary>
    public long FreePages;
    /// <summary>
    /// zone->lock: held while the free lists, the per-CPU list and the counts change (Smp). The
    /// reference has one per-CPU list per zone, shared by every CPU, so the zone lock covers it too
    /// (Linux gives each CPU its own list under pcp->lock).
    /// </summary>
    public readonly Lock Lock = new();

    public ZoneArea(Zone id, int startPfn, int endPfn, int maxOrder, int pcpHigh)
    {
        Id = id;
        StartPfn = startPfn;
        EndPfn = endPfn;
        FreeHead = new int[maxOrder + 1];
        Array.Fill(FreeHead, -1);
        NrFree = new long[maxOrder + 1];
        PcpPages = new int[pcpHigh + 1];
    }

    public bool IsEmpty => StartPfn == EndPfn;
    public bool Contains(int pfn) => pfn >= StartPfn && pfn < EndPfn;
}
