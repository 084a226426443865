using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The allocator-independent half of the slab layer (mm/slab_common.c): the list of caches
/// (slab_caches), kmem_cache_create's sanity checks and calculate_alignment, destroy, shrink,
/// reap and /proc/slabinfo; plus the frame-to-slab lookup (virt_to_slab) that kfree and
/// kmem_cache_free use, and the page-allocator calls that make and release slabs.
/// </summary>
internal sealed class SlabCommon
{
    /// <summary>-EBUSY, what kmem_cache_destroy reports while objects are live (SLAB-6).</summary>
    public const int Ebusy = -16;

    public readonly Profile Profile;
    public readonly PhysicalMemory Memory;
    public readonly DirectMap Direct;
    public readonly int PageSize;
    public readonly int PageShift;
    private readonly MemMap _map;
    private readonly PageAlloc _pages;
    /// <summary>The kernel's __alloc_pages (zones, reserve, reclaim, drain): (gfp, order, caller) → head pfn or -1.</summary>
    private readonly Func<GfpFlags, int, string, int> _allocPages;
    private readonly int[] _slabOfFrame;
    private readonly ulong _pageOffset;
    private readonly ulong _lowEnd;

    /// <summary>Live slabs by id; a freed id is reused.</summary>
    private Slab?[] _slabs = new Slab?[16];
    private int _slabIdEnd;
    private readonly Stack<int> _freeIds = new();

    /// <summary>Every cache, general kmalloc caches included, in creation order (slab_caches).</summary>
    private readonly List<KmemCache> _caches = [];
    /// <summary>Caches made by kmem_cache_create, by handle value - 1; null once destroyed (handles are never reused).</summary>
    private readonly List<KmemCache?> _handles = [];
    /// <summary>slab_mutex (Smp): the cache list and the handles. Taken before any cache's lock.</summary>
    private readonly Lock _slabMutex = new();
    /// <summary>Smp: the slab table (ids, frame lookup). Taken after a cache's lock, before a zone lock.</summary>
    private readonly Lock _tableLock = new();

    public SlabCommon(Profile profile, MemMap map, PhysicalMemory memory, PageAlloc pages, DirectMap direct,
        Func<GfpFlags, int, string, int> allocPages)
    {
        Profile = profile;
        _map = map;
        Memory = memory;
        _pages = pages;
        Direct = direct;
        _allocPages = allocPages;
        PageSize = profile.PageSize;
        PageShift = profile.PageShift;
        _slabOfFrame = map.SlabId;
        _pageOffset = direct.PageOffset;
        _lowEnd = direct.LowEnd;
    }

    // ---- kmem_cache_create / destroy ------------------------------------------------------

    /// <summary>The flags this profile knows: SLAB_NO_REAP only on linux-2.4 (SLAB-13).</summary>
    public SlabFlags KnownFlags =>
        SlabFlags.HwcacheAlign | SlabFlags.CacheDma | SlabFlags.Poison | SlabFlags.RedZone | SlabFlags.Panic
        | (Profile.HasSlabNoReap ? SlabFlags.NoReap : SlabFlags.None);

    /// <summary>
    /// kmem_cache_create after the caller's context and argument checks: NULL (or a panic with
    /// SLAB_PANIC, SLAB-10) for a zero or too large size (SLAB-1), an unknown flag (SLAB-13), or an
    /// object that, laid out, does not fit in a max-order block. Duplicate names are allowed.
    /// </summary>
    public SlabCacheHandle Create(string? name, long size, long align, SlabFlags flags, byte? ctorFill)
    {
        string? why =
            name is null ? "no name"
            : size == 0 ? "object size 0"
            : size > Profile.SlabObjectMax ? $"object size {size} is above the limit of {Profile.SlabObjectMax} bytes"
            : (flags & ~KnownFlags) != 0 ? $"flags 0x{(uint)(flags & ~KnownFlags):x} unknown on {Profile.Name}"
            : null;
        KmemCache? cache = null;
        if (why is null)
        {
            cache = KmemCache.Create(this, name!, (int)size, CalculateAlignment(flags, align, size), flags, ctorFill, isKmalloc: false);
            if (cache is null)
                why = $"object size {size}, laid out, does not fit in a slab of order {Profile.MaxOrder}";
        }
        if (cache is null)
        {
            if ((flags & SlabFlags.Panic) != 0)
                throw new KernelPanicException($"kmem_cache_create: Failed to create slab '{name}': {why}");
            return SlabCacheHandle.Null;
        }
        lock (_slabMutex)
        {
            _caches.Add(cache);
            _handles.Add(cache);
            return new SlabCacheHandle((ulong)_handles.Count);
        }
    }

    /// <summary>Registers a general kmalloc cache (create_kmalloc_cache); null when its class cannot be a slab.</summary>
    public KmemCache? CreateGeneral(string name, int size, bool dma)
    {
        var flags = dma ? SlabFlags.CacheDma : SlabFlags.None;
        var cache = KmemCache.Create(this, name, size, CalculateAlignment(flags, 0, size), flags, null, isKmalloc: true);
        if (cache is not null) lock (_slabMutex) _caches.Add(cache);
        return cache;
    }

    /// <summary>
    /// calculate_alignment (SLAB-7): with SLAB_HWCACHE_ALIGN start at the cache line and halve
    /// while the object fits in half of it; then at least the requested align and one word.
    /// </summary>
    public long CalculateAlignment(SlabFlags flags, long align, long size)
    {
        if ((flags & SlabFlags.HwcacheAlign) != 0)
        {
            long ralign = Profile.CacheLine;
            while (size <= ralign / 2) ralign /= 2;
            align = Math.Max(align, ralign);
        }
        return Math.Max(align, Profile.WordSize);
    }

    /// <summary>The live cache behind a handle. Errors: <see cref="InvalidArgumentException"/> for NULL, unknown or destroyed.</summary>
    public KmemCache CacheOf(SlabCacheHandle handle, string caller)
    {
        ulong i = handle.Value - 1;
        lock (_slabMutex)
            if (i < (ulong)_handles.Count && _handles[(int)i] is { } cache) return cache;
        throw new InvalidArgumentException("cache", $"{caller}: {handle} is not a live cache");
    }

    /// <summary>
    /// kmem_cache_destroy (SLAB-6): with no live object every slab goes back and the cache is
    /// unlisted (0). Otherwise -EBUSY: document profiles change nothing; linux-6 leaks the cache,
    /// which stays listed and usable but is never released (later destroys report -EBUSY too).
    /// </summary>
    public int Destroy(SlabCacheHandle handle)
    {
        if (handle.IsNull) return 0;
        var cache = CacheOf(handle, "kmem_cache_destroy");
        lock (_slabMutex) return DestroyLocked(handle, cache);
    }

    private int DestroyLocked(SlabCacheHandle handle, KmemCache cache)
    {
        if (cache.Active > 0 || cache.Leaked)
        {
            if (Profile.DestroyBusyLeaksCache) cache.Leaked = true;
            return Ebusy;
        }
        cache.Shrink();
        _caches.Remove(cache);
        _handles[(int)(handle.Value - 1)] = null;
        return 0;
    }

    /// <summary>kmem_cache_shrink of every cache (part of DrainCaches: PAGE-8, ADDR-11). Returns pages released.</summary>
    public long ShrinkAll()
    {
        long pages = 0;
        lock (_slabMutex)
            foreach (var cache in _caches) pages += cache.Shrink();
        return pages;
    }

    /// <summary>kmem_cache_reap (SLAB-13): wholly free slabs of every cache not marked SLAB_NO_REAP.</summary>
    public long Reap()
    {
        long pages = 0;
        lock (_slabMutex)
            foreach (var cache in _caches)
                if ((cache.Flags & SlabFlags.NoReap) == 0) pages += cache.Shrink();
        return pages;
    }

    /// <summary>/proc/slabinfo (SLAB-12).</summary>
    public IReadOnlyList<SlabInfo> Info()
    {
        lock (_slabMutex)
        {
            var lines = new SlabInfo[_caches.Count];
            for (int i = 0; i < lines.Length; i++) lines[i] = _caches[i].Info();
            return lines;
        }
    }

    // ---- Slabs and their pages -------------------------------------------------------------

    /// <summary>
    /// allocate_slab: a block for a new slab, with the caller's sleeping and reserve rights but the
    /// cache's zone (ZONE_DMA for SLAB_CACHE_DMA, otherwise low memory; never HIGHMEM). Null on failure.
    /// </summary>
    public Slab? NewSlab(KmemCache cache, GfpFlags gfp)
    {
        var flags = (gfp & ~(GfpFlags.HighMem | GfpFlags.Zero | GfpFlags.Dma))
                    | ((cache.Flags & SlabFlags.CacheDma) != 0 ? GfpFlags.Dma : GfpFlags.None);
        int pfn = _allocPages(flags, cache.Order, "new_slab");
        if (pfn < 0) return null;
        _map.State[pfn] = PageState.Slab;
        lock (_tableLock)
        {
            int id = _freeIds.Count > 0 ? _freeIds.Pop() : _slabIdEnd;
            var slab = new Slab(cache, id, pfn, cache.Pages, Direct.PfnToVirt(pfn));
            if (id >= _slabs.Length) Array.Resize(ref _slabs, _slabs.Length * 2);
            _slabs[id] = slab;
            for (int i = 0; i < cache.Pages; i++) _slabOfFrame[pfn + i] = id;
            // Published last, so a lookup that sees the id also sees the slab.
            if (id == _slabIdEnd) _slabIdEnd++;
            return slab;
        }
    }

    /// <summary>discard_slab: the slab's block back to the page allocator.</summary>
    public void DiscardSlab(Slab slab)
    {
        lock (_tableLock)
        {
            _slabs[slab.Id] = null;
            _freeIds.Push(slab.Id);
        }
        slab.Discarded = true;
        _map.State[slab.StartPfn] = PageState.Allocated;
        _pages.Free(slab.StartPfn, slab.Cache.Order);
    }

    /// <summary>virt_to_slab: the live slab whose pages hold <paramref name="addr"/>, or null.</summary>
    public Slab? SlabOf(ulong addr)
    {
        ulong off = addr - _pageOffset;
        if (off >= _lowEnd) return null;
        int pfn = (int)(off >> PageShift);
        lock (_tableLock)
        {
            int id = _slabOfFrame[pfn];
            if ((uint)id >= (uint)_slabIdEnd) return null;
            var slab = _slabs[id];
            return slab is not null && (uint)(pfn - slab.StartPfn) < (uint)slab.Pages ? slab : null;
        }
    }

    /// <summary>Takes a block for a large kmalloc (kmalloc_large); -1 on failure. The head is marked as slab-owned.</summary>
    public int AllocLargePages(GfpFlags gfp, int order)
    {
        int pfn = _allocPages(gfp & ~GfpFlags.HighMem, order, "kmalloc_large");
        if (pfn >= 0) _map.State[pfn] = PageState.Slab;
        return pfn;
    }

    public void FreeLargePages(int pfn, int order)
    {
        _map.State[pfn] = PageState.Allocated;
        _pages.Free(pfn, order);
    }

    // ---- Byte access through the direct map ------------------------------------------------

    /// <summary>Fills [addr, addr + length) of direct-mapped memory with one byte value.</summary>
    public void Fill(ulong addr, long length, byte value)
    {
        Span<byte> chunk = stackalloc byte[256];
        chunk.Fill(value);
        while (length > 0)
        {
            ulong pa = addr - Direct.PageOffset;
            int offset = (int)(pa & (ulong)(PageSize - 1));
            int len = (int)Math.Min(Math.Min(length, PageSize - offset), chunk.Length);
            Memory.Write((int)(pa >> PageShift), offset, chunk[..len]);
            addr += (ulong)len;
            length -= len;
        }
    }

    /// <summary>The first byte of [addr, addr + length) that differs from <paramref name="value"/>, or -1.</summary>
    public long FindMismatch(ulong addr, int length, byte value, out byte found)
    {
        Span<byte> chunk = stackalloc byte[256];
        found = 0;
        for (int done = 0; done < length;)
        {
            ulong pa = addr + (ulong)done - Direct.PageOffset;
            int offset = (int)(pa & (ulong)(PageSize - 1));
            int len = Math.Min(Math.Min(length - done, PageSize - offset), chunk.Length);
            var part = chunk[..len];
            Memory.Read((int)(pa >> PageShift), offset, part);
            int bad = part.IndexOfAnyExcept(value);
            if (bad >= 0) { found = part[bad]; return done + bad; }
            done += len;
        }
        return -1;
    }

    /// <summary>Copies <paramref name="length"/> bytes between direct-mapped addresses (non-overlapping).</summary>
    public void Copy(ulong to, ulong from, long length)
    {
        Span<byte> chunk = stackalloc byte[512];
        while (length > 0)
        {
            ulong src = from - Direct.PageOffset, dst = to - Direct.PageOffset;
            int srcOff = (int)(src & (ulong)(PageSize - 1)), dstOff = (int)(dst & (ulong)(PageSize - 1));
            int len = (int)Math.Min(Math.Min(length, chunk.Length), Math.Min(PageSize - srcOff, PageSize - dstOff));
            var part = chunk[..len];
            Memory.Read((int)(src >> PageShift), srcOff, part);
            Memory.Write((int)(dst >> PageShift), dstOff, part);
            from += (ulong)len;
            to += (ulong)len;
            length -= len;
        }
    }
}
