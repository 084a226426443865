using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IReclaim: the simulated clean page cache that sleeping allocations may reclaim (Mm/Vmscan).</summary>
public sealed partial class ReferenceKernel : IReclaim
{
    public int FillPageCache(int pages)
    {
        Alive();
        return pages >= 0 ? _vmscan.Fill(pages) : throw new InvalidArgumentException("pages", "negative page count");
    }

    public long ReclaimablePages(Zone zone)
    {
        Alive();
        CheckZone(zone, "reclaimable pages");
        return _vmscan.Reclaimable(zone);
    }

    public void DropPageCache()
    {
        Alive();
        _vmscan.DropAll();
    }
}
