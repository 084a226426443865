using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// One slab: a block of 2^order pages from the page allocator, carved into equal slots. Free slots
/// are kept in a sorted set so that the highest free address is handed out first.
/// </summary>
internal sealed class ListSlab(ListCache cache, ulong baseAddress)
{
    public ListCache Cache { get; } = cache;
    public ulong Base { get; } = baseAddress;
    public SortedSet<int> Free { get; } = new(Enumerable.Range(0, cache.ObjectsPerSlab));
    public bool Empty => Free.Count == Cache.ObjectsPerSlab;
    public ulong ObjectAt(int index) => Base + (ulong)(index * Cache.Stride + Cache.LeftPad);
}

/// <summary>
/// A cache: its layout (fixed when it is made) and its slabs, oldest first. Allocation takes the
/// oldest slab with a free slot and, inside it, the highest free slot.
/// </summary>
internal sealed class ListCache
{
    public required string Name { get; set; }
    /// <summary>The object size asked for (kmem_cache_size; the class for a general cache).</summary>
    public required long Size { get; init; }
    public required SlabFlags Flags { get; init; }
    public required byte? Ctor { get; init; }
    /// <summary>Slabs come from ZONE_DMA.</summary>
    public required bool Dma { get; init; }
    /// <summary>A general kmalloc cache.</summary>
    public required bool IsGeneral { get; init; }
    public required long Align { get; init; }
    /// <summary>Offset of the object inside its slot (room for the left red zone, kept aligned).</summary>
    public required long LeftPad { get; init; }
    /// <summary>Offset of the right red zone from the object's start.</summary>
    public required long RightZone { get; init; }
    public required long Stride { get; init; }
    public required int Order { get; init; }
    public required int ObjectsPerSlab { get; init; }

    public bool RedZone => (Flags & SlabFlags.RedZone) != 0;
    /// <summary>SLAB-3 decision: a cache with a constructor is never poisoned.</summary>
    public bool Poison => (Flags & SlabFlags.Poison) != 0 && Ctor is null;
    public bool NoReap => (Flags & SlabFlags.NoReap) != 0;

    public List<ListSlab> Slabs { get; } = [];
    public long Active { get; set; }
    public long ConstructorCalls { get; set; }
    /// <summary>linux-6: a destroy found live objects and leaked the cache.</summary>
    public bool Leaked { get; set; }
    /// <summary>The object freed last, handed out first (only <see cref="HeapFault.PoisonSkippedForHotObject"/> keeps one).</summary>
    public (ListSlab Slab, int Index)? Hot { get; set; }
    /// <summary>The object this cache handed out last (only the live-object faults look at it).</summary>
    public ulong LastHandedOut { get; set; }
    /// <summary><see cref="HeapFault.FreeNotCounted"/>: frees the statistics did not see.</summary>
    public long UncountedFrees { get; set; }
}

/// <summary>
/// The slab layer of <see cref="ListHeapKernel"/>: caches on top of the wrapped kernel's public page
/// allocator (slab pages) and kernel memory (constructor fill, poison, red zones). Book-keeping is
/// all in dictionaries; speed does not matter here.
/// </summary>
internal sealed class ListSlabLayer
{
    /// <summary>-EBUSY.</summary>
    public const int Ebusy = -16;
    /// <summary>Objects a slab should hold; a slab is the smallest block that holds this many (or one, if none does).</summary>
    private const int TargetObjects = 4;

    private readonly Profile _p;
    private readonly IPageAllocator _pages;
    private readonly IKernelMemory _memory;
    private readonly HeapFault _fault;
    private readonly ulong _pageMask;
    /// <summary>Every page of every slab, by its kernel address.</summary>
    private readonly Dictionary<ulong, ListSlab> _slabOfPage = new();
    /// <summary>/proc/slabinfo order: creation order.</summary>
    private readonly List<ListCache> _listed = [];
    private readonly Dictionary<ulong, ListCache> _byHandle = new();
    private readonly Dictionary<ListCache, ulong> _handleOf = new();
    private ulong _nextHandle = 0x51AB_0000;
    private ulong _noise = 0x9E37_79B9_7F4A_7C15;

    public ListSlabLayer(Profile profile, IPageAllocator pages, IKernelMemory memory, HeapFault fault)
    {
        _p = profile;
        _pages = pages;
        _memory = memory;
        _fault = fault;
        _pageMask = (ulong)profile.PageSize - 1;
    }

    public Profile Profile => _p;

    private SlabFlags KnownFlags =>
        SlabFlags.HwcacheAlign | SlabFlags.CacheDma | SlabFlags.Poison | SlabFlags.RedZone | SlabFlags.Panic
        | ((_p.HasSlabNoReap && _fault != HeapFault.NoReapRefusedWhereItExists) || _fault == HeapFault.NoReapAcceptedEverywhere ? SlabFlags.NoReap : SlabFlags.None);

    // ---- Creating and finding caches ---------------------------------------------------------------

    /// <summary>kmem_cache_create after the context check: NULL, or a panic with SLAB_PANIC, when it cannot be made.</summary>
    public SlabCacheHandle Create(string? name, long size, long align, SlabFlags flags, byte? ctor)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"kmem_cache_create: negative size {size}");
        if (align < 0 || (align & (align - 1)) != 0)
            throw new InvalidArgumentException("align", $"kmem_cache_create: align {align} is neither 0 nor a power of two");

        bool panic = (flags & SlabFlags.Panic) != 0;
        string? why = name is null ? "no name"
            : size == 0 ? "size 0"
            : (flags & ~KnownFlags) != 0 ? $"flags {flags & ~KnownFlags} do not exist on {_p.Name}"
            : size > _p.SlabObjectMax && !(_fault == HeapFault.OversizeCacheAccepted && !panic) ? $"size {size} is above {_p.SlabObjectMax}"
            : null;
        bool dma = (flags & SlabFlags.CacheDma) != 0 && _fault != HeapFault.CacheDmaIgnored;
        ListCache? cache = null;
        if (why is null)
        {
            cache = Layout(name!, size, align, flags, ctor, dma, general: false, force: size > _p.SlabObjectMax);
            if (cache is null) why = $"one {size}-byte object does not fit in an order-{_p.MaxOrder} slab";
        }
        if (cache is null)
        {
            if (panic && _fault != HeapFault.PanicReturnsNull)
                throw new KernelPanicException($"kmem_cache_create({name}): {why}");
            return SlabCacheHandle.Null;
        }
        var handle = new SlabCacheHandle(_nextHandle += 0x40);
        _byHandle[handle.Value] = cache;
        _handleOf[cache] = handle.Value;
        _listed.Add(cache);
        // Project choice: a new cache gets its first slab at once (GFP_KERNEL; a failure is not an error).
        Grow(cache, Gfp.Kernel);
        return handle;
    }

    /// <summary>A general kmalloc cache: word aligned, no debugging, made empty.</summary>
    public ListCache CreateGeneral(string name, long size, bool dma)
    {
        var cache = Layout(name, size, 0, dma ? SlabFlags.CacheDma : SlabFlags.None, null, dma, general: true, force: false)
                    ?? throw new InvalidOperationException($"general cache {name} does not fit in a slab");
        _listed.Add(cache);
        return cache;
    }

    /// <summary>
    /// The layout: alignment as calculate_alignment; with red zones one word before the object
    /// (padded to the alignment) and one word right after its size; the slab is the smallest block
    /// holding <see cref="TargetObjects"/> slots, else the smallest holding one; null when none does
    /// (<paramref name="force"/>: keep a cache of zero objects per slab instead).
    /// </summary>
    private ListCache? Layout(string name, long size, long align, SlabFlags flags, byte? ctor, bool dma, bool general, bool force)
    {
        long word = _p.WordSize;
        long a = word;
        if (_fault != HeapFault.AlignmentIgnored)
        {
            if ((flags & SlabFlags.HwcacheAlign) != 0)
            {
                long line = _p.CacheLine;
                while (size <= line / 2) line /= 2;
                a = Math.Max(a, line);
            }
            a = Math.Max(a, align);
        }
        bool redZone = (flags & SlabFlags.RedZone) != 0;
        long leftPad = redZone ? AlignUp(word, a) : 0;
        long rightZone = _fault == HeapFault.RedZoneAfterPadding ? AlignUp(size, word) : size;
        long stride = redZone ? AlignUp(leftPad + rightZone + word, a) : AlignUp(size, a);

        int order = -1;
        for (int o = 0; o <= _p.MaxOrder && order < 0; o++)
            if (((long)_p.PageSize << o) / stride >= TargetObjects) order = o;
        for (int o = 0; o <= _p.MaxOrder && order < 0; o++)
            if (((long)_p.PageSize << o) / stride >= 1) order = o;
        if (order < 0)
        {
            if (!force) return null;
            order = _p.MaxOrder;
        }
        return new ListCache
        {
            Name = name, Size = size, Flags = flags, Ctor = ctor, Dma = dma, IsGeneral = general, Align = a,
            LeftPad = leftPad, RightZone = rightZone, Stride = stride, Order = order,
            ObjectsPerSlab = (int)(((long)_p.PageSize << order) / stride),
        };
    }

    private static long AlignUp(long value, long align) => (value + align - 1) / align * align;

    /// <summary>The live cache behind a handle. Errors: <see cref="InvalidArgumentException"/>.</summary>
    public ListCache CacheOf(SlabCacheHandle handle, string caller) =>
        _byHandle.TryGetValue(handle.Value, out var cache) ? cache
        : throw new InvalidArgumentException("cache", $"{caller}: {handle} is not a live cache");

    // ---- Objects -------------------------------------------------------------------------------------

    /// <summary>An object from the oldest slab with room (highest free slot first), growing the cache when all are full; 0 on failure.</summary>
    public ulong Alloc(ListCache cache, GfpFlags gfp)
    {
        ListSlab? slab;
        int index;
        if (cache.Hot is { } hot && cache.Slabs.Contains(hot.Slab) && hot.Slab.Free.Contains(hot.Index))
            (slab, index) = hot; // the hot object: the one freed last (only the SLAB-8 fault keeps one)
        else
        {
            slab = cache.Slabs.FirstOrDefault(s => s.Free.Count > 0) ?? Grow(cache, gfp);
            if (slab is null) return 0;
            index = slab.Free.Max;
        }
        cache.Hot = null;
        slab.Free.Remove(index);
        cache.Active++;
        ulong obj = slab.ObjectAt(index);
        if (cache.RedZone) SetZones(cache, obj, _p.RedZoneActive);
        cache.LastHandedOut = obj;
        return obj;
    }

    /// <summary>A new slab: pages in the cache's zone with the caller's sleeping and reserve rights; every slot constructed or poisoned.</summary>
    private ListSlab? Grow(ListCache cache, GfpFlags gfp)
    {
        if (cache.ObjectsPerSlab == 0) return null;
        var flags = (gfp & ~(GfpFlags.HighMem | GfpFlags.Zero | GfpFlags.Dma)) | (cache.Dma ? GfpFlags.Dma : GfpFlags.None);
        ulong addr = _pages.GetFreePages(flags, cache.Order);
        if (addr == 0) return null;
        var slab = new ListSlab(cache, addr);
        for (int i = 0; i < cache.ObjectsPerSlab; i++)
        {
            ulong obj = slab.ObjectAt(i);
            if (cache.Ctor is { } fill)
            {
                Fill(obj, cache.Size, fill);
                cache.ConstructorCalls++;
            }
            else if (cache.Poison) Poison(cache, obj);
            if (cache.RedZone) SetZones(cache, obj, _p.RedZoneInactive);
        }
        for (int i = 0; i < 1 << cache.Order; i++) _slabOfPage[addr + ((ulong)i << _p.PageShift)] = slab;
        cache.Slabs.Add(slab);
        return slab;
    }

    /// <summary>
    /// Finds the slab holding <paramref name="addr"/>; <paramref name="index"/> is the slot that starts
    /// exactly there, or -1 for any other address inside the slab.
    /// </summary>
    public bool Locate(ulong addr, out ListSlab slab, out int index)
    {
        index = -1;
        if (!_slabOfPage.TryGetValue(addr & ~_pageMask, out slab!)) return false;
        var cache = slab.Cache;
        long off = (long)(addr - slab.Base) - cache.LeftPad;
        if (off >= 0 && off % cache.Stride == 0 && off / cache.Stride < cache.ObjectsPerSlab) index = (int)(off / cache.Stride);
        return true;
    }

    /// <summary>Whether <paramref name="addr"/> is the start of a live object of <paramref name="cache"/>.</summary>
    public bool IsLiveIn(ListCache cache, ulong addr) =>
        Locate(addr, out var slab, out int index) && index >= 0 && slab.Cache == cache && !slab.Free.Contains(index);

    public bool OwnsPage(ulong addr) => _slabOfPage.ContainsKey(addr & ~_pageMask);

    /// <summary>Frees a live slot: red zones verified first (SLAB-9, nothing changes on a damaged zone), then poison and inactive zones.</summary>
    public void Free(ListSlab slab, int index)
    {
        var cache = slab.Cache;
        ulong obj = slab.ObjectAt(index);
        if (cache.RedZone) CheckZones(cache, obj);
        // SLAB-8 fault: the object just freed is kept hot for the next allocation, and that fast path skips the poison.
        bool hot = _fault == HeapFault.PoisonSkippedForHotObject && cache.Poison;
        if (cache.Poison && _fault != HeapFault.PoisonMissingAfterFree && !hot) Poison(cache, obj);
        if (hot) cache.Hot = (slab, index);
        if (cache.RedZone) SetZones(cache, obj, _p.RedZoneInactive);
        slab.Free.Add(index);
        cache.Active--;
        // KMAL-7 fault: the free-list link goes into the middle of the next slot (an index off by one).
        if (_fault == HeapFault.KfreeLinkInNextObject && cache.IsGeneral && index + 1 < cache.ObjectsPerSlab && cache.Size >= _p.WordSize)
        {
            long middle = cache.Size / 2 / _p.WordSize * _p.WordSize;
            Garbage(slab.ObjectAt(index + 1) + (ulong)middle, _p.WordSize);
        }
    }

    /// <summary>SLAB-9: both guard words of a live object must still hold the active value.</summary>
    public void CheckZones(ListCache cache, ulong obj)
    {
        if (!cache.RedZone) return;
        int word = _p.WordSize;
        Span<byte> zone = stackalloc byte[word];
        foreach (var (at, side) in new[] { (obj - (ulong)word, "before"), (obj + (ulong)cache.RightZone, "after") })
        {
            _memory.Read(at, zone);
            int bad = zone.IndexOfAnyExcept(_p.RedZoneActive);
            if (bad >= 0)
                throw new KernelBugException("SLAB-9", $"{cache.Name}: red zone {side} object 0x{obj:x} overwritten at 0x{at + (ulong)bad:x} "
                    + $"(0x{zone[bad]:x2}, expected 0x{_p.RedZoneActive:x2}); object not freed");
        }
    }

    private void SetZones(ListCache cache, ulong obj, byte value)
    {
        Fill(obj - (ulong)_p.WordSize, _p.WordSize, value);
        Fill(obj + (ulong)cache.RightZone, _p.WordSize, value);
    }

    private void Poison(ListCache cache, ulong obj)
    {
        Fill(obj, cache.Size, _p.PoisonFree);
        if (_p.PoisonEnd is { } end) Fill(obj + (ulong)cache.Size - 1, 1, end);
    }

    // ---- Shrink, reap, destroy, statistics ----------------------------------------------------------------

    /// <summary>Every wholly free slab back to the page allocator; the pages released.</summary>
    public long Shrink(ListCache cache)
    {
        long pages = 0;
        foreach (var slab in cache.Slabs.Where(s => s.Empty).ToList()) pages += Discard(slab);
        return pages;
    }

    private long Discard(ListSlab slab)
    {
        var cache = slab.Cache;
        for (int i = 0; i < 1 << cache.Order; i++) _slabOfPage.Remove(slab.Base + ((ulong)i << _p.PageShift));
        cache.Slabs.Remove(slab);
        _pages.FreePages(slab.Base, cache.Order);
        return 1L << cache.Order;
    }

    /// <summary>Shrinks every listed cache (DrainCaches).</summary>
    public long ShrinkAll() => _listed.ToList().Sum(Shrink);

    /// <summary>The reaper: free slabs of every cache not marked SLAB_NO_REAP.</summary>
    public long Reap() =>
        _listed.Where(c => !c.NoReap || _fault == HeapFault.ReaperIgnoresNoReap).ToList().Sum(Shrink);

    /// <summary>kmem_cache_destroy after the context check.</summary>
    public int Destroy(ListCache cache)
    {
        if (cache.Active > 0 && _fault != HeapFault.DestroyBusyAllowed)
        {
            if (_p.DestroyBusyLeaksCache) cache.Leaked = true;
            return Ebusy;
        }
        // Project choice (linux-6): a leaked cache whose objects are all gone may still be destroyed.
        foreach (var slab in cache.Slabs.ToList()) Discard(slab);
        _listed.Remove(cache);
        _byHandle.Remove(_handleOf[cache]);
        _handleOf.Remove(cache);
        return 0;
    }

    public IReadOnlyList<SlabInfo> Info() => _listed.Select(c => new SlabInfo
    {
        Name = c.Name,
        ActiveObjects = c.Active + c.UncountedFrees,
        TotalObjects = (long)c.Slabs.Count * c.ObjectsPerSlab,
        ObjectSize = c.Size,
        LaidOutSize = c.Stride,
        ObjectsPerSlab = c.ObjectsPerSlab,
        PagesPerSlab = 1L << c.Order,
        Slabs = c.Slabs.Count,
        ConstructorCalls = c.ConstructorCalls,
    }).ToList();

    // ---- Bytes ------------------------------------------------------------------------------------------

    public void Fill(ulong addr, long length, byte value)
    {
        Span<byte> chunk = stackalloc byte[512];
        chunk.Fill(value);
        for (long done = 0; done < length;)
        {
            int len = (int)Math.Min(chunk.Length, length - done);
            _memory.Write(addr + (ulong)done, chunk[..len]);
            done += len;
        }
    }

    /// <summary>Pseudo-random bytes (never a run of zeros), from a generator seeded per machine so that runs replay.</summary>
    public void Garbage(ulong addr, long length)
    {
        Span<byte> chunk = stackalloc byte[512];
        for (long done = 0; done < length;)
        {
            int len = (int)Math.Min(chunk.Length, length - done);
            for (int i = 0; i < len; i++)
            {
                _noise ^= _noise << 13; _noise ^= _noise >> 7; _noise ^= _noise << 17;
                chunk[i] = (byte)(_noise | 0x01);
            }
            _memory.Write(addr + (ulong)done, chunk[..len]);
            done += len;
        }
    }

    public void Copy(ulong to, ulong from, long length)
    {
        var buffer = new byte[Math.Min(length, 1 << 16)];
        for (long done = 0; done < length;)
        {
            var part = buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - done));
            _memory.Read(from + (ulong)done, part);
            _memory.Write(to + (ulong)done, part);
            done += part.Length;
        }
    }

    public void FlipByte(ulong addr)
    {
        Span<byte> b = stackalloc byte[1];
        _memory.Read(addr, b);
        b[0] ^= 0xff;
        _memory.Write(addr, b);
    }
}
