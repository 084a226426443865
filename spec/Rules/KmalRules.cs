using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>KMAL: the kmalloc family (kmalloc, kzalloc, krealloc, kfree). Inventory: shared/RULES.md.</summary>
public static class KmalRules
{

    private static readonly Capability[] Kmalloc = [Capability.Kmalloc, Capability.PageAllocator];

    /// <summary>The KMAL rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "KMAL-1",
            Family = RuleFamily.KMAL,
            Statement = "A successful kmalloc(size, flags) yields a block of at least size usable bytes that is physically "
                + "contiguous and lies in direct-mapped low memory; when the request cannot be met it returns NULL instead.",
            Source = "seeds 000, 002, 004; include/linux/slab.h",
            Status = RuleStatus.Encoded,
            Check = "Every successful kmalloc(n) lies in direct-mapped low memory, is physically contiguous over its ksize, is below MAX_DMA_ADDRESS for GFP_DMA, and has ksize >= n; kmalloc(0) returns what the implementation declares (IKmalloc.KmallocInfo), which must be NULL or a smallest-class object on the document profiles and ZERO_SIZE_PTR on linux-6; a negative size is refused with InvalidArgumentException; NULL is otherwise accepted as a failure.",
            Decision = "kmalloc(0) is the implementation's choice, declared (the profile's default when it declares nothing). On "
                + "the document profiles (x86-32, linux-2.4, 64-bit-8k) it is NULL, the reference's choice (a result every caller "
                + "already handles), or a live object of the smallest class, which 2.4's mm/slab.c handed out; ZERO_SIZE_PTR did "
                + "not exist there. On linux-6 it is ZERO_SIZE_PTR, the distinct non-NULL address 16 that must never be "
                + "dereferenced and whose ksize is 0 (include/linux/slab.h, mm/slab_common.c); the suite never dereferences it. "
                + "kfree(NULL) does nothing everywhere; kfree(ZERO_SIZE_PTR) does nothing on linux-6 (mm/slub.c kfree tests "
                + "ZERO_OR_NULL_PTR first) and elsewhere may do nothing or be reported as KMAL-6, 0x10 being a pointer kmalloc "
                + "never returned. An object krealloc keeps in place stays where it is, whatever the new flags, when the "
                + "implementation declares Linux's in-place krealloc (KMAL-5).",
            Parameters = ["PageOffset", "HighmemStart", "PhysicalMemory", "KmallocMaxSize"],
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-2",
            Family = RuleFamily.KMAL,
            Statement = "The usable size of a kmalloc block is the smallest size class that is not below the requested size, "
                + "the class table being a per-profile value (powers of two in the documents, which warn it may change).",
            Source = "seeds 001, 002; mm/slab_common.c",
            Status = RuleStatus.Encoded,
            Check = "ksize(kmalloc(n)) equals the smallest class >= n of the table the implementation declares (IKmalloc.KmallocInfo.Classes, the profile's when it declares none); above its largest class PAGE_SIZE << ceil(log2(pages)). The declared table must be ascending, of powers of two (or SLUB's 3·2^k classes such as 96 and 192), and not above KMALLOC_MAX_SIZE.",
            Decision = "The documents warn that the class table may change without notice: it is the implementation's, declared "
                + "as /proc/slabinfo lists the general caches, and never a constant in a check. The profiles give the defaults "
                + "the reference uses: x86-32 powers of two from 32 B to 4 MiB; linux-2.4 from 32 B to 128 KiB; 64-bit-8k from "
                + "32 B to one max-order block; linux-6 slab classes 8, 16, 32, 64, 96, 128, 192, 256 ... 8 KiB "
                + "(mm/slab_common.c kmalloc_info), and above 8 KiB whole pages in a power-of-two order served directly by the "
                + "page allocator, at most 4 MiB (mm/slab_common.c kmalloc_size_roundup). SLUB's table from 8 bytes is as legal "
                + "on the document profiles.",
            Parameters = ["KmallocClasses", "KmallocMaxSize", "PageSize"],
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-3",
            Family = RuleFamily.KMAL,
            Statement = "kmalloc refuses, by returning NULL, every request larger than the profile's maximum kmalloc size.",
            Source = "seeds 001, 002; include/linux/slab.h (KMALLOC_MAX_SIZE)",
            Status = RuleStatus.Encoded,
            Check = "kmalloc and krealloc of more than KmallocMaxSize return NULL; a request at the maximum may fail (fragmentation) but is never required to.",
            Decision = "Both document values are kept as profiles: 4 MiB (1024 pages) on x86-32 (seed 002) and 128 KiB on "
                + "linux-2.4 (seed 001); 64-bit-8k allows one max-order block; linux-6 allows 4 MiB, i.e. PAGE_SIZE << "
                + "MAX_PAGE_ORDER (include/linux/slab.h). A request of exactly the maximum may still fail for want of a free "
                + "contiguous block (PAGE-6), so only the over-limit failure is a requirement.",
            Parameters = ["KmallocMaxSize", "MaxOrder", "PageSize"],
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-4",
            Family = RuleFamily.KMAL,
            Statement = "kmalloc makes no promise about the initial contents of the block it returns, while kzalloc returns a "
                + "block whose requested bytes all read as zero.",
            Source = "seeds 001, 002; include/linux/slab.h",
            Status = RuleStatus.Encoded,
            Check = "Every requested byte of a kzalloc object, and of a kmalloc object asked for with __GFP_ZERO (which is what kzalloc is), reads 0 (objects above 8 KiB are sampled: first and last 4 KiB); bytes past the request are never checked. Objects go back to the allocator holding the suite's own bytes (KMAL-7), so a reused object that was not zeroed shows.",
            Decision = "kzalloc must zero at least the requested size; the suite checks only those n bytes and leaves the rest of "
                + "the size class unspecified. Reason: SLUB normally clears the whole object but, with kmalloc red-zone "
                + "debugging, clears only the requested size (mm/slub.c slab_post_alloc_hook), so the class tail is not portable.",
            Parameters = ["KmallocClasses"],
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-5",
            Family = RuleFamily.KMAL,
            Statement = "krealloc resizes a kmalloc block, possibly moving it, and keeps its first min(old, new) bytes; given a "
                + "NULL pointer it behaves exactly like kmalloc.",
            Source = "seed 002; mm/slab_common.c (krealloc)",
            Status = RuleStatus.Encoded,
            Check = "After krealloc the first min(old requested, new) bytes written read back at the new address and ksize >= new; where the implementation declares in-place krealloc, a new size within ksize returns the same object, whatever the flags; krealloc(NULL, n) behaves as kmalloc; krealloc(p, 0) frees p and returns NULL (ZERO_SIZE_PTR where kmalloc(0) returns it); a failed krealloc leaves p's bytes intact.",
            Decision = "Whether krealloc stays in place is the implementation's, declared: Linux returns the same object whenever "
                + "the new size fits in its ksize, whatever the flags (mm/slab_common.c __do_krealloc); the reference moves when the "
                + "class changes. krealloc(p, 0) frees p and returns ZERO_SIZE_PTR on linux-6 (mm/slab_common.c krealloc) and NULL "
                + "on the document profiles, whatever kmalloc(0) returns there (KMAL-1). The preserved prefix is exactly "
                + "min(old requested size, new size): the kernel happens to copy the whole old ksize (mm/slab_common.c "
                + "__do_krealloc), but bytes past the old requested size were never the caller's, so the suite checks only the "
                + "requested prefix. krealloc appeared only in 2.6.22; the linux-2.4 profile still offers it with these rules.",
            Parameters = ["KmallocClasses"],
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-6",
            Family = RuleFamily.KMAL,
            Statement = "kfree gives a kmalloc block back and does nothing for NULL, whereas freeing a block twice, freeing a "
                + "pointer kmalloc never returned, or freeing another allocator's memory (such as a vmalloc area) is a caller "
                + "bug that must be reported.",
            Source = "seeds 000, 002; mm/slub.c (kfree)",
            Status = RuleStatus.Encoded,
            Check = "kfree of a freed object, of an interior pointer, of page-allocator memory, of a vmalloc area (vm family) and (document profiles) of a private cache's object raises KernelBugException naming KMAL-6 and changes no count; kfree(NULL) does nothing; kfree(ZERO_SIZE_PTR) does nothing on linux-6 and elsewhere does nothing or is reported as KMAL-6; on linux-6 kfree of a cache object frees it into its cache.",
            Decision = "kfree of an object from a private kmem_cache_create cache is accepted on linux-6, where kfree finds the "
                + "owning cache from the object's slab and frees into it (mm/slub.c kfree; documented as allowed since SLOB's "
                + "removal in 6.4). On the document profiles it is reported as a KMAL-6 bug, because the documents and the kfree "
                + "kernel-doc of that era restrict kfree to kmalloc memory. kfree(ZERO_SIZE_PTR) is a no-op on linux-6; elsewhere 0x10 is "
                + "a pointer kmalloc never returned, so ignoring it and reporting it are both legal.",
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-7",
            Family = RuleFamily.KMAL,
            Statement = "Blocks that are live at the same time never share a byte, and each one keeps exactly what was last "
                + "written into it until it is freed.",
            Source = "seeds 000, 001, 002, 003, 004",
            Status = RuleStatus.Encoded,
            Check = "No live kmalloc object, cache object or page block shares a byte with another. The suite fills the first 4 KiB of every object it gets, as a caller using it would, and every byte it wrote reads back until the object is freed: a neighbour overwritten by a free, or an object handed out twice, shows on the next check.",
            Decision = "Use after free: a freed kmalloc block stays mapped, because the direct mapping of low memory is never "
                + "torn down on free (no profile models CONFIG_DEBUG_PAGEALLOC), so touching it does not fault and its contents "
                + "are unspecified (reused or poisoned). The suite never reads or writes freed kmalloc memory and never expects "
                + "a fault there. vmalloc differs: see VMAL-6.",
            Requires = Kmalloc,
        },
        new()
        {
            Id = "KMAL-8",
            Family = RuleFamily.KMAL,
            Statement = "kmalloc is implemented on top of general-purpose slab caches, one for each size class.",
            Source = "seeds 001, 004; mm/slab_common.c, mm/slab.c",
            Status = RuleStatus.Encoded,
            Check = "After a kmalloc of a size served by a general cache, /proc/slabinfo (ISlab.SlabInfo) lists the profile's cache name for that class ('size-N' or 'kmalloc-N') with live objects and an object size >= the class.",
            Decision = "The general caches are observable by name through the slab statistics (SLAB-12). Document profiles use "
                + "the old SLAB names \"size-N\" (e.g. size-32, size-131072, with DMA twins \"size-N(DMA)\"; mm/slab.c). linux-6 "
                + "uses \"kmalloc-N\" with abbreviated sizes (kmalloc-8 ... kmalloc-96, kmalloc-192, kmalloc-1k, kmalloc-2k, "
                + "kmalloc-4k, kmalloc-8k; DMA twins dma-kmalloc-N; mm/slab_common.c kmalloc_info); there, requests above 8 KiB "
                + "bypass the caches and go to the page allocator, so they appear in no cache.",
            Parameters = ["KmallocClasses"],
            Requires = [Capability.Kmalloc, Capability.PageAllocator, Capability.SlabCache],
        },
    ];
}
