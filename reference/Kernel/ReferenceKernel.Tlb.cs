using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>ITlb: the simulated CPU's TLB (Mm/Tlb) as the MMU (Mm/Mmu) uses it.</summary>
public sealed partial class ReferenceKernel : ITlb
{
    public Translation TlbTranslate(ulong addr, Access access)
    {
        Alive();
        CheckAccess(access, "tlb_translate");
        return Kpt.Mmu.Translate(addr, access);
    }

    public long TlbHits
    {
        get { Alive(); return _kpt?.Tlb.Hits ?? 0; }
    }

    public long TlbMisses
    {
        get { Alive(); return _kpt?.Tlb.Misses ?? 0; }
    }

    public int TlbEntries
    {
        get { Alive(); return _tlbEntries; }
    }

    public void FlushTlbKernelRange(ulong start, ulong end)
    {
        Alive();
        _kpt?.Tlb.FlushKernelRange(start, end);
    }

    public void FlushTlbAll()
    {
        Alive();
        _kpt?.Tlb.FlushAll();
    }
}
