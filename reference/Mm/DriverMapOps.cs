using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The calls a driver's mmap method makes to fill a user area (mm/memory.c): remap_pfn_range for a
/// run of contiguous frames, vm_insert_page for one page. The entries map the driver's frames
/// directly, so user stores land in the driver's memory and the driver's in the user's view (DRV-4).
/// </summary>
internal sealed class DriverMapOps(UserVm vm)
{
    public int PageShift => vm.PageShift;

    /// <summary>
    /// remap_pfn_range(vma, addr, pfn, size, prot): maps [addr, addr + size) to the frames from
    /// <paramref name="pfn"/> on. Return: 0, or -EINVAL for an unaligned addr, a range outside the
    /// vma, or (DRV-2) a size that is not a page multiple where the profile does not round it up.
    /// </summary>
    public int RemapPfnRange(MmStruct mm, Vma vma, ulong addr, ulong pfn, long size, Prot prot)
    {
        if (size <= 0 || !vm.IsAligned(addr)) return -Errno.EINVAL;
        // DRV-2: remap_pfn_range maps whole pages; today's kernel rounds the size up (PAGE_ALIGN), the documents require a page multiple.
        if ((size & (vm.PageSize - 1)) != 0)
        {
            if (!vm.Profile.RemapPfnRangeRoundsSize) return -Errno.EINVAL;
            size = (long)vm.PageAlign((ulong)size);
        }
        ulong end = addr + (ulong)size;
        if (addr < vma.Start || end > vma.End) return -Errno.EINVAL;
        if (pfn + ((ulong)size >> vm.PageShift) > (ulong)vm.Map.Frames) return -Errno.EINVAL;
        for (ulong va = addr, f = pfn; va < end; va += (ulong)vm.PageSize, f++)
            if (!vm.Mmu.MapUser(mm.Space, va, f, Flags(prot))) return -Errno.ENOMEM;
        return 0;
    }

    /// <summary>vm_insert_page(vma, addr, page): maps one page at addr. Return: 0, -EINVAL outside the vma, -ENOMEM without a page table.</summary>
    public int VmInsertPage(MmStruct mm, Vma vma, ulong addr, int pfn)
    {
        // DRV-3: exactly the page given, at exactly addr.
        if (addr < vma.Start || addr >= vma.End || !vm.IsAligned(addr)) return -Errno.EINVAL;
        return vm.Mmu.MapUser(mm.Space, addr, (ulong)pfn, Flags(vma.Prot)) ? 0 : -Errno.ENOMEM;
    }

    private static PteFlags Flags(Prot prot) => PteRights.For(prot, writable: (prot & Prot.Write) != 0);
}

/// <summary>The page-table entry rights of a user page (x86: PROT_NONE is present without the user bit, any other protection is readable).</summary>
internal static class PteRights
{
    /// <param name="prot">The mapping's protection.</param>
    /// <param name="writable">Whether this very entry may be written (false for a copy-on-write page).</param>
    public static PteFlags For(Prot prot, bool writable) =>
        prot == Prot.None ? PteFlags.Present
        : writable && (prot & Prot.Write) != 0 ? PteFlags.UserReadWrite
        : PteFlags.UserReadOnly;
}
