using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.VmVariants;

/// <summary>
/// A second, independently written kernel virtual memory: vmalloc, vfree, ioremap, kmaps,
/// translation and a TLB, on top of a wrapped <see cref="ReferenceKernel"/>'s public page
/// allocator, kmalloc, execution context and reclaim. Its legal choices differ from the
/// reference's: a hashed page table that holds no RAM frames (PageTablePages is always 0) and maps
/// the direct mapping by formula; virtual ranges handed out top-down with no guard page; a 24-entry
/// fully associative TLB with pseudo-random replacement whose invalidation is lazy (entries are
/// validated against the table's version on use, never stale); PKMAP slots from the top with lazy
/// kunmap (a slot keeps its page until the window runs out); vmalloc frames taken with
/// alloc_pages and zeroed through their direct or atomic mapping. An optional <see cref="VmFault"/>
/// breaks exactly one behaviour.
/// </summary>
public sealed class HashedVmKernel : IMemoryManager, IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim, IKmalloc,
    IVmalloc, IKernelPageTables, ITlb
{
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.ExecutionContext, Capability.Highmem, Capability.Reclaim, Capability.Kmalloc,
        Capability.Vmalloc, Capability.KernelPageTables, Capability.Tlb,
    };

    private const int AtomicSlots = 16;

    private enum AreaKind { Vmalloc, Ioremap, DirectShortcut }

    private sealed class Area
    {
        public required AreaKind Kind { get; init; }
        public required ulong Start { get; init; }
        public required int Pages { get; init; }
        public PageHandle[] Handles { get; init; } = [];
        public ulong[] Frames { get; init; } = [];
        /// <summary>With <see cref="VmFault.VmallocContiguousOnly"/>: the one block and its order.</summary>
        public PageHandle Block { get; init; }
        public int BlockOrder { get; init; } = -1;
        public bool Deferred { get; set; }
        public ulong End(int shift) => Start + ((ulong)Pages << shift);
    }

    private readonly ReferenceKernel _inner;
    private readonly VmFault _fault;
    private readonly int _shift;
    private readonly ulong _page;
    private readonly ulong _pageOffset;
    private readonly ulong _lowEnd;
    private readonly ulong _vmStart;
    private readonly ulong _vmEnd;
    private readonly ulong _maxPhys;
    private readonly ulong _ramFrames;
    private readonly HashedPageTable _table;
    private readonly LazyTlb _tlb;
    private readonly List<Area> _busy = new();
    private readonly HashSet<ulong> _freedStarts = new();
    private readonly HashSet<ulong> _vmallocFrames = new();
    private readonly Dictionary<ulong, byte[]> _device = new();
    private readonly ulong _pkmapBase;
    private readonly int[] _slotPfn;
    private readonly int[] _slotUsers;
    private readonly Dictionary<int, int> _slotOf = new();
    private readonly ulong _atomicBase;
    private readonly List<(ulong Addr, bool Mapped)> _atomic = new();

    public HashedVmKernel(Profile profile, VmFault fault = VmFault.None)
    {
        _inner = new ReferenceKernel(profile);
        _fault = fault;
        _shift = profile.PageShift;
        _page = (ulong)profile.PageSize;
        _pageOffset = profile.PageOffset;
        _lowEnd = profile.HighmemStart is { } h ? Math.Min(h, profile.PhysicalMemory) : profile.PhysicalMemory;
        _vmStart = _pageOffset + _lowEnd + profile.VmallocOffset;
        _vmEnd = profile.VmallocEnd;
        _maxPhys = profile.PhysicalAddressBits >= 64 ? ulong.MaxValue : (1UL << profile.PhysicalAddressBits) - 1;
        _ramFrames = profile.PhysicalMemory >> _shift;
        _table = new HashedPageTable(_shift, fault == VmFault.OffsetBitsShort ? _shift - 1 : _shift);
        _tlb = new LazyTlb(24, (ulong)profile.Name.Length * 0x9E3779B97F4A7C15UL + profile.PhysicalMemory);
        _pkmapBase = profile.PkmapBase;
        _slotPfn = new int[profile.PkmapSlots];
        _slotUsers = new int[profile.PkmapSlots];
        Array.Fill(_slotPfn, -1);
        _atomicBase = _pkmapBase + ((ulong)(profile.PkmapSlots + 64) << _shift);
    }

    public Profile Profile => _inner.Profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public VmFault Fault => _fault;
    public void Dispose() => _inner.Dispose();

    private bool IsDirect(ulong va) => va >= _pageOffset && va - _pageOffset < _lowEnd;
    private bool InWindow(ulong va) => va >= _vmStart && va < _vmEnd;
    private bool IsLowPfn(ulong pfn) => pfn < _lowEnd >> _shift;

    // ---- Execution context, reclaim, kmalloc: the wrapped kernel's ----------------------------------

    public void PreemptDisable() => _inner.PreemptDisable();
    public void PreemptEnable() => _inner.PreemptEnable();
    public void IrqEnter() => _inner.IrqEnter();
    public void IrqExit() => _inner.IrqExit();
    public bool InInterrupt => _inner.InInterrupt;
    public bool InAtomic => _inner.InAtomic;
    public long Sleeps => _inner.Sleeps;
    public int FillPageCache(int pages) => _inner.FillPageCache(pages);
    public long ReclaimablePages(Zone zone) => _inner.ReclaimablePages(zone);
    public void DropPageCache() => _inner.DropPageCache();
    public ulong Kmalloc(long size, GfpFlags gfp) => _inner.Kmalloc(size, gfp);
    public ulong Kzalloc(long size, GfpFlags gfp) => _inner.Kzalloc(size, gfp);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => _inner.Krealloc(p, size, gfp);
    public long Ksize(ulong p) => _inner.Ksize(p);

    public void Kfree(ulong p)
    {
        if (_fault == VmFault.KfreeOfVmallocAccepted && AreaAt(p) is { Kind: AreaKind.Vmalloc }) return;
        _inner.Kfree(p); // a vmalloc address is not direct-mapped: reported as KMAL-6 there
    }

    // ---- Page allocator: the wrapped kernel's, guarded and with this kernel's kmaps ----------------

    public ulong GetFreePages(GfpFlags gfp, int order) => _inner.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _inner.GetZeroedPage(gfp);
    public PageHandle AllocPages(GfpFlags gfp, int order) => _inner.AllocPages(gfp, order);
    public ulong PageToPfn(PageHandle page) => _inner.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _inner.PfnToPage(pfn);
    public Zone PageZone(PageHandle page) => _inner.PageZone(page);
    public long FreeBlocks(Zone zone, int order) => _inner.FreeBlocks(zone, order);

    public void FreePages(ulong addr, int order)
    {
        if (IsDirect(addr) && _vmallocFrames.Contains((addr - _pageOffset) >> _shift))
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, {order}): the page backs a vmalloc area");
        _inner.FreePages(addr, order);
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        if (!page.IsNull)
        {
            ulong pfn = _inner.PageToPfn(page);
            if (_vmallocFrames.Contains(pfn)) throw new KernelBugException("PAGE-4", $"__free_pages({page}, {order}): the page backs a vmalloc area");
            if (_slotOf.TryGetValue((int)pfn, out int slot))
            {
                if (_slotUsers[slot] > 0) throw new KernelBugException("ZONE-4", $"__free_pages({page}, {order}): pfn 0x{pfn:x} is still kmapped");
                ReleaseSlot(slot);
            }
        }
        _inner.FreePagesOf(page, order);
    }

    public ulong PageAddress(PageHandle page)
    {
        ulong pfn = _inner.PageToPfn(page);
        if (IsLowPfn(pfn)) return _inner.PageAddress(page);
        return _slotOf.TryGetValue((int)pfn, out int slot) ? SlotAddress(slot) : 0;
    }

    public ulong VirtToPhys(ulong addr)
    {
        if (InWindow(addr))
        {
            if (_fault == VmFault.VirtToPhysOfVmallocAnswers && _table.TryGet(addr, out var pte)) return _table.PhysicalAddress(pte.Pfn, addr);
            throw new KernelBugException("VMAL-5", $"virt_to_phys(0x{addr:x}): vmalloc memory has no single physical address");
        }
        return _inner.VirtToPhys(addr);
    }

    public void DrainCaches()
    {
        RunDeferred();
        _inner.DrainCaches();
    }

    // ---- Virtual ranges: top down, no guard page -----------------------------------------------

    private ulong? FindRange(int pages)
    {
        ulong need = (ulong)pages << _shift;
        ulong top = _vmEnd;
        foreach (var a in _busy.OrderByDescending(a => a.Start))
        {
            ulong end = a.End(_shift);
            if (end <= top && top - end >= need) return top - need;
            top = Math.Min(top, a.Start);
        }
        return top >= _vmStart && top - _vmStart >= need ? top - need : null;
    }

    private Area? AreaAt(ulong start) => _busy.FirstOrDefault(a => a.Start == start);

    // ---- vmalloc -------------------------------------------------------------------------------

    public ulong Vmalloc(long size) => Allocate(size, zero: false, "vmalloc");
    public ulong Vzalloc(long size) => Allocate(size, zero: true, "vzalloc");

    private ulong Allocate(long size, bool zero, string caller)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"{caller}: size {size} is negative");
        bool atomic = _inner.InAtomic;
        if (atomic && _fault != VmFault.VmallocAllowedInAtomic)
            throw new KernelBugException("VMAL-3", $"{caller}({size}) may sleep but the CPU is in atomic context");
        RunDeferred();
        if (size == 0) return 0;
        long exact = (size + (long)_page - 1) >> _shift;
        if (exact > (long)_ramFrames) return 0;
        int pages = (int)exact;
        if (_fault == VmFault.VmallocOnePageShort && size > (long)_page && size % (long)_page != 0) pages = (int)(size >> _shift);
        var gfp = (atomic ? Gfp.Atomic : Gfp.Kernel) | GfpFlags.HighMem;

        if (_fault == VmFault.SmallVmallocFromDirectMap && size <= (long)_page)
        {
            ulong direct = _inner.GetFreePages(gfp & ~GfpFlags.HighMem, 0);
            if (direct == 0) return 0;
            if (zero) _inner.Write(direct, new byte[_page]);
            _busy.Add(new Area { Kind = AreaKind.DirectShortcut, Start = direct, Pages = 1, Frames = [(direct - _pageOffset) >> _shift] });
            return direct;
        }
        if (FindRange(pages) is not { } start) return 0;
        Area area;
        if (_fault == VmFault.VmallocContiguousOnly)
        {
            int order = 0;
            while (1 << order < pages) order++;
            if (order > Profile.MaxOrder) return 0;
            var block = _inner.AllocPages(gfp, order);
            if (block.IsNull) return 0;
            ulong first = _inner.PageToPfn(block);
            area = new Area { Kind = AreaKind.Vmalloc, Start = start, Pages = pages, Block = block, BlockOrder = order,
                Frames = Enumerable.Range(0, pages).Select(i => first + (ulong)i).ToArray() };
        }
        else
        {
            var handles = new PageHandle[pages];
            for (int i = 0; i < pages; i++)
            {
                handles[i] = _inner.AllocPages(gfp, 0);
                if (handles[i].IsNull)
                {
                    for (int j = 0; j < i; j++) _inner.FreePagesOf(handles[j], 0);
                    return 0;
                }
            }
            area = new Area { Kind = AreaKind.Vmalloc, Start = start, Pages = pages, Handles = handles, Frames = handles.Select(_inner.PageToPfn).ToArray() };
        }
        for (int i = 0; i < pages; i++)
        {
            _table.Map(start + ((ulong)i << _shift), area.Frames[i], MappingKind.Vmalloc);
            _vmallocFrames.Add(area.Frames[i]);
            if (zero) WriteFrame(area.Frames[i], 0, new byte[_page]);
        }
        _busy.Add(area);
        _freedStarts.Remove(start);
        return start;
    }

    public void Vfree(ulong addr)
    {
        if (addr == 0) return;
        bool irq = _inner.InInterrupt;
        if (irq && !Profile.VfreeDefersInInterrupt || _inner.InAtomic && !irq)
            throw new KernelBugException("VMAL-3", $"vfree(0x{addr:x}) may sleep but the CPU is in {(irq ? "interrupt" : "atomic")} context");
        var area = AreaAt(addr);
        if (area is null || area.Kind == AreaKind.Ioremap || area.Deferred)
        {
            if (_fault == VmFault.VfreeOfKmallocAccepted && IsDirect(addr)) return;
            if (_fault == VmFault.DoubleVfreeSilent && _freedStarts.Contains(addr)) return;
            throw new KernelBugException("VMAL-6", $"vfree(0x{addr:x}): no vmalloc area starts there");
        }
        if (irq)
        {
            area.Deferred = true;
            return;
        }
        RunDeferred();
        Release(area);
    }

    private void Release(Area area)
    {
        _busy.Remove(area);
        _freedStarts.Add(area.Start);
        if (area.Kind == AreaKind.DirectShortcut)
        {
            _inner.FreePages(area.Start, 0);
            return;
        }
        // The TLB is not touched: its entries fail validation from now on (lazy invalidation).
        for (int i = 0; i < area.Pages; i++)
        {
            _table.Unmap(area.Start + ((ulong)i << _shift));
            _vmallocFrames.Remove(area.Frames[i]);
        }
        if (area.BlockOrder >= 0) _inner.FreePagesOf(area.Block, area.BlockOrder);
        else foreach (var h in area.Handles) _inner.FreePagesOf(h, 0);
    }

    private void RunDeferred()
    {
        if (_inner.InAtomic) return;
        foreach (var area in _busy.Where(a => a.Deferred).ToList()) Release(area);
    }

    public ulong VmallocToPfn(ulong addr)
    {
        if (_fault == VmFault.SmallVmallocFromDirectMap && _busy.FirstOrDefault(a => a.Kind == AreaKind.DirectShortcut && addr >= a.Start && addr < a.End(_shift)) is { } d)
            return d.Frames[0];
        if (InWindow(addr) && _table.TryGet(addr, out var pte)) return pte.Pfn;
        throw new InvalidArgumentException("addr", $"vmalloc_to_pfn(0x{addr:x}): nothing is mapped there");
    }

    public bool IsVmallocAddr(ulong addr) => InWindow(addr);

    // ---- ioremap ---------------------------------------------------------------------------------

    public ulong Ioremap(ulong physAddr, long size)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"ioremap: size {size} is negative");
        if (_inner.InAtomic) throw new KernelBugException("GFP-1", "ioremap may sleep");
        if (size == 0 || physAddr > _maxPhys || (ulong)size - 1 > _maxPhys - physAddr) return 0;
        ulong first = physAddr >> _shift, last = (physAddr + (ulong)size - 1) >> _shift;
        if (first < _ramFrames) return 0; // RAM is not device memory
        int pages = (int)(last - first + 1);
        if (FindRange(pages) is not { } start) return 0;
        var frames = new ulong[pages];
        var handles = new List<PageHandle>();
        for (int i = 0; i < pages; i++)
        {
            frames[i] = first + (ulong)i;
            if (_fault == VmFault.IoremapTakesRam)
            {
                var h = _inner.AllocPages(Gfp.Kernel, 0);
                if (h.IsNull) { foreach (var x in handles) _inner.FreePagesOf(x, 0); return 0; }
                handles.Add(h);
                frames[i] = _inner.PageToPfn(h);
            }
            _table.Map(start + ((ulong)i << _shift), frames[i], MappingKind.Ioremap);
        }
        _busy.Add(new Area { Kind = AreaKind.Ioremap, Start = start, Pages = pages, Frames = frames, Handles = [.. handles] });
        return start + (physAddr & (_page - 1));
    }

    public void Iounmap(ulong addr)
    {
        if (addr == 0) return;
        if (_inner.InAtomic) throw new KernelBugException("GFP-1", "iounmap may sleep");
        var area = AreaAt(addr & ~(_page - 1));
        if (area is not { Kind: AreaKind.Ioremap }) throw new KernelBugException("DRV-5", $"iounmap(0x{addr:x}): not an address ioremap returned");
        _busy.Remove(area);
        for (int i = 0; i < area.Pages; i++) _table.Unmap(area.Start + ((ulong)i << _shift));
        foreach (var h in area.Handles) _inner.FreePagesOf(h, 0);
    }

    public long PageTablePages => 0;

    // ---- Translation -------------------------------------------------------------------------------

    /// <summary>The walk: the direct mapping by formula, everything else from the hashed table.</summary>
    private bool Walk(ulong va, out ulong pfn, out MappingKind kind, out long version)
    {
        if (IsDirect(va))
        {
            (pfn, kind, version) = ((va - _pageOffset) >> _shift, MappingKind.Kmap, LazyTlb.Fixed);
            return true;
        }
        if (_table.TryGet(va, out var pte))
        {
            (pfn, kind, version) = (pte.Pfn, pte.Kind, pte.Version);
            return true;
        }
        (pfn, kind, version) = (0, MappingKind.Vmalloc, 0);
        return false;
    }

    private Translation Result(ulong va, ulong pfn, MappingKind kind, long version, Access access)
    {
        if (access is Access.UserRead or Access.UserWrite) return Translation.Faulted(TranslationFault.UserAccessToKernel);
        if (version != LazyTlb.Fixed && _fault == VmFault.TranslationNamesNextFrame && kind == MappingKind.Vmalloc) pfn++;
        return Translation.Mapped(version == LazyTlb.Fixed ? va - _pageOffset : _table.PhysicalAddress(pfn, va));
    }

    public Translation Translate(ulong addr, Access access) =>
        Walk(addr, out ulong pfn, out var kind, out long version) ? Result(addr, pfn, kind, version, access) : Translation.Faulted(TranslationFault.NotPresent);

    private ulong TlbKey(ulong va) => IsDirect(va) ? (va >> _shift) << 1 : _table.KeyOf(va) << 1 | 1;

    /// <summary>The CPU's lookup: a TLB entry is used only while the table still holds the version it cached.</summary>
    private bool Resolve(ulong va, out ulong pfn, out MappingKind kind, out long version)
    {
        ulong key = TlbKey(va);
        int slot = _tlb.Find(key);
        if (slot >= 0)
        {
            (pfn, kind, version) = _tlb.Entry(slot);
            bool valid = version == LazyTlb.Fixed
                || (_table.TryGet(va, out var pte) ? pte.Version == version
                    : _fault == VmFault.StaleTlbAfterVfree && kind == MappingKind.Vmalloc);
            if (valid) { _tlb.CountHit(); return true; }
            _tlb.Drop(slot);
        }
        _tlb.CountMiss();
        if (!Walk(va, out pfn, out kind, out version)) return false;
        _tlb.Fill(key, pfn, kind, version);
        return true;
    }

    public Translation TlbTranslate(ulong addr, Access access) =>
        Resolve(addr, out ulong pfn, out var kind, out long version) ? Result(addr, pfn, kind, version, access) : Translation.Faulted(TranslationFault.NotPresent);

    public long TlbHits => _tlb.Hits;
    public long TlbMisses => _tlb.Misses;
    public int TlbEntries => _tlb.Entries;

    public void FlushTlbKernelRange(ulong start, ulong end)
    {
        if (end <= start) return;
        _tlb.FlushKeys((start >> _shift) << 1, ((end - 1) >> _shift) << 1);
        _tlb.FlushKeys(_table.KeyOf(start) << 1 | 1, _table.KeyOf(end - 1) << 1 | 1);
    }

    public void FlushTlbAll() => _tlb.FlushAll();

    // ---- Memory access ------------------------------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination)
    {
        foreach (var (pfn, offset, at, len) in Resolve(addr, destination.Length))
        {
            if (pfn is { } frame) ReadFrame(frame, offset, destination.Slice(at, len));
            else destination.Slice(at, len).Clear(); // UnmappedReadsZero
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        foreach (var (pfn, offset, at, len) in Resolve(addr, source.Length))
            if (pfn is { } frame) WriteFrame(frame, offset, source.Slice(at, len));
    }

    /// <summary>Resolves every page first (so a faulting access changes nothing): the frame, offset and span of each piece.</summary>
    private List<(ulong? Pfn, int Offset, int At, int Length)> Resolve(ulong addr, int length)
    {
        var chunks = new List<(ulong? Pfn, int Offset, int At, int Length)>();
        ulong? firstVmallocPfn = null;
        for (int at = 0; at < length;)
        {
            ulong va = addr + (ulong)at;
            int offset = (int)(va & (_page - 1));
            int len = Math.Min(length - at, (int)_page - offset);
            ulong? frame = null;
            if (Resolve(va, out ulong pfn, out var kind, out long version))
            {
                frame = pfn;
                if (_fault == VmFault.CrossPageAssumesContiguous && kind == MappingKind.Vmalloc && version != LazyTlb.Fixed)
                {
                    // Broken: past the first page of the access, the "next" page is taken to be the next frame.
                    if (firstVmallocPfn is { } f) frame = f + ((va >> _shift) - (addr >> _shift));
                    else firstVmallocPfn = pfn;
                }
            }
            else if (_fault != VmFault.UnmappedReadsZero)
                throw new KernelPageFaultException(va, "unable to handle kernel paging request: no mapping");
            chunks.Add((frame, offset, at, len));
            at += len;
        }
        return chunks;
    }

    private void ReadFrame(ulong pfn, int offset, Span<byte> destination)
    {
        if (pfn >= _ramFrames) { if (_device.TryGetValue(pfn, out var d)) d.AsSpan(offset, destination.Length).CopyTo(destination); else destination.Clear(); return; }
        if (IsLowPfn(pfn)) { _inner.Read(_pageOffset + (pfn << _shift) + (ulong)offset, destination); return; }
        ulong map = _inner.KmapAtomic(_inner.PfnToPage(pfn));
        try { _inner.Read(map + (ulong)offset, destination); }
        finally { _inner.KunmapAtomic(map); }
    }

    private void WriteFrame(ulong pfn, int offset, ReadOnlySpan<byte> source)
    {
        if (pfn >= _ramFrames)
        {
            if (!_device.TryGetValue(pfn, out var d)) _device[pfn] = d = new byte[_page];
            source.CopyTo(d.AsSpan(offset));
            return;
        }
        if (IsLowPfn(pfn)) { _inner.Write(_pageOffset + (pfn << _shift) + (ulong)offset, source); return; }
        ulong map = _inner.KmapAtomic(_inner.PfnToPage(pfn));
        try { _inner.Write(map + (ulong)offset, source); }
        finally { _inner.KunmapAtomic(map); }
    }

    // ---- kmap: slots from the top, lazy kunmap ------------------------------------------------------

    private ulong SlotAddress(int slot) => _pkmapBase + ((ulong)slot << _shift);

    public ulong Kmap(PageHandle page)
    {
        if (_inner.InAtomic) throw new KernelBugException("GFP-1", "kmap may sleep (waiting for a PKMAP slot)");
        ulong pfn = _inner.PageToPfn(page);
        if (IsLowPfn(pfn)) return _inner.PageAddress(page);
        if (!_slotOf.TryGetValue((int)pfn, out int slot))
        {
            slot = Array.LastIndexOf(_slotPfn, -1);
            if (slot < 0)
            {
                // The window is full: unmap every slot nobody uses (flush_all_zero_pkmaps).
                if (_fault != VmFault.KunmapKeepsMapping)
                    for (int s = 0; s < _slotPfn.Length; s++) if (_slotPfn[s] >= 0 && _slotUsers[s] == 0) ReleaseSlot(s);
                slot = Array.LastIndexOf(_slotPfn, -1);
                if (slot < 0) throw new KernelBugException("ZONE-4", "kmap: every PKMAP slot is in use");
            }
            _slotPfn[slot] = (int)pfn;
            _slotOf[(int)pfn] = slot;
            _table.Map(SlotAddress(slot), pfn, MappingKind.Kmap);
        }
        _slotUsers[slot]++;
        return SlotAddress(slot);
    }

    private void ReleaseSlot(int slot)
    {
        _table.Unmap(SlotAddress(slot));
        _slotOf.Remove(_slotPfn[slot]);
        _slotPfn[slot] = -1;
    }

    public void Kunmap(PageHandle page)
    {
        ulong pfn = _inner.PageToPfn(page);
        if (IsLowPfn(pfn)) return;
        if (!_slotOf.TryGetValue((int)pfn, out int slot) || _slotUsers[slot] == 0)
            throw new KernelBugException("ZONE-4", $"kunmap of pfn 0x{pfn:x}, which is not kmapped");
        _slotUsers[slot]--; // the slot keeps the page until the window needs it (lazy)
    }

    public ulong KmapAtomic(PageHandle page)
    {
        if (_atomic.Count == AtomicSlots) throw new KernelBugException("ZONE-4", "kmap_atomic: no atomic slot left");
        ulong pfn = _inner.PageToPfn(page);
        if (IsLowPfn(pfn))
        {
            ulong direct = _inner.PageAddress(page);
            _atomic.Add((direct, false));
            return direct;
        }
        ulong addr = _atomicBase + ((ulong)_atomic.Count << _shift);
        _table.Map(addr, pfn, MappingKind.Kmap);
        _atomic.Add((addr, true));
        return addr;
    }

    public void KunmapAtomic(ulong addr)
    {
        if (_atomic.Count == 0 || _atomic[^1].Addr >> _shift != addr >> _shift)
            throw new KernelBugException("ZONE-4", $"kunmap_atomic(0x{addr:x}) is not the last kmap_atomic");
        if (_atomic[^1].Mapped) _table.Unmap(_atomic[^1].Addr);
        _atomic.RemoveAt(_atomic.Count - 1);
    }
}

/// <summary>Boots <see cref="HashedVmKernel"/> instances, optionally with one <see cref="VmFault"/>; supports every profile.</summary>
public sealed class HashedVmFactory(VmFault fault = VmFault.None) : IImplementationFactory
{
    public VmFault Fault { get; } = fault;
    public string Name => Fault == VmFault.None ? "hashed-vm" : $"hashed-vm/{Fault}";
    public IMemoryManager? Create(Profile profile) => new HashedVmKernel(profile, Fault);
}
