using KernelMm.Spec.Contract;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Reclaimable memory (mm/vmscan.c, much reduced): a clean page cache whose pages a sleeping
/// allocation may drop (GFP-4), and, once that is gone, anonymous user pages it may swap out
/// (<see cref="SwapOut"/>). Clean pages need no write-back, so reclaim just frees them.
/// </summary>
internal sealed class Vmscan(PageAlloc pages, MemMap map, Sched sched)
{
    /// <summary>SWAP_CLUSTER_MAX: pages reclaimed per round.</summary>
    private const int ReclaimBatch = 32;
    private static readonly Zone[] AnyZone = [Zone.HighMem, Zone.Normal, Zone.Dma];
    private readonly Stack<int>[] _cache = [new(), new(), new()];
    /// <summary>Smp: the page-cache lists are shared by every CPU (taken before any zone lock).</summary>
    private readonly Lock _lock = new();

    public long Reclaimable(Zone zone) => _cache[(int)zone].Count;

    /// <summary>
    /// Swaps anonymous user pages out of the given zones when the page cache has nothing left there
    /// (shrink_anon_list; GFP-4, SWAP-1): returns the frames it freed. Null on a machine without user space.
    /// </summary>
    public Func<IReadOnlyList<Zone>, int, int>? SwapOut { get; set; }

    public int Fill(int count)
    {
        lock (_lock) return FillLocked(count);
    }

    private int FillLocked(int count)
    {
        int added = 0;
        for (; added < count; added++)
        {
            // Page-cache pages are GFP_HIGHUSER placements without reserve access, and never sleep here.
            int pfn = pages.GetPageFromFreelist(AnyZone, 0, mayUseReserve: false);
            if (pfn < 0) break;
            map.State[pfn] = PageState.PageCache;
            _cache[(int)pages.ZoneOf(pfn).Id].Push(pfn);
        }
        return added;
    }

    /// <summary>
    /// shrink_zones for one allocation: drops up to a batch of clean pages from the allowed zones,
    /// sleeping once (the task blocks while reclaim runs). Returns how many were freed.
    /// </summary>
    public int Reclaim(IReadOnlyList<Zone> zones)
    {
        lock (_lock) return ReclaimLocked(zones);
    }

    private int ReclaimLocked(IReadOnlyList<Zone> zones)
    {
        int freed = 0;
        foreach (var zone in zones)
        {
            var cache = _cache[(int)zone];
            while (freed < ReclaimBatch && cache.Count > 0)
            {
                int pfn = cache.Pop();
                pages.FreeToBuddy(pages.Zones[(int)zone], pfn, 0);
                freed++;
            }
        }
        if (freed == 0 && SwapOut is not null) freed = SwapOut(zones, ReclaimBatch);
        if (freed > 0) sched.Sleep();
        return freed;
    }

    public void DropAll()
    {
        lock (_lock)
        {
            foreach (var zone in AnyZone)
            {
                var cache = _cache[(int)zone];
                while (cache.Count > 0) pages.FreeToBuddy(pages.Zones[(int)zone], cache.Pop(), 0);
            }
        }
    }
}
