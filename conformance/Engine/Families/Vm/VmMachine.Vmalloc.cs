using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>vmalloc, vzalloc, vfree, and every wrong way to free or convert vmalloc memory.</summary>
internal sealed partial class VmMachine
{
    // ---- vmalloc ------------------------------------------------------------------------------

    /// <summary>
    /// vmalloc or vzalloc of <paramref name="size"/> bytes with every check of the result. With
    /// <paramref name="demand"/> the call must succeed (VMAL-4) when the model sees room for it.
    /// </summary>
    private AreaModel? Allocate(long size, bool zero, bool demand)
    {
        string fn = zero ? "vzalloc" : "vmalloc";
        string name = _m.NextName("v");
        string call = $"{fn}({size})";
        _s.Operations++;
        int pages = size <= 0 ? 0 : (int)Math.Min(int.MaxValue, (size + (long)_page - 1) >> _shift);
        bool mustServe = demand && size > 0 && Roomy(pages);
        var before = Snap();
        ulong addr = 0;
        var e = Try(() => addr = zero ? _vm.Vzalloc(size) : _vm.Vmalloc(size));
        var after = Snap();
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(e is null ? Hex(addr) : Describe(e))}", $"var {name} = vm.{(zero ? "Vzalloc" : "Vmalloc")}({size});");

        if (size < 0)
        {
            _s.That("VMAL-1", e is InvalidArgumentException, $"{call} must be refused with InvalidArgumentException, got {(e is null ? Hex(addr) : Describe(e))}");
            return null;
        }
        if (_context.InAtomic)
        {
            // VMAL-3: vmalloc may sleep; in atomic context it is a reported bug that takes nothing.
            _s.That("VMAL-3", e is KernelBugException { RuleId: "VMAL-3" or "GFP-1" },
                $"{call} in atomic context (preempt depth {_context.PreemptDepth}, irq depth {_context.IrqDepth}) must be reported as VMAL-3, got {(e is null ? Hex(addr) : Describe(e))}");
            if (!_m.Inexact) _s.That("VMAL-3", before == after, $"{call} was refused in atomic context but changed the counts: {Show(before, after)}");
            return null;
        }
        _s.That("VMAL-1", e is null, $"{call} raised {Describe(e)}; a vmalloc that cannot be served returns NULL");
        if (addr == 0)
        {
            // VMAL-1: a failed vmalloc keeps no frame for data (page tables it grew may stay: they are
            // counted; so may a slab page its descriptors grew: the metadata allowance).
            _s.That("VMAL-1", Consumed(before, after) <= MetadataAllowance, $"{call} returned NULL but kept pages: {Show(before, after)}");
            _s.That("VMAL-4", !mustServe,
                $"{call} returned NULL although {before.Free} pages were free (no block above order {_p.MaxOrder} is needed: vmalloc builds the area page by page)");
            return null;
        }
        if (size == 0)
        {
            // Linux returns NULL for vmalloc(0); an area is accepted too, as long as vfree takes it.
            var z = new AreaModel { Name = name, Addr = addr, Size = 0, Pages = 0, Pfns = [] };
            _m.Areas.Add(z);
            return z;
        }
        return Allocated(name, call, addr, size, pages, zero, before, after);
    }

    private AreaModel Allocated(string name, string call, ulong addr, long size, int pages, bool zero, Counts before, Counts after)
    {
        ulong end = addr + ((ulong)pages << _shift);
        // VMAL-2: the area starts in the window, above the direct mapping.
        _s.That("VMAL-2", _layout.InVmallocWindow(addr, addr + 1),
            $"{call} returned 0x{addr:x}, outside the vmalloc window [0x{_layout.VmallocStart:x}, 0x{_layout.VmallocEnd:x})");
        bool first = _vm.IsVmallocAddr(addr);
        _s.That("VMAL-2", first, $"{call}: is_vmalloc_addr(0x{addr:x}) is false for the area's first byte");
        _s.That("VMAL-1", addr % _page == 0, $"{call} returned 0x{addr:x}, not page aligned");

        // Sampled pages: the first, the last, the middle and one chosen by the address.
        var sample = new SortedSet<int> { 0, pages - 1, pages / 2, (int)((addr >> _shift) % (ulong)pages) };
        foreach (int i in sample)
        {
            ulong pageVa = addr + ((ulong)i << _shift);
            if (_kpt is not null) CheckPageSplit(pageVa, $"page {i} of {name} = {call}", "VMAL-1");
            else
            {
                var probe = new byte[1];
                var re = Try(() => _memory.Read(pageVa, probe));
                _s.That("VMAL-1", re is null, $"{call}: page {i} at 0x{pageVa:x} cannot be read: {Describe(re)}");
            }
        }

        // VMAL-2: every page of it lies in the window (checked once every page is known to be there).
        _s.That("VMAL-2", _layout.InVmallocWindow(addr, end),
            $"{call} returned [0x{addr:x}, 0x{end:x}), which runs past VMALLOC_END 0x{_layout.VmallocEnd:x}");
        bool last = _vm.IsVmallocAddr(addr + (ulong)size - 1);
        _s.That("VMAL-2", last, $"{call}: is_vmalloc_addr is false for the area's last byte 0x{addr + (ulong)size - 1:x}");
        var overlap = _m.VirtualOverlap(addr, end, _shift);
        _s.That("VMAL-1", overlap is null, $"{call}: [0x{addr:x}, 0x{end:x}) overlaps live {overlap}");

        // VMAL-5 / VMAL-1: one frame per page, named by vmalloc_to_pfn, used by nothing else.
        var pfns = new ulong[pages];
        var seen = new HashSet<ulong>();
        string? badFrame = null, sharedFrame = null;
        for (int i = 0; i < pages; i++)
        {
            ulong pageVa = addr + ((ulong)i << _shift);
            ulong pfn = 0;
            var pe = Try(() => pfn = _vm.VmallocToPfn(pageVa));
            if (pe is not null || pfn >= _p.TotalPages)
            {
                badFrame ??= $"vmalloc_to_pfn(0x{pageVa:x}) (page {i}) = {(pe is null ? Hex(pfn) : Describe(pe))}";
                continue;
            }
            string? owner = !seen.Add(pfn) ? "another page of the same area" : _m.IsAreaFrame(pfn) ? "a live vmalloc area" : _m.BlockOwning(pfn)?.Name ?? _m.ObjectOn(pfn)?.Name;
            if (owner is not null) sharedFrame ??= $"page {i} is backed by frame 0x{pfn:x}, which belongs to {owner}";
            pfns[i] = pfn;
        }
        _s.That("VMAL-5", badFrame is null, $"{call}: {badFrame}; it must name a frame of RAM (below 0x{_p.TotalPages:x})");
        _s.That("VMAL-1", sharedFrame is null, $"{call}: {sharedFrame}: each page needs a frame of its own");
        var area = new AreaModel { Name = name, Addr = addr, Size = size, Pages = pages, Pfns = pfns };
        area.Touched.UnionWith(sample);

        if (zero)
            foreach (int i in sample)
            {
                long off = (long)i << _shift, len = Math.Min((long)_page, size - off);
                var bytes = new byte[len];
                var re = Try(() => _memory.Read(addr + (ulong)off, bytes));
                int nz = re is null ? bytes.AsSpan().IndexOfAnyExcept((byte)0) : 0;
                _s.That("VMAL-1", re is null && nz < 0, $"{call}: byte {off + nz} of the area is {(re is null ? $"0x{bytes[nz]:x2}" : Describe(re))}, not zero");
            }

        // VMAL-5 and ADDR-3: the frame vmalloc_to_pfn names holds the page's bytes, and the translation names it.
        foreach (int i in sample)
        {
            ulong pageVa = addr + ((ulong)i << _shift), off = OffsetFor((ulong)i + 7) & ~7UL;
            long limit = size - ((long)i << _shift);
            if ((long)off + 8 > limit) off = 0;
            int len = (int)Math.Min(8, limit - (long)off);
            var marker = new byte[len];
            for (int b = 0; b < len; b++) marker[b] = (byte)(0xA0 + i + b * 13);
            var we = Try(() => _memory.Write(pageVa + off, marker));
            _s.That("VMAL-1", we is null, $"{call}: writing {len} bytes into page {i} at 0x{pageVa + off:x} failed: {Describe(we)}");
            area.Record((long)i << _shift | (long)off, marker, _shift);
            if (ReadFrame(pfns[i], off, len) is { } alias)
                _s.That("VMAL-5", alias.AsSpan().SequenceEqual(marker),
                    $"{call}: bytes written at 0x{pageVa + off:x} are not in frame 0x{pfns[i]:x} that vmalloc_to_pfn names for page {i} (read [{Convert.ToHexString(alias)}], wrote [{Convert.ToHexString(marker)}])");
            if (_kpt is not null)
            {
                var t = _kpt.Translate(pageVa + off, Access.KernelRead);
                ulong want = pfns[i] << _shift | off;
                _s.That("ADDR-3", t.Fault == TranslationFault.None && t.PhysicalAddress == want,
                    $"{call}: VA 0x{pageVa + off:x} (page {i}, offset 0x{off:x}) translates to {t}; its frame is 0x{pfns[i]:x}, so PA = PFN * PAGE_SIZE + offset = 0x{want:x}");
            }
        }

        // VMAL-4: each page has a frame of its own, so at least that many pages left the free lists.
        long consumed = Consumed(before, after);
        // A pending deferred vfree (linux-6) may give its pages back during this call: no lower bound then.
        if (!_m.Inexact) _s.That("VMAL-4", consumed >= pages,
            $"{call} maps {pages} pages but only {consumed} pages left the free lists besides page tables ({Show(before, after)}): some page has no frame of its own");
        CheckTlb(addr, $"first page of {name}");
        _m.Areas.Add(area);
        _m.ClaimFrames(area);
        return area;
    }

    /// <summary>
    /// Whether the model sees room for <paramref name="pages"/> more vmalloc pages, with a wide margin
    /// for page tables, descriptors and any reserve: enough free memory, enough low memory for the
    /// tables, and a gap in the window even if every live area and mapping split it evenly.
    /// </summary>
    private bool Roomy(int pages)
    {
        if (_context.InAtomic) return false;
        long margin = (long)(_p.TotalPages / 16) + 256 + MetadataAllowance + (long)pages * _p.WordSize / _p.PageSize;
        long tables = _p.PageTableLevelBits.Count + pages / (1 << _p.PageTableLevelBits[^1]) + 2;
        var now = Snap();
        if (now.Free < pages + tables + margin || LowFree() < tables + margin) return false;
        ulong window = _layout.VmallocBytes >> _shift;
        ulong used = (ulong)(_m.Areas.Sum(a => (long)a.Pages * 2 + 16) + _m.Ioremaps.Sum(io => (long)io.Pages * 2 + 16));
        int splits = _m.Areas.Count + _m.Ioremaps.Count + 1;
        return used < window && (window - used) / (ulong)splits >= (ulong)pages + 2;
    }

    /// <summary>VMAL-4: one max-order block plus one page, or several blocks, must be served when memory allows.</summary>
    private void AllocateBig(int arg)
    {
        long block = _layout.MaxOrderBlockBytes;
        long size = (arg % 3) switch { 0 => block + (long)_page, 1 => block + 1, _ => 2 * block + (arg & 0xff) };
        Allocate(size, zero: arg % 5 == 0, demand: true);
    }

    /// <summary>VMAL-2: a request larger than the whole window cannot be served.</summary>
    private void OverflowWindow()
    {
        if (_context.InAtomic) return;
        long size = (long)Math.Min((ulong)long.MaxValue / 2, _layout.VmallocBytes + _page);
        _s.Operations++;
        var before = Snap();
        ulong addr = 0;
        var e = Try(() => addr = _vm.Vmalloc(size));
        var after = Snap();
        if (_t.Enabled) _t.Step($"vmalloc({size}) (the window is 0x{_layout.VmallocBytes:x} bytes) -> {(e is null ? Hex(addr) : Describe(e))}", $"Assert.Equal(0UL, vm.Vmalloc({size}));");
        _s.That("VMAL-2", e is null && addr == 0, $"vmalloc({size}) is larger than the window [0x{_layout.VmallocStart:x}, 0x{_layout.VmallocEnd:x}) and must return NULL, got {(e is null ? Hex(addr) : Describe(e))}");
        _s.That("VMAL-1", Consumed(before, after) <= MetadataAllowance, $"a vmalloc that failed kept pages: {Show(before, after)}");
    }

    // ---- vfree --------------------------------------------------------------------------------

    private void Free(AreaModel area)
    {
        _s.Operations++;
        string call = $"vfree({area.Name})";
        var before = Snap();
        var e = Try(() => _vm.Vfree(area.Addr));
        var after = Snap();
        bool inIrq = _context.IrqDepth > 0;
        if (_context.InAtomic && !(inIrq && _p.VfreeDefersInInterrupt))
        {
            if (_t.Enabled) _t.Step($"{call} in atomic context -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => vm.Vfree({area.Name}));");
            // VMAL-3 decision: vfree may sleep: reported in atomic context (in interrupt context too, except where it is deferred).
            _s.That("VMAL-3", e is KernelBugException { RuleId: "VMAL-3" or "GFP-1" },
                $"{call} in {(inIrq ? "interrupt" : "atomic")} context on {_p.Name} must be reported as VMAL-3, got {Describe(e)}");
            if (!_m.Inexact) _s.That("VMAL-3", before == after, $"{call} was refused in atomic context but changed the counts: {Show(before, after)}");
            return;
        }
        if (_t.Enabled) _t.Step($"{call}{(inIrq ? " in interrupt context" : "")} -> {Describe(e)}", $"vm.Vfree({area.Name});");
        _s.That("VMAL-6", e is null, $"{call}, the start of a live area, was refused: {Describe(e)}");
        if (inIrq)
        {
            // linux-6: accepted and deferred; the area may stay mapped until the work runs (at the latest at drain).
            _m.Defer(area);
            return;
        }
        var check = area.PagesToCheck().ToList();
        if (_kpt is not null)
            foreach (int i in check)
            {
                ulong va = area.Addr + ((ulong)i << _shift);
                var t = _kpt.Translate(va, Access.KernelRead);
                _s.That("VMAL-6", t.Fault == TranslationFault.NotPresent, $"after {call}, page {i} at 0x{va:x} still translates to {t}");
            }
        if (_tlb is not null)
            foreach (int i in check) CheckTlb(area.Addr + ((ulong)i << _shift), $"page {i} of freed {area.Name}");
        long gained = -Consumed(before, after);
        _s.That("VMAL-6", gained >= area.Pages,
            $"{call} of {area.Pages} pages gave back only {gained} pages besides page tables ({Show(before, after)})");
        _m.Retire(area);
    }

    private void FreeTwice(int slot)
    {
        var freed = _m.Freed.Where(a => !a.Deferred && _m.VirtualOverlap(a.Addr, a.Addr + Math.Max(_page, (ulong)a.Pages << _shift), _shift) is null).ToList();
        if (freed.Count == 0 || _context.InAtomic) return;
        var area = freed[slot % freed.Count];
        ExpectBug("VMAL-6", $"second vfree({area.Name})", $"vm.Vfree({area.Name})", () => _vm.Vfree(area.Addr));
    }

    private void FreeInterior(int slot, int arg)
    {
        if (_context.InAtomic || _m.Pick(_m.Areas, slot, a => a.Pages > 0) is not { } area) return;
        ulong off = area.Pages > 1 && arg % 2 == 0 ? ((ulong)(1 + arg / 2 % (area.Pages - 1)) << _shift) : 1 + (ulong)arg % (_page - 1);
        ExpectBug("VMAL-6", $"vfree({area.Name} + 0x{off:x})", $"vm.Vfree({area.Name} + 0x{off:x})", () => _vm.Vfree(area.Addr + off));
        VerifyStillMapped(area);
    }

    /// <summary>VMAL-6: vfree of kmalloc or page-allocator memory is a reported bug; vfree(NULL) does nothing.</summary>
    private void FreeForeign(int slot, int arg)
    {
        if (_context.InAtomic) return;
        if (arg % 4 == 3)
        {
            _s.Operations++;
            var e = Try(() => _vm.Vfree(0));
            if (_t.Enabled) _t.Step($"vfree(NULL) -> {Describe(e)}", "vm.Vfree(0);");
            _s.That("VMAL-6", e is null, $"vfree(NULL) must do nothing, got {Describe(e)}");
            return;
        }
        if (arg % 2 == 0 && _m.Pick(_m.Objects, slot) is { } obj)
        {
            ExpectBug("VMAL-6", $"vfree({obj.Name}), a kmalloc object", $"vm.Vfree({obj.Name})", () => _vm.Vfree(obj.Addr));
            return;
        }
        // A direct-mapped page-allocator block: one the sequence holds, or one taken for the purpose.
        var block = _m.Pick(_m.Blocks, slot, b => b.Addr != 0) ?? AllocateBlock(0, Gfp.Kernel);
        if (block is not null)
            ExpectBug("VMAL-6", $"vfree({block.Name}), a page-allocator block", $"vm.Vfree({block.Name})", () => _vm.Vfree(block.Addr));
    }

    /// <summary>KMAL-6: kfree of vmalloc memory (the wrong allocator) is a reported bug.</summary>
    private void KfreeArea(int slot, int arg)
    {
        if (_km is null || _m.Pick(_m.Areas, slot, a => a.Pages > 0) is not { } area) return;
        ExpectBug("KMAL-6", $"kfree({area.Name}), a vmalloc area", $"km.Kfree({area.Name})", () => _km.Kfree(area.Addr));
        VerifyStillMapped(area);
    }

    /// <summary>PAGE-4: free_pages of a vmalloc address is a reported bug.</summary>
    private void FreePagesOfArea(int slot)
    {
        if (_m.Pick(_m.Areas, slot, a => a.Pages > 0) is not { } area) return;
        ExpectBug("PAGE-4", $"free_pages({area.Name}, 0), a vmalloc area", $"pages.FreePages({area.Name}, 0)", () => _pages.FreePages(area.Addr, 0));
        VerifyStillMapped(area);
    }

    /// <summary>VMAL-5: virt_to_phys (and so virt_to_pfn) of a vmalloc address is a reported bug: the area has no single physical address.</summary>
    private void VirtToPhysOfArea(int slot, int arg)
    {
        if (_m.Pick(_m.Areas, slot, a => a.Pages > 0) is not { } area) return;
        ulong off = (ulong)arg % (ulong)area.Size;
        _s.Operations++;
        ulong pa = 0;
        var e = Try(() => pa = _pages.VirtToPhys(area.Addr + off));
        if (_t.Enabled) _t.Step($"virt_to_phys({area.Name} + 0x{off:x}) -> {(e is null ? Hex(pa) : Describe(e))}", $"Assert.Throws<KernelBugException>(() => pages.VirtToPhys({area.Name} + 0x{off:x}));");
        _s.That("VMAL-5", e is KernelBugException { RuleId: "VMAL-5" },
            $"virt_to_phys({area.Name} + 0x{off:x}) of a vmalloc address must be reported as VMAL-5 (it has no single physical address), got {(e is null ? $"PA {Hex(pa)}" : Describe(e))}");
    }

    /// <summary>After a refused call on an area, the area is still whole: its first and last pages still translate to their frames.</summary>
    private void VerifyStillMapped(AreaModel area)
    {
        if (_kpt is null || area.Pages == 0) return;
        foreach (int i in new[] { 0, area.Pages - 1 })
        {
            ulong va = area.Addr + ((ulong)i << _shift);
            var t = _kpt.Translate(va, Access.KernelRead);
            _s.That("VMAL-6", t.Fault == TranslationFault.None && t.PhysicalAddress >> _shift == area.Pfns[i],
                $"after a refused call, page {i} of live {area.Name} translates to {t}, not to its frame 0x{area.Pfns[i]:x}");
        }
    }
}
