using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>ADDR: pages, addresses and translation.</summary>
public static class AddrRules
{
    private const string MmuPending = "Pending: needs processes, page tables and a TLB (the vmalloc/MMU slice).";

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
            Check = "For direct-mapped addresses, virt_to_phys(a + off) == virt_to_phys(a) + off for offsets within the page, and the page number of the physical address is the frame number page_to_pfn reports.",
            Parameters = ["PageSize"],
        },
        new()
        {
            Id = "ADDR-3", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "Translation computes PA = PFN(VPN) * PAGE_SIZE + offset; with 0x2000-byte pages, process Y mapping VPN 1 to PFN 4 translates VA 0x2194 to PA 0x8194.",
            Source = "seed 000",
            Status = RuleStatus.Pending,
            Check = MmuPending + " Planned check: reproduce the worked example on the 64-bit-8k profile, and for every mapped user address PA == pfn * PAGE_SIZE + offset.",
            Parameters = ["PageSize"],
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
            Id = "ADDR-5", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "Virtual pages need not be physically ordered or contiguous, and a virtual address space may exceed physical memory.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Pending,
            Check = MmuPending,
        },
        new()
        {
            Id = "ADDR-6", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "An access to an unmapped page is a page fault that the kernel either resolves (demand paging, swap-in) or turns into an error for the process.",
            Source = "seed 003",
            Status = RuleStatus.Pending,
            Check = MmuPending,
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
            Id = "ADDR-8", Family = RuleFamily.ADDR, Requires = [Capability.Mmu],
            Statement = "A TLB hit yields the same physical address as a page-table walk, a miss walks and fills, and no stale translation survives an unmap or remap.",
            Source = "seed 004",
            Status = RuleStatus.Pending,
            Check = MmuPending,
            Decision = "Use after free: freed direct-mapped kernel memory stays mapped (no fault). The suite never reads freed memory and never demands a fault there; it demands a fault only for user mappings after munmap and for vmalloc ranges after vfree.",
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
