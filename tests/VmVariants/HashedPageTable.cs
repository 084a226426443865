namespace KernelMm.Tests.VmVariants;

/// <summary>What a mapping of the hashed table points at.</summary>
internal enum MappingKind { Vmalloc, Ioremap, Kmap }

/// <summary>One page's entry: its frame, what mapped it, and a version that changes with every (re)mapping.</summary>
internal readonly record struct HashedPte(ulong Pfn, MappingKind Kind, long Version);

/// <summary>
/// A hashed page table, as PowerPC's hash table or an inverted table: one dictionary entry per mapped
/// kernel page (the direct mapping is a formula, not entries). Nothing lives in RAM frames, so it
/// holds no page-table pages. Every (re)mapping gets a new version, which lets a TLB validate its
/// entries lazily instead of being flushed.
/// </summary>
internal sealed class HashedPageTable(int pageShift, int keyShift)
{
    private readonly Dictionary<ulong, HashedPte> _entries = new();
    private long _versions;

    /// <summary>The shift that turns an address into a key: PAGE_SHIFT (or less, with <see cref="VmFault.OffsetBitsShort"/>).</summary>
    public int KeyShift { get; } = keyShift;
    public int PageShift { get; } = pageShift;

    public ulong KeyOf(ulong va) => va >> KeyShift;

    public void Map(ulong pageVa, ulong pfn, MappingKind kind) => _entries[KeyOf(pageVa)] = new HashedPte(pfn, kind, ++_versions);

    public void Unmap(ulong pageVa) => _entries.Remove(KeyOf(pageVa));

    public bool TryGet(ulong va, out HashedPte pte) => _entries.TryGetValue(KeyOf(va), out pte);

    /// <summary>The physical address of <paramref name="va"/> under an entry: the frame, plus the bits below the key.</summary>
    public ulong PhysicalAddress(ulong pfn, ulong va) => pfn << PageShift | (va & ((1UL << KeyShift) - 1));
}

/// <summary>
/// A fully associative TLB of a size that is not a power of two, with pseudo-random replacement,
/// whose invalidation is lazy: unmapping touches nothing; a hit is only trusted when the table still
/// holds the same version of the entry (so it is never stale), and a flush really drops entries.
/// </summary>
internal sealed class LazyTlb(int entries, ulong seed)
{
    private readonly (bool Valid, ulong Key, ulong Pfn, MappingKind Kind, long Version)[] _slots = new (bool, ulong, ulong, MappingKind, long)[entries];
    private ulong _random = seed | 1;

    public int Entries => entries;
    public long Hits { get; private set; }
    public long Misses { get; private set; }

    /// <summary>Direct-mapped translations carry this version: the direct mapping never changes.</summary>
    public const long Fixed = 0;

    public int Find(ulong key)
    {
        for (int i = 0; i < _slots.Length; i++) if (_slots[i].Valid && _slots[i].Key == key) return i;
        return -1;
    }

    public (ulong Pfn, MappingKind Kind, long Version) Entry(int slot) => (_slots[slot].Pfn, _slots[slot].Kind, _slots[slot].Version);

    public void CountHit() => Hits++;
    public void CountMiss() => Misses++;
    public void Drop(int slot) => _slots[slot].Valid = false;

    public void Fill(ulong key, ulong pfn, MappingKind kind, long version)
    {
        int slot = Array.FindIndex(_slots, s => !s.Valid);
        if (slot < 0)
        {
            _random ^= _random << 13; _random ^= _random >> 7; _random ^= _random << 17;
            slot = (int)(_random % (ulong)_slots.Length);
        }
        _slots[slot] = (true, key, pfn, kind, version);
    }

    public void FlushKeys(ulong firstKey, ulong lastKey)
    {
        for (int i = 0; i < _slots.Length; i++)
            if (_slots[i].Valid && _slots[i].Key >= firstKey && _slots[i].Key <= lastKey) _slots[i].Valid = false;
    }

    public void FlushAll() { for (int i = 0; i < _slots.Length; i++) _slots[i].Valid = false; }
}
