using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>What the suite can observe of the allocator's state between two calls: buddyinfo, page cache, sleeps.</summary>
internal sealed class Snapshot(int maxOrder)
{
    private readonly int _orders = maxOrder + 1;
    public readonly long[] Blocks = new long[Zones.Count * (maxOrder + 1)];
    public readonly long[] Free = new long[Zones.Count];
    public readonly long[] Reclaim = new long[Zones.Count];
    public long Sleeps;

    public void Take(IPageAllocator pages, IReclaim? reclaim, IExecutionContext? ctx)
    {
        for (int z = 0; z < Zones.Count; z++)
        {
            long free = 0;
            for (int o = 0; o < _orders; o++)
            {
                long n = pages.FreeBlocks((Zone)z, o);
                Blocks[z * _orders + o] = n;
                free += n << o;
            }
            Free[z] = free;
            Reclaim[z] = reclaim?.ReclaimablePages((Zone)z) ?? 0;
        }
        Sleeps = ctx?.Sleeps ?? 0;
    }

    public long BlocksAt(Zone zone, int order) => Blocks[(int)zone * _orders + order];

    /// <summary>The first allowed zone with a free block of at least <paramref name="order"/>, or null.</summary>
    public (Zone Zone, int Order)? BlockFor(IReadOnlyList<Zone> zones, int order)
    {
        foreach (var z in zones)
            for (int o = order; o < _orders; o++)
                if (BlocksAt(z, o) > 0) return (z, o);
        return null;
    }

    public long FreeIn(IReadOnlyList<Zone> zones)
    {
        long sum = 0;
        foreach (var z in zones) sum += Free[(int)z];
        return sum;
    }

    public long ReclaimIn(IReadOnlyList<Zone> zones)
    {
        long sum = 0;
        foreach (var z in zones) sum += Reclaim[(int)z];
        return sum;
    }

    public bool SameCounts(Snapshot other) =>
        Free.AsSpan().SequenceEqual(other.Free) && Reclaim.AsSpan().SequenceEqual(other.Reclaim);

    public string DescribeFree() =>
        string.Join(", ", Zones.All.Select(z => $"{z.KernelName()} {Free[(int)z]}"));
}
