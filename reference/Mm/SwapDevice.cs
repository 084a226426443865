namespace KernelMm.Reference.Mm;

/// <summary>
/// A swap device of fixed size (mm/swapfile.c reduced): slots of one page each, handed out lowest
/// first, each used by exactly one swap entry (the reference swaps only pages mapped once).
/// </summary>
internal sealed class SwapDevice
{
    private readonly byte[]?[] _slots;
    private readonly SortedSet<int> _free;
    private readonly int _pageSize;

    public SwapDevice(int slots, int pageSize)
    {
        _slots = new byte[slots][];
        _free = new SortedSet<int>(Enumerable.Range(0, slots));
        _pageSize = pageSize;
    }

    public int Total => _slots.Length;
    public int Free => _free.Count;

    /// <summary>get_swap_page + swap_writepage: a slot holding <paramref name="page"/>, or -1 when the device is full.</summary>
    public int Store(ReadOnlySpan<byte> page)
    {
        if (_free.Count == 0) return -1;
        int slot = _free.Min;
        _free.Remove(slot);
        page.CopyTo(_slots[slot] ??= new byte[_pageSize]);
        return slot;
    }

    /// <summary>swap_readpage.</summary>
    public void Load(int slot, Span<byte> page) => _slots[slot].AsSpan().CopyTo(page);

    /// <summary>swap_free: the slot is free again.</summary>
    public void Release(int slot) => _free.Add(slot);

    /// <summary>A second slot with the same contents (fork of a swapped-out private page), or -1 when full.</summary>
    public int Duplicate(int slot) => Store(_slots[slot]);
}
