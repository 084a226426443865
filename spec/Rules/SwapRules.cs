using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>SWAP: reclaim and swapping of user pages. Inventory: shared/RULES.md.</summary>
public static class SwapRules
{
    /// <summary>The SWAP rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "SWAP-1",
            Family = RuleFamily.SWAP,
            Statement = "A process's pages can be written out to swap and are brought back on the next access without the "
                + "process noticing, with identical contents but possibly in a different frame.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "After swap_out wrote k > 0 pages out (or memory pressure from sleeping kernel allocations used swap), every "
                + "page every process holds reads back exactly as before, through page faults (the processes' fault counts grow "
                + "while they are read); swap_out returns at most the count asked for and swap free space only shrinks.",
            Decision = "Which pages are written out is the implementation's choice and never demanded; the frame a page comes "
                + "back to is never looked at. The swap device is optional (Capability.Swap): without one (the live kernel of a "
                + "machine with no swap device) this rule is n/a. The reference swaps anonymous pages mapped once; pages shared "
                + "copy-on-write after fork stay resident (another legal choice), and reports only swappable pages in AnonPages.",
            Requires = [Capability.UserMemory, Capability.Swap],
        },
        new()
        {
            Id = "SWAP-2",
            Family = RuleFamily.SWAP,
            Statement = "Memory the kernel allocates for itself, through kmalloc, the page allocator, vmalloc or slab caches, is "
                + "never swapped out.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "kmalloc blocks and page-allocator pages the suite allocated and filled keep their bytes and their physical "
                + "address (virt_to_phys) across every swap-out and every memory-pressure episode that used swap, so DMA could "
                + "rely on them (seed 003).",
            Decision = "Never swapped: kmalloc blocks, slab objects, page-allocator pages held by the kernel, vmalloc areas, "
                + "kernel text and data, page tables and kernel stacks, and driver pages mapped into user space with "
                + "remap_pfn_range or vm_insert_page, which stay owned by the driver. Only anonymous user pages go to swap "
                + "(MAP_ANONYMOUS memory and the copy-on-write copies of MAP_PRIVATE). Page-cache pages are written back to their "
                + "file or dropped, which is reclaim, not swapping; the contract's in-memory file system keeps its pages.",
            Requires = [Capability.UserMemory, Capability.Swap, Capability.PageAllocator],
        },
    ];
}
