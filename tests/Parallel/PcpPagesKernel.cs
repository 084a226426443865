using System.Collections.Concurrent;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// A second SMP-safe page allocator with other legal choices than the reference: true per-CPU lists
/// of order-0 pages (one per calling thread, each with its own lock, as Linux's pcp lists with
/// pcp->lock), refilled in batches from and flushed in batches to a wrapped <see cref="ReferenceKernel"/>,
/// whose kmalloc and slab caches it offers unchanged. A page freed on one CPU goes to that CPU's list,
/// so a page may change CPUs. Declares PageAllocator, Kmalloc, SlabCache and Smp.
/// With <paramref name="sharedUnlocked"/> it is the broken variant: one list shared by every CPU and
/// changed without any lock (an unsynchronised free list), which hands one page to two CPUs.
/// </summary>
public sealed class PcpPagesKernel(Profile profile, bool sharedUnlocked = false) : IMemoryManager, IPageAllocator, IKernelMemory, IKmalloc, ISlab
{
    private const int Batch = 8;
    private const int High = 24;
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.Kmalloc, Capability.SlabCache, Capability.Smp,
    };
    private static readonly Zone[] Low = [Zone.Normal, Zone.Dma];

    private sealed class CpuList
    {
        public readonly Lock Lock = new();
        public readonly List<(ulong Addr, Zone Zone)> Pages = [];
    }

    private readonly ReferenceKernel _inner = new(profile);
    private readonly ConcurrentDictionary<int, CpuList> _lists = new();
    private readonly CpuList _shared = new();
    /// <summary>Order-0 pages handed out from a list and not yet freed (to tell a valid free from a double free).</summary>
    private readonly ConcurrentDictionary<ulong, byte> _handedOut = new();
    private readonly int _shift = profile.PageShift;

    public Profile Profile { get; } = profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public void Dispose() => _inner.Dispose();

    private CpuList Mine => sharedUnlocked ? _shared : _lists.GetOrAdd(Environment.CurrentManagedThreadId, _ => new CpuList());

    private T With<T>(CpuList list, Func<List<(ulong Addr, Zone Zone)>, T> f)
    {
        if (sharedUnlocked) return f(list.Pages);
        lock (list.Lock) return f(list.Pages);
    }

    private IEnumerable<CpuList> AllLists => sharedUnlocked ? [_shared] : _lists.Values;

    private static bool ViaList(GfpFlags gfp, int order) => order == 0 && gfp is Gfp.Kernel or Gfp.Atomic;

    private long CachedIn(Zone zone) => AllLists.Sum(l => With(l, pages => (long)pages.Count(p => p.Zone == zone)));

    private long FreeLow()
    {
        long free = 0;
        foreach (var z in Low)
            for (int o = 0; o <= Profile.MaxOrder; o++) free += FreeBlocks(z, o) << o;
        return free;
    }

    private ulong Take(GfpFlags gfp)
    {
        // GFP-3: without reserve access the last free pages stay free, cached ones included.
        if ((gfp & GfpFlags.High) == 0 && FreeLow() - 1 < Profile.EmergencyReservePages) return 0;
        var list = Mine;
        ulong addr = With(list, pages =>
        {
            if (pages.Count == 0)
                for (int i = 0; i < Batch; i++)
                {
                    ulong a = _inner.GetFreePages(gfp, 0);
                    if (a == 0) break;
                    pages.Add((a, _inner.PageZone(PageOf(a))));
                }
            if (pages.Count == 0) return 0UL;
            var (top, _) = pages[^1];
            pages.RemoveAt(pages.Count - 1);
            return top;
        });
        if (addr == 0)
        {
            // Other CPUs may cache the last pages: give everything back and ask once more.
            Drain();
            addr = _inner.GetFreePages(gfp, 0);
            if (addr == 0) return 0;
            _inner.FreePages(addr, 0);
            return Take(gfp);
        }
        _handedOut[addr] = 0;
        return addr;
    }

    private PageHandle PageOf(ulong addr) => _inner.PfnToPage(_inner.VirtToPhys(addr) >> _shift);

    private void Put(ulong addr)
    {
        var zone = _inner.PageZone(PageOf(addr));
        var list = Mine;
        var flush = With(list, pages =>
        {
            pages.Add((addr, zone));
            if (pages.Count <= High) return [];
            var oldest = pages.Take(Batch).Select(p => p.Addr).ToList();
            pages.RemoveRange(0, Batch);
            return oldest;
        });
        foreach (var a in flush) _inner.FreePages(a, 0);
    }

    private void Drain()
    {
        foreach (var list in AllLists)
            foreach (var a in With(list, pages => { var all = pages.Select(p => p.Addr).ToList(); pages.Clear(); return all; }))
                _inner.FreePages(a, 0);
    }

    private bool IsCached(ulong addr) => AllLists.Any(l => With(l, pages => pages.Any(p => p.Addr == addr)));

    // ---- IPageAllocator -------------------------------------------------------------------------

    public ulong GetFreePages(GfpFlags gfp, int order) => ViaList(gfp, order) ? Take(gfp) : _inner.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _inner.GetZeroedPage(gfp);

    public PageHandle AllocPages(GfpFlags gfp, int order)
    {
        if (!ViaList(gfp, order)) return _inner.AllocPages(gfp, order);
        ulong addr = Take(gfp);
        return addr == 0 ? PageHandle.Null : PageOf(addr);
    }

    public void FreePages(ulong addr, int order)
    {
        if (order == 0 && addr != 0 && _handedOut.TryRemove(addr, out _)) { Put(addr); return; }
        if (order == 0 && addr != 0 && IsCached(addr))
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, 0): double free (the page is on a per-CPU free list)");
        _inner.FreePages(addr, order);
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        if (order == 0 && !page.IsNull && _inner.PageZone(page) != Zone.HighMem && page.Value <= (ulong)Profile.TotalPages)
        {
            ulong addr = _inner.PageAddress(page);
            if (_handedOut.TryRemove(addr, out _)) { Put(addr); return; }
            if (IsCached(addr)) throw new KernelBugException("PAGE-4", $"__free_pages({page}, 0): double free (the page is on a per-CPU free list)");
        }
        _inner.FreePagesOf(page, order);
    }

    public ulong PageToPfn(PageHandle page) => _inner.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _inner.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => _inner.PageAddress(page);
    public Zone PageZone(PageHandle page) => _inner.PageZone(page);
    public ulong VirtToPhys(ulong addr) => _inner.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => _inner.FreeBlocks(zone, order) + (order == 0 ? CachedIn(zone) : 0);

    public void DrainCaches()
    {
        Drain();
        _inner.DrainCaches();
    }

    // ---- The rest is the wrapped kernel's --------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination) => _inner.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => _inner.Write(addr, source);
    public ulong Kmalloc(long size, GfpFlags gfp) => _inner.Kmalloc(size, gfp);
    public ulong Kzalloc(long size, GfpFlags gfp) => _inner.Kzalloc(size, gfp);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => _inner.Krealloc(p, size, gfp);
    public void Kfree(ulong p) => _inner.Kfree(p);
    public long Ksize(ulong p) => _inner.Ksize(p);
    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill) => _inner.KmemCacheCreate(name, size, align, flags, ctorFill);
    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp) => _inner.KmemCacheAlloc(cache, gfp);
    public void KmemCacheFree(SlabCacheHandle cache, ulong obj) => _inner.KmemCacheFree(cache, obj);
    public long KmemCacheShrink(SlabCacheHandle cache) => _inner.KmemCacheShrink(cache);
    public int KmemCacheDestroy(SlabCacheHandle cache) => _inner.KmemCacheDestroy(cache);
    public IReadOnlyList<SlabInfo> SlabInfo() => _inner.SlabInfo();
    public long ReapCaches() => _inner.ReapCaches();
}

public sealed class PcpPagesFactory(bool sharedUnlocked = false) : IImplementationFactory
{
    public string Name => sharedUnlocked ? "pcp-pages/UnsynchronisedFreeList" : "pcp-pages";
    public IMemoryManager? Create(Profile profile) => new PcpPagesKernel(profile, sharedUnlocked);
}
