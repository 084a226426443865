using KernelMm.Spec.Contract;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>mmap, munmap and mprotect, valid and invalid (MMAP-1..10, ADDR-9), and the model's mappings.</summary>
internal sealed partial class UserMachine
{
    private ulong WindowStart => _p.UserWindowStart;
    private ulong WindowEnd => _p.UserWindowStart + _p.UserWindowSize;
    private bool InWindow(ulong start, ulong end) => start >= WindowStart && end <= WindowEnd && start < end;
    private ulong WindowPage(int index, ulong pages)
    {
        ulong windowPages = _p.UserWindowSize >> _shift;
        return WindowStart + (ulong)((uint)index % Math.Max(1, windowPages - pages)) * (ulong)_ps;
    }

    private static bool Allows(Prot prot, bool write) => write ? (prot & Prot.Write) != 0 : prot != Prot.None;

    private static string ProtCode(Prot prot) => prot == Prot.None ? "Prot.None"
        : string.Join(" | ", new[] { Prot.Read, Prot.Write, Prot.Exec }.Where(b => (prot & b) != 0).Select(b => $"Prot.{b}"));

    private static string FlagsCode(MapFlags flags) => flags == MapFlags.None ? "MapFlags.None"
        : string.Join(" | ", new[] { MapFlags.Shared, MapFlags.Private, MapFlags.Fixed, MapFlags.Anonymous }.Where(b => (flags & b) != 0).Select(b => $"MapFlags.{b}"));

    /// <summary>Calls mmap and traces it; the result variable is <paramref name="name"/>.</summary>
    private long CallMmap(ProcModel proc, string name, ulong addr, ulong len, Prot prot, MapFlags flags, int fd, long offset, string? note = null)
    {
        long r = 0;
        var e = Try(() => r = _um.Mmap(proc.Pid, addr, len, prot, flags, fd, offset));
        if (_t.Enabled)
            _t.Step($"{name} = mmap({proc.Var}, 0x{addr:x}, {len}, {prot}, {flags}, fd {fd}, off {offset}){(note is null ? "" : $" [{note}]")} -> {(e is null ? (r < 0 ? $"-{Errno.Name(r)}" : $"0x{r:x}") : Describe(e))}",
                $"var {name} = um.Mmap({proc.Var}, 0x{addr:x}UL, {len}UL, {ProtCode(prot)}, {FlagsCode(flags)}, {fd}, {offset});");
        if (e is not null) _s.Fail("MMAP-1", $"mmap raised {Describe(e)}; a system call answers with an address or a negated errno");
        return r;
    }

    // ---- Valid mappings ---------------------------------------------------------------------------

    private MapModel? MmapValid(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count >= MaxMaps) return null;
        bool anonymous = op.Kind == UserOpKind.MmapAnon;
        bool shared = (op.Flags & MapFlags.Shared) != 0;
        FdModel? fd = null;
        if (!anonymous)
        {
            var fds = proc.Fds.Values.Where(f => f.Obj is { Kind: MapKind.FileShared }).ToList();
            if (fds.Count == 0 && _m.Files.Count == 0) CreateFile(new UserOp(UserOpKind.CreateFile, Pages: 1 + op.Pages % 4, Length: op.Length));
            if (fds.Count > 0) fd = fds[op.Target % fds.Count];
            else if (_m.Files.Count > 0 && proc.Fds.Count < 12) fd = Open(proc, _m.Files[op.Target % _m.Files.Count], OpenMode.ReadWrite);
            if (fd is null) return null;
        }
        ulong pages = (ulong)Math.Max(1, op.Pages), alen = pages << _shift;
        ulong len = alen - (ulong)Math.Clamp(op.Length, 0, _ps - 1);
        long offset = anonymous ? 0 : (long)(op.Offset % 4) << _shift;
        ulong addr = 0;
        bool fixedAddr = false;
        switch (op.Place)
        {
            case Placement.Hint: addr = WindowPage(op.Offset, pages); break;
            case Placement.Fixed: addr = WindowPage(op.Offset, pages); fixedAddr = true; break;
            case Placement.FixedOver:
                var inWindow = proc.Maps.Where(m => m.InWindow).ToList();
                fixedAddr = true;
                if (inWindow.Count == 0) { addr = WindowPage(op.Offset, pages); break; }
                var over = inWindow[op.Target % inWindow.Count];
                addr = over.Start + (ulong)(op.Offset % (int)((over.End - over.Start) >> _shift)) * (ulong)_ps;
                if (addr + alen > WindowEnd) addr = WindowEnd - alen;
                break;
        }
        var flags = (shared ? MapFlags.Shared : MapFlags.Private) | (anonymous ? MapFlags.Anonymous : 0) | (fixedAddr ? MapFlags.Fixed : 0);
        var prot = op.Prot;
        _s.Operations++;
        string name = _m.Name("m");
        long r = CallMmap(proc, name, addr, len, prot, flags, fd?.Fd ?? -1, offset);

        // The descriptor's mode must allow the mapping (EACCES as Linux returns it).
        if (fd is not null && (!fd.CanRead || (shared && (prot & Prot.Write) != 0 && !fd.CanWrite)))
        {
            _s.That("MMAP-6", r == -Errno.EACCES,
                $"mmap of {fd.Obj!.Name} opened {fd.Mode} with {prot}, {(shared ? "MAP_SHARED" : "MAP_PRIVATE")} must fail with -EACCES, got {Result(r)}");
            return null;
        }
        if (r < 0)
        {
            // Room may really run out for a mapping placed by the kernel; never for a fixed one.
            if (r == -Errno.ENOMEM && !fixedAddr && proc.MappedBytes + alen > _p.TaskSize / 2) return null;
            // A second shared mapping of file pages the process maps already is ADDR-7's (aliasing).
            bool alias = shared && fd is not null && proc.Maps.Any(m => m.Kind == MapKind.FileShared && m.Obj == fd.Obj
                && m.PgOff < (offset >> _shift) + (long)pages && (offset >> _shift) < m.PgOff + (long)((m.End - m.Start) >> _shift));
            _s.Fail(alias ? "ADDR-7" : "MMAP-4", $"mmap({(fixedAddr ? "MAP_FIXED " : "")}0x{addr:x}, {len}) of a legal mapping failed with {Result(r)}");
            return null;
        }
        return AddMapping(proc, name, (ulong)r, alen, len, prot, anonymous, shared, fd, offset, fixedAddr, addr);
    }

    /// <summary>Checks a successful mmap's address, records the mapping, and probes its edges (MMAP-1, MMAP-4).</summary>
    private MapModel? AddMapping(ProcModel proc, string name, ulong start, ulong alen, ulong len, Prot prot, bool anonymous, bool shared,
        FdModel? fd, long offset, bool fixedAddr, ulong addr, ObjModel? device = null, long populated = long.MaxValue)
    {
        if (fixedAddr)
            _s.That("MMAP-4", start == addr, $"mmap(MAP_FIXED 0x{addr:x}) returned 0x{start:x}: MAP_FIXED must place the mapping exactly at addr");
        else
        {
            _s.That("ADDR-9", start < _p.TaskSize && alen <= _p.TaskSize - start,
                $"mmap returned 0x{start:x}, whose {alen} bytes do not lie below TASK_SIZE 0x{_p.TaskSize:x}");
            // An overlap only in the rounded-up last page says the mapping is shorter than it must be (MMAP-1).
            var overlapping = proc.Maps.Where(m => m.End > start && m.Start < start + alen).ToList();
            bool tailOnly = overlapping.Count > 0 && len % (ulong)_ps != 0 && overlapping.All(m => m.Start >= start + (len & ~(ulong)(_ps - 1)));
            _s.That(tailOnly ? "MMAP-1" : "MMAP-4", (start & (ulong)(_ps - 1)) == 0 && start != 0 && overlapping.Count == 0,
                $"mmap(0x{addr:x}, {len}) without MAP_FIXED returned 0x{start:x}: the kernel's choice must be page aligned, not 0, and its {alen} bytes must not overlap a mapping the process has: "
                      + $"{string.Join(", ", overlapping)}");
        }
        ulong end = start + alen;
        bool replaced = fixedAddr && !proc.IsFree(start, end);
        if (fixedAddr) RemoveRange(proc, start, end, MapOrigin.FixedReplace, munmap: false);
        var kind = device is not null ? MapKind.Device : anonymous ? (shared ? MapKind.Shm : MapKind.AnonPrivate) : shared ? MapKind.FileShared : MapKind.FilePrivate;
        var obj = device ?? (anonymous ? (shared ? new ObjModel { Name = $"shm:{name}", Kind = MapKind.Shm, Size = (long)alen } : null) : fd!.Obj);
        var map = new MapModel
        {
            Var = name, VarBase = start, Start = start, End = end, Prot = prot, Kind = kind, Obj = obj,
            PgOff = offset >> _shift, Version = _m.Version, Lineage = _m.NewLineage(),
            Origin = device is not null ? MapOrigin.Device : replaced ? MapOrigin.FixedReplace : MapOrigin.Mmap,
            Source = (proc.Pid, fd?.Fd ?? -1), MayWrite = !shared || fd is null || fd.CanWrite,
            InWindow = InWindow(start, end), Populated = populated,
        };
        proc.Add(map);
        proc.Remapped(start, end);

        // ADDR-6: the first access to the fresh mapping is a page fault the kernel resolves (or SEGV_ACCERR under PROT_NONE).
        if (device is null) ReadAndCheck(proc, start, 1, "the first byte of a fresh mapping", null);
        // MMAP-1: the length is rounded up: the last byte of the last page is part of the mapping.
        if (device is null) ReadAndCheck(proc, end - 1, 1, "the last byte of the rounded-up length", "MMAP-1");
        // MMAP-1: and the page after it is not (only where the suite knows nothing else can be).
        if (map.InWindow && end < WindowEnd && proc.Find(end) is null)
            ReadAndCheck(proc, end, 1, "the page after the mapping", "MMAP-1");
        // MMAP-4: MAP_FIXED replaced what was there: the new mapping's contents show.
        if (replaced && Allows(prot, false) && device is null) ReadAndCheck(proc, start, Math.Min(64, _ps), "a replaced page", "MMAP-4");
        // MMAP-7: a first store to a writable file mapping: shared, the file and its other mappings show it; private, none of them does.
        if (kind is MapKind.FileShared or MapKind.FilePrivate && Allows(prot, true) && map.PgOff < obj!.PageCount(_ps))
        {
            int seed = (int)(start >> _shift) ^ (int)map.PgOff;
            WriteAndCheck(proc, start + (ulong)(seed & (_ps / 2 - 1)), Bytes(seed, 8), seed, null);
        }
        return map;
    }

    /// <summary>Removes [start, end) from the model's mappings of <paramref name="proc"/>, keeping the parts outside; returns those parts.</summary>
    private List<MapModel> RemoveRange(ProcModel proc, ulong start, ulong end, MapOrigin leftover, bool munmap)
    {
        var left = new List<MapModel>();
        foreach (var m in proc.Maps.Where(m => m.End > start && m.Start < end).ToList())
        {
            proc.Maps.Remove(m);
            if (m.Start < start) left.Add(m.Slice(m.Start, start, _shift, m.Origin == MapOrigin.Device ? MapOrigin.Device : leftover));
            if (end < m.End) left.Add(m.Slice(end, m.End, _shift, m.Origin == MapOrigin.Device ? MapOrigin.Device : leftover));
            if (munmap) proc.Unmapped.Add((Math.Max(start, m.Start), Math.Min(end, m.End)));
        }
        foreach (var piece in left) proc.Add(piece);
        ulong first = start >> _shift, last = (end - 1) >> _shift;
        foreach (var vpn in proc.Private.Keys.Where(v => v >= first && v <= last).ToList()) proc.Private.Remove(vpn);
        proc.Uncertain.RemoveWhere(v => v >= first && v <= last);
        proc.Accessed.RemoveWhere(v => v >= first && v <= last);
        return left;
    }

    /// <summary>ADDR-7: the same file pages mapped a second time in the same process; a store through one mapping shows in the other at once.</summary>
    private void Alias(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count >= MaxMaps) return;
        var candidates = proc.Maps.Where(m => m.Kind == MapKind.FileShared && m.ProtKnown && Allows(m.Prot, false)).ToList();
        if (candidates.Count == 0)
        {
            // Nothing to alias yet: a file and a first shared mapping of it.
            if (_m.Files.Count == 0) CreateFile(new UserOp(UserOpKind.CreateFile, Pages: 2));
            if (_m.Files.Count == 0 || proc.Fds.Count >= 12) return;
            Open(proc, _m.Files[op.Target % _m.Files.Count], OpenMode.ReadWrite);
            MmapValid(new UserOp(UserOpKind.MmapFile, op.Proc, Target: proc.Fds.Count - 1, Pages: 2, Flags: MapFlags.Shared));
            candidates = proc.Maps.Where(m => m.Kind == MapKind.FileShared && m.ProtKnown && Allows(m.Prot, false)).ToList();
            if (candidates.Count == 0) return;
        }
        var first = candidates[op.Target % candidates.Count];
        var fd = proc.Fds.Values.FirstOrDefault(f => f.Obj == first.Obj && f.CanRead && f.CanWrite) ?? Open(proc, first.Obj!, OpenMode.ReadWrite);
        if (fd is null) return;
        _s.Operations++;
        ulong alen = first.End - first.Start;
        string name = _m.Name("m");
        var prot = Prot.Read | Prot.Write;
        long r = CallMmap(proc, name, 0, alen, prot, MapFlags.Shared, fd.Fd, first.PgOff << _shift, $"a second mapping of {first.Var}'s pages");
        if (r < 0)
        {
            if (r == -Errno.ENOMEM && proc.MappedBytes + alen > _p.TaskSize / 2) return;
            _s.Fail("ADDR-7", $"a second MAP_SHARED mapping of {first.Obj!.Name} failed with {Result(r)}");
            return;
        }
        var alias = AddMapping(proc, name, (ulong)r, alen, alen, prot, anonymous: false, shared: true, fd, first.PgOff << _shift, fixedAddr: false, addr: 0);
        if (alias is null) return;
        // A store through the new mapping; the echo reads the first one (ADDR-7: one frame, two addresses).
        if ((long)first.PgOff < first.Obj!.PageCount(_ps))
            WriteAndCheck(proc, alias.Start + (ulong)(op.Offset % Math.Max(1, _ps - 8)), Bytes(op.Target * 31 + 7, 8), op.Target * 31 + 7, null);
    }

    // ---- Invalid mappings ---------------------------------------------------------------------------

    private void MmapBad(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return;
        var rw = Prot.Read | Prot.Write;
        var anon = MapFlags.Private | MapFlags.Anonymous;
        FdModel? FileFd(Func<FdModel, bool> ok) =>
            proc.Fds.Values.FirstOrDefault(f => f.Obj is { Kind: MapKind.FileShared } && ok(f))
            ?? (_m.Files.Count > 0 && proc.Fds.Count < 12 ? Open(proc, _m.Files[op.Target % _m.Files.Count], OpenMode.ReadWrite) : null);
        ulong free = WindowPage(op.Target * 7919 + op.Pages, 2);
        switch (op.Target % 11)
        {
            case 0: Refused(proc, "a length of 0", "MMAP-1", [Errno.EINVAL], 0, 0, rw, anon, -1, 0); break;
            case 1:
                var f1 = FileFd(f => f.CanRead);
                Refused(proc, "an offset that is not a page multiple", "MMAP-2", [Errno.EINVAL], 0, (ulong)_ps, Prot.Read,
                    f1 is null ? anon : MapFlags.Shared, f1?.Fd ?? -1, _ps * (op.Pages % 3) + 1 + op.Pages % (_ps - 1));
                break;
            case 2: Refused(proc, "neither MAP_SHARED nor MAP_PRIVATE", "MMAP-3", [Errno.EINVAL], 0, (ulong)_ps, rw, MapFlags.Anonymous, -1, 0); break;
            case 3:
                var f3 = op.Pages % 2 == 0 ? FileFd(f => f.CanRead && f.CanWrite) : null;
                if (f3 is not null && _p.MapSharedValidate)
                {
                    // MMAP-3 decision: on linux-6 both bits are MAP_SHARED_VALIDATE, a shared mapping of the file.
                    _s.Operations++;
                    string name = _m.Name("m");
                    long r = CallMmap(proc, name, 0, (ulong)_ps, rw, MapFlags.SharedValidate, f3.Fd, 0, "MAP_SHARED_VALIDATE");
                    _s.That("MMAP-3", r >= 0, $"MAP_SHARED | MAP_PRIVATE (MAP_SHARED_VALIDATE) of a file on {_p.Name} must make a shared mapping, got {Result(r)}");
                    if (r >= 0 && proc.Maps.Count < MaxMaps + 4) AddMapping(proc, name, (ulong)r, (ulong)_ps, (ulong)_ps, rw, false, true, f3, 0, false, 0);
                    else if (r >= 0) CallMunmap(proc, (ulong)r, (ulong)_ps);
                }
                else
                    Refused(proc, "both MAP_SHARED and MAP_PRIVATE", "MMAP-3", [Errno.EINVAL], 0, (ulong)_ps, rw,
                        f3 is null ? MapFlags.SharedValidate | MapFlags.Anonymous : MapFlags.SharedValidate, f3?.Fd ?? -1, 0);
                break;
            case 4:
                if (proc.Find(free & ~(ulong)(_ps - 1)) is not null) return;
                Refused(proc, "MAP_FIXED at an unaligned address", "MMAP-4", [Errno.EINVAL], free + 1 + (ulong)(op.Pages % (_ps - 1)), (ulong)_ps, rw, anon | MapFlags.Fixed, -1, 0);
                ReadAndCheck(proc, free, 1, "the page a refused MAP_FIXED named", "MMAP-4");
                break;
            case 5: Refused(proc, "MAP_FIXED across TASK_SIZE", "ADDR-9", [Errno.ENOMEM], _p.TaskSize - (ulong)_ps, 2 * (ulong)_ps, rw, anon | MapFlags.Fixed, -1, 0); break;
            case 6:
                int bad = 700 + op.Pages;
                if (proc.Fds.ContainsKey(bad)) return;
                Refused(proc, "a descriptor that is not open", "MMAP-9", [Errno.EBADF], 0, (ulong)_ps, Prot.Read, MapFlags.Shared, bad, 0);
                break;
            case 7:
                // A file range past the largest file offset: negative (on 64-bit, where the offset is 64 bits) or
                // ending beyond MAX_LFS_FILESIZE. Anonymous mappings ignore the offset (MMAP-2's decision).
                if (_p.WordSize != 8 || FileFd(f => f.CanRead) is not { } f7) return;
                long off7 = op.Pages % 2 == 0 ? -(long)_ps * (1 + op.Pages % 4) : (long.MaxValue & ~(long)(_ps - 1)) - (long)_ps * (op.Pages % 3);
                Refused(proc, off7 < 0 ? "a negative file offset" : "a file range past MAX_LFS_FILESIZE", "MMAP-2", [Errno.EOVERFLOW, Errno.EINVAL],
                    0, 4 * (ulong)_ps, Prot.Read, MapFlags.Private, f7.Fd, off7);
                break;
            case 8:
                var ro = proc.Fds.Values.FirstOrDefault(f => f.Obj is { Kind: MapKind.FileShared } && f.Mode == OpenMode.ReadOnly)
                         ?? (_m.Files.Count > 0 && proc.Fds.Count < 12 ? Open(proc, _m.Files[op.Target % _m.Files.Count], OpenMode.ReadOnly) : null);
                if (ro is null) return;
                Refused(proc, "MAP_SHARED with PROT_WRITE of a read-only descriptor", "MMAP-6", [Errno.EACCES], 0, (ulong)_ps, rw, MapFlags.Shared, ro.Fd, 0);
                break;
            case 9:
                var tty = proc.Fds.Values.FirstOrDefault(f => f.Serial) ?? OpenSerial(proc);
                if (tty is null) return;
                Refused(proc, "a serial port (no mmap method)", "MMAP-10", [Errno.ENODEV], 0, (ulong)_ps, Prot.Read, MapFlags.Shared, tty.Fd, 0);
                break;
            default:
                var wo = proc.Fds.Values.FirstOrDefault(f => f.Obj is { Kind: MapKind.FileShared } && f.Mode == OpenMode.WriteOnly)
                         ?? (_m.Files.Count > 0 && proc.Fds.Count < 12 ? Open(proc, _m.Files[op.Target % _m.Files.Count], OpenMode.WriteOnly) : null);
                if (wo is null) return;
                Refused(proc, "a write-only descriptor", "MMAP-6", [Errno.EACCES], 0, (ulong)_ps, Prot.Read, MapFlags.Shared, wo.Fd, 0);
                break;
        }
    }

    /// <summary>An mmap that must fail with one of <paramref name="errnos"/> and map nothing.</summary>
    private void Refused(ProcModel proc, string what, string rule, int[] errnos, ulong addr, ulong len, Prot prot, MapFlags flags, int fd, long offset)
    {
        _s.Operations++;
        string name = _m.Name("m");
        long r = CallMmap(proc, name, addr, len, prot, flags, fd, offset, what);
        _s.That(rule, r < 0 && errnos.Contains((int)-r),
            $"mmap with {what} must fail with {string.Join(" or ", errnos.Select(n => "-" + Errno.Name(n)))}, got {Result(r)}");
    }

    private string Result(long r) => r < 0 && r >= -4095 ? $"-{Errno.Name(r)}" : $"0x{r:x}";

    // ---- munmap ---------------------------------------------------------------------------------------

    /// <summary>The range a munmap or mprotect step works on: part of one mapping, or (in the window) past its end.</summary>
    private (ulong Start, ulong End) RangeOf(MapModel m, int part, int count)
    {
        ulong pages = (m.End - m.Start) >> _shift, k = (ulong)Math.Clamp(count, 1, (int)Math.Max(1, pages));
        return (part % 5) switch
        {
            0 => (m.Start, m.End),
            1 => (m.Start, m.Start + (k << _shift)),
            2 => (m.End - (k << _shift), m.End),
            3 when pages >= 3 => (m.Start + (ulong)_ps, m.Start + ((1 + Math.Min(k, pages - 2)) << _shift)),
            4 when m.InWindow && m.End + ((ulong)count << _shift) <= WindowEnd => (m.Start, m.End + ((ulong)count << _shift)),
            _ => (m.Start, m.End),
        };
    }

    private int CallMunmap(ProcModel proc, ulong addr, ulong len, string? note = null)
    {
        int r = 0;
        var e = Try(() => r = _um.Munmap(proc.Pid, addr, len));
        if (_t.Enabled)
            _t.Step($"munmap({proc.Var}, 0x{addr:x}, {len}){(note is null ? "" : $" [{note}]")} -> {(e is null ? (r < 0 ? $"-{Errno.Name(r)}" : r.ToString()) : Describe(e))}",
                $"um.Munmap({proc.Var}, 0x{addr:x}UL, {len}UL);");
        if (e is not null) _s.Fail("MMAP-8", $"munmap raised {Describe(e)}; a system call answers with 0 or a negated errno");
        return r;
    }

    private void Munmap(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count == 0) return;
        var m = proc.Maps[op.Target % proc.Maps.Count];
        var (start, end) = RangeOf(m, op.Offset, op.Pages);
        _s.Operations++;
        ulong len = end - start;
        if (len > (ulong)_ps) len -= (ulong)(op.Pages * 97 % _ps);
        // Touch a page of the range first, so that a TLB holds its translation (MMAP-8: none may survive munmap).
        ulong probe = start;
        var before = Predict(proc, probe, false);
        if (before.Expected == UserFault.None && !before.Either) ReadAndCheck(proc, probe, 8, "a page about to be unmapped", null);
        int r = CallMunmap(proc, start, len);
        _s.That("MMAP-8", r == 0, $"munmap(0x{start:x}, {len}) of a range of the process must return 0, got {Result(r)}");
        var left = RemoveRange(proc, start, end, MapOrigin.MunmapSplit, munmap: true);
        // MMAP-8: the removed pages fault; what is left of the mappings it cut stays mapped with its contents.
        ReadAndCheck(proc, probe, 8, "an unmapped page", "MMAP-8");
        // So do the mappings right next to the range.
        left.AddRange(proc.Maps.Where(x => (x.End == start || x.Start == end) && !left.Contains(x)));
        foreach (var piece in left)
        {
            ulong va = piece.End == start ? piece.End - (ulong)_ps : piece.Start;
            if (Predict(proc, va, false) is { Either: false }) ReadAndCheck(proc, va, Math.Min(64, _ps), "what munmap left of the mapping", "MMAP-8");
        }
    }

    private void MunmapBad(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return;
        _s.Operations++;
        var (addr, len, what, rule) = (op.Target % 4) switch
        {
            0 => (WindowStart + (ulong)_ps + 1, (ulong)_ps, "an unaligned start", "MMAP-8"),
            1 => (WindowStart, 0UL, "a length of 0", "MMAP-8"),
            2 => (_p.PageOffset, (ulong)_ps, "a kernel address", "ADDR-9"),
            _ => (_p.TaskSize - (ulong)_ps, 2 * (ulong)_ps, "a range across TASK_SIZE", "ADDR-9"),
        };
        int r = CallMunmap(proc, addr, len, what);
        _s.That(rule, r == -Errno.EINVAL, $"munmap with {what} must fail with -EINVAL, got {Result(r)}");
    }

    // ---- mprotect -------------------------------------------------------------------------------------

    private int CallMprotect(ProcModel proc, ulong addr, ulong len, Prot prot, string? note = null)
    {
        int r = 0;
        var e = Try(() => r = _um.Mprotect(proc.Pid, addr, len, prot));
        if (_t.Enabled)
            _t.Step($"mprotect({proc.Var}, 0x{addr:x}, {len}, {prot}){(note is null ? "" : $" [{note}]")} -> {(e is null ? (r < 0 ? $"-{Errno.Name(r)}" : r.ToString()) : Describe(e))}",
                $"um.Mprotect({proc.Var}, 0x{addr:x}UL, {len}UL, {(Enum.IsDefined(prot) || prot == (Prot.Read | Prot.Write) || prot == (Prot.Read | Prot.Exec) || prot == (Prot.Read | Prot.Write | Prot.Exec) ? ProtCode(prot) : $"(Prot)0x{(int)prot:x}")});");
        if (e is not null) _s.Fail("MMAP-6", $"mprotect raised {Describe(e)}; a system call answers with 0 or a negated errno");
        return r;
    }

    private void Mprotect(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count == 0) return;
        var m = proc.Maps[op.Target % proc.Maps.Count];
        var (start, end) = RangeOf(m, op.Offset, op.Pages);
        var prot = op.Prot;
        _s.Operations++;
        var covered = proc.Maps.Where(x => x.End > start && x.Start < end).OrderBy(x => x.Start).ToList();
        ulong at = start;
        bool hole = false;
        foreach (var c in covered) { if (c.Start > at) hole = true; at = Math.Max(at, c.End); }
        if (at < end) hole = true;
        bool denied = (prot & Prot.Write) != 0 && covered.Any(c => !c.MayWrite);
        int r = CallMprotect(proc, start, end - start, prot);
        if (hole || denied)
        {
            var allowed = new List<int>();
            if (hole) allowed.Add(Errno.ENOMEM);
            if (denied) allowed.Add(Errno.EACCES);
            _s.That("MMAP-6", r < 0 && allowed.Contains(-r),
                $"mprotect(0x{start:x}, {end - start}, {prot}) over {(hole ? "a hole" : "a shared mapping of a read-only descriptor")} must fail with {string.Join(" or ", allowed.Select(n => "-" + Errno.Name(n)))}, got {Result(r)}");
            // POSIX lets a refused mprotect change the protection of some pages of the range: the mapped ones are unknown now.
            Reprotect(proc, start, end, null);
            return;
        }
        _s.That("MMAP-6", r == 0, $"mprotect(0x{start:x}, {end - start}, {prot}) of mapped pages must return 0, got {Result(r)}");
        Reprotect(proc, start, end, prot);
        // MMAP-6: the new protection holds for the very next access.
        ulong va = start + (ulong)(op.Pages * 131 % Math.Max(1, _ps - 8));
        if (Allows(prot, true)) WriteAndCheck(proc, va, Bytes(op.Pages * 17 + op.Target, 4), op.Pages * 17 + op.Target, "MMAP-6");
        else
        {
            ReadAndCheck(proc, va, 4, "a page after mprotect", "MMAP-6");
            WriteAndCheck(proc, va, Bytes(op.Pages * 17 + op.Target, 4), op.Pages * 17 + op.Target, "MMAP-6");
        }
    }

    /// <summary>Splits the mappings at the range's edges and gives the inside the protection (null: unknown).</summary>
    private void Reprotect(ProcModel proc, ulong start, ulong end, Prot? prot)
    {
        foreach (var m in proc.Maps.Where(x => x.End > start && x.Start < end).ToList())
        {
            ulong from = Math.Max(start, m.Start), to = Math.Min(end, m.End);
            var origin = m.Origin == MapOrigin.Device ? MapOrigin.Device : MapOrigin.MprotectSplit;
            proc.Maps.Remove(m);
            if (m.Start < from) proc.Add(m.Slice(m.Start, from, _shift, origin));
            var middle = m.Slice(from, to, _shift, origin);
            if (prot is { } p) { middle.Prot = p; middle.ProtKnown = true; }
            else middle.ProtKnown = false;
            proc.Add(middle);
            if (to < m.End) proc.Add(m.Slice(to, m.End, _shift, origin));
        }
    }

    private void MprotectBad(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return;
        switch (op.Target % 5)
        {
            case 0:
                _s.Operations++;
                int r0 = CallMprotect(proc, WindowStart + 1, (ulong)_ps, Prot.Read, "an unaligned start");
                _s.That("MMAP-6", r0 == -Errno.EINVAL, $"mprotect with an unaligned start must fail with -EINVAL, got {Result(r0)}");
                break;
            case 1:
                if (proc.Maps.Count == 0) return;
                var m1 = proc.Maps[op.Proc % proc.Maps.Count];
                _s.Operations++;
                int r1 = CallMprotect(proc, m1.Start, (ulong)_ps, (Prot)0x100, "an unknown protection bit");
                _s.That("MMAP-6", r1 == -Errno.EINVAL, $"mprotect with the unknown protection bit 0x100 must fail with -EINVAL, got {Result(r1)}");
                break;
            case 2:
                ulong hole = WindowPage(op.Proc * 613 + 17, 1);
                if (proc.Find(hole) is not null) return;
                _s.Operations++;
                int r2 = CallMprotect(proc, hole, (ulong)_ps, Prot.Read, "an unmapped page");
                _s.That("MMAP-6", r2 == -Errno.ENOMEM, $"mprotect of a page nothing maps must fail with -ENOMEM, got {Result(r2)}");
                break;
            case 3:
                var m3 = proc.Maps.FirstOrDefault(m => !m.MayWrite);
                if (m3 is null) return;
                _s.Operations++;
                int r3 = CallMprotect(proc, m3.Start, (ulong)_ps, Prot.Read | Prot.Write, "PROT_WRITE on a shared mapping of a read-only descriptor");
                _s.That("MMAP-6", r3 == -Errno.EACCES, $"mprotect(PROT_WRITE) of a MAP_SHARED mapping of a read-only descriptor must fail with -EACCES, got {Result(r3)}");
                break;
            default:
                _s.Operations++;
                int r4 = CallMprotect(proc, _p.PageOffset, (ulong)_ps, Prot.Read | Prot.Write, "a kernel address");
                _s.That("ADDR-9", r4 == -Errno.ENOMEM, $"mprotect of a kernel address must fail with -ENOMEM (no user mapping there), got {Result(r4)}");
                break;
        }
    }
}
