namespace KernelMm.Spec.Contract;

/// <summary>
/// vmalloc and vfree (mm/vmalloc.c): memory that is contiguous in kernel virtual addresses and
/// built page by page from frames that need not be contiguous, mapped through the kernel's page
/// tables in the window [VMALLOC_START, VMALLOC_END) of the profile.
/// </summary>
public interface IVmalloc
{
    /// <summary>
    /// vmalloc(size): at least <paramref name="size"/> bytes, page aligned, virtually contiguous.
    /// Context: may sleep: a call in atomic or interrupt context is a caller bug, raised as
    /// <see cref="KernelBugException"/> (VMAL-3) before anything is allocated.
    /// Return: the kernel virtual address of the area, or 0 when it cannot be served (no memory,
    /// no room in the window, or size 0, as Linux's vmalloc(0) returns NULL).
    /// Errors: <see cref="InvalidArgumentException"/> for a negative size.
    /// </summary>
    ulong Vmalloc(long size);

    /// <summary>vzalloc(size): as <see cref="Vmalloc"/>, and every byte of the area reads zero.</summary>
    ulong Vzalloc(long size);

    /// <summary>
    /// vfree(addr): releases the area <paramref name="addr"/> starts, its frames and its mapping.
    /// addr 0 does nothing.
    /// Context: may sleep; see VMAL-3's decision for atomic and interrupt context (the profile's
    /// <c>VfreeDefersInInterrupt</c>).
    /// Errors: <see cref="KernelBugException"/> (VMAL-6) when addr is not the start of a live
    /// vmalloc area (double vfree, interior pointer, kmalloc or page-allocator memory).
    /// </summary>
    void Vfree(ulong addr);

    /// <summary>
    /// vmalloc_to_pfn(addr): the frame mapped at the page holding <paramref name="addr"/>, a
    /// vmalloc address (VMAL-5: there is no single physical address, only one frame per page).
    /// Errors: <see cref="InvalidArgumentException"/> when addr is not a mapped vmalloc address.
    /// </summary>
    ulong VmallocToPfn(ulong addr);

    /// <summary>is_vmalloc_addr(addr): whether addr lies in the vmalloc window [VMALLOC_START, VMALLOC_END).</summary>
    bool IsVmallocAddr(ulong addr);
}
