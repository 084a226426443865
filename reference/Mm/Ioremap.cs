using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// ioremap and iounmap (arch/x86/mm/ioremap.c): device (bus) memory mapped page by page into a range
/// of the vmalloc window, without allocating any RAM for it (DRV-5): only page-table pages may be
/// taken. Ordinary RAM is refused, as today's x86 refuses it (and 2.4 refused RAM in use).
/// </summary>
/// <param name="freePages">Free pages now: a range whose page tables could never fit is refused at once, as the kernel would fail with -ENOMEM after trying.</param>
internal sealed class Ioremap(KernelLayout layout, VmapAreas areas, Func<KernelPageTables> kpt, Sched sched, long ramFrames, Func<long> freePages)
{
    private readonly int _pageShift = layout.PageShift;

    /// <summary>ioremap(phys, size): the kernel address of phys, or 0.</summary>
    public ulong Map(ulong phys, long size)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"ioremap(0x{phys:x}, {size}): negative size");
        // It may sleep (get_vm_area and page tables with GFP_KERNEL).
        sched.MightSleep($"ioremap(0x{phys:x}, {size})");
        if (size == 0) return 0;
        var tables = kpt();
        ulong pageMask = (1UL << _pageShift) - 1;
        ulong last = phys + (ulong)size - 1;
        if (last < phys) return 0;
        // Stryker disable once Bitwise : ulong addresses, so >> and >>> are the same shift
        ulong firstPfn = phys >> _pageShift, lastPfn = last >> _pageShift;
        // DRV-5 decision: RAM is not device memory, and neither is the kernel image.
        // Stryker disable once Equality : the kernel image holds the highest frames, MaxPfn included, so lastPfn == MaxPfn is refused just below either way
        if (lastPfn > tables.Format.MaxPfn) return 0;
        if (firstPfn < (ulong)ramFrames) return 0;
        ulong imageFirst = (ulong)tables.Image.FirstPfn, imageLast = imageFirst + (ulong)tables.Image.Count - 1;
        if (firstPfn <= imageLast && imageFirst <= lastPfn) return 0;
        ulong span = lastPfn - firstPfn + 1;
        // Stryker disable once Equality,Bitwise,Arithmetic : an early exit only: without it the table-page check or Reserve refuses such a range (Reserve needs its pages plus a guard page inside the window), and wherever the table-page check passes, span is far below int overflow
        if (span > (layout.VmallocEnd - layout.VmallocStart) >> _pageShift) return 0; // larger than the window
        int pages = (int)span;
        if ((long)(span / (ulong)tables.Format.EntriesPerTable(tables.Format.PteLevel)) > freePages()) return 0;
        // Stryker disable once Bitwise : PhysBase is descriptive (/proc/vmallocinfo's phys=): nothing reads it
        var area = areas.Reserve(pages, start => new VmArea { Kind = VmAreaKind.Ioremap, Start = start, Pages = pages, Size = size, PhysBase = firstPfn << _pageShift });
        if (area is null) return 0;
        for (int i = 0; i < pages; i++)
        {
            if (!tables.Mmu.MapKernelFresh(area.Start + ((ulong)i << _pageShift), firstPfn + (ulong)i, PteFlags.Kernel))
            {
                tables.Mmu.UnmapKernelRange(area.Start, area.Start + ((ulong)pages << _pageShift), freeTables: true);
                areas.Release(area);
                return 0;
            }
        }
        return area.Start + (phys & pageMask);
    }

    /// <summary>iounmap(addr): any address in the first page of an ioremap area (the kernel masks it to its page).</summary>
    public void Unmap(ulong addr)
    {
        if (addr == 0) return;
        sched.MightSleep($"iounmap(0x{addr:x})");
        ulong start = addr & ~((1UL << _pageShift) - 1);
        var area = areas.StartingAt(start);
        // DRV-5 decision: iounmap of an address ioremap did not return is reported ("iounmap: bad address").
        if (area is null || area.Kind != VmAreaKind.Ioremap)
            throw new KernelBugException("DRV-5", $"iounmap(0x{addr:x}): bad address (not returned by ioremap{(area is { Kind: VmAreaKind.Vmalloc } ? "; a vmalloc area" : "")})");
        kpt().Mmu.UnmapKernelRange(area.Start, area.Start + ((ulong)area.Pages << _pageShift), freeTables: true);
        areas.Release(area);
    }
}
