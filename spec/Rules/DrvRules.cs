using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>DRV: a driver's side of mmap, and ioremap. Inventory: shared/RULES.md.</summary>
public static class DrvRules
{
    private const string Pending = "Pending: driver mappings belong to a later issue (vmalloc/MMU/user mappings slice). Planned check: ";

    private static readonly Capability[] Mmu = [Capability.Mmu];
    private static readonly Capability[] DriverMmap = [Capability.UserMemory, Capability.DriverMmap, Capability.PageAllocator];

    /// <summary>The DRV rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "DRV-1",
            Family = RuleFamily.DRV,
            Statement = "A driver's mmap method is given the new area's start address, its end (the first byte past it), its "
                + "file offset counted in pages and its page protection.",
            Source = "seed 002; include/linux/mm_types.h (vm_area_struct)",
            Status = RuleStatus.Encoded,
            Check = "After mmap of a device registered with IDriverMmap, the vma its method recorded has vm_start equal to the "
                + "address mmap returned, vm_end - vm_start equal to the page-rounded length, vm_pgoff equal to offset / PAGE_SIZE, "
                + "the mapping's protection, and is shared; when the method fails (a range past the device's memory), mmap "
                + "returns its error (-EINVAL) and no mapping exists.",
            Parameters = ["PageSize"],
            Requires = DriverMmap,
        },
        new()
        {
            Id = "DRV-2",
            Family = RuleFamily.DRV,
            Statement = "remap_pfn_range maps a run of physically contiguous frames into a user area in a single call, for a "
                + "size that is a multiple of PAGE_SIZE.",
            Source = "seed 002; mm/memory.c",
            Status = RuleStatus.Encoded,
            Check = "A driver maps a __get_free_pages block with one remap_pfn_range call; user page i shows the bytes the kernel "
                + "wrote to frame pfn + vm_pgoff + i. A size that is not a page multiple makes the method, and so mmap, fail with "
                + "-EINVAL on the document profiles; on profiles with RemapPfnRangeRoundsSize it is rounded up and the whole area "
                + "is mapped.",
            Decision = "The documents require a page multiple; today's kernel rounds the size up (mm/memory.c: PAGE_ALIGN(size)). "
                + "Both are profile behaviour (RemapPfnRangeRoundsSize: linux-6 and x86-64 round). The suite passes such a size "
                + "only for an area exactly as large as the rounded size: a size past the vma is a driver bug Linux does not "
                + "check for.",
            Parameters = ["PageSize", "RemapPfnRangeRoundsSize"],
            Requires = DriverMmap,
        },
        new()
        {
            Id = "DRV-3",
            Family = RuleFamily.DRV,
            Statement = "Frames that are not physically contiguous, such as pages from separate alloc_page calls, are mapped into "
                + "the user area one page at a time with vm_insert_page or vm_insert_pfn.",
            Source = "seeds 002, 003; mm/memory.c",
            Status = RuleStatus.Encoded,
            Check = "A driver inserts a list of separately allocated pages one by one; user page i shows list page vm_pgoff + i's "
                + "contents (written through its kernel address), whatever the frames' order in physical memory.",
            Decision = "vm_insert_pfn was removed from Linux in 4.20 in favour of vmf_insert_pfn, which is meant for fault "
                + "handlers; the contract's page-list device uses vm_insert_page on every profile.",
            Parameters = ["PageSize"],
            Requires = DriverMmap,
        },
        new()
        {
            Id = "DRV-4",
            Family = RuleFamily.DRV,
            Statement = "Once a driver has mapped its memory into a process, user writes appear in the driver's buffer and driver "
                + "writes appear in the user mapping, with no copying in between.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "After a user store through a device mapping, the driver's kernel address of that page reads it at once, and "
                + "every other mapping of the device page (in any process) shows it; after a driver store through its kernel "
                + "address, every user mapping of the page shows it at once.",
            Decision = "Driver pages stay the driver's: munmap and exit never free them and they are never swapped (SWAP-2).",
            Requires = DriverMmap,
        },
        new()
        {
            Id = "DRV-5",
            Family = RuleFamily.DRV,
            Statement = "ioremap gives kernel virtual addresses for a range of device (bus) physical memory without allocating "
                + "any RAM.",
            Source = "seed 001; arch/x86/mm/ioremap.c",
            Status = RuleStatus.Encoded,
            Check = "ioremap of a device range above RAM (sometimes not page aligned) returns an address in the ioremap window, outside the direct mapping and "
                + "every live mapping, that keeps the offset within the page; each page translates to its device page; the mapping reads without a fault; it takes no RAM "
                + "besides page-table pages (IKernelPageTables.PageTablePages) and at most 24 pages of descriptors; iounmap makes every page not present; ioremap of RAM or of "
                + "size 0 returns NULL; iounmap of a vmalloc area, of a direct-mapped address or of a mapping already removed raises KernelBugException naming DRV-5 and changes no count.",
            Decision = "ioremap of ordinary RAM is refused (NULL), as 2.4's i386 ioremap did for non-reserved pages and as "
                + "today's x86 does with a warning (arch/x86/mm/ioremap.c); its addresses come from the vmalloc window (the profile's ioremap window is that window). "
                + "iounmap of an address ioremap did not return is reported as a DRV-5 bug (x86 prints \"iounmap: bad address\" with a stack dump). ioremap and iounmap may sleep "
                + "(the reference reports them in atomic context as GFP-1); the suite never calls them there. The suite treats bus addresses up to 256 MiB above RAM as device "
                + "memory and never demands that device memory holds what is written (a register need not).",
            Parameters = ["PageSize", "PhysicalMemory", "VmallocStart", "VmallocEnd", "PhysicalAddressBits"],
            Requires = [Capability.Vmalloc, Capability.KernelPageTables],
        },
    ];
}
