using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Expectations;

/// <summary>
/// The suite's own derivation of where zones and the direct mapping lie on one machine (ZONE-1,
/// ADDR-10), from the profile's raw parameters only (DmaLimit, HighmemStart, PhysicalMemory,
/// PageOffset). Implementations derive theirs themselves; none of this is shared with them.
/// </summary>
internal sealed class PhysicalLayout
{
    private readonly int _shift;

    public PhysicalLayout(Profile profile)
    {
        _shift = System.Numerics.BitOperations.Log2((uint)profile.PageSize);
        PageOffset = profile.PageOffset;
        RamEnd = profile.PhysicalMemory;
        DmaEnd = Math.Min(profile.DmaLimit, RamEnd);
        // ZONE_HIGHMEM starts at HighmemStart; with less RAM there is none, and the direct mapping
        // covers exactly the RAM that exists (ADDR-10).
        DirectEnd = profile.HighmemStart is { } h && h < RamEnd ? h : RamEnd;
    }

    public ulong PageOffset { get; }
    /// <summary>End of RAM (physical).</summary>
    public ulong RamEnd { get; }
    /// <summary>End of ZONE_DMA (physical): MAX_DMA_ADDRESS, or the end of RAM below it.</summary>
    public ulong DmaEnd { get; }
    /// <summary>End of low memory and of its direct mapping (physical).</summary>
    public ulong DirectEnd { get; }
    public bool HasHighmem => DirectEnd < RamEnd;

    /// <summary>The zone of a physical address.</summary>
    public Zone ZoneOfPhys(ulong pa) => pa < DmaEnd ? Zone.Dma : pa < DirectEnd ? Zone.Normal : Zone.HighMem;

    public Zone ZoneOfPfn(ulong pfn) => ZoneOfPhys(pfn << _shift);

    /// <summary>The physical byte range [start, end) of a zone; empty when start == end.</summary>
    public (ulong Start, ulong End) Span(Zone zone) => zone switch
    {
        Zone.Dma => (0, DmaEnd),
        Zone.Normal => (DmaEnd, Math.Max(DmaEnd, DirectEnd)),
        _ => (DirectEnd, RamEnd),
    };

    public long PagesIn(Zone zone)
    {
        var (start, end) = Span(zone);
        return (long)((end - start) >> _shift);
    }

    /// <summary>Whether a kernel virtual address lies in the direct mapping of existing low memory.</summary>
    public bool IsDirectMapped(ulong va) => va >= PageOffset && va - PageOffset < DirectEnd;

    /// <summary>Whether a kernel virtual address would be the "direct" address of a HIGHMEM frame: PAGE_OFFSET + PA beyond low memory.</summary>
    public bool IsHighmemAlias(ulong va) => va >= PageOffset && va - PageOffset >= DirectEnd && va - PageOffset < RamEnd;
}
