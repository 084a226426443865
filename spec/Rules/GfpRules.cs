using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>GFP: allocation context and flags (include/linux/gfp_types.h, kernel/sched/core.c might_sleep).</summary>
public static class GfpRules
{
    private static readonly Capability[] PagesInContext = [Capability.PageAllocator, Capability.ExecutionContext];

    /// <summary>The GFP rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "GFP-1", Family = RuleFamily.GFP, Requires = PagesInContext,
            Statement = "A GFP_KERNEL allocation may sleep, so calling it in atomic context (interrupt, bottom half, spinlock held) is a bug the implementation reports instead of succeeding silently.",
            Source = "seeds 000, 001, 002, 004",
            Status = RuleStatus.Encoded,
            Check = "With preemption disabled or inside an interrupt, every GFP_KERNEL (or __GFP_HIGHMEM-added) page allocation raises KernelBugException naming GFP-1 and changes no free count.",
            Decision = "Reported on every such call, whether or not it would really block, as the kernel's might_sleep() check does with CONFIG_DEBUG_ATOMIC_SLEEP: that makes the rule deterministic. Other calls that may sleep and are reported the same way: kmap (ZONE-4), vmalloc and vfree (VMAL-3), kmem_cache_create and kmem_cache_destroy (issue 3). kmap_atomic never sleeps.",
        },
        new()
        {
            Id = "GFP-2", Family = RuleFamily.GFP, Requires = PagesInContext,
            Statement = "GFP_ATOMIC never sleeps: it returns at once, with NULL when no memory is immediately available.",
            Source = "seeds 000, 001, 002",
            Status = RuleStatus.Encoded,
            Check = "A GFP_ATOMIC or GFP_NOWAIT call leaves the task's sleep count and the reclaimable page counts unchanged, in any context, and is never reported as a bug.",
            Decision = "Observable: IExecutionContext.Sleeps counts every time the task slept; a non-sleeping call must not move it, and it must not reclaim (reclaiming is what sleeping allocations do).",
        },
        new()
        {
            Id = "GFP-3", Family = RuleFamily.GFP, Requires = PagesInContext,
            Statement = "GFP_ATOMIC may use an emergency reserve that ordinary requests may not touch, so it can succeed where a non-sleeping normal request fails.",
            Source = "seeds 002, 004",
            Status = RuleStatus.Encoded,
            Check = "At boot the watermarks the implementation declares (IPageAllocator.ZoneInfo: per zone min, the floor GFP_ATOMIC may go down to, lowmem_reserve protection; kept per zone or pooled over a request's zones) must give GFP_ATOMIC a reserve: its floor never above min and below it somewhere. Every successful request keeps its floor: min without __GFP_HIGH, the GFP_ATOMIC floor with it, plus the zone's protection against the request's highest zone (per zone) or summed over the request's zones (pooled). A GFP_ATOMIC request may fail only where no allowed zone had a free block of order >= n and room to give it while keeping its floor plus an eighth of that floor.",
            Decision = "The documents only say that GFP_ATOMIC may use a reserve others may not; its size and shape are the implementation's, declared as Linux shows them in /proc/zoneinfo (min, protection). An implementation that declares nothing is judged against the profile's default, which the reference keeps: one pooled reserve of EmergencyReservePages (1/256 of RAM, at least 16 pages) over the zones of a request, none for GFP_ATOMIC. Linux's own is as legal: a min per zone from min_free_kbytes = sqrt(16 x lowmem KiB), GFP_ATOMIC down to min - min/2 - (min - min/2)/4 and never to the last page (ALLOC_HIGH, ALLOC_HARDER in __zone_watermark_ok), lowmem_reserve_ratio 256 (DMA) and 32 (NORMAL) (mm/page_alloc.c). The suite never demands success near a watermark, only where the floor is kept with an eighth of it to spare: an implementation's own rounding or per-CPU counts may tip a request at the edge. GFP_NOWAIT (no flags) exists as today's kernel has it: non-sleeping and without reserve access; it is the 'non-sleeping normal request'.",
            Parameters = ["PhysicalMemory", "EmergencyReservePages"],
        },
        new()
        {
            Id = "GFP-4", Family = RuleFamily.GFP, Requires = [Capability.PageAllocator, Capability.ExecutionContext, Capability.Reclaim],
            Statement = "A sleeping request may reclaim memory (drop clean cache, swap out user pages) and so succeed where GFP_ATOMIC fails.",
            Source = "seeds 000, 001",
            Status = RuleStatus.Encoded,
            Check = "A GFP_KERNEL request fails only if, after the call, no reclaimable page remains in any allowed zone and no allowed zone has a free block of the order with room to give it above its declared min (plus protection, plus an eighth: GFP-3). Reclaimed pages show up as free pages (ADDR-11 accounting).",
            Decision = "Before user space exists, reclaimable memory comes from a contract fixture (IReclaim.FillPageCache: clean page-cache pages). With a swap device (Capability.Swap) anonymous user pages are reclaimable too: in the user family, an order-0 sleeping allocation that returns NULL under memory pressure must have left no swappable user page (ISwap.AnonPages) in its zones, or a full swap device. A request falling back to a lower zone may fail there while that zone keeps the lowmem_reserve it declares (Linux protects ZONE_DMA so from GFP_KERNEL and GFP_HIGHUSER).",
        },
        new()
        {
            Id = "GFP-5", Family = RuleFamily.GFP, Requires = [Capability.ExecutionContext],
            Statement = "in_interrupt() and in_atomic() tell the caller its context, so it can choose between GFP_ATOMIC and GFP_KERNEL.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "in_interrupt() is true exactly inside irq_enter/irq_exit; in_atomic() is true there and whenever preemption is disabled; both nest; an unbalanced preempt_enable or irq_exit raises KernelBugException naming GFP-5.",
            Decision = "in_interrupt() implies in_atomic(), not the reverse (a spinlock holder is atomic but not in an interrupt).",
        },
        new()
        {
            Id = "GFP-6", Family = RuleFamily.GFP, Requires = PagesInContext,
            Statement = "GFP_DMA is combined with GFP_KERNEL or GFP_ATOMIC and keeps that flag's sleeping rule.",
            Source = "seeds 002, 004",
            Status = RuleStatus.Encoded,
            Check = "GFP_DMA|GFP_KERNEL in atomic context is reported as GFP-1; GFP_DMA|GFP_ATOMIC and GFP_DMA alone never sleep and are never reported.",
            Decision = "GFP_DMA alone is __GFP_DMA with no reclaim bit: it never sleeps and has no reserve access, as in today's kernel.",
        },
        new()
        {
            Id = "GFP-7", Family = RuleFamily.GFP, Requires = PagesInContext,
            Statement = "GFP_USER, GFP_HIGHUSER, GFP_BUFFER (2.4 only) and __GFP_HIGHMEM each have a defined zone set and sleeping rule.",
            Source = "seed 001",
            Status = RuleStatus.Encoded,
            Check = "GFP_USER and GFP_BUFFER get low memory only and are reported in atomic context; GFP_HIGHUSER may get HIGHMEM and is reported in atomic context; GFP_BUFFER on a profile without it, and any bit no profile defines (0x200, 0x400 and 0x80000000 are generated), are refused with InvalidArgumentException by every allocating call (__get_free_pages, get_zeroed_page, alloc_pages, kmalloc, kzalloc, krealloc, kmem_cache_alloc), which changes nothing.",
            Decision = "GFP_USER = GFP_KERNEL|__GFP_HARDWALL (sleeps; DMA+NORMAL); GFP_HIGHUSER = GFP_USER|__GFP_HIGHMEM (sleeps; all zones); GFP_BUFFER (2.4) = may sleep without I/O (DMA+NORMAL). GFP_USER differs from GFP_KERNEL only by the cpuset hard wall, which this model has no cpusets to show. Which bits exist, and what each combination means, the suite derives itself from the documents (conformance/Engine/Expectations/GfpSemantics.cs), never through a helper an implementation also calls: once, the reference and the check shared one, and the reference's acceptance of undefined bits went unnoticed (issue 7).",
            Parameters = ["HasGfpBuffer"],
        },
    ];
}
