using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>GFP: allocation context and flags (include/linux/gfp_types.h, kernel/sched/core.c might_sleep).</summary>
public static class GfpRules
{
    private static readonly Capability[] PagesInContext = [Capability.PageAllocator, Capability.ExecutionContext];

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
            Check = "A GFP_ATOMIC request fails only when buddyinfo shows no free block of order >= n in any allowed zone. A successful request without __GFP_HIGH leaves at least EmergencyReservePages free pages in the zones it may use.",
            Decision = "The reserve is the profile's EmergencyReservePages (the min watermark, summed over the zones the request may use). GFP_NOWAIT (no flags) exists as today's kernel has it: non-sleeping and without reserve access; it is the 'non-sleeping normal request'. GFP_ATOMIC may take the whole reserve.",
            Parameters = ["PhysicalMemory"],
        },
        new()
        {
            Id = "GFP-4", Family = RuleFamily.GFP, Requires = [Capability.PageAllocator, Capability.ExecutionContext, Capability.Reclaim],
            Statement = "A sleeping request may reclaim memory (drop clean cache, swap out user pages) and so succeed where GFP_ATOMIC fails.",
            Source = "seeds 000, 001",
            Status = RuleStatus.Encoded,
            Check = "A GFP_KERNEL request fails only if, after the call, no reclaimable page remains in any allowed zone and no usable free block of the order exists there. Reclaimed pages show up as free pages (ADDR-11 accounting).",
            Decision = "Before user space exists, reclaimable memory comes from a contract fixture (IReclaim.FillPageCache: clean page-cache pages). With a swap device (Capability.Swap) anonymous user pages are reclaimable too: in the user family, an order-0 sleeping allocation that returns NULL under memory pressure must have left no swappable user page (ISwap.AnonPages) in its zones, or a full swap device.",
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
            Check = "GFP_USER and GFP_BUFFER get low memory only and are reported in atomic context; GFP_HIGHUSER may get HIGHMEM and is reported in atomic context; GFP_BUFFER on a profile without it is refused with InvalidArgumentException.",
            Decision = "GFP_USER = GFP_KERNEL|__GFP_HARDWALL (sleeps; DMA+NORMAL); GFP_HIGHUSER = GFP_USER|__GFP_HIGHMEM (sleeps; all zones); GFP_BUFFER (2.4) = may sleep without I/O (DMA+NORMAL). GFP_USER differs from GFP_KERNEL only by the cpuset hard wall, which this model has no cpusets to show.",
            Parameters = ["HasGfpBuffer"],
        },
    ];
}
