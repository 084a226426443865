using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace ThirdPartySample;

/// <summary>
/// A small, plain buddy page allocator written against the contract only, as a third party would:
/// free lists per zone and order, splitting on allocation, coalescing with the buddy on free, an
/// emergency reserve for requests without __GFP_HIGH, and memory contents kept per touched page.
/// It declares <see cref="Capability.PageAllocator"/> alone: no execution context, no kmap, no
/// page cache, so the rules that need those are reported n/a (skipped), never passed.
/// </summary>
public sealed class BuddyAllocator : IMemoryManager, IPageAllocator, IKernelMemory
{
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability> { Capability.PageAllocator };

    private readonly int _maxOrder;
    private readonly int _pageShift;
    private readonly int _pageSize;
    private readonly ulong _frames;
    /// <summary>Start frames of the free blocks, per zone and order; the lowest is handed out first.</summary>
    private readonly SortedSet<ulong>[,] _free;
    /// <summary>Live allocations: start frame to order.</summary>
    private readonly Dictionary<ulong, int> _live = new();
    /// <summary>Contents of pages that were written; any other page reads as zeros.</summary>
    private readonly Dictionary<ulong, byte[]> _contents = new();

    public BuddyAllocator(Profile profile)
    {
        Profile = profile;
        _maxOrder = profile.MaxOrder;
        _pageShift = profile.PageShift;
        _pageSize = profile.PageSize;
        _frames = profile.TotalPages;
        _free = new SortedSet<ulong>[Zones.Count, _maxOrder + 1];
        for (int z = 0; z < Zones.Count; z++)
            for (int o = 0; o <= _maxOrder; o++)
                _free[z, o] = new SortedSet<ulong>();

        // Boot: carve each zone into the largest aligned blocks that fit inside it.
        foreach (var zone in Zones.All)
        {
            var (start, end) = profile.ZoneSpan(zone);
            ulong pfn = start >> _pageShift, last = end >> _pageShift;
            while (pfn < last)
            {
                int order = _maxOrder;
                while (order > 0 && (pfn % (1UL << order) != 0 || pfn + (1UL << order) > last)) order--;
                _free[(int)zone, order].Add(pfn);
                pfn += 1UL << order;
            }
        }
    }

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities => Declared;
    public void Dispose() { }

    // ---- Allocation ---------------------------------------------------------------------------

    public ulong GetFreePages(GfpFlags gfp, int order)
    {
        // Address-returning calls give low memory only: __GFP_HIGHMEM is ignored.
        ulong? pfn = Allocate(gfp & ~GfpFlags.HighMem, order);
        return pfn is { } p ? Profile.PageOffset + (p << _pageShift) : 0;
    }

    public ulong GetZeroedPage(GfpFlags gfp) => GetFreePages(gfp | GfpFlags.Zero, 0);

    public PageHandle AllocPages(GfpFlags gfp, int order) =>
        Allocate(gfp, order) is { } pfn ? Handle(pfn) : PageHandle.Null;

    private ulong? Allocate(GfpFlags gfp, int order)
    {
        if (order < 0) throw new InvalidArgumentException("order", $"negative order {order}");
        // Bits 0-7 exist everywhere, GFP_BUFFER (bit 8) only where the profile has it; refuse anything else.
        var known = (GfpFlags)0xFF | (Profile.HasGfpBuffer ? GfpFlags.Buffer2_4 : 0);
        if ((gfp & ~known) != 0) throw new InvalidArgumentException("gfp", $"{Gfp.Describe(gfp)} does not exist on {Profile.Name}");
        if (order > _maxOrder) return null;

        // The zones to try, highest first: DMA alone, all three with __GFP_HIGHMEM, else NORMAL then DMA.
        Zone[] zones = (gfp & GfpFlags.Dma) != 0 ? [Zone.Dma]
            : (gfp & GfpFlags.HighMem) != 0 ? [Zone.HighMem, Zone.Normal, Zone.Dma]
            : [Zone.Normal, Zone.Dma];
        // Without __GFP_HIGH a request must leave the emergency reserve free in the zones it may use
        // (the profile's default reserve, which this allocator does not redeclare).
        if ((gfp & GfpFlags.High) == 0 && zones.Sum(FreePagesIn) - (1L << order) < Profile.EmergencyReservePages)
            return null;
        foreach (var zone in zones)
            for (int o = order; o <= _maxOrder; o++)
            {
                var list = _free[(int)zone, o];
                if (list.Count == 0) continue;
                ulong pfn = list.Min;
                list.Remove(pfn);
                // Split: give the upper halves back until the block has the order asked for.
                while (o > order)
                {
                    o--;
                    _free[(int)zone, o].Add(pfn + (1UL << o));
                }
                _live[pfn] = order;
                if ((gfp & GfpFlags.Zero) != 0) Clear(pfn, order);
                return pfn;
            }
        return null;
    }

    private long FreePagesIn(Zone zone)
    {
        long pages = 0;
        for (int o = 0; o <= _maxOrder; o++) pages += (long)_free[(int)zone, o].Count << o;
        return pages;
    }

    // ---- Free ---------------------------------------------------------------------------------

    public void FreePages(ulong addr, int order)
    {
        if (addr == 0) return;
        if (!IsDirectMapped(addr) || addr % (ulong)_pageSize != 0)
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, {order}): not an address the page allocator returned");
        Free((addr - Profile.PageOffset) >> _pageShift, order, $"free_pages(0x{addr:x}, {order})");
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        if (page.IsNull) return;
        Free(page.Value - 1, order, $"__free_pages({page}, {order})");
    }

    private void Free(ulong pfn, int order, string call)
    {
        // PAGE-4: exactly the start and order of a live allocation, or a reported caller bug.
        if (!_live.TryGetValue(pfn, out int liveOrder))
            throw new KernelBugException("PAGE-4", $"{call}: pfn 0x{pfn:x} is not the start of a live allocation (double free or foreign pointer)");
        if (liveOrder != order)
            throw new KernelBugException("PAGE-4", $"{call}: the block at pfn 0x{pfn:x} was allocated with order {liveOrder}");
        _live.Remove(pfn);

        var zone = (int)ZoneOfPfn(pfn);
        while (order < _maxOrder)
        {
            ulong buddy = pfn ^ (1UL << order);
            if (!_free[zone, order].Remove(buddy)) break;
            pfn = Math.Min(pfn, buddy);
            order++;
        }
        _free[zone, order].Add(pfn);
    }

    // ---- Conversions --------------------------------------------------------------------------

    private static PageHandle Handle(ulong pfn) => new(pfn + 1);

    public ulong PageToPfn(PageHandle page) =>
        !page.IsNull && page.Value - 1 < _frames ? page.Value - 1 : throw new InvalidArgumentException("page", $"{page} is not a page of this machine");

    public PageHandle PfnToPage(ulong pfn) =>
        pfn < _frames ? Handle(pfn) : throw new InvalidArgumentException("pfn", $"pfn 0x{pfn:x} is beyond RAM ({_frames} frames)");

    public ulong PageAddress(PageHandle page)
    {
        ulong pfn = PageToPfn(page);
        // HIGHMEM pages have no permanent kernel address (and this allocator offers no kmap).
        return ZoneOfPfn(pfn) == Zone.HighMem ? 0 : Profile.PageOffset + (pfn << _pageShift);
    }

    public Zone PageZone(PageHandle page) => ZoneOfPfn(PageToPfn(page));

    private Zone ZoneOfPfn(ulong pfn)
    {
        ulong pa = pfn << _pageShift;
        return pa < Profile.DmaLimit ? Zone.Dma : Profile.HighmemStart is { } h && pa >= h ? Zone.HighMem : Zone.Normal;
    }

    public ulong VirtToPhys(ulong addr) =>
        IsDirectMapped(addr) ? addr - Profile.PageOffset : throw new InvalidArgumentException("addr", $"0x{addr:x} is not in the direct mapping");

    public long FreeBlocks(Zone zone, int order) => order >= 0 && order <= _maxOrder ? _free[(int)zone, order].Count : 0;

    /// <summary>Nothing is cached: every free page is in the buddy lists already.</summary>
    public void DrainCaches() { }

    private bool IsDirectMapped(ulong addr) => addr >= Profile.PageOffset && addr - Profile.PageOffset < Profile.LowMemoryEnd;

    // ---- Memory contents ----------------------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination)
    {
        CheckMapped(addr, destination.Length);
        ulong pa = addr - Profile.PageOffset;
        while (destination.Length > 0)
        {
            ulong pfn = pa >> _pageShift;
            int offset = (int)(pa & (ulong)(_pageSize - 1));
            int n = Math.Min(destination.Length, _pageSize - offset);
            if (_contents.TryGetValue(pfn, out var page)) page.AsSpan(offset, n).CopyTo(destination);
            else destination[..n].Clear();
            destination = destination[n..];
            pa += (ulong)n;
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        CheckMapped(addr, source.Length);
        ulong pa = addr - Profile.PageOffset;
        while (source.Length > 0)
        {
            ulong pfn = pa >> _pageShift;
            int offset = (int)(pa & (ulong)(_pageSize - 1));
            int n = Math.Min(source.Length, _pageSize - offset);
            if (!_contents.TryGetValue(pfn, out var page)) _contents[pfn] = page = new byte[_pageSize];
            source[..n].CopyTo(page.AsSpan(offset));
            source = source[n..];
            pa += (ulong)n;
        }
    }

    private void CheckMapped(ulong addr, int length)
    {
        if (!IsDirectMapped(addr) || (length > 0 && !IsDirectMapped(addr + (ulong)length - 1)))
            throw new KernelPageFaultException(addr, "not in the kernel's direct mapping");
    }

    private void Clear(ulong pfn, int order)
    {
        ulong pages = 1UL << order;
        if ((ulong)_contents.Count < pages)
        {
            foreach (var key in _contents.Keys.Where(k => k - pfn < pages).ToList()) _contents.Remove(key);
        }
        else
        {
            for (ulong p = pfn; p < pfn + pages; p++) _contents.Remove(p);
        }
    }
}

/// <summary>Boots a <see cref="BuddyAllocator"/> for any profile.</summary>
public sealed class SampleFactory : IImplementationFactory
{
    public string Name => "sample-buddy";
    public IMemoryManager? Create(Profile profile) => new BuddyAllocator(profile);
}
