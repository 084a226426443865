namespace KernelMm.Spec.Contract;

/// <summary>kmem_cache_create flags (include/linux/slab.h), grouped by purpose.</summary>
[Flags]
public enum SlabFlags : uint
{
    /// <summary>No flag: a plain cache.</summary>
    None = 0,
    // ---- Placement ------------------------------------------------------------------------
    /// <summary>SLAB_HWCACHE_ALIGN: align objects on cache lines (SLAB-7).</summary>
    HwcacheAlign = 1 << 0,
    /// <summary>SLAB_CACHE_DMA: slabs come from ZONE_DMA (SLAB-11).</summary>
    CacheDma = 1 << 1,
    // ---- Debugging ------------------------------------------------------------------------
    /// <summary>SLAB_POISON: free and never-used objects hold the poison pattern (SLAB-8).</summary>
    Poison = 1 << 2,
    /// <summary>SLAB_RED_ZONE: guard words around each object, checked at free (SLAB-9).</summary>
    RedZone = 1 << 3,
    // ---- Failure handling -----------------------------------------------------------------
    /// <summary>SLAB_PANIC: a failed kmem_cache_create panics instead of returning NULL (SLAB-10).</summary>
    Panic = 1 << 4,
    // ---- Reclaim --------------------------------------------------------------------------
    /// <summary>SLAB_NO_REAP (linux-2.4 only): the reaper leaves this cache's free slabs alone (SLAB-13).</summary>
    NoReap = 1 << 5,
}

/// <summary>An opaque handle to a cache (<c>struct kmem_cache *</c>); <see cref="Null"/> is NULL.</summary>
public readonly record struct SlabCacheHandle(ulong Value)
{
    /// <summary>The NULL <c>struct kmem_cache *</c>: what a failed kmem_cache_create returns.</summary>
    public static readonly SlabCacheHandle Null = default;
    /// <summary>Whether this is <see cref="Null"/>.</summary>
    public bool IsNull => Value == 0;
    /// <summary>"NULL", or "cache#" and the value in hex.</summary>
    public override string ToString() => IsNull ? "NULL" : $"cache#{Value:x}";
}

/// <summary>One line of /proc/slabinfo (SLAB-12), plus the constructor count that SLAB-3 observes.</summary>
public sealed record SlabInfo
{
    /// <summary>The cache's name as given to kmem_cache_create (the first column of /proc/slabinfo).</summary>
    public required string Name { get; init; }
    /// <summary>Objects currently allocated.</summary>
    public required long ActiveObjects { get; init; }
    /// <summary>Objects in all slabs, allocated or not.</summary>
    public required long TotalObjects { get; init; }
    /// <summary>The object size as requested at creation (kmem_cache_size).</summary>
    public required long ObjectSize { get; init; }
    /// <summary>The size each object takes in a slab (alignment, red zones, metadata).</summary>
    public required long LaidOutSize { get; init; }
    /// <summary>Objects one slab holds (objperslab).</summary>
    public required long ObjectsPerSlab { get; init; }
    /// <summary>Pages one slab takes (pagesperslab).</summary>
    public required long PagesPerSlab { get; init; }
    /// <summary>Slabs the cache holds now, full, partial or empty (num_slabs).</summary>
    public required long Slabs { get; init; }
    /// <summary>How many times the cache's constructor has run.</summary>
    public required long ConstructorCalls { get; init; }
}

/// <summary>
/// The kernel panicked (SLAB_PANIC on a failed kmem_cache_create). Unlike a reported bug this is
/// fatal in the kernel; the contract raises it instead, and the refused call changed nothing.
/// </summary>
public sealed class KernelPanicException(string message) : KernelApiException($"Kernel panic - not syncing: {message}");

/// <summary>
/// Slab caches (mm/slab_common.c, mm/slub.c). Objects are carved from slabs, which are pages from
/// the page allocator. The constructor is declarative so that any language can offer it: it fills
/// the object with <c>ctorFill</c> bytes, and its calls are counted in <see cref="SlabInfo"/>.
/// </summary>
public interface ISlab
{
    /// <summary>
    /// kmem_cache_create(name, size, align, flags, ctor). Context: may sleep (GFP-1 in atomic context).
    /// Return: the cache, or NULL when the size is 0 or too large (SLAB-1) or a flag is unknown to the profile.
    /// Errors: <see cref="KernelPanicException"/> instead of NULL when <see cref="SlabFlags.Panic"/> is set.
    /// </summary>
    SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill);

    /// <summary>kmem_cache_alloc(cache, gfp): an object address, or 0. Context and GFP errors as for page allocations.</summary>
    ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp);

    /// <summary>
    /// kmem_cache_free(cache, obj). Errors: <see cref="KernelBugException"/> naming SLAB-4 (wrong cache,
    /// double free, not an object) or SLAB-9 (a damaged red zone; the object is then not freed).
    /// </summary>
    void KmemCacheFree(SlabCacheHandle cache, ulong obj);

    /// <summary>kmem_cache_shrink(cache): gives wholly free slabs back to the page allocator; returns the pages released.</summary>
    long KmemCacheShrink(SlabCacheHandle cache);

    /// <summary>
    /// kmem_cache_destroy(cache): 0 on success; -EBUSY (-16) while objects are live (SLAB-6), leaving
    /// the cache usable. Context: may sleep.
    /// </summary>
    int KmemCacheDestroy(SlabCacheHandle cache);

    /// <summary>/proc/slabinfo: every cache, the general kmalloc caches included.</summary>
    IReadOnlyList<SlabInfo> SlabInfo();

    /// <summary>The memory-pressure reaper (kmem_cache_reap): frees free slabs of every cache it may; returns pages released.</summary>
    long ReapCaches();
}

/// <summary>The kmalloc family (include/linux/slab.h), built on general caches.</summary>
public interface IKmalloc
{
    /// <summary>kmalloc(size, gfp): at least size bytes, physically contiguous and direct-mapped, or 0.
    /// kmalloc(0) is what <see cref="KmallocInfo"/> declares (KMAL-1).</summary>
    ulong Kmalloc(long size, GfpFlags gfp);

    /// <summary>kzalloc(size, gfp): as kmalloc, with the requested bytes zeroed.</summary>
    ulong Kzalloc(long size, GfpFlags gfp);

    /// <summary>krealloc(p, size, gfp): keeps min(old, new) bytes; krealloc(NULL, n) is kmalloc(n).
    /// On failure returns 0 and p stays valid.</summary>
    ulong Krealloc(ulong p, long size, GfpFlags gfp);

    /// <summary>kfree(p); NULL does nothing, and so does ZERO_SIZE_PTR where kmalloc(0) returns it (elsewhere it may
    /// also be reported as KMAL-6). Errors: <see cref="KernelBugException"/> naming KMAL-6 (or SLAB-9 for a damaged red zone).</summary>
    void Kfree(ulong p);

    /// <summary>ksize(p): the usable size of a live kmalloc object.</summary>
    long Ksize(ulong p);

    /// <summary>
    /// The kmalloc choices the documents leave open: the class table (as /proc/slabinfo lists the
    /// general caches), what kmalloc(0) returns, and whether krealloc stays in place whenever the
    /// object is big enough. Read once after boot.
    /// Return: the declaration, or null (the default) to be judged against the profile's default,
    /// <see cref="Contract.KmallocInfo.Default"/>.
    /// </summary>
    KmallocInfo? KmallocInfo() => null;
}
