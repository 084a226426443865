using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>
/// The traffic vmalloc lives among: page allocations and frees, kmalloc objects, kmaps of HIGHMEM
/// pages through the PKMAP window (ZONE-4), memory pressure, and the teardown that accounts for
/// every page (ADDR-11).
/// </summary>
internal sealed partial class VmMachine
{
    private static readonly GfpFlags[] BlockFlags = [Gfp.Kernel, Gfp.Atomic, Gfp.HighUser, Gfp.Kernel | GfpFlags.Dma];

    // ---- Pages --------------------------------------------------------------------------------

    private BlockModel? AllocateBlock(int order, int arg) => AllocateBlock(order, BlockFlags[(uint)arg % (uint)BlockFlags.Length]);

    private BlockModel? AllocateBlock(int order, GfpFlags gfp)
    {
        bool sleeps = (gfp & GfpFlags.DirectReclaim) != 0;
        if (sleeps && _context.InAtomic) return null; // the page family checks that
        bool descriptor = (gfp & GfpFlags.HighMem) != 0;
        string name = _m.NextName("p");
        _s.Operations++;
        ulong addr = 0;
        var page = PageHandle.Null;
        var e = Try(() => { if (descriptor) page = _pages.AllocPages(gfp, order); else addr = _pages.GetFreePages(gfp, order); });
        if (_t.Enabled) _t.Step($"{name} = {(descriptor ? "alloc_pages" : "__get_free_pages")}({Gfp.Describe(gfp)}, {order}) -> {(e is not null ? Describe(e) : descriptor ? page.ToString() : Hex(addr))}",
            descriptor ? $"var {name} = pages.AllocPages({Pages.CSharp.Flags(gfp)}, {order});" : $"var {name} = pages.GetFreePages({Pages.CSharp.Flags(gfp)}, {order});");
        _s.That("PAGE-1", e is null, $"a page allocation raised {Describe(e)}");
        if (descriptor ? page.IsNull : addr == 0) return null;
        ulong pfn = descriptor ? _pages.PageToPfn(page) : _pages.VirtToPhys(addr) >> _shift;
        ulong? taken = _m.AreaFrameIn(pfn, order);
        _s.That("PAGE-1", taken is null, $"{name}: block pfn 0x{pfn:x} order {order} includes frame 0x{taken:x}, which backs a live vmalloc area");
        var block = new BlockModel
        {
            Name = name, Addr = addr, Page = descriptor ? page : _pages.PfnToPage(pfn), Pfn = pfn, Order = order,
            Highmem = _layout.Physical.ZoneOfPfn(pfn) == Zone.HighMem,
        };
        _m.AddBlock(block);
        return block;
    }

    private void Release(BlockModel block)
    {
        while (block.KmapCount > 0) UnmapOnce(block);
        _s.Operations++;
        var e = Try(() => { if (block.Addr != 0) _pages.FreePages(block.Addr, block.Order); else _pages.FreePagesOf(block.Page, block.Order); });
        if (_t.Enabled) _t.Step($"free {block.Name} (order {block.Order}) -> {Describe(e)}",
            block.Addr != 0 ? $"pages.FreePages({block.Name}, {block.Order});" : $"pages.FreePagesOf({block.Name}, {block.Order});");
        _s.That("PAGE-4", e is null, $"freeing live {block.Name} (pfn 0x{block.Pfn:x}, order {block.Order}) was refused: {Describe(e)}");
        _m.RemoveBlock(block);
    }

    // ---- kmalloc ------------------------------------------------------------------------------

    private void AllocateObject(long size)
    {
        if (_km is null || _context.InAtomic) return;
        string name = _m.NextName("k");
        _s.Operations++;
        ulong addr = 0;
        var e = Try(() => addr = _km.Kmalloc(size, Gfp.Kernel));
        if (_t.Enabled) _t.Step($"{name} = kmalloc({size}, GFP_KERNEL) -> {(e is null ? Hex(addr) : Describe(e))}", $"var {name} = km.Kmalloc({size}, Gfp.Kernel);");
        _s.That("KMAL-1", e is null, $"kmalloc({size}, GFP_KERNEL) raised {Describe(e)}");
        if (addr == 0) return;
        ulong first = _pages.VirtToPhys(addr) >> _shift, last = _pages.VirtToPhys(addr + (ulong)size - 1) >> _shift;
        ulong? taken = Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + (ulong)i).Cast<ulong?>().FirstOrDefault(f => _m.IsAreaFrame(f!.Value));
        _s.That("KMAL-7", taken is null, $"kmalloc({size}) returned 0x{addr:x} on frame 0x{taken:x}, which backs a live vmalloc area");
        _m.Objects.Add(new ObjectModel { Name = name, Addr = addr, Size = size, FirstPfn = first, LastPfn = last });
    }

    private void Release(ObjectModel obj)
    {
        _s.Operations++;
        var e = Try(() => _km!.Kfree(obj.Addr));
        if (_t.Enabled) _t.Step($"kfree({obj.Name}) -> {Describe(e)}", $"km.Kfree({obj.Name});");
        _s.That("KMAL-6", e is null, $"kfree({obj.Name}) of a live kmalloc object was refused: {Describe(e)}");
        _m.Objects.Remove(obj);
    }

    // ---- kmaps through the PKMAP window (ZONE-4) ------------------------------------------------

    private bool KmapsTranslate => _hm is not null && _kpt is not null;

    /// <summary>
    /// ZONE-4: kmap of a HIGHMEM page gives an address in the PKMAP window that the page tables map
    /// to the page's frame; kmap of a low-memory page gives its direct-mapped address.
    /// </summary>
    private void MapHigh(int slot)
    {
        if (!KmapsTranslate || _context.InAtomic || _m.Pick(_m.Blocks, slot) is not { } block) return;
        if (block.Highmem && block.KmapCount == 0 && _m.LiveKmaps >= _p.PkmapSlots - 1) return;
        _s.Operations++;
        ulong addr = 0;
        var e = Try(() => addr = _hm!.Kmap(block.Page));
        if (_t.Enabled) _t.Step($"kmap({block.Name}) -> {(e is null ? Hex(addr) : Describe(e))}", $"hm.Kmap({block.Name});");
        _s.That("ZONE-4", e is null && addr != 0, $"kmap({block.Name}) with {_m.LiveKmaps} page(s) kmapped failed: {Describe(e)}");
        CheckKmapAddress(block, addr, "kmap");
        block.KmapCount++;
        block.KmapAddr = addr;
    }

    private void CheckKmapAddress(BlockModel block, ulong addr, string how)
    {
        if (!block.Highmem)
        {
            ulong direct = _layout.DirectAddress(block.Pfn);
            _s.That("ZONE-4", addr == direct, $"{how}({block.Name}) of a low-memory page returned 0x{addr:x}, not its direct-mapped address 0x{direct:x}");
            return;
        }
        _s.That("ZONE-4", _layout.IsPkmapSlot(addr),
            $"{how}({block.Name}) of a HIGHMEM page returned 0x{addr:x}, not a slot of the PKMAP window [0x{_layout.PkmapBase:x}, 0x{_layout.PkmapEnd:x})");
        ulong? pa = CheckPageSplit(addr, $"the {how} of {block.Name}", "ZONE-4");
        _s.That("ZONE-4", pa == block.Pfn << _shift, $"the {how} of {block.Name} at 0x{addr:x} maps PA 0x{pa:x}, not the page's frame 0x{block.Pfn:x}");
        CheckTlb(addr, $"the {how} of {block.Name}");
    }

    private void UnmapHigh(int slot)
    {
        if (!KmapsTranslate || _m.Pick(_m.Blocks, slot, b => b.KmapCount > 0) is not { } block) return;
        _s.Operations++;
        UnmapOnce(block);
    }

    /// <summary>ZONE-4 decision: after the last kunmap the old address maps the page (lazy) or nothing, never another frame.</summary>
    private void UnmapOnce(BlockModel block)
    {
        var e = Try(() => _hm!.Kunmap(block.Page));
        if (_t.Enabled) _t.Step($"kunmap({block.Name}) -> {Describe(e)}", $"hm.Kunmap({block.Name});");
        _s.That("ZONE-4", e is null, $"kunmap({block.Name}) after kmap failed: {Describe(e)}");
        block.KmapCount--;
        if (block.KmapCount > 0 || _kpt is null || !block.Highmem) return;
        var t = _kpt.Translate(block.KmapAddr, Access.KernelRead);
        _s.That("ZONE-4", t.Fault == TranslationFault.NotPresent || t.PhysicalAddress == block.Pfn << _shift,
            $"after the last kunmap({block.Name}), its old address 0x{block.KmapAddr:x} translates to {t}: neither unmapped nor still the page 0x{block.Pfn:x}");
        CheckTlb(block.KmapAddr, $"the old kmap of {block.Name}");
    }

    /// <summary>ZONE-4: kmap_atomic of a HIGHMEM page maps its frame until kunmap_atomic.</summary>
    private void MapAtomic(int slot, int arg)
    {
        if (_hm is null || _kpt is null || _m.Pick(_m.Blocks, slot) is not { } block) return;
        _s.Operations++;
        string name = _m.NextName("a");
        ulong addr = 0;
        var e = Try(() => addr = _hm.KmapAtomic(block.Page));
        if (_t.Enabled) _t.Step($"{name} = kmap_atomic({block.Name}) -> {(e is null ? Hex(addr) : Describe(e))}", $"var {name} = hm.KmapAtomic({block.Name});");
        _s.That("ZONE-4", e is null && addr != 0, $"kmap_atomic({block.Name}) failed: {Describe(e)}");
        ulong? pa = CheckPageSplit(addr, $"the kmap_atomic of {block.Name}", "ZONE-4");
        _s.That("ZONE-4", pa == block.Pfn << _shift, $"kmap_atomic({block.Name}) at 0x{addr:x} maps PA 0x{pa:x}, not the page's frame 0x{block.Pfn:x}");
        CheckTlb(addr, $"the kmap_atomic of {block.Name}");
        var ue = Try(() => _hm.KunmapAtomic(addr));
        if (_t.Enabled) _t.Step($"kunmap_atomic(0x{addr:x}) -> {Describe(ue)}", $"hm.KunmapAtomic({name});");
        _s.That("ZONE-4", ue is null, $"kunmap_atomic of the last kmap_atomic failed: {Describe(ue)}");
        CheckTlb(addr, $"the released kmap_atomic of {block.Name}");
    }

    /// <summary>
    /// ZONE-4: kunmap gives the mapping back. Kmaps more distinct HIGHMEM pages than the PKMAP window
    /// has slots, one at a time, each released before the next: every kmap must succeed.
    /// </summary>
    private void CycleKmaps()
    {
        if (!KmapsTranslate || _context.InAtomic || !_layout.Physical.HasHighmem || _p.PkmapSlots == 0) return;
        int want = _p.PkmapSlots + 1;
        var blocks = new List<BlockModel>();
        int pages = 0;
        while (pages < want && AllocateBlock(_p.MaxOrder, Gfp.HighUser) is { } b)
        {
            blocks.Add(b);
            if (b.Highmem) pages += 1 << b.Order;
        }
        if (pages >= want)
        {
            _s.Operations++;
            int done = 0;
            foreach (var b in blocks.Where(b => b.Highmem))
                for (ulong i = 0; i < 1UL << b.Order && done < want; i++, done++)
                {
                    ulong pfn = b.Pfn + i;
                    var page = _pages.PfnToPage(pfn);
                    ulong addr = 0;
                    var e = Try(() => addr = _hm!.Kmap(page));
                    if (e is not null || addr == 0 || done % 97 == 0 || done == want - 1)
                    {
                        if (_t.Enabled) _t.Step($"kmap(page {i} of {b.Name}) [{done + 1} of {want} distinct pages, one at a time] -> {(e is null ? Hex(addr) : Describe(e))}",
                            $"hm.Kmap(pages.PfnToPage(pages.PageToPfn({b.Name}) + {i})); hm.Kunmap(pages.PfnToPage(pages.PageToPfn({b.Name}) + {i}));");
                        int n = done;
                        _s.That("ZONE-4", e is null && addr != 0,
                            $"kmap of the {n + 1}th distinct HIGHMEM page (each earlier one already kunmapped, {_m.LiveKmaps} other kmap(s) live) failed with {(e is null ? "NULL" : Describe(e))}: "
                                  + $"kunmap must give its PKMAP slot back ({_p.PkmapSlots} slots)");
                        _s.That("ZONE-4", _layout.IsPkmapSlot(addr),
                            $"kmap of pfn 0x{pfn:x} (a HIGHMEM page) returned 0x{addr:x}, not a slot of the PKMAP window [0x{_layout.PkmapBase:x}, 0x{_layout.PkmapEnd:x})");
                        var t = _kpt!.Translate(addr, Access.KernelRead);
                        _s.That("ZONE-4", t.Fault == TranslationFault.None && t.PhysicalAddress == pfn << _shift, $"kmap of pfn 0x{pfn:x} at 0x{addr:x} translates to {t}");
                    }
                    var ue = Try(() => _hm!.Kunmap(page));
                    _s.That("ZONE-4", ue is null, $"kunmap of pfn 0x{pfn:x} after its kmap failed: {Describe(ue)}");
                }
        }
        foreach (var b in blocks) Release(b);
    }

    // ---- Pressure and teardown ----------------------------------------------------------------

    /// <summary>Takes free memory until the allocator says NULL (largest blocks first), leaving vmalloc little or nothing.</summary>
    private void ExhaustMemory()
    {
        int budget = 2048;
        for (int order = _p.MaxOrder; order >= 0 && budget > 0; order--)
            while (budget-- > 0 && AllocateBlock(order, Gfp.Atomic | GfpFlags.HighMem) is not null) { }
    }

    /// <summary>
    /// On a small machine: takes every free page one at a time, then frees every other one, so that
    /// no block above order 0 is left while half the memory is free (VMAL-4's setting).
    /// </summary>
    private void FragmentMemory()
    {
        if (_context.InAtomic || _p.TotalPages > 16384) return;
        var taken = new List<BlockModel>();
        while (AllocateBlock(0, Gfp.Atomic | GfpFlags.HighMem) is { } b) taken.Add(b);
        for (int i = 0; i < taken.Count; i += 2) Release(taken[i]);
    }

    /// <summary>
    /// ADDR-11: with every area, mapping, kmap, object and block given back and caches drained, the
    /// free pages are what they were at boot, less the page-table pages the implementation keeps.
    /// </summary>
    private void FreeEverything()
    {
        if (_context.InAtomic) return;
        foreach (var a in _m.Areas.ToArray()) Free(a);
        foreach (var io in _m.Ioremaps.ToArray()) UnmapDevice(io);
        foreach (var b in _m.Blocks.ToArray()) Release(b);
        foreach (var o in _m.Objects.ToArray()) Release(o);
        _s.Operations++;
        _pages.DrainCaches();
        _m.Drained();
        var now = Snap();
        if (_t.Enabled) _t.Step($"drain caches: {now.Free} free pages, {now.Tables} page-table pages", "pages.DrainCaches();");
        long want = _m.BootFree - (now.Tables - _m.BootTables);
        _s.That("ADDR-11", now.Free + now.Reclaim == want,
            $"with every vmalloc area, ioremap, kmap, kmalloc object and page block freed and caches drained, {now.Free + now.Reclaim} pages are free; "
                  + $"boot had {_m.BootFree}, and {now.Tables - _m.BootTables} more page-table page(s) are held now, so {want} were expected");
    }
}
