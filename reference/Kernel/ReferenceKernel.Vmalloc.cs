using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IVmalloc: vmalloc, vzalloc, vfree (Mm/Vmalloc) over the vmalloc window (Mm/VmapAreas).</summary>
public sealed partial class ReferenceKernel : IVmalloc
{
    private Mm.Vmalloc Vmallocs => _vmalloc ??= new Mm.Vmalloc(_layout, VmapAreas, () => Kpt,
        // VMAL-4 decision: data frames come one at a time from any zone, HIGHMEM included.
        () => AllocPagesPfn(Gfp.Kernel | GfpFlags.HighMem, 0, "vmalloc"),
        pfn => _pages.Free(pfn, 0),
        _map, _memory, _sched, Profile.VfreeDefersInInterrupt, _map.Frames);

    public ulong Vmalloc(long size)
    {
        Alive();
        return Vmallocs.Alloc(size, zero: false, "vmalloc");
    }

    public ulong Vzalloc(long size)
    {
        Alive();
        return Vmallocs.Alloc(size, zero: true, "vzalloc");
    }

    public void Vfree(ulong addr)
    {
        Alive();
        Vmallocs.Free(addr);
    }

    public ulong VmallocToPfn(ulong addr)
    {
        Alive();
        return Vmallocs.ToPfn(addr);
    }

    public bool IsVmallocAddr(ulong addr)
    {
        Alive();
        return _layout.IsVmallocAddr(addr);
    }
}
