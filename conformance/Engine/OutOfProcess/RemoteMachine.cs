using System.Text.Json;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// One booted instance of an out-of-process implementation: every contract call becomes one request
/// of docs/protocol.md, as its <see cref="WireOperation"/> in <see cref="Operations"/> describes it
/// (the contract members themselves are one line each, in RemoteMachine.Contract.cs).
/// Round trips are what costs (a pipelined request costs a few per cent of one), so:
/// <list type="bullet">
/// <item>buddyinfo, page-cache, sleep and context observations are served from one bulk snapshot per
/// state change: a "snapshot" request pipelined behind every state-changing call when the program
/// offers it, else one pipelined burst of single queries;</item>
/// <item>/proc/slabinfo is asked once per state change, and pipelined behind the next state change
/// when the suite used it since the previous one;</item>
/// <item>every pure query's answer (errors included) is kept until the next state change, and the
/// engine may announce pure queries ahead (<see cref="IQueryPrefetch"/>) to get them in one round trip.</item>
/// </list>
/// A machine whose boot failed answers every call with that boot fault.
/// </summary>
internal sealed partial class RemoteMachine : IMemoryManager, IQueryPrefetch
{
    private readonly ProcessFactory _factory;
    private ImplementationProcess? _p;
    private readonly ImplementationFaultException? _bootFault;
    private readonly TimeSpan _timeout;
    private readonly bool _bulk, _snapshot, _crossCheck, _ctx, _reclaim, _references, _offsets;
    private readonly int _orders;

    // Observations cached until the next state-changing call.
    private readonly long[] _free;
    private readonly long[] _reclaimable = new long[Zones.Count];
    private long _sleeps;
    private bool _inInterrupt, _inAtomic;
    private bool _valid;
    private bool _firstSnapshot = true;
    private long _pendingSnapshot;
    private IReadOnlyList<SlabInfo>? _slabInfo;
    private bool _slabInfoUsed;
    private long _pendingSlabInfo;

    /// <summary>Answers of pure queries (asked or announced), dropped at the next state change.</summary>
    private readonly Dictionary<QueryKey, Answer> _answers = new();

    private readonly record struct QueryKey(WireOperation Operation, long First, long Second);

    private sealed class Answer
    {
        public ulong Value;
        public Zone Zone;
        public Translation Translation;
        public byte[]? Bytes;
        public DriverVma? Vma;
        public KernelApiException? Error;
    }

    /// <summary>Follow-ups sent behind the call in flight: which, their request id, and the index of the one whose answer they refer to (-1: the call's).</summary>
    private readonly List<(FollowUp FollowUp, long Id, int Parent, long Add)> _followUps = new();
    private (bool Ok, ulong Value)[] _followUpValues = new (bool, ulong)[8];

    public RemoteMachine(ProcessFactory factory, ImplementationProcess? process, Profile profile, IReadOnlySet<Capability> capabilities,
        IReadOnlySet<string> features, ProcessFactoryOptions options, ImplementationFaultException? bootFault = null, int lanes = 0)
    {
        _lanes = lanes;
        if (lanes > 0)
        {
            _laneOrder = Enumerable.Range(0, lanes).Select(_ => new Queue<long>()).ToArray();
            _laneMeter = new Parallel.Stress.OverlapMeter(lanes, LaneStamps);
        }
        _factory = factory;
        _p = process;
        _bootFault = bootFault;
        Profile = profile;
        Capabilities = capabilities;
        _timeout = options.OperationTimeout;
        _bulk = options.UseBulkQueries;
        _snapshot = _bulk && options.UseSnapshotFeature && features.Contains("snapshot");
        _references = options.UseReferences && features.Contains("references");
        _offsets = _references && features.Contains("offsets");
        _crossCheck = options.CrossCheckSnapshot;
        _ctx = capabilities.Contains(Capability.ExecutionContext);
        _reclaim = capabilities.Contains(Capability.Reclaim);
        _orders = profile.MaxOrder + 1;
        _free = new long[Zones.Count * _orders];
    }

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities { get; }

    /// <summary>The program behind this instance (null for a failed boot or once disposed).</summary>
    internal ImplementationProcess? Process => _p;

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

    /// <summary>Writes the request for <paramref name="op"/> (not sent yet); returns its id.</summary>
    private static long Queue(ImplementationProcess p, WireOperation op, ReadOnlySpan<WireArg> args)
    {
        var fields = op.Fields;
        if (args.Length != fields.Count) throw new InvalidOperationException($"{op.Name} takes {fields.Count} argument(s), {args.Length} given");
        long id = p.Begin(op.Utf8Name);
        for (int i = 0; i < fields.Count; i++) args[i].WriteTo(p.Writer, fields[i]);
        p.End();
        return id;
    }

    /// <summary>
    /// Sends the request (after a state change with the observations pipelined behind it) and returns
    /// its answer, valid until <see cref="Finish"/>.
    /// </summary>
    private Response Exchange(ImplementationProcess p, WireOperation op, ReadOnlySpan<WireArg> args)
    {
        if (_lanes > 0)
        {
            if (OnLane(out int lane)) return LaneExchange(p, op, args, lane);
            Settle();
        }
        long id = Queue(p, op, args);
        if (op.ChangesState)
        {
            _valid = false;
            _slabInfo = null;
            if (_answers.Count > 0) _answers.Clear();
            if (_snapshot && !_firstSnapshot)
            {
                _pendingSnapshot = p.Begin("snapshot"u8);
                p.End();
            }
            if (_slabInfoUsed && _bulk)
            {
                _slabInfoUsed = false;
                _pendingSlabInfo = Queue(p, Operations.SlabInfo, []);
            }
            if (_references && op.Then.Count > 0) QueueFollowUps(p, op, args, op.Then, id, -1);
        }
        p.Send(_timeout);
        return p.Receive(id);
    }

    /// <summary>
    /// Queues the follow-ups of an answer (and theirs), each referring to the answer it is about;
    /// <paramref name="call"/> and <paramref name="args"/> are the request that started the chain.
    /// </summary>
    private void QueueFollowUps(ImplementationProcess p, WireOperation call, ReadOnlySpan<WireArg> args, IReadOnlyList<FollowUp> followUps, long answerId, int parent)
    {
        foreach (var f in followUps)
        {
            // Only what the program declared: it need not answer the rest.
            if (f.Operation.Capability is { } needed && !Capabilities.Contains(needed)) continue;
            // A query about another page of the block: only when the suite will ask it (order > 0) and the program offers "offsets".
            if (f.Addend(call, args) is not { } add || (add != 0 && !_offsets)) continue;
            long id = p.Begin(f.Operation.Utf8Name);
            p.Writer.Reference(f.Field.Utf8Name, answerId, add);
            p.End();
            _followUps.Add((f, id, parent, add));
            if (f.Then.Length > 0) QueueFollowUps(p, call, args, f.Then, id, _followUps.Count - 1);
        }
    }

    /// <summary>
    /// Reads the answers of the follow-ups [<paramref name="start"/>, <paramref name="end"/>) sent behind a
    /// request whose own answer was <paramref name="value"/> (<paramref name="ok"/> false: failed), and
    /// keeps each as the answer of the same query asked with the value it referred to. Follow-ups of a
    /// failed answer are read and dropped.
    /// </summary>
    private void ReadFollowUps(ImplementationProcess p, bool ok, ulong value, int start, int end)
    {
        if (_followUpValues.Length < _followUps.Count) _followUpValues = new (bool, ulong)[_followUps.Count * 2];
        for (int i = start; i < end; i++)
        {
            var (f, id, parent, add) = _followUps[i];
            var (parentOk, parentValue) = parent < 0 ? (ok, value) : _followUpValues[parent];
            var r = p.Receive(id);
            if (!parentOk) { _followUpValues[i] = (false, 0); continue; }
            var answer = Decode(p, f.Operation, r, 0);
            _answers[new QueryKey(f.Operation, (long)(parentValue + (ulong)add), 0)] = answer;
            _followUpValues[i] = (answer.Error is null, answer.Value);
        }
    }

    /// <summary>Reads what was pipelined behind the call, then raises the call's reported error, if any.</summary>
    private void Finish(ImplementationProcess p, Response r, WireOperation op, ulong value = 0)
    {
        bool ok = r.Ok;
        var error = ok ? null : ErrorOf(p, r, op.Name);
        try
        {
            if (_pendingSnapshot != 0)
            {
                long sid = _pendingSnapshot;
                _pendingSnapshot = 0;
                ReadSnapshot(p, p.Receive(sid));
            }
            if (_pendingSlabInfo != 0) ReadPendingSlabInfo(p);
            if (_followUps.Count > 0) ReadFollowUps(p, ok, value, 0, _followUps.Count);
        }
        catch (ImplementationFaultException) when (p.Fault is not null)
        {
            // The call's own answer arrived whole; what broke is a query pipelined behind it. The call
            // keeps its answer, and the fault (kept by the process) is raised by the next call, the one
            // that asks for what broke: the crashed call is the last step, as without pipelining.
            _pendingSnapshot = 0;
            _pendingSlabInfo = 0;
        }
        finally
        {
            _followUps.Clear();
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

    private static string Value(Response r) => r.HasValue ? Response.Clip(r.ValueText(), 80) : "no value";

    private static string Expected(WireOperation op, long length = 0) => op.Value switch
    {
        WireType.Address => op.Name is "allocPages" or "pfnToPage" ? "a page handle (a \"0x...\" string)"
            : op.Name == "kmemCacheCreate" ? "a cache handle (a \"0x...\" string)" : "an address (a \"0x...\" string)",
        WireType.Integer => "an integer",
        WireType.Boolean => "true or false",
        WireType.Zone => "\"DMA\", \"Normal\" or \"HighMem\"",
        WireType.Bytes => $"a hex string of exactly {length} bytes ({length * 2} hex digits)",
        WireType.SlabInfo => "an array of slabinfo objects",
        WireType.Translation => "a translation (a \"0x...\" physical address, or \"NotPresent\", \"Protection\" or \"UserAccessToKernel\")",
        _ => "null",
    };

    private static ProtocolViolationException BadValue(ImplementationProcess p, WireOperation op, Response r, long length = 0) =>
        p.Violation($"the answer to {op.Name} must be {Expected(op, length)}, got {Value(r)}");

    // ---- Typed calls: one per answer type -------------------------------------------------------

    private static void Check(WireOperation op, WireType type)
    {
        if (op.Value != type) throw new InvalidOperationException($"{op.Name} answers {op.Value}, not {type}");
    }

    private void CallVoid(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.None);
        var p = Proc;
        var r = Exchange(p, op, args);
        Finish(p, r, op);
    }

    private ulong CallAddress(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Address);
        if (!op.ChangesState && Remembered(op, args) is { } known) return known.Value;
        var p = Proc;
        var r = Exchange(p, op, args);
        ulong v = 0;
        if (r.Ok && !r.TryU64(out v)) throw BadValue(p, op, r);
        Remember(p, op, args, r, new Answer { Value = v });
        Finish(p, r, op, v);
        return v;
    }

    private long CallInteger(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Integer);
        if (!op.ChangesState && Remembered(op, args) is { } known) return (long)known.Value;
        var p = Proc;
        var r = Exchange(p, op, args);
        long v = 0;
        if (r.Ok && !r.TryI64(out v)) throw BadValue(p, op, r);
        Remember(p, op, args, r, new Answer { Value = (ulong)v });
        Finish(p, r, op);
        return v;
    }

    private int CallInt32(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        long v = CallInteger(op, args);
        if (v is < int.MinValue or > int.MaxValue) throw Proc.Violation($"the answer to {op.Name} is out of range: {v}");
        return (int)v;
    }

    private bool CallBoolean(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Boolean);
        if (!op.ChangesState && Remembered(op, args) is { } known) return known.Value != 0;
        var p = Proc;
        var r = Exchange(p, op, args);
        bool v = false;
        if (r.Ok && !r.TryBool(out v)) throw BadValue(p, op, r);
        Remember(p, op, args, r, new Answer { Value = v ? 1UL : 0 });
        Finish(p, r, op);
        return v;
    }

    private Zone CallZone(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Zone);
        if (!op.ChangesState && Remembered(op, args) is { } known) return known.Zone;
        var p = Proc;
        var r = Exchange(p, op, args);
        Zone zone = default;
        if (r.Ok && !r.TryZone(out zone)) throw BadValue(p, op, r);
        Remember(p, op, args, r, new Answer { Zone = zone });
        Finish(p, r, op);
        return zone;
    }

    private Translation CallTranslation(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        Check(op, WireType.Translation);
        if (!op.ChangesState && Remembered(op, args) is { } known) return known.Translation;
        var p = Proc;
        var r = Exchange(p, op, args);
        Translation t = default;
        if (r.Ok && !r.TryTranslation(out t)) throw BadValue(p, op, r);
        Remember(p, op, args, r, new Answer { Translation = t });
        Finish(p, r, op);
        return t;
    }

    private void CallBytes(WireOperation op, ReadOnlySpan<WireArg> args, Span<byte> destination)
    {
        Check(op, WireType.Bytes);
        if (Remembered(op, args) is { } known) { known.Bytes!.CopyTo(destination); return; }
        var p = Proc;
        var r = Exchange(p, op, args);
        if (r.Ok && !r.TryHexBytes(destination)) throw BadValue(p, op, r, destination.Length);
        Remember(p, op, args, r, new Answer { Bytes = r.Ok ? destination.ToArray() : null });
        Finish(p, r, op);
    }

    // ---- Pure answers: kept until the next state change --------------------------------------------

    private static QueryKey Key(WireOperation op, ReadOnlySpan<WireArg> args) =>
        new(op, args.Length > 0 ? args[0].Number : 0, args.Length > 1 ? args[1].Number : 0);

    /// <summary>The kept answer of this pure query (raising its error), or null.</summary>
    private Answer? Remembered(WireOperation op, ReadOnlySpan<WireArg> args)
    {
        if (_lanes > 0)
        {
            if (OnLane()) return null; // another lane may change the state at any moment
            Settle();
        }
        if (_answers.Count == 0 || !_answers.TryGetValue(Key(op, args), out var a)) return null;
        if (a.Error is not null) throw a.Error;
        return a;
    }

    private void Remember(ImplementationProcess p, WireOperation op, ReadOnlySpan<WireArg> args, Response r, Answer answer)
    {
        if (!op.Kept || (_lanes > 0 && OnLane())) return;
        if (!r.Ok) answer.Error = ErrorOf(p, r, op.Name);
        _answers[Key(op, args)] = answer;
    }

    /// <summary>The answer of a pure query as kept: its value, or its error. A value of the wrong type is a protocol violation.</summary>
    private static Answer Decode(ImplementationProcess p, WireOperation op, Response r, long length)
    {
        var a = new Answer();
        if (!r.Ok) { a.Error = ErrorOf(p, r, op.Name); return a; }
        switch (op.Value)
        {
            case WireType.Zone: if (!r.TryZone(out a.Zone)) throw BadValue(p, op, r); break;
            case WireType.Translation: if (!r.TryTranslation(out a.Translation)) throw BadValue(p, op, r); break;
            case WireType.Bytes:
                a.Bytes = new byte[length];
                if (!r.TryHexBytes(a.Bytes)) throw BadValue(p, op, r, length);
                break;
            case WireType.Boolean: if (!r.TryBool(out bool b)) throw BadValue(p, op, r); a.Value = b ? 1UL : 0; break;
            case WireType.Vma:
                if (UserAnswerParser.Vma(r.Value, out a.Vma) is { } problem) throw p.Violation($"the answer to {op.Name} must be null or a vma object, got {Value(r)}: {problem}");
                break;
            case WireType.Integer: if (!r.TryI64(out long n)) throw BadValue(p, op, r); a.Value = (ulong)n; break;
            default: if (!r.TryU64(out a.Value)) throw BadValue(p, op, r); break;
        }
        return a;
    }

    public void Prefetch(ReadOnlySpan<PureQuery> queries)
    {
        if (_lanes > 0)
        {
            if (OnLane()) return;
            Settle();
        }
        var p = Proc;
        var asked = _asked;
        asked.Clear();
        foreach (var q in queries)
        {
            var op = q.Operation;
            if (!op.Kept || op.Fields.Count > 2) continue;
            if (op == Operations.SlabInfo)
            {
                if (_slabInfo is null && _pendingSlabInfo == 0) _pendingSlabInfo = Queue(p, op, []);
                continue;
            }
            var key = new QueryKey(op, (long)q.Argument, q.Second);
            if (_answers.ContainsKey(key) || Asked(asked, key)) continue;
            WireArg first = q.Argument, second = q.Second;
            long id = op.Fields.Count switch
            {
                0 => Queue(p, op, []),
                1 => Queue(p, op, [first]),
                _ => Queue(p, op, [first, second]),
            };
            int followStart = _followUps.Count;
            var then = q.Then ?? op.Then;
            if (_references && then.Count > 0) QueueFollowUps(p, op, [first, second], then, id, -1);
            asked.Add((key, id, followStart, _followUps.Count));
        }
        if (asked.Count == 0 && _pendingSlabInfo == 0) return;
        p.Send(_timeout);
        foreach (var (key, id, followStart, followEnd) in asked)
        {
            var a = Decode(p, key.Operation, p.Receive(id), key.Second);
            _answers[key] = a;
            if (followEnd > followStart) ReadFollowUps(p, a.Error is null, a.Value, followStart, followEnd);
        }
        _followUps.Clear();
        asked.Clear();
        if (_pendingSlabInfo != 0) ReadPendingSlabInfo(p);
    }

    /// <summary>The queries of the prefetch in flight (reused: no allocation per prefetch).</summary>
    private readonly List<(QueryKey Key, long Id, int FollowStart, int FollowEnd)> _asked = new();

    private static bool Asked(List<(QueryKey Key, long Id, int FollowStart, int FollowEnd)> asked, QueryKey key)
    {
        foreach (var a in asked)
            if (a.Key == key) return true;
        return false;
    }

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
                long id = Queue(p, Operations.FreeBlocks, [(Zone)z, o]);
                if (first == 0) first = id;
            }
        if (_reclaim)
            for (int z = 0; z < Zones.Count; z++) Queue(p, Operations.ReclaimablePages, [(Zone)z]);
        if (_ctx)
        {
            Queue(p, Operations.Sleeps, []);
            Queue(p, Operations.InInterrupt, []);
            Queue(p, Operations.InAtomic, []);
        }
        return first;
    }

    private void ReadBurst(ImplementationProcess p, long first, long[] free, long[] reclaimable, out long sleeps, out bool inIrq, out bool inAtomic)
    {
        long id = first;
        long Integer(WireOperation op, string call)
        {
            var r = p.Receive(id++);
            if (!r.Ok) throw ErrorOf(p, r, call);
            if (!r.TryI64(out long v)) throw BadValue(p, op, r);
            return v;
        }
        bool Boolean(WireOperation op)
        {
            var r = p.Receive(id++);
            if (!r.Ok) throw ErrorOf(p, r, op.Name);
            if (!r.TryBool(out bool v)) throw BadValue(p, op, r);
            return v;
        }
        for (int z = 0; z < Zones.Count; z++)
            for (int o = 0; o < _orders; o++)
                free[z * _orders + o] = Integer(Operations.FreeBlocks, $"freeBlocks({((Zone)z).KernelName()}, {o})");
        if (_reclaim)
            for (int z = 0; z < Zones.Count; z++) reclaimable[z] = Integer(Operations.ReclaimablePages, "reclaimablePages");
        sleeps = 0;
        inIrq = inAtomic = false;
        if (_ctx)
        {
            sleeps = Integer(Operations.Sleeps, "sleeps");
            inIrq = Boolean(Operations.InInterrupt);
            inAtomic = Boolean(Operations.InAtomic);
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

    /// <summary>Reads a "snapshot" answer into the cache (<see cref="SnapshotParser"/>).</summary>
    private void ReadSnapshot(ImplementationProcess p, Response r)
    {
        if (!r.Ok) throw p.Violation($"\"snapshot\" was refused ({r.ErrorKind}: {r.ErrorMessage}); a program that offers it must always answer it");
        if (SnapshotParser.Parse(r.Value, _orders, _reclaim, _ctx, _free, _reclaimable, out _sleeps, out _inInterrupt, out _inAtomic) is { } problem)
            throw p.Violation($"malformed \"snapshot\" answer: {problem}; the line was: {r.Text()}");
        _valid = true;
    }

    // ---- Slabinfo ------------------------------------------------------------------------------

    /// <summary>/proc/slabinfo, asked once per state change (and pipelined behind the next one once the suite uses it).</summary>
    private IReadOnlyList<SlabInfo> CachedSlabInfo()
    {
        if (_lanes > 0 && OnLane())
        {
            // On a lane: asked afresh (another lane may change it at any moment), never kept.
            var lp = Proc;
            var lr = Exchange(lp, Operations.SlabInfo, []);
            if (!lr.Ok) throw ErrorOf(lp, lr, "slabInfo");
            return ReadSlabInfo(lp, lr);
        }
        _slabInfoUsed = true;
        if (_slabInfo is not null) return _slabInfo;
        var p = Proc;
        var r = Exchange(p, Operations.SlabInfo, []);
        var error = r.Ok ? null : ErrorOf(p, r, "slabInfo");
        if (error is not null) throw error;
        return _slabInfo = ReadSlabInfo(p, r);
    }

    /// <summary>
    /// The slabinfo asked ahead of time. A refusal is not raised here (the suite did not ask yet): the
    /// next use asks again and gets it then. A malformed answer is a protocol violation either way.
    /// </summary>
    private void ReadPendingSlabInfo(ImplementationProcess p)
    {
        long sid = _pendingSlabInfo;
        _pendingSlabInfo = 0;
        var r = p.Receive(sid);
        _slabInfo = r.Ok ? ReadSlabInfo(p, r) : null;
    }

    /// <summary>Parses [{"name":..,"activeObjects":n,...}, ...] (docs/protocol.md, slabInfo).</summary>
    private static IReadOnlyList<SlabInfo> ReadSlabInfo(ImplementationProcess p, Response r)
    {
        if (!r.Ok) throw ErrorOf(p, r, "slabInfo");
        if (SlabInfoParser.Parse(r.Value, out var lines) is { } problem)
            throw p.Violation($"malformed \"slabInfo\" answer: {problem}; the line was: {r.Text()}");
        return lines;
    }
}
