namespace KernelMm.Reference.Mm;

/// <summary>
/// One anonymous page (a PageAnon struct page): its frame, how many page-table entries map it
/// (mapcount: more than one after fork until copy-on-write splits it), and where (the reverse map
/// anon_vma gives Linux), and its place on the anonymous LRU.
/// </summary>
internal sealed class AnonPage(int pfn)
{
    public int Pfn { get; } = pfn;
    public List<(MmStruct Mm, ulong Va)> Rmap { get; } = new(1);
    public int MapCount => Rmap.Count;
    public LinkedListNode<AnonPage>? Lru { get; set; }
}

/// <summary>
/// Every anonymous page of every process, by frame, with the anonymous LRU reclaim scans
/// (mm/swap.c, mm/vmscan.c reduced).
/// </summary>
internal sealed class AnonPages
{
    private readonly Dictionary<int, AnonPage> _byPfn = new();

    /// <summary>The LRU, oldest first.</summary>
    public LinkedList<AnonPage> Lru { get; } = new();

    public int Count => _byPfn.Count;

    public AnonPage? Get(int pfn) => _byPfn.GetValueOrDefault(pfn);

    /// <summary>A new anonymous page on frame <paramref name="pfn"/>, mapped once at (mm, va).</summary>
    public AnonPage Add(int pfn, MmStruct mm, ulong va)
    {
        var page = new AnonPage(pfn);
        page.Rmap.Add((mm, va));
        page.Lru = Lru.AddLast(page);
        _byPfn.Add(pfn, page);
        return page;
    }

    /// <summary>Forgets the page (its frame is about to be freed or swapped).</summary>
    public void Remove(AnonPage page)
    {
        _byPfn.Remove(page.Pfn);
        if (page.Lru is { } node) Lru.Remove(node);
        page.Lru = null;
    }
}
