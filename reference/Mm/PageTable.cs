using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Where a page table's table pages come from (pte_alloc_one / pte_free and their upper-level
/// twins). The kernel's tables take them from the page allocator with GFP_KERNEL; a process's
/// tables may take them elsewhere (HIGHPTE).
/// </summary>
internal interface IPageTableFrames
{
    /// <summary>A zeroed frame for a table of <paramref name="level"/> (0 = top), or -1 when none can be had.</summary>
    int AllocTable(int level);

    /// <summary>Gives back a table frame <see cref="AllocTable"/> handed out; it holds no entry any more.</summary>
    void FreeTable(int pfn);

    /// <summary>The bytes of a table frame this provider handed out: where the table's entries are stored.</summary>
    byte[] Bytes(int pfn);
}

/// <summary>
/// The outcome of walking the tables for one address, as the MMU's page walker sees it.
/// <see cref="Pfn"/> is the frame of the page holding the address (inside a large page, the page's
/// own frame); <see cref="Rights"/> are the writable and user bits common to every level.
/// </summary>
internal readonly record struct PageWalk(bool Present, ulong Pfn, PteFlags Rights, int Level)
{
    public static readonly PageWalk NotPresent = new(false, 0, PteFlags.None, 0);

    /// <summary>The MMU's verdict for <paramref name="access"/> at <paramref name="va"/> (x86 rules: a user access needs the user bit, a write the writable bit, at every level).</summary>
    public Translation Check(ulong va, Access access, int pageShift)
    {
        if (!Present) return Translation.Faulted(TranslationFault.NotPresent);
        if (access.IsUser() && (Rights & PteFlags.User) == 0) return Translation.Faulted(TranslationFault.UserAccessToKernel);
        if (access.IsWrite() && (Rights & PteFlags.Writable) == 0) return Translation.Faulted(TranslationFault.Protection);
        return Translation.Mapped(Pfn << pageShift | (va & ((1UL << pageShift) - 1)));
    }
}

/// <summary>
/// One tree of page tables in the profile's format (<see cref="PageTableFormat"/>): the kernel's
/// (init_mm.pgd, swapper_pg_dir) or one process's (mm->pgd). Every table is one frame handed out by
/// an <see cref="IPageTableFrames"/> and its entries are stored in that frame's bytes, so a table
/// page is as real as any other page: from the page allocator it shows in buddyinfo (and its bytes
/// read through the direct mapping), and it goes back when it empties
/// (<see cref="FreeEmptyTables"/>) or the tree is torn down (<see cref="Destroy"/>).
/// </summary>
/// <remarks>
/// The tree only stores mappings; it neither caches translations nor flushes anything. Whoever
/// changes a mapping that a <see cref="Tlb"/> may hold must flush it there (ADDR-8):
/// <see cref="Mmu"/> does both for its users.
/// </remarks>
internal sealed class PageTable
{
    private readonly PageTableFormat _f;
    private readonly IPageTableFrames _frames;
    private readonly PteFlags _tableFlags;
    private byte[] _root;

    private PageTable(PageTableFormat format, IPageTableFrames frames, PteFlags tableFlags, int root)
    {
        _f = format;
        _frames = frames;
        _tableFlags = tableFlags | PteFlags.Present;
        Root = root;
        _root = frames.Bytes(root);
        TablePages = 1;
    }

    /// <summary>
    /// pgd_alloc: a tree with an empty top-level table, or null when no frame could be had.
    /// <paramref name="tableFlags"/> are the rights of entries pointing at lower tables:
    /// <see cref="PteFlags.KernelTable"/> for the kernel, <see cref="PteFlags.UserTable"/> for a process.
    /// </summary>
    public static PageTable? Create(PageTableFormat format, IPageTableFrames frames, PteFlags tableFlags)
    {
        int root = frames.AllocTable(0);
        return root < 0 ? null : new PageTable(format, frames, tableFlags, root);
    }

    public PageTableFormat Format => _f;
    /// <summary>Frame of the top-level table (what CR3 / TTBR holds).</summary>
    public int Root { get; }
    /// <summary>Table frames this tree holds now, the top-level one included.</summary>
    public int TablePages { get; private set; }

    // ---- The walk ---------------------------------------------------------------------------

    /// <summary>
    /// The hardware walk for <paramref name="va"/>: from the top table down to a leaf (a PTE, or a
    /// large-page entry above the last level). Not present when the address is not canonical or an
    /// entry on the way lacks the present bit.
    /// </summary>
    public PageWalk Walk(ulong va)
    {
        if (!_f.IsCanonical(va)) return PageWalk.NotPresent;
        var table = _root;
        var rights = PteFlags.Writable | PteFlags.User;
        for (int level = 0; ; level++)
        {
            ulong entry = _f.Read(table, _f.IndexOf(va, level));
            if (!PageTableFormat.IsPresent(entry)) return PageWalk.NotPresent with { Level = level };
            var flags = PageTableFormat.FlagsOf(entry);
            rights &= flags;
            if (level == _f.PteLevel)
                return new PageWalk(true, _f.PfnOf(entry), rights, level);
            if ((flags & PteFlags.Large) != 0)
            {
                // Stryker disable once Bitwise : ulong addresses, so >> and >>> are the same shift
                ulong within = (va & (_f.SpanOf(level) - 1)) >> _f.PageShift;
                return new PageWalk(true, _f.PfnOf(entry) + within, rights, level);
            }
            table = _frames.Bytes((int)_f.PfnOf(entry));
        }
    }

    /// <summary>The walk and the MMU's permission check: what the CPU does on a TLB miss.</summary>
    public Translation Translate(ulong va, Access access) => Walk(va).Check(va, access, _f.PageShift);

    // ---- Changing mappings --------------------------------------------------------------------

    /// <summary>
    /// set_pte_at: maps the page holding <paramref name="va"/> to frame <paramref name="pfn"/>,
    /// allocating missing tables on the way (pte_alloc). A present entry there is replaced.
    /// Returns false, with nothing mapped, when a table page cannot be had (tables allocated on the
    /// way stay, empty, until <see cref="FreeEmptyTables"/>).
    /// Errors: <see cref="InvalidOperationException"/> when a large page already covers va, or va
    /// is not canonical, or pfn does not fit in an entry: caller bugs of the kernel itself.
    /// </summary>
    public bool Map(ulong va, ulong pfn, PteFlags flags) => MapAt(va, _f.PteLevel, pfn, flags);

    /// <summary>
    /// Maps a large page with one entry at <paramref name="level"/> (above the last level): the
    /// whole <see cref="PageTableFormat.SpanOf"/> of that level from frame <paramref name="pfn"/>,
    /// which must be aligned to it. Used for the direct mapping (i386 PSE pages).
    /// </summary>
    public bool MapLarge(ulong va, int level, ulong pfn, PteFlags flags)
    {
        if (level >= _f.PteLevel) throw new ArgumentOutOfRangeException(nameof(level), "a large page sits above the last level");
        // Stryker disable once Bitwise : a ulong span, so >> and >>> are the same shift
        ulong pages = _f.SpanOf(level) >> _f.PageShift;
        if ((va & (_f.SpanOf(level) - 1)) != 0 || pfn % pages != 0)
            throw new InvalidOperationException($"large page at 0x{va:x} (pfn 0x{pfn:x}) is not aligned to 0x{_f.SpanOf(level):x}");
        return MapAt(va, level, pfn, flags | PteFlags.Large);
    }

    private bool MapAt(ulong va, int leafLevel, ulong pfn, PteFlags flags)
    {
        if (pfn > _f.MaxPfn) throw new InvalidOperationException($"pfn 0x{pfn:x} does not fit in a page-table entry");
        var table = Descend(va, leafLevel);
        if (table is null) return false;
        _f.Write(table, _f.IndexOf(va, leafLevel), _f.MakeEntry(pfn, flags | PteFlags.Present));
        return true;
    }

    /// <summary>
    /// The table of <paramref name="leafLevel"/> covering <paramref name="va"/>, allocating the missing
    /// ones on the way; null when a table page cannot be had.
    /// </summary>
    private byte[]? Descend(ulong va, int leafLevel)
    {
        if (!_f.IsCanonical(va)) throw new InvalidOperationException($"0x{va:x} is not a canonical address");
        var table = _root;
        for (int level = 0; level < leafLevel; level++)
        {
            int index = _f.IndexOf(va, level);
            ulong entry = _f.Read(table, index);
            if (!PageTableFormat.IsPresent(entry))
            {
                // Stryker disable once Arithmetic : every table provider ignores the level (it is for a provider that keeps levels apart)
                int child = _frames.AllocTable(level + 1);
                if (child < 0) return null;
                TablePages++;
                entry = _f.MakeEntry((ulong)child, _tableFlags);
                _f.Write(table, index, entry);
            }
            else if ((PageTableFormat.FlagsOf(entry) & PteFlags.Large) != 0)
                throw new InvalidOperationException($"0x{va:x} is already covered by a large page at level {level}");
            table = _frames.Bytes((int)_f.PfnOf(entry));
        }
        return table;
    }

    /// <summary>
    /// pte_alloc without a mapping: makes sure every table down to the last level exists for
    /// <paramref name="va"/> (as boot code does for the PKMAP window). False when a table page
    /// cannot be had.
    /// </summary>
    public bool EnsureTables(ulong va) => Descend(va, _f.PteLevel) is not null;

    /// <summary>
    /// pte_clear (ptep_get_and_clear): removes the leaf covering <paramref name="va"/> and returns it,
    /// or 0 when nothing maps va. Tables are kept: see <see cref="FreeEmptyTables"/>.
    /// </summary>
    public ulong Unmap(ulong va)
    {
        if (!_f.IsCanonical(va)) return 0;
        var table = _root;
        for (int level = 0; ; level++)
        {
            int index = _f.IndexOf(va, level);
            ulong entry = _f.Read(table, index);
            if (!PageTableFormat.IsPresent(entry)) return 0;
            if (level == _f.PteLevel || (PageTableFormat.FlagsOf(entry) & PteFlags.Large) != 0)
            {
                _f.Write(table, index, 0);
                return entry;
            }
            table = _frames.Bytes((int)_f.PfnOf(entry));
        }
    }

    /// <summary>
    /// free_pgtables: gives back every table below the top one that covers part of
    /// [<paramref name="start"/>, <paramref name="end"/>) and holds no entry any more, clearing the
    /// entry that pointed at it. Returns how many table frames went back.
    /// </summary>
    public int FreeEmptyTables(ulong start, ulong end)
    {
        if (end <= start) return 0;
        int freed = 0;
        Prune(_root, 0, start, end - 1, ref freed);
        TablePages -= freed;
        return freed;
    }

    /// <summary>Prunes the children of one table over [first, last]; returns whether the table is now empty.</summary>
    private bool Prune(byte[] table, int level, ulong first, ulong last, ref int freed)
    {
        if (level < _f.PteLevel)
        {
            ulong span = _f.SpanOf(level);
            for (ulong va = first & ~(span - 1); ; va += span)
            {
                int index = _f.IndexOf(va, level);
                ulong entry = _f.Read(table, index);
                if (PageTableFormat.IsPresent(entry) && (PageTableFormat.FlagsOf(entry) & PteFlags.Large) == 0)
                {
                    int child = (int)_f.PfnOf(entry);
                    ulong childLast = Math.Min(last, va + span - 1);
                    if (Prune(_frames.Bytes(child), level + 1, Math.Max(first, va), childLast, ref freed))
                    {
                        _f.Write(table, index, 0);
                        _frames.FreeTable(child);
                        freed++;
                    }
                }
                if (va + span - 1 >= last || va + span < va) break;
            }
        }
        return _f.IsEmpty(table, level);
    }

    /// <summary>
    /// pgd_free after exit_mmap: gives back every table frame of the tree, the top one included.
    /// Leaves are not touched (the frames they map belong to whoever mapped them). The tree must
    /// not be used afterwards.
    /// </summary>
    public void Destroy()
    {
        FreeTree(_root, 0);
        _frames.FreeTable(Root);
        TablePages = 0;
        _root = [];
    }

    private void FreeTree(byte[] table, int level)
    {
        if (level == _f.PteLevel) return;
        for (int i = 0; i < _f.EntriesPerTable(level); i++)
        {
            ulong entry = _f.Read(table, i);
            if (!PageTableFormat.IsPresent(entry) || (PageTableFormat.FlagsOf(entry) & PteFlags.Large) != 0) continue;
            int child = (int)_f.PfnOf(entry);
            FreeTree(_frames.Bytes(child), level + 1);
            _frames.FreeTable(child);
        }
    }

    /// <summary>
    /// Every present leaf covering part of [<paramref name="start"/>, <paramref name="end"/>), in
    /// address order, with the virtual address its entry starts at (copy_page_range and
    /// zap_page_range go through these). The tree must not change during the enumeration.
    /// </summary>
    public IEnumerable<(ulong Va, ulong Entry, int Level)> Leaves(ulong start, ulong end)
    {
        if (end <= start) return [];
        var found = new List<(ulong, ulong, int)>();
        Collect(_root, 0, start, end - 1, found);
        return found;
    }

    private void Collect(byte[] table, int level, ulong first, ulong last, List<(ulong, ulong, int)> found)
    {
        ulong span = _f.SpanOf(level);
        for (ulong va = first & ~(span - 1); ; va += span)
        {
            ulong entry = _f.Read(table, _f.IndexOf(va, level));
            if (PageTableFormat.IsPresent(entry))
            {
                if (level == _f.PteLevel || (PageTableFormat.FlagsOf(entry) & PteFlags.Large) != 0)
                    found.Add((va, entry, level));
                else
                    Collect(_frames.Bytes((int)_f.PfnOf(entry)), level + 1, Math.Max(first, va), Math.Min(last, va + span - 1), found);
            }
            if (va + span - 1 >= last || va + span < va) break;
        }
    }
}
