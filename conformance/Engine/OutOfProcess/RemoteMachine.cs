using System.Text.Json;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// One booted instance of an out-of-process implementation: every contract call becomes one
/// request of docs/protocol.md. Pure observations (buddyinfo, page cache, sleeps, context) are
/// served from one bulk snapshot per state change: a "snapshot" request pipelined behind every
/// state-changing call when the program offers it, else one pipelined burst of single queries.
/// A machine whose boot failed answers every call with that boot fault.
/// </summary>
internal sealed class RemoteMachine : IMemoryManager, IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim, IQueryPrefetch
{
    private readonly ProcessFactory _factory;
    private ImplementationProcess? _p;
    private readonly ImplementationFaultException? _bootFault;
    private readonly TimeSpan _timeout;
    private readonly bool _bulk, _snapshot, _crossCheck, _ctx, _reclaim;
    private readonly int _orders;

    // Cached observations, valid until the next state-changing call.
    private readonly long[] _free;
    private readonly long[] _reclaimable = new long[Zones.Count];
    private long _sleeps;
    private bool _inInterrupt, _inAtomic;
    private bool _valid;
    private bool _firstSnapshot = true;
    private long _pendingSnapshot;

    /// <summary>Answers of announced pure queries (<see cref="Prefetch"/>), dropped at the next state change.</summary>
    private readonly Dictionary<PureQuery, Prefetched> _prefetched = new();

    private sealed class Prefetched
    {
        public ulong Value;
        public Zone Zone;
        public byte[]? Bytes;
        public KernelApiException? Error;
    }

    public RemoteMachine(ProcessFactory factory, ImplementationProcess? process, Profile profile, IReadOnlySet<Capability> capabilities,
        bool offersSnapshot, ProcessFactoryOptions options, ImplementationFaultException? bootFault = null)
    {
        _factory = factory;
        _p = process;
        _bootFault = bootFault;
        Profile = profile;
        Capabilities = capabilities;
        _timeout = options.OperationTimeout;
        _bulk = options.UseBulkQueries;
        _snapshot = _bulk && options.UseSnapshotFeature && offersSnapshot;
        _crossCheck = options.CrossCheckSnapshot;
        _ctx = capabilities.Contains(Capability.ExecutionContext);
        _reclaim = capabilities.Contains(Capability.Reclaim);
        _orders = profile.MaxOrder + 1;
        _free = new long[Zones.Count * _orders];
    }

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities { get; }

    public void Dispose()
    {
        var p = _p;
        _p = null;
        if (p is not null) _factory.Return(p);
    }

    // ---- Plumbing ------------------------------------------------------------------------

    private ImplementationProcess Proc
    {
        get
        {
            if (_p is { Fault: null } p) return p;
            if (_p?.Fault is { } fault) throw fault;
            if (_bootFault is not null) throw _bootFault;
            throw new ObjectDisposedException(nameof(RemoteMachine), "the booted instance was disposed");
        }
    }

    /// <summary>Starts a request; add fields to <see cref="ImplementationProcess.Writer"/>, then call <see cref="Go"/>.</summary>
    private ImplementationProcess Start(ReadOnlySpan<byte> op, out long id)
    {
        var p = Proc;
        id = p.Begin(op);
        return p;
    }

    /// <summary>Sends the request (and, after a state change, a snapshot behind it); returns its answer.</summary>
    private Response Go(ImplementationProcess p, long id, bool changesState)
    {
        p.End();
        if (changesState)
        {
            _valid = false;
            if (_prefetched.Count > 0) _prefetched.Clear();
            if (_snapshot && !_firstSnapshot)
            {
                _pendingSnapshot = p.Begin("snapshot"u8);
                p.End();
            }
        }
        p.Send(_timeout);
        return p.Receive(id);
    }

    /// <summary>Reads the snapshot sent behind the call, then raises the call's reported error, if any.</summary>
    private void Finish(ImplementationProcess p, Response r, string call)
    {
        var error = r.Ok ? null : ErrorOf(p, r, call);
        if (_pendingSnapshot != 0)
        {
            long sid = _pendingSnapshot;
            _pendingSnapshot = 0;
            ReadSnapshot(p, p.Receive(sid));
        }
        if (error is not null) throw error;
    }

    private static KernelApiException ErrorOf(ImplementationProcess p, Response r, string call)
    {
        string message = r.ErrorMessage ?? $"{call} failed";
        switch (r.ErrorKind)
        {
            case "bug":
                if (string.IsNullOrEmpty(r.ErrorRule)) throw p.Violation($"{call}: an error of kind \"bug\" must name the rule (\"rule\":\"PAGE-4\")");
                return new KernelBugException(r.ErrorRule, message);
            case "invalid":
                return new InvalidArgumentException(r.ErrorParameter ?? "?", message);
            case "fault":
                if (!Response.TryParseU64(r.ErrorAddress, out ulong addr)) throw p.Violation($"{call}: an error of kind \"fault\" must give the \"address\"");
                return new KernelPageFaultException(addr, message);
            case "panic":
                return new KernelPanicException(message);
            case "unsupported":
                throw p.Violation($"the program does not support {call} ({message}), although it declared the capability that needs it");
            default:
                throw p.Violation($"{call}: unknown error kind \"{r.ErrorKind}\" (expected bug, invalid, fault or panic)");
        }
    }

    private static ulong U64(ImplementationProcess p, Response r, string call, string what = "an address")
    {
        if (!r.TryU64(out ulong v)) throw p.Violation($"the answer to {call} must be {what} (a \"0x...\" string), got {Value(r)}");
        return v;
    }

    private static long I64(ImplementationProcess p, Response r, string call)
    {
        if (!r.TryI64(out long v)) throw p.Violation($"the answer to {call} must be an integer, got {Value(r)}");
        return v;
    }

    private static bool Bool(ImplementationProcess p, Response r, string call)
    {
        if (!r.TryBool(out bool v)) throw p.Violation($"the answer to {call} must be true or false, got {Value(r)}");
        return v;
    }

    private static string Value(Response r) => r.HasValue ? Response.Clip(System.Text.Encoding.UTF8.GetString(r.Value), 80) : "no value";

    // ---- Snapshot ----------------------------------------------------------------------------

    private void EnsureSnapshot()
    {
        if (_valid) return;
        var p = Proc;
        if (_snapshot)
        {
            long sid = p.Begin("snapshot"u8);
            p.End();
            long burst = _firstSnapshot && _crossCheck ? QueueBurst(p) : 0;
            p.Send(_timeout);
            ReadSnapshot(p, p.Receive(sid));
            if (burst != 0) CrossCheck(p, burst);
        }
        else
        {
            long first = QueueBurst(p);
            p.Send(_timeout);
            ReadBurst(p, first, _free, _reclaimable, out _sleeps, out _inInterrupt, out _inAtomic);
            _valid = true;
        }
        _firstSnapshot = false;
    }

    /// <summary>Queues every single observation query; returns the first id (the rest follow in order).</summary>
    private long QueueBurst(ImplementationProcess p)
    {
        long first = 0;
        for (int z = 0; z < Zones.Count; z++)
            for (int o = 0; o < _orders; o++)
            {
                long id = p.Begin("freeBlocks"u8);
                if (first == 0) first = id;
                p.Writer.Ascii("zone"u8, RequestWriter.ZoneName((Zone)z));
                p.Writer.Number("order"u8, o);
                p.End();
            }
        if (_reclaim)
            for (int z = 0; z < Zones.Count; z++)
            {
                p.Begin("reclaimablePages"u8);
                p.Writer.Ascii("zone"u8, RequestWriter.ZoneName((Zone)z));
                p.End();
            }
        if (_ctx)
        {
            p.Begin("sleeps"u8); p.End();
            p.Begin("inInterrupt"u8); p.End();
            p.Begin("inAtomic"u8); p.End();
        }
        return first;
    }

    private void ReadBurst(ImplementationProcess p, long first, long[] free, long[] reclaimable, out long sleeps, out bool inIrq, out bool inAtomic)
    {
        long id = first;
        for (int z = 0; z < Zones.Count; z++)
            for (int o = 0; o < _orders; o++)
            {
                string call = $"freeBlocks({((Zone)z).KernelName()}, {o})";
                var r = p.Receive(id++);
                if (!r.Ok) throw ErrorOf(p, r, call);
                free[z * _orders + o] = I64(p, r, call);
            }
        if (_reclaim)
            for (int z = 0; z < Zones.Count; z++)
            {
                var r = p.Receive(id++);
                if (!r.Ok) throw ErrorOf(p, r, "reclaimablePages");
                reclaimable[z] = I64(p, r, "reclaimablePages");
            }
        sleeps = 0;
        inIrq = inAtomic = false;
        if (_ctx)
        {
            var r = p.Receive(id++);
            if (!r.Ok) throw ErrorOf(p, r, "sleeps");
            sleeps = I64(p, r, "sleeps");
            r = p.Receive(id++);
            if (!r.Ok) throw ErrorOf(p, r, "inInterrupt");
            inIrq = Bool(p, r, "inInterrupt");
            r = p.Receive(id++);
            if (!r.Ok) throw ErrorOf(p, r, "inAtomic");
            inAtomic = Bool(p, r, "inAtomic");
        }
    }

    private void CrossCheck(ImplementationProcess p, long first)
    {
        var free = new long[_free.Length];
        var reclaimable = new long[Zones.Count];
        ReadBurst(p, first, free, reclaimable, out long sleeps, out bool inIrq, out bool inAtomic);
        for (int i = 0; i < free.Length; i++)
            if (free[i] != _free[i])
                throw p.Violation($"\"snapshot\" disagrees with the single queries: snapshot free[{((Zone)(i / _orders)).KernelName()}][{i % _orders}] = {_free[i]}, " +
                                  $"freeBlocks({((Zone)(i / _orders)).KernelName()}, {i % _orders}) = {free[i]}");
        for (int z = 0; z < Zones.Count; z++)
            if (_reclaim && reclaimable[z] != _reclaimable[z])
                throw p.Violation($"\"snapshot\" disagrees with reclaimablePages({((Zone)z).KernelName()}): {_reclaimable[z]} vs {reclaimable[z]}");
        if (_ctx && (sleeps != _sleeps || inIrq != _inInterrupt || inAtomic != _inAtomic))
            throw p.Violation($"\"snapshot\" disagrees with sleeps/inInterrupt/inAtomic: ({_sleeps}, {_inInterrupt}, {_inAtomic}) vs ({sleeps}, {inIrq}, {inAtomic})");
    }

    /// <summary>
    /// Parses {"free":[[..],[..],[..]],"reclaimable":[..],"sleeps":n,"inInterrupt":b,"inAtomic":b}
    /// into the cache.
    /// </summary>
    private void ReadSnapshot(ImplementationProcess p, Response r)
    {
        if (!r.Ok) throw p.Violation($"\"snapshot\" was refused ({r.ErrorKind}: {r.ErrorMessage}); a program that offers it must always answer it");
        if (r.ValueType != JsonTokenType.StartObject) throw p.Violation($"the answer to \"snapshot\" must be an object, got {Value(r)}");
        bool sawFree = false, sawReclaim = false, sawSleeps = false, sawIrq = false, sawAtomic = false;
        string? problem = null;
        try
        {
            var reader = new Utf8JsonReader(r.Value);
            reader.Read();
            while (problem is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("free"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { problem = "\"free\" is not an array"; break; }
                    for (int z = 0; z < Zones.Count && problem is null; z++)
                    {
                        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) { problem = $"\"free\" must hold {Zones.Count} arrays (DMA, Normal, HighMem)"; break; }
                        for (int o = 0; o < _orders; o++)
                        {
                            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _free[z * _orders + o]))
                            { problem = $"\"free\"[{z}] must hold {_orders} integers (orders 0..{_orders - 1})"; break; }
                        }
                        if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"free\"[{z}] must hold exactly {_orders} integers (orders 0..{_orders - 1})";
                    }
                    if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"free\" must hold exactly {Zones.Count} arrays";
                    sawFree = true;
                }
                else if (reader.ValueTextEquals("reclaimable"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { problem = "\"reclaimable\" is not an array"; break; }
                    for (int z = 0; z < Zones.Count; z++)
                        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _reclaimable[z]))
                        { problem = $"\"reclaimable\" must hold {Zones.Count} integers"; break; }
                    if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"reclaimable\" must hold exactly {Zones.Count} integers";
                    sawReclaim = true;
                }
                else if (reader.ValueTextEquals("sleeps"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out _sleeps)) problem = "\"sleeps\" is not an integer";
                    sawSleeps = true;
                }
                else if (reader.ValueTextEquals("inInterrupt"u8) || reader.ValueTextEquals("inAtomic"u8))
                {
                    bool irq = reader.ValueTextEquals("inInterrupt"u8);
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False)) { problem = "\"inInterrupt\" and \"inAtomic\" must be true or false"; break; }
                    if (irq) { _inInterrupt = reader.TokenType == JsonTokenType.True; sawIrq = true; }
                    else { _inAtomic = reader.TokenType == JsonTokenType.True; sawAtomic = true; }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            problem = e.Message;
        }
        problem ??= !sawFree ? "no \"free\""
            : _reclaim && !sawReclaim ? "no \"reclaimable\" (the program declares Reclaim)"
            : _ctx && !(sawSleeps && sawIrq && sawAtomic) ? "no \"sleeps\", \"inInterrupt\" or \"inAtomic\" (the program declares ExecutionContext)"
            : null;
        if (problem is not null) throw p.Violation($"malformed \"snapshot\" answer: {problem}; the line was: {r.Text()}");
        if (!_reclaim) Array.Clear(_reclaimable);
        _valid = true;
    }

    // ---- Prefetch ----------------------------------------------------------------------------

    public void Prefetch(ReadOnlySpan<PureQuery> queries)
    {
        var p = Proc;
        var asked = new List<(PureQuery Query, long Id)>(queries.Length);
        foreach (var q in queries)
        {
            if (_prefetched.ContainsKey(q) || asked.Exists(a => a.Query == q)) continue;
            long id;
            switch (q.Kind)
            {
                case PureQueryKind.VirtToPhys: id = p.Begin("virtToPhys"u8); p.Writer.Hex("addr"u8, q.Argument); break;
                case PureQueryKind.PfnToPage: id = p.Begin("pfnToPage"u8); p.Writer.Hex("pfn"u8, q.Argument); break;
                case PureQueryKind.PageToPfn: id = p.Begin("pageToPfn"u8); p.Writer.Hex("page"u8, q.Argument); break;
                case PureQueryKind.PageAddress: id = p.Begin("pageAddress"u8); p.Writer.Hex("page"u8, q.Argument); break;
                case PureQueryKind.PageZone: id = p.Begin("pageZone"u8); p.Writer.Hex("page"u8, q.Argument); break;
                case PureQueryKind.Read: id = p.Begin("read"u8); p.Writer.Hex("addr"u8, q.Argument); p.Writer.Number("len"u8, q.Length); break;
                default: continue;
            }
            p.End();
            asked.Add((q, id));
        }
        if (asked.Count == 0) return;
        p.Send(_timeout);
        foreach (var (q, id) in asked)
        {
            var r = p.Receive(id);
            string call = q.Kind switch
            {
                PureQueryKind.VirtToPhys => "virtToPhys", PureQueryKind.PfnToPage => "pfnToPage", PureQueryKind.PageToPfn => "pageToPfn",
                PureQueryKind.PageAddress => "pageAddress", PureQueryKind.PageZone => "pageZone", _ => "read",
            };
            var a = new Prefetched();
            if (!r.Ok) a.Error = ErrorOf(p, r, call);
            else if (q.Kind == PureQueryKind.PageZone)
            {
                if (!r.TryZone(out a.Zone)) throw p.Violation($"the answer to pageZone must be \"DMA\", \"Normal\" or \"HighMem\", got {Value(r)}");
            }
            else if (q.Kind == PureQueryKind.Read)
            {
                a.Bytes = new byte[q.Length];
                if (!r.TryHexBytes(a.Bytes))
                    throw p.Violation($"the answer to read must be a hex string of exactly {q.Length} bytes ({q.Length * 2} hex digits), got {Value(r)}");
            }
            else a.Value = U64(p, r, call, q.Kind is PureQueryKind.VirtToPhys ? "a physical address" : q.Kind is PureQueryKind.PfnToPage ? "a page handle" : "an address");
            _prefetched[q] = a;
        }
    }

    /// <summary>The prefetched answer of this query (raising its error); false when there is none.</summary>
    private bool TakePrefetched(PureQuery q, out Prefetched answer)
    {
        if (_prefetched.Count == 0 || !_prefetched.TryGetValue(q, out answer!)) { answer = null!; return false; }
        if (answer.Error is not null) throw answer.Error;
        return true;
    }

    // ---- IPageAllocator --------------------------------------------------------------------

    public ulong GetFreePages(GfpFlags gfp, int order)
    {
        var p = Start("getFreePages"u8, out long id);
        p.Writer.Number("gfp"u8, (uint)gfp);
        p.Writer.Number("order"u8, order);
        var r = Go(p, id, true);
        ulong v = r.Ok ? U64(p, r, "getFreePages") : 0;
        Finish(p, r, "getFreePages");
        return v;
    }

    public ulong GetZeroedPage(GfpFlags gfp)
    {
        var p = Start("getZeroedPage"u8, out long id);
        p.Writer.Number("gfp"u8, (uint)gfp);
        var r = Go(p, id, true);
        ulong v = r.Ok ? U64(p, r, "getZeroedPage") : 0;
        Finish(p, r, "getZeroedPage");
        return v;
    }

    public void FreePages(ulong addr, int order)
    {
        var p = Start("freePages"u8, out long id);
        p.Writer.Hex("addr"u8, addr);
        p.Writer.Number("order"u8, order);
        var r = Go(p, id, true);
        Finish(p, r, "freePages");
    }

    public PageHandle AllocPages(GfpFlags gfp, int order)
    {
        var p = Start("allocPages"u8, out long id);
        p.Writer.Number("gfp"u8, (uint)gfp);
        p.Writer.Number("order"u8, order);
        var r = Go(p, id, true);
        ulong v = r.Ok ? U64(p, r, "allocPages", "a page handle") : 0;
        Finish(p, r, "allocPages");
        return new PageHandle(v);
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        var p = Start("freePagesOf"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        p.Writer.Number("order"u8, order);
        var r = Go(p, id, true);
        Finish(p, r, "freePagesOf");
    }

    public ulong PageToPfn(PageHandle page)
    {
        if (TakePrefetched(PureQuery.PageToPfn(page), out var pre)) return pre.Value;
        var p = Start("pageToPfn"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, false);
        ulong v = r.Ok ? U64(p, r, "pageToPfn", "a pfn") : 0;
        Finish(p, r, "pageToPfn");
        return v;
    }

    public PageHandle PfnToPage(ulong pfn)
    {
        if (TakePrefetched(PureQuery.PfnToPage(pfn), out var pre)) return new PageHandle(pre.Value);
        var p = Start("pfnToPage"u8, out long id);
        p.Writer.Hex("pfn"u8, pfn);
        var r = Go(p, id, false);
        ulong v = r.Ok ? U64(p, r, "pfnToPage", "a page handle") : 0;
        Finish(p, r, "pfnToPage");
        return new PageHandle(v);
    }

    public ulong PageAddress(PageHandle page)
    {
        if (TakePrefetched(PureQuery.PageAddress(page), out var pre)) return pre.Value;
        var p = Start("pageAddress"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, false);
        ulong v = r.Ok ? U64(p, r, "pageAddress") : 0;
        Finish(p, r, "pageAddress");
        return v;
    }

    public Zone PageZone(PageHandle page)
    {
        if (TakePrefetched(PureQuery.PageZone(page), out var pre)) return pre.Zone;
        var p = Start("pageZone"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, false);
        Zone zone = default;
        if (r.Ok && !r.TryZone(out zone)) throw p.Violation($"the answer to pageZone must be \"DMA\", \"Normal\" or \"HighMem\", got {Value(r)}");
        Finish(p, r, "pageZone");
        return zone;
    }

    public ulong VirtToPhys(ulong addr)
    {
        if (TakePrefetched(PureQuery.VirtToPhys(addr), out var pre)) return pre.Value;
        var p = Start("virtToPhys"u8, out long id);
        p.Writer.Hex("addr"u8, addr);
        var r = Go(p, id, false);
        ulong v = r.Ok ? U64(p, r, "virtToPhys", "a physical address") : 0;
        Finish(p, r, "virtToPhys");
        return v;
    }

    public long FreeBlocks(Zone zone, int order)
    {
        if (_bulk && (uint)order < (uint)_orders && (uint)zone < Zones.Count)
        {
            EnsureSnapshot();
            return _free[(int)zone * _orders + order];
        }
        var p = Start("freeBlocks"u8, out long id);
        p.Writer.Ascii("zone"u8, RequestWriter.ZoneName(zone));
        p.Writer.Number("order"u8, order);
        var r = Go(p, id, false);
        long v = r.Ok ? I64(p, r, "freeBlocks") : 0;
        Finish(p, r, "freeBlocks");
        return v;
    }

    public void DrainCaches()
    {
        var p = Start("drainCaches"u8, out long id);
        var r = Go(p, id, true);
        Finish(p, r, "drainCaches");
    }

    // ---- IKernelMemory ----------------------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination)
    {
        if (TakePrefetched(PureQuery.Read(addr, destination.Length), out var pre)) { pre.Bytes!.CopyTo(destination); return; }
        var p = Start("read"u8, out long id);
        p.Writer.Hex("addr"u8, addr);
        p.Writer.Number("len"u8, destination.Length);
        var r = Go(p, id, false);
        if (r.Ok && !r.TryHexBytes(destination))
            throw p.Violation($"the answer to read must be a hex string of exactly {destination.Length} bytes ({destination.Length * 2} hex digits), got {Value(r)}");
        Finish(p, r, "read");
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        var p = Start("write"u8, out long id);
        p.Writer.Hex("addr"u8, addr);
        p.Writer.HexBytes("data"u8, source);
        var r = Go(p, id, true);
        Finish(p, r, "write");
    }

    // ---- IExecutionContext -----------------------------------------------------------------

    private void Simple(ReadOnlySpan<byte> op, string call)
    {
        var p = Start(op, out long id);
        var r = Go(p, id, true);
        Finish(p, r, call);
    }

    public void PreemptDisable() => Simple("preemptDisable"u8, "preemptDisable");
    public void PreemptEnable() => Simple("preemptEnable"u8, "preemptEnable");
    public void IrqEnter() => Simple("irqEnter"u8, "irqEnter");
    public void IrqExit() => Simple("irqExit"u8, "irqExit");

    private bool QueryBool(ReadOnlySpan<byte> op, string call)
    {
        var p = Start(op, out long id);
        var r = Go(p, id, false);
        bool v = r.Ok && Bool(p, r, call);
        Finish(p, r, call);
        return v;
    }

    public bool InInterrupt
    {
        get
        {
            if (_bulk && _ctx) { EnsureSnapshot(); return _inInterrupt; }
            return QueryBool("inInterrupt"u8, "inInterrupt");
        }
    }

    public bool InAtomic
    {
        get
        {
            if (_bulk && _ctx) { EnsureSnapshot(); return _inAtomic; }
            return QueryBool("inAtomic"u8, "inAtomic");
        }
    }

    public long Sleeps
    {
        get
        {
            if (_bulk && _ctx) { EnsureSnapshot(); return _sleeps; }
            var p = Start("sleeps"u8, out long id);
            var r = Go(p, id, false);
            long v = r.Ok ? I64(p, r, "sleeps") : 0;
            Finish(p, r, "sleeps");
            return v;
        }
    }

    // ---- IHighmem ----------------------------------------------------------------------------

    public ulong Kmap(PageHandle page)
    {
        var p = Start("kmap"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, true);
        ulong v = r.Ok ? U64(p, r, "kmap") : 0;
        Finish(p, r, "kmap");
        return v;
    }

    public void Kunmap(PageHandle page)
    {
        var p = Start("kunmap"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, true);
        Finish(p, r, "kunmap");
    }

    public ulong KmapAtomic(PageHandle page)
    {
        var p = Start("kmapAtomic"u8, out long id);
        p.Writer.Hex("page"u8, page.Value);
        var r = Go(p, id, true);
        ulong v = r.Ok ? U64(p, r, "kmapAtomic") : 0;
        Finish(p, r, "kmapAtomic");
        return v;
    }

    public void KunmapAtomic(ulong addr)
    {
        var p = Start("kunmapAtomic"u8, out long id);
        p.Writer.Hex("addr"u8, addr);
        var r = Go(p, id, true);
        Finish(p, r, "kunmapAtomic");
    }

    // ---- IReclaim ----------------------------------------------------------------------------

    public int FillPageCache(int pages)
    {
        var p = Start("fillPageCache"u8, out long id);
        p.Writer.Number("pages"u8, pages);
        var r = Go(p, id, true);
        long v = r.Ok ? I64(p, r, "fillPageCache") : 0;
        if (v is < int.MinValue or > int.MaxValue) throw p.Violation($"the answer to fillPageCache is out of range: {v}");
        Finish(p, r, "fillPageCache");
        return (int)v;
    }

    public long ReclaimablePages(Zone zone)
    {
        if (_bulk && _reclaim && (uint)zone < Zones.Count)
        {
            EnsureSnapshot();
            return _reclaimable[(int)zone];
        }
        var p = Start("reclaimablePages"u8, out long id);
        p.Writer.Ascii("zone"u8, RequestWriter.ZoneName(zone));
        var r = Go(p, id, false);
        long v = r.Ok ? I64(p, r, "reclaimablePages") : 0;
        Finish(p, r, "reclaimablePages");
        return v;
    }

    public void DropPageCache() => Simple("dropPageCache"u8, "dropPageCache");
}
