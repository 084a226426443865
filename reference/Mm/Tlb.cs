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

    private readonly int _pageShift;
    private readonly int _ways;
    private readonly int _setMask;
    // One slot per entry, set by set: tag = vpn << 1 | 1 (0 = empty), asid, frame, rights.
    private readonly ulong[] _tag;
    private readonly int[] _asid;
    private readonly ulong[] _pfn;
    private readonly PteFlags[] _rights;
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
        _tag = new ulong[entries];
        _asid = new int[entries];
        _pfn = new ulong[entries];
        _rights = new PteFlags[entries];
        _victim = new byte[sets];
    }

    /// <summary>How many translations it can hold.</summary>
    public int Capacity => _tag.Length;
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
        int first = (int)(vpn & (uint)_setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
        {
            if (_tag[i] == tag && (_asid[i] == asid || _asid[i] == Global))
            {
                Hits++;
                pfn = _pfn[i];
                rights = _rights[i];
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
        int set = (int)(vpn & (uint)_setMask);
        int first = set * _ways;
        int slot = -1;
        for (int i = first; i < first + _ways; i++)
        {
            if (_tag[i] == tag && _asid[i] == asid) { slot = i; break; }   // refresh in place
            if (slot < 0 && _tag[i] == 0) slot = i;                        // or take an empty way
        }
        if (slot < 0)
        {
            slot = first + _victim[set];
            _victim[set] = (byte)((_victim[set] + 1) % _ways);
        }
        _tag[slot] = tag;
        _asid[slot] = asid;
        _pfn[slot] = pfn;
        _rights[slot] = rights;
    }

    /// <summary>invlpg: drops the page holding <paramref name="va"/> from address space <paramref name="asid"/>, and its global entry.</summary>
    public void FlushPage(ulong va, int asid)
    {
        ulong vpn = va >> _pageShift;
        ulong tag = vpn << 1 | 1;
        int first = (int)(vpn & (uint)_setMask) * _ways;
        for (int i = first; i < first + _ways; i++)
            if (_tag[i] == tag && (_asid[i] == asid || _asid[i] == Global)) _tag[i] = 0;
    }

    /// <summary>flush_tlb_kernel_range: drops every global entry for a page of [start, end).</summary>
    public void FlushKernelRange(ulong start, ulong end)
    {
        if (end <= start) return;
        ulong firstVpn = start >> _pageShift, lastVpn = (end - 1) >> _pageShift;
        // A long range is cheaper to flush by scanning the whole TLB, as the kernel does past a ceiling.
        if (lastVpn - firstVpn >= (ulong)_tag.Length)
        {
            for (int i = 0; i < _tag.Length; i++)
                if (_tag[i] != 0 && _asid[i] == Global && (_tag[i] >> 1) >= firstVpn && (_tag[i] >> 1) <= lastVpn) _tag[i] = 0;
            return;
        }
        for (ulong vpn = firstVpn; vpn <= lastVpn; vpn++) FlushPage(vpn << _pageShift, Global);
    }

    /// <summary>flush_tlb_mm: drops every entry of one address space (its global ones stay).</summary>
    public void FlushAsid(int asid)
    {
        for (int i = 0; i < _tag.Length; i++)
            if (_asid[i] == asid) _tag[i] = 0;
    }

    /// <summary>flush_tlb_all: drops everything.</summary>
    public void FlushAll() => Array.Clear(_tag);
}
