using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Persistent and atomic kmaps of HIGHMEM pages (mm/highmem.c). A persistent kmap takes one
/// PKMAP slot, is reference-counted across nested kmaps, and is torn down at the last kunmap
/// (eagerly: ZONE-4 permits either). Low-memory pages are returned at their direct address.
/// </summary>
internal sealed class Highmem
{
    /// <summary>Atomic kmap slots (KM_TYPE_NR), placed just above the PKMAP window.</summary>
    private const int AtomicSlots = 16;

    private readonly int _pageShift;
    private readonly ulong _pkmapBase;
    private readonly ulong _atomicBase;
    private readonly int[] _slotPfn;        // pfn per PKMAP slot, -1 when free
    private readonly Dictionary<int, (int Slot, int Count)> _byPfn = new();
    private readonly int[] _atomicPfn = new int[AtomicSlots];
    private readonly ulong[] _atomicAddr = new ulong[AtomicSlots];
    private int _atomicDepth;

    public Highmem(Profile profile)
    {
        _pageShift = profile.PageShift;
        _pkmapBase = profile.PkmapBase;
        _slotPfn = new int[profile.PkmapSlots];
        Array.Fill(_slotPfn, -1);
        _atomicBase = profile.PkmapBase + ((ulong)profile.PkmapSlots << profile.PageShift);
    }

    /// <summary>The current persistent kmap address of a HIGHMEM page, or 0.</summary>
    public ulong AddressOf(int pfn) =>
        _byPfn.TryGetValue(pfn, out var m) ? _pkmapBase + ((ulong)m.Slot << _pageShift) : 0;

    public bool IsMapped(int pfn) => _byPfn.ContainsKey(pfn);

    /// <summary>kmap_high: reuse the page's slot or take a free one. Returns 0 when every slot is busy.</summary>
    public ulong Map(int pfn)
    {
        if (_byPfn.TryGetValue(pfn, out var m))
        {
            _byPfn[pfn] = (m.Slot, m.Count + 1);
            return AddressOf(pfn);
        }
        int slot = Array.IndexOf(_slotPfn, -1);
        if (slot < 0) return 0;
        _slotPfn[slot] = pfn;
        _byPfn[pfn] = (slot, 1);
        return AddressOf(pfn);
    }

    public void Unmap(int pfn)
    {
        // ZONE-4: kunmap of a page that holds no kmap is a caller bug.
        if (!_byPfn.TryGetValue(pfn, out var m))
            throw new KernelBugException("ZONE-4", $"kunmap of pfn 0x{pfn:x}, which is not kmapped");
        if (m.Count > 1) { _byPfn[pfn] = (m.Slot, m.Count - 1); return; }
        _byPfn.Remove(pfn);
        _slotPfn[m.Slot] = -1;
    }

    /// <summary>
    /// kmap_atomic: a HIGHMEM page gets the next atomic slot; a low-memory page is returned at its
    /// direct address (<paramref name="directAddress"/>), but still takes its place on the stack.
    /// </summary>
    public ulong MapAtomic(int pfn, ulong directAddress)
    {
        if (_atomicDepth == AtomicSlots) throw new KernelBugException("ZONE-4", "kmap_atomic: all atomic kmap slots are in use");
        ulong addr = directAddress != 0 ? directAddress : _atomicBase + ((ulong)_atomicDepth << _pageShift);
        _atomicPfn[_atomicDepth] = pfn;
        _atomicAddr[_atomicDepth++] = addr;
        return addr;
    }

    public void UnmapAtomic(ulong addr)
    {
        // kunmap_atomic must undo the most recent kmap_atomic (stack order), as the kernel requires.
        if (_atomicDepth == 0 || addr >> _pageShift != _atomicAddr[_atomicDepth - 1] >> _pageShift)
            throw new KernelBugException("ZONE-4", $"kunmap_atomic(0x{addr:x}) does not match the last kmap_atomic");
        _atomicDepth--;
    }

    /// <summary>Translates a kmap-window address to (pfn, offset); false when it is not mapped.</summary>
    public bool TryTranslate(ulong addr, out int pfn, out int offset)
    {
        pfn = -1;
        offset = (int)(addr & ((1UL << _pageShift) - 1));
        if (_slotPfn.Length > 0 && addr >= _pkmapBase && addr < _atomicBase)
        {
            pfn = _slotPfn[(int)((addr - _pkmapBase) >> _pageShift)];
            return pfn >= 0;
        }
        if (_slotPfn.Length > 0 && addr >= _atomicBase && addr < _atomicBase + ((ulong)AtomicSlots << _pageShift))
        {
            int slot = (int)((addr - _atomicBase) >> _pageShift);
            if (slot >= _atomicDepth || _atomicAddr[slot] >> _pageShift != addr >> _pageShift) return false;
            pfn = _atomicPfn[slot];
            return true;
        }
        return false;
    }
}
