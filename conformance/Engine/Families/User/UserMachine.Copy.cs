using System.Buffers.Binary;
using KernelMm.Spec.Contract;
using static KernelMm.Conformance.Families.Shared.Calls;

namespace KernelMm.Conformance.Families.User;

/// <summary>
/// User copies (UACC-1..3): copy_to_user / copy_from_user over generated ranges that may run into a
/// page that cannot be reached, get_user / put_user of 1-8 bytes at good and bad addresses, and user
/// pointers into kernel space. The kernel side is a buffer the suite allocated and filled.
/// </summary>
internal sealed partial class UserMachine
{
    private ulong _kbuf, _kbuf2;
    private byte[] _kbufData = [], _kbuf2Data = [];

    /// <summary>Two kernel buffers: 64 KiB the copies use, and one page user pointers aim at (UACC-3).</summary>
    private bool EnsureKernelBuffers()
    {
        if (_kbuf != 0) return true;
        if (_copy is null || _pages is null || _mem is null) return false;
        int order = Math.Max(0, 15 - _shift);
        ulong a = 0, b = 0;
        if (Try(() => { a = _pages.GetFreePages(Gfp.Kernel, order); b = _pages.GetFreePages(Gfp.Kernel, 0); }) is not null || a == 0 || b == 0) return false;
        _kernelDirty = true;
        _kbufData = (byte[])Pattern(4242, _ps << order).Clone();
        _kbuf2Data = (byte[])Pattern(4343, _ps).Clone();
        _mem.Write(a, _kbufData);
        _mem.Write(b, _kbuf2Data);
        (_kbuf, _kbuf2) = (a, b);
        if (_t.Enabled) _t.Step($"kbuf = __get_free_pages(GFP_KERNEL, {order}) = 0x{a:x}, kbuf2 = __get_free_page(GFP_KERNEL) = 0x{b:x}, both filled",
            $"var kbuf = pages.GetFreePages(Gfp.Kernel, {order}); var kbuf2 = pages.GetFreePages(Gfp.Kernel, 0); mem.Write(kbuf, Bytes(4242, {_ps << order})); mem.Write(kbuf2, Bytes(4343, {_ps}));");
        return true;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), byte[]> Patterns = new();

    /// <summary>Bytes(seed, n), made once per size: the kernel buffers are filled at every boot.</summary>
    private static byte[] Pattern(int seed, int n) => Patterns.GetOrAdd((seed, n), k => Bytes(k.Item1, k.Item2));

    /// <summary>
    /// A generated user range inside a mapping, stretched past its end only where the model knows
    /// what lies there (the user window), and the bytes until the first page the access cannot reach
    /// (n when every page is good). Null when a page's protection is unknown.
    /// </summary>
    private (ProcModel Proc, MapModel Map, ulong Va, long N, long Reach)? CopyRange(UserOp op, bool write)
    {
        if (_m.PickProc(op.Proc) is not { } proc || proc.Maps.Count == 0) return null;
        var m = proc.Maps[op.Target % proc.Maps.Count];
        ulong pages = (m.End - m.Start) >> _shift;
        ulong va = m.Start + ((ulong)op.Pages % pages << _shift) + (ulong)Math.Clamp(op.Offset, 0, _ps - 1);
        long n = Math.Clamp(op.Length, 1, _kbufData.Length);
        n = (long)Math.Min((ulong)n, (m.InWindow ? WindowEnd : m.End) - va);
        long reach = n;
        for (ulong page = va & ~(ulong)(_ps - 1); page < va + (ulong)n; page += (ulong)_ps)
        {
            var pr = Predict(proc, Math.Max(page, va), write);
            if (pr.Either) return null;
            if (pr.Expected != UserFault.None) { reach = (long)(Math.Max(page, va) - va); break; }
        }
        return (proc, m, va, n, reach);
    }

    /// <summary>UACC-1 / UACC-3: the count of bytes not copied is 0 when every page is good, and otherwise leaves nothing copied past the first bad page.</summary>
    private void CheckNotCopied(string call, long n, long reach, long r)
    {
        if (reach >= n)
            _s.That("UACC-1", r == 0, $"{call}: every page of the {n} bytes can be reached, so it must return 0 (bytes not copied), got {r}");
        else if (reach == 0)
            _s.That("UACC-3", r == n, $"{call}: the first user page cannot be reached, so nothing may be copied: it must return {n}, got {r}");
        else
            _s.That("UACC-1", r >= n - reach && r <= n,
                $"{call}: the user range becomes unreachable after {reach} of {n} bytes, so it must return the bytes NOT copied, at least {n - reach} and at most {n}; got {r}");
    }

    private void CopyToUser(UserOp op)
    {
        if (!EnsureKernelBuffers() || CopyRange(op, write: true) is not var (proc, m, va, n, reach)) return;
        _s.Operations++;
        long r = 0;
        var e = Try(() => r = _copy!.CopyToUser(proc.Pid, va, _kbuf, n));
        string call = $"copy_to_user({proc.Var}, 0x{va:x}, kbuf, {n})";
        if (_t.Enabled) _t.Step($"{call} -> {(e is null ? r.ToString() : Describe(e))}", $"uc.CopyToUser({proc.Var}, {At(m, va)}, kbuf, {n});");
        if (e is not null) { _s.Fail("UACC-1", $"{call} raised {Describe(e)}"); return; }
        CheckNotCopied(call, n, reach, r);
        if (r < 0 || r > n) return;
        long copied = n - r;
        // The copied bytes are stores of the process's memory, copy-on-write included.
        for (long done = 0; done < copied;)
        {
            ulong at = va + (ulong)done;
            int len = (int)Math.Min(copied - done, _ps - (long)(at & (ulong)(_ps - 1)));
            var map = proc.Find(at)!;
            Accessed(proc, map, at);
            ApplyWrite(proc, map, at, _kbufData.AsSpan((int)done, len));
            done += len;
        }
        // UACC-1 decision: after copy_to_user the user bytes past the stop (before the bad page) are unspecified.
        for (ulong at = (va + (ulong)copied) & ~(ulong)(_ps - 1); at < va + (ulong)Math.Min(reach, n); at += (ulong)_ps)
            if (proc.Find(at) is { } um) MarkUncertain(proc, um, at);
        // The first bytes arrived intact (read back through the process).
        if (copied > 0) ReadAndCheck(proc, va, (int)Math.Min(copied, _ps - (long)(va & (ulong)(_ps - 1))), $"bytes {call} copied", "UACC-1");
    }

    /// <summary>A page the kernel reached on the process's behalf is resident now, as if the process had touched it.</summary>
    private void Accessed(ProcModel p, MapModel m, ulong va)
    {
        m.Touched = true;
        if (!m.Shared) p.Accessed.Add(va >> _shift);
    }

    private void MarkUncertain(ProcModel p, MapModel m, ulong va)
    {
        if (m.Shared) m.Obj!.Uncertain.Add(m.PgOff + (long)((va - m.Start) >> _shift));
        else p.Uncertain.Add(va >> _shift);
    }

    private void CopyFromUser(UserOp op)
    {
        if (!EnsureKernelBuffers() || CopyRange(op, write: false) is not var (proc, m, va, n, reach)) return;
        _s.Operations++;
        long r = 0;
        var e = Try(() => r = _copy!.CopyFromUser(proc.Pid, _kbuf, va, n));
        string call = $"copy_from_user({proc.Var}, kbuf, 0x{va:x}, {n})";
        if (_t.Enabled) _t.Step($"{call} -> {(e is null ? r.ToString() : Describe(e))}", $"uc.CopyFromUser({proc.Var}, kbuf, {At(m, va)}, {n});");
        if (e is not null) { _s.Fail("UACC-1", $"{call} raised {Describe(e)}"); return; }
        CheckNotCopied(call, n, reach, r);
        if (r < 0 || r > n) return;
        var got = new byte[n];
        _mem!.Read(_kbuf, got);
        long copied = n - r;
        // UACC-1: the copied prefix is the user's bytes; the rest of the kernel buffer is zeroed.
        for (long done = 0; done < copied;)
        {
            ulong at = va + (ulong)done;
            int off = (int)(at & (ulong)(_ps - 1));
            int len = (int)Math.Min(copied - done, _ps - off);
            var map = proc.Find(at)!;
            Accessed(proc, map, at);
            if (ExpectedPage(proc, map, at >> _shift) is { } page)
            {
                int diff = got.AsSpan((int)done, len).CommonPrefixLength(page.AsSpan(off, len));
                long d0 = done;
                _s.That("UACC-1", diff == len, $"{call}: kernel byte {d0 + diff} is 0x{got[d0 + diff]:x2}, but the user byte at 0x{at + (ulong)diff:x} is 0x{page[off + diff]:x2}");
            }
            done += len;
        }
        int nonZero = got.AsSpan((int)copied).IndexOfAnyExcept((byte)0);
        _s.That("UACC-1", nonZero < 0, $"{call} returned {r} bytes not copied, but kernel byte {copied + nonZero} of the uncopied tail is 0x{got[copied + nonZero]:x2}: copy_from_user zeroes what it could not copy");
        got.CopyTo(_kbufData, 0);
    }

    /// <summary>Where a get_user / put_user goes: a good address of a mapping, or a bad one (unmapped, kernel, or protected).</summary>
    private (ProcModel Proc, ulong Va, MapModel? Map, bool Good, string Why)? ValueTarget(UserOp op, int size, bool write)
    {
        if (_m.PickProc(op.Proc) is not { } proc) return null;
        switch (op.Pages % 5)
        {
            case 0 or 1:
                var good = proc.Maps.Where(m => m.ProtKnown && Allows(m.Prot, write) && Predict(proc, m.Start, write).Expected == UserFault.None).ToList();
                if (good.Count == 0) return null;
                var g = good[op.Target % good.Count];
                ulong span = g.End - g.Start - (ulong)size;
                ulong va = g.Start + (ulong)((uint)(op.Target * 4099 + op.Offset) % (span + 1));
                // Both pages of a value that straddles two must be reachable.
                if (Predict(proc, va + (ulong)size - 1, write) is not { Expected: UserFault.None, Either: false }) return null;
                return (proc, va, g, true, "a mapped address");
            case 2:
                ulong hole = WindowPage(op.Offset + op.Target, 1) + (ulong)(op.Offset % (_ps - size));
                if (proc.Find(hole) is not null || proc.Find(hole + (ulong)size - 1) is not null) return null;
                return (proc, hole, null, false, "an address nothing maps");
            case 3:
                return (proc, _kbuf2 + (ulong)(op.Offset % (_ps - size)), null, false, "a kernel address");
            default:
                var bad = proc.Maps.Where(m => m.ProtKnown && !Allows(m.Prot, write)).ToList();
                if (bad.Count == 0) return null;
                var b = bad[op.Target % bad.Count];
                return (proc, b.Start + (ulong)(op.Offset % (_ps - size)), b, false, write ? "a page without PROT_WRITE" : "a PROT_NONE page");
        }
    }

    private int ValueSize(int length) => length is 1 or 2 or 4 ? length : _p.WordSize == 8 ? 8 : 4;

    private void GetUser(UserOp op)
    {
        int size = ValueSize(op.Length);
        if (!EnsureKernelBuffers() || ValueTarget(op, size, write: false) is not var (proc, va, map, good, why)) return;
        _s.Operations++;
        int r = 0;
        ulong value = 0xdead;
        var e = Try(() => r = _copy!.GetUser(proc.Pid, va, size, out value));
        string call = $"get_user({proc.Var}, {size} bytes at 0x{va:x} [{why}])";
        if (_t.Enabled) _t.Step($"{call} -> {(e is null ? $"{r}, value 0x{value:x}" : Describe(e))}", $"uc.GetUser({proc.Var}, {(map is null ? $"0x{va:x}UL" : At(map, va))}, {size}, out var {_m.Name("v")});");
        if (e is not null) { _s.Fail("UACC-2", $"{call} raised {Describe(e)}"); return; }
        if (!good)
        {
            _s.That("UACC-3", r != 0, $"{call} returned 0 (value 0x{value:x}): a pointer to {why} must fault");
            _s.That("UACC-2", r == -Errno.EFAULT && value == 0, $"{call} failed with {r} and value 0x{value:x}: get_user returns -EFAULT and sets the value to 0");
            return;
        }
        _s.That("UACC-2", r == 0, $"{call} returned {r}: a readable user address gives 0");
        Accessed(proc, map!, va);
        if (proc.Find(va + (ulong)size - 1) is { } last) Accessed(proc, last, va + (ulong)size - 1);
        Span<byte> expected = stackalloc byte[8];
        expected.Clear();
        for (int i = 0; i < size; i++)
        {
            ulong at = va + (ulong)i;
            var m = proc.Find(at)!;
            if (ExpectedPage(proc, m, at >> _shift) is not { } page) return;
            expected[i] = page[(int)(at & (ulong)(_ps - 1))];
        }
        ulong want = BinaryPrimitives.ReadUInt64LittleEndian(expected);
        _s.That("UACC-2", value == want, $"{call} gave 0x{value:x}; the {size} bytes there hold 0x{want:x} (little-endian)");
    }

    private void PutUser(UserOp op)
    {
        int size = ValueSize(op.Length);
        if (!EnsureKernelBuffers() || ValueTarget(op, size, write: true) is not var (proc, va, map, good, why)) return;
        _s.Operations++;
        ulong value = (ulong)op.Seed * 0x9E3779B97F4A7C15UL;
        if (size < 8) value &= (1UL << (size * 8)) - 1;
        byte[]? kernelBefore = map is null && !good ? KernelBytes(va, size) : null;
        int r = 0;
        var e = Try(() => r = _copy!.PutUser(proc.Pid, va, size, value));
        string call = $"put_user({proc.Var}, 0x{value:x} as {size} bytes at 0x{va:x} [{why}])";
        if (_t.Enabled) _t.Step($"{call} -> {(e is null ? r.ToString() : Describe(e))}", $"uc.PutUser({proc.Var}, {(map is null ? $"0x{va:x}UL" : At(map, va))}, {size}, 0x{value:x}UL);");
        if (e is not null) { _s.Fail("UACC-2", $"{call} raised {Describe(e)}"); return; }
        if (!good)
        {
            _s.That("UACC-3", r != 0, $"{call} returned 0: a pointer to {why} must fault");
            _s.That("UACC-2", r == -Errno.EFAULT, $"{call} failed with {r}: put_user returns -EFAULT");
            if (kernelBefore is not null)
            {
                var after = KernelBytes(va, size);
                _s.That("UACC-3", after is not null && after.AsSpan().SequenceEqual(kernelBefore), $"{call} changed kernel memory at 0x{va:x}");
            }
            else if (map is not null && Allows(map.Prot, false)) ReadAndCheck(proc, va, size, $"memory a refused {call} must not change", "UACC-3");
            return;
        }
        _s.That("UACC-2", r == 0, $"{call} returned {r}: a writable user address gives 0");
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        for (int i = 0; i < size;)
        {
            ulong at = va + (ulong)i;
            int len = Math.Min(size - i, _ps - (int)(at & (ulong)(_ps - 1)));
            var m = proc.Find(at)!;
            Accessed(proc, m, at);
            ApplyWrite(proc, m, at, bytes.Slice(i, len));
            i += len;
        }
        ReadAndCheck(proc, va, Math.Min(size, _ps - (int)(va & (ulong)(_ps - 1))), $"what {call} stored", "UACC-2");
    }

    /// <summary>UACC-3: user pointers into kernel space, and a range reaching TASK_SIZE, move nothing.</summary>
    private void CopyBad(UserOp op)
    {
        if (!EnsureKernelBuffers() || _m.PickProc(op.Proc) is not { } proc) return;
        _s.Operations++;
        long n = Math.Clamp(op.Length, 1, _ps);
        long r = 0;
        Exception? e;
        switch (op.Target % 3)
        {
            case 0:
                e = Try(() => r = _copy!.CopyFromUser(proc.Pid, _kbuf, _kbuf2, n));
                if (_t.Enabled) _t.Step($"copy_from_user({proc.Var}, kbuf, kbuf2 (a kernel address), {n}) -> {(e is null ? r.ToString() : Describe(e))}", $"uc.CopyFromUser({proc.Var}, kbuf, kbuf2, {n});");
                _s.That("UACC-3", e is null && r == n, $"copy_from_user from the kernel address 0x{_kbuf2:x} must copy nothing and return {n}, got {(e is null ? r.ToString() : Describe(e))}");
                var got = new byte[n];
                _mem!.Read(_kbuf, got);
                _s.That("UACC-3", !got.AsSpan().SequenceEqual(_kbuf2Data.AsSpan(0, (int)n)) || n == 0,
                    $"copy_from_user from a kernel address copied the kernel's bytes into the destination");
                got.CopyTo(_kbufData, 0);
                break;
            case 1:
                e = Try(() => r = _copy!.CopyToUser(proc.Pid, _kbuf2, _kbuf, n));
                if (_t.Enabled) _t.Step($"copy_to_user({proc.Var}, kbuf2 (a kernel address), kbuf, {n}) -> {(e is null ? r.ToString() : Describe(e))}", $"uc.CopyToUser({proc.Var}, kbuf2, kbuf, {n});");
                _s.That("UACC-3", e is null && r == n, $"copy_to_user to the kernel address 0x{_kbuf2:x} must copy nothing and return {n}, got {(e is null ? r.ToString() : Describe(e))}");
                var k2 = new byte[_ps];
                _mem!.Read(_kbuf2, k2);
                _s.That("UACC-3", k2.AsSpan().SequenceEqual(_kbuf2Data), $"copy_to_user to a kernel address wrote kernel memory at 0x{_kbuf2:x}");
                break;
            default:
                ulong from = _p.TaskSize - (ulong)(n / 2 + 1);
                e = Try(() => r = _copy!.CopyFromUser(proc.Pid, _kbuf, from, n));
                if (_t.Enabled) _t.Step($"copy_from_user({proc.Var}, kbuf, 0x{from:x} (reaching TASK_SIZE), {n}) -> {(e is null ? r.ToString() : Describe(e))}", $"uc.CopyFromUser({proc.Var}, kbuf, 0x{from:x}UL, {n});");
                _s.That("UACC-3", e is null && r == n, $"copy_from_user of a range reaching TASK_SIZE must be refused whole (access_ok) and return {n}, got {(e is null ? r.ToString() : Describe(e))}");
                var z = new byte[n];
                _mem!.Read(_kbuf, z);
                z.CopyTo(_kbufData, 0);
                break;
        }
    }
}
