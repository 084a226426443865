using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Expectations;

/// <summary>
/// The emergency reserve as one implementation declares it (<see cref="IPageAllocator.ZoneInfo"/>,
/// or the profile's default when it declares nothing), and what the suite may demand from it (GFP-3,
/// GFP-4, PAGE-2, PAGE-8).
/// <para>
/// A request may never leave fewer free pages than its floor: <see cref="ZoneWatermark.Min"/> without
/// reserve access, <see cref="ZoneWatermark.AtomicMin"/> with it, plus the zone's protection against
/// the request's highest zone (per zone), or the sum of those floors over the request's zones
/// (pooled). Conversely the suite demands that an allocation succeed only where the floor would be
/// kept with room to spare (<see cref="Slack"/>): never near a watermark, where an implementation's
/// own rounding or per-CPU counts may legitimately tip it to failure.
/// </para>
/// </summary>
internal sealed class Reserves
{
    private readonly ZoneInfo _info;
    private readonly PhysicalLayout _layout;

    private Reserves(ZoneInfo info, PhysicalLayout layout, bool declared)
    {
        _info = info;
        _layout = layout;
        Declared = declared;
    }

    /// <summary>Whether the implementation declared its watermarks (otherwise the profile's default is used).</summary>
    public bool Declared { get; }
    public WatermarkScope Scope => _info.Scope;

    /// <summary>
    /// Reads the declaration. <paramref name="problem"/> says what is inconsistent with the documents
    /// (GFP-3): a malformed table, a negative count, a GFP_ATOMIC floor above min, or no reserve at all.
    /// </summary>
    public static Reserves Read(ZoneInfo? declared, Profile profile, PhysicalLayout layout, out string? problem)
    {
        var info = declared ?? ZoneInfo.Default(profile);
        problem = Validate(info, layout);
        if (problem is not null) info = ZoneInfo.Default(profile);
        return new Reserves(info, layout, declared is not null);
    }

    private static string? Validate(ZoneInfo info, PhysicalLayout layout)
    {
        if (info.Zones is null || info.Zones.Count != Zones.Count)
            return $"declares {info.Zones?.Count ?? 0} zones' watermarks, not one per zone ({Zones.Count})";
        if (!Enum.IsDefined(info.Scope)) return $"declares an unknown watermark scope {info.Scope}";
        long reserve = 0;
        foreach (var zone in Zones.All)
        {
            var w = info.Zones[(int)zone];
            if (w is null) return $"declares no watermarks for zone {zone.KernelName()}";
            if (w.Min < 0 || w.AtomicMin < 0 || (w.Protection ?? []).Any(p => p < 0))
                return $"declares a negative watermark for zone {zone.KernelName()}: min {w.Min}, GFP_ATOMIC floor {w.AtomicMin}, protection ({string.Join(", ", w.Protection ?? [])})";
            if (w.AtomicMin > w.Min)
                return $"declares a GFP_ATOMIC floor of {w.AtomicMin} pages above zone {zone.KernelName()}'s min of {w.Min}: the reserve is for GFP_ATOMIC, not against it";
            if (info.Scope == WatermarkScope.Pooled || layout.PagesIn(zone) > 0) reserve += w.Min - w.AtomicMin;
        }
        return reserve > 0 ? null : "declares no emergency reserve at all (GFP_ATOMIC's floor equals min in every zone), so GFP_ATOMIC could never succeed where an ordinary request fails";
    }

    /// <summary>The pages zone <paramref name="zone"/> keeps back from a request (per-zone scope): its floor plus its protection.</summary>
    public long Floor(Zone zone, bool reserveAccess, Zone highest)
    {
        var w = _info.Zones[(int)zone];
        return (reserveAccess ? w.AtomicMin : w.Min) + (_info.Scope == WatermarkScope.PerZone ? w.ProtectionAgainst(highest) : 0);
    }

    /// <summary>The pages the zones of a request keep back together (pooled scope).</summary>
    public long PooledFloor(IReadOnlyList<Zone> zones, bool reserveAccess)
    {
        long sum = 0;
        foreach (var z in zones) sum += reserveAccess ? _info.Zones[(int)z].AtomicMin : _info.Zones[(int)z].Min;
        return sum;
    }

    /// <summary>Room the suite leaves above a floor before it demands success: an eighth of the floor.</summary>
    public static long Slack(long floor) => floor / 8;

    /// <summary>
    /// After a successful allocation from <paramref name="servedFrom"/>: whether the request's floor
    /// was kept. Null when it was; otherwise what was broken, for the GFP-3 message.
    /// </summary>
    public string? Breach(IReadOnlyList<long> freeAfter, IReadOnlyList<Zone> zones, Zone servedFrom, bool reserveAccess)
    {
        string who = reserveAccess ? "the GFP_ATOMIC floor" : "min";
        if (_info.Scope == WatermarkScope.Pooled)
        {
            long free = 0;
            foreach (var z in zones) free += freeAfter[(int)z];
            long floor = PooledFloor(zones, reserveAccess);
            return free >= floor ? null
                : $"left {free} free pages in its zones ({string.Join("+", zones.Select(z => z.KernelName()))}), below {who} of {floor} they keep together{DeclaredBy}";
        }
        long kept = freeAfter[(int)servedFrom];
        long need = Floor(servedFrom, reserveAccess, zones[0]);
        long protection = need - Floor(servedFrom, reserveAccess, servedFrom);
        return kept >= need ? null
            : $"left {kept} free pages in zone {servedFrom.KernelName()}, below its {who} of {need - protection}{(protection > 0 ? $" plus {protection} pages of protection (lowmem_reserve) against {zones[0].KernelName()} requests" : "")}{DeclaredBy}";
    }

    /// <summary>
    /// Before (or after) a call: the first zone of the request that holds a free block of at least
    /// <paramref name="order"/> and could give it up while keeping the request's floor with room to
    /// spare. A request that fails although such a zone exists breaks the rule that demands it.
    /// </summary>
    public (Zone Zone, int Order, long Free, long Floor)? Demanded(Func<Zone, int, long> blocks, IReadOnlyList<long> free,
        IReadOnlyList<Zone> zones, int order, int maxOrder, bool reserveAccess)
    {
        long block = 1L << order;
        long pooledFree = 0;
        foreach (var z in zones) pooledFree += free[(int)z];
        long pooledFloor = PooledFloor(zones, reserveAccess);
        foreach (var z in zones)
        {
            int found = -1;
            for (int o = order; o <= maxOrder && found < 0; o++) if (blocks(z, o) > 0) found = o;
            if (found < 0) continue;
            if (_info.Scope == WatermarkScope.Pooled)
            {
                if (pooledFree - block >= pooledFloor + Slack(pooledFloor)) return (z, found, pooledFree, pooledFloor);
            }
            else
            {
                long floor = Floor(z, reserveAccess, zones[0]);
                if (free[(int)z] - block >= floor + Slack(floor)) return (z, found, free[(int)z], floor);
            }
        }
        return null;
    }

    /// <summary>
    /// PAGE-8: how many max-order GFP_ATOMIC|__GFP_HIGHMEM allocations the suite may demand in a row,
    /// given each zone's free pages and free max-order blocks at boot.
    /// </summary>
    public long MaxOrderBlocksDemanded(IReadOnlyList<long> bootFree, IReadOnlyList<long> bootMaxBlocks, int maxOrder)
    {
        long block = 1L << maxOrder;
        IReadOnlyList<Zone> every = [Zone.HighMem, Zone.Normal, Zone.Dma];
        if (_info.Scope == WatermarkScope.Pooled)
        {
            long floor = PooledFloor(every, reserveAccess: true);
            long room = bootFree.Sum() - floor - Slack(floor);
            return Math.Max(0, Math.Min(bootMaxBlocks.Sum(), room / block));
        }
        long total = 0;
        foreach (var z in every)
        {
            long floor = Floor(z, reserveAccess: true, Zone.HighMem);
            long room = bootFree[(int)z] - floor - Slack(floor);
            total += Math.Max(0, Math.Min(bootMaxBlocks[(int)z], room / block));
        }
        return total;
    }

    /// <summary>One line for messages: what the implementation keeps back.</summary>
    public string Describe() =>
        $"{(_info.Scope == WatermarkScope.Pooled ? "pooled" : "per-zone")} watermarks "
        + string.Join(", ", Zones.All.Select(z => $"{z.KernelName()} min {_info.Zones[(int)z].Min}/atomic {_info.Zones[(int)z].AtomicMin}"
            + (_info.Scope == WatermarkScope.PerZone && _info.Zones[(int)z].Protection is { Count: > 0 } p ? $" protection ({string.Join(", ", p)})" : "")))
        + (Declared ? " (declared)" : " (the profile's default)");

    private string DeclaredBy => Declared ? " (as its /proc/zoneinfo declares)" : " (the profile's default reserve)";
}
