using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>PAGE: the page allocator and order semantics (mm/page_alloc.c).</summary>
public static class PageRules
{
    private static readonly Capability[] Pages = [Capability.PageAllocator];

    /// <summary>The PAGE rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "PAGE-1", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "__get_free_pages(flags, order) hands out 2^order pages that are physically consecutive and belong to the caller alone until freed.",
            Source = "seeds 000, 001, 002",
            Status = RuleStatus.Encoded,
            Check = "After every successful allocation: virt_to_phys of each page of the block (direct-mapped) or pfn_to_page/page_to_pfn (HIGHMEM) gives consecutive frames; no frame of the block belongs to another live allocation; every byte written into a live block reads back unchanged until the block is freed.",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "PAGE-2", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "The largest legal order is a profile parameter; a request above it fails, and a request at it is legal.",
            Source = "seeds 001, 002; include/linux/mmzone.h (MAX_PAGE_ORDER)",
            Status = RuleStatus.Encoded,
            Check = "order > MaxOrder returns NULL and changes no free count; order == MaxOrder must succeed when buddyinfo shows a free max-order block in an allowed zone and its declared floor leaves room to spare (GFP-3); a negative order is refused with InvalidArgumentException.",
            Decision = "The profile states the largest legal order inclusively (today's MAX_PAGE_ORDER). The older MAX_ORDER was one more and exclusive: linux-2.4's 'MAX_ORDER 10' means a largest order of 9 (2 MiB), matching seed 001's 2 MB.",
            Parameters = ["MaxOrder"],
        },
        new()
        {
            Id = "PAGE-3", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "get_zeroed_page returns a page of zero bytes; __get_free_page(s) make no promise about the contents.",
            Source = "seeds 000, 001, 002",
            Status = RuleStatus.Encoded,
            Check = "Every byte of a page from get_zeroed_page (and of a block allocated with __GFP_ZERO) reads 0. The contents of non-zeroed pages are never checked either way.",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "PAGE-4", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "free_pages must receive exactly the address and order that an allocation returned; anything else is a caller bug that is reported.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "free_pages with the wrong order, a second free, an interior, unaligned or never-allocated address, and __free_pages of such a descriptor each raise KernelBugException naming PAGE-4 and change no free count; the allocation stays live and frees correctly afterwards. free_pages(0, n) and __free_pages(NULL) do nothing.",
            Decision = "A refused free leaves the state unchanged (the kernel's debug build reports 'Bad page state'; the suite requires the report and no corruption).",
        },
        new()
        {
            Id = "PAGE-5", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "alloc_pages returns a page descriptor, __free_pages frees it, and page_to_pfn, pfn_to_page, page_address and virt_to_pfn convert consistently.",
            Source = "seeds 002, 003, 004",
            Status = RuleStatus.Encoded,
            Check = "For every descriptor: pfn_to_page(page_to_pfn(p)) == p; for a low-memory page virt_to_phys(page_address(p)) == page_to_pfn(p) * PAGE_SIZE; for an address from __get_free_pages, page_address(pfn_to_page(virt_to_pfn(a))) == a. Inside a multi-page block the last page has its own descriptor: page_to_pfn(pfn_to_page(pfn)) == pfn and, in low memory, its page_address is the block's address plus its offset (never the block's first page).",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "PAGE-6", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "A request fails when no free contiguous block of its order exists, even if enough single pages are free in total.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "When buddyinfo shows no free block of order >= n in any allowed zone and the call reclaimed nothing, the request returns NULL cleanly (no exception, no change), or succeeds only by taking a whole 2^n pages from its zone (per-CPU pages merging on a drain), never a smaller block; a success never comes from a zone with fewer than 2^n free pages. A failure under fragmentation (enough free pages in total) is accepted, never counted against the implementation.",
            Decision = "Failure is NULL, not an exception: an out-of-memory condition is not a caller bug.",
        },
        new()
        {
            Id = "PAGE-7", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "Page allocations are page aligned, and a block of order n starts at a frame number that is a multiple of 2^n.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "Every returned address is a multiple of PAGE_SIZE and the first frame number of every order-n block is a multiple of 2^n.",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "PAGE-8", Family = RuleFamily.PAGE, Requires = Pages,
            Statement = "Freed blocks coalesce with their buddies, so once everything is freed every max-order block free at the start is free again.",
            Source = "seeds 001, 002",
            Status = RuleStatus.Encoded,
            Check = "After freeing every live allocation, dropping the page cache and DrainCaches(): each zone shows at least as many free max-order blocks as at boot, and as many GFP_ATOMIC|__GFP_HIGHMEM max-order allocations as the free pages at boot allow above the floor the implementation declares for GFP_ATOMIC (GFP-3) then succeed.",
            Decision = "'Everything freed' means: every allocation the suite made is freed, the page cache is dropped, and DrainCaches() has returned per-CPU lists and empty slabs to the buddy lists. Under that precondition the free counts return to their boot values (ADDR-11) and the max-order blocks reappear.",
            Parameters = ["MaxOrder"],
        },
    ];
}
