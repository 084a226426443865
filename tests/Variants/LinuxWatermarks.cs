using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Variants;

/// <summary>
/// Per-zone watermarks computed the way Linux computes them at boot, so that a second correct
/// implementation keeps the reserve the way a Linux-faithful one would (issue 7, section 5). Facts,
/// from mm/page_alloc.c and Documentation/admin-guide/sysctl/vm.rst:
/// <list type="bullet">
/// <item>min_free_kbytes = sqrt(lowmem_kbytes * 16), kept within [128, 65536] (init_per_zone_wmark_min);</item>
/// <item>each low zone's min is its share of min_free_kbytes by managed pages; a HIGHMEM zone's min is
/// managed / 1024 kept within [SWAP_CLUSTER_MAX = 32, 128] pages (__setup_per_zone_wmarks);</item>
/// <item>__GFP_HIGH (ALLOC_HIGH) halves min and a non-blocking GFP_ATOMIC (ALLOC_HARDER) takes another
/// quarter off, so GFP_ATOMIC goes below min but never to the last pages (__zone_watermark_ok);</item>
/// <item>lowmem_reserve_ratio is 256 for ZONE_DMA and 32 for ZONE_NORMAL: zone i keeps back
/// (pages of the zones above it, up to the request's highest zone) / ratio[i] from requests that
/// could have been served higher (setup_per_zone_lowmem_reserve).</item>
/// </list>
/// A zone may serve an order-n block when its free pages minus 2^n stay at or above its floor plus
/// that protection (free - (2^n - 1) &gt; floor + protection, as __zone_watermark_ok compares).
/// </summary>
internal sealed class LinuxWatermarks
{
    private static readonly int[] ReserveRatio = [256, 32, 0];

    public long[] Min { get; } = new long[Zones.Count];
    public long[] AtomicMin { get; } = new long[Zones.Count];
    /// <summary>[zone][highest zone of the request]: lowmem_reserve.</summary>
    public long[][] Protection { get; } = [new long[Zones.Count], new long[Zones.Count], new long[Zones.Count]];

    public LinuxWatermarks(Profile profile, IReadOnlyList<long> zonePages)
    {
        int pageKb = profile.PageSize / 1024;
        long lowPages = zonePages[(int)Zone.Dma] + zonePages[(int)Zone.Normal];
        long minFreeKb = Math.Clamp((long)Math.Sqrt(lowPages * pageKb * 16.0), 128, 65536);
        long pagesMin = minFreeKb / pageKb;
        foreach (var zone in Zones.All)
        {
            long managed = zonePages[(int)zone];
            long min = zone == Zone.HighMem
                ? (managed == 0 ? 0 : Math.Clamp(managed / 1024, 32, 128))
                : lowPages == 0 ? 0 : pagesMin * managed / lowPages;
            Min[(int)zone] = min;
            long high = min - min / 2;                           // ALLOC_HIGH
            AtomicMin[(int)zone] = managed == 0 ? 0 : Math.Max(1, high - high / 4); // ALLOC_HARDER; never the last page
        }
        for (int lower = 0; lower < Zones.Count; lower++)
        {
            long above = 0;
            for (int highest = lower + 1; highest < Zones.Count; highest++)
            {
                above += zonePages[highest];
                Protection[lower][highest] = ReserveRatio[lower] == 0 ? 0 : above / ReserveRatio[lower];
            }
        }
    }

    /// <summary>The pages <paramref name="zone"/> keeps back from a request with or without __GFP_HIGH whose highest zone is <paramref name="highest"/>.</summary>
    public long Floor(Zone zone, bool reserveAccess, Zone highest) =>
        (reserveAccess ? AtomicMin[(int)zone] : Min[(int)zone]) + Protection[(int)zone][(int)highest];

    /// <summary>As /proc/zoneinfo shows it.</summary>
    public ZoneInfo Declare() => new()
    {
        Scope = WatermarkScope.PerZone,
        Zones = Zones.All.Select(z => new ZoneWatermark
        {
            Min = Min[(int)z],
            AtomicMin = AtomicMin[(int)z],
            Protection = Protection[(int)z].ToArray(),
        }).ToList(),
    };
}
