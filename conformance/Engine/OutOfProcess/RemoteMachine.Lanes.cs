using System.Diagnostics;
using System.Runtime.ExceptionServices;
using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Spec.Contract;
using Op = KernelMm.Conformance.OutOfProcess.Operations;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// CPU lanes (protocol 5, docs/protocol.md "CPU lanes"): a call made on a <see cref="CpuPool"/> thread goes out
/// with <c>"cpu":k</c> (CPU k on lane k mod the program's "cpus"), and its caller waits for the answer with that
/// request's id while other lanes' requests and answers pass. Several threads call at once: one lock guards the
/// request writer and the in-flight table; the answers are read by one waiting thread at a time, outside the lock
/// (so that other lanes keep sending), and handed to the thread that waits for each. Checked on every lane answer:
/// its id is a lane request in flight, it comes in its lane's request order, and it carries "ns". A lane request
/// sends nothing behind it (no snapshot, no follow-up: those are barriers) and uses no kept answer; it marks every
/// kept observation stale, so that the next call without a lane (the sequential part after the branches join)
/// observes afresh. Requests without "cpu" are barriers: the families send them only when no lane request is in flight.
/// </summary>
internal sealed partial class RemoteMachine : ICpuLanes
{
    private readonly int _lanes;
    private readonly object _mux = new();
    /// <summary>A thread is reading answers (outside the lock); the others wait on the lock's monitor.</summary>
    private bool _reading;
    private readonly Dictionary<long, LaneSlot> _inFlight = new();
    private readonly Queue<long>[] _laneOrder = [];
    private readonly OverlapMeter? _laneMeter;
    /// <summary>Lane requests ran since the kept answers were last cleared: the sequential path clears them first.</summary>
    private volatile bool _stale;

    private sealed class LaneSlot(int lane)
    {
        public readonly int Lane = lane;
        public Response? Answer;
    }

    /// <summary>Stamps kept per lane for the overlap measure (beyond it the overlap is underestimated, never overestimated).</summary>
    private const int LaneStamps = 1 << 15;

    public int Lanes => _lanes;

    /// <summary>Whether the calling thread is a CPU of a pool (and the program runs lanes): then its calls go on <paramref name="lane"/>.</summary>
    private bool OnLane(out int lane)
    {
        lane = -1;
        if (_lanes == 0) return false;
        int cpu = CpuPool.Current;
        if (cpu < 0) return false;
        lane = cpu % _lanes;
        return true;
    }

    private bool OnLane() => OnLane(out _);

    /// <summary>On the sequential path: forgets the answers kept from before lane requests ran, and checks that none is in flight.</summary>
    private void Settle()
    {
        if (!_stale) return;
        lock (_mux)
        {
            if (_inFlight.Count > 0)
                throw new InvalidOperationException($"a request without \"cpu\" (a barrier) while {_inFlight.Count} lane request(s) are in flight: the parallel family must join its CPUs first");
            _answers.Clear();
            _stale = false;
        }
    }

    /// <summary>Writes one lane request (under the lock); returns its id.</summary>
    private long QueueOnLane(ImplementationProcess p, WireOperation op, ReadOnlySpan<WireArg> args, int lane)
    {
        var fields = op.Fields;
        if (args.Length != fields.Count) throw new InvalidOperationException($"{op.Name} takes {fields.Count} argument(s), {args.Length} given");
        long id = p.Begin(op.Utf8Name);
        for (int i = 0; i < fields.Count; i++) args[i].WriteTo(p.Writer, fields[i]);
        p.Writer.Number("cpu"u8, lane);
        p.End();
        _inFlight[id] = new LaneSlot(lane);
        _laneOrder[lane].Enqueue(id);
        _valid = false;
        _slabInfo = null;
        _stale = true;
        return id;
    }

    /// <summary>One call on the calling CPU's lane: its answer (a copy, valid after other answers are read).</summary>
    private Response LaneExchange(ImplementationProcess p, WireOperation op, ReadOnlySpan<WireArg> args, int lane)
    {
        long id;
        lock (_mux)
        {
            if (p.Fault is { } fault) throw fault;
            id = QueueOnLane(p, op, args, lane);
            p.Send(_timeout);
        }
        return AwaitLane(p, id);
    }

    /// <summary>Waits for the answer to lane request <paramref name="id"/>, reading answers (for every waiting thread) while nobody else does.</summary>
    private Response AwaitLane(ImplementationProcess p, long id)
    {
        Monitor.Enter(_mux);
        try
        {
            while (true)
            {
                var slot = _inFlight[id];
                if (slot.Answer is { } answer)
                {
                    _inFlight.Remove(id);
                    return answer;
                }
                if (p.Fault is { } fault) throw fault;
                if (_reading)
                {
                    Monitor.Wait(_mux);
                    continue;
                }
                _reading = true;
                Response? line = null;
                ExceptionDispatchInfo? failed = null;
                Monitor.Exit(_mux);
                try { line = p.ReceiveAny(id); }
                catch (Exception e) { failed = ExceptionDispatchInfo.Capture(e); }
                finally { Monitor.Enter(_mux); }
                try
                {
                    failed?.Throw();
                    Route(p, line!, id);
                }
                finally
                {
                    _reading = false;
                    Monitor.PulseAll(_mux);
                }
            }
        }
        finally
        {
            Monitor.Exit(_mux);
        }
    }

    /// <summary>Hands a lane answer to its request (under the lock), after checking it is one, in its lane's order, with "ns".</summary>
    private void Route(ImplementationProcess p, Response r, long awaited)
    {
        if (!_inFlight.TryGetValue(r.Id, out var slot) || slot.Answer is not null)
            throw p.Violation($"the answer carries id {r.Id}, which is no lane request awaiting its answer (request {p.Describe(awaited)} was awaited, "
                              + $"with {_inFlight.Count} lane request(s) in flight): a stale, duplicated or invented id; the line was: {r.Text()}");
        var order = _laneOrder[slot.Lane];
        if (order.Peek() != r.Id)
            throw p.Violation($"the answer to request {p.Describe(r.Id)} came before the answer to request {p.Describe(order.Peek())}, "
                              + $"sent earlier on the same lane (\"cpu\":{slot.Lane}): the answers of one lane must come in that lane's request order; the line was: {r.Text()}");
        if (!r.HasNs)
            throw p.Violation($"the answer to lane request {p.Describe(r.Id)} has no \"ns\": every answer to a request carrying \"cpu\" must give "
                              + $"\"ns\":[t0,t1], the program's CLOCK_MONOTONIC nanoseconds just before and just after the call; the line was: {r.Text()}");
        order.Dequeue();
        var lane = _laneMeter![slot.Lane];
        lane.StampAt(Ticks(r.Ns0));
        lane.StampAt(Ticks(r.Ns1));
        slot.Answer = r.Detach();
    }

    /// <summary>CLOCK_MONOTONIC nanoseconds as Stopwatch ticks (the same clock on Linux; only differences matter).</summary>
    private static long Ticks(long ns) => Stopwatch.Frequency == 1_000_000_000 ? ns : (long)(ns * (Stopwatch.Frequency / 1e9));

    public void ClearOverlap()
    {
        lock (_mux) _laneMeter?.Clear();
    }

    public TimeSpan Overlap()
    {
        lock (_mux) return _laneMeter?.Overlap() ?? TimeSpan.Zero;
    }

    // ---- Pipelined atomic_t -----------------------------------------------------------------------

    private static (WireOperation Op, WireArg[] Args) Wire(AtomicOp o) => o.Kind switch
    {
        AtomicOpKind.Read => (Op.AtomicRead, [o.Counter]),
        AtomicOpKind.Set => (Op.AtomicSet, [o.Counter, o.Arg]),
        AtomicOpKind.Add => (Op.AtomicAdd, [o.Arg, o.Counter]),
        AtomicOpKind.Sub => (Op.AtomicSub, [o.Arg, o.Counter]),
        AtomicOpKind.Inc => (Op.AtomicInc, [o.Counter]),
        AtomicOpKind.Dec => (Op.AtomicDec, [o.Counter]),
        AtomicOpKind.AddReturn => (Op.AtomicAddReturn, [o.Arg, o.Counter]),
        AtomicOpKind.SubReturn => (Op.AtomicSubReturn, [o.Arg, o.Counter]),
        AtomicOpKind.IncReturn => (Op.AtomicIncReturn, [o.Counter]),
        AtomicOpKind.DecReturn => (Op.AtomicDecReturn, [o.Counter]),
        AtomicOpKind.SubAndTest => (Op.AtomicSubAndTest, [o.Arg, o.Counter]),
        AtomicOpKind.DecAndTest => (Op.AtomicDecAndTest, [o.Counter]),
        AtomicOpKind.IncAndTest => (Op.AtomicIncAndTest, [o.Counter]),
        AtomicOpKind.AddNegative => (Op.AtomicAddNegative, [o.Arg, o.Counter]),
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Kind, "an atomic_t operation"),
    };

    public void RunAtomic(IReadOnlyList<AtomicOp> ops, Action<int, long> answered)
    {
        if (!OnLane(out int lane)) throw new InvalidOperationException("RunAtomic runs on a CPU of a pool, for a program that runs CPU lanes");
        var p = Proc;
        LaneBatch batch;
        lock (_mux)
        {
            if (p.Fault is { } fault) throw fault;
            batch = QueueBatch(p, ops, lane);
            p.Send(_timeout);
        }
        AwaitAtomic(batch, answered);
    }

    public LaneBatch[] PostAtomic(IReadOnlyList<IReadOnlyList<AtomicOp>> perCpu)
    {
        if (_lanes == 0) throw new InvalidOperationException("the program runs no CPU lanes");
        var p = Proc;
        var batches = new LaneBatch[perCpu.Count];
        lock (_mux)
        {
            if (p.Fault is { } fault) throw fault;
            // Round robin: the first request of every lane, then the second of every lane, ...: a program that reads its
            // requests one line at a time hands every lane its work from the start, not one lane's whole batch first.
            var ids = perCpu.Select(ops => new long[ops.Count]).ToArray();
            var wire = perCpu.Select(ops => new object[ops.Count]).ToArray();
            int longest = perCpu.Count == 0 ? 0 : perCpu.Max(ops => ops.Count);
            for (int i = 0; i < longest; i++)
                for (int cpu = 0; cpu < perCpu.Count; cpu++)
                {
                    if (i >= perCpu[cpu].Count) continue;
                    var (op, args) = Wire(perCpu[cpu][i]);
                    wire[cpu][i] = op;
                    ids[cpu][i] = QueueOnLane(p, op, args, cpu % _lanes);
                }
            for (int cpu = 0; cpu < perCpu.Count; cpu++) batches[cpu] = new LaneBatch(ids[cpu], wire[cpu]);
            p.Send(_timeout);
        }
        return batches;
    }

    private LaneBatch QueueBatch(ImplementationProcess p, IReadOnlyList<AtomicOp> ops, int lane)
    {
        var ids = new long[ops.Count];
        var wire = new object[ops.Count];
        for (int i = 0; i < ops.Count; i++)
        {
            var (op, args) = Wire(ops[i]);
            wire[i] = op;
            ids[i] = QueueOnLane(p, op, args, lane);
        }
        return new LaneBatch(ids, wire);
    }

    public void AwaitAtomic(LaneBatch batch, Action<int, long> answered)
    {
        var p = Proc;
        KernelApiException? first = null;
        for (int i = 0; i < batch.Count; i++)
        {
            var r = AwaitLane(p, batch.Ids[i]);
            var op = (WireOperation)batch.Operations[i];
            if (!r.Ok)
            {
                first ??= ErrorOf(p, r, op.Name);
                continue;
            }
            long value;
            switch (op.Value)
            {
                case WireType.None: value = AtomicModel.Void; break;
                case WireType.Boolean:
                    if (!r.TryBool(out bool b)) throw BadValue(p, op, r);
                    value = b ? 1 : 0;
                    break;
                default:
                    if (!r.TryI64(out value)) throw BadValue(p, op, r);
                    if (value is < int.MinValue or > int.MaxValue) throw p.Violation($"the answer to {op.Name} is out of range: {value} (atomic_t is a 32-bit counter)");
                    break;
            }
            if (first is null) answered(i, value);
        }
        if (first is not null) throw first;
    }
}
