namespace KernelMm.Spec.Contract;

/// <summary>
/// A modelled translation lookaside buffer in front of <see cref="IKernelPageTables"/> (ADDR-8).
/// Optional: an implementation without one does not declare <see cref="Capability.Tlb"/> and
/// ADDR-8 is reported not applicable. The suite never demands a size, a replacement policy or
/// when a flush happens, only that a cached translation is never stale.
/// </summary>
public interface ITlb
{
    /// <summary>
    /// Translates <paramref name="addr"/> as the CPU does: from the TLB on a hit; on a miss by
    /// walking the page tables, filling the TLB when the entry is present. Counts exactly one hit or
    /// one miss. The result always equals <see cref="IKernelPageTables.Translate"/>'s.
    /// </summary>
    Translation TlbTranslate(ulong addr, Access access);

    /// <summary>Translations answered from the TLB since boot.</summary>
    long TlbHits { get; }

    /// <summary>Translations that had to walk the page tables since boot (faulting ones included).</summary>
    long TlbMisses { get; }

    /// <summary>How many translations the TLB holds at most (as /proc/cpuinfo's "TLB size").</summary>
    int TlbEntries { get; }

    /// <summary>flush_tlb_kernel_range(start, end): no translation of a page in [start, end) stays cached.</summary>
    void FlushTlbKernelRange(ulong start, ulong end);

    /// <summary>flush_tlb_all(): no translation stays cached.</summary>
    void FlushTlbAll();
}
