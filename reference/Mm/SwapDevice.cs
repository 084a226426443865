namespace KernelMm.Reference.Mm;

/// <summary>
/// A swap device of fixed size (mm/swapfile.c reduced): slots of one page each, each used by exactly
/// one swap entry (the reference swaps only pages mapped once). Free slots are reused last-freed
/// first; slots never used are handed out in order. A slot's buffer is made on first use.
/// </summary>
internal sealed class SwapDevice(int slots, int pageSize)
{
    private readonly byte[]?[] _slots = new byte[slots][];
    private readonly Stack<int> _freed = new();
    private int _neverUsed;

    public int Total => _slots.Length;
    public int Free => _freed.Count + _slots.Length - _neverUsed;

    /// <summary>get_swap_page + swap_writepage: a slot holding <paramref name="page"/>, or -1 when the device is full.</summary>
    public int Store(ReadOnlySpan<byte> page)
    {
        int slot = _freed.Count > 0 ? _freed.Pop() : _neverUsed < _slots.Length ? _neverUsed++ : -1;
        if (slot < 0) return -1;
        page.CopyTo(_slots[slot] ??= new byte[pageSize]);
        return slot;
    }

    /// <summary>swap_readpage.</summary>
    public void Load(int slot, Span<byte> page) => _slots[slot].AsSpan().CopyTo(page);

    /// <summary>swap_free: the slot is free again.</summary>
    public void Release(int slot) => _freed.Push(slot);

    /// <summary>A second slot with the same contents (fork of a swapped-out private page), or -1 when full.</summary>
    public int Duplicate(int slot) => Store(_slots[slot]);
}
