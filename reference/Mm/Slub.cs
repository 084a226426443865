using System.Numerics;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// One slab (struct slab): a naturally aligned block of 2^order frames from the buddy allocator,
/// carved into the objects of one cache. Per-object state is kept out of band, so the simulated
/// bytes hold only what the caller, the constructor, poisoning and red zones wrote.
/// </summary>
internal sealed class Slab(KmemCache cache, int id, int startPfn, int pages, ulong baseAddress)
{
    public readonly KmemCache Cache = cache;
    public readonly int Id = id;
    public readonly int StartPfn = startPfn;
    public readonly int Pages = pages;
    /// <summary>Kernel virtual address of the slab's first byte.</summary>
    public readonly ulong Base = baseAddress;
    /// <summary>Per object: 1 while allocated, 0 while free (double-free detection in O(1)).</summary>
    public readonly byte[] Allocated = new byte[cache.ObjectsPerSlab];
    /// <summary>General kmalloc caches only: the size each live object was requested with (krealloc, KMAL-5).</summary>
    public readonly int[]? Requested = cache.IsKmalloc ? new int[cache.ObjectsPerSlab] : null;
    /// <summary>Objects currently allocated.</summary>
    public int InUse;
    /// <summary>Set when the slab's pages went back to the page allocator.</summary>
    public bool Discarded;
}

/// <summary>
/// A slab cache (struct kmem_cache, mm/slub.c): the object layout (calculate_sizes), the slab
/// order (calculate_order), slab creation with constructor, poison and red zones (new_slab),
/// and a per-cache LIFO of free objects so that alloc and free are O(1) with no page-allocator
/// call in the steady state (the role of SLUB's per-CPU freelist).
/// </summary>
internal sealed class KmemCache
{
    /// <summary>SLUB's min_objects for one CPU: 4 * (fls(nr_cpu_ids) + 1).</summary>
    private const int MinObjects = 8;
    /// <summary>slub_max_order: PAGE_ALLOC_COSTLY_ORDER. Larger orders only when one object needs them.</summary>
    private const int SlubMaxOrder = 3;

    private readonly SlabCommon _common;
    public readonly string Name;
    /// <summary>The size asked for at creation (kmem_cache_size).</summary>
    public readonly int ObjectSize;
    public readonly long Align;
    public readonly SlabFlags Flags;
    public readonly byte? CtorFill;
    /// <summary>A general kmalloc cache (kfree accepts its objects on every profile).</summary>
    public readonly bool IsKmalloc;
    /// <summary>Bytes per object slot (s->size): alignment and red zones included.</summary>
    public readonly int Stride;
    /// <summary>Offset of the object inside its slot: the left red-zone pad (s->red_left_pad), else 0.</summary>
    public readonly int ObjectOffset;
    public readonly int Order;
    public readonly int Pages;
    public readonly int ObjectsPerSlab;
    private readonly int _strideShift;
    private readonly bool _redZone;
    private readonly bool _poison;
    private readonly int _word;

    /// <summary>Objects allocated now.</summary>
    public long Active;
    public long ConstructorCalls;
    /// <summary>linux-6: a destroy found live objects; the cache stays usable but is never released (SLAB-6).</summary>
    public bool Leaked;

    private readonly List<Slab> _slabs = [];
    /// <summary>The statistics line, kept until the next change (the suite reads slabinfo after most steps).</summary>
    private SlabInfo? _info;
    private FreeObject[] _free = [];
    private int _freeCount;
    /// <summary>
    /// Smp: the cache's lock, held while its free list, slab list and counts change (the role of
    /// SLUB's per-node list_lock and per-CPU slab, in one lock: simple, and enough for correctness).
    /// Taken after slab_mutex, before the slab table's and the zones' locks.
    /// </summary>
    private readonly Lock _lock = new();

    private readonly struct FreeObject(Slab slab, int index)
    {
        public readonly Slab Slab = slab;
        public readonly int Index = index;
    }

    private KmemCache(SlabCommon common, string name, int size, long align, SlabFlags flags, byte? ctorFill, bool isKmalloc,
        int stride, int objectOffset, int order)
    {
        _common = common;
        Name = name;
        ObjectSize = size;
        Align = align;
        Flags = flags;
        CtorFill = ctorFill;
        IsKmalloc = isKmalloc;
        Stride = stride;
        ObjectOffset = objectOffset;
        Order = order;
        Pages = 1 << order;
        ObjectsPerSlab = (common.PageSize << order) / stride;
        _strideShift = BitOperations.IsPow2(stride) ? BitOperations.Log2((uint)stride) : -1;
        _redZone = (flags & SlabFlags.RedZone) != 0;
        // SLAB-3 decision: a cache with a constructor is never poisoned (mm/slub.c calculate_sizes).
        _poison = (flags & SlabFlags.Poison) != 0 && ctorFill is null;
        _word = common.Profile.WordSize;
    }

    /// <summary>
    /// calculate_sizes + calculate_order: the slot is the size rounded up to the alignment; with
    /// SLAB_RED_ZONE a left pad of one word (rounded up to the alignment, so the object stays
    /// aligned) precedes the object and one word follows it. Null when one slot does not fit in a
    /// max-order block (SLAB-1).
    /// </summary>
    public static KmemCache? Create(SlabCommon common, string name, int size, long align, SlabFlags flags, byte? ctorFill, bool isKmalloc)
    {
        var profile = common.Profile;
        long word = profile.WordSize;
        bool redZone = (flags & SlabFlags.RedZone) != 0;
        // No slab is aligned beyond its own size: a larger alignment cannot be honoured (and would overflow below).
        if (align > (long)profile.PageSize << profile.MaxOrder) return null;
        long leftPad = redZone ? AlignUp(word, align) : 0;
        long stride = redZone ? AlignUp(leftPad + size + word, align) : AlignUp(size, align);
        if (stride > (long)profile.PageSize << profile.MaxOrder) return null;
        int order = CalculateOrder(stride, profile.PageSize, profile.MaxOrder);
        return new KmemCache(common, name, size, align, flags, ctorFill, isKmalloc, (int)stride, (int)leftPad, order);
    }

    private static long AlignUp(long value, long align) => (value + align - 1) / align * align;

    /// <summary>get_order: the smallest order whose block holds <paramref name="bytes"/>.</summary>
    public static int GetOrder(long bytes, int pageSize)
    {
        long pages = (bytes + pageSize - 1) / pageSize;
        return pages <= 1 ? 0 : BitOperations.Log2((ulong)pages - 1) + 1;
    }

    /// <summary>
    /// calculate_order (mm/slub.c): aim for at least <see cref="MinObjects"/> objects per slab
    /// within order <see cref="SlubMaxOrder"/>, taking the smallest order whose leftover is at most
    /// 1/16 of the slab, then 1/8, 1/4, 1/2; failing that, the smallest order that holds one object.
    /// </summary>
    public static int CalculateOrder(long size, int pageSize, int maxOrder)
    {
        int slubMaxOrder = Math.Min(SlubMaxOrder, maxOrder);
        long maxObjects = ((long)pageSize << slubMaxOrder) / size;
        long minObjects = Math.Min(MinObjects, maxObjects);
        if (minObjects > 0)
        {
            int minOrder = GetOrder(minObjects * size, pageSize);
            for (int fraction = 16; fraction > 1; fraction /= 2)
                for (int order = minOrder; order <= slubMaxOrder; order++)
                {
                    long slabSize = (long)pageSize << order;
                    if (slabSize % size <= slabSize / fraction) return order;
                }
        }
        return GetOrder(size, pageSize);
    }

    public bool Dma => (Flags & SlabFlags.CacheDma) != 0;

    // ---- Allocation ------------------------------------------------------------------------

    /// <summary>
    /// slab_alloc: pops the most recently freed object, growing the cache by one slab when none is
    /// free. The caller has done the context checks. Returns the object address or 0.
    /// </summary>
    public ulong Alloc(GfpFlags gfp, int requested)
    {
        lock (_lock) return AllocLocked(gfp, requested);
    }

    private ulong AllocLocked(GfpFlags gfp, int requested)
    {
        if (_freeCount == 0 && !Grow(gfp)) return 0;
        var free = _free[--_freeCount];
        var slab = free.Slab;
        int index = free.Index;
        slab.Allocated[index] = 1;
        slab.InUse++;
        Active++;
        _info = null;
        if (slab.Requested is { } sizes) sizes[index] = requested;
        ulong obj = slab.Base + (ulong)(index * Stride + ObjectOffset);
        if (_redZone) SetRedZones(obj, _common.Profile.RedZoneActive);
        return obj;
    }

    /// <summary>new_slab: a block from the page allocator, every object constructed or poisoned, all pushed free.</summary>
    private bool Grow(GfpFlags gfp)
    {
        var slab = _common.NewSlab(this, gfp);
        if (slab is null) return false;
        _slabs.Add(slab);
        _info = null;
        for (int i = 0; i < ObjectsPerSlab; i++)
        {
            ulong obj = slab.Base + (ulong)(i * Stride + ObjectOffset);
            if (CtorFill is { } fill)
            {
                // SLAB-3: the constructor runs once per object, here and never at allocation.
                _common.Fill(obj, ObjectSize, fill);
                ConstructorCalls++;
            }
            else if (_poison) Poison(obj);
            if (_redZone) SetRedZones(obj, _common.Profile.RedZoneInactive);
        }
        if (_free.Length < _freeCount + ObjectsPerSlab)
            Array.Resize(ref _free, Math.Max(_freeCount + ObjectsPerSlab, _free.Length * 2));
        // Pushed in reverse so the lowest address is handed out first.
        for (int i = ObjectsPerSlab - 1; i >= 0; i--) _free[_freeCount++] = new FreeObject(slab, i);
        return true;
    }

    // ---- Free ------------------------------------------------------------------------------

    /// <summary>The index of the object starting exactly at <paramref name="addr"/> in <paramref name="slab"/>, or -1 (interior, pad, tail).</summary>
    public int IndexOf(Slab slab, ulong addr)
    {
        long off = (long)(addr - slab.Base) - ObjectOffset;
        if (off < 0) return -1;
        int index;
        if (_strideShift >= 0)
        {
            if ((off & (Stride - 1)) != 0) return -1;
            index = (int)(off >> _strideShift);
        }
        else
        {
            index = (int)((ulong)off / (uint)Stride);
            if ((long)index * Stride != off) return -1;
        }
        return index < ObjectsPerSlab ? index : -1;
    }

    /// <summary>
    /// slab_free of an object the caller checked is live and of this cache: red zones are verified
    /// first (SLAB-9: a damaged zone is reported and the object stays allocated), then the object is
    /// poisoned, its zones set inactive, and it goes on top of the free list.
    /// </summary>
    public void Free(Slab slab, int index)
    {
        lock (_lock) FreeLocked(slab, index);
    }

    private void FreeLocked(Slab slab, int index)
    {
        ulong obj = slab.Base + (ulong)(index * Stride + ObjectOffset);
        if (_redZone) CheckRedZones(obj);
        if (_poison) Poison(obj);
        if (_redZone) SetRedZones(obj, _common.Profile.RedZoneInactive);
        slab.Allocated[index] = 0;
        slab.InUse--;
        Active--;
        _info = null;
        if (_freeCount == _free.Length) Array.Resize(ref _free, Math.Max(16, _free.Length * 2));
        _free[_freeCount++] = new FreeObject(slab, index);
    }

    /// <summary>The requested size of a live object (its class for a private cache's object).</summary>
    public int RequestedSize(Slab slab, int index) => slab.Requested?[index] ?? ObjectSize;

    public void SetRequestedSize(Slab slab, int index, int size)
    {
        if (slab.Requested is { } sizes) sizes[index] = size;
    }

    // ---- Debugging: poison and red zones ---------------------------------------------------

    /// <summary>SLAB-8: PoisonFree in every byte; on linux-6 the last byte is POISON_END.</summary>
    private void Poison(ulong obj)
    {
        var profile = _common.Profile;
        if (profile.PoisonEnd is { } end)
        {
            _common.Fill(obj, ObjectSize - 1, profile.PoisonFree);
            _common.Fill(obj + (ulong)(ObjectSize - 1), 1, end);
        }
        else _common.Fill(obj, ObjectSize, profile.PoisonFree);
    }

    /// <summary>SLAB-9: one word just before the object and one word just after its requested size.</summary>
    private void SetRedZones(ulong obj, byte value)
    {
        _common.Fill(obj - (ulong)_word, _word, value);
        _common.Fill(obj + (ulong)ObjectSize, _word, value);
    }

    /// <summary>SLAB-9 check of a live object without freeing it (krealloc checks before it moves anything).</summary>
    public void VerifyRedZones(Slab slab, int index)
    {
        if (_redZone) CheckRedZones(slab.Base + (ulong)(index * Stride + ObjectOffset));
    }

    private void CheckRedZones(ulong obj)
    {
        byte active = _common.Profile.RedZoneActive;
        long left = _common.FindMismatch(obj - (ulong)_word, _word, active, out byte found);
        if (left >= 0)
            throw new KernelBugException("SLAB-9", $"{Name}: red zone before object 0x{obj:x} overwritten: byte at offset "
                + $"{left - _word} (0x{obj - (ulong)_word + (ulong)left:x}) is 0x{found:x2}, expected 0x{active:x2}; object not freed");
        long right = _common.FindMismatch(obj + (ulong)ObjectSize, _word, active, out found);
        if (right >= 0)
            throw new KernelBugException("SLAB-9", $"{Name}: red zone after object 0x{obj:x} overwritten: byte at offset "
                + $"{ObjectSize + right} (0x{obj + (ulong)ObjectSize + (ulong)right:x}) is 0x{found:x2}, expected 0x{active:x2}; "
                + "object not freed");
    }

    // ---- Shrinking and statistics ----------------------------------------------------------

    /// <summary>__kmem_cache_shrink: every wholly free slab back to the page allocator (SLAB-5). Returns pages released.</summary>
    public long Shrink()
    {
        lock (_lock) return ShrinkLocked();
    }

    private long ShrinkLocked()
    {
        long pages = 0;
        for (int i = _slabs.Count - 1; i >= 0; i--)
        {
            var slab = _slabs[i];
            if (slab.InUse != 0) continue;
            _slabs[i] = _slabs[^1];
            _slabs.RemoveAt(_slabs.Count - 1);
            _common.DiscardSlab(slab);
            pages += Pages;
        }
        if (pages == 0) return 0;
        _info = null;
        // Drop the released slabs' objects from the free list, keeping the others' LIFO order.
        int kept = 0;
        for (int i = 0; i < _freeCount; i++)
            if (!_free[i].Slab.Discarded) _free[kept++] = _free[i];
        Array.Clear(_free, kept, _freeCount - kept);
        _freeCount = kept;
        return pages;
    }

    public SlabInfo Info()
    {
        lock (_lock) return InfoLocked();
    }

    private SlabInfo InfoLocked() => _info ??= new()
    {
        Name = Name,
        ActiveObjects = Active,
        TotalObjects = (long)_slabs.Count * ObjectsPerSlab,
        ObjectSize = ObjectSize,
        LaidOutSize = Stride,
        ObjectsPerSlab = ObjectsPerSlab,
        PagesPerSlab = Pages,
        Slabs = _slabs.Count,
        ConstructorCalls = ConstructorCalls,
    };
}
