using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.UserVariants;

/// <summary>
/// The reference with one <see cref="UserBreak"/> layered on top. It keeps its own record of every
/// process's mappings and descriptors (from the calls it passes on) so that each break can act on
/// exactly what it is about.
/// </summary>
public sealed class BrokenUserKernel : DelegatingUserKernel
{
    private sealed record Mapping(ulong Start, ulong End, MapFlags Flags, Prot Prot, int Fd, long Offset, int File, bool Device);

    private readonly UserBreak _break;
    private readonly int _ps;
    private readonly Dictionary<int, List<Mapping>> _maps = new();
    private readonly Dictionary<int, Dictionary<int, (int File, int Device)>> _fds = new();
    private readonly Dictionary<int, int> _parent = new();
    private readonly Dictionary<int, Dictionary<ulong, byte[]>> _overlay = new();
    private readonly Dictionary<int, HashSet<ulong>> _tlb = new();
    private (int Pid, ulong Page)? _lastAnonWrite;
    private (ulong Addr, long Size)? _firstKmalloc;

    public BrokenUserKernel(Profile profile, UserBreak broken)
        : base(new ReferenceKernel(broken == UserBreak.RemapAcceptsOddSize ? profile with { RemapPfnRangeRoundsSize = true } : profile), profile)
    {
        _break = broken;
        _ps = profile.PageSize;
    }

    private List<Mapping> MapsOf(int pid) => _maps.TryGetValue(pid, out var l) ? l : _maps[pid] = new();
    private Dictionary<int, (int File, int Device)> FdsOf(int pid) => _fds.TryGetValue(pid, out var d) ? d : _fds[pid] = new();
    private Mapping? Find(int pid, ulong va) => MapsOf(pid).FirstOrDefault(m => va >= m.Start && va < m.End);
    private ulong PageOf(ulong va) => va & ~(ulong)(_ps - 1);

    private void Forget(int pid, ulong start, ulong end)
    {
        var list = MapsOf(pid);
        foreach (var m in list.Where(m => m.End > start && m.Start < end).ToList())
        {
            list.Remove(m);
            if (m.Start < start) list.Add(m with { End = start });
            if (end < m.End) list.Add(m with { Start = end, Offset = m.Offset + (long)(end - m.Start) });
        }
    }

    private bool Related(int a, int b)
    {
        static int Root(Dictionary<int, int> parent, int p) { while (parent.TryGetValue(p, out int q)) p = q; return p; }
        return a != b && Root(_parent, a) == Root(_parent, b);
    }

    // ---- Processes and descriptors --------------------------------------------------------------------

    public override int Fork(int pid)
    {
        int child = base.Fork(pid);
        if (child <= 0) return child;
        _parent[child] = pid;
        _maps[child] = new List<Mapping>(MapsOf(pid));
        _fds[child] = new Dictionary<int, (int, int)>(FdsOf(pid));
        _tlb.Remove(pid);
        if (_break == UserBreak.SharedAnonymousNotShared) _overlay[child] = new();
        return child;
    }

    public override int Open(int pid, int file, OpenMode mode)
    {
        int fd = base.Open(pid, file, mode);
        if (fd >= 0) FdsOf(pid)[fd] = (file, -1);
        return fd;
    }

    public override int OpenDevice(int pid, int device)
    {
        int fd = base.OpenDevice(pid, device);
        if (fd >= 0) FdsOf(pid)[fd] = (0, device);
        return fd;
    }

    public override int Close(int pid, int fd)
    {
        if (_break == UserBreak.CloseUnmaps)
            foreach (var m in MapsOf(pid).Where(m => m.Fd == fd && (m.Flags & MapFlags.Anonymous) == 0).ToList()) Munmap(pid, m.Start, m.End - m.Start);
        int r = base.Close(pid, fd);
        if (r == 0) FdsOf(pid).Remove(fd);
        return r;
    }

    // ---- Mappings -------------------------------------------------------------------------------------

    public override long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset)
    {
        _tlb.Remove(pid);
        bool anonymous = (flags & MapFlags.Anonymous) != 0;
        FdsOf(pid).TryGetValue(fd, out var open);
        bool device = !anonymous && open.Device > 0;
        switch (_break)
        {
            case UserBreak.LengthRoundedDown when length > (ulong)_ps:
                length &= ~(ulong)(_ps - 1);
                break;
            case UserBreak.UnalignedOffsetAccepted:
                offset &= ~(long)(_ps - 1);
                break;
            case UserBreak.NeitherFlagAccepted when (flags & MapFlags.SharedValidate) == 0:
                flags |= MapFlags.Private;
                break;
            case UserBreak.FixedMoves when (flags & MapFlags.Fixed) != 0 && MapsOf(pid).Any(m => m.End > addr && m.Start < addr + length):
                flags &= ~MapFlags.Fixed;
                break;
            case UserBreak.NoOvercommit when MapsOf(pid).Aggregate(0UL, (s, m) => s + (m.End - m.Start)) + length > Profile.PhysicalMemory:
                return -Errno.ENOMEM;
            case UserBreak.StreamDeviceMappable when open.Device == Devices.Serial && open.File == 0 && FdsOf(pid).ContainsKey(fd):
                flags = (flags & ~MapFlags.SharedValidate) | MapFlags.Private | MapFlags.Anonymous;
                anonymous = true;
                break;
        }
        bool aliases = _break == UserBreak.NoAliasing && !anonymous && !device && open.File > 0 && (flags & MapFlags.Shared) != 0
            && MapsOf(pid).Any(m => m.File == open.File && (m.Flags & MapFlags.Shared) != 0 && m.Offset < offset + (long)length && offset < m.Offset + (long)(m.End - m.Start));
        long r = base.Mmap(pid, addr, length, prot, flags, fd, offset);
        if (r < 0) return r;
        if (aliases)
        {
            base.Munmap(pid, (ulong)r, length);
            return -Errno.ENOMEM;
        }
        ulong start = (ulong)r, end = start + ((length + (ulong)_ps - 1) & ~(ulong)(_ps - 1));
        if ((flags & MapFlags.Fixed) != 0) Forget(pid, start, end);
        MapsOf(pid).Add(new Mapping(start, end, flags, prot, anonymous ? -1 : fd, offset, anonymous ? 0 : open.File, device));
        if (_break == UserBreak.EagerPopulate && !device && end - start <= 16 * (ulong)_ps)
            for (ulong va = start; va < end; va += (ulong)_ps) base.UserRead(pid, va, new byte[1]);
        if (_break == UserBreak.DeviceCopiedAtMmap && device)
        {
            var pages = new List<byte[]>();
            for (ulong va = start; va < end; va += (ulong)_ps)
            {
                var page = new byte[_ps];
                base.UserRead(pid, va, page);
                pages.Add(page);
            }
            base.Mmap(pid, start, end - start, Prot.Read | Prot.Write, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
            for (int i = 0; i < pages.Count; i++) base.UserWrite(pid, start + (ulong)(i * _ps), pages[i]);
            base.Mprotect(pid, start, end - start, prot);
        }
        return r;
    }

    public override int Munmap(int pid, ulong addr, ulong length)
    {
        ulong end = addr + ((length + (ulong)_ps - 1) & ~(ulong)(_ps - 1));
        if (_break == UserBreak.PartialMunmapDropsAll)
        {
            foreach (var m in MapsOf(pid).Where(m => m.End > addr && m.Start < end).ToList())
            {
                addr = Math.Min(addr, m.Start);
                end = Math.Max(end, m.End);
            }
            length = end - addr;
        }
        int r = base.Munmap(pid, addr, length);
        if (r == 0) Forget(pid, addr, end);
        return r;
    }

    public override int Mprotect(int pid, ulong addr, ulong length, Prot prot)
    {
        _tlb.Remove(pid);
        if (_break == UserBreak.MprotectIgnored && addr < Profile.TaskSize && (addr & (ulong)(_ps - 1)) == 0 && (prot & ~(Prot.Read | Prot.Write | Prot.Exec)) == 0) return 0;
        int r = base.Mprotect(pid, addr, length, prot);
        if (r == 0 && length > 0)
        {
            // mprotect splits the kernel's mappings at the range's edges, as it does the record here.
            ulong end = addr + ((length + (ulong)_ps - 1) & ~(ulong)(_ps - 1));
            var list = MapsOf(pid);
            foreach (var m in list.Where(m => m.End > addr && m.Start < end).ToList())
            {
                list.Remove(m);
                ulong from = Math.Max(addr, m.Start), to = Math.Min(end, m.End);
                if (m.Start < from) list.Add(m with { End = from });
                list.Add(m with { Start = from, End = to, Prot = prot, Offset = m.Offset + (long)(from - m.Start) });
                if (to < m.End) list.Add(m with { Start = to, Offset = m.Offset + (long)(to - m.Start) });
            }
        }
        return r;
    }

    // ---- Loads and stores ---------------------------------------------------------------------------------

    /// <summary>The variant's own test for a direct-mapped kernel address (PAGE_OFFSET plus low memory).</summary>
    private bool IsDirectMapped(ulong addr) => addr >= Profile.PageOffset && addr - Profile.PageOffset < Profile.LowMemoryEnd;

    public override UserFault UserRead(int pid, ulong addr, Span<byte> destination)
    {
        if (_break == UserBreak.KernelReadableFromUser && IsDirectMapped(addr))
        {
            Read(addr, destination);
            return UserFault.None;
        }
        if (_break == UserBreak.StaleTlbAfterMunmap && Find(pid, addr) is null && _tlb.TryGetValue(pid, out var stale) && stale.Contains(PageOf(addr)))
        {
            destination.Clear();
            return UserFault.None;
        }
        if (_overlay.TryGetValue(pid, out var overlay) && overlay.TryGetValue(PageOf(addr), out var own))
        {
            own.AsSpan((int)(addr - PageOf(addr)), destination.Length).CopyTo(destination);
            return UserFault.None;
        }
        var f = base.UserRead(pid, addr, destination);
        if (f == UserFault.None && _break == UserBreak.StaleTlbAfterMunmap) (_tlb.TryGetValue(pid, out var t) ? t : _tlb[pid] = new()).Add(PageOf(addr));
        return f;
    }

    public override UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source)
    {
        var m = Find(pid, addr);
        if (_overlay.TryGetValue(pid, out var overlay) && m is { } shm && (shm.Flags & (MapFlags.Shared | MapFlags.Anonymous)) == (MapFlags.Shared | MapFlags.Anonymous)
            && (shm.Prot & Prot.Write) != 0)
        {
            if (!overlay.TryGetValue(PageOf(addr), out var own))
            {
                own = new byte[_ps];
                if (base.UserRead(pid, PageOf(addr), own) != UserFault.None) return base.UserWrite(pid, addr, source);
                overlay[PageOf(addr)] = own;
            }
            source.CopyTo(own.AsSpan((int)(addr - PageOf(addr))));
            return UserFault.None;
        }
        var f = base.UserWrite(pid, addr, source);
        if (f != UserFault.None || m is null) return f;
        if (_break == UserBreak.StaleTlbAfterMunmap) (_tlb.TryGetValue(pid, out var t) ? t : _tlb[pid] = new()).Add(PageOf(addr));
        bool privateMap = (m.Flags & MapFlags.Shared) == 0;
        if (privateMap && (m.Flags & MapFlags.Anonymous) != 0) _lastAnonWrite = (pid, PageOf(addr));
        if (_break == UserBreak.CopyOnWriteLeaks && privateMap)
        {
            var bytes = source.ToArray();
            foreach (int other in _maps.Keys.Where(o => Related(pid, o)).ToList())
                if (Find(other, addr) is { } om && (om.Flags & MapFlags.Shared) == 0) base.UserWrite(other, addr, bytes);
        }
        if (_break == UserBreak.PrivateWriteReachesFile && privateMap && (m.Flags & MapFlags.Anonymous) == 0 && !m.Device && m.File > 0)
        {
            long offset = m.Offset + (long)(addr - m.Start);
            try { base.WriteFile(m.File, offset, source); } catch (InvalidArgumentException) { }
        }
        return f;
    }

    // ---- Swap -------------------------------------------------------------------------------------------------

    public override ulong Kmalloc(long size, GfpFlags gfp)
    {
        ulong p = base.Kmalloc(size, gfp);
        if (p != 0 && _firstKmalloc is null) _firstKmalloc = (p, size);
        return p;
    }

    public override int SwapOut(int pages)
    {
        int done = base.SwapOut(pages);
        if (done == 0) return done;
        if (_break == UserBreak.SwappedPageZeroed && _lastAnonWrite is var (pid, page) && _maps.ContainsKey(pid) && Find(pid, page) is not null)
            base.UserWrite(pid, page, new byte[_ps]);
        if (_break == UserBreak.KmallocSwapped && _firstKmalloc is var (addr, size))
            Write(addr, new byte[size]);
        return done;
    }

    public override void Exit(int pid)
    {
        base.Exit(pid);
        _maps.Remove(pid);
        _fds.Remove(pid);
        _overlay.Remove(pid);
    }

    // ---- Copies and drivers -------------------------------------------------------------------------------------

    public override long CopyFromUser(int pid, ulong to, ulong from, long n)
    {
        long r = base.CopyFromUser(pid, to, from, n);
        return _break == UserBreak.CopyReturnsCopied && r < n ? n - r : r;
    }

    public override long CopyToUser(int pid, ulong to, ulong from, long n)
    {
        long r = base.CopyToUser(pid, to, from, n);
        return _break == UserBreak.CopyReturnsCopied && r < n ? n - r : r;
    }

    public override int GetUser(int pid, ulong addr, int size, out ulong value)
    {
        if (_break == UserBreak.GetUserReadsKernel && IsDirectMapped(addr))
        {
            var bytes = new byte[8];
            Read(addr, bytes.AsSpan(0, size));
            value = BitConverter.ToUInt64(bytes);
            return 0;
        }
        int r = base.GetUser(pid, addr, size, out value);
        if (_break == UserBreak.GetUserLeavesGarbage && r != 0) value = 0xdeadbeef;
        return r;
    }

    public override int RegisterPageListDevice(IReadOnlyList<PageHandle> pages) =>
        base.RegisterPageListDevice(_break == UserBreak.InsertsWrongPage && pages.Count > 1 ? [.. pages.Skip(1), pages[0]] : pages);

    public override DriverVma? LastMmap(int device)
    {
        var vma = base.LastMmap(device);
        return _break == UserBreak.PgoffInBytes && vma is not null ? vma with { VmPgoff = vma.VmPgoff * (ulong)_ps } : vma;
    }
}

/// <summary>Boots <see cref="BrokenUserKernel"/>s with one break.</summary>
public sealed class BrokenUserFactory(UserBreak broken) : KernelMm.Spec.Contract.IImplementationFactory
{
    public string Name => $"reference with {broken}";
    public IMemoryManager? Create(Profile profile) => new BrokenUserKernel(profile, broken);
}
