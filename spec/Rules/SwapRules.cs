using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>SWAP: reclaim and swapping of user pages. Inventory: shared/RULES.md.</summary>
public static class SwapRules
{
    private const string Pending = "Pending: swapping belongs to a later issue (vmalloc/MMU/user mappings slice). Planned check: ";

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
            Status = RuleStatus.Pending,
            Check = Pending + "force swap-out of a process's anonymous pages, then access them: each access is a page fault the "
                + "kernel resolves (ADDR-6), the bytes are unchanged, and the page may now map a different frame.",
            Requires = [Capability.Mmu],
        },
        new()
        {
            Id = "SWAP-2",
            Family = RuleFamily.SWAP,
            Statement = "Memory the kernel allocates for itself, through kmalloc, the page allocator, vmalloc or slab caches, is "
                + "never swapped out.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Pending,
            Check = Pending + "after forcing as much reclaim as possible, every kernel allocation keeps its frame and contents, so "
                + "its physical address stays stable, which DMA relies on (seed 003).",
            Decision = "Never swapped: kmalloc blocks, slab objects, page-allocator pages held by the kernel, vmalloc areas, "
                + "kernel text and data, page tables and kernel stacks, and driver pages mapped into user space with "
                + "remap_pfn_range or vm_insert_page, which stay owned by the driver. Only anonymous user pages go to swap "
                + "(MAP_ANONYMOUS memory and the copy-on-write copies of MAP_PRIVATE). Page-cache pages are written back to their "
                + "file or dropped, which is reclaim, not swapping.",
            Requires = [Capability.Mmu],
        },
    ];
}
