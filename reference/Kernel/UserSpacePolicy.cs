namespace KernelMm.Reference;

/// <summary>
/// The choices the rules leave to an implementation of user space, which the reference can make
/// either way: where mmap puts a mapping it may place itself, which anonymous pages reclaim writes
/// out to swap first, and whether fork copies private pages at once or on first write. The suite
/// must pass the reference whichever is chosen (no over-specification).
/// </summary>
public sealed record UserSpacePolicy
{
    /// <summary>Today's default: top-down placement, oldest pages swapped first, lazy copy-on-write.</summary>
    public static readonly UserSpacePolicy Default = new();

    /// <summary>Where mmap places a mapping without MAP_FIXED (and a hint it cannot honour).</summary>
    public MmapLayout Layout { get; init; } = MmapLayout.TopDown;

    /// <summary>Which resident anonymous page reclaim writes out first.</summary>
    public SwapVictimOrder SwapVictims { get; init; } = SwapVictimOrder.OldestFirst;

    /// <summary>fork copies every private page into the child at once instead of sharing it copy-on-write.</summary>
    public bool EagerForkCopy { get; init; }
}

/// <summary>mmap placement (arch_get_unmapped_area and its top-down twin).</summary>
public enum MmapLayout
{
    /// <summary>From mmap_base (below the stack gap) downwards: the highest hole that fits (today's default).</summary>
    TopDown,
    /// <summary>From TASK_UNMAPPED_BASE (TASK_SIZE / 3) upwards: the lowest hole that fits (legacy_va_layout).</summary>
    BottomUp,
}

/// <summary>Order of the anonymous LRU as reclaim scans it.</summary>
public enum SwapVictimOrder
{
    /// <summary>The page faulted in longest ago first (an LRU without accessed bits: FIFO).</summary>
    OldestFirst,
    /// <summary>The most recently faulted-in page first.</summary>
    NewestFirst,
}
