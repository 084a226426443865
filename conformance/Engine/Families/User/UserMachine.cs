using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// Runs one user-space sequence against an implementation through the contract only, and checks
/// every step against the model: where each process's mappings are, what each page must hold
/// (private pages per process, shared pages per object), which access must fault and how. The
/// model never asks where a non-fixed mapping goes (only that it is legal) nor which pages are
/// swapped (only that contents survive). Each check names the rule it enforces. This file:
/// processes, files and descriptors; the other parts: mappings, accesses, swap, driver mmap, copies.
/// </summary>
internal sealed partial class UserMachine
{
    /// <summary>At most this many processes at once, mappings per process, and pages a full verification reads.</summary>
    private const int MaxProcs = 6, MaxMaps = 24, MaxVerifyPages = 48;

    private readonly IUserMemory _um;
    private readonly ISwap? _swap;
    private readonly IUserCopy? _copy;
    private readonly IDriverMmap? _drv;
    private readonly IPageAllocator? _pages;
    private readonly IKernelMemory? _mem;
    private readonly IKmalloc? _kmalloc;
    private readonly Profile _p;
    private readonly UserModel _m = new();
    private readonly CheckScope _s;
    private readonly Trace _t;
    private readonly int _ps;
    private readonly int _shift;
    /// <summary>Free pages when the last process-free moment began, or -1; and whether kernel memory changed since (ADDR-11 at exit).</summary>
    private long _baselineFree = -1;
    private bool _kernelDirty;

    private UserMachine(IMemoryManager mm, CheckScope scope, Trace trace)
    {
        var caps = mm.Capabilities;
        _um = (IUserMemory)mm;
        _swap = caps.Contains(Capability.Swap) ? (ISwap)mm : null;
        _pages = caps.Contains(Capability.PageAllocator) ? (IPageAllocator)mm : null;
        _mem = _pages is not null ? (IKernelMemory)mm : null;
        _copy = caps.Contains(Capability.UserCopy) && _pages is not null ? (IUserCopy)mm : null;
        _drv = caps.Contains(Capability.DriverMmap) && _pages is not null ? (IDriverMmap)mm : null;
        _kmalloc = caps.Contains(Capability.Kmalloc) ? (IKmalloc)mm : null;
        _p = mm.Profile;
        _s = scope;
        _t = trace;
        _ps = _p.PageSize;
        _shift = _p.PageShift;
    }

    public static void Run(IMemoryManager mm, IReadOnlyList<UserOp> ops, CheckScope scope, Trace trace)
    {
        var machine = new UserMachine(mm, scope, trace);
        if (trace.Enabled) trace.Step($"boot {mm.Profile.Label}: TASK_SIZE 0x{mm.Profile.TaskSize:x}, user window [0x{mm.Profile.UserWindowStart:x}, +0x{mm.Profile.UserWindowSize:x})", $"// boot {mm.Profile.Label}");
        foreach (var op in ops) machine.Step(op);
    }

    private void Step(UserOp op)
    {
        switch (op.Kind)
        {
            case UserOpKind.Spawn: Spawn(); break;
            case UserOpKind.Fork: Fork(op.Proc); break;
            case UserOpKind.Exit: if (_m.PickProc(op.Proc) is { } p) Exit(p); break;
            case UserOpKind.ExitAll: ExitAll(); break;
            case UserOpKind.ForkShare: ForkShare(op); break;
            case UserOpKind.CreateFile: CreateFile(op); break;
            case UserOpKind.OpenFile: OpenFile(op); break;
            case UserOpKind.OpenSerial: if (_m.PickProc(op.Proc) is { } ps) OpenSerial(ps); break;
            case UserOpKind.Close: Close(op); break;
            case UserOpKind.WriteFile: WriteFile(op); break;
            case UserOpKind.MmapAnon or UserOpKind.MmapFile: MmapValid(op); break;
            case UserOpKind.Alias: Alias(op); break;
            case UserOpKind.MmapBad: MmapBad(op); break;
            case UserOpKind.Munmap: Munmap(op); break;
            case UserOpKind.MunmapBad: MunmapBad(op); break;
            case UserOpKind.Mprotect: Mprotect(op); break;
            case UserOpKind.MprotectBad: MprotectBad(op); break;
            case UserOpKind.Write: AccessStep(op, write: true); break;
            case UserOpKind.Read: AccessStep(op, write: false); break;
            case UserOpKind.Probe: Probe(op); break;
            case UserOpKind.Verify: if (_m.PickProc(op.Proc) is { } pv) { _s.Operations++; Verify(pv, null, MaxVerifyPages); } break;
            case UserOpKind.SwapOut: SwapOut(op.Pages); break;
            case UserOpKind.Pressure: Pressure(); break;
            case UserOpKind.KernelAlloc: KernelAlloc(op); break;
            case UserOpKind.RegisterRemap: RegisterRemap(op); break;
            case UserOpKind.RegisterPageList: RegisterPageList(op); break;
            case UserOpKind.MmapDevice: MmapDevice(op); break;
            case UserOpKind.KernelWriteDevice: KernelWriteDevice(op); break;
            case UserOpKind.CopyToUser: CopyToUser(op); break;
            case UserOpKind.CopyFromUser: CopyFromUser(op); break;
            case UserOpKind.GetUser: GetUser(op); break;
            case UserOpKind.PutUser: PutUser(op); break;
            case UserOpKind.CopyBad: CopyBad(op); break;
            case UserOpKind.BigMap: if (_m.PickProc(op.Proc) is { } pb) BigMap(pb); break;
        }
    }

    // ---- Processes ------------------------------------------------------------------------------

    private void Spawn()
    {
        if (_m.Procs.Count >= MaxProcs) return;
        _s.Operations++;
        if (_m.Procs.Count == 0) TakeBaseline();
        string name = _m.Name("P");
        int pid = 0;
        var e = Try(() => pid = _um.CreateProcess());
        if (_t.Enabled) _t.Step($"{name} = create_process() -> {(e is null ? pid.ToString() : Describe(e))}", $"var {name} = um.CreateProcess();");
        _s.That("ADDR-4", e is null && pid > 0 && _m.Procs.All(p => p.Pid != pid),
            $"create_process must return a new pid > 0, got {(e is null ? pid.ToString() : Describe(e))}");
        _m.Procs.Add(new ProcModel { Pid = pid, Var = name });
    }

    private ProcModel? Fork(int slot)
    {
        if (_m.Procs.Count >= MaxProcs || _m.PickProc(slot) is not { } parent) return null;
        _s.Operations++;
        string name = _m.Name("P");
        int pid = 0;
        var e = Try(() => pid = _um.Fork(parent.Pid));
        if (_t.Enabled) _t.Step($"{name} = fork({parent.Var}) -> {(e is null ? pid.ToString() : Describe(e))}", $"var {name} = um.Fork({parent.Var});");
        if (e is null && pid == -Errno.ENOMEM) return null;
        _s.That("ADDR-4", e is null && pid > 0 && _m.Procs.All(p => p.Pid != pid),
            $"fork({parent.Var}) must return a new pid > 0, got {(e is null ? pid.ToString() : Describe(e))}");
        var child = new ProcModel { Pid = pid, Var = name, Related = true };
        parent.Related = true;
        foreach (var m in parent.Maps) child.Maps.Add(m.Slice(m.Start, m.End, _shift, m.Origin == MapOrigin.Device ? MapOrigin.Device : MapOrigin.Fork));
        foreach (var (fd, f) in parent.Fds) child.Fds.Add(fd, f);
        foreach (var (vpn, data) in parent.Private) child.Private.Add(vpn, (byte[])data.Clone());
        child.Uncertain.UnionWith(parent.Uncertain);
        child.Accessed.UnionWith(parent.Accessed);
        _m.Procs.Add(child);
        // ADDR-4: the child starts with a copy of the parent's memory; shared mappings show the same objects.
        int checkedPages = 0;
        foreach (var m in child.Maps)
        {
            if (checkedPages >= 4) break;
            if (FirstKnownPage(child, m) is not { } va) continue;
            checkedPages++;
            ReadAndCheck(child, va, Math.Min(64, _ps), "the child just after fork", RuleForContent(child, child.Find(va)!, va));
        }
        return child;
    }

    /// <summary>
    /// ADDR-4 and MMAP-5 in one scene: a shared and a private anonymous page, written, then fork, and
    /// both processes store to both; the echo checks see who shows what.
    /// </summary>
    private void ForkShare(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } parent || parent.Maps.Count > MaxMaps - 2 || _m.Procs.Count >= MaxProcs) return;
        var rw = Prot.Read | Prot.Write;
        var shared = MmapValid(new UserOp(UserOpKind.MmapAnon, op.Proc, Pages: 1, Prot: rw, Flags: MapFlags.Shared | MapFlags.Anonymous));
        var own = MmapValid(new UserOp(UserOpKind.MmapAnon, op.Proc, Pages: 1, Prot: rw, Flags: MapFlags.Private | MapFlags.Anonymous));
        if (shared is null || own is null) return;
        int off = op.Seed % (_ps - 16);
        WriteAndCheck(parent, shared.Start + (ulong)off, Bytes(op.Seed, 8), op.Seed, null);
        WriteAndCheck(parent, own.Start + (ulong)off, Bytes(op.Seed + 1, 8), op.Seed + 1, null);
        if (Fork(_m.Procs.IndexOf(parent)) is not { } child) return;
        foreach (var (who, seed) in new[] { (child, op.Seed + 2), (parent, op.Seed + 4) })
        {
            WriteAndCheck(who, shared.Start + (ulong)off + 4, Bytes(seed, 8), seed, null);
            WriteAndCheck(who, own.Start + (ulong)off + 4, Bytes(seed + 1, 8), seed + 1, null);
        }
    }

    private void Exit(ProcModel proc)
    {
        _s.Operations++;
        var e = Try(() => _um.Exit(proc.Pid));
        if (_t.Enabled) _t.Step($"exit({proc.Var}) -> {Describe(e)}", $"um.Exit({proc.Var});");
        _s.That("ADDR-4", e is null, $"exit({proc.Var}) failed: {Describe(e)}");
        _m.Procs.Remove(proc);
        if (_m.Procs.Count == 0) CheckAccounting();
    }

    private void ExitAll()
    {
        if (_m.Procs.Count == 0) return;
        foreach (var p in _m.Procs.ToList()) Exit(p);
    }

    /// <summary>With no process alive and no kernel memory changed, free pages are what they were when the first process was made.</summary>
    private void TakeBaseline()
    {
        _kernelDirty = false;
        _baselineFree = -1;
        if (_pages is null) return;
        _pages.DrainCaches();
        _baselineFree = FreePages();
    }

    /// <summary>ADDR-11: exit gives back every frame and swap slot the processes used.</summary>
    private void CheckAccounting()
    {
        if (_pages is null || _baselineFree < 0 || _kernelDirty) return;
        _s.Operations++;
        _pages.DrainCaches();
        long free = FreePages();
        if (_t.Enabled) _t.Step($"every process has exited: drain caches; free pages {free}", "pages.DrainCaches();");
        _s.That("ADDR-11", free == _baselineFree,
            $"every process has exited, but {free} pages are free; {_baselineFree} were free before the first process was made (the processes' frames, page tables or swap-in pages were not all given back)");
        if (_swap is not null)
        {
            long swapFree = _swap.SwapFreePages, total = _swap.SwapTotalPages;
            _s.That("ADDR-11", swapFree == total, $"every process has exited, but only {swapFree} of {total} swap slots are free");
        }
        _baselineFree = -1;
    }

    private long FreePages()
    {
        long free = 0;
        foreach (var z in Zones.All)
            for (int o = 0; o <= _p.MaxOrder; o++) free += _pages!.FreeBlocks(z, o) << o;
        return free;
    }

    // ---- Files and descriptors -------------------------------------------------------------------

    private void CreateFile(UserOp op)
    {
        if (_m.Files.Count >= 6) return;
        _s.Operations++;
        long size = (long)op.Pages * _ps - Math.Clamp(op.Length, 0, _ps - 1);
        string name = _m.Name("f");
        int id = 0;
        var e = Try(() => id = _um.CreateFile(size));
        if (_t.Enabled) _t.Step($"{name} = create_file({size}) -> {(e is null ? id.ToString() : Describe(e))}", $"var {name} = um.CreateFile({size});");
        if (e is null && id == -Errno.ENOMEM) return;
        _s.That("MMAP-7", e is null && id > 0, $"creating a file of {size} bytes failed: {(e is null ? id.ToString() : Describe(e))}");
        _m.Files.Add(new ObjModel { Name = name, Kind = MapKind.FileShared, Id = id, Size = size });
        _kernelDirty = true;
    }

    private void OpenFile(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc || _m.Files.Count == 0 || proc.Fds.Count >= 12) return;
        var file = _m.Files[op.Target % _m.Files.Count];
        Open(proc, file, (OpenMode)(op.Offset % 3));
    }

    private FdModel? Open(ProcModel proc, ObjModel file, OpenMode mode)
    {
        _s.Operations++;
        int fd = 0;
        var e = Try(() => fd = _um.Open(proc.Pid, file.Id, mode));
        string name = $"fd{fd}_{proc.Var}";
        if (_t.Enabled) _t.Step($"{name} = open({proc.Var}, {file.Name}, {mode}) -> {(e is null ? fd.ToString() : Describe(e))}", $"um.Open({proc.Var}, {file.Name}, OpenMode.{mode}); // fd {fd}");
        _s.That("MMAP-9", e is null && fd >= 0 && !proc.Fds.ContainsKey(fd), $"open({file.Name}) in {proc.Var} must return a free descriptor, got {(e is null ? fd.ToString() : Describe(e))}");
        var model = new FdModel(fd, file, false, mode);
        proc.Fds[fd] = model;
        return model;
    }

    private FdModel? OpenSerial(ProcModel proc)
    {
        if (proc.Fds.Count >= 12) return null;
        _s.Operations++;
        int fd = 0;
        var e = Try(() => fd = _um.OpenDevice(proc.Pid, Devices.Serial));
        if (_t.Enabled) _t.Step($"fd{fd}_{proc.Var} = open({proc.Var}, /dev/ttyS0) -> {(e is null ? fd.ToString() : Describe(e))}", $"um.OpenDevice({proc.Var}, Devices.Serial); // fd {fd}");
        _s.That("MMAP-10", e is null && fd >= 0 && !proc.Fds.ContainsKey(fd), $"opening the serial port in {proc.Var} must return a free descriptor, got {(e is null ? fd.ToString() : Describe(e))}");
        var model = new FdModel(fd, null, true, OpenMode.ReadWrite);
        proc.Fds[fd] = model;
        return model;
    }

    private void Close(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return;
        _s.Operations++;
        if (proc.Fds.Count == 0 || op.Target % 7 == 6)
        {
            int bad = 900 + op.Target;
            if (proc.Fds.ContainsKey(bad)) return;
            int r = 0;
            var be = Try(() => r = _um.Close(proc.Pid, bad));
            if (_t.Enabled) _t.Step($"close({proc.Var}, {bad}) of a descriptor never opened -> {(be is null ? r.ToString() : Describe(be))}", $"Assert.Equal(-{Errno.EBADF}, um.Close({proc.Var}, {bad}));");
            _s.That("MMAP-9", be is null && r == -Errno.EBADF, $"close({bad}) of a descriptor that is not open must return -EBADF, got {(be is null ? r.ToString() : Describe(be))}");
            return;
        }
        var fd = proc.Fds.Values.ElementAt(op.Target % proc.Fds.Count);
        int result = 0;
        var e = Try(() => result = _um.Close(proc.Pid, fd.Fd));
        if (_t.Enabled) _t.Step($"close({proc.Var}, {fd.Fd}) -> {(e is null ? result.ToString() : Describe(e))}", $"um.Close({proc.Var}, {fd.Fd});");
        _s.That("MMAP-9", e is null && result == 0, $"close({fd.Fd}) of an open descriptor must return 0, got {(e is null ? result.ToString() : Describe(e))}");
        proc.Fds.Remove(fd.Fd);
        // MMAP-9: the mappings made through the descriptor stay, as they were.
        foreach (var m in proc.Maps.Where(m => m.Source == (proc.Pid, fd.Fd)).ToList())
        {
            m.FdClosed = true;
            if (Predict(proc, m.Start, false) is { Either: false }) ReadAndCheck(proc, m.Start, 8, "a mapping whose descriptor was closed", "MMAP-9");
        }
    }

    private void WriteFile(UserOp op)
    {
        if (_m.Files.Count == 0) return;
        var file = _m.Files[op.Target % _m.Files.Count];
        int len = (int)Math.Min(op.Length, file.Size);
        if (len <= 0) return;
        long offset = op.Offset % (file.Size - len + 1);
        _s.Operations++;
        var data = Bytes(op.Seed, len);
        var e = Try(() => _um.WriteFile(file.Id, offset, data));
        if (_t.Enabled) _t.Step($"pwrite({file.Name}, {len} bytes at {offset}) -> {Describe(e)}", $"um.WriteFile({file.Name}, {offset}, Bytes({op.Seed}, {len}));");
        _s.That("MMAP-7", e is null, $"pwrite of {len} bytes at {offset} into {file.Name} ({file.Size} bytes) failed: {Describe(e)}");
        ApplyToObject(file, offset, data);
        // MMAP-7: every MAP_SHARED mapping of the file shows what was written to it.
        for (long idx = offset >> _shift; idx <= (offset + len - 1) >> _shift; idx++)
        {
            int from = (int)Math.Max(0, offset - (idx << _shift)), to = (int)Math.Min(_ps, offset + len - (idx << _shift));
            EchoViews(file, idx, from, to - from, null, null, 4);
        }
    }

    // ---- Helpers --------------------------------------------------------------------------------

    /// <summary>The bytes a write with this seed stores (the same as the Bytes helper of printed repros).</summary>
    private static byte[] Bytes(int seed, int n)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private string Hex(ulong v) => $"0x{v:x}";

    /// <summary>C# for an address inside a mapping: its variable plus the offset.</summary>
    private static string At(MapModel m, ulong va) =>
        va == m.VarBase ? $"(ulong){m.Var}" : va > m.VarBase ? $"(ulong){m.Var} + 0x{va - m.VarBase:x}" : $"(ulong){m.Var} - 0x{m.VarBase - va:x}";
}
