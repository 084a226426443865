using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>VMAL: vmalloc and vfree. Inventory: shared/RULES.md.</summary>
public static class VmalRules
{
    private const string Pending = "Pending: vmalloc belongs to a later issue (vmalloc/MMU/user mappings slice). Planned check: ";

    /// <summary>The VMAL rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "VMAL-1",
            Family = RuleFamily.VMAL,
            Statement = "vmalloc(size) hands back at least size bytes that are contiguous in kernel virtual addresses but may "
                + "sit on unrelated physical frames, or NULL when it cannot.",
            Source = "seeds 000, 001, 002, 004; include/linux/vmalloc.h",
            Status = RuleStatus.Pending,
            Check = Pending + "for sizes from one byte to several max-order blocks, a non-NULL result is page aligned, all "
                + "ceil(size / PAGE_SIZE) pages are mapped and keep what is written end to end, and vmalloc_to_pfn of each page is "
                + "a valid frame; the suite never requires the frames to be contiguous, nor to be scattered.",
            Parameters = ["PageSize"],
            Requires = [Capability.Vmalloc],
        },
        new()
        {
            Id = "VMAL-2",
            Family = RuleFamily.VMAL,
            Statement = "Every vmalloc address falls inside the window [VMALLOC_START, VMALLOC_END), which begins above the "
                + "kernel's direct mapping of physical memory.",
            Source = "seeds 001, 002",
            Status = RuleStatus.Pending,
            Check = Pending + "for each standard RAM size (VMALLOC_START moves with the end of low memory on 32-bit profiles), "
                + "every byte of every vmalloc area lies in [VmallocStart, VmallocEnd) and above PAGE_OFFSET plus the end of low "
                + "memory; once the window is used up vmalloc returns NULL.",
            Parameters = ["VmallocStart", "VmallocEnd", "PageOffset", "HighmemStart", "PhysicalMemory"],
            Requires = [Capability.Vmalloc],
        },
        new()
        {
            Id = "VMAL-3",
            Family = RuleFamily.VMAL,
            Statement = "vmalloc may sleep, so calling it from atomic or interrupt context is a caller bug.",
            Source = "seeds 000, 001, 002; mm/vmalloc.c",
            Status = RuleStatus.Pending,
            Check = Pending + "vmalloc in every atomic context (hard and soft interrupt, spinlock held, preemption off) raises "
                + "KernelBugException naming VMAL-3 on every call, whether or not memory is short, and allocates nothing; vfree "
                + "follows the decision below.",
            Decision = "vmalloc in atomic context is reported on every profile and on every call, as the kernel's might_sleep "
                + "check does, not only when it would really block. vfree may sleep as well: in interrupt context linux-6 accepts "
                + "it and defers the unmapping to a work item (mm/vmalloc.c: vfree hands interrupt-context calls to vfree_atomic), "
                + "so the area stays mapped until that work runs; on the document profiles it is reported as a VMAL-3 bug "
                + "(2.6-era vfree did BUG_ON(in_interrupt())). vfree in atomic context outside an interrupt (spinlock held) is "
                + "reported on every profile, matching linux-6's might_sleep in vfree.",
            Requires = [Capability.Vmalloc, Capability.ExecutionContext],
        },
        new()
        {
            Id = "VMAL-4",
            Family = RuleFamily.VMAL,
            Statement = "vmalloc builds its mapping page by page through page tables, so it can satisfy sizes beyond the largest "
                + "physically contiguous block the page allocator can provide.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Pending,
            Check = Pending + "with enough free pages in total, vmalloc of one max-order block plus one page, and of several "
                + "max-order blocks, succeeds even after the page allocator has been fragmented so that no block above order 0 "
                + "is free; the area uses ceil(size / PAGE_SIZE) data frames (plus page-table pages).",
            Decision = "vmalloc's data frames may come from any zone, HIGHMEM included (mm/vmalloc.c adds __GFP_HIGHMEM for them), "
                + "so the suite accepts HIGHMEM frames behind a vmalloc area.",
            Parameters = ["PageSize", "MaxOrder", "PhysicalMemory", "HighmemStart"],
            Requires = [Capability.Vmalloc, Capability.PageAllocator],
        },
        new()
        {
            Id = "VMAL-5",
            Family = RuleFamily.VMAL,
            Statement = "Memory from vmalloc has no single physical address and must not be given to a device for DMA.",
            Source = "seed 002; arch/x86/mm/physaddr.c",
            Status = RuleStatus.Pending,
            Check = Pending + "virt_to_phys or virt_to_pfn on any address inside a vmalloc area raises KernelBugException naming "
                + "VMAL-5 and changes nothing; vmalloc_to_page / vmalloc_to_pfn of each page return the frame whose contents (read "
                + "through its direct-map alias when in low memory) equal that page's bytes.",
            Decision = "virt_to_phys and virt_to_pfn are only defined for direct-mapped addresses: on a vmalloc address they "
                + "would silently compute an unrelated frame, and kernels built with CONFIG_DEBUG_VIRTUAL reject it "
                + "(arch/x86/mm/physaddr.c refuses vmalloc addresses in __phys_addr). Every profile reports it as a caller bug "
                + "naming VMAL-5; the per-page translation is vmalloc_to_page / vmalloc_to_pfn (mm/vmalloc.c).",
            Parameters = ["PageOffset", "VmallocStart", "VmallocEnd"],
            Requires = [Capability.Vmalloc, Capability.PageAllocator],
        },
        new()
        {
            Id = "VMAL-6",
            Family = RuleFamily.VMAL,
            Statement = "vfree releases a vmalloc area; calling it on anything else, or a second time on the same area, is a "
                + "caller bug that must be reported.",
            Source = "seeds 000, 002; mm/vmalloc.c",
            Status = RuleStatus.Pending,
            Check = Pending + "vfree of a kmalloc or page-allocator address, of an interior pointer, or of an area already freed "
                + "raises KernelBugException naming VMAL-6 with state unchanged; vfree(NULL) does nothing; after a valid vfree all "
                + "frames of the area are free again and any access to its former range raises KernelPageFaultException.",
            Decision = "Use after free: after vfree in process context the area's page-table entries are gone and an access to "
                + "the former range faults; the suite checks exactly that. Linux clears the entries at vfree and only defers the "
                + "TLB flush while the range cannot be handed out again (mm/vmalloc.c lazy purge), and the model keeps no stale "
                + "kernel translations (ADDR-8). After a deferred vfree from interrupt context on linux-6 (VMAL-3) the fault is "
                + "expected only once the deferred work has run. Direct-mapped memory behaves differently (KMAL-7).",
            Requires = [Capability.Vmalloc],
        },
    ];
}
