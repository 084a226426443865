using KernelMm.Spec.Contract;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// Driver mmap (DRV-1..4): the suite plays a driver whose memory is a contiguous block
/// (remap_pfn_range) or a list of pages (vm_insert_page), filled through the kernel's addresses, and
/// checks the vma the method received, what user space sees, and that stores cross both ways.
/// </summary>
internal sealed partial class UserMachine
{
    private void RegisterRemap(UserOp op)
    {
        if (_drv is null || _mem is null || _m.Devices.Count >= 6) return;
        int pages = Math.Clamp(op.Pages, 1, 4);
        int order = pages <= 1 ? 0 : pages <= 2 ? 1 : 2;
        _s.Operations++;
        ulong addr = 0;
        var e = Try(() => addr = _pages!.GetFreePages(Gfp.Kernel, order));
        if (e is not null || addr == 0) return;
        _kernelDirty = true;
        string name = _m.Name("d");
        var data = Bytes(op.Seed, pages * _ps);
        _mem.Write(addr, data);
        ulong pfn = _pages!.VirtToPhys(addr) >> _shift;
        long remapSize = op.Length == 0 ? 0 : (long)pages * _ps - Math.Clamp(op.Length, 1, _ps - 1);
        int id = 0;
        var re = Try(() => id = _drv.RegisterRemapDevice(pfn, pages, remapSize));
        if (_t.Enabled)
        {
            _t.Step($"buf_{name} = __get_free_pages(GFP_KERNEL, {order}) = 0x{addr:x}, filled; {name} = register remap device(pfn 0x{pfn:x}, {pages} pages, remap size {remapSize}) -> {(re is null ? id.ToString() : Describe(re))}",
                $"var buf_{name} = pages.GetFreePages(Gfp.Kernel, {order}); mem.Write(buf_{name}, Bytes({op.Seed}, {pages * _ps})); var {name} = drv.RegisterRemapDevice(pages.VirtToPhys(buf_{name}) >> {_shift}, {pages}, {remapSize});");
        }
        _s.That("DRV-1", re is null, $"registering a remap_pfn_range device failed: {Describe(re)}");
        var obj = new ObjModel { Name = name, Kind = MapKind.Device, Id = id, Size = (long)pages * _ps, Remap = true, RemapSize = remapSize };
        for (int i = 0; i < pages; i++)
        {
            obj.KernelAddresses.Add(addr + (ulong)(i * _ps));
            obj.Pages[i] = data.AsSpan(i * _ps, _ps).ToArray();
        }
        _m.Devices.Add(obj);
    }

    private void RegisterPageList(UserOp op)
    {
        if (_drv is null || _mem is null || _m.Devices.Count >= 6) return;
        int count = Math.Clamp(op.Pages, 1, 4);
        _s.Operations++;
        string name = _m.Name("d");
        var handles = new List<PageHandle>();
        var obj = new ObjModel { Name = name, Kind = MapKind.Device, Size = (long)count * _ps, Remap = false };
        for (int i = 0; i < count; i++)
        {
            PageHandle page = PageHandle.Null;
            if (Try(() => page = _pages!.AllocPages(Gfp.Kernel, 0)) is not null || page.IsNull) return;
            _kernelDirty = true;
            ulong addr = _pages!.PageAddress(page);
            var data = Bytes(op.Seed + i, _ps);
            _mem.Write(addr, data);
            handles.Add(page);
            obj.KernelAddresses.Add(addr);
            obj.Pages[i] = data;
            if (_t.Enabled) _t.Step($"{name}_p{i} = alloc_page(GFP_KERNEL) = {page} at 0x{addr:x}, filled", $"var {name}_p{i} = pages.AllocPages(Gfp.Kernel, 0); mem.Write(pages.PageAddress({name}_p{i}), Bytes({op.Seed + i}, {_ps}));");
        }
        int id = 0;
        var e = Try(() => id = _drv.RegisterPageListDevice(handles));
        if (_t.Enabled) _t.Step($"{name} = register page-list device({count} pages) -> {(e is null ? id.ToString() : Describe(e))}",
            $"var {name} = drv.RegisterPageListDevice([{string.Join(", ", Enumerable.Range(0, count).Select(i => $"{name}_p{i}"))}]);");
        _s.That("DRV-1", e is null, $"registering a vm_insert_page device failed: {Describe(e)}");
        var dev = new ObjModel { Name = name, Kind = MapKind.Device, Id = id, Size = obj.Size, Remap = false };
        dev.KernelAddresses.AddRange(obj.KernelAddresses);
        foreach (var (i, page) in obj.Pages) dev.Pages[i] = page;
        _m.Devices.Add(dev);
    }

    private void MmapDevice(UserOp op)
    {
        if (_drv is null || _m.Devices.Count == 0 || _m.PickProc(op.Proc) is not { } proc || proc.Maps.Count >= MaxMaps) return;
        var dev = _m.Devices[op.Target % _m.Devices.Count];
        long devPages = dev.PageCount(_ps);
        long k = Math.Clamp(op.Pages, 1, 4), pgoff = op.Offset % 4;
        // Mostly a range inside the device's memory; one step in four asks for more than it has (DRV-1: the method refuses).
        if (op.Offset != 3) { pgoff = op.Offset % devPages; k = Math.Min(k, devPages - pgoff); }
        // A device whose driver passes its own size maps it whole (a size past the vma is a driver bug).
        if (dev.Remap && dev.RemapSize != 0) { k = devPages; pgoff = 0; }
        var fd = proc.Fds.Values.FirstOrDefault(f => f.Obj == dev);
        if (fd is null)
        {
            if (proc.Fds.Count >= 12) return;
            _s.Operations++;
            int n = 0;
            var oe = Try(() => n = _um.OpenDevice(proc.Pid, dev.Id));
            if (_t.Enabled) _t.Step($"fd{n}_{proc.Var} = open({proc.Var}, {dev.Name}) -> {(oe is null ? n.ToString() : Describe(oe))}", $"um.OpenDevice({proc.Var}, {dev.Name}); // fd {n}");
            _s.That("DRV-1", oe is null && n >= 0 && !proc.Fds.ContainsKey(n), $"opening device {dev.Name} returned {(oe is null ? n.ToString() : Describe(oe))}");
            if (oe is not null || n < 0) return;
            proc.Fds[n] = fd = new FdModel(n, dev, false, OpenMode.ReadWrite);
        }
        _s.Operations++;
        var prot = op.Prot;
        ulong len = (ulong)k << _shift;
        string name = _m.Name("m");
        long r = CallMmap(proc, name, 0, len, prot, MapFlags.Shared, fd.Fd, pgoff << _shift, $"device {dev.Name}");
        // DRV-1: the driver's method saw the vma: its start, end, page offset and protection.
        var vma = _drv.LastMmap(dev.Id);
        if (_t.Enabled) _t.Step($"the vma {dev.Name}'s mmap method received: {(vma is null ? "none" : vma.ToString())}", $"var vma_{name} = drv.LastMmap({dev.Name});");
        _s.That("DRV-1", vma is not null && vma.VmEnd - vma.VmStart == len && vma.VmPgoff == (ulong)pgoff && vma.VmPageProt == prot && vma.Shared
                         && (r < 0 || vma.VmStart == (ulong)r),
            $"mmap of {len} bytes of {dev.Name} at page offset {pgoff} with {prot} (returned {Result(r)}): the driver received {(vma is null ? "no vma" : vma.ToString())}");
        string? error = pgoff + k > devPages ? "DRV-1"
            : dev.Remap && dev.RemapSize % _ps != 0 && !_p.RemapPfnRangeRoundsSize ? "DRV-2" : null;
        if (error is not null)
        {
            _s.That(error, r == -Errno.EINVAL,
                () => error == "DRV-1" ? $"{dev.Name}'s mmap method refuses a vma past its {devPages} pages with -EINVAL, and mmap must return that error, got {Result(r)}"
                    : $"remap_pfn_range with a size of {dev.RemapSize} bytes, not a multiple of PAGE_SIZE, must fail with -EINVAL on {_p.Name}, and mmap with it; got {Result(r)}");
            if (r >= 0) CallMunmap(proc, (ulong)r, len);
            return;
        }
        if (r < 0)
        {
            if (r == -Errno.ENOMEM && proc.MappedBytes + len > _p.TaskSize / 2) return;
            _s.Fail(dev.Remap ? "DRV-2" : "DRV-3", $"mmap of {len} bytes of {dev.Name} at page offset {pgoff} failed with {Result(r)}");
            return;
        }
        var map = AddMapping(proc, name, (ulong)r, len, len, prot, anonymous: false, shared: true, fd, pgoff << _shift, fixedAddr: false, addr: 0, device: dev);
        if (map is null) return;
        // DRV-2 / DRV-3: user page i shows device page pgoff + i (the frames the driver chose, in its order).
        string rule = dev.Remap ? "DRV-2" : "DRV-3";
        for (long i = 0; i < k; i++)
            ReadAndCheck(proc, map.Start + ((ulong)i << _shift) + (ulong)(op.Seed % (_ps - 16)), 16, $"page {i} of the device mapping", rule);
        // DRV-4: a store each way, at once: through the mapping (the driver reads it) and by the driver (the mapping shows it).
        if (Allows(prot, true)) WriteAndCheck(proc, map.Start + 8, Bytes(op.Pages * 7 + op.Offset, 8), op.Pages * 7 + op.Offset, null);
        KernelWriteDevice(new UserOp(UserOpKind.KernelWriteDevice, Target: _m.Devices.IndexOf(dev), Pages: (int)pgoff, Offset: 24, Length: 8, Seed: op.Pages * 11 + op.Offset));
    }

    /// <summary>DRV-4: the driver writes through its kernel address; every user mapping shows it at once.</summary>
    private void KernelWriteDevice(UserOp op)
    {
        if (_mem is null || _m.Devices.Count == 0) return;
        var dev = _m.Devices[op.Target % _m.Devices.Count];
        int index = op.Pages % dev.KernelAddresses.Count;
        int len = Math.Clamp(op.Length, 1, 16), off = Math.Clamp(op.Offset, 0, _ps - len);
        _s.Operations++;
        var data = Bytes(op.Seed, len);
        ulong addr = dev.KernelAddresses[index] + (ulong)off;
        var e = Try(() => _mem.Write(addr, data));
        if (_t.Enabled) _t.Step($"driver writes {len} bytes at 0x{addr:x} ({dev.Name} page {index}) -> {Describe(e)}", $"mem.Write(0x{addr:x}UL, Bytes({op.Seed}, {len}));");
        _s.That("DRV-4", e is null, $"the driver's store to its own memory at 0x{addr:x} failed: {Describe(e)}");
        ApplyToObject(dev, ((long)index << _shift) + off, data);
        EchoViews(dev, index, off, len, null, null, 4);
    }

    /// <summary>DRV-4: the driver's kernel address shows what a user store put into its memory.</summary>
    private void CheckDeviceKernelBytes(ObjModel dev, long index, int off, int len)
    {
        var buf = new byte[len];
        ulong addr = dev.KernelAddresses[(int)index] + (ulong)off;
        var e = Try(() => _mem!.Read(addr, buf));
        if (_t.Enabled) _t.Step($"driver reads {len} bytes at 0x{addr:x} -> {(e is null ? Preview(buf) : Describe(e))}", $"mem.Read(0x{addr:x}UL, new byte[{len}]);");
        if (dev.Uncertain.Contains(index)) return;
        var expected = (dev.Pages.TryGetValue(index, out var page) ? page : ZeroPage).AsSpan(off, len).ToArray();
        int diff = e is null ? buf.AsSpan().CommonPrefixLength(expected) : 0;
        _s.That("DRV-4", e is null && diff == len,
            () => e is not null ? $"the driver's read of its memory at 0x{addr:x} failed: {Describe(e)}"
                : $"the driver reads 0x{buf[diff]:x2} at 0x{addr + (ulong)diff:x} ({dev.Name} page {index}) after a user store put 0x{expected[diff]:x2} there through the mapping");
    }
}
