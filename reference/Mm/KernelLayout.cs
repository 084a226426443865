using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The kernel's virtual address-space layout at this machine's RAM size, worked out by the
/// reference from the profile's raw parameters (arch/x86/include/asm/pgtable_32_areas.h on x86-32):
/// <code>
///   PAGE_OFFSET ... direct mapping of low memory ... high_memory
///   (VMALLOC_OFFSET hole)
///   VMALLOC_START ... vmalloc and ioremap areas ... VMALLOC_END
///   (two-page gap)
///   PKMAP_BASE ... LAST_PKMAP persistent kmaps ... then the atomic kmap (fixmap) slots
/// </code>
/// </summary>
internal sealed class KernelLayout
{
    /// <summary>Atomic kmap slots (KM_TYPE_NR) placed just above the PKMAP window.</summary>
    public const int AtomicKmapSlots = 16;

    public KernelLayout(Profile profile)
    {
        PageShift = profile.PageShift;
        PageOffset = profile.PageOffset;
        ulong lowMemory = profile.HighmemStart is { } highmem ? Math.Min(highmem, profile.PhysicalMemory) : profile.PhysicalMemory;
        HighMemory = PageOffset + lowMemory;
        VmallocStart = HighMemory + profile.VmallocOffset;
        VmallocEnd = profile.VmallocEnd;
        PkmapBase = profile.PkmapBase;
        PkmapSlots = profile.PkmapSlots;
        PkmapEnd = PkmapBase + ((ulong)PkmapSlots << PageShift);
        AtomicKmapBase = PkmapEnd;
    }

    public int PageShift { get; }
    /// <summary>PAGE_OFFSET: the direct mapping starts here.</summary>
    public ulong PageOffset { get; }
    /// <summary>high_memory: the end of the direct mapping (PAGE_OFFSET + low memory).</summary>
    public ulong HighMemory { get; }
    /// <summary>VMALLOC_START = high_memory + VMALLOC_OFFSET.</summary>
    public ulong VmallocStart { get; }
    /// <summary>VMALLOC_END (exclusive).</summary>
    public ulong VmallocEnd { get; }
    /// <summary>PKMAP_BASE: persistent kmap slot i is at PKMAP_BASE + i pages.</summary>
    public ulong PkmapBase { get; }
    public int PkmapSlots { get; }
    public ulong PkmapEnd { get; }
    /// <summary>Atomic kmap slot i is at this address + i pages.</summary>
    public ulong AtomicKmapBase { get; }
    public bool HasPkmap => PkmapSlots > 0;

    /// <summary>is_vmalloc_addr: inside [VMALLOC_START, VMALLOC_END).</summary>
    public bool IsVmallocAddr(ulong va) => va >= VmallocStart && va < VmallocEnd;
}
