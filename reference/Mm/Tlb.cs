namespace KernelMm.Reference.Mm;

/// <summary>
/// A translation lookaside buffer: a bounded, set-associative cache of page translations, tagged
/// with an address-space id (ASID, as x86's PCID or ARM's ASID) so that switching address spaces
/// needs no flush, and with a global flag for kernel translations, which every address space
/// shares (x86's _PAGE_GLOBAL). Each entry caches one page: its frame and the rights common to its
/// walk. Replacement is round-robin within a set.
/// </summary>
/// <remarks>
/// The TLB never looks at the page tables: whoever changes or removes a mapping flushes it here
/// (flush_tlb_kernel_range, flush_tlb_page, flush_tlb_mm), which is what keeps every translation
/// it answers equal to a walk (ADDR-8). <see cref="Mmu"/> does that for its callers.
/// </remarks>
internal sealed class Tlb
{
    /// <summary>The ASID of global (kernel) entries: they match in every address space.</summary>
    public const int Global = -1;

    /// <summary>One cached translation; <see cref="Tag"/> is vpn &lt;&lt; 1 | 1, 0 when the slot is empty.</summary>
    private struct Entry
    {
        public ulong Tag;
        public ulong Pfn;
        public int Asid;
        public PteFlags Rights;
    }

    private readonly int _pageShift;
    private readonly int _ways;
    private readonly int _setMask;
    // One slot per entry, set by set.
    private readonly Entry[] _entries;
    private readonly byte[] _victim;

    /// <param name="entries">Total entries; a power of two, at least <paramref name="ways"/>.</param>
    /// <param name="ways">Entries per set (associativity).</param>
    /// <param name="pageShift">log2(PAGE_SIZE).</param>
    public Tlb(int entries, int ways, int pageShift)
    {
        if (ways < 1 || entries < ways || (entries & (entries - 1)) != 0 || (ways & (ways - 1)) != 0)
            throw new ArgumentException($"a TLB of {entries} entries in {ways}-way sets: both must be powers of two, entries >= ways");
        _pageShift = pageShift;
        _ways = ways;
        int sets = entries / ways;
        _setMask = sets - 1;
        _entries = new Entry[entries];
        _victim = new byte[sets];
    }

    /// <summary>How many translations it can hold.</summary>
    public int Capacity => _entries.Length;
    /// <summary>Lookups answered from the TLB.</summary>
    public long Hits { get; private set; }
    /// <summary>Lookups that found nothing (the caller then walks the tables).</summary>
    public long Misses { get; private set; }

    /// <summary>
    /// Looks up the page holding <paramref name="va"/> in address space <paramref name="asid"/>
    /// (global entries match any). Counts one hit or one miss.
    /// </summary>
    public bool TryLookup(ulong va, int asid, out ulong pfn, out PteFlags rights)
    {
        ulong vpn = va >> _pageShift;
        ulong tag = vpn << 1 | 1;
        var set = _entries.AsSpan((int)(vpn & (uint)_setMask) * _ways, _ways);
        foreach (ref readonly var e in set)
        {
            if (e.Tag == tag && (e.Asid == asid || e.Asid == Global))
            {
                Hits++;
                pfn = e.Pfn;
                rights = e.Rights;
                return true;
            }
        }
        Misses++;
        pfn = 0;
        rights = PteFlags.None;
        return false;
    }

    /// <summary>Caches the translation of the page holding <paramref name="va"/> (after a walk found it present).</summary>
    public void Fill(ulong va, int asid, ulong pfn, PteFlags rights)
    {
        ulong vpn = va >> _pageShift;
        ulong tag = vpn << 1 | 1;
        int setIndex = (int)(vpn & (uint)_setMask);
        var set = _entries.AsSpan(setIndex * _ways, _ways);
        int slot = -1;
        for (int i = 0; i < set.Length; i++)
        {
            if (set[i].Tag == tag && set[i].Asid == asid) { slot = i; break; }   // refresh in place
            if (slot < 0 && set[i].Tag == 0) slot = i;                          // or take an empty way
        }
        if (slot < 0)
        {
            slot = _victim[setIndex];
            _victim[setIndex] = (byte)((slot + 1) % _ways);
        }
        set[slot] = new Entry { Tag = tag, Pfn = pfn, Asid = asid, Rights = rights };
    }

    /// <summary>invlpg: drops the page holding <paramref name="va"/> from address space <paramref name="asid"/>, and its global entry.</summary>
    public void FlushPage(ulong va, int asid)
    {
        ulong vpn = va >> _pageShift;
        ulong tag = vpn << 1 | 1;
        foreach (ref var e in _entries.AsSpan((int)(vpn & (uint)_setMask) * _ways, _ways))
            if (e.Tag == tag && (e.Asid == asid || e.Asid == Global)) e.Tag = 0;
    }

    /// <summary>flush_tlb_kernel_range: drops every global entry for a page of [start, end).</summary>
    public void FlushKernelRange(ulong start, ulong end)
    {
        if (end <= start) return;
        ulong firstVpn = start >> _pageShift, lastVpn = (end - 1) >> _pageShift;
        // A long range is cheaper to flush by scanning the whole TLB, as the kernel does past a ceiling.
        if (lastVpn - firstVpn >= (ulong)_entries.Length)
        {
            foreach (ref var e in _entries.AsSpan())
                if (e.Tag != 0 && e.Asid == Global && (e.Tag >> 1) >= firstVpn && (e.Tag >> 1) <= lastVpn) e.Tag = 0;
            return;
        }
        for (ulong vpn = firstVpn; vpn <= lastVpn; vpn++) FlushPage(vpn << _pageShift, Global);
    }

    /// <summary>flush_tlb_mm: drops every entry of one address space (its global ones stay).</summary>
    public void FlushAsid(int asid)
    {
        foreach (ref var e in _entries.AsSpan())
            if (e.Asid == asid) e.Tag = 0;
    }

    /// <summary>flush_tlb_all: drops everything.</summary>
    public void FlushAll()
    {
        foreach (ref var e in _entries.AsSpan()) e.Tag = 0;
    }
}
