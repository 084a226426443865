using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>SLAB: object caches (kmem_cache_*). Inventory: shared/RULES.md.</summary>
public static class SlabRules
{

    private static readonly Capability[] Slab = [Capability.SlabCache, Capability.PageAllocator];

    /// <summary>The SLAB rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "SLAB-1",
            Family = RuleFamily.SLAB,
            Statement = "kmem_cache_create(name, size, align, flags, ctor) makes a cache whose objects all share one fixed size, "
                + "and creation fails when that size exceeds the profile's object limit (1024 pages in the documents).",
            Source = "seeds 001, 002, 004; mm/slab_common.c",
            Status = RuleStatus.Encoded,
            Check = "kmem_cache_create with a size above SlabObjectMax (or 0), or with a flag no profile defines (0x40 and 0x80000000 are generated), returns NULL (panics with SLAB_PANIC); a size up to a quarter of the limit must give a cache; in between either is accepted.",
            Decision = "Creation succeeds only if the requested size is within SlabObjectMax and one object, as laid out (with "
                + "alignment and debug red zones), fits in a slab of at most one max-order block; otherwise it returns NULL. On "
                + "x86-32, 64-bit-8k and linux-6 the 1024-page limit equals one max-order block, so the bounds coincide (linux-6 "
                + "also cannot build a slab beyond MAX_PAGE_ORDER in mm/slub.c). On linux-2.4 the 1024-page limit is above the "
                + "page allocator's largest block (512 pages, 2 MiB), so the effective limit is one 2 MiB block and sizes between "
                + "that and 4 MiB fail creation (NULL) although the document's limit would allow them.",
            Parameters = ["SlabObjectMax", "MaxOrder", "PageSize"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-2",
            Family = RuleFamily.SLAB,
            Statement = "kmem_cache_alloc returns an object of at least the cache's size that is not handed out to anyone else, "
                + "and no two live objects overlap.",
            Source = "seeds 002, 004",
            Status = RuleStatus.Encoded,
            Check = "Every kmem_cache_alloc object lies in direct-mapped low memory, spans the cache's size contiguously and overlaps no live block.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-3",
            Family = RuleFamily.SLAB,
            Statement = "A cache's constructor runs on the objects of a slab when that slab is created, not on every "
                + "kmem_cache_alloc, so an object that is freed and handed out again is not constructed a second time.",
            Source = "seeds 001, 002; mm/slab_common.c (kmem_cache_create)",
            Status = RuleStatus.Encoded,
            Check = "Between two observations the cache's constructor calls grow by exactly the growth of its total objects (and not at all without a constructor or without growth); a never-used object of a constructor cache reads as the constructor's bytes.",
            Decision = "With both a constructor and SLAB_POISON the constructor wins: an object never allocated before reads as "
                + "constructed, never as poison. Linux's SLUB switches object poisoning off for caches that have a constructor "
                + "(mm/slub.c calculate_sizes sets __OBJECT_POISON only without ctor), so any poison would precede the "
                + "constructor and never be visible. The suite does not check poison bytes on caches with a constructor.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-4",
            Family = RuleFamily.SLAB,
            Statement = "kmem_cache_free puts an object back into the cache it came from; handing it to a different cache or "
                + "freeing it twice is a caller bug that must be reported.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "kmem_cache_free of another cache's object, of a kmalloc object, or a second free raises KernelBugException naming SLAB-4 and changes no count; a valid free is accepted and lowers the active count by one.",
            Decision = "Reported on every profile and refused without side effects. linux-6's SLUB, with hardening or debugging "
                + "on, also warns about a wrong cache but then frees into the object's true cache (mm/slub.c cache_from_obj); the "
                + "project refuses instead so that the bug is observable and state stays unchanged.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-5",
            Family = RuleFamily.SLAB,
            Statement = "kmem_cache_shrink returns every slab that holds no live object to the page allocator.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "kmem_cache_shrink reports exactly the pages the free count gains, keeps live objects and their bytes, and leaves no slab in a cache with no live object.",
            Parameters = ["PageSize"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-6",
            Family = RuleFamily.SLAB,
            Statement = "kmem_cache_destroy must not succeed while any object of the cache is still allocated; with no live "
                + "object it releases the cache and all of its pages.",
            Source = "seed 002; mm/slab_common.c (kmem_cache_destroy)",
            Status = RuleStatus.Encoded,
            Check = "kmem_cache_destroy with live objects returns -EBUSY and changes nothing (linux-6: the cache is then leaked but stays usable); without live objects it returns 0, unlists the cache and gives back all its slab pages.",
            Decision = "Document profiles: destroy with live objects returns a failure code (-EBUSY in the contract; 2.4's "
                + "mm/slab.c returned non-zero) and changes nothing, so the cache and its objects stay usable and a destroy after "
                + "freeing them succeeds. linux-6: kmem_cache_destroy returns void, but shutdown finds the objects, yields -EBUSY "
                + "and triggers a WARN, after which the cache is neither released nor unlisted (mm/slab_common.c); the contract "
                + "reports busy plus a warning, live objects stay valid and freeable and the cache stays usable, while a second "
                + "destroy is not required to succeed because the kernel leaks the cache.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-7",
            Family = RuleFamily.SLAB,
            Statement = "SLAB_HWCACHE_ALIGN places objects on hardware cache-line boundaries, the line size being a profile "
                + "parameter.",
            Source = "seeds 001, 002; mm/slab_common.c (calculate_alignment)",
            Status = RuleStatus.Encoded,
            Check = "Objects are aligned to max(requested align, word size) and, with SLAB_HWCACHE_ALIGN, to the cache line halved while the object fits in half of it.",
            Decision = "For an object of s bytes and a cache line of L bytes the alignment starts at L and is halved while s is "
                + "at most half of it (mm/slab_common.c calculate_alignment), which gives the smallest power of two not below s, "
                + "capped at L; the result is then raised to the requested align and to at least the "
                + "word size. With L = 64: 33-64 and larger get 64, 17-32 get 32, 9-16 get 16, 5-8 get 8, 1-4 get 4 (8 on "
                + "64-bit). So small objects share a line at sub-line boundaries: two 20-byte objects sit at offsets 0 and 32.",
            Parameters = ["CacheLine"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-8",
            Family = RuleFamily.SLAB,
            Statement = "SLAB_POISON fills objects that are free or not yet initialised with a fixed byte pattern, so that reads "
                + "of uninitialised memory and writes after free stand out.",
            Source = "seed 002; include/linux/poison.h, mm/slub.c",
            Status = RuleStatus.Encoded,
            Check = "An object handed out by a SLAB_POISON cache without constructor reads as the profile's poison pattern (0xa5..., or 0x6b... ending in 0xa5 on linux-6). The suite fills every object it gets with its own bytes, so an object freed and handed out again without being poisoned again shows.",
            Decision = "Pattern per profile: document profiles fill every byte with 0xa5 (PoisonFree, seed 002). linux-6 fills "
                + "with 0x6b except the last byte, which is 0xa5 (POISON_FREE and POISON_END in include/linux/poison.h), and uses "
                + "0x5a (POISON_INUSE) for the unused remainder of a slab; SLUB writes and verifies it in mm/slub.c. Caches with a "
                + "constructor are not poisoned (SLAB-3).",
            Parameters = ["PoisonFree"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-9",
            Family = RuleFamily.SLAB,
            Statement = "SLAB_RED_ZONE puts guard bytes on both sides of each object, and a write beyond an object's end is "
                + "detected and reported.",
            Source = "seed 002; include/linux/poison.h, mm/slub.c",
            Status = RuleStatus.Encoded,
            Check = "After a one-byte write just past an object of a SLAB_RED_ZONE cache, kmem_cache_free raises KernelBugException naming SLAB-9 and the object stays allocated; intact objects free normally.",
            Decision = "Red-zone width is one word (sizeof(void *)) on each side: 4 bytes on x86-32 and linux-2.4, 8 on 64-bit-8k, "
                + "and the pointer size of the architecture linux-6 models. The zones hold an 'inactive' value while the object "
                + "is free and an 'active' one while it is allocated (linux-6: 0xbb / 0xcc, include/linux/poison.h). They are "
                + "verified when the object is freed, by kmem_cache_free and by kfree where kfree accepts the object (KMAL-6), and "
                + "a damaged zone is reported then as a typed violation naming SLAB-9; the object is not freed, as SLUB leaves it "
                + "(mm/slub.c). linux-6's right-hand zone is only the padding up to word alignment when the size is not a word "
                + "multiple (mm/slub.c calculate_sizes), so the suite only overruns by the single byte next to the object.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-10",
            Family = RuleFamily.SLAB,
            Statement = "With SLAB_PANIC, failing to create the cache panics the system instead of returning NULL.",
            Source = "seed 002; mm/slab_common.c (kmem_cache_create)",
            Status = RuleStatus.Encoded,
            Check = "kmem_cache_create that cannot succeed (size or flags) raises KernelPanicException when SLAB_PANIC is set, instead of returning NULL.",
            Decision = "SLAB_PANIC acts on creation failure only: the kernel calls panic() in the kmem_cache_create path when the "
                + "flag is set and creation fails (mm/slab_common.c), and kmem_cache_alloc ignores the flag. Seed 002's 'upon "
                + "allocation failure' is read as the cache's own allocation. The panic is a distinct typed outcome.",
            Parameters = ["SlabObjectMax", "MaxOrder", "PageSize"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-11",
            Family = RuleFamily.SLAB,
            Statement = "Every object of a SLAB_CACHE_DMA cache lies wholly inside the DMA zone.",
            Source = "seeds 001, 002",
            Status = RuleStatus.Encoded,
            Check = "Every object of a SLAB_CACHE_DMA cache ends at or below MAX_DMA_ADDRESS.",
            Parameters = ["DmaLimit"],
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-12",
            Family = RuleFamily.SLAB,
            Statement = "Per-cache statistics, like those in /proc/slabinfo, show each cache's name, its active and total object "
                + "counts and its object size.",
            Source = "seeds 001, 002; mm/slab_common.c (slabinfo)",
            Status = RuleStatus.Encoded,
            Check = "/proc/slabinfo lists every created cache: active objects follow allocations and frees one by one, total = slabs * objects per slab >= active, object size >= the requested size and laid-out size >= object size.",
            Decision = "The statistics carry two sizes: the object size as requested (what kmem_cache_size returns) and, in a "
                + "separate column, the size as laid out with alignment, red zones and metadata. Linux's own /proc/slabinfo "
                + "'objsize' column actually prints the laid-out size (mm/slab_common.c cache_show), so the suite checks only "
                + "that the reported object size is at least the requested size and that the laid-out size is at least that; "
                + "no exact laid-out value is required.",
            Requires = Slab,
        },
        new()
        {
            Id = "SLAB-13",
            Family = RuleFamily.SLAB,
            Statement = "When memory runs short the kernel may take wholly free slabs back from caches, except (on 2.4) from "
                + "caches created with SLAB_NO_REAP.",
            Source = "seeds 001, 002",
            Status = RuleStatus.Encoded,
            Check = "Reaping reports exactly the pages the free count gains, never changes live objects or their bytes, and never takes slabs from a SLAB_NO_REAP cache; SLAB_NO_REAP outside linux-2.4 makes kmem_cache_create return NULL, and on linux-2.4 a cache that must be made is made with it (its refusal is reported as SLAB-13, not as a size problem).",
            Decision = "Reaping frees only wholly free slabs of caches not marked SLAB_NO_REAP. The flag exists only on linux-2.4 "
                + "(2.4's mm/slab.c reaper skipped such caches; later kernels dropped the flag, and linux-6 rejects unknown flags "
                + "in mm/slab_common.c). Whether and when reaping happens is only a permission: the suite checks what reaping may "
                + "release, never that it did release something.",
            Parameters = ["HasSlabNoReap"],
            Requires = Slab,
        },
    ];
}
