using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The buddy allocator (mm/page_alloc.c): per-zone free lists by order, splitting on allocation
/// (expand), coalescing on free (__free_one_page), and a per-CPU list of order-0 pages in front.
/// Works on frame numbers; address conversion and argument checks live in the callers.
/// </summary>
internal sealed class PageAlloc
{
    /// <summary>Per-CPU list: refill/flush this many pages at a time (pcp->batch).</summary>
    private const int PcpBatch = 16;
    /// <summary>Per-CPU list: flush when it grows past this (pcp->high).</summary>
    private const int PcpHigh = 64;

    private readonly MemMap _map;
    private readonly PhysicalMemory _memory;
    public readonly ZoneArea[] Zones = new ZoneArea[Spec.Contract.Zones.Count];
    public readonly int MaxOrder;
    public readonly long Reserve;

    public PageAlloc(Profile profile, MemMap map, PhysicalMemory memory)
    {
        _map = map;
        _memory = memory;
        MaxOrder = profile.MaxOrder;
        Reserve = profile.EmergencyReservePages;
        foreach (var zone in Spec.Contract.Zones.All)
        {
            var (start, end) = profile.ZoneSpan(zone);
            // Stryker disable once Bitwise : ulong addresses, so >> and >>> are the same shift
            var area = new ZoneArea(zone, (int)(start >> profile.PageShift), (int)(end >> profile.PageShift), MaxOrder, PcpHigh);
            Zones[(int)zone] = area;
            // memblock_free_all: hand every frame to the buddy lists in max-order blocks.
            for (int pfn = area.StartPfn; pfn < area.EndPfn; pfn += 1 << MaxOrder)
                FreeToBuddy(area, pfn, MaxOrder);
        }
    }

    public ZoneArea ZoneOf(int pfn)
    {
        foreach (var z in Zones) if (z.Contains(pfn)) return z;
        throw new ArgumentOutOfRangeException(nameof(pfn));
    }

    /// <summary>
    /// get_page_from_freelist: the first allowed zone (highest first) that holds a block.
    /// A request without reserve access must leave <see cref="Reserve"/> free pages in its zones (GFP-3).
    /// Returns the head pfn, or -1.
    /// </summary>
    public int GetPageFromFreelist(IReadOnlyList<Zone> zones, int order, bool mayUseReserve)
    {
        if (!mayUseReserve)
        {
            long free = 0;
            for (int i = 0; i < zones.Count; i++) free += Zones[(int)zones[i]].FreePages;
            // GFP-3: only __GFP_HIGH requests may dip below the min watermark.
            if (free - (1L << order) < Reserve) return -1;
        }
        for (int i = 0; i < zones.Count; i++)
        {
            var zone = Zones[(int)zones[i]];
            // Stryker disable once Bitwise,Statement : a fast path: RmQueue finds no block of that order in a zone with fewer free pages and returns -1, so the loop goes on to the next zone either way
            if (zone.FreePages < 1L << order) continue;
            int pfn = RmQueue(zone, order);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /// <summary>rmqueue: order 0 from the per-CPU list (refilled in batches), larger orders from the buddy lists.</summary>
    private int RmQueue(ZoneArea zone, int order)
    {
        lock (zone.Lock) return RmQueueLocked(zone, order);
    }

    private int RmQueueLocked(ZoneArea zone, int order)
    {
        int pfn;
        if (order == 0)
        {
            if (zone.PcpCount == 0)
            {
                for (int i = 0; i < PcpBatch; i++)
                {
                    int page = RmQueueSmallest(zone, 0);
                    if (page < 0) break;
                    _map.State[page] = PageState.PerCpu;
                    zone.PcpPages[zone.PcpCount++] = page;
                }
                if (zone.PcpCount == 0) return -1;
            }
            pfn = zone.PcpPages[--zone.PcpCount];
        }
        else
        {
            pfn = RmQueueSmallest(zone, order);
            if (pfn < 0) return -1;
        }
        _map.State[pfn] = PageState.Allocated;
        _map.Order[pfn] = (byte)order;
        zone.FreePages -= 1L << order;
        return pfn;
    }

    /// <summary>__rmqueue_smallest: the smallest free block of at least this order, split down by expand().</summary>
    private int RmQueueSmallest(ZoneArea zone, int order)
    {
        for (int current = order; current <= MaxOrder; current++)
        {
            int pfn = zone.FreeHead[current];
            if (pfn < 0) continue;
            DelFromFreeList(zone, pfn, current);
            _map.State[pfn] = PageState.Tail;
            // expand: give the upper halves back, largest first.
            for (int high = current; high > order;)
            {
                high--;
                int buddy = pfn + (1 << high);
                AddToFreeList(zone, buddy, high);
            }
            return pfn;
        }
        return -1;
    }

    /// <summary>Frees an allocated block: order 0 goes to the per-CPU list, larger blocks straight to the buddy lists.</summary>
    public void Free(int pfn, int order)
    {
        var zone = ZoneOf(pfn);
        lock (zone.Lock) FreeLocked(zone, pfn, order);
    }

    private void FreeLocked(ZoneArea zone, int pfn, int order)
    {
        zone.FreePages += 1L << order;
        if (order == 0)
        {
            _map.State[pfn] = PageState.PerCpu;
            zone.PcpPages[zone.PcpCount++] = pfn;
            if (zone.PcpCount > PcpHigh) FlushPcp(zone, PcpBatch);
            return;
        }
        _map.State[pfn] = PageState.Tail;
        MergeIntoBuddy(zone, pfn, order);
    }

    /// <summary>Returns a page that is not on any free list (e.g. a reclaimed page-cache page) directly to the buddy lists.</summary>
    public void FreeToBuddy(ZoneArea zone, int pfn, int order)
    {
        lock (zone.Lock)
        {
            zone.FreePages += 1L << order;
            _map.State[pfn] = PageState.Tail;
            MergeIntoBuddy(zone, pfn, order);
        }
    }

    /// <summary>drain_pages: every per-CPU page back to the buddy lists, where it can coalesce.</summary>
    public void DrainPcp()
    {
        foreach (var zone in Zones)
            lock (zone.Lock) FlushPcp(zone, zone.PcpCount);
    }

    private void FlushPcp(ZoneArea zone, int count)
    {
        // Oldest first (bottom of the stack), so the hot pages stay cached.
        count = Math.Min(count, zone.PcpCount);
        for (int i = 0; i < count; i++)
        {
            int pfn = zone.PcpPages[i];
            _map.State[pfn] = PageState.Tail;
            MergeIntoBuddy(zone, pfn, 0);
        }
        Array.Copy(zone.PcpPages, count, zone.PcpPages, 0, zone.PcpCount - count);
        zone.PcpCount -= count;
    }

    /// <summary>
    /// __free_one_page: merge with the buddy while it is free at the same order, then list the result.
    /// page_is_buddy: the buddy is in the same zone, is on a buddy free list, and has the same order.
    /// </summary>
    private void MergeIntoBuddy(ZoneArea zone, int pfn, int order)
    {
        while (order < MaxOrder)
        {
            int buddy = pfn ^ (1 << order);
            if (!zone.Contains(buddy) || _map.State[buddy] != PageState.Buddy || _map.Order[buddy] != order)
                break;
            DelFromFreeList(zone, buddy, order);
            _map.State[buddy] = PageState.Tail;
            pfn &= buddy;
            order++;
        }
        AddToFreeList(zone, pfn, order);
    }

    private void AddToFreeList(ZoneArea zone, int pfn, int order)
    {
        _map.State[pfn] = PageState.Buddy;
        _map.Order[pfn] = (byte)order;
        int head = zone.FreeHead[order];
        _map.Next[pfn] = head;
        _map.Prev[pfn] = -1;
        if (head >= 0) _map.Prev[head] = pfn;
        zone.FreeHead[order] = pfn;
        zone.NrFree[order]++;
    }

    private void DelFromFreeList(ZoneArea zone, int pfn, int order)
    {
        int next = _map.Next[pfn], prev = _map.Prev[pfn];
        if (prev >= 0) _map.Next[prev] = next; else zone.FreeHead[order] = next;
        if (next >= 0) _map.Prev[next] = prev;
        zone.NrFree[order]--;
    }

    /// <summary>
    /// /proc/zoneinfo as far as the reserve goes: one floor of <see cref="Reserve"/> pages for the
    /// zones of a request together (every zonelist ends in ZONE_DMA, so it sits there), none for
    /// GFP_ATOMIC: the profile's default.
    /// </summary>
    public ZoneInfo ZoneInfo() => new()
    {
        Scope = WatermarkScope.Pooled,
        Zones =
        [
            new ZoneWatermark { Min = Reserve, AtomicMin = 0 },
            new ZoneWatermark { Min = 0, AtomicMin = 0 },
            new ZoneWatermark { Min = 0, AtomicMin = 0 },
        ],
    };

    /// <summary>Free blocks of one order in one zone, per-CPU pages counted as order 0 (buddyinfo).</summary>
    public long FreeBlocks(Zone zone, int order)
    {
        var area = Zones[(int)zone];
        // Stryker disable once Logical : defensive: every caller passes 0..MaxOrder (ReferenceKernel.FreeBlocks refuses any other order first, HasBlock loops within it)
        if (order < 0 || order > MaxOrder) return 0;
        return area.NrFree[order] + (order == 0 ? area.PcpCount : 0);
    }

    /// <summary>Whether an allowed zone shows a free block of at least this order.</summary>
    public bool HasBlock(IReadOnlyList<Zone> zones, int order)
    {
        foreach (var z in zones)
            for (int o = order; o <= MaxOrder; o++)
                if (FreeBlocks(z, o) > 0) return true;
        return false;
    }

    public void Zero(int pfn, int order) => _memory.Clear(pfn, 1 << order);
}
