using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>ZONE: physical zones (mm/mmzone.c, include/linux/mmzone.h).</summary>
public static class ZoneRules
{
    /// <summary>The ZONE rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "ZONE-1", Family = RuleFamily.ZONE, Requires = [Capability.PageAllocator],
            Statement = "Frames fall into the zones DMA (below 16 MiB), NORMAL (16 MiB to 896 MiB) and HIGHMEM (above 896 MiB) by physical address, and a zone may be empty.",
            Source = "seeds 001, 003, 004",
            Status = RuleStatus.Encoded,
            Check = "At boot each zone's free pages fit in the profile's zone span (an empty zone has none); page_zone of every allocated page matches the zone its frame number lies in.",
            Decision = "Zone edges are profile parameters; the 64-bit-8k profile direct-maps all RAM and so has no HIGHMEM. The suite boots every profile at 64 MiB, 512 MiB, 1 GiB and 2 GiB so that an empty HIGHMEM and the 896 MiB edge are both exercised.",
            Parameters = ["DmaLimit", "HighmemStart", "PhysicalMemory"],
        },
        new()
        {
            Id = "ZONE-2", Family = RuleFamily.ZONE, Requires = [Capability.PageAllocator],
            Statement = "A GFP_DMA request (and __get_dma_pages) returns physically contiguous memory lying wholly below MAX_DMA_ADDRESS.",
            Source = "seeds 000, 001, 002",
            Status = RuleStatus.Encoded,
            Check = "Every block returned for a request with __GFP_DMA ends at or below DmaLimit and is in ZONE_DMA.",
            Decision = "GFP_DMA alone carries no reclaim bit, so it behaves as a non-sleeping request without reserve access (today's kernel defines GFP_DMA as __GFP_DMA only); callers OR it with GFP_KERNEL or GFP_ATOMIC (GFP-6).",
            Parameters = ["DmaLimit"],
        },
        new()
        {
            Id = "ZONE-3", Family = RuleFamily.ZONE, Requires = [Capability.PageAllocator],
            Statement = "Only requests that allow highmem can receive HIGHMEM frames; calls that return a kernel address always give direct-mapped low memory.",
            Source = "seeds 001, 004",
            Status = RuleStatus.Encoded,
            Check = "alloc_pages without __GFP_HIGHMEM never returns a HIGHMEM page; __get_free_pages and get_zeroed_page return low memory whatever the flags, also at the edge where low memory runs out: an address past the direct mapping that took a HIGHMEM frame (HIGHMEM's free pages fell) is reported as ZONE-3, not as a mapping error (ADDR-10).",
            Decision = "__get_free_pages ignores __GFP_HIGHMEM (today's kernel masks it off in __get_free_pages) instead of failing.",
            Parameters = ["HighmemStart"],
        },
        new()
        {
            Id = "ZONE-4", Family = RuleFamily.ZONE, Requires = [Capability.PageAllocator, Capability.Highmem, Capability.ExecutionContext],
            Statement = "A HIGHMEM page has no permanent kernel address: page_address gives none until kmap maps it, and kunmap gives the mapping back.",
            Source = "seeds 002, 004",
            Status = RuleStatus.Encoded,
            Check = "For a HIGHMEM page: page_address is never a direct-map address; while kmapped it equals the kmap address, and bytes written through one kmap read back through a later kmap or kmap_atomic; nested kmaps of one page return the same address; no address maps two pages (a new kmap or kmap_atomic of a HIGHMEM page is never where another page is kmapped, or still shown by page_address); kunmap of a page that is not kmapped raises KernelBugException naming ZONE-4; kmap in atomic context raises KernelBugException naming GFP-1 and maps nothing, while kmap_atomic there works. "
                + "Through the kernel's page tables (vm family, with KernelPageTables): a persistent kmap address lies in the PKMAP window [PkmapBase, PkmapBase + PkmapSlots pages) and translates to the page's frame; "
                + "after the last kunmap the old address maps that frame or nothing; kmap_atomic maps the frame until kunmap_atomic; kmapping PkmapSlots + 1 distinct HIGHMEM pages one at a time, each kunmapped before the next, always succeeds.",
            Decision = "kunmap may be lazy: after the last kunmap page_address may be NULL or the old kmap address, never another one. Nested kmap of one page is allowed and reference-counted. kmap may sleep (it is reported in atomic context, like might_sleep); kmap_atomic never sleeps and is allowed anywhere.",
            Parameters = ["HighmemStart", "PageOffset", "PkmapBase", "PkmapSlots"],
        },
    ];
}
