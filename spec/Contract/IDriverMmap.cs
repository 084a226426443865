namespace KernelMm.Spec.Contract;

/// <summary>
/// Character devices whose driver implements the mmap method of file_operations
/// (Capability.DriverMmap). The suite plays the driver author: it allocates the driver's memory
/// with the page allocator, fills it through <see cref="IKernelMemory"/>, and registers a device
/// whose mmap method maps that memory the way the documents show (seed 002: remap_pfn_range for a
/// contiguous buffer, vm_insert_page for a list of pages). A process opens the device with
/// <see cref="IUserMemory.OpenDevice"/> and maps it with <see cref="IUserMemory.Mmap"/> (MAP_SHARED).
/// The frames stay the driver's: unmapping or exit never frees them, and they are never swapped.
/// </summary>
public interface IDriverMmap
{
    /// <summary>
    /// A device whose memory is the physically contiguous frames [<paramref name="pfn"/>,
    /// pfn + <paramref name="pages"/>). Its mmap method records the vma (DRV-1), fails with -EINVAL
    /// when vm_pgoff + the vma's pages exceeds <paramref name="pages"/>, and otherwise returns
    /// remap_pfn_range(vma, vma-&gt;vm_start, pfn + vma-&gt;vm_pgoff, size, vma-&gt;vm_page_prot) (DRV-2),
    /// where size is <paramref name="remapSize"/> bytes, or vm_end - vm_start when it is 0.
    /// Return: the device number, for <see cref="IUserMemory.OpenDevice"/>.
    /// Errors: <see cref="InvalidArgumentException"/> for frames outside RAM or a negative size.
    /// </summary>
    int RegisterRemapDevice(ulong pfn, long pages, long remapSize);

    /// <summary>
    /// A device whose memory is a list of separately allocated pages (seed 003's pattern). Its mmap
    /// method records the vma, fails with -EINVAL when the vma reaches past the list, and otherwise
    /// inserts page vm_pgoff + i at vm_start + i * PAGE_SIZE with vm_insert_page, one call per page (DRV-3).
    /// Return: the device number. Errors: <see cref="InvalidArgumentException"/> for a handle that is no page.
    /// </summary>
    int RegisterPageListDevice(IReadOnlyList<PageHandle> pages);

    /// <summary>The vma the device's mmap method received last, or null when it was never called.</summary>
    DriverVma? LastMmap(int device);
}

/// <summary>
/// What a driver's mmap method sees of the new area (struct vm_area_struct, DRV-1): its start, its
/// end (the first byte past it), the file offset in pages, and the page protection, given here as
/// the PROT_ bits it was built from, plus whether the mapping is shared.
/// </summary>
public sealed record DriverVma(ulong VmStart, ulong VmEnd, ulong VmPgoff, Prot VmPageProt, bool Shared)
{
    /// <summary>The area as the kernel would print its fields.</summary>
    public override string ToString() =>
        $"vm_start 0x{VmStart:x}, vm_end 0x{VmEnd:x}, vm_pgoff {VmPgoff}, vm_page_prot {VmPageProt}, {(Shared ? "shared" : "private")}";
}
