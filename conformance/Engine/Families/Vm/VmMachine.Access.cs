using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>
/// Contents of vmalloc areas (VMAL-1 inside a page, ADDR-5 across pages), translations and the
/// TLB (ADDR-3, ADDR-8), and addresses nothing maps (ADDR-6).
/// </summary>
internal sealed partial class VmMachine
{
    // ---- Contents -----------------------------------------------------------------------------

    /// <summary>
    /// Writes a run of bytes into an area, half of the time across a page boundary. A run that
    /// crosses is read back at once page by page and as a whole: virtually contiguous bytes must
    /// stay contiguous whatever frames lie behind the pages (ADDR-5).
    /// </summary>
    private void WriteArea(int slot, int arg)
    {
        if (_m.Pick(_m.Areas, slot, a => a.Pages > 0) is not { } area) return;
        long size = area.Size;
        bool cross = area.Pages >= 2 && arg % 2 == 0;
        long offset, length;
        if (cross)
        {
            long boundary = (long)(1 + (uint)arg / 2 % (uint)(area.Pages - 1)) << _shift;
            length = 2 + (uint)arg / 7 % 63;
            offset = boundary - length / 2;
            length = Math.Min(length, size - offset);
            cross = offset >> _shift != (offset + length - 1) >> _shift;
        }
        else
        {
            offset = (uint)arg % (uint)size;
            long pageEnd = ((offset >> _shift) + 1) << _shift;
            length = Math.Min(1 + (uint)arg / 7 % 64, Math.Min(pageEnd, size) - offset);
        }
        var data = new byte[length];
        new Random(arg).NextBytes(data);
        _s.Operations++;
        ulong at = area.Addr + (ulong)offset;
        var e = Try(() => _memory.Write(at, data));
        if (_t.Enabled) _t.Step($"write {length} bytes to {area.Name}+0x{offset:x} (0x{at:x}{(cross ? ", across a page boundary" : "")}) -> {Describe(e)}",
            $"mem.Write({area.Name} + 0x{offset:x}, Bytes({arg}, {length}));");
        string rule = cross ? "ADDR-5" : "VMAL-1";
        _s.That(rule, e is null, $"writing {length} bytes into live {area.Name} at 0x{at:x} failed: {Describe(e)}");
        area.Record(offset, data, _shift);
        if (cross) CheckAcross(area, offset, length, "just after writing it");
    }

    /// <summary>ADDR-5: a run that crosses page boundaries reads back the same page by page (single-page reads) and whole.</summary>
    private void CheckAcross(AreaModel area, long offset, long length, string when)
    {
        var expected = new byte[length];
        for (long i = 0; i < length; i++) expected[i] = area.Shadow.TryGetValue(offset + i, out byte b) ? b : (byte)0;
        for (long piece = offset; piece < offset + length;)
        {
            long end = Math.Min(offset + length, ((piece >> _shift) + 1) << _shift);
            var got = new byte[end - piece];
            var e = Try(() => _memory.Read(area.Addr + (ulong)piece, got));
            int page = (int)(piece >> _shift);
            int diff = e is null ? got.AsSpan().CommonPrefixLength(expected.AsSpan((int)(piece - offset), got.Length)) : 0;
            _s.That("ADDR-5", e is null && diff == got.Length,
                $"{area.Name}: {length} bytes at offset 0x{offset:x} run across pages (frames {string.Join(", ", Enumerable.Range((int)(offset >> _shift), (int)((offset + length - 1) >> _shift) - (int)(offset >> _shift) + 1).Select(i => Hex(area.Pfns[i])))}); "
                      + $"{when}, page {page} alone reads {(e is null ? $"0x{got[diff]:x2} at offset 0x{piece + diff:x} instead of 0x{expected[piece - offset + diff]:x2}" : Describe(e))}: "
                      + $"virtually contiguous bytes must not depend on the frames being physically contiguous");
            piece = end;
        }
        var whole = new byte[length];
        var we = Try(() => _memory.Read(area.Addr + (ulong)offset, whole));
        int wd = we is null ? whole.AsSpan().CommonPrefixLength(expected) : 0;
        _s.That("ADDR-5", we is null && wd == length,
            $"{area.Name}: reading {length} bytes across the page boundary at offset 0x{offset:x} {when} gives {(we is null ? $"0x{whole[wd]:x2} at offset 0x{offset + wd:x} instead of 0x{expected[wd]:x2}" : Describe(we))}");
    }

    /// <summary>VMAL-1: every byte written into a live area reads back, one page at a time; one run across a boundary is checked too (ADDR-5).</summary>
    private void VerifyArea(AreaModel area)
    {
        if (area.Shadow.Count == 0) return;
        foreach (var page in area.Shadow.Keys.GroupBy(o => o >> _shift))
        {
            long lo = page.Min(), hi = page.Max();
            var got = new byte[hi - lo + 1];
            var e = Try(() => _memory.Read(area.Addr + (ulong)lo, got));
            _s.That("VMAL-1", e is null, $"reading live {area.Name} at offset 0x{lo:x}: {Describe(e)}");
            foreach (long o in page)
            {
                byte want = area.Shadow[o], have = got[o - lo];
                _s.That("VMAL-1", have == want, $"live {area.Name} (page {o >> _shift}, frame {Hex(area.Pfns[o >> _shift])}) lost a written byte at offset 0x{o:x}: wrote 0x{want:x2}, read 0x{have:x2}");
            }
        }
        long boundary = area.Shadow.Keys.Where(o => (o & (long)(_page - 1)) == 0 && o > 0 && area.Shadow.ContainsKey(o - 1)).DefaultIfEmpty(-1).First();
        if (boundary > 0) CheckAcross(area, boundary - 1, 2, "later");
    }

    // ---- Translations and the TLB -------------------------------------------------------------

    /// <summary>A page some live mapping holds: an area page, an ioremap page, a kmapped page or a direct-mapped block.</summary>
    private (ulong Va, string What)? PickMappedPage(int slot, int arg)
    {
        switch (arg % 4)
        {
            case 0 when _m.Pick(_m.Ioremaps, slot) is { } io:
                return (io.PageStart(_shift) + ((ulong)((uint)arg / 4 % (uint)io.Pages) << _shift), $"a page of {io.Name}");
            case 1 when _m.Pick(_m.Blocks, slot, b => b.KmapCount > 0) is { } k:
                return (k.KmapAddr, $"the kmap of {k.Name}");
            case 2 when _m.Pick(_m.Blocks, slot, b => b.Addr != 0) is { } b:
                return (b.Addr, $"direct-mapped {b.Name}");
        }
        if (_m.Pick(_m.Areas, slot, a => a.Pages > 0) is { } area)
        {
            int i = (int)((uint)arg / 4 % (uint)area.Pages);
            area.Touched.Add(i);
            return (area.Addr + ((ulong)i << _shift), $"page {i} of {area.Name}");
        }
        return _m.Blocks.FirstOrDefault(b => b.Addr != 0) is { } any ? (any.Addr, $"direct-mapped {any.Name}") : null;
    }

    /// <summary>
    /// ADDR-3 for an area page: its translation is PFN * PAGE_SIZE + offset with the frame
    /// vmalloc_to_pfn names; and ADDR-8: the TLB answers the same, and a second translation right
    /// after the first is a hit (the miss filled it).
    /// </summary>
    private void TranslateStep(int slot, int arg)
    {
        if (_kpt is null || PickMappedPage(slot, arg) is not { } target) return;
        _s.Operations++;
        ulong off = OffsetFor((ulong)arg);
        var walk = _kpt.Translate(target.Va + off, Access.KernelRead);
        if (_t.Enabled) _t.Step($"translate({target.What} + 0x{off:x} = 0x{target.Va + off:x}) -> {walk}", $"_ = kpt.Translate(0x{target.Va + off:x}, Access.KernelRead);");
        if (_m.Areas.FirstOrDefault(a => target.Va >= a.Addr && target.Va < a.End(_shift)) is { } area)
        {
            ulong pfn = 0;
            var e = Try(() => pfn = _vm.VmallocToPfn(target.Va));
            _s.That("VMAL-5", e is null, $"vmalloc_to_pfn(0x{target.Va:x}) of live {area.Name} raised {Describe(e)}");
            _s.That("ADDR-3", walk.Fault == TranslationFault.None && walk.PhysicalAddress == (pfn << _shift | off),
                $"{target.What} + 0x{off:x} translates to {walk}; with frame 0x{pfn:x} PA = PFN * PAGE_SIZE + offset = 0x{pfn << _shift | off:x}");
        }
        else
            _s.That("ADDR-3", walk.Fault == TranslationFault.None && (walk.PhysicalAddress & (_page - 1)) == off,
                $"{target.What} + 0x{off:x} translates to {walk}, which does not end in the offset 0x{off:x}");
        if (_tlb is null) return;
        CheckTlb(target.Va + off, target.What);
        bool? hit = CheckTlb(target.Va + off, target.What);
        _s.That("ADDR-8", hit == true, $"{target.What} was translated through the TLB twice in a row: the first (a present page) must fill it, so the second must hit, but it missed");
    }

    /// <summary>ADDR-8: after flush_tlb_kernel_range of a page, its next translation walks the tables (a miss) and is right.</summary>
    private void FlushOnePage(int slot, int arg)
    {
        if (_tlb is null || PickMappedPage(slot, arg) is not { } target) return;
        _s.Operations++;
        CheckTlb(target.Va, target.What);
        var e = Try(() => _tlb.FlushTlbKernelRange(target.Va, target.Va + _page));
        if (_t.Enabled) _t.Step($"flush_tlb_kernel_range({target.What}) -> {Describe(e)}", $"tlb.FlushTlbKernelRange(0x{target.Va:x}, 0x{target.Va + _page:x});");
        _s.That("ADDR-8", e is null, $"flush_tlb_kernel_range raised {Describe(e)}");
        bool? hit = CheckTlb(target.Va, target.What);
        _s.That("ADDR-8", hit == false, $"{target.What} hit in the TLB right after flush_tlb_kernel_range of its page");
    }

    /// <summary>ADDR-8: after flush_tlb_all, the next translation is a miss.</summary>
    private void FlushAll(int slot)
    {
        if (_tlb is null || PickMappedPage(slot, slot) is not { } target) return;
        _s.Operations++;
        CheckTlb(target.Va, target.What);
        var e = Try(_tlb.FlushTlbAll);
        if (_t.Enabled) _t.Step($"flush_tlb_all() -> {Describe(e)}", "tlb.FlushTlbAll();");
        _s.That("ADDR-8", e is null, $"flush_tlb_all raised {Describe(e)}");
        bool? hit = CheckTlb(target.Va, target.What);
        _s.That("ADDR-8", hit == false, $"{target.What} hit in the TLB right after flush_tlb_all");
    }

    /// <summary>
    /// ADDR-8 and the declared size: after a full flush, translating more distinct pages than the
    /// TLB holds and then all of them again can hit at most as many times as it has entries.
    /// </summary>
    private void ScanTlb(int arg)
    {
        if (_tlb is null) return;
        int entries = _tlb.TlbEntries;
        _s.That("ADDR-8", entries >= 1, $"the TLB declares {entries} entries");
        if (entries > 4096 || (ulong)entries + 8 > _lowFrames) return;
        _s.Operations++;
        _tlb.FlushTlbAll();
        if (_t.Enabled) _t.Step($"flush_tlb_all(); translate {entries + 8} direct-mapped pages twice", "tlb.FlushTlbAll();");
        int count = entries + 8;
        ulong stride = Math.Max(1, (_lowFrames - 1) / (ulong)count), first = (ulong)(uint)arg % stride;
        var vas = Enumerable.Range(0, count).Select(j => _layout.DirectAddress(first + (ulong)j * stride)).ToList();
        foreach (var va in vas) _s.That("ADDR-8", CheckTlbQuiet(va) == false, $"0x{va:x} hit right after flush_tlb_all");
        int hits = vas.Count(va => CheckTlbQuiet(va) == true);
        _s.That("ADDR-8", hits <= entries, $"translating {count} distinct pages twice after a flush hit {hits} times the second time, more than the {entries} entries the TLB declares");
    }

    private bool? CheckTlbQuiet(ulong va)
    {
        var walk = _kpt!.Translate(va, Access.KernelRead);
        long hits = _tlb!.TlbHits, misses = _tlb.TlbMisses;
        var cached = _tlb.TlbTranslate(va, Access.KernelRead);
        long dh = _tlb.TlbHits - hits, dm = _tlb.TlbMisses - misses;
        _s.That("ADDR-8", dh + dm == 1 && dh >= 0 && dm >= 0 && cached == walk,
            $"TLB translation of 0x{va:x}: {cached} ({dh} hit(s), {dm} miss(es)); the walk says {walk}");
        return dh == 1;
    }

    // ---- Addresses nothing maps ---------------------------------------------------------------

    /// <summary>
    /// ADDR-6: an address no mapping holds faults: the walk says not present, and a kernel read or
    /// write raises a page fault with no effect. The addresses: the VMALLOC_OFFSET hole after the
    /// direct mapping, and the pages of freed areas and mappings nothing has reused.
    /// </summary>
    private void Probe(int slot, int arg)
    {
        ulong? va = null;
        string what = "";
        var freeArea = _m.Freed.Where(a => a.Pages > 0 && _m.VirtualOverlap(a.Addr, a.End(_shift), _shift) is null).ToList();
        var freeIo = _m.FreedIo.Where(io => _m.VirtualOverlap(io.PageStart(_shift), io.End(_shift), _shift) is null).ToList();
        if (arg % 3 == 1 && freeArea.Count > 0)
        {
            var a = freeArea[slot % freeArea.Count];
            int i = (int)((uint)arg / 3 % (uint)a.Pages);
            (va, what) = (a.Addr + ((ulong)i << _shift) + OffsetFor((ulong)arg), $"page {i} of freed {a.Name}");
        }
        else if (arg % 3 == 2 && freeIo.Count > 0)
        {
            var io = freeIo[slot % freeIo.Count];
            (va, what) = (io.PageStart(_shift) + OffsetFor((ulong)arg), $"unmapped {io.Name}");
        }
        else
        {
            ulong holeStart = _layout.DirectMapEnd, holePages = _layout.HoleBytes >> _shift;
            if (holePages == 0) return;
            ulong page = (ulong)(uint)arg % holePages;
            (va, what) = (holeStart + (page << _shift) + OffsetFor((ulong)arg), $"the VMALLOC_OFFSET hole (page {page} after the direct mapping)");
        }
        ulong at = va.Value;
        _s.Operations++;
        if (_kpt is not null)
        {
            var t = _kpt.Translate(at, Access.KernelRead);
            if (_t.Enabled) _t.Step($"translate({what}: 0x{at:x}) -> {t}", $"Assert.Equal(TranslationFault.NotPresent, kpt.Translate(0x{at:x}, Access.KernelRead).Fault);");
            _s.That("ADDR-6", t.Fault == TranslationFault.NotPresent, $"{what}, 0x{at:x}, must not be mapped, but translates to {t}");
            CheckTlb(at, what);
        }
        var buffer = new byte[1];
        var re = Try(() => _memory.Read(at, buffer));
        if (_t.Enabled) _t.Step($"read 1 byte at 0x{at:x} ({what}) -> {(re is null ? $"0x{buffer[0]:x2}" : Describe(re))}", $"Assert.Throws<KernelPageFaultException>(() => mem.Read(0x{at:x}, new byte[1]));");
        _s.That("ADDR-6", re is KernelPageFaultException, $"reading {what} at 0x{at:x} must raise a kernel page fault, got {(re is null ? $"the byte 0x{buffer[0]:x2}" : Describe(re))}");
        var we = Try(() => _memory.Write(at, [0x5a]));
        if (_t.Enabled) _t.Step($"write 1 byte at 0x{at:x} ({what}) -> {Describe(we)}", $"Assert.Throws<KernelPageFaultException>(() => mem.Write(0x{at:x}, new byte[] {{ 0x5a }}));");
        _s.That("ADDR-6", we is KernelPageFaultException, $"writing {what} at 0x{at:x} must raise a kernel page fault, got {Describe(we)}");
    }
}
