using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The kmalloc family (mm/slab_common.c, include/linux/slab.h): one general cache per size class
/// and per DMA-ness, made on first use so that booting stays cheap; requests above the largest
/// class (linux-6: above 8 KiB) go straight to the page allocator (kmalloc_large). kmalloc memory
/// is always direct-mapped low memory: __GFP_HIGHMEM is ignored.
/// </summary>
internal sealed class Kmalloc
{
    private readonly SlabCommon _slab;
    private readonly Sched _sched;
    private readonly Profile _profile;
    private readonly int[] _classes;
    private readonly KmemCache?[] _normal;
    private readonly KmemCache?[] _dma;
    /// <summary>Class index by (size + 7) / 8 for sizes up to <see cref="_smallMax"/> (kmalloc_size_index).</summary>
    private readonly byte[] _smallIndex;
    private readonly long _smallMax;
    private readonly GfpMask _gfp;
    private readonly long _cacheMax;
    private readonly long _maxSize;
    /// <summary>What kmalloc(0) and krealloc(p, 0) return: NULL or ZERO_SIZE_PTR (KMAL-1, KMAL-5).</summary>
    private readonly ulong _zeroResult;
    private readonly bool _acceptsCacheObjects;
    private readonly ulong _dmaPfnEnd;
    /// <summary>Live large kmalloc blocks by head pfn.</summary>
    /// <summary>Smp: concurrent, as several CPUs kmalloc and kfree large blocks at once.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, LargeBlock> _large = new();
    /// <summary>Smp: two CPUs asking for a class's cache first at once must get the same cache.</summary>
    private readonly Lock _generalLock = new();

    private readonly record struct LargeBlock(int Order, long Requested);

    public Kmalloc(SlabCommon slab, Sched sched, GfpMask gfp)
    {
        _gfp = gfp;
        _slab = slab;
        _sched = sched;
        _profile = slab.Profile;
        _classes = [.. _profile.KmallocClasses];
        _normal = new KmemCache?[_classes.Length];
        _dma = new KmemCache?[_classes.Length];
        _cacheMax = _profile.KmallocCacheMax;
        _maxSize = _profile.KmallocMaxSize;
        _zeroResult = _profile.KmallocZeroReturnsZeroSizePtr ? Profile.ZeroSizePtr : 0;
        _acceptsCacheObjects = _profile.KfreeAcceptsCacheObjects;
        _dmaPfnEnd = _profile.DmaLimit >> _profile.PageShift;

        // The direct table covers the classes up to 8 KiB that are multiples of 8 (all profiles' are).
        int small = 0;
        // Stryker disable once Equality,Arithmetic,Boolean : the direct table is a fast path of ClassIndex: a shorter (or empty) table sends those sizes to the binary search, which picks the same class
        while (small < _classes.Length && _classes[small] <= 8192 && _classes[small] % 8 == 0) small++;
        _smallMax = small == 0 ? 0 : _classes[small - 1];
        _smallIndex = new byte[_smallMax / 8 + 1];
        for (int i = 1, c = 0; i < _smallIndex.Length; i++)
        {
            while (_classes[c] < i * 8) c++;
            _smallIndex[i] = (byte)c;
        }
    }

    // ---- kmalloc / kzalloc -----------------------------------------------------------------

    /// <summary>kmalloc(size, gfp); with __GFP_ZERO (kzalloc) the requested bytes read as zero (KMAL-4).</summary>
    public ulong Alloc(long size, GfpFlags gfp)
    {
        // GFP-7: a bit this kernel does not define is refused.
        _gfp.Check(gfp, "kmalloc");
        int cls;
        // Stryker disable once Bitwise : size is positive here, so >> and >>> are the same shift
        if ((ulong)(size - 1) < (ulong)_smallMax) cls = _smallIndex[(int)((size + 7) >> 3)];
        else
        {
            if (size < 0) throw new InvalidArgumentException("size", $"kmalloc: negative size {size}");
            if (size == 0) return _zeroResult;
            // KMAL-3: over the limit is NULL before anything else, as __alloc_pages' order check.
            if (size > _maxSize) return 0;
            if (size > _cacheMax) return AllocLarge(size, gfp);
            cls = ClassIndex(size);
        }
        // GFP-1: slab_pre_alloc_hook's might_sleep_if(gfpflags_allow_blocking(flags)).
        if ((gfp & GfpFlags.DirectReclaim) != 0 && _sched.InAtomic) MightSleep(size, gfp);
        // Stryker disable once NullCoalescing : General returns the class's existing cache itself (??= under the lock), so the lock-free read only saves time
        var cache = ((gfp & GfpFlags.Dma) == 0 ? _normal : _dma)[cls] ?? General(cls, (gfp & GfpFlags.Dma) != 0);
        if (cache is null) return 0;
        ulong p = cache.Alloc(gfp, (int)size);
        if (p != 0 && (gfp & GfpFlags.Zero) != 0) _slab.Fill(p, size, 0);
        return p;
    }

    /// <summary>kmalloc_large: whole pages of order get_order(size), ksize PAGE_SIZE &lt;&lt; order (KMAL-2).</summary>
    private ulong AllocLarge(long size, GfpFlags gfp)
    {
        int order = KmemCache.GetOrder(size, _slab.PageSize);
        // __alloc_pages does the GFP-1 check itself.
        int pfn = _slab.AllocLargePages(gfp, order);
        if (pfn < 0) return 0;
        _large[pfn] = new LargeBlock(order, size);
        return _slab.Direct.PfnToVirt(pfn);
    }

    /// <summary>The index of the smallest class not below <paramref name="size"/> (size within the classes).</summary>
    private int ClassIndex(long size)
    {
        int lo = 0, hi = _classes.Length - 1;
        while (lo < hi)
        {
            // Stryker disable once Bitwise : lo + hi is a small non-negative int, so >> and >>> are the same shift
            int mid = (lo + hi) >> 1;
            if (_classes[mid] < size) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>The general cache of a class, made on first use (create_kmalloc_caches, lazily).</summary>
    private KmemCache? General(int cls, bool dma)
    {
        var caches = dma ? _dma : _normal;
        lock (_generalLock) return caches[cls] ??= _slab.CreateGeneral(CacheName(_classes[cls], dma), _classes[cls], dma);
    }

    /// <summary>Makes every general cache, so that the statistics list them all (SLAB-12, KMAL-8).</summary>
    public void CreateAllGeneral()
    {
        for (int i = 0; i < _classes.Length; i++)
        {
            General(i, dma: false);
            General(i, dma: true);
        }
    }

    /// <summary>
    /// KMAL-8: the profile's name for the class ("size-64", "kmalloc-96", "kmalloc-1k"); DMA twins
    /// are "size-N(DMA)" (mm/slab.c) on the document profiles and "dma-kmalloc-N" (kmalloc_info) on linux-6.
    /// </summary>
    private string CacheName(int size, bool dma)
    {
        string name = _profile.KmallocCacheName(size);
        return !dma ? name : _profile.KmallocCachePrefix == "size-" ? $"{name}(DMA)" : $"dma-{name}";
    }

    /// <summary>What kmalloc's choices are here (KMAL-1, KMAL-2, KMAL-5): the profile's classes and kmalloc(0); krealloc keeps the pointer only within the same cache.</summary>
    public KmallocInfo Info() => new()
    {
        Classes = _classes.Select(c => (long)c).ToList(),
        ZeroSize = _zeroResult == Profile.ZeroSizePtr ? KmallocZero.ZeroSizePtr : KmallocZero.Null,
        KreallocInPlace = false,
    };

    // ---- kfree / ksize ---------------------------------------------------------------------

    /// <summary>kfree(p) (KMAL-6): NULL and ZERO_SIZE_PTR do nothing; anything but a live kmalloc block is a reported bug.</summary>
    public void Free(ulong p)
    {
        if (p == 0 || p == Profile.ZeroSizePtr) return;
        var slab = _slab.SlabOf(p);
        if (slab is not null)
        {
            int index = CheckSlabObject(slab, p, "kfree");
            slab.Cache.Free(slab, index);
            return;
        }
        int pfn = LargeHead(p, "kfree");
        _slab.FreeLargePages(pfn, _large[pfn].Order);
        _large.TryRemove(pfn, out _);
    }

    /// <summary>ksize(p): the usable size of a live kmalloc block; 0 for NULL and ZERO_SIZE_PTR.</summary>
    public long Ksize(ulong p)
    {
        if (p == 0 || p == Profile.ZeroSizePtr) return 0;
        try
        {
            var slab = _slab.SlabOf(p);
            if (slab is not null)
            {
                CheckSlabObject(slab, p, "ksize");
                return slab.Cache.ObjectSize;
            }
            return (long)_slab.PageSize << _large[LargeHead(p, "ksize")].Order;
        }
        catch (KernelBugException bug)
        {
            throw new InvalidArgumentException("p", bug.Bug);
        }
    }

    /// <summary>The index of the live kmalloc object at p in its slab. Errors: KMAL-6 for anything else.</summary>
    private int CheckSlabObject(Slab slab, ulong p, string caller)
    {
        var cache = slab.Cache;
        int index = cache.IndexOf(slab, p);
        if (index < 0)
            throw new KernelBugException("KMAL-6", $"{caller}(0x{p:x}): not the start of an object (inside a slab of {cache.Name})");
        if (slab.Allocated[index] == 0)
            throw new KernelBugException("KMAL-6", $"{caller}(0x{p:x}): object of {cache.Name} is not allocated (double free?)");
        // KMAL-6 decision: only linux-6 lets kfree take a private cache's object.
        if (!cache.IsKmalloc && !_acceptsCacheObjects)
            throw new KernelBugException("KMAL-6", $"{caller}(0x{p:x}): object of cache {cache.Name}, which kmalloc did not "
                + "allocate (kmem_cache_free it)");
        return index;
    }

    /// <summary>The head pfn of the live large block that starts at p. Errors: KMAL-6.</summary>
    private int LargeHead(ulong p, string caller)
    {
        ulong off = p - _slab.Direct.PageOffset;
        // Stryker disable once Equality : off == LowEnd is no live block either way: the check below refuses it with the same rule (KMAL-6)
        if (off >= _slab.Direct.LowEnd)
            throw new KernelBugException("KMAL-6", $"{caller}(0x{p:x}): not a direct-mapped address, so not kmalloc memory "
                + "(a vmalloc, kmap or user address?)");
        // Stryker disable once Bitwise : off is a ulong, so >> and >>> are the same shift
        int pfn = (int)(off >> _slab.PageShift);
        if ((off & (ulong)(_slab.PageSize - 1)) != 0 || !_large.ContainsKey(pfn))
            throw new KernelBugException("KMAL-6", $"{caller}(0x{p:x}): not the start of a live kmalloc block "
                + "(page-allocator memory, an interior pointer, or already freed)");
        return pfn;
    }

    // ---- krealloc --------------------------------------------------------------------------

    /// <summary>
    /// krealloc (KMAL-5): NULL or ZERO_SIZE_PTR acts as kmalloc; size 0 frees and returns what
    /// kmalloc(0) returns; a request that stays in the same general cache (or the same large order)
    /// keeps the pointer; otherwise the first min(old requested, new) bytes move to a new block and
    /// the old one is freed. A failure returns 0 and leaves the old block live and intact.
    /// </summary>
    public ulong Realloc(ulong p, long size, GfpFlags gfp)
    {
        _gfp.Check(gfp, "krealloc");
        if (size < 0) throw new InvalidArgumentException("size", $"krealloc: negative size {size}");
        if (p == 0 || p == Profile.ZeroSizePtr) return Alloc(size, gfp);

        // The old block is checked completely first, so a refused call changes nothing.
        var slab = _slab.SlabOf(p);
        // Stryker disable once Unary : both are set on every path before they are read
        int index = -1, pfn = -1;
        long old;
        if (slab is not null)
        {
            index = CheckSlabObject(slab, p, "krealloc");
            slab.Cache.VerifyRedZones(slab, index);
            old = slab.Cache.RequestedSize(slab, index);
        }
        else
        {
            pfn = LargeHead(p, "krealloc");
            old = _large[pfn].Requested;
        }

        if (size == 0)
        {
            Free(p);
            return _zeroResult;
        }
        if (size > _maxSize) return 0;
        if ((gfp & GfpFlags.DirectReclaim) != 0 && _sched.InAtomic) MightSleep(size, gfp);

        bool dma = (gfp & GfpFlags.Dma) != 0;
        bool same = slab is not null
            ? slab.Cache.IsKmalloc && size <= _cacheMax && slab.Cache.Dma == dma && slab.Cache.ObjectSize == _classes[ClassIndex(size)]
            : size > _cacheMax && KmemCache.GetOrder(size, _slab.PageSize) == _large[pfn].Order && (!dma || (ulong)pfn < _dmaPfnEnd);
        if (same)
        {
            if ((gfp & GfpFlags.Zero) != 0 && size > old) _slab.Fill(p + (ulong)old, size - old, 0);
            if (slab is not null) slab.Cache.SetRequestedSize(slab, index, (int)size);
            else _large[pfn] = _large[pfn] with { Requested = size };
            return p;
        }

        ulong q = Alloc(size, gfp);
        if (q == 0) return 0;
        _slab.Copy(q, p, Math.Min(old, size));
        Free(p);
        return q;
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private void MightSleep(long size, GfpFlags gfp) => _sched.MightSleep($"kmalloc({size}, {Gfp.Describe(gfp)})");

}
