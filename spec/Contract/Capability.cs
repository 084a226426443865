namespace KernelMm.Spec.Contract;

/// <summary>
/// What an implementation declares it supports. A rule whose capabilities are not all declared
/// is reported "not applicable", never "passed". Each capability names the contract interface
/// the implementation object must then also implement.
/// </summary>
public enum Capability
{
    /// <summary><see cref="IPageAllocator"/> and <see cref="IKernelMemory"/>: the buddy page allocator.</summary>
    PageAllocator,
    /// <summary><see cref="IExecutionContext"/>: atomic/interrupt context and sleep accounting.</summary>
    ExecutionContext,
    /// <summary><see cref="IHighmem"/>: kmap/kunmap of HIGHMEM pages.</summary>
    Highmem,
    /// <summary><see cref="IReclaim"/>: reclaimable page cache a sleeping allocation may reclaim.</summary>
    Reclaim,
    /// <summary><see cref="IKmalloc"/>: kmalloc, kzalloc, krealloc, kfree, ksize.</summary>
    Kmalloc,
    /// <summary><see cref="ISlab"/>: kmem_cache_* and slab statistics.</summary>
    SlabCache,
    /// <summary><see cref="IVmalloc"/>: vmalloc, vzalloc, vfree, vmalloc_to_pfn, is_vmalloc_addr (VMAL).</summary>
    Vmalloc,
    /// <summary><see cref="IKernelPageTables"/>: translation through the kernel's page tables, ioremap/iounmap (ADDR, DRV-5).</summary>
    KernelPageTables,
    /// <summary><see cref="ITlb"/>: a modelled TLB with hit/miss counters and flushes (ADDR-8). Optional.</summary>
    Tlb,
    /// <summary>Processes, page tables, TLB, mmap (issues: ADDR, MMAP, DRV, UACC, SWAP).</summary>
    Mmu,
    /// <summary><see cref="IUserMemory"/>: processes, fork/exit, files, mmap/munmap/mprotect, user loads and stores (MMAP, ADDR user side).</summary>
    UserMemory,
    /// <summary><see cref="ISwap"/>: a bounded swap device for anonymous user pages (SWAP). Optional.</summary>
    Swap,
    /// <summary><see cref="IUserCopy"/>: copy_from_user, copy_to_user, get_user, put_user (UACC).</summary>
    UserCopy,
    /// <summary><see cref="IDriverMmap"/>: character devices with a driver mmap method (DRV-1..4).</summary>
    DriverMmap,
    /// <summary><see cref="IAtomicT"/>: atomic_t counters, indivisible under concurrent use (ATOM-1).</summary>
    AtomicT,
    /// <summary>
    /// SMP safety: the page allocator (<see cref="IPageAllocator"/>, <see cref="IKernelMemory"/>) and, where
    /// declared, <see cref="IKmalloc"/> and <see cref="ISlab"/> may be called from several threads at once, each
    /// thread standing for one CPU in process context. The suite then runs allocation traffic in parallel
    /// (conformance/Engine/Parallel). Requires <see cref="PageAllocator"/>. In-process, or out of process on
    /// protocol 5's CPU lanes (docs/protocol.md, "CPU lanes").
    /// </summary>
    Smp,
}

/// <summary>What each <see cref="Capability"/> asks of an implementation.</summary>
public static class Capabilities
{
    /// <summary>The contract interface each capability requires, or null when none exists yet.</summary>
    public static Type? InterfaceFor(Capability capability) => capability switch
    {
        Capability.PageAllocator => typeof(IPageAllocator),
        Capability.ExecutionContext => typeof(IExecutionContext),
        Capability.Highmem => typeof(IHighmem),
        Capability.Reclaim => typeof(IReclaim),
        Capability.Kmalloc => typeof(IKmalloc),
        Capability.SlabCache => typeof(ISlab),
        Capability.Vmalloc => typeof(IVmalloc),
        Capability.KernelPageTables => typeof(IKernelPageTables),
        Capability.Tlb => typeof(ITlb),
        Capability.UserMemory => typeof(IUserMemory),
        Capability.Swap => typeof(ISwap),
        Capability.UserCopy => typeof(IUserCopy),
        Capability.DriverMmap => typeof(IDriverMmap),
        Capability.AtomicT => typeof(IAtomicT),
        // Smp adds no calls: it promises that the page allocator's (and kmalloc's, slab's) may run concurrently.
        Capability.Smp => typeof(IPageAllocator),
        _ => null,
    };
}
