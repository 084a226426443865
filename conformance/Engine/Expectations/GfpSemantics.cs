using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Expectations;

/// <summary>
/// The suite's own reading of a GFP mask, written from the documents (seeds 000-004,
/// include/linux/gfp_types.h, docs/protocol.md's bit table) and shared with no implementation: which
/// bits exist on a profile, which requests may sleep, which may use the emergency reserve, and which
/// zones a request may be served from. The reference has its own (reference/Mm/GfpMask.cs), so that
/// one bug cannot blind both sides (issue 7, section 2).
/// </summary>
internal static class GfpSemantics
{
    // The documented bits, by position (docs/protocol.md): 0 __GFP_DIRECT_RECLAIM, 1 __GFP_IO,
    // 2 __GFP_FS, 3 __GFP_HIGH, 4 __GFP_DMA, 5 __GFP_HIGHMEM, 6 __GFP_HARDWALL, 7 __GFP_ZERO on every
    // profile, and 8 GFP_BUFFER only where the profile has it. Nothing else exists.
    private const uint EveryProfile = 0b1111_1111;
    private const uint BufferBit = 1u << 8;
    private const uint Sleeps = 1u << 0, Reserve = 1u << 3, DmaZone = 1u << 4, HighZone = 1u << 5, Hardwall = 1u << 6, Zeroed = 1u << 7;

    private static readonly Zone[] DmaOnly = [Zone.Dma];
    private static readonly Zone[] Low = [Zone.Normal, Zone.Dma];
    private static readonly Zone[] Every = [Zone.HighMem, Zone.Normal, Zone.Dma];

    /// <summary>Whether every bit of the mask exists on the profile; a request with any other bit must be refused (GFP-7).</summary>
    public static bool Exists(Profile profile, GfpFlags gfp) =>
        ((uint)gfp & ~(EveryProfile | (profile.HasGfpBuffer ? BufferBit : 0))) == 0;

    /// <summary>The bits the profile does not have, for messages.</summary>
    public static uint Unknown(Profile profile, GfpFlags gfp) =>
        (uint)gfp & ~(EveryProfile | (profile.HasGfpBuffer ? BufferBit : 0));

    /// <summary>The request may sleep (direct reclaim), so it is forbidden in atomic context (GFP-1).</summary>
    public static bool MaySleep(GfpFlags gfp) => ((uint)gfp & Sleeps) != 0;

    /// <summary>The request may use the emergency reserve (__GFP_HIGH: GFP_ATOMIC; GFP-3).</summary>
    public static bool UsesReserve(GfpFlags gfp) => ((uint)gfp & Reserve) != 0;

    public static bool WantsDma(GfpFlags gfp) => ((uint)gfp & DmaZone) != 0;
    public static bool AllowsHighmem(GfpFlags gfp) => ((uint)gfp & HighZone) != 0;
    public static bool WantsZero(GfpFlags gfp) => ((uint)gfp & Zeroed) != 0;
    /// <summary>GFP_USER-like (hard wall) or GFP_BUFFER: GFP-7's flags.</summary>
    public static bool UserOrBuffer(GfpFlags gfp) => ((uint)gfp & (Hardwall | BufferBit)) != 0;

    /// <summary>
    /// The zones a request may be served from, highest first (ZONE-1/2/3): __GFP_DMA alone, else
    /// every zone with __GFP_HIGHMEM, else the low zones. <paramref name="addressReturning"/> calls
    /// (__get_free_pages, get_zeroed_page) ignore __GFP_HIGHMEM (ZONE-3).
    /// </summary>
    public static IReadOnlyList<Zone> Zonelist(GfpFlags gfp, bool addressReturning = false) =>
        WantsDma(gfp) ? DmaOnly : AllowsHighmem(gfp) && !addressReturning ? Every : Low;
}
