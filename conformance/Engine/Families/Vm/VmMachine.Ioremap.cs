using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>ioremap and iounmap (DRV-5): device memory mapped without RAM.</summary>
internal sealed partial class VmMachine
{
    /// <summary>Device (bus) memory the suite maps: this far above the end of RAM at most.</summary>
    private const ulong DeviceWindow = 256UL << 20;

    /// <summary>
    /// ioremap of a device range within <see cref="DeviceWindow"/> above RAM (sometimes not page
    /// aligned), or now and then of RAM, which the DRV-5 decision refuses with NULL.
    /// </summary>
    private void MapDevice(long size, int arg)
    {
        if (_kpt is null || _context.InAtomic) return;
        ulong devicePages = DeviceWindow >> _shift;
        ulong limit = _p.PhysicalAddressBits >= 64 ? ulong.MaxValue : 1UL << _p.PhysicalAddressBits;
        bool ram = arg % 7 == 0;
        ulong phys = ram
            ? ((ulong)(uint)arg % _p.TotalPages) << _shift
            : _p.PhysicalMemory + (((ulong)(uint)arg / 7 % devicePages) << _shift) + (arg % 3 == 0 ? OffsetFor((ulong)arg) : 0);
        if (phys + (ulong)Math.Max(size, 1) > limit) return;
        string name = _m.NextName("io");
        string call = $"ioremap(0x{phys:x}, {size})";
        _s.Operations++;
        var before = Snap();
        ulong addr = 0;
        var e = Try(() => addr = _kpt.Ioremap(phys, size));
        var after = Snap();
        if (_t.Enabled) _t.Step($"{name} = {call}{(ram ? " (RAM)" : "")} -> {(e is null ? Hex(addr) : Describe(e))}", $"var {name} = kpt.Ioremap(0x{phys:x}, {size});");
        _s.That("DRV-5", e is null, $"{call} raised {Describe(e)}; a range that cannot be mapped gives NULL");
        if (size == 0 || ram)
        {
            // DRV-5 decision: ordinary RAM is not device memory; a zero-sized range maps nothing.
            _s.That("DRV-5", addr == 0, $"{call} of {(ram ? "RAM" : "nothing")} must return NULL, got 0x{addr:x}");
            _s.That("DRV-5", Consumed(before, after) <= MetadataAllowance, $"{call} was refused but kept pages: {Show(before, after)}");
            return;
        }
        if (addr == 0) return; // out of room or of memory for page tables: allowed
        ulong offset = phys & (_page - 1);
        int pages = (int)(((phys + (ulong)size - 1) >> _shift) - (phys >> _shift) + 1);
        var io = new IoModel { Name = name, Addr = addr, Phys = phys, Size = size, Pages = pages };
        ulong start = io.PageStart(_shift), end = io.End(_shift);
        _s.That("DRV-5", _layout.InIoremapWindow(start, end),
            $"{call} returned [0x{start:x}, 0x{end:x}), outside the ioremap window [0x{_layout.IoremapStart:x}, 0x{_layout.IoremapEnd:x}) (the vmalloc window)");
        _s.That("DRV-5", (addr & (_page - 1)) == offset, $"{call} returned 0x{addr:x}, which does not keep the offset 0x{offset:x} of 0x{phys:x} in its page");
        var overlap = _m.VirtualOverlap(start, end, _shift);
        _s.That("DRV-5", overlap is null, $"{call}: [0x{start:x}, 0x{end:x}) overlaps live {overlap}");
        foreach (int i in new SortedSet<int> { 0, pages / 2, pages - 1 })
        {
            ulong pageVa = start + ((ulong)i << _shift);
            ulong? pa = CheckPageSplit(pageVa, $"page {i} of {name} = {call}", "DRV-5");
            ulong want = ((phys >> _shift) + (ulong)i) << _shift;
            _s.That("DRV-5", pa == want, $"{call}: page {i} at 0x{pageVa:x} maps PA 0x{pa:x}, not the device page 0x{want:x}");
        }
        var probe = new byte[1];
        var re = Try(() => _memory.Read(addr, probe));
        _s.That("DRV-5", re is null, $"{call}: reading the mapping at 0x{addr:x} failed: {Describe(re)}");
        long consumed = Consumed(before, after);
        _s.That("DRV-5", consumed <= MetadataAllowance,
            $"{call} of {pages} device page(s) took {consumed} pages of RAM besides page tables ({Show(before, after)}): ioremap allocates no RAM for the data");
        CheckTlb(addr, $"{name}");
        _m.Ioremaps.Add(io);
    }

    private void UnmapDevice(IoModel io)
    {
        if (_kpt is null || _context.InAtomic) return;
        _s.Operations++;
        var before = Snap();
        var e = Try(() => _kpt.Iounmap(io.Addr));
        var after = Snap();
        if (_t.Enabled) _t.Step($"iounmap({io.Name}) -> {Describe(e)}", $"kpt.Iounmap({io.Name});");
        _s.That("DRV-5", e is null, $"iounmap({io.Name}) of a live mapping was refused: {Describe(e)}");
        for (int i = 0; i < io.Pages; i++)
        {
            ulong va = io.PageStart(_shift) + ((ulong)i << _shift);
            var t = _kpt.Translate(va, Access.KernelRead);
            _s.That("DRV-5", t.Fault == TranslationFault.NotPresent, $"after iounmap({io.Name}), page {i} at 0x{va:x} still translates to {t}");
            CheckTlb(va, $"page {i} of unmapped {io.Name}");
        }
        _s.That("DRV-5", Consumed(before, after) <= 0, $"iounmap({io.Name}) took pages: {Show(before, after)}");
        _m.Retire(io);
    }

    /// <summary>DRV-5 decision: iounmap of an address ioremap did not return (a vmalloc area, a direct-mapped block, an unmapped range) is a reported bug.</summary>
    private void UnmapBad(int slot, int arg)
    {
        if (_kpt is null || _context.InAtomic) return;
        if (arg % 3 == 0 && _m.Pick(_m.Areas, slot, a => a.Pages > 0) is { } area)
            ExpectBug("DRV-5", $"iounmap({area.Name}), a vmalloc area", $"kpt.Iounmap({area.Name})", () => _kpt.Iounmap(area.Addr));
        else if (arg % 3 == 1 && _m.Pick(_m.Blocks, slot, b => b.Addr != 0) is { } block)
            ExpectBug("DRV-5", $"iounmap({block.Name}), a direct-mapped block", $"kpt.Iounmap({block.Name})", () => _kpt.Iounmap(block.Addr));
        else if (_m.FreedIo.Where(io => _m.VirtualOverlap(io.PageStart(_shift), io.End(_shift), _shift) is null).ToList() is { Count: > 0 } gone)
        {
            var io = gone[slot % gone.Count];
            ExpectBug("DRV-5", $"second iounmap({io.Name})", $"kpt.Iounmap({io.Name})", () => _kpt.Iounmap(io.Addr));
        }
    }
}
