using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>Installs and removes the kernel page-table entries of the kmap windows.</summary>
internal interface IKmapPageTable
{
    /// <summary>Maps the page at <paramref name="va"/> to frame <paramref name="pfn"/> (set_pte_at on pkmap_page_table).</summary>
    void Map(ulong va, int pfn);

    /// <summary>Clears the page at <paramref name="va"/> and flushes its TLB entry (pte_clear, flush_tlb_kernel_range).</summary>
    void Unmap(ulong va);
}

/// <summary>
/// Persistent and atomic kmaps of HIGHMEM pages (mm/highmem.c). A persistent kmap takes one
/// PKMAP slot, is reference-counted across nested kmaps, and is torn down at the last kunmap
/// (eagerly: ZONE-4 permits either). Low-memory pages are returned at their direct address.
/// Each HIGHMEM mapping is a real entry of the kernel's page tables (<see cref="IKmapPageTable"/>).
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
    /// <summary>Whether each atomic slot on the stack holds a page-table entry (a HIGHMEM page) rather than a direct address.</summary>
    private readonly bool[] _atomicMapped = new bool[AtomicSlots];
    private readonly ulong[] _atomicAddr = new ulong[AtomicSlots];
    private int _atomicDepth;
    private readonly IKmapPageTable _tables;

    public Highmem(Profile profile, IKmapPageTable tables)
    {
        _tables = tables;
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
        ulong addr = AddressOf(pfn);
        _tables.Map(addr, pfn);
        return addr;
    }

    public void Unmap(int pfn)
    {
        // ZONE-4: kunmap of a page that holds no kmap is a caller bug.
        if (!_byPfn.TryGetValue(pfn, out var m))
            throw new KernelBugException("ZONE-4", $"kunmap of pfn 0x{pfn:x}, which is not kmapped");
        if (m.Count > 1) { _byPfn[pfn] = (m.Slot, m.Count - 1); return; }
        _tables.Unmap(_pkmapBase + ((ulong)m.Slot << _pageShift));
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
        if (directAddress == 0) _tables.Map(addr, pfn);
        _atomicMapped[_atomicDepth] = directAddress == 0;
        _atomicAddr[_atomicDepth++] = addr;
        return addr;
    }

    public void UnmapAtomic(ulong addr)
    {
        // kunmap_atomic must undo the most recent kmap_atomic (stack order), as the kernel requires.
        // Stryker disable once Bitwise : ulong addresses, so >> and >>> are the same shift
        if (_atomicDepth == 0 || addr >> _pageShift != _atomicAddr[_atomicDepth - 1] >> _pageShift)
            throw new KernelBugException("ZONE-4", $"kunmap_atomic(0x{addr:x}) does not match the last kmap_atomic");
        _atomicDepth--;
        if (_atomicMapped[_atomicDepth]) _tables.Unmap(_atomicAddr[_atomicDepth]);
    }
}
