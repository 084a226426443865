using KernelMm.Conformance.Expectations;
using KernelMm.Spec.Contract;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// The processes' own loads and stores, checked against the model: which accesses fault and how
/// (ADDR-6, ADDR-9, MMAP-6, MMAP-8), what each page holds, and, after every store, that exactly
/// the mappings that share the page see it (ADDR-4, ADDR-7, MMAP-5, MMAP-7, DRV-4).
/// </summary>
internal sealed partial class UserMachine
{
    /// <summary>What an access must do: complete (None), fault with a kind, or either (unknown protection); the rule a surprise breaks.</summary>
    private readonly record struct Prediction(UserFault Expected, bool Either, bool Kernel, string Rule, MapModel? Map);

    private Prediction Predict(ProcModel p, ulong va, bool write)
    {
        // ADDR-9: user mode never reaches TASK_SIZE and above.
        if (va >= _p.TaskSize) return new(UserFault.MapError, false, true, "ADDR-9", null);
        var m = p.Find(va);
        if (m is null) return new(UserFault.MapError, false, false, p.WasUnmapped(va) ? "MMAP-8" : "ADDR-6", null);
        // Unknown protection (after a refused mprotect): what the access would do otherwise, or SEGV_ACCERR.
        bool either = !m.ProtKnown;
        if (!either && !Allows(m.Prot, write)) return new(UserFault.AccessError, false, false, "MMAP-6", m);
        long pageInMap = (long)((va - m.Start) >> _shift);
        if (m.Kind is MapKind.FileShared or MapKind.FilePrivate && m.PgOff + pageInMap >= m.Obj!.PageCount(_ps))
            return new(UserFault.Bus, either, false, "MMAP-1", m);
        if (m.Kind == MapKind.Device && pageInMap >= m.Populated)
            return new(UserFault.Bus, either, false, m.Obj!.Remap ? "DRV-2" : "DRV-3", m);
        return new(UserFault.None, either, false, either ? "MMAP-6" : RuleForMap(p, m, va), m);
    }

    /// <summary>The rule a mapped page that faults breaks, by how its mapping came to be.</summary>
    private static string RuleForMap(ProcModel p, MapModel m, ulong va) =>
        m.FdClosed ? "MMAP-9"
        : m.Origin switch
        {
            MapOrigin.MunmapSplit => "MMAP-8",
            MapOrigin.MprotectSplit => "MMAP-6",
            MapOrigin.Fork => "ADDR-4",
            MapOrigin.FixedReplace => "MMAP-4",
            MapOrigin.Device => m.Obj!.Remap ? "DRV-2" : "DRV-3",
            _ => "ADDR-6",
        };

    /// <summary>The rule wrong contents on a page break, by what backs it and what happened to it.</summary>
    private string RuleForContent(ProcModel p, MapModel m, ulong va)
    {
        if (m.FdClosed) return "MMAP-9";
        ulong vpn = va >> _shift;
        return m.Kind switch
        {
            MapKind.AnonPrivate => m.Origin == MapOrigin.FixedReplace && !p.Private.ContainsKey(vpn) ? "MMAP-4"
                : p.Related ? "ADDR-4" : p.Private.ContainsKey(vpn) ? "ADDR-6" : "MMAP-5",
            MapKind.FilePrivate or MapKind.FileShared => "MMAP-7",
            MapKind.Shm => "MMAP-5",
            _ => m.Obj!.Changed.ContainsKey(m.PgOff + (long)((va - m.Start) >> _shift)) ? "DRV-4" : m.Obj.Remap ? "DRV-2" : "DRV-3",
        };
    }

    private static readonly byte[] ZeroPage = new byte[1 << 16];

    /// <summary>What the page at <paramref name="vpn"/> of <paramref name="m"/> holds, or null when the model does not know it exactly.</summary>
    private byte[]? ExpectedPage(ProcModel p, MapModel m, ulong vpn)
    {
        if (p.Uncertain.Contains(vpn)) return null;
        long index = m.PgOff + (long)(vpn - (m.Start >> _shift));
        switch (m.Kind)
        {
            case MapKind.AnonPrivate:
                return p.Private.TryGetValue(vpn, out var own) ? own : ZeroPage;
            case MapKind.FilePrivate:
                if (p.Private.TryGetValue(vpn, out var copy)) return copy;
                // MMAP-7 decision: a private page not yet written may show later changes to the file, or not.
                if (m.Obj!.Changed.TryGetValue(index, out long changed) && changed > m.Version) return null;
                return ObjPage(m.Obj, index);
            default:
                return ObjPage(m.Obj!, index);
        }
    }

    private byte[]? ObjPage(ObjModel obj, long index) =>
        obj.Uncertain.Contains(index) ? null : obj.Pages.TryGetValue(index, out var page) ? page : ZeroPage;

    /// <summary>Records a store of <paramref name="data"/> at <paramref name="va"/> in the model.</summary>
    private void ApplyWrite(ProcModel p, MapModel m, ulong va, ReadOnlySpan<byte> data)
    {
        ulong vpn = va >> _shift;
        int off = (int)(va & (ulong)(_ps - 1));
        if (m.Shared)
        {
            ApplyToObject(m.Obj!, ((m.PgOff + (long)(vpn - (m.Start >> _shift))) << _shift) + off, data);
            return;
        }
        var basePage = ExpectedPage(p, m, vpn);
        if (basePage is null) p.Uncertain.Add(vpn);
        var page = new byte[_ps];
        (basePage ?? ZeroPage).AsSpan(0, _ps).CopyTo(page);
        data.CopyTo(page.AsSpan(off));
        p.Private[vpn] = page;
    }

    /// <summary>Records bytes written into a shared object (through a mapping, pwrite, or the driver's kernel address).</summary>
    private void ApplyToObject(ObjModel obj, long offset, ReadOnlySpan<byte> data)
    {
        for (int done = 0; done < data.Length;)
        {
            long at = offset + done;
            long index = at >> _shift;
            int off = (int)(at & (_ps - 1));
            int len = Math.Min(data.Length - done, _ps - off);
            if (!obj.Pages.TryGetValue(index, out var page)) obj.Pages[index] = page = new byte[_ps];
            data.Slice(done, len).CopyTo(page.AsSpan(off));
            obj.Changed[index] = ++_m.Version;
            done += len;
        }
    }

    // ---- Reads and writes ---------------------------------------------------------------------------

    /// <summary>
    /// A load of <paramref name="len"/> bytes (within one page) by <paramref name="p"/>, checked: the
    /// fault it must raise or the bytes it must see. <paramref name="rule"/> overrides the attribution.
    /// Returns whether the load completed.
    /// </summary>
    private bool ReadAndCheck(ProcModel p, ulong va, int len, string why, string? rule)
    {
        var pr = Predict(p, va, false);
        bool firstTouch = FirstTouch(pr);
        long before = firstTouch ? Faults(p) : 0;
        var buf = new byte[len];
        UserFault f = UserFault.None;
        var e = Try(() => f = _um.UserRead(p.Pid, va, buf));
        if (_t.Enabled)
        {
            string at = pr.Map is { } mm ? At(mm, va) : $"0x{va:x}UL";
            _t.Step($"read({p.Var}, 0x{va:x}, {len}) [{why}] -> {(e is null ? f == UserFault.None ? Preview(buf) : f.ToString() : Describe(e))}",
                pr.Expected == UserFault.None || pr.Either ? $"um.UserRead({p.Var}, {at}, new byte[{len}]);" : $"Assert.Equal(UserFault.{pr.Expected}, um.UserRead({p.Var}, {at}, new byte[{len}]));");
        }
        if (!CheckFault(pr, e, f, rule, $"a load of {len} bytes at 0x{va:x} by {p.Var} ({why})")) return false;
        if (pr.Map is not { } m) return true;
        m.Touched = true;
        if (!m.Shared) p.Accessed.Add(va >> _shift);
        if (firstTouch) CheckFirstTouch(p, m, va, before, rule);
        if (ExpectedPage(p, m, va >> _shift) is { } page)
        {
            int off = (int)(va & (ulong)(_ps - 1));
            int diff = buf.AsSpan().CommonPrefixLength(page.AsSpan(off, len));
            if (diff < len)
            {
                string r = rule ?? RuleForContent(p, m, va);
                _s.Fail(r, $"{p.Var} read 0x{buf[diff]:x2} at 0x{va + (ulong)diff:x} ({why}; {m.Kind} mapping {m.Var} [0x{m.Start:x}-0x{m.End:x}) {m.Prot}, page {((va - m.Start) >> _shift)}), expected 0x{page[off + diff]:x2}");
            }
            else _s.That(rule ?? RuleForContent(p, m, va), true, () => "");
        }
        return true;
    }

    /// <summary>A store by <paramref name="p"/> (within one page), checked, recorded in the model and echoed to every mapping that shares the page.</summary>
    private bool WriteAndCheck(ProcModel p, ulong va, byte[] data, int seed, string? rule)
    {
        var pr = Predict(p, va, true);
        bool firstTouch = FirstTouch(pr);
        long before = firstTouch ? Faults(p) : 0;
        UserFault f = UserFault.None;
        var e = Try(() => f = _um.UserWrite(p.Pid, va, data));
        if (_t.Enabled)
        {
            string at = pr.Map is { } mm ? At(mm, va) : $"0x{va:x}UL";
            _t.Step($"write({p.Var}, 0x{va:x}, {data.Length} bytes) -> {(e is null ? f.ToString() : Describe(e))}",
                pr.Expected == UserFault.None || pr.Either ? $"um.UserWrite({p.Var}, {at}, Bytes({seed}, {data.Length}));" : $"Assert.Equal(UserFault.{pr.Expected}, um.UserWrite({p.Var}, {at}, Bytes({seed}, {data.Length})));");
        }
        if (!CheckFault(pr, e, f, rule, $"a store of {data.Length} bytes at 0x{va:x} by {p.Var}")) return false;
        if (pr.Map is not { } m) return true;
        m.Touched = true;
        if (!m.Shared) p.Accessed.Add(va >> _shift);
        if (firstTouch) CheckFirstTouch(p, m, va, before, rule);
        ApplyWrite(p, m, va, data);
        EchoAfterWrite(p, m, va, data.Length);
        return true;
    }

    /// <summary>Checks the fault an access raised against the prediction; returns whether the access completed.</summary>
    private bool CheckFault(Prediction pr, Exception? e, UserFault actual, string? rule, string what)
    {
        if (e is not null)
        {
            _s.Fail(rule ?? pr.Rule, $"{what} raised {Describe(e)}; a user access completes or faults");
            return false;
        }
        if (pr.Either)
        {
            _s.That(rule ?? "MMAP-6", actual == pr.Expected || actual == UserFault.AccessError,
                $"{what}: after a refused mprotect the page keeps its old or gets its new protection, so the access must give {pr.Expected} or SEGV_ACCERR; it gave {actual}");
            return actual == UserFault.None && pr.Expected == UserFault.None;
        }
        if (pr.Kernel)
        {
            _s.That(rule ?? pr.Rule, actual is UserFault.MapError or UserFault.AccessError,
                $"{what}: the address is not below TASK_SIZE 0x{_p.TaskSize:x}, so user mode must get SIGSEGV; got {actual}");
            return false;
        }
        _s.That(rule ?? pr.Rule, actual == pr.Expected, () => pr.Expected == UserFault.None
            ? $"{what} must complete ({pr.Map}), but raised {actual}"
            : $"{what} must raise {pr.Expected} ({(pr.Map is null ? "nothing is mapped there" : pr.Map.ToString())}), but it {(actual == UserFault.None ? "completed" : $"raised {actual}")}");
        return actual == UserFault.None && pr.Expected == UserFault.None;
    }

    private static bool FirstTouch(Prediction pr) =>
        pr.Expected == UserFault.None && !pr.Either && pr.Map is { Touched: false, Kind: not MapKind.Device };

    private long Faults(ProcModel p)
    {
        long n = 0;
        var e = Try(() => n = _um.PageFaults(p.Pid));
        if (e is not null) _s.Fail("ADDR-6", $"page_faults({p.Var}) raised {Describe(e)}");
        return n;
    }

    /// <summary>ADDR-6: the first access to a fresh mapping is a page fault the kernel resolves (demand paging).</summary>
    private void CheckFirstTouch(ProcModel p, MapModel m, ulong va, long before, string? rule)
    {
        long after = Faults(p);
        if (_t.Enabled) _t.Step($"page faults of {p.Var}: {before} -> {after}", $"// um.PageFaults({p.Var}): {before} -> {after}");
        _s.That(rule ?? "ADDR-6", after > before,
            $"the first access to {m.Var} [0x{m.Start:x}-0x{m.End:x}) at 0x{va:x}, a mapping none of whose pages was touched, completed without a page fault ({p.Var}'s count stayed {before}): user pages must be faulted in on demand");
    }

    private static string Preview(byte[] buf) =>
        buf.Length <= 16 ? Convert.ToHexString(buf).ToLowerInvariant() : Convert.ToHexString(buf, 0, 16).ToLowerInvariant() + $"... ({buf.Length} bytes)";

    // ---- Who else sees a store -------------------------------------------------------------------------

    private void EchoAfterWrite(ProcModel p, MapModel m, ulong va, int len)
    {
        ulong vpn = va >> _shift;
        int off = (int)(va & (ulong)(_ps - 1));
        if (m.Shared)
        {
            long index = m.PgOff + (long)(vpn - (m.Start >> _shift));
            EchoViews(m.Obj!, index, off, len, p, m, 6);
            return;
        }
        // ADDR-4: a private page is this process's alone: the processes it was copied to by fork keep theirs.
        int n = 0;
        foreach (var q in _m.Procs)
        {
            if (q == p || n >= 3) continue;
            if (q.Find(va) is not { } qm || qm.Lineage != m.Lineage || ExpectedPage(q, qm, vpn) is not { } page) continue;
            if (Predict(q, va, false) is not { Expected: UserFault.None, Either: false }) continue;
            n++;
            ReadAndCheck(q, va, len, $"{p.Var} stored to its copy of this private page", "ADDR-4");
        }
        if (m.Kind == MapKind.FilePrivate)
        {
            // MMAP-7: a private mapping's stores never reach the file or its shared mappings.
            long index = m.PgOff + (long)(vpn - (m.Start >> _shift));
            CheckFileBytes(m.Obj!, (index << _shift) + off, len, $"after {p.Var} stored through its private mapping {m.Var}");
            EchoViews(m.Obj!, index, off, len, p, m, 3);
        }
    }

    /// <summary>Reads page <paramref name="index"/> of <paramref name="obj"/> through its mappings (other than the writer's) and the object itself.</summary>
    private void EchoViews(ObjModel obj, long index, int off, int len, ProcModel? writer, MapModel? writerMap, int max)
    {
        int n = 0;
        foreach (var (q, qm, qva) in _m.Views(obj, index, _shift).ToList())
        {
            if (n >= max) break;
            if (q == writer && qm == writerMap) continue;
            if (ExpectedPage(q, qm, qva >> _shift) is null) continue;
            if (Predict(q, qva, false) is not { Expected: UserFault.None, Either: false }) continue;
            n++;
            string rule = !qm.Shared ? "MMAP-7"
                : q == writer ? "ADDR-7"
                : obj.Kind switch { MapKind.FileShared => "MMAP-7", MapKind.Shm => "MMAP-5", _ => "DRV-4" };
            ReadAndCheck(q, qva + (ulong)off, len, qm.Shared ? $"another mapping of {obj.Name} page {index}" : $"a private copy of {obj.Name} page {index}", rule);
        }
        if (obj.Kind == MapKind.FileShared && writerMap is { Shared: true })
            CheckFileBytes(obj, (index << _shift) + off, len, $"after a store through a shared mapping of {obj.Name}");
        if (obj.Kind == MapKind.Device && _mem is not null && index < obj.KernelAddresses.Count && writerMap is not null)
            CheckDeviceKernelBytes(obj, index, off, len);
    }

    /// <summary>MMAP-7: the file itself (pread) holds what the model says.</summary>
    private void CheckFileBytes(ObjModel file, long offset, int len, string why)
    {
        if (offset >= file.Size) return;
        len = (int)Math.Min(len, file.Size - offset);
        var buf = new byte[len];
        int got = -1;
        var e = Try(() => got = _um.ReadFile(file.Id, offset, buf));
        if (_t.Enabled) _t.Step($"pread({file.Name}, {len} bytes at {offset}) -> {(e is null ? Preview(buf) : Describe(e))}", $"um.ReadFile({file.Name}, {offset}, new byte[{len}]);");
        if (file.Uncertain.Contains(offset >> _shift)) return;
        var expected = (file.Pages.TryGetValue(offset >> _shift, out var page) ? page : ZeroPage).AsSpan((int)(offset & (_ps - 1)), len).ToArray();
        int diff = buf.AsSpan().CommonPrefixLength(expected);
        _s.That("MMAP-7", e is null && got == len && diff == len,
            () => e is not null || got != len ? $"pread of {len} bytes at {offset} of {file.Name} returned {(e is null ? got.ToString() : Describe(e))}"
                : $"{file.Name} holds 0x{buf[diff]:x2} at offset {offset + diff} {why}, expected 0x{expected[diff]:x2}");
    }

    // ---- Generated accesses ------------------------------------------------------------------------------

    private void AccessStep(UserOp op, bool write)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count == 0) return;
        var m = proc.Maps[op.Target % proc.Maps.Count];
        ulong pages = (m.End - m.Start) >> _shift;
        int len = Math.Clamp(op.Length, 1, _ps);
        int off = Math.Clamp(op.Offset, 0, _ps - len);
        ulong va = m.Start + ((ulong)op.Pages % pages << _shift) + (ulong)off;
        _s.Operations++;
        if (write) WriteAndCheck(proc, va, Bytes(op.Seed, len), op.Seed, null);
        else ReadAndCheck(proc, va, len, "a generated load", null);
    }

    /// <summary>Accesses where nothing may be reached: a window page nothing maps, kernel addresses, TASK_SIZE (ADDR-6, ADDR-9).</summary>
    private void Probe(UserOp op)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return;
        _s.Operations++;
        switch (op.Target % 4)
        {
            case 0:
                ulong va = WindowPage(op.Offset, 1) + (ulong)(op.Offset % _ps);
                if (proc.Find(va) is not null) return;
                ReadAndCheck(proc, va, 1, "a user page nothing maps", null);
                break;
            case 1:
                ReadAndCheck(proc, KernelAddress(op.Offset), 4, "a kernel address", "ADDR-9");
                break;
            case 2:
                ulong k = KernelAddress(op.Offset);
                var before = KernelBytes(k, 4);
                WriteAndCheck(proc, k, Bytes(op.Offset, 4), op.Offset, "ADDR-9");
                if (before is not null)
                {
                    var after = KernelBytes(k, 4);
                    _s.That("ADDR-9", after is not null && after.AsSpan().SequenceEqual(before),
                        $"a user store to kernel address 0x{k:x} changed kernel memory there");
                }
                break;
            default:
                ReadAndCheck(proc, _p.TaskSize + (ulong)(op.Offset % _ps), 1, "TASK_SIZE", "ADDR-9");
                break;
        }
    }

    /// <summary>A direct-mapped kernel address: PAGE_OFFSET plus a generated page of low memory.</summary>
    private ulong KernelAddress(int seed) =>
        _p.PageOffset + ((ulong)(uint)seed % (new PhysicalLayout(_p).DirectEnd >> _shift) << _shift) + (ulong)(seed % (_ps - 8));

    private byte[]? KernelBytes(ulong addr, int len)
    {
        if (_mem is null || !new PhysicalLayout(_p).IsDirectMapped(addr)) return null;
        var buf = new byte[len];
        return Try(() => _mem.Read(addr, buf)) is null ? buf : null;
    }

    /// <summary>Reads back every page the model knows of <paramref name="p"/> (up to a bound); <paramref name="rule"/> overrides the attribution. Returns pages read.</summary>
    private int Verify(ProcModel p, string? rule, int maxPages)
    {
        int n = 0;
        foreach (var m in p.Maps.ToList())
        {
            foreach (ulong va in KnownPages(p, m))
            {
                if (n >= maxPages) return n;
                if (Predict(p, va, false) is not { Expected: UserFault.None, Either: false }) continue;
                if (ExpectedPage(p, m, va >> _shift) is null) continue;
                n++;
                ReadAndCheck(p, va, _ps, "verification", rule);
            }
        }
        return n;
    }

    /// <summary>The pages of a mapping whose contents the model has recorded (written, or copied).</summary>
    private IEnumerable<ulong> KnownPages(ProcModel p, MapModel m)
    {
        ulong first = m.Start >> _shift, last = (m.End - 1) >> _shift;
        if (m.Shared)
        {
            foreach (long index in m.Obj!.Pages.Keys.Where(i => i >= m.PgOff && i <= m.PgOff + (long)(last - first)).Order())
                yield return m.Start + ((ulong)(index - m.PgOff) << _shift);
        }
        else
            foreach (ulong vpn in p.Private.Keys.Concat(p.Accessed).Where(v => v >= first && v <= last).Distinct().Order())
                yield return vpn << _shift;
    }

    private ulong? FirstKnownPage(ProcModel p, MapModel m)
    {
        foreach (ulong va in KnownPages(p, m))
            if (Predict(p, va, false) is { Expected: UserFault.None, Either: false } && ExpectedPage(p, m, va >> _shift) is not null) return va;
        return null;
    }
}
