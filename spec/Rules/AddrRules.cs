using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>ADDR: pages, addresses and translation.</summary>
public static class AddrRules
{
    private const string MmuPending = "Pending: needs processes and user address spaces (the user-space slice); the kernel's page tables and TLB exist (the kernel-VM slice).";

    /// <summary>The ADDR rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "ADDR-1", Family = RuleFamily.ADDR, Requires = [Capability.PageAllocator],
            Statement = "Memory is managed in pages of PAGE_SIZE bytes, a per-platform constant.",
            Source = "seeds 000, 004",
            Status = RuleStatus.Encoded,
            Check = "Every page-allocator address is a multiple of the profile's PAGE_SIZE, and a block of order n spans exactly 2^n * PAGE_SIZE bytes of consecutive physical addresses.",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "ADDR-2", Family = RuleFamily.ADDR, Requires = [Capability.PageAllocator],
            Statement = "An address splits into a page number (high bits) and an offset (the low log2(PAGE_SIZE) bits) that translation leaves unchanged.",
            Source = "seed 000",
            Status = RuleStatus.Encoded,
            Check = "For direct-mapped addresses, virt_to_phys(a + off) == virt_to_phys(a) + off for offsets within the page, and the page number of the physical address is the frame number page_to_pfn reports. "
                + "Through the kernel's page tables (vm family, with KernelPageTables): the first byte of every vmalloc, ioremap and kmap page checked translates to the start of a frame, and an address at offset off (a generated one, PAGE_SIZE/2 and PAGE_SIZE-1) translates to that frame's address + off.",
            Parameters = ["PageSize", "PageTableLevelBits"],
        },
        new()
        {
            Id = "ADDR-3", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc, Capability.KernelPageTables],
            Statement = "Translation computes PA = PFN(VPN) * PAGE_SIZE + offset; with 0x2000-byte pages, process Y mapping VPN 1 to PFN 4 translates VA 0x2194 to PA 0x8194.",
            Source = "seed 000",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family): for sampled pages of every vmalloc area, and at every translation step, the page tables translate VA to vmalloc_to_pfn(VA) * PAGE_SIZE + offset, "
                + "where that frame is shown to hold the page by reading the bytes written through VA back through the frame's direct mapping (or kmap_atomic); any other mapped kernel address keeps its offset. "
                + "The worked example is reproduced exactly on the 64-bit-8k profile by a test of the reference's page tables (tests/Vm/PageTableTests.cs: a process table mapping VPN 1 to PFN 4 translates 0x2194 to 0x8194). "
                + "The user side (every mapped user address) belongs to the user-space slice.",
            Parameters = ["PageSize", "PageTableLevelBits"],
        },
        new()
        {
            Id = "ADDR-4", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "Each process has its own address space and cannot touch another's pages unless they are shared on purpose.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Pending,
            Check = MmuPending,
        },
        new()
        {
            Id = "ADDR-5", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc],
            Statement = "Virtual pages need not be physically ordered or contiguous, and a virtual address space may exceed physical memory.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family): byte runs written across the page boundaries of vmalloc areas, whose frames are whatever the implementation chose, read back the same as a whole and page by page, at once and later; "
                + "the suite never demands that an area's frames be in order, contiguous, or scattered.",
            Decision = "The rule only permits; its executable form is that nothing depends on physical order: an implementation that reads or writes across a page boundary as if the next "
                + "virtual page were the next frame is caught. 'May exceed physical memory' is shown on the kernel side by windows larger than RAM (vmalloc and ioremap of device memory), "
                + "and on the user side by the user-space slice (overcommit and swap).",
        },
        new()
        {
            Id = "ADDR-6", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc, Capability.KernelPageTables],
            Statement = "An access to an unmapped page is a page fault that the kernel either resolves (demand paging, swap-in) or turns into an error for the process.",
            Source = "seed 003",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family): addresses no mapping holds (the VMALLOC_OFFSET hole above the direct mapping, the pages of freed vmalloc areas and ioremap mappings that nothing has reused) "
                + "translate as not present, and a kernel read or write there raises KernelPageFaultException. The user side (demand paging, swap-in) belongs to the user-space slice.",
            Decision = "A kernel access to an unmapped kernel page is never resolved: it is an oops (\"unable to handle kernel paging request\"), which the contract reports as KernelPageFaultException "
                + "with no effect. The guard page Linux leaves after each vmalloc area (get_vm_area without VM_NO_GUARD) is not demanded: no rule asks for it.",
            Parameters = ["PageOffset", "VmallocOffset", "HighmemStart", "PhysicalMemory"],
        },
        new()
        {
            Id = "ADDR-7", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "One physical page may be mapped at several virtual addresses.",
            Source = "seed 003",
            Status = RuleStatus.Pending,
            Check = MmuPending,
        },
        new()
        {
            Id = "ADDR-8", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc, Capability.KernelPageTables, Capability.Tlb],
            Statement = "A TLB hit yields the same physical address as a page-table walk, a miss walks and fills, and no stale translation survives an unmap or remap.",
            Source = "seed 004",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family, with Tlb): every TLB translation (of vmalloc, ioremap, kmap and direct-mapped pages, before and after vfree, iounmap, kunmap and slot reuse) equals the walk "
                + "of the page tables and counts exactly one hit or one miss; two translations of a present page in a row end in a hit (the miss filled it); right after flush_tlb_kernel_range "
                + "of the page or flush_tlb_all it misses; after a flush, translating TlbEntries + 8 distinct pages twice hits at most TlbEntries times the second time.",
            Decision = "Use after free: freed direct-mapped kernel memory stays mapped (no fault). The suite never reads freed memory and never demands a fault there; it demands a fault only for user mappings after munmap and for vmalloc ranges after vfree. "
                + "No TLB size, associativity, replacement policy or flush timing is demanded: a flush may drop more than it is asked to, and an entry may be filled when a mapping is made; "
                + "only staleness is forbidden. Linux defers the TLB flush of a freed vmalloc range while the range cannot be reused (lazy purge); the contract's TLB must not answer a stale "
                + "translation even then, so an implementation with a lazy flush validates entries on use. A TLB that is not modelled is not declared (Capability.Tlb is optional) and this rule is n/a.",
        },
        new()
        {
            Id = "ADDR-9", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "On 32-bit, user space lies below PAGE_OFFSET (3 GiB) and the kernel above it, and user mode cannot touch kernel addresses.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Pending,
            Check = MmuPending,
            Parameters = ["PageOffset"],
        },
        new()
        {
            Id = "ADDR-10", Family = RuleFamily.ADDR, Requires = [Capability.PageAllocator],
            Statement = "Low memory is direct-mapped at kernel VA = PA + PAGE_OFFSET, up to 896 MiB on x86-32, and only RAM that exists is mapped.",
            Source = "seed 003",
            Status = RuleStatus.Encoded,
            Check = "Every address returned for low memory equals physical address + PAGE_OFFSET and lies below PAGE_OFFSET + min(RAM, end of low memory); virt_to_phys of an address outside that window is refused with InvalidArgumentException.",
            Parameters = ["PageOffset", "HighmemStart", "PhysicalMemory"],
        },
        new()
        {
            Id = "ADDR-11", Family = RuleFamily.ADDR, Requires = [Capability.PageAllocator],
            Statement = "The kernel tracks every physical frame and knows exactly which frames are free.",
            Source = "seed 003",
            Status = RuleStatus.Encoded,
            Check = "Per zone, free pages (sum of buddyinfo blocks * 2^order) move by exactly -2^n on an order-n allocation, +2^n on its free, and by the reclaimable pages a call consumed or reclaimed; nothing else changes them; after everything is freed and caches drained they return to their boot values.",
        },
    ];
}
