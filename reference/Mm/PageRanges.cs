using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Operations on the page-table entries of a range of one process (mm/memory.c zap_page_range and
/// copy_page_range, mm/mprotect.c change_protection). Every entry is changed through the MMU's
/// helpers, which flush it from the TLB (ADDR-8: no stale translation after munmap or mprotect).
/// </summary>
internal sealed class PageRanges(UserVm vm)
{
    /// <summary>
    /// zap_page_range + free_pgtables: removes every entry of [start, end), drops the anonymous pages
    /// only this mapping held (their frames go back), frees the swap slots of the range, and gives back
    /// the page tables that emptied. File, shmem and driver frames stay with their owners.
    /// </summary>
    public void Zap(MmStruct mm, ulong start, ulong end)
    {
        var format = mm.Table.Format;
        foreach (var (va, entry, _) in mm.Table.Leaves(start, end))
        {
            int pfn = (int)format.PfnOf(entry);
            vm.Mmu.UnmapUser(mm.Space, va);
            if (vm.Anon.Get(pfn) is { } anon)
            {
                anon.Rmap.Remove((mm, va));
                if (anon.MapCount == 0)
                {
                    vm.Anon.Remove(anon);
                    vm.FreeFrame(pfn);
                }
            }
        }
        if (mm.SwapEntries.Count != 0)
        {
            ulong first = start >> vm.PageShift, last = (end - 1) >> vm.PageShift;
            foreach (var vpn in mm.SwapEntries.Keys.Where(v => v >= first && v <= last).ToList())
            {
                vm.Swap.Release(mm.SwapEntries[vpn]);
                mm.SwapEntries.Remove(vpn);
            }
        }
        mm.Table.FreeEmptyTables(start, end);
    }

    /// <summary>
    /// change_protection after <paramref name="vma"/>'s protection changed: every present entry of
    /// [start, end) gets the new rights; a copy-on-write page (private and still shared with another
    /// process, or a file page not yet copied) stays write-protected.
    /// </summary>
    public void ChangeProtection(MmStruct mm, Vma vma, ulong start, ulong end)
    {
        var format = mm.Table.Format;
        foreach (var (va, entry, _) in mm.Table.Leaves(start, end))
        {
            int pfn = (int)format.PfnOf(entry);
            vm.Mmu.MapUser(mm.Space, va, (ulong)pfn, PteRights.For(vma.Prot, Writable(vma, pfn)));
        }
    }

    /// <summary>Whether the entry of <paramref name="pfn"/> in <paramref name="vma"/> may be writable (when the protection allows writes).</summary>
    public bool Writable(Vma vma, int pfn) =>
        vma.Shared || vma.Backing == VmaBacking.Device || vm.Anon.Get(pfn) is { MapCount: 1 };

    /// <summary>
    /// copy_page_range for fork: the child gets the parent's entries of <paramref name="vma"/>.
    /// Shared and driver pages are mapped as they are; private pages are shared copy-on-write (both
    /// entries write-protected) or, with the eager policy, copied at once; swapped-out private pages
    /// get a slot of their own. Returns false when memory ran out (the caller tears the child down).
    /// </summary>
    public bool CopyForFork(MmStruct parent, MmStruct child, Vma vma, PageFaults faults)
    {
        var format = parent.Table.Format;
        foreach (var (va, entry, _) in parent.Table.Leaves(vma.Start, vma.End))
        {
            int pfn = (int)format.PfnOf(entry);
            var flags = PageTableFormat.FlagsOf(entry);
            if (vma.Shared || vma.Backing == VmaBacking.Device)
            {
                if (!vm.Mmu.MapUser(child.Space, va, (ulong)pfn, flags)) return false;
                continue;
            }
            if (vm.Policy.EagerForkCopy && vm.Anon.Get(pfn) is not null)
            {
                int copy = vm.AllocFrame();
                if (copy < 0) return false;
                vm.CopyFrame(pfn, copy);
                if (faults.MapAnon(child, vma, va, copy) != UserFault.None) return false;
                continue;
            }
            var readOnly = PteRights.For(vma.Prot, writable: false);
            if (!vm.Mmu.MapUser(child.Space, va, (ulong)pfn, readOnly)) return false;
            vm.Mmu.MapUser(parent.Space, va, (ulong)pfn, readOnly);
            vm.Anon.Get(pfn)?.Rmap.Add((child, va));
        }
        // Stryker disable once Logical : swap entries are kept for private anonymous pages only and vmas do not overlap, so a shared or driver vma's range holds none: entering the loop for one finds nothing
        if (!vma.Shared && vma.Backing != VmaBacking.Device && parent.SwapEntries.Count != 0)
        {
            ulong first = vma.Start >> vm.PageShift, last = (vma.End - 1) >> vm.PageShift;
            foreach (var (vpn, slot) in parent.SwapEntries)
            {
                if (vpn < first || vpn > last) continue;
                int copy = vm.Swap.Duplicate(slot);
                if (copy < 0) return false;
                child.SwapEntries[vpn] = copy;
            }
        }
        return true;
    }
}
