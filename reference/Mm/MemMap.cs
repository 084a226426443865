namespace KernelMm.Reference.Mm;

/// <summary>
/// The page descriptor array (mem_map, one struct page per frame), stored as parallel arrays
/// for speed. Only the head frame of a block carries state; every other frame is
/// <see cref="PageState.Tail"/>.
/// </summary>
internal sealed class MemMap
{
    /// <summary>State of the head frame of a block (include/linux/page-flags.h, much reduced).</summary>
    public enum PageState : byte
    {
        /// <summary>Not the head of any block: inside a free or allocated block.</summary>
        Tail = 0,
        /// <summary>Head of a free block on a buddy free list (PageBuddy).</summary>
        Buddy = 1,
        /// <summary>A free order-0 page held on a per-CPU list.</summary>
        PerCpu = 2,
        /// <summary>Head of a block handed out by the page allocator.</summary>
        Allocated = 3,
        /// <summary>A clean page-cache page (reclaimable).</summary>
        PageCache = 4,
    }

    public readonly PageState[] State;
    /// <summary>Order of the block whose head this frame is (valid for Buddy and Allocated).</summary>
    public readonly byte[] Order;
    /// <summary>Free-list links (buddy lists); -1 ends a list.</summary>
    public readonly int[] Next;
    public readonly int[] Prev;

    public MemMap(int frames)
    {
        State = new PageState[frames];
        Order = new byte[frames];
        Next = new int[frames];
        Prev = new int[frames];
    }

    public int Frames => State.Length;
}
