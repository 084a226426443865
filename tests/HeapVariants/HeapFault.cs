namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// One deliberately broken behaviour of <see cref="ListHeapKernel"/>'s slab and kmalloc layers.
/// Each member breaks exactly one thing, chosen so that the heap family's checks attribute the
/// break to one rule (named in brackets). <see cref="None"/> is the correct implementation.
/// </summary>
public enum HeapFault
{
    None,

    // ---- KMAL ---------------------------------------------------------------------------------
    /// <summary>[KMAL-1] kmalloc(GFP_DMA) is served from the ordinary general caches (and ordinary pages): objects above MAX_DMA_ADDRESS.</summary>
    DmaKmallocFromNormal,
    /// <summary>[KMAL-2] ksize returns the requested size instead of the size class (or page block) actually reserved.</summary>
    KsizeNotRounded,
    /// <summary>[KMAL-3] The KMALLOC_MAX_SIZE test is off by one: a request of exactly KmallocMaxSize + 1 bytes is served.</summary>
    LimitOffByOne,
    /// <summary>[KMAL-3] krealloc to a size above KmallocMaxSize returns the old pointer unchanged instead of NULL.</summary>
    KreallocAboveLimitKeepsBlock,
    /// <summary>[KMAL-4] kzalloc zeroes only objects never handed out before; a reused object keeps kmalloc's garbage.</summary>
    KzallocSkipsReused,
    /// <summary>[KMAL-4] kzalloc zeroes, but kmalloc(size, flags | __GFP_ZERO), which is what kzalloc is, drops the flag. Never generated before issue 7.</summary>
    KmallocIgnoresGfpZero,
    /// <summary>[KMAL-5] krealloc damages the last byte of the preserved prefix (byte min(old, new) - 1).</summary>
    KreallocLosesLastByte,
    /// <summary>[KMAL-6] kfree of a general-cache slot that is already free is silently ignored (double free accepted).</summary>
    DoubleKfreeAccepted,
    /// <summary>[KMAL-7] kmalloc hands out the previous object of the same general cache again while it is still live.</summary>
    KmallocReturnsLiveObject,
    /// <summary>
    /// [KMAL-7] A pointer off by one object: kfree stores its free-list link (one word, SLUB-style, in
    /// the middle of the free object) in the next slot instead, overwriting a neighbour that may be live.
    /// </summary>
    KfreeLinkInNextObject,
    /// <summary>[KMAL-8] The general caches carry the other kernel's names in slabinfo ("kmalloc-N" on the document profiles, "size-N" on linux-6).</summary>
    GeneralCachesMisnamed,

    // ---- SLAB ---------------------------------------------------------------------------------
    /// <summary>[SLAB-1] Without SLAB_PANIC, kmem_cache_create forgets to return NULL for an object above SlabObjectMax and makes a (useless) cache.</summary>
    OversizeCacheAccepted,
    /// <summary>[SLAB-2] kmem_cache_alloc hands out the cache's previous object again while it is still live.</summary>
    CacheAllocReturnsLiveObject,
    /// <summary>[SLAB-3] The constructor runs again at every kmem_cache_alloc, not only when a slab is made.</summary>
    ConstructorAtEveryAlloc,
    /// <summary>[SLAB-4] kmem_cache_free of a live object of another cache is accepted and frees it into its own cache.</summary>
    WrongCacheFreeAccepted,
    /// <summary>[SLAB-5] kmem_cache_shrink does nothing and reports 0 pages (drain, reap and destroy still release slabs).</summary>
    ShrinkFreesNothing,
    /// <summary>[SLAB-6] kmem_cache_destroy ignores live objects: it releases every slab, unlists the cache and returns 0.</summary>
    DestroyBusyAllowed,
    /// <summary>[SLAB-7] Objects are laid out on word boundaries only: the requested align and SLAB_HWCACHE_ALIGN are ignored.</summary>
    AlignmentIgnored,
    /// <summary>[SLAB-8] A freed object of a SLAB_POISON cache is not poisoned again: when reused it still holds the old contents.</summary>
    PoisonMissingAfterFree,
    /// <summary>
    /// [SLAB-8] A reused object: the object just freed is kept hot for the next allocation (a per-CPU
    /// fast path), and that path skips the re-poisoning; handed out again, it holds the caller's old bytes.
    /// </summary>
    PoisonSkippedForHotObject,
    /// <summary>[SLAB-9] The right red zone starts at the word-aligned end of the object, so a one-byte overrun into the padding goes unnoticed.</summary>
    RedZoneAfterPadding,
    /// <summary>[SLAB-10] A failed kmem_cache_create returns NULL even with SLAB_PANIC.</summary>
    PanicReturnsNull,
    /// <summary>[SLAB-11] SLAB_CACHE_DMA is ignored for caches made by kmem_cache_create: their slabs come from ordinary low memory.</summary>
    CacheDmaIgnored,
    /// <summary>[SLAB-12] kmem_cache_free does not lower the active-object count shown in slabinfo.</summary>
    FreeNotCounted,
    /// <summary>[SLAB-13] (linux-2.4) The reaper takes free slabs from SLAB_NO_REAP caches too.</summary>
    ReaperIgnoresNoReap,
    /// <summary>[SLAB-13] SLAB_NO_REAP is accepted on every profile instead of being an unknown flag outside linux-2.4.</summary>
    NoReapAcceptedEverywhere,
    /// <summary>[SLAB-13] The edge of a profile-only flag: SLAB_NO_REAP is refused as unknown on linux-2.4 too, the one profile that has it. Once reported as SLAB-1.</summary>
    NoReapRefusedWhereItExists,
}

public static class HeapFaults
{
    /// <summary>The rule each fault breaks, as the heap family attributes it.</summary>
    public static string RuleOf(HeapFault fault) => fault switch
    {
        HeapFault.DmaKmallocFromNormal => "KMAL-1",
        HeapFault.KsizeNotRounded => "KMAL-2",
        HeapFault.LimitOffByOne or HeapFault.KreallocAboveLimitKeepsBlock => "KMAL-3",
        HeapFault.KzallocSkipsReused or HeapFault.KmallocIgnoresGfpZero => "KMAL-4",
        HeapFault.KreallocLosesLastByte => "KMAL-5",
        HeapFault.DoubleKfreeAccepted => "KMAL-6",
        HeapFault.KmallocReturnsLiveObject or HeapFault.KfreeLinkInNextObject => "KMAL-7",
        HeapFault.GeneralCachesMisnamed => "KMAL-8",
        HeapFault.OversizeCacheAccepted => "SLAB-1",
        HeapFault.CacheAllocReturnsLiveObject => "SLAB-2",
        HeapFault.ConstructorAtEveryAlloc => "SLAB-3",
        HeapFault.WrongCacheFreeAccepted => "SLAB-4",
        HeapFault.ShrinkFreesNothing => "SLAB-5",
        HeapFault.DestroyBusyAllowed => "SLAB-6",
        HeapFault.AlignmentIgnored => "SLAB-7",
        HeapFault.PoisonMissingAfterFree or HeapFault.PoisonSkippedForHotObject => "SLAB-8",
        HeapFault.RedZoneAfterPadding => "SLAB-9",
        HeapFault.PanicReturnsNull => "SLAB-10",
        HeapFault.CacheDmaIgnored => "SLAB-11",
        HeapFault.FreeNotCounted => "SLAB-12",
        HeapFault.ReaperIgnoresNoReap or HeapFault.NoReapAcceptedEverywhere or HeapFault.NoReapRefusedWhereItExists => "SLAB-13",
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no rule: the correct implementation"),
    };
}
