namespace KernelMm.Tests.Variants;

/// <summary>
/// Kernel mappings of HIGHMEM frames. Persistent kmaps use the PKMAP window, handing out slots
/// from the top down; the last kunmap is lazy: the slot keeps the frame (and page_address keeps
/// returning it) until the window runs out of empty slots and every unused slot is flushed.
/// kmap_atomic uses a small separate window above PKMAP and may be undone in any order.
/// </summary>
internal sealed class KmapWindow
{
    private const int AtomicSlots = 16;
    /// <summary>Unmapped pages between the PKMAP window and the atomic window.</summary>
    private const int GuardPages = 256;

    private readonly int _shift;
    private readonly ulong _pkmapBase;
    private readonly ulong _atomicBase;
    private readonly int[] _slotPfn;
    private readonly int[] _slotUsers;
    private readonly Dictionary<int, int> _slotOf = new();
    private readonly int[] _atomicPfn = new int[AtomicSlots];
    /// <summary>Outstanding kmap_atomic calls: the page address handed out and the atomic slot (-1 for a low-memory page).</summary>
    private readonly List<(ulong Page, int Slot)> _atomic = new();

    /// <summary>A fault (<see cref="Fault.KmapSlotSearchOffByOne"/>): the free-slot search returns the slot above the one it found.</summary>
    private readonly bool _offByOne;

    public KmapWindow(ulong pkmapBase, int slots, int pageShift, bool slotSearchOffByOne = false)
    {
        _offByOne = slotSearchOffByOne;
        _shift = pageShift;
        _pkmapBase = pkmapBase;
        _slotPfn = new int[slots];
        _slotUsers = new int[slots];
        Array.Fill(_slotPfn, -1);
        Array.Fill(_atomicPfn, -1);
        _atomicBase = pkmapBase + ((ulong)(slots + GuardPages) << pageShift);
    }

    /// <summary>The PKMAP address currently holding the frame (in use or lazily kept), or 0.</summary>
    public ulong AddressOf(int pfn) => _slotOf.TryGetValue(pfn, out int slot) ? SlotAddress(slot) : 0;

    /// <summary>How many kmaps of the frame are outstanding.</summary>
    public int Users(int pfn) => _slotOf.TryGetValue(pfn, out int slot) ? _slotUsers[slot] : 0;

    /// <summary>kmap: the frame's slot (reviving a lazily kept one) or a new one; 0 when every slot is in use.</summary>
    public ulong Map(int pfn)
    {
        if (!_slotOf.TryGetValue(pfn, out int slot))
        {
            slot = HighestEmptySlot();
            if (slot < 0) { FlushUnused(); slot = HighestEmptySlot(); }
            if (slot < 0) return 0;
            if (_offByOne && slot + 1 < _slotPfn.Length) slot++;
            _slotPfn[slot] = pfn;
            _slotOf[pfn] = slot;
        }
        _slotUsers[slot]++;
        return SlotAddress(slot);
    }

    /// <summary>kunmap: drops one use; the mapping itself stays until its slot is needed. False when not kmapped.</summary>
    public bool Unmap(int pfn)
    {
        if (!_slotOf.TryGetValue(pfn, out int slot) || _slotUsers[slot] == 0) return false;
        _slotUsers[slot]--;
        return true;
    }

    /// <summary>Removes every mapping of a frame that is being freed.</summary>
    public void Forget(int pfn)
    {
        if (!_slotOf.Remove(pfn, out int slot)) return;
        _slotPfn[slot] = -1;
        _slotUsers[slot] = 0;
    }

    /// <summary>kmap_atomic of a HIGHMEM frame; 0 when every atomic slot is taken.</summary>
    public ulong MapAtomic(int pfn)
    {
        int slot = Array.IndexOf(_atomicPfn, -1);
        if (slot < 0) return 0;
        _atomicPfn[slot] = pfn;
        ulong addr = _atomicBase + ((ulong)slot << _shift);
        _atomic.Add((addr, slot));
        return addr;
    }

    /// <summary>kmap_atomic of a low-memory page: its direct address, remembered so kunmap_atomic accepts it.</summary>
    public ulong MapAtomicDirect(ulong directAddress)
    {
        if (_atomic.Count >= 4 * AtomicSlots) return 0;
        _atomic.Add((PageOf(directAddress), -1));
        return directAddress;
    }

    /// <summary>kunmap_atomic: any address inside a page kmap_atomic returned; false otherwise.</summary>
    public bool UnmapAtomic(ulong addr)
    {
        int i = _atomic.FindLastIndex(m => m.Page == PageOf(addr));
        if (i < 0) return false;
        if (_atomic[i].Slot >= 0) _atomicPfn[_atomic[i].Slot] = -1;
        _atomic.RemoveAt(i);
        return true;
    }

    /// <summary>Translates an address in either window to its frame and offset.</summary>
    public bool TryTranslate(ulong addr, out int pfn, out int offset)
    {
        pfn = -1;
        offset = (int)(addr & ((1UL << _shift) - 1));
        if (addr >= _pkmapBase && addr - _pkmapBase < ((ulong)_slotPfn.Length << _shift))
            pfn = _slotPfn[(int)((addr - _pkmapBase) >> _shift)];
        else if (addr >= _atomicBase && addr - _atomicBase < ((ulong)AtomicSlots << _shift))
            pfn = _atomicPfn[(int)((addr - _atomicBase) >> _shift)];
        return pfn >= 0;
    }

    private ulong SlotAddress(int slot) => _pkmapBase + ((ulong)slot << _shift);

    private ulong PageOf(ulong addr) => addr & ~((1UL << _shift) - 1);

    private int HighestEmptySlot()
    {
        for (int slot = _slotPfn.Length - 1; slot >= 0; slot--)
            if (_slotPfn[slot] < 0) return slot;
        return -1;
    }

    /// <summary>flush_all_zero_pkmaps: every lazily kept slot becomes empty.</summary>
    private void FlushUnused()
    {
        for (int slot = 0; slot < _slotPfn.Length; slot++)
            if (_slotPfn[slot] >= 0 && _slotUsers[slot] == 0)
            {
                _slotOf.Remove(_slotPfn[slot]);
                _slotPfn[slot] = -1;
            }
    }
}
