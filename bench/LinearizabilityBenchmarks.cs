using BenchmarkDotNet.Attributes;
using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;

namespace KernelMm.Benchmarks;

/// <summary>
/// Linearizability-check time for atomic_t histories of 100, 500 and 2,000 operations on 4 CPUs (one
/// counter, all fourteen operations, every call overlapping the calls in flight on the other CPUs, as
/// in a real run), both a linearizable history and one with a lost update at the end (the search must
/// then exhaust every order before it says no).
/// </summary>
[MemoryDiagnoser]
public class LinearizabilityBenchmarks
{
    [Params(100, 500, 2000)]
    public int Operations;

    private HistoryOp<AtomicOp, long>[] _good = [];
    private HistoryOp<AtomicOp, long>[] _bad = [];

    [GlobalSetup]
    public void Setup()
    {
        _good = History(Operations, lostUpdate: false);
        _bad = History(Operations, lostUpdate: true);
    }

    [Benchmark(Baseline = true)]
    public bool Linearizable() => Linearizability.Check(_good, 0, AtomicModel.Instance).Linearizable;

    [Benchmark]
    public bool NotLinearizable() => Linearizability.Check(_bad, 0, AtomicModel.Instance).Linearizable;

    /// <summary>
    /// 4 CPUs; each call takes effect at a random moment between its call and return ticket, so the
    /// results are those of a correct atomic_t; with <paramref name="lostUpdate"/> the final read misses one update.
    /// </summary>
    public static HistoryOp<AtomicOp, long>[] History(int operations, bool lostUpdate)
    {
        var rng = new Random(42);
        var kinds = Enum.GetValues<AtomicOpKind>();
        var events = new List<(long Tick, int Cpu, bool Call)>();
        long tick = 0;
        var open = new bool[4];
        int made = 0;
        while (made < operations || open.Any(o => o))
        {
            int cpu = rng.Next(4);
            if (open[cpu]) { events.Add((++tick, cpu, false)); open[cpu] = false; }
            else if (made < operations) { events.Add((++tick, cpu, true)); open[cpu] = true; made++; }
        }
        // Each operation's effect point: a tick strictly inside [call, return]; apply them in that order.
        var calls = new List<(int Cpu, long Call, long Return)>();
        var pending = new long[4];
        foreach (var (t, cpu, isCall) in events)
            if (isCall) pending[cpu] = t;
            else calls.Add((cpu, pending[cpu], t));
        var ops = calls.Select(c => (c.Cpu, c.Call, c.Return, Effect: c.Call + rng.NextDouble() * (c.Return - c.Call),
            Op: new AtomicOp(kinds[rng.Next(kinds.Length)], 0, rng.Next(-3, 4)))).OrderBy(o => o.Effect).ToList();
        int value = 0;
        var history = new List<HistoryOp<AtomicOp, long>>();
        foreach (var o in ops)
        {
            var (next, result) = AtomicModel.Apply(value, o.Op);
            value = next;
            history.Add(new(o.Cpu, o.Op, result, o.Call, o.Return));
        }
        history.Add(new(TimedCall.AfterJoin, new AtomicOp(AtomicOpKind.Read, 0), lostUpdate ? value + 1 : value, tick + 1, tick + 2));
        return [.. history];
    }
}
