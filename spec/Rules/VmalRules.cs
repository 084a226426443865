using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>VMAL: vmalloc and vfree. Inventory: shared/RULES.md.</summary>
public static class VmalRules
{
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
            Status = RuleStatus.Encoded,
            Check = "For sizes from one byte to several max-order blocks (many one byte around a page boundary), a non-NULL result is page aligned, overlaps no live area or "
                + "mapping, and all ceil(size / PAGE_SIZE) pages are mapped (the first byte of sampled pages translates, or reads, without a fault, the last partly used page "
                + "included); every page has a frame of its own (vmalloc_to_pfn) that no live page block, kmalloc object or other area uses; bytes written within a page read "
                + "back until vfree; vzalloc's bytes read zero; a negative size is refused with InvalidArgumentException; a NULL result keeps no data frame. The suite never "
                + "requires the frames to be contiguous, nor to be scattered.",
            Decision = "vmalloc(0) returns NULL in Linux (__vmalloc_node_range); the suite accepts NULL or an area that vfree takes back. vzalloc, which the documents "
                + "do not name, is checked here: its area reads zero. A failed vmalloc may leave page-table pages it grew (counted by PageTablePages) and up to 24 pages "
                + "a slab grew for its descriptors, as Linux's does; never data frames.",
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
            Status = RuleStatus.Encoded,
            Check = "For each standard RAM size (VMALLOC_START moves with the end of low memory on the 32-bit profiles), every page of every vmalloc area lies in "
                + "[VmallocStart, VmallocEnd), which lies above PAGE_OFFSET plus the end of low memory, and is_vmalloc_addr holds for its first and last byte; vmalloc "
                + "of more than the whole window returns NULL.",
            Decision = "VMALLOC_START is the end of the direct mapping plus VMALLOC_OFFSET (8 MiB on the 32-bit profiles, 1 TiB on 64-bit-8k) and VMALLOC_END is "
                + "PKMAP_BASE minus two pages with HIGHMEM (arch/x86/include/asm/pgtable_32_areas.h; 2.4's include/asm-i386/pgtable.h), both profile parameters.",
            Parameters = ["VmallocStart", "VmallocEnd", "VmallocOffset", "PageOffset", "HighmemStart", "PhysicalMemory"],
            Requires = [Capability.Vmalloc],
        },
        new()
        {
            Id = "VMAL-3",
            Family = RuleFamily.VMAL,
            Statement = "vmalloc may sleep, so calling it from atomic or interrupt context is a caller bug.",
            Source = "seeds 000, 001, 002; mm/vmalloc.c",
            Status = RuleStatus.Encoded,
            Check = "vmalloc and vzalloc in every atomic context (interrupt, preemption disabled, both) raise KernelBugException naming VMAL-3 (or GFP-1, the generic "
                + "might-sleep report) on every call, whether or not memory is short, and change no count; vfree follows the decision below: where it is reported, "
                + "it changes nothing; where it is deferred, it is accepted.",
            Decision = "vmalloc in atomic context is reported on every profile and on every call, as the kernel's might_sleep "
                + "check does, not only when it would really block. vfree may sleep as well: in interrupt context linux-6 accepts "
                + "it and defers the unmapping to a work item (mm/vmalloc.c: vfree hands interrupt-context calls to vfree_atomic), "
                + "so the area stays mapped until that work runs (at the latest at the next DrainCaches); on the document profiles it is reported as a VMAL-3 bug "
                + "(2.6-era vfree did BUG_ON(in_interrupt())). vfree in atomic context outside an interrupt (spinlock held) is "
                + "reported on every profile, matching linux-6's might_sleep in vfree. The profile parameter VfreeDefersInInterrupt carries the difference.",
            Parameters = ["VfreeDefersInInterrupt"],
            Requires = [Capability.Vmalloc, Capability.ExecutionContext],
        },
        new()
        {
            Id = "VMAL-4",
            Family = RuleFamily.VMAL,
            Statement = "vmalloc builds its mapping page by page through page tables, so it can satisfy sizes beyond the largest "
                + "physically contiguous block the page allocator can provide.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "vmalloc of one max-order block plus one page, or of two max-order blocks, succeeds whenever the model sees ample free memory, free low memory for "
                + "page tables and room in the window, including after the page allocator has been fragmented so that no block above order 0 is free (64 MiB machines); "
                + "every successful vmalloc takes at least ceil(size / PAGE_SIZE) pages from the free lists besides page-table pages (IKernelPageTables.PageTablePages).",
            Decision = "vmalloc's data frames may come from any zone, HIGHMEM included (mm/vmalloc.c adds __GFP_HIGHMEM for them), "
                + "so the suite accepts HIGHMEM frames behind a vmalloc area. The suite demands at least one frame per page, not exactly: Linux also takes slab memory "
                + "for the area's descriptors and, above one page of pointers, a vmalloc'ed pages array; those show up only at teardown (ADDR-11 after DrainCaches).",
            Parameters = ["PageSize", "MaxOrder", "PhysicalMemory", "HighmemStart", "PageTableLevelBits"],
            Requires = [Capability.Vmalloc, Capability.PageAllocator],
        },
        new()
        {
            Id = "VMAL-5",
            Family = RuleFamily.VMAL,
            Statement = "Memory from vmalloc has no single physical address and must not be given to a device for DMA.",
            Source = "seed 002; arch/x86/mm/physaddr.c",
            Status = RuleStatus.Encoded,
            Check = "virt_to_phys (and so virt_to_pfn) on any address inside a live vmalloc area raises KernelBugException naming VMAL-5; vmalloc_to_pfn of each "
                + "page names a frame of RAM, and the bytes written through the area are in that frame when read through its direct mapping (or kmap_atomic for HIGHMEM).",
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
            Status = RuleStatus.Encoded,
            Check = "vfree of a kmalloc object, of a page-allocator block, of an interior pointer (a later page or a later byte), or of an area already freed and not "
                + "reused raises KernelBugException naming VMAL-6 with every count unchanged and the live area still mapped to its frames; vfree(NULL) does nothing; "
                + "after a valid vfree in process context every page of the former area translates as not present and at least ceil(size / PAGE_SIZE) pages are back "
                + "on the free lists besides page tables.",
            Decision = "Use after free: after vfree in process context the area's page-table entries are gone and an access to "
                + "the former range faults; the suite checks the entries here and the fault under ADDR-6. Linux clears the entries at vfree and only defers the "
                + "TLB flush while the range cannot be handed out again (mm/vmalloc.c lazy purge), and the model keeps no stale "
                + "kernel translations (ADDR-8). After a deferred vfree from interrupt context on linux-6 (VMAL-3) the fault is "
                + "expected only once the deferred work has run. Direct-mapped memory behaves differently (KMAL-7). Freeing a vmalloc "
                + "address with the wrong call is the other call's bug: kfree (KMAL-6), free_pages (PAGE-4).",
            Requires = [Capability.Vmalloc],
        },
    ];
}
