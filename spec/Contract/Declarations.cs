using KernelMm.Spec.Profiles;

namespace KernelMm.Spec.Contract;

// Values the documents leave to the implementation, declared by it as Linux shows them in /proc
// (zoneinfo, slabinfo). The profile only gives the defaults the reference uses; the suite checks
// that behaviour is consistent with what an implementation declares and with what the documents
// fix. These are data: the suite derives every judgement from them itself.

/// <summary>Where the free-page floors of <see cref="ZoneInfo"/> apply.</summary>
public enum WatermarkScope
{
    /// <summary>
    /// Each zone keeps its own floor, as Linux's __zone_watermark_ok: a block may come from zone z
    /// only if z keeps at least its floor plus <see cref="ZoneWatermark.Protection"/>[highest zone the
    /// request may use] free pages afterwards.
    /// </summary>
    PerZone,
    /// <summary>
    /// One floor for the zones a request may use together: their free pages, minus the block, stay at
    /// or above the sum of those zones' floors (<see cref="ZoneWatermark.Protection"/> is not used).
    /// </summary>
    Pooled,
}

/// <summary>
/// One zone's line of /proc/zoneinfo as far as the rules need it: the "min" watermark, the lower
/// floor that requests with access to the emergency reserve may go down to, and "protection"
/// (lowmem_reserve). All counts are pages, compared with the free pages <see cref="IPageAllocator.FreeBlocks"/>
/// reports for the zone (per-CPU pages included).
/// </summary>
public sealed record ZoneWatermark
{
    /// <summary>
    /// "min": a request without reserve access (no __GFP_HIGH: GFP_KERNEL, GFP_NOWAIT, GFP_USER ...)
    /// leaves at least this many free pages (GFP-3).
    /// </summary>
    public required long Min { get; init; }

    /// <summary>
    /// The floor for a request with __GFP_HIGH (GFP_ATOMIC): at most <see cref="Min"/>; 0 lets it take
    /// every free page. Linux: min - min/2 - (min - min/2)/4 for GFP_ATOMIC (ALLOC_HIGH, ALLOC_HARDER),
    /// so it never takes the last pages.
    /// </summary>
    public required long AtomicMin { get; init; }

    /// <summary>
    /// "protection" (lowmem_reserve), indexed by <see cref="Zone"/>: extra pages this zone keeps back
    /// from a request whose highest allowed zone is that zone (a GFP_KERNEL request falling back to
    /// ZONE_DMA, say). Entries for this zone and below are normally 0. Empty means all 0.
    /// </summary>
    public IReadOnlyList<long> Protection { get; init; } = [];

    /// <summary>The protection against requests whose highest allowed zone is <paramref name="highest"/>; 0 when not given.</summary>
    public long ProtectionAgainst(Zone highest) => (int)highest < Protection.Count ? Protection[(int)highest] : 0;
}

/// <summary>
/// /proc/zoneinfo: the free pages an implementation keeps back and from whom
/// (<see cref="IPageAllocator.ZoneInfo"/>). The documents only say that GFP_ATOMIC may use an
/// emergency reserve that other requests may not; its size and shape are the implementation's.
/// </summary>
public sealed record ZoneInfo
{
    /// <summary>Whether the floors hold per zone (Linux) or pooled over the zones a request may use (the reference).</summary>
    public required WatermarkScope Scope { get; init; }
    /// <summary>One entry per zone, indexed by <see cref="Zone"/> (DMA, Normal, HighMem).</summary>
    public required IReadOnlyList<ZoneWatermark> Zones { get; init; }

    /// <summary>
    /// The profile's default, which the reference uses: <see cref="WatermarkScope.Pooled"/>, with the
    /// whole <see cref="Profile.EmergencyReservePages"/> as ZONE_DMA's floor (every zone list of the
    /// profiles contains ZONE_DMA, so every request without __GFP_HIGH keeps that many pages free in
    /// its zones together) and no floor for GFP_ATOMIC. An implementation that declares nothing is
    /// judged against this.
    /// </summary>
    public static ZoneInfo Default(Profile profile) => new()
    {
        Scope = WatermarkScope.Pooled,
        Zones =
        [
            new ZoneWatermark { Min = profile.EmergencyReservePages, AtomicMin = 0 },
            new ZoneWatermark { Min = 0, AtomicMin = 0 },
            new ZoneWatermark { Min = 0, AtomicMin = 0 },
        ],
    };
}

/// <summary>What kmalloc(0) returns (KMAL-1).</summary>
public enum KmallocZero
{
    /// <summary>NULL (the document profiles' default).</summary>
    Null,
    /// <summary>ZERO_SIZE_PTR (16): distinct, never dereferenced, ksize 0; kfree ignores it (linux-6).</summary>
    ZeroSizePtr,
    /// <summary>A live object of the smallest class, freed with kfree like any other (2.4's mm/slab.c).</summary>
    SmallestObject,
}

/// <summary>
/// The kmalloc choices the documents leave open (<see cref="IKmalloc.KmallocInfo"/>), as
/// /proc/slabinfo shows the general caches.
/// </summary>
public sealed record KmallocInfo
{
    /// <summary>
    /// The object sizes of the general caches, ascending (the kmalloc-N / size-N lines of
    /// /proc/slabinfo). A request is served by the smallest class not below it; a request above the
    /// last class, up to KMALLOC_MAX_SIZE, by a page block of PAGE_SIZE &lt;&lt; order bytes.
    /// </summary>
    public required IReadOnlyList<long> Classes { get; init; }
    /// <summary>What kmalloc(0) returns; krealloc(p, 0) frees p and returns NULL, or ZERO_SIZE_PTR where kmalloc(0) does.</summary>
    public required KmallocZero ZeroSize { get; init; }
    /// <summary>
    /// krealloc returns the same object whenever the new size fits in its ksize, whatever the flags
    /// (Linux's krealloc). When false krealloc makes no such promise, but honours the flags' zone.
    /// </summary>
    public required bool KreallocInPlace { get; init; }

    /// <summary>The profile's default, which the reference uses: its class table, kmalloc(0) by profile, no in-place promise.</summary>
    public static KmallocInfo Default(Profile profile) => new()
    {
        Classes = profile.KmallocClasses.Select(c => (long)c).ToList(),
        ZeroSize = profile.KmallocZeroReturnsZeroSizePtr ? KmallocZero.ZeroSizePtr : KmallocZero.Null,
        KreallocInPlace = false,
    };
}
