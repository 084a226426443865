using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Expectations;
using KernelMm.Conformance.Families.Shared;
using static KernelMm.Conformance.Families.Shared.Calls;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Conformance.Families.Heap.HeapOpKind;

namespace KernelMm.Conformance.Families.Heap;

/// <summary>
/// Runs one kmalloc/slab sequence through the contract and checks every step against the model
/// and the profile. Each check names the KMAL or SLAB rule it enforces.
/// </summary>
internal sealed class HeapMachine
{
    private const int EBUSY = 16;
    private readonly IPageAllocator _pages;
    private readonly IKernelMemory _memory;
    private readonly IKmalloc? _km;
    private readonly ISlab? _slab;
    private readonly Profile _p;
    private readonly HeapModel _m = new();
    private readonly CheckScope _s;
    private readonly Trace _t;
    private readonly ContextDriver _context;
    /// <summary>The suite's own derivation of zones and the direct mapping.</summary>
    private readonly PhysicalLayout _layout;
    /// <summary>The kmalloc choices the implementation declares (or the profile's defaults), read at boot.</summary>
    private KmallocTable _table = null!;

    private HeapMachine(IMemoryManager mm, CheckScope scope, Trace trace)
    {
        var caps = mm.Capabilities;
        _pages = (IPageAllocator)mm;
        _memory = (IKernelMemory)mm;
        _km = caps.Contains(Capability.Kmalloc) ? (IKmalloc)mm : null;
        _slab = caps.Contains(Capability.SlabCache) ? (ISlab)mm : null;
        _p = mm.Profile;
        _s = scope;
        _t = trace;
        _context = new ContextDriver(caps.Contains(Capability.ExecutionContext) ? (IExecutionContext)mm : null, scope, trace);
        _layout = new PhysicalLayout(_p);
    }

    public static void Run(IMemoryManager mm, IReadOnlyList<HeapOp> ops, CheckScope scope, Trace trace)
    {
        var machine = new HeapMachine(mm, scope, trace);
        machine.Boot();
        foreach (var op in ops) machine.Step(op);
    }

    private void Boot()
    {
        for (int z = 0; z < Zones.Count; z++) _m.BootFree[z] = ZoneFree((Zone)z);
        _context.CheckBoot();
        if (_t.Enabled) _t.Step($"boot {_p.Label}", $"// boot {_p.Label}");
        // The kmalloc choices the implementation declares must be ones the documents allow (KMAL-1, KMAL-2).
        KmallocInfo? declared = null;
        var asked = _km is null ? null : Try(() => declared = _km.KmallocInfo());
        _s.That("KMAL-2", asked is null, () => $"IKmalloc.KmallocInfo raised {Describe(asked)}");
        _table = KmallocTable.Read(declared, _p, out var problem);
        if (_km is not null && problem is { } bad) _s.Fail(bad.Rule, $"on {_p.Label} the implementation {bad.Why}");
    }

    private void Step(HeapOp op)
    {
        switch (op.Kind)
        {
            case Kmalloc or Kzalloc: Allocate(op.Kind, op.Size, op.Gfp); break;
            case Krealloc: Reallocate(op.Slot, op.Size, op.Gfp); break;
            case Kfree: FreeKmalloc(op.Slot, op.Arg); break;
            case KfreeTwice: FreeKmallocTwice(op.Slot); break;
            case KfreeInterior: FreeKmallocInterior(op.Slot, op.Arg); break;
            case KfreePageMemory: FreePageMemoryWithKfree(); break;
            case KfreeCacheObject: FreeCacheObjectWithKfree(op.Slot); break;
            case Write: WriteBytes(op.Slot, op.Arg); break;
            case Verify: if (_m.Pick(op.Slot, _ => true) is { } o) { _s.Operations++; VerifyContents(o, "KMAL-7"); } break;
            case Overrun: OverrunRedZone(op.Slot); break;
            case CacheCreate: CreateCache(op.Size, op.Arg & 0xff, op.Flags, op.Arg >> 8 is var c && c is > 0 and < 256 ? (byte)c : null); break;
            case CacheAlloc: AllocateFromCache(op.Slot, op.Gfp); break;
            case CacheFree: FreeToCache(op.Slot); break;
            case CacheFreeWrongCache: FreeToWrongCache(op.Slot); break;
            case CacheFreeTwice: FreeToCacheTwice(op.Slot); break;
            case CacheFreeKmalloc: FreeKmallocToCache(op.Slot); break;
            case CacheShrink: ShrinkCache(op.Slot); break;
            case CacheDestroy: DestroyCache(op.Slot); break;
            case Reap: ReapCaches(); break;
            case PageAlloc: AllocatePages(op.Gfp, (int)op.Size); break;
            case PageFree: if (_m.Pick(op.Slot, o => o.PageOrder >= 0) is { } pg) Release(pg); break;
            case PreemptDisable: _context.Step(ContextStep.PreemptDisable); break;
            case PreemptEnable: _context.Step(ContextStep.PreemptEnable); break;
            case IrqEnter: _context.Step(ContextStep.IrqEnter); break;
            case IrqExit: _context.Step(ContextStep.IrqExit); break;
            case FreeAll: FreeEverything(); break;
        }
    }

    // ---- Observation helpers -----------------------------------------------------------------

    private long ZoneFree(Zone zone)
    {
        long free = 0;
        for (int o = 0; o <= _p.MaxOrder; o++) free += _pages.FreeBlocks(zone, o) << o;
        return free;
    }

    private long TotalFree() => ZoneFree(Zone.Dma) + ZoneFree(Zone.Normal) + ZoneFree(Zone.HighMem);

    private SlabInfo? Info(string name)
    {
        foreach (var info in _slab!.SlabInfo()) if (info.Name == name) return info;
        return null;
    }

    private bool InDirectMap(ulong addr) => _layout.IsDirectMapped(addr);

    private bool SleepsInAtomic(GfpFlags gfp) => GfpSemantics.MaySleep(gfp) && _context.InAtomic;

    /// <summary>
    /// GFP-7: an allocating call with a GFP bit the profile does not have is refused with
    /// InvalidArgumentException and changes nothing. True when the flags were such (the call is done with).
    /// </summary>
    private bool RefusedUnknownGfp(string call, GfpFlags gfp, Exception? e, ulong result, long freeBefore)
    {
        if (GfpSemantics.Exists(_p, gfp)) return false;
        _s.That("GFP-7", e is InvalidArgumentException && TotalFree() == freeBefore,
            () => $"{call}: GFP bits 0x{GfpSemantics.Unknown(_p, gfp):x} do not exist on {_p.Name}; the call must be refused with InvalidArgumentException and change nothing, got {(e is null ? $"0x{result:x}" : Describe(e))}");
        return true;
    }

    /// <summary>GFP-1: a sleeping call in atomic context is reported and changes nothing.</summary>
    private void ExpectSleepReport(string call, Exception? e, long freeBefore)
    {
        _s.That("GFP-1", e is KernelBugException { RuleId: "GFP-1" },
            () => $"{call} in atomic context must be reported as GFP-1, got {Describe(e)}");
        _s.That("GFP-1", TotalFree() == freeBefore, () => $"{call} was refused but changed the free page count");
    }

    /// <summary>A kmalloc/slab object lies in direct-mapped low memory, contiguous, clear of every live block.</summary>
    private void CheckPlacement(string rule, string call, ulong addr, long length, GfpFlags gfp)
    {
        ulong last = addr + (ulong)Math.Max(1, length) - 1;
        _s.That(rule, InDirectMap(addr) && InDirectMap(last),
            () => $"{call} returned [0x{addr:x}, 0x{last:x}], not inside the direct mapping of low memory");
        ulong pa = _pages.VirtToPhys(addr), paLast = _pages.VirtToPhys(last);
        _s.That(rule, paLast - pa == last - addr, () => $"{call}: [0x{addr:x}, 0x{last:x}] is not physically contiguous");
        var zone = _layout.ZoneOfPhys(paLast);
        _s.That(rule, zone != Zone.HighMem, () => $"{call} returned HIGHMEM memory at PA 0x{pa:x}");
        if (GfpSemantics.WantsDma(gfp))
            _s.That(rule, paLast < _layout.DmaEnd, () => $"{call}: a GFP_DMA object ends at PA 0x{paLast:x}, above MAX_DMA_ADDRESS 0x{_layout.DmaEnd:x}");
    }

    // ---- kmalloc -----------------------------------------------------------------------------

    private HeapObject? Allocate(HeapOpKind kind, long size, GfpFlags gfp)
    {
        if (_km is null) return null;
        _s.Operations++;
        string name = _m.NextName("k");
        string fn = kind == Kzalloc ? "kzalloc" : "kmalloc";
        string call = _t.Enabled ? $"{fn}({size}, {Gfp.Describe(gfp)})" : fn;
        long before = TotalFree();
        ulong addr = 0;
        var e = Try(() => addr = kind == Kzalloc ? _km.Kzalloc(size, gfp) : _km.Kmalloc(size, gfp));
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var {name} = km.{(kind == Kzalloc ? "Kzalloc" : "Kmalloc")}({size}, {Pages.CSharp.Flags(gfp)});");

        if (RefusedUnknownGfp(call, gfp, e, addr, before)) return null;
        if (size < 0)
        {
            _s.That("KMAL-1", e is InvalidArgumentException, () => $"{call} must be refused with InvalidArgumentException, got {(e is null ? $"0x{addr:x}" : Describe(e))}");
            return null;
        }
        if (size > 0 && size <= _p.KmallocMaxSize && SleepsInAtomic(gfp)) { ExpectSleepReport(call, e, before); return null; }
        // kmalloc(0) and over-limit requests return before the kernel's might_sleep(), but no rule
        // says so: reporting GFP-1 for them in atomic context is accepted too.
        if (SleepsInAtomic(gfp) && e is KernelBugException { RuleId: "GFP-1" }) return null;
        if (e is not null) { _s.Fail(size > _p.KmallocMaxSize ? "KMAL-3" : "KMAL-1", $"{call} raised {Describe(e)}"); return null; }
        if (size == 0 && _table.ZeroSize != KmallocZero.SmallestObject)
        {
            ulong expected = _table.ZeroSize == KmallocZero.ZeroSizePtr ? Profile.ZeroSizePtr : 0;
            _s.That("KMAL-1", addr == expected, () => $"{call} returned 0x{addr:x}; kmalloc(0) returns {(expected == 0 ? "NULL" : "ZERO_SIZE_PTR (0x10)")} here ({_table.Describe()})");
            return null;
        }
        if (size > _p.KmallocMaxSize)
        {
            _s.That("KMAL-3", addr == 0, () => $"{call}: {size} bytes is above KMALLOC_MAX_SIZE {_p.KmallocMaxSize} of {_p.Name}, but 0x{addr:x} was returned");
            return null;
        }
        if (addr == 0) return null; // KMAL-1 permits NULL

        long ksize = _km.Ksize(addr);
        _s.That("KMAL-1", ksize >= size, () => $"{call}: ksize(0x{addr:x}) = {ksize} is less than the {size} bytes asked for");
        long want = _table.UsableSize(size);
        _s.That("KMAL-2", ksize == want,
            () => $"{call}: ksize = {ksize}, but a {size}-byte request is served by the {want}-byte {(size <= _table.CacheMax ? "size class" : "page block")} ({_table.Describe()})");
        CheckPlacement("KMAL-1", call, addr, Math.Max(1, ksize), gfp);
        var other = _m.Overlapping(addr, addr + (ulong)Math.Max(1, ksize));
        _s.That("KMAL-7", other is null, () => $"{call}: [0x{addr:x}, +{ksize}) overlaps live {other!.Name} [0x{other.Addr:x}, +{other.Usable})");
        // KMAL-4: kzalloc, and kmalloc with __GFP_ZERO (kzalloc is exactly that), return zeroed bytes.
        if (kind == Kzalloc || GfpSemantics.WantsZero(gfp)) CheckZero(call, addr, size);
        if (_slab is not null && size <= _table.CacheMax && !GfpSemantics.WantsDma(gfp) && _s.Operations % 4 == 0)
        {
            string cache = _table.CacheName(want);
            var info = Info(cache);
            _s.That("KMAL-8", info is { ActiveObjects: > 0 } && info.ObjectSize >= want,
                () => $"{call}: /proc/slabinfo has {(info is null ? "no" : $"an idle or undersized ({info.ObjectSize})")} general cache '{cache}' for the {want}-byte class");
        }
        var obj = new HeapObject { Name = name, Addr = addr, Requested = size, Usable = ksize };
        _m.Live.Add(obj);
        Fill(obj, 0);
        return obj;
    }

    private void CheckZero(string call, ulong addr, long size)
    {
        foreach (var (off, len) in Samples(size))
        {
            var bytes = new byte[len];
            _memory.Read(addr + (ulong)off, bytes);
            int nz = bytes.AsSpan().IndexOfAnyExcept((byte)0);
            _s.That("KMAL-4", nz < 0, () => $"{call}: byte {off + nz} of the {size} requested bytes is 0x{bytes[nz]:x2}, not zero");
        }
    }

    /// <summary>Byte ranges to read from an object of this size: all of it, or its first and last 4 KiB.</summary>
    private static IEnumerable<(long Offset, int Length)> Samples(long size) =>
        size <= 8192 ? [(0, (int)size)] : [(0, 4096), (size - 4096, 4096)];

    private void Reallocate(int slot, long size, GfpFlags gfp)
    {
        if (_km is null) return;
        var old = _m.Live.Count(o => o.IsKmalloc) is var n && slot % (n + 1) == n ? null : _m.Pick(slot, o => o.IsKmalloc);
        if (old is null) { ReallocateNull(size, gfp); return; }
        _s.Operations++;
        // Its bytes are intact before krealloc sees it (KMAL-7), so that what krealloc loses is KMAL-5's.
        VerifyContents(old, "KMAL-7");
        string name = _m.NextName("k");
        string call = _t.Enabled ? $"krealloc({old.Name}, {size}, {Gfp.Describe(gfp)})" : "krealloc";
        long before = TotalFree();
        ulong addr = 0;
        var e = Try(() => addr = _km.Krealloc(old.Addr, size, gfp));
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var {name} = km.Krealloc({old.Name}, {size}, {Pages.CSharp.Flags(gfp)});");
        if (RefusedUnknownGfp(call, gfp, e, addr, before)) return;
        if (size < 0) { _s.That("KMAL-5", e is InvalidArgumentException, () => $"{call} must be refused with InvalidArgumentException, got {Describe(e)}"); return; }
        if (size > 0 && size <= _p.KmallocMaxSize && SleepsInAtomic(gfp)) { ExpectSleepReport(call, e, before); return; }
        if (SleepsInAtomic(gfp) && e is KernelBugException { RuleId: "GFP-1" }) return; // see Allocate
        if (e is not null) { _s.Fail(size > _p.KmallocMaxSize ? "KMAL-3" : "KMAL-5", $"{call} raised {Describe(e)}"); return; }
        if (size == 0)
        {
            ulong expected = _table.ZeroSize == KmallocZero.ZeroSizePtr ? Profile.ZeroSizePtr : 0;
            _s.That("KMAL-5", addr == expected, () => $"{call} returned 0x{addr:x}; krealloc(p, 0) frees p and returns {(expected == 0 ? "NULL" : "ZERO_SIZE_PTR")} here ({_table.Describe()})");
            _m.Retire(old);
            return;
        }
        if (addr == 0)
        {
            if (size > _p.KmallocMaxSize) _s.That("KMAL-3", true, () => "");
            VerifyContents(old, "KMAL-5"); // a failed krealloc leaves the old object intact
            _s.That("KMAL-5", !(_table.KreallocInPlace && size <= old.Usable),
                () => $"{call} returned NULL, but {size} bytes fit in {old.Name}'s {old.Usable} and krealloc is declared to stay in place then ({_table.Describe()})");
            return;
        }
        _s.That("KMAL-3", size <= _p.KmallocMaxSize, () => $"{call}: {size} bytes is above KMALLOC_MAX_SIZE {_p.KmallocMaxSize} but 0x{addr:x} was returned");
        bool inPlace = addr == old.Addr;
        if (_table.KreallocInPlace && size <= old.Usable)
            _s.That("KMAL-5", inPlace, () => $"{call} moved {old.Name} to 0x{addr:x}, but {size} bytes fit in its {old.Usable} and krealloc is declared to stay in place then ({_table.Describe()})");
        long ksize = _km.Ksize(addr);
        _s.That("KMAL-5", ksize >= size, () => $"{call}: ksize = {ksize}, less than the {size} bytes asked for");
        // An object kept in place stays where it is, whatever the new flags (Linux's krealloc), when declared so.
        CheckPlacement("KMAL-1", call, addr, ksize, inPlace && _table.KreallocInPlace ? gfp & ~GfpFlags.Dma : gfp);
        var other = _m.Overlapping(addr, addr + (ulong)ksize, except: old);
        _s.That("KMAL-7", other is null, () => $"{call}: [0x{addr:x}, +{ksize}) overlaps live {other!.Name}");
        long keep = Math.Min(old.Requested, size);
        var moved = new HeapObject { Name = name, Addr = addr, Requested = size, Usable = ksize };
        // The first min(old, new) bytes move along (KMAL-5); the rest are the caller's to fill.
        int kept = (int)Math.Min(keep, Math.Min(old.Shadowed, HeapModel.ShadowCap));
        moved.Shadow = new byte[Math.Min(size, HeapModel.ShadowCap)];
        old.Shadow.AsSpan(0, Math.Min(kept, moved.Shadowed)).CopyTo(moved.Shadow);
        foreach (var (off, data) in old.Writes)
        {
            if (off >= keep) continue;
            var part = data.AsSpan(0, (int)Math.Min(data.Length, keep - off)).ToArray();
            moved.Writes.Add((off, part));
        }
        _m.Live.Remove(old);
        _m.Live.Add(moved);
        VerifyContents(moved, "KMAL-5", upTo: (int)Math.Min(keep, moved.Shadowed));
        Fill(moved, (int)Math.Min(keep, moved.Shadowed));
    }

    /// <summary>KMAL-5: krealloc(NULL, n) behaves as kmalloc(n).</summary>
    private void ReallocateNull(long size, GfpFlags gfp)
    {
        if (size <= 0 || size > _p.KmallocMaxSize || SleepsInAtomic(gfp) || !GfpSemantics.Exists(_p, gfp)) { Allocate(Kmalloc, size, gfp); return; }
        _s.Operations++;
        string name = _m.NextName("k");
        ulong addr = 0;
        var e = Try(() => addr = _km!.Krealloc(0, size, gfp));
        if (_t.Enabled) _t.Step($"{name} = krealloc(NULL, {size}, {Gfp.Describe(gfp)}) -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var {name} = km.Krealloc(0, {size}, {Pages.CSharp.Flags(gfp)});");
        _s.That("KMAL-5", e is null, () => $"krealloc(NULL, {size}) raised {Describe(e)}; it must behave as kmalloc");
        if (addr == 0) return;
        long ksize = _km!.Ksize(addr);
        _s.That("KMAL-5", ksize >= size, () => $"krealloc(NULL, {size}): ksize = {ksize}, less than asked for");
        CheckPlacement("KMAL-1", "krealloc(NULL, n)", addr, ksize, gfp);
        var other = _m.Overlapping(addr, addr + (ulong)ksize);
        _s.That("KMAL-7", other is null, () => $"krealloc(NULL, {size}) overlaps live {other!.Name}");
        var obj = new HeapObject { Name = name, Addr = addr, Requested = size, Usable = ksize };
        _m.Live.Add(obj);
        Fill(obj, 0);
    }

    private void FreeKmalloc(int slot, int arg)
    {
        if (_km is null) return;
        if (arg % 11 == 0)
        {
            // kfree(NULL) does nothing; so does kfree(ZERO_SIZE_PTR) where kmalloc(0) returns it. Elsewhere
            // 0x10 is a pointer kmalloc never returned: ignoring it or reporting it as KMAL-6 are both legal.
            ulong p = arg % 2 == 0 ? 0 : Profile.ZeroSizePtr;
            _s.Operations++;
            long before = TotalFree();
            var e = Try(() => _km.Kfree(p));
            if (_t.Enabled) _t.Step($"kfree(0x{p:x}) -> {Describe(e)}", $"km.Kfree(0x{p:x});");
            bool mayReport = p != 0 && _table.ZeroSize != KmallocZero.ZeroSizePtr;
            _s.That("KMAL-6", (e is null || (mayReport && e is KernelBugException { RuleId: "KMAL-6" })) && TotalFree() == before,
                () => $"kfree(0x{p:x}) must {(mayReport ? "do nothing or be reported as KMAL-6" : "do nothing")}, got {Describe(e)}");
            return;
        }
        if (_m.Pick(slot, o => o.IsKmalloc) is { } obj) Release(obj);
    }

    /// <summary>Frees a live object the way it was allocated, after checking its contents.</summary>
    private void Release(HeapObject obj)
    {
        _s.Operations++;
        VerifyContents(obj, "KMAL-7");
        Exception? e;
        string rule;
        if (obj.PageOrder >= 0)
        {
            rule = "PAGE-4";
            e = Try(() => _pages.FreePages(obj.Addr, obj.PageOrder));
            if (_t.Enabled) _t.Step($"free_pages({obj.Name}, {obj.PageOrder}) -> {Describe(e)}", $"pages.FreePages({obj.Name}, {obj.PageOrder});");
        }
        else if (obj.Cache is { } cache)
        {
            rule = "SLAB-4";
            var before = Info(cache.Name);
            e = Try(() => _slab!.KmemCacheFree(cache.Handle, obj.Addr));
            if (_t.Enabled) _t.Step($"kmem_cache_free({cache.Name}, {obj.Name}) -> {Describe(e)}", $"slab.KmemCacheFree({cache.Name}, {obj.Name});");
            if (e is null)
            {
                var after = Info(cache.Name);
                _s.That("SLAB-12", after is not null && before is not null && after.ActiveObjects == before.ActiveObjects - 1,
                    () => $"kmem_cache_free({cache.Name}, {obj.Name}): active objects went from {before?.ActiveObjects} to {after?.ActiveObjects}");
                cache.Live--;
            }
        }
        else
        {
            rule = "KMAL-6";
            e = Try(() => _km!.Kfree(obj.Addr));
            if (_t.Enabled) _t.Step($"kfree({obj.Name}) -> {Describe(e)}", $"km.Kfree({obj.Name});");
        }
        _s.That(rule, e is null, () => $"freeing live {obj.Name} (0x{obj.Addr:x}) the way it was allocated was refused: {Describe(e)}");
        _m.Retire(obj);
    }

    /// <summary>A refused free raises a bug naming <paramref name="rule"/> and changes no count.</summary>
    private void ExpectRefused(string rule, string call, string code, Action action, CacheModel? cache = null)
    {
        _s.Operations++;
        long before = TotalFree();
        var infoBefore = cache is null ? null : Info(cache.Name);
        var e = Try(action);
        if (_t.Enabled) _t.Step($"{call} -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => {code});");
        _s.That(rule, e is KernelBugException kb && kb.RuleId == rule, () => $"{call} must be reported as {rule}, got {Describe(e)}");
        _s.That(rule, TotalFree() == before, () => $"{call} was refused but changed the free page count");
        if (cache is not null)
        {
            var infoAfter = Info(cache.Name);
            _s.That(rule, infoAfter?.ActiveObjects == infoBefore?.ActiveObjects,
                () => $"{call} was refused but {cache.Name}'s active objects went from {infoBefore?.ActiveObjects} to {infoAfter?.ActiveObjects}");
        }
    }

    private void FreeKmallocTwice(int slot)
    {
        if (_km is null) return;
        var freed = _m.Freed.Where(o => o.IsKmalloc && _m.Overlapping(o.Addr, o.End) is null).ToList();
        if (freed.Count == 0) return;
        var obj = freed[slot % freed.Count];
        ExpectRefused("KMAL-6", $"second kfree({obj.Name})", $"km.Kfree({obj.Name})", () => _km.Kfree(obj.Addr));
    }

    private void FreeKmallocInterior(int slot, int arg)
    {
        if (_km is null || _m.Pick(slot, o => o.IsKmalloc && o.Usable > 1) is not { } obj) return;
        ulong inner = obj.Addr + 1 + (ulong)((uint)arg % (ulong)(obj.Usable - 1));
        ExpectRefused("KMAL-6", $"kfree({obj.Name} + {inner - obj.Addr})", $"km.Kfree({obj.Name} + {inner - obj.Addr})", () => _km.Kfree(inner));
    }

    private void FreePageMemoryWithKfree()
    {
        if (_km is null) return;
        ulong page = 0;
        if (Try(() => page = _pages.GetFreePages(Gfp.Atomic, 0)) is not null || page == 0) return;
        if (_t.Enabled) _t.Step($"pg = __get_free_pages(GFP_ATOMIC, 0) -> 0x{page:x}", "var pg = pages.GetFreePages(Gfp.Atomic, 0);");
        ExpectRefused("KMAL-6", "kfree(pg) of a page-allocator page", "km.Kfree(pg)", () => _km.Kfree(page));
        var e = Try(() => _pages.FreePages(page, 0));
        if (_t.Enabled) _t.Step($"free_pages(pg, 0) -> {Describe(e)}", "pages.FreePages(pg, 0);");
        _s.That("PAGE-4", e is null, () => $"free_pages of a page that kfree refused failed: {Describe(e)}");
    }

    private void FreeCacheObjectWithKfree(int slot)
    {
        if (_km is null || _m.Pick(slot, o => o.Cache is { } c && !c.Has(SlabFlags.RedZone)) is not { } obj) return;
        var cache = obj.Cache!;
        if (!_p.KfreeAcceptsCacheObjects)
        {
            ExpectRefused("KMAL-6", $"kfree({obj.Name}) of a {cache.Name} object", $"km.Kfree({obj.Name})", () => _km.Kfree(obj.Addr), cache);
            return;
        }
        _s.Operations++;
        VerifyContents(obj, "KMAL-7");
        var before = Info(cache.Name);
        var e = Try(() => _km.Kfree(obj.Addr));
        if (_t.Enabled) _t.Step($"kfree({obj.Name}) of a {cache.Name} object -> {Describe(e)}", $"km.Kfree({obj.Name});");
        var after = Info(cache.Name);
        _s.That("KMAL-6", e is null && after?.ActiveObjects == before?.ActiveObjects - 1,
            () => $"on {_p.Name} kfree of a {cache.Name} object frees it into its cache; got {Describe(e)}, active {before?.ActiveObjects} -> {after?.ActiveObjects}");
        cache.Live--;
        _m.Retire(obj);
    }

    // ---- Contents ------------------------------------------------------------------------------

    private void WriteBytes(int slot, int arg)
    {
        if (_m.Pick(slot, o => o.Requested > 0) is not { } obj) return;
        _s.Operations++;
        long offset = (uint)arg % obj.Requested;
        int length = (int)Math.Min(1 + (uint)arg / 7 % 48, obj.Requested - offset);
        var data = new byte[length];
        new Random(arg).NextBytes(data);
        var e = Try(() => _memory.Write(obj.Addr + (ulong)offset, data));
        if (_t.Enabled) _t.Step($"write {length} bytes to {obj.Name}+{offset} -> {Describe(e)}", $"mem.Write({obj.Name} + {offset}, Bytes({arg}, {length}));");
        _s.That("KMAL-7", e is null, () => $"writing into live {obj.Name} at +{offset}: {Describe(e)}");
        Record(obj, offset, data);
    }

    /// <summary>Records bytes written into a live object: into its shadow, and beyond it into the list of writes.</summary>
    private static void Record(HeapObject obj, long offset, byte[] data)
    {
        int inShadow = (int)Math.Clamp(obj.Shadowed - offset, 0, data.Length);
        if (inShadow > 0) data.AsSpan(0, inShadow).CopyTo(obj.Shadow.AsSpan((int)offset));
        if (inShadow == data.Length) return;
        obj.Writes.Add((offset + inShadow, data[inShadow..]));
        if (obj.Writes.Count > 24) obj.Writes.RemoveRange(0, 8); // older bytes may be overwritten by newer ones: keep the latest
    }

    /// <summary>
    /// Fills the shadowed bytes of a live object from <paramref name="from"/> on, as a caller using its
    /// memory would: from then on every one of them must read back (KMAL-7), and the object goes back
    /// to the allocator holding them.
    /// </summary>
    private void Fill(HeapObject obj, int from)
    {
        int length = (int)Math.Min(obj.Requested, HeapModel.ShadowCap);
        if (obj.Shadowed != length)
        {
            var resized = new byte[length];
            obj.Shadow.AsSpan(0, Math.Min(obj.Shadowed, length)).CopyTo(resized);
            obj.Shadow = resized;
        }
        if (length <= from) return;
        int seed = _m.NextFillSeed();
        var data = new byte[length - from];
        new Random(seed).NextBytes(data);
        var e = Try(() => _memory.Write(obj.Addr + (ulong)from, data));
        if (_t.Enabled) _t.Step($"fill {obj.Name}+{from}..{length} ({data.Length} bytes) -> {Describe(e)}", $"mem.Write({obj.Name} + {from}, Bytes({seed}, {data.Length}));");
        _s.That("KMAL-7", e is null, () => $"filling live {obj.Name} [+{from}, +{length}): {Describe(e)}");
        data.CopyTo(obj.Shadow, from);
    }

    /// <summary>Every byte written into a live object still reads back (later writes win); <paramref name="upTo"/> limits the shadowed bytes checked.</summary>
    private void VerifyContents(HeapObject obj, string rule, int upTo = int.MaxValue)
    {
        int shadowed = Math.Min(obj.Shadowed, upTo);
        if (shadowed > 0)
        {
            var bytes = new byte[shadowed];
            var re = Try(() => _memory.Read(obj.Addr, bytes));
            _s.That(rule, re is null, () => $"reading live {obj.Name}: {Describe(re)}");
            int diff = bytes.AsSpan().CommonPrefixLength(obj.Shadow.AsSpan(0, shadowed));
            if (diff < shadowed)
            {
                byte got = bytes[diff], wrote = obj.Shadow[diff];
                _s.Fail(rule, $"live {obj.Name} (0x{obj.Addr:x}, {obj.Requested} bytes) lost a written byte at +{diff}: wrote 0x{wrote:x2}, read 0x{got:x2}");
            }
        }
        if (obj.Writes.Count == 0) return;
        var expected = new Dictionary<long, byte>();
        foreach (var (off, data) in obj.Writes)
            for (int i = 0; i < data.Length; i++) expected[off + i] = data[i];
        long lo = expected.Keys.Min(), hi = expected.Keys.Max();
        var actual = new byte[hi - lo + 1];
        var e = Try(() => _memory.Read(obj.Addr + (ulong)lo, actual));
        _s.That(rule, e is null, () => $"reading live {obj.Name}: {Describe(e)}");
        foreach (var (off, value) in expected)
            if (actual[off - lo] != value)
            {
                byte got = actual[off - lo];
                _s.Fail(rule, $"live {obj.Name} (0x{obj.Addr:x}, {obj.Requested} bytes) lost a written byte at +{off}: wrote 0x{value:x2}, read 0x{got:x2}");
            }
    }

    // ---- Slab caches ---------------------------------------------------------------------------

    private long ExpectedAlign(CacheModel cache)
    {
        long align = _p.WordSize;
        if (cache.Has(SlabFlags.HwcacheAlign))
        {
            long line = _p.CacheLine;
            while (cache.Size <= line / 2) line /= 2;
            align = Math.Max(align, line);
        }
        return Math.Max(align, cache.Align);
    }

    private void CreateCache(long size, int align, SlabFlags flags, byte? ctor)
    {
        if (_slab is null) return;
        _s.Operations++;
        string name = _m.NextName("cache");
        string call = _t.Enabled ? $"kmem_cache_create(\"{name}\", {size}, {align}, {flags}, ctor {(ctor is { } c ? $"0x{c:x2}" : "NULL")})" : "kmem_cache_create";
        long before = TotalFree();
        SlabCacheHandle handle = default;
        var e = Try(() => handle = _slab.KmemCacheCreate(name, size, align, flags, ctor));
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(e is null ? handle.ToString() : Describe(e))}",
            $"var {name} = slab.KmemCacheCreate(\"{name}\", {size}, {align}, {CSharpSlabFlags(flags)}, {(ctor is { } b ? $"(byte)0x{b:x2}" : "null")});");
        if (_context.InAtomic) { ExpectSleepReport(call, e, before); return; }

        // The suite's own list of the flags a profile has: five everywhere, SLAB_NO_REAP only on linux-2.4.
        const uint everywhere = 0b1_1111, noReap = 0b10_0000;
        uint unknownBits = (uint)flags & ~(everywhere | (_p.HasSlabNoReap ? noReap : 0));
        bool noReapMissing = (unknownBits & noReap) != 0, otherUnknown = (unknownBits & ~noReap) != 0;
        bool tooBig = size > _p.SlabObjectMax || size <= 0;
        if (unknownBits != 0 || tooBig)
        {
            // SLAB-13 owns the profile-only flag; any other unknown bit, like a bad size, is SLAB-1's.
            string rule = tooBig || otherUnknown ? "SLAB-1" : "SLAB-13";
            string why = tooBig ? $"size outside 1..{_p.SlabObjectMax}"
                : otherUnknown ? $"slab flags 0x{unknownBits & ~noReap:x} do not exist"
                : $"SLAB_NO_REAP does not exist on {_p.Name}";
            _s.That(rule, e is not null || handle.IsNull, () => $"{call} must fail ({why}), got {handle}");
            if ((flags & SlabFlags.Panic) != 0)
                _s.That("SLAB-10", e is KernelPanicException, () => $"{call} cannot succeed ({why}) and has SLAB_PANIC: it must panic, got {(e is null ? handle.ToString() : Describe(e))}");
            else
                _s.That(rule, e is null, () => $"{call} must return NULL ({why}), got {Describe(e)}");
            return;
        }
        bool mustFit = size <= _p.SlabObjectMax / 4;
        // A cache that must be made and is refused anyway: with SLAB_NO_REAP on the profile that has it,
        // the flag is the only thing that can have been refused (SLAB-13), otherwise the size (SLAB-1).
        string refusedRule = (flags & SlabFlags.NoReap) != 0 ? "SLAB-13" : "SLAB-1";
        if (e is KernelPanicException && !mustFit) return; // a legal size that did not fit: SLAB_PANIC may panic
        _s.That(mustFit ? refusedRule : "SLAB-10", e is null, () => $"{call} raised {Describe(e)}");
        if (handle.IsNull)
        {
            _s.That(refusedRule, !mustFit,
                () => $"{call} returned NULL for a {size}-byte object, well within the {_p.SlabObjectMax}-byte limit{((flags & SlabFlags.NoReap) != 0 ? $", with SLAB_NO_REAP, which {_p.Name} has" : "")}");
            return;
        }
        var cache = new CacheModel { Name = name, Handle = handle, Size = size, Align = align, Flags = flags, Ctor = ctor };
        var info = Info(name);
        _s.That("SLAB-12", info is { ActiveObjects: 0 } && info.ObjectSize >= size,
            () => $"after {call}, /proc/slabinfo shows {(info is null ? "no line" : $"active {info.ActiveObjects}, objsize {info.ObjectSize}")} for {name}");
        _m.Caches.Add(cache);
    }

    private static string CSharpSlabFlags(SlabFlags flags)
    {
        if (flags == SlabFlags.None) return "SlabFlags.None";
        var parts = new List<string>();
        var rest = flags;
        foreach (var bit in Enum.GetValues<SlabFlags>())
            if (bit != 0 && (rest & bit) == bit) { parts.Add($"SlabFlags.{bit}"); rest &= ~bit; }
        if (rest != 0) parts.Add($"(SlabFlags)0x{(uint)rest:x}");
        return string.Join(" | ", parts);
    }

    private CacheModel? PickCache(int slot)
    {
        var usable = _m.Caches.Where(c => !c.Leaked || _p.DestroyBusyLeaksCache).ToList();
        return usable.Count == 0 ? null : usable[slot % usable.Count];
    }

    private void AllocateFromCache(int slot, GfpFlags gfp)
    {
        if (_slab is null || PickCache(slot) is not { } cache) return;
        // The zone comes from the cache (SLAB_CACHE_DMA); __GFP_ZERO would hide the constructor's and the poison's bytes.
        gfp &= ~(GfpFlags.Dma | GfpFlags.Zero);
        _s.Operations++;
        string name = _m.NextName("o");
        string call = _t.Enabled ? $"kmem_cache_alloc({cache.Name}, {Gfp.Describe(gfp)})" : "kmem_cache_alloc";
        long before = TotalFree();
        var infoBefore = Info(cache.Name);
        ulong addr = 0;
        var e = Try(() => addr = _slab.KmemCacheAlloc(cache.Handle, gfp));
        if (_t.Enabled) _t.Step($"{name} = {call} -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var {name} = slab.KmemCacheAlloc({cache.Name}, {Pages.CSharp.Flags(gfp)});");
        if (RefusedUnknownGfp(call, gfp, e, addr, before)) return;
        if (SleepsInAtomic(gfp)) { ExpectSleepReport(call, e, before); return; }
        if (e is not null) { _s.Fail("SLAB-2", $"{call} raised {Describe(e)}"); return; }
        if (addr == 0) return;

        CheckPlacement("SLAB-2", call, addr, cache.Size, GfpFlags.None);
        var other = _m.Overlapping(addr, addr + (ulong)cache.Size);
        _s.That("SLAB-2", other is null, () => $"{call}: [0x{addr:x}, +{cache.Size}) overlaps live {other!.Name} [0x{other.Addr:x}, +{other.Usable})");
        long align = ExpectedAlign(cache);
        _s.That("SLAB-7", addr % (ulong)align == 0,
            () => $"{call}: object 0x{addr:x} is not aligned to {align} bytes ({cache.Size}-byte objects, align {cache.Align}, {(cache.Has(SlabFlags.HwcacheAlign) ? $"SLAB_HWCACHE_ALIGN on a {_p.CacheLine}-byte line" : "no SLAB_HWCACHE_ALIGN")})");
        if (cache.Has(SlabFlags.CacheDma))
        {
            ulong end = _pages.VirtToPhys(addr) + (ulong)cache.Size;
            _s.That("SLAB-11", end <= _p.DmaLimit, () => $"{call}: a SLAB_CACHE_DMA object ends at PA 0x{end:x}, above MAX_DMA_ADDRESS 0x{_p.DmaLimit:x}");
        }
        var infoAfter = Info(cache.Name);
        CheckConstructor(cache, call, addr, infoBefore, infoAfter);
        if (cache.Has(SlabFlags.Poison) && cache.Ctor is null) CheckPoison(cache, call, addr);
        _s.That("SLAB-12", infoAfter is not null && infoBefore is not null && infoAfter.ActiveObjects == infoBefore.ActiveObjects + 1
                           && infoAfter.TotalObjects >= infoAfter.ActiveObjects && infoAfter.TotalObjects == infoAfter.Slabs * infoAfter.ObjectsPerSlab
                           && infoAfter.ObjectSize >= cache.Size && infoAfter.LaidOutSize >= infoAfter.ObjectSize,
            () => $"{call}: /proc/slabinfo for {cache.Name} went from {Line(infoBefore)} to {Line(infoAfter)}");
        cache.Seen.Add(addr);
        cache.Live++;
        var obj = new HeapObject { Name = name, Addr = addr, Requested = cache.Size, Usable = cache.Size, Cache = cache };
        _m.Live.Add(obj);
        Fill(obj, 0);
    }

    private static string Line(SlabInfo? i) => i is null ? "(missing)"
        : $"[active {i.ActiveObjects}, total {i.TotalObjects}, objsize {i.ObjectSize}, laid out {i.LaidOutSize}, {i.ObjectsPerSlab}/slab, {i.PagesPerSlab} pages/slab, {i.Slabs} slabs, ctor {i.ConstructorCalls}]";

    /// <summary>SLAB-3: the constructor runs once per object when a slab is made, never at allocation.</summary>
    private void CheckConstructor(CacheModel cache, string call, ulong addr, SlabInfo? before, SlabInfo? after)
    {
        if (before is null || after is null) return;
        long grown = after.TotalObjects - before.TotalObjects, calls = after.ConstructorCalls - before.ConstructorCalls;
        long expectedCalls = cache.Ctor is null ? 0 : Math.Max(0, grown);
        _s.That("SLAB-3", calls == expectedCalls,
            () => $"{call}: the constructor ran {calls} time(s) while the cache grew by {grown} object(s); it must run {expectedCalls} time(s)");
        if (cache.Ctor is not { } fill || cache.Seen.Contains(addr)) return;
        foreach (var (off, len) in Samples(cache.Size))
        {
            var bytes = new byte[len];
            _memory.Read(addr + (ulong)off, bytes);
            int bad = bytes.AsSpan().IndexOfAnyExcept(fill);
            _s.That("SLAB-3", bad < 0, () => $"{call}: never-used object 0x{addr:x} byte {off + bad} is 0x{bytes[bad]:x2}, not the constructor's 0x{fill:x2}");
        }
    }

    /// <summary>SLAB-8: a poisoned cache hands out objects still holding the poison pattern.</summary>
    private void CheckPoison(CacheModel cache, string call, ulong addr)
    {
        foreach (var (off, len) in Samples(cache.Size))
        {
            var bytes = new byte[len];
            _memory.Read(addr + (ulong)off, bytes);
            for (int i = 0; i < len; i++)
            {
                long at = off + i;
                byte want = at == cache.Size - 1 && _p.PoisonEnd is { } end ? end : _p.PoisonFree;
                if (bytes[i] != want)
                {
                    byte got = bytes[i];
                    _s.Fail("SLAB-8", $"{call}: byte {at} of the object at 0x{addr:x} is 0x{got:x2}; a SLAB_POISON cache keeps free objects filled with 0x{_p.PoisonFree:x2}{(_p.PoisonEnd is { } e ? $" ending in 0x{e:x2}" : "")}");
                }
            }
        }
        _s.That("SLAB-8", true, () => "");
    }

    private void FreeToCache(int slot)
    {
        if (_m.Pick(slot, o => o.Cache is not null) is { } obj) Release(obj);
    }

    private void FreeToWrongCache(int slot)
    {
        if (_m.Pick(slot, o => o.Cache is not null) is not { } obj) return;
        var other = _m.Caches.FirstOrDefault(c => c != obj.Cache);
        if (other is null) return;
        ExpectRefused("SLAB-4", $"kmem_cache_free({other.Name}, {obj.Name}) of a {obj.Cache!.Name} object", $"slab.KmemCacheFree({other.Name}, {obj.Name})",
            () => _slab!.KmemCacheFree(other.Handle, obj.Addr), obj.Cache);
    }

    private void FreeToCacheTwice(int slot)
    {
        var freed = _m.Freed.Where(o => o.Cache is { } c && _m.Caches.Contains(c) && _m.Overlapping(o.Addr, o.End) is null).ToList();
        if (freed.Count == 0) return;
        var obj = freed[slot % freed.Count];
        ExpectRefused("SLAB-4", $"second kmem_cache_free({obj.Cache!.Name}, {obj.Name})", $"slab.KmemCacheFree({obj.Cache.Name}, {obj.Name})",
            () => _slab!.KmemCacheFree(obj.Cache.Handle, obj.Addr), obj.Cache);
    }

    private void FreeKmallocToCache(int slot)
    {
        if (_slab is null || _m.Caches.Count == 0 || _m.Pick(slot, o => o.IsKmalloc) is not { } obj) return;
        var cache = _m.Caches[slot % _m.Caches.Count];
        ExpectRefused("SLAB-4", $"kmem_cache_free({cache.Name}, {obj.Name}) of a kmalloc object", $"slab.KmemCacheFree({cache.Name}, {obj.Name})",
            () => _slab.KmemCacheFree(cache.Handle, obj.Addr), cache);
    }

    /// <summary>SLAB-9: a one-byte overrun into the red zone is reported at free, and the object stays allocated.</summary>
    private void OverrunRedZone(int slot)
    {
        static bool RedZoned(HeapObject o) => o.Cache is { } c && c.Has(SlabFlags.RedZone);
        if (_m.Pick(slot, RedZoned) is not { } obj)
        {
            // No live object of a red-zone cache: take one from such a cache first, if there is one.
            int index = _slab is null ? -1 : _m.Caches.Where(c => !c.Leaked || _p.DestroyBusyLeaksCache).ToList().FindIndex(c => c.Has(SlabFlags.RedZone));
            if (index < 0) return;
            AllocateFromCache(index, _context.InAtomic ? Gfp.Atomic : Gfp.Kernel);
            if (_m.Pick(slot, RedZoned) is not { } taken) return;
            obj = taken;
        }
        var cache = obj.Cache!;
        _s.Operations++;
        ulong at = obj.Addr + (ulong)cache.Size;
        var original = new byte[1];
        if (Try(() => _memory.Read(at, original)) is not null) return;
        _memory.Write(at, [(byte)(original[0] ^ 0x5a)]);
        if (_t.Enabled) _t.Step($"write 1 byte just past {obj.Name} (0x{at:x})", $"mem.Write({obj.Name} + {cache.Size}, new byte[] {{ 0x{original[0] ^ 0x5a:x2} }});");
        var before = Info(cache.Name);
        var e = Try(() => _slab!.KmemCacheFree(cache.Handle, obj.Addr));
        if (_t.Enabled) _t.Step($"kmem_cache_free({cache.Name}, {obj.Name}) -> {Describe(e)}", $"Assert.Throws<KernelBugException>(() => slab.KmemCacheFree({cache.Name}, {obj.Name}));");
        var after = Info(cache.Name);
        _memory.Write(at, original); // repair the red zone so the object can be freed later
        _s.That("SLAB-9", e is KernelBugException { RuleId: "SLAB-9" } && after?.ActiveObjects == before?.ActiveObjects,
            () => $"kmem_cache_free({cache.Name}, {obj.Name}) after a 1-byte overrun must be reported as SLAB-9 and keep the object allocated; got {Describe(e)}, active {before?.ActiveObjects} -> {after?.ActiveObjects}");
    }

    private void ShrinkCache(int slot)
    {
        if (_slab is null || PickCache(slot) is not { } cache) return;
        _s.Operations++;
        var before = Info(cache.Name);
        long freeBefore = TotalFree();
        long released = 0;
        var e = Try(() => released = _slab.KmemCacheShrink(cache.Handle));
        if (_t.Enabled) _t.Step($"kmem_cache_shrink({cache.Name}) -> {(e is null ? released.ToString() : Describe(e))}", $"slab.KmemCacheShrink({cache.Name});");
        var after = Info(cache.Name);
        long gained = TotalFree() - freeBefore;
        _s.That("SLAB-5", e is null && released >= 0 && gained == released && after is not null && after.ActiveObjects == before?.ActiveObjects,
            () => $"kmem_cache_shrink({cache.Name}) said {released} pages were released, the free count rose by {gained}; active {before?.ActiveObjects} -> {after?.ActiveObjects} ({Describe(e)})");
        if (after is { ActiveObjects: 0 })
            _s.That("SLAB-5", after.Slabs == 0 && after.TotalObjects == 0, () => $"kmem_cache_shrink({cache.Name}) with no live object left {after.Slabs} slab(s)");
        foreach (var obj in _m.Live.Where(o => o.Cache == cache).Take(4)) VerifyContents(obj, "SLAB-5");
    }

    private void DestroyCache(int slot)
    {
        if (_slab is null || _m.Caches.Where(c => !c.Leaked).ToList() is not { Count: > 0 } caches) return;
        var cache = caches[slot % caches.Count];
        _s.Operations++;
        string call = $"kmem_cache_destroy({cache.Name})";
        var before = Info(cache.Name);
        long freeBefore = TotalFree();
        int result = 0;
        var e = Try(() => result = _slab.KmemCacheDestroy(cache.Handle));
        if (_t.Enabled) _t.Step($"{call} -> {(e is null ? result.ToString() : Describe(e))}", $"slab.KmemCacheDestroy({cache.Name});");
        if (_context.InAtomic) { ExpectSleepReport(call, e, freeBefore); return; }
        var after = Info(cache.Name);
        if (cache.Live > 0)
        {
            _s.That("SLAB-6", e is null && result == -EBUSY && after is not null && after.ActiveObjects == before?.ActiveObjects && TotalFree() == freeBefore,
                () => $"{call} with {cache.Live} live object(s) must return -EBUSY and change nothing; got {(e is null ? result.ToString() : Describe(e))}, slabinfo {Line(after)}");
            foreach (var obj in _m.Live.Where(o => o.Cache == cache).Take(4)) VerifyContents(obj, "SLAB-6");
            if (_p.DestroyBusyLeaksCache) { cache.Leaked = true; _m.AnyLeak = true; }
            return;
        }
        long expectPages = before is null ? 0 : before.Slabs * before.PagesPerSlab;
        long gained = TotalFree() - freeBefore;
        _s.That("SLAB-6", e is null && result == 0 && after is null && gained == expectPages,
            () => $"{call} with no live object must return 0, unlist the cache and give back its {expectPages} page(s); got {(e is null ? result.ToString() : Describe(e))}, listed: {after is not null}, pages back: {gained}");
        _m.Caches.Remove(cache);
    }

    private void ReapCaches()
    {
        if (_slab is null) return;
        _s.Operations++;
        var before = _m.Caches.ToDictionary(c => c, c => Info(c.Name));
        long freeBefore = TotalFree();
        long released = 0;
        var e = Try(() => released = _slab.ReapCaches());
        if (_t.Enabled) _t.Step($"kmem_cache_reap() -> {(e is null ? released.ToString() : Describe(e))}", "slab.ReapCaches();");
        long gained = TotalFree() - freeBefore;
        _s.That("SLAB-13", e is null && released >= 0 && gained == released, () => $"reaping said {released} pages were released, the free count rose by {gained} ({Describe(e)})");
        foreach (var (cache, info) in before)
        {
            var after = Info(cache.Name);
            _s.That("SLAB-13", after?.ActiveObjects == info?.ActiveObjects, () => $"reaping changed {cache.Name}'s live objects: {Line(info)} -> {Line(after)}");
            if (cache.Has(SlabFlags.NoReap))
                _s.That("SLAB-13", after?.TotalObjects == info?.TotalObjects, () => $"reaping took slabs from SLAB_NO_REAP cache {cache.Name}: {Line(info)} -> {Line(after)}");
        }
        foreach (var obj in _m.Live.Where(o => o.Cache is not null).Take(8)) VerifyContents(obj, "SLAB-13");
    }

    // ---- Page traffic and teardown -------------------------------------------------------------

    private void AllocatePages(GfpFlags gfp, int order)
    {
        if (SleepsInAtomic(gfp) || !GfpSemantics.Exists(_p, gfp)) return; // the page family checks those cases
        _s.Operations++;
        string name = _m.NextName("pg");
        ulong addr = 0;
        var e = Try(() => addr = _pages.GetFreePages(gfp, order));
        if (_t.Enabled) _t.Step($"{name} = __get_free_pages({Gfp.Describe(gfp)}, {order}) -> {(e is null ? $"0x{addr:x}" : Describe(e))}", $"var {name} = pages.GetFreePages({Pages.CSharp.Flags(gfp)}, {order});");
        _s.That("PAGE-1", e is null, () => $"__get_free_pages raised {Describe(e)}");
        if (addr == 0) return;
        long length = (long)_p.PageSize << order;
        var other = _m.Overlapping(addr, addr + (ulong)length);
        _s.That("KMAL-7", other is null, () => $"__get_free_pages returned [0x{addr:x}, +{length}), overlapping live {other!.Name} [0x{other.Addr:x}, +{other.Usable})");
        var block = new HeapObject { Name = name, Addr = addr, Requested = length, Usable = length, PageOrder = order };
        _m.Live.Add(block);
        Fill(block, 0);
    }

    /// <summary>Everything freed, caches destroyed and drained: the free counts are back at boot (ADDR-11).</summary>
    private void FreeEverything()
    {
        foreach (var obj in _m.Live.ToArray()) Release(obj);
        if (_slab is not null)
            foreach (var cache in _m.Caches.Where(c => !c.Leaked).ToArray())
            {
                if (_context.InAtomic) break;
                DestroyCache(_m.Caches.Where(c => !c.Leaked).ToList().IndexOf(cache));
            }
        _s.Operations++;
        _pages.DrainCaches();
        if (_t.Enabled) _t.Step("drain caches", "pages.DrainCaches();");
        if (_m.AnyLeak || _m.Caches.Count > 0) return; // a leaked or surviving cache keeps its slabs
        foreach (var zone in Zones.All)
        {
            long free = ZoneFree(zone);
            _s.That("ADDR-11", free == _m.BootFree[(int)zone],
                () => $"with every object freed, every cache destroyed and caches drained, zone {zone.KernelName()} has {free} free pages; it had {_m.BootFree[(int)zone]} at boot");
        }
    }
}
