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
        /// <summary>
        /// Head of a block owned by the slab layer (PageSlab): a slab, or a large kmalloc block.
        /// free_pages refuses it; only the slab layer gives it back.
        /// </summary>
        Slab = 5,
        /// <summary>
        /// A frame holding a page table (PageTable): only the page-table code gives it back.
        /// </summary>
        PageTable = 6,
        /// <summary>
        /// A data frame of a vmalloc area: only vfree gives it back.
        /// </summary>
        Vmalloc = 7,
        /// <summary>
        /// A frame of user memory: an anonymous page or a page of an in-memory file. Only the
        /// user-memory code gives it back (at the last unmap, exit, or swap-out).
        /// </summary>
        User = 8,
    }

    public readonly PageState[] State;
    /// <summary>Order of the block whose head this frame is (valid for Buddy and Allocated).</summary>
    public readonly byte[] Order;
    /// <summary>Free-list links (buddy lists); -1 ends a list.</summary>
    public readonly int[] Next;
    public readonly int[] Prev;

    /// <summary>
    /// Maps of machines that were shut down, by size. Booting many short-lived machines (as the
    /// conformance suite does) would otherwise spend most of its time faulting in fresh memory.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, System.Collections.Concurrent.ConcurrentBag<MemMap>> Pool = new();

    /// <summary>A map with every frame in the <see cref="PageState.Tail"/> state, reused when one is pooled.</summary>
    public static MemMap Rent(int frames)
    {
        if (Pool.TryGetValue(frames, out var bag) && bag.TryTake(out var map))
        {
            Array.Clear(map.State);
            Array.Clear(map.Order);
            return map;
        }
        return new MemMap(frames);
    }

    /// <summary>Gives the map back when its machine shuts down; the caller must not use it again.</summary>
    public void Return()
    {
        var bag = Pool.GetOrAdd(Frames, _ => new());
        if (bag.Count < 4) bag.Add(this);
    }

    private MemMap(int frames)
    {
        State = new PageState[frames];
        Order = new byte[frames];
        // The links are only read for frames on a free list, which writes them first, so they need
        // no zeroing: untouched parts of a large machine's map then cost nothing.
        Next = GC.AllocateUninitializedArray<int>(frames);
        Prev = GC.AllocateUninitializedArray<int>(frames);
    }

    public int Frames => State.Length;

    /// <summary>
    /// The slab each frame of a slab belongs to (page->slab), as an id into the slab layer's
    /// table. Written for every frame when a slab is made and never cleared: a stale or
    /// uninitialised entry is harmless because the slab layer accepts an id only when that slab
    /// is live and spans the frame. Created on first use, so machines without slabs pay nothing.
    /// </summary>
    // Stryker disable once Assignment : read once per slab layer (SlabCommon keeps the array); a fresh array per read would only cost memory, since stale ids are never trusted
    public int[] SlabId => _slabId ??= GC.AllocateUninitializedArray<int>(Frames);

    private int[]? _slabId;
}
