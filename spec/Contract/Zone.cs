namespace KernelMm.Spec.Contract;

/// <summary>Physical memory zones (ZONE-1), lowest first.</summary>
public enum Zone
{
    /// <summary>ZONE_DMA: frames below MAX_DMA_ADDRESS (16 MiB on x86).</summary>
    Dma = 0,
    /// <summary>ZONE_NORMAL: direct-mapped frames above the DMA zone.</summary>
    Normal = 1,
    /// <summary>ZONE_HIGHMEM: frames with no permanent kernel mapping (32-bit only).</summary>
    HighMem = 2,
}

/// <summary>The zones in order, and their kernel names.</summary>
public static class Zones
{
    /// <summary>Every zone, lowest first.</summary>
    public static readonly Zone[] All = [Zone.Dma, Zone.Normal, Zone.HighMem];
    /// <summary>How many zones there are (MAX_NR_ZONES here).</summary>
    public const int Count = 3;
    /// <summary>The zone's name as the kernel prints it in /proc/buddyinfo and /proc/zoneinfo ("DMA", "Normal", "HighMem").</summary>
    public static string KernelName(this Zone zone) => zone switch
    {
        Zone.Dma => "DMA",
        Zone.Normal => "Normal",
        Zone.HighMem => "HighMem",
        _ => zone.ToString(),
    };
}
