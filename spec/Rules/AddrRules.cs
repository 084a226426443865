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
            Id = "ADDR-4", Family = RuleFamily.ADDR, Requires = [Capability.UserMemory],
            Statement = "Each process has its own address space and cannot touch another's pages unless they are shared on purpose.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "User side (user family): after fork the child reads what the parent had; afterwards a store by either to a "
                + "private page (anonymous, or a private file mapping) is never seen by the other, whether copy-on-write is lazy or "
                + "eager; processes created independently share nothing; fork and process creation return new pids.",
            Decision = "Isolation is checked by content, never by frame numbers: an implementation may copy at fork or on the first "
                + "store.",
        },
        new()
        {
            Id = "ADDR-5", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc], OrRequires = [[Capability.UserMemory]],
            Statement = "Virtual pages need not be physically ordered or contiguous, and a virtual address space may exceed physical memory.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family): byte runs written across the page boundaries of vmalloc areas, whose frames are whatever the implementation chose, read back the same as a whole and page by page, at once and later; "
                + "the suite never demands that an area's frames be in order, contiguous, or scattered. "
                + "User side (user family, with UserMemory): a process maps private anonymous regions totalling more than the machine's RAM "
                + "(each at most half of it), every mmap succeeds, a store at each end of each region reads back, and munmap of each returns 0.",
            Decision = "The rule only permits; its executable form is that nothing depends on physical order: an implementation that reads or writes across a page boundary as if the next "
                + "virtual page were the next frame is caught. 'May exceed physical memory' is shown on the kernel side by windows larger than RAM (vmalloc and ioremap of device memory), "
                + "and on the user side by mapping more than RAM (demand paging, overcommit); the suite maps at most a quarter of user space this way, so that run is skipped where RAM "
                + "is that large (x86-32 with 2 GiB). The rule speaks of every virtual address space, the kernel's and each process's, so either side is enough for it to apply: "
                + "it requires Vmalloc or UserMemory, and an implementation is judged on the sides it declares (the live kernel, user space alone, on the user side; it passes there: "
                + "Linux overcommits anonymous memory, and the suite's regions are each at most half of the profile's RAM).",
            Parameters = ["PhysicalMemory", "TaskSize"],
        },
        new()
        {
            Id = "ADDR-6", Family = RuleFamily.ADDR, Requires = [Capability.Vmalloc, Capability.KernelPageTables], OrRequires = [[Capability.UserMemory]],
            Statement = "An access to an unmapped page is a page fault that the kernel either resolves (demand paging, swap-in) or turns into an error for the process.",
            Source = "seed 003",
            Status = RuleStatus.Encoded,
            Check = "Kernel side (vm family): addresses no mapping holds (the VMALLOC_OFFSET hole above the direct mapping, the pages of freed vmalloc areas and ioremap mappings that nothing has reused) "
                + "translate as not present, and a kernel read or write there raises KernelPageFaultException. "
                + "User side (user family, with UserMemory): a load or store at a user address no mapping ever covered raises SIGSEGV "
                + "(SEGV_MAPERR); the first access to a fresh mapping completes and is a page fault (the process's fault count, "
                + "min_flt + maj_flt, grows): pages are faulted in on demand; an access to a mapped page never raises a signal "
                + "or runs out of memory in the suite's small workloads.",
            Decision = "A kernel access to an unmapped kernel page is never resolved: it is an oops (\"unable to handle kernel paging request\"), which the contract reports as KernelPageFaultException "
                + "with no effect. The guard page Linux leaves after each vmalloc area (get_vm_area without VM_NO_GUARD) is not demanded: no rule asks for it. "
                + "Demand paging is observed through the fault count a process reports (getrusage / /proc/pid/stat on the "
                + "live kernel), only for the first access to a mapping none of whose pages was touched, so fault-around, huge "
                + "pages, the zero page and eager copy-on-write all pass. A device mapping, filled by its driver at mmap time, is "
                + "not demanded to fault. The rule's page faults happen in kernel and in user space alike (the seed's demand paging and swap-in are user-side), so either side is "
                + "enough for it to apply: it requires Vmalloc and KernelPageTables, or UserMemory, and an implementation is judged on the sides it declares (the live kernel on the "
                + "user side, where it passes).",
            Parameters = ["PageOffset", "VmallocOffset", "HighmemStart", "PhysicalMemory"],
        },
        new()
        {
            Id = "ADDR-7", Family = RuleFamily.ADDR, Requires = [Capability.UserMemory],
            Statement = "One physical page may be mapped at several virtual addresses.",
            Source = "seed 003",
            Status = RuleStatus.Encoded,
            Check = "User side (user family): a process that maps the same file pages (or the same device pages) twice sees a "
                + "store through one mapping at once through the other.",
            Decision = "Shown by behaviour, as aliasing is observed by programs; the same page across processes is MMAP-5's "
                + "and MMAP-7's, a driver's page at its kernel address DRV-4's.",
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
            Id = "ADDR-9", Family = RuleFamily.ADDR, Requires = [Capability.UserMemory],
            Statement = "On 32-bit, user space lies below PAGE_OFFSET (3 GiB) and the kernel above it, and user mode cannot touch kernel addresses.",
            Source = "seeds 000, 003",
            Status = RuleStatus.Encoded,
            Check = "User side (user family): user loads and stores at kernel addresses (PAGE_OFFSET + low memory) and at "
                + "TASK_SIZE raise SIGSEGV and change no kernel memory; mmap never returns a range reaching TASK_SIZE, and "
                + "MAP_FIXED across it fails with -ENOMEM; munmap across it or of a kernel address fails with -EINVAL, "
                + "mprotect of a kernel address with -ENOMEM.",
            Decision = "User space ends at the profile's TASK_SIZE: PAGE_OFFSET on the 32-bit profiles (the 3/1 split), the "
                + "lower half on 64-bit-8k, 0x7ffffffff000 on x86-64 (one guard page below 2^47). The fault kind for a kernel "
                + "address is not demanded (Linux x86-64 reports SEGV_MAPERR for canonical kernel addresses, SI_KERNEL for "
                + "non-canonical ones); the errno values are Linux 6.18's, confirmed on the live kernel.",
            Parameters = ["PageOffset", "TaskSize"],
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
