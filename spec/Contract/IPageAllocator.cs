namespace KernelMm.Spec.Contract;

/// <summary>
/// The buddy page allocator (mm/page_alloc.c) and the conversions around it.
/// Addresses are kernel virtual addresses; 0 is NULL.
/// </summary>
public interface IPageAllocator
{
    /// <summary>
    /// __get_free_pages(gfp, order): 2^order physically contiguous, direct-mapped pages.
    /// __GFP_HIGHMEM is ignored (the result always has a kernel address).
    /// Context: may sleep when <paramref name="gfp"/> allows blocking; such a call in atomic
    /// context raises <see cref="KernelBugException"/> (GFP-1).
    /// Return: the kernel virtual address of the first page, or 0 when no block is available
    /// or the order is above the profile's maximum.
    /// Errors: <see cref="InvalidArgumentException"/> for a negative order or a GFP bit that does not
    /// exist on the profile: any bit but the eight of <see cref="GfpFlags"/>, and GFP_BUFFER (bit 8)
    /// where the profile has none. Every allocating call (kmalloc, kzalloc, krealloc,
    /// kmem_cache_alloc too) refuses them the same way.
    /// </summary>
    ulong GetFreePages(GfpFlags gfp, int order);

    /// <summary>get_zeroed_page(gfp): one page, all zero. Same context and errors as <see cref="GetFreePages"/>.</summary>
    ulong GetZeroedPage(GfpFlags gfp);

    /// <summary>
    /// free_pages(addr, order). addr 0 does nothing.
    /// Errors: <see cref="KernelBugException"/> (PAGE-4) when addr is not the start of a live
    /// allocation of exactly that order (double free, wrong order, interior or foreign address).
    /// </summary>
    void FreePages(ulong addr, int order);

    /// <summary>
    /// alloc_pages(gfp, order): like <see cref="GetFreePages"/> but returns the page descriptor of
    /// the first page, which may be a HIGHMEM page when gfp allows it. <see cref="PageHandle.Null"/> on failure.
    /// </summary>
    PageHandle AllocPages(GfpFlags gfp, int order);

    /// <summary>__free_pages(page, order). Errors as <see cref="FreePages"/>. A null page does nothing.</summary>
    void FreePagesOf(PageHandle page, int order);

    /// <summary>page_to_pfn(page).</summary>
    ulong PageToPfn(PageHandle page);

    /// <summary>pfn_to_page(pfn). Errors: <see cref="InvalidArgumentException"/> for a pfn beyond RAM.</summary>
    PageHandle PfnToPage(ulong pfn);

    /// <summary>page_address(page): the permanent (or current kmap) kernel address, or 0 for an unmapped HIGHMEM page.</summary>
    ulong PageAddress(PageHandle page);

    /// <summary>page_zone(page).</summary>
    Zone PageZone(PageHandle page);

    /// <summary>
    /// virt_to_phys(addr) for a direct-mapped kernel address.
    /// Errors: <see cref="KernelBugException"/> (VMAL-5) for an address in the vmalloc window, where
    /// memory has no single physical address (an implementation declaring <see cref="Capability.Vmalloc"/>);
    /// <see cref="InvalidArgumentException"/> for any other address outside the direct mapping.
    /// </summary>
    ulong VirtToPhys(ulong addr);

    /// <summary>
    /// Free blocks of exactly <paramref name="order"/> in <paramref name="zone"/>, as one column of
    /// /proc/buddyinfo. Pages held in per-CPU free lists count as order-0 blocks.
    /// Errors: <see cref="InvalidArgumentException"/> for a value that is not a <see cref="Zone"/> or an
    /// order outside 0..<see cref="Profiles.Profile.MaxOrder"/>.
    /// </summary>
    long FreeBlocks(Zone zone, int order);

    /// <summary>
    /// Returns every cached free page to the buddy free lists (drain_all_pages, and a shrink of
    /// every cache that holds empty slabs), and runs deferred frees (vfree work deferred from
    /// interrupt context, lazily purged vmalloc ranges). Precondition under which PAGE-8 and
    /// ADDR-11 are checked.
    /// </summary>
    void DrainCaches();

    /// <summary>
    /// /proc/zoneinfo: the watermarks this allocator keeps, per zone (min, the floor for GFP_ATOMIC,
    /// lowmem_reserve), which the documents leave to the implementation. Read once after boot; the
    /// values must not change while the machine runs.
    /// Return: the declaration, or null (the default) to be judged against the profile's default,
    /// <see cref="Contract.ZoneInfo.Default"/>.
    /// </summary>
    ZoneInfo? ZoneInfo() => null;
}

/// <summary>Byte access to kernel virtual memory, as kernel code dereferencing a pointer.</summary>
public interface IKernelMemory
{
    /// <summary>Reads bytes at a mapped kernel address. Errors: <see cref="KernelPageFaultException"/>.</summary>
    void Read(ulong addr, Span<byte> destination);

    /// <summary>Writes bytes at a mapped kernel address. Errors: <see cref="KernelPageFaultException"/>.</summary>
    void Write(ulong addr, ReadOnlySpan<byte> source);
}

/// <summary>
/// The current CPU's execution context (preempt and hard-irq counts) and the task's sleeps.
/// </summary>
public interface IExecutionContext
{
    /// <summary>
    /// preempt_disable(), as spin_lock() does. Nests (Linux's count holds 255 levels). Errors:
    /// <see cref="KernelBugException"/> (GFP-5) when nested deeper than the count holds: it never wraps.
    /// </summary>
    void PreemptDisable();

    /// <summary>preempt_enable(). Errors: <see cref="KernelBugException"/> (GFP-5) when not disabled.</summary>
    void PreemptEnable();

    /// <summary>irq_enter(): start of an interrupt handler. Nests; errors as <see cref="PreemptDisable"/> (Linux holds 15 levels).</summary>
    void IrqEnter();

    /// <summary>irq_exit(). Errors: <see cref="KernelBugException"/> (GFP-5) when not in an interrupt.</summary>
    void IrqExit();

    /// <summary>in_interrupt().</summary>
    bool InInterrupt { get; }

    /// <summary>in_atomic(): true in interrupt context or with preemption disabled.</summary>
    bool InAtomic { get; }

    /// <summary>How many times the task has slept (been scheduled out) since boot.</summary>
    long Sleeps { get; }
}

/// <summary>Temporary kernel mappings of HIGHMEM pages (mm/highmem.c).</summary>
public interface IHighmem
{
    /// <summary>
    /// kmap(page): a kernel address for the page; its own page_address for a low-memory page.
    /// Nested kmaps of one page return the same address. Context: may sleep (GFP-1 in atomic context).
    /// </summary>
    ulong Kmap(PageHandle page);

    /// <summary>kunmap(page). Errors: <see cref="KernelBugException"/> (ZONE-4) when the page is not kmapped.</summary>
    void Kunmap(PageHandle page);

    /// <summary>kmap_atomic(page): never sleeps; valid until the matching <see cref="KunmapAtomic"/>.</summary>
    ulong KmapAtomic(PageHandle page);

    /// <summary>kunmap_atomic(addr). Errors: <see cref="KernelBugException"/> (ZONE-4) for an address kmap_atomic did not return.</summary>
    void KunmapAtomic(ulong addr);
}

/// <summary>
/// Reclaimable memory before user space exists: a simulated clean page cache (GFP-4 decision).
/// A sleeping allocation may reclaim it; a non-sleeping one never does.
/// </summary>
public interface IReclaim
{
    /// <summary>
    /// Fills the page cache with up to <paramref name="pages"/> clean pages (taken with
    /// GFP_HIGHUSER-like placement and no reserve access). Returns how many were added.
    /// </summary>
    int FillPageCache(int pages);

    /// <summary>Clean page-cache pages currently held in <paramref name="zone"/>. Errors: <see cref="InvalidArgumentException"/> for a value that is not a <see cref="Zone"/>.</summary>
    long ReclaimablePages(Zone zone);

    /// <summary>Drops the whole page cache (echo 1 &gt; /proc/sys/vm/drop_caches).</summary>
    void DropPageCache();
}
