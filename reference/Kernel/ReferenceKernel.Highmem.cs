using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IHighmem: kmap/kunmap of HIGHMEM pages (Mm/Highmem).</summary>
public sealed partial class ReferenceKernel : IHighmem
{
    public ulong Kmap(PageHandle page)
    {
        Alive();
        int pfn = PfnOf(page);
        // ZONE-4 decision: kmap may sleep (waiting for a free slot), so it is reported in atomic context.
        _sched.MightSleep("kmap");
        if (_direct.IsLowPfn(pfn)) return _direct.PfnToVirt(pfn);
        ulong addr = _highmem.Map(pfn);
        if (addr == 0) throw new KernelBugException("ZONE-4", "kmap: every PKMAP slot is in use (the kernel would sleep forever here)");
        return addr;
    }

    public void Kunmap(PageHandle page)
    {
        Alive();
        int pfn = PfnOf(page);
        if (_direct.IsLowPfn(pfn)) return;
        _highmem.Unmap(pfn);
    }

    public ulong KmapAtomic(PageHandle page)
    {
        Alive();
        int pfn = PfnOf(page);
        return _highmem.MapAtomic(pfn, _direct.IsLowPfn(pfn) ? _direct.PfnToVirt(pfn) : 0);
    }

    public void KunmapAtomic(ulong addr)
    {
        Alive();
        _highmem.UnmapAtomic(addr);
    }
}
