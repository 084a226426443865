namespace KernelMm.Reference.Mm;

/// <summary>
/// A process's memory descriptor (struct mm_struct): its page tables and ASID
/// (<see cref="AddressSpace"/>), its mappings sorted by address (the maple tree, here a sorted list),
/// the swap entries its not-present page-table entries would hold, and its fault counters.
/// </summary>
internal sealed class MmStruct(AddressSpace space)
{
    private readonly List<Vma> _vmas = new();

    public AddressSpace Space { get; } = space;
    public PageTable Table => Space.Table;
    public IReadOnlyList<Vma> Vmas => _vmas;

    /// <summary>
    /// Pages written out to swap: virtual page number to swap slot. Linux keeps the swap entry in the
    /// not-present PTE itself; the model keeps it beside the tables, which then hold no entry there.
    /// </summary>
    public Dictionary<ulong, int> SwapEntries { get; } = new();

    /// <summary>min_flt: faults resolved without I/O.</summary>
    public long MinorFaults { get; set; }
    /// <summary>maj_flt: faults that read a page back from swap.</summary>
    public long MajorFaults { get; set; }

    /// <summary>find_vma: the mapping containing <paramref name="va"/>, or null.</summary>
    public Vma? Find(ulong va)
    {
        int i = IndexAtOrBefore(va);
        return i >= 0 && va < _vmas[i].End ? _vmas[i] : null;
    }

    /// <summary>The mappings that overlap [start, end), in address order.</summary>
    public List<Vma> Overlapping(ulong start, ulong end)
    {
        var found = new List<Vma>();
        int i = Math.Max(0, IndexAtOrBefore(start));
        for (; i < _vmas.Count && _vmas[i].Start < end; i++)
            if (_vmas[i].End > start) found.Add(_vmas[i]);
        return found;
    }

    /// <summary>Whether nothing is mapped in [start, end).</summary>
    public bool IsFree(ulong start, ulong end)
    {
        int i = Math.Max(0, IndexAtOrBefore(start));
        for (; i < _vmas.Count && _vmas[i].Start < end; i++)
            if (_vmas[i].End > start) return false;
        return true;
    }

    public void Insert(Vma vma)
    {
        int i = IndexAtOrBefore(vma.Start) + 1;
        _vmas.Insert(i, vma);
    }

    public void Remove(Vma vma) => _vmas.Remove(vma);

    /// <summary>Index of the last mapping starting at or below <paramref name="va"/>, or -1.</summary>
    private int IndexAtOrBefore(ulong va)
    {
        int lo = 0, hi = _vmas.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_vmas[mid].Start <= va) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
