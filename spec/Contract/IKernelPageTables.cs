namespace KernelMm.Spec.Contract;

/// <summary>
/// The kernel's own page tables (init_mm / swapper_pg_dir), as the MMU sees them, and ioremap,
/// which maps device memory into kernel virtual space through them (arch/x86/mm/ioremap.c).
/// </summary>
public interface IKernelPageTables
{
    /// <summary>
    /// Walks the page tables for <paramref name="addr"/> as the MMU does on a TLB miss (no TLB is
    /// consulted or filled) and checks <paramref name="access"/> against the entries.
    /// Return: the physical address, or the fault with its reason: not present, protection, or a
    /// user-mode access to a kernel page. Any address may be asked; nothing changes.
    /// </summary>
    Translation Translate(ulong addr, Access access);

    /// <summary>
    /// ioremap(phys, size): kernel virtual addresses for the device (bus) memory
    /// [<paramref name="physAddr"/>, physAddr + size), page by page, without allocating any RAM
    /// for the data (DRV-5; page-table pages may be allocated). The returned address keeps
    /// physAddr's offset within its page.
    /// Context: may sleep.
    /// Return: the address, or 0 when the range cannot be mapped: size 0, ordinary RAM (see DRV-5's
    /// decision), beyond the physical address width, or no room in the window.
    /// Errors: <see cref="InvalidArgumentException"/> for a negative size.
    /// </summary>
    ulong Ioremap(ulong physAddr, long size);

    /// <summary>
    /// iounmap(addr): removes the mapping <see cref="Ioremap"/> returned. addr 0 does nothing.
    /// Errors: <see cref="KernelBugException"/> (DRV-5) for an address ioremap did not return.
    /// </summary>
    void Iounmap(ulong addr);

    /// <summary>
    /// Page-allocator frames currently used as page tables, the kernel's and any process's
    /// (/proc/meminfo PageTables). Frames an implementation keeps outside the RAM it gives the page
    /// allocator (its boot tables, or tables it does not keep in frames at all) are not counted.
    /// The suite uses it to account for every free page (ADDR-11, VMAL-4, DRV-5).
    /// </summary>
    long PageTablePages { get; }
}
