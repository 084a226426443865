using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Expectations;

/// <summary>
/// The suite's own derivation of the kernel's virtual address-space layout on one machine (VMAL-2,
/// ADDR-6, ZONE-4, DRV-5), from the profile's raw parameters only (PageOffset, VmallocOffset,
/// VmallocEnd, PkmapBase, PkmapSlots, and the direct mapping's end from <see cref="PhysicalLayout"/>):
/// <code>
///   PAGE_OFFSET ... direct mapping of low memory ... PAGE_OFFSET + low memory
///   (VMALLOC_OFFSET hole: nothing mapped)
///   VMALLOC_START ... vmalloc and ioremap areas ... VMALLOC_END
///   PKMAP_BASE ... LAST_PKMAP persistent kmap slots
/// </code>
/// Implementations derive theirs themselves (the reference in reference/Mm/KernelLayout.cs); none of
/// this is shared with them, so that one wrong window cannot blind both sides (issue 7, section 2).
/// </summary>
internal sealed class VirtualLayout
{
    private readonly int _shift;

    public VirtualLayout(Profile profile)
    {
        Physical = new PhysicalLayout(profile);
        _shift = System.Numerics.BitOperations.Log2((uint)profile.PageSize);
        PageOffset = profile.PageOffset;
        DirectMapEnd = PageOffset + Physical.DirectEnd;
        HoleBytes = profile.VmallocOffset;
        VmallocStart = DirectMapEnd + profile.VmallocOffset;
        VmallocEnd = profile.VmallocEnd;
        PkmapBase = profile.PkmapBase;
        PkmapSlots = profile.PkmapSlots;
        PkmapEnd = PkmapBase + ((ulong)PkmapSlots << _shift);
        LowFrames = Physical.DirectEnd >> _shift;
        MaxOrderBlockBytes = (long)profile.PageSize << profile.MaxOrder;
    }

    /// <summary>Zones and the direct mapping in physical terms.</summary>
    public PhysicalLayout Physical { get; }
    public ulong PageOffset { get; }
    /// <summary>high_memory: the first virtual address past the direct mapping of low memory.</summary>
    public ulong DirectMapEnd { get; }
    /// <summary>Bytes of the VMALLOC_OFFSET hole between the direct mapping and VMALLOC_START.</summary>
    public ulong HoleBytes { get; }
    /// <summary>VMALLOC_START = high_memory + VMALLOC_OFFSET.</summary>
    public ulong VmallocStart { get; }
    /// <summary>VMALLOC_END (exclusive).</summary>
    public ulong VmallocEnd { get; }
    /// <summary>Bytes of the vmalloc window.</summary>
    public ulong VmallocBytes => VmallocEnd - VmallocStart;
    /// <summary>
    /// The window ioremap must take addresses from (DRV-5): the vmalloc window, as Linux's ioremap
    /// gets a vm area there (get_vm_area_caller with VM_IOREMAP).
    /// </summary>
    public ulong IoremapStart => VmallocStart;
    public ulong IoremapEnd => VmallocEnd;
    /// <summary>PKMAP_BASE and the end of the persistent kmap window (LAST_PKMAP slots of one page).</summary>
    public ulong PkmapBase { get; }
    public ulong PkmapEnd { get; }
    public int PkmapSlots { get; }
    /// <summary>Frames of low memory: below this pfn a frame has a direct-mapped address.</summary>
    public ulong LowFrames { get; }
    /// <summary>Bytes of the largest physically contiguous block the page allocator can hand out.</summary>
    public long MaxOrderBlockBytes { get; }

    /// <summary>Whether [start, end) is a non-empty range inside the vmalloc window.</summary>
    public bool InVmallocWindow(ulong start, ulong end) => start >= VmallocStart && end <= VmallocEnd && end > start;

    /// <summary>Whether [start, end) is a non-empty range inside the ioremap window.</summary>
    public bool InIoremapWindow(ulong start, ulong end) => start >= IoremapStart && end <= IoremapEnd && end > start;

    /// <summary>Whether a page-aligned address is one of the persistent kmap slots.</summary>
    public bool IsPkmapSlot(ulong va) => va >= PkmapBase && va < PkmapEnd && (va & ((1UL << _shift) - 1)) == 0;

    /// <summary>The direct-mapped address of a low-memory frame's byte (PAGE_OFFSET + PA).</summary>
    public ulong DirectAddress(ulong pfn, ulong offset = 0) => PageOffset + (pfn << _shift) + offset;
}
