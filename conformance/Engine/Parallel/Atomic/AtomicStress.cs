using System.Diagnostics;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Parallel.Atomic;

/// <summary>
/// ATOM-1 under stress, beside the linearizability check (which needs short histories): every CPU
/// hammers the counters for a millisecond per round, and what must hold whatever the
/// interleaving is checked after the join. Three tests, each repeated until the CPUs have been seen
/// running together for long enough (<see cref="OverlapMeter"/>) or the time budget is spent:
/// <list type="bullet">
/// <item><b>conservation</b>: many updates of every kind (add, sub, inc, dec, the *_return and *_and_test
/// forms, add_negative) on one counter; the final value must be the start plus the sum of the amounts,
/// so a single lost update shows;</item>
/// <item><b>distinct returns</b>: atomic_inc_return (or atomic_dec_return) from every CPU; the values
/// returned must be exactly start+1 .. start+N (start-1 .. start-N), each once;</item>
/// <item><b>last reference</b>: mini-rounds in lock-step, in groups of two CPUs: a counter set to the
/// group's size, every CPU of the group calls atomic_dec_and_test on it once, together; exactly one call
/// must return true.</item>
/// </list>
/// Every violation is ATOM-1's. A run with a lost update is followed by a short search for the
/// operations that lose it (every CPU on one kind at a time), which the report names.
/// </summary>
public static class AtomicStress
{
    /// <summary>Wall time of one round of a test (its threads stop at this deadline).</summary>
    public static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(1);
    /// <summary>Time the CPUs must be seen running together in each test before it is done.</summary>
    public static readonly TimeSpan OverlapTarget = TimeSpan.FromMilliseconds(3);

    /// <summary>Overlap spent per kind of update when naming the kinds that lose updates.</summary>
    private static readonly TimeSpan DiagnosisOverlap = TimeSpan.FromMilliseconds(1);
    private const int StampEvery = 64;
    /// <summary>Updates per CPU of one round on an out-of-process program's lanes, all CPUs' written at once (one round trip).</summary>
    private const int LaneChunk = 512;
    private const int TableSize = 1024;
    private const int Block = 64;
    private const int Pad = 16;
    private const int DistinctCapacity = 1 << 18;

    private enum Test { Conservation, Distinct, LastReference }

    private static readonly AtomicOpKind[] Updates =
    [
        AtomicOpKind.Add, AtomicOpKind.Sub, AtomicOpKind.Inc, AtomicOpKind.Dec, AtomicOpKind.AddReturn, AtomicOpKind.SubReturn,
        AtomicOpKind.IncReturn, AtomicOpKind.DecReturn, AtomicOpKind.SubAndTest, AtomicOpKind.DecAndTest, AtomicOpKind.IncAndTest, AtomicOpKind.AddNegative,
    ];

    /// <summary>
    /// Runs the three tests on <paramref name="atomic"/> (a fresh machine) with <paramref name="cpus"/>;
    /// each round's passing check is counted in <paramref name="scope"/>. Stops at the first violation.
    /// </summary>
    public static StressOutcome Run(IAtomicT atomic, CpuPool cpus, ulong seed, CheckScope scope, TimeSpan budget, TimeSpan timeout, StressTuning? tuning = null)
    {
        tuning ??= new StressTuning();
        var target = tuning.OverlapTarget ?? OverlapTarget;
        var rest = tuning.Rest ?? TimeSpan.Zero;
        var s = new State(atomic, cpus, seed, timeout, tuning);
        var clock = Stopwatch.StartNew();
        var overlap = new TimeSpan[3];
        int rounds = 0;
        var tests = Enum.GetValues<Test>();
        while (clock.Elapsed < budget)
        {
            // The tests take turns; one that has seen enough overlap drops out.
            var pending = tests.Where(t => overlap[(int)t] < target).ToList();
            if (pending.Count == 0) break;
            var test = pending[rounds % pending.Count];
            if (rounds > 0 && rest > TimeSpan.Zero) Thread.Sleep(rest);
            s.ClearSeen();
            var found = test switch
            {
                Test.Conservation => s.Conservation(rounds),
                Test.Distinct => s.Distinct(rounds),
                _ => s.LastReference(rounds),
            };
            var seen = s.Seen();
            overlap[(int)test] += seen;
            s.Overlap += seen;
            rounds++;
            if (found is not null)
            {
                var trace = new List<string>(s.Trace);
                if (test == Test.Conservation && s.TimedOut is null) trace.AddRange(s.WhichKindsLoseUpdates(clock, budget));
                return new StressOutcome(found, trace, s.Threads, rounds, s.Operations, s.Overlap, clock.Elapsed);
            }
            scope.That("ATOM-1", true, () => "");
        }
        scope.Operations += rounds; // one checked outcome per round: the calls themselves are not checked one by one
        return new StressOutcome(null, [], s.Threads, rounds, s.Operations, s.Overlap, clock.Elapsed);
    }

    private sealed class State(IAtomicT atomic, CpuPool cpus, ulong seed, TimeSpan timeout, StressTuning tuning)
    {
        public readonly int Threads = tuning.Cpus ?? StressCpus.For(cpus);
        public readonly OverlapMeter Meter = new(tuning.Cpus ?? StressCpus.For(cpus), 1 << 14);
        /// <summary>The CPU lanes of an out-of-process program (protocol 5), or null in-process: then updates go in pipelined chunks, and overlap is the program's own.</summary>
        public readonly ICpuLanes? Lanes = atomic is ICpuLanes { Lanes: > 0 } l ? l : null;

        public void ClearSeen()
        {
            Meter.Clear();
            Lanes?.ClearOverlap();
        }

        /// <summary>How long the CPUs ran together since <see cref="ClearSeen"/>: measured by the stress's own threads in-process, by the program's lanes out of process.</summary>
        public TimeSpan Seen() => Lanes?.Overlap() ?? Meter.Overlap();
        public long Operations;
        public TimeSpan Overlap;
        public List<string> Trace = [];
        public RuleViolation? TimedOut;
        private readonly Random _rng = new(unchecked((int)seed ^ (int)(seed >> 32)));
        private int[][]? _values;
        private int _distinctRounds;
        private readonly long RoundTicks = (long)((tuning.Round ?? RoundTime).TotalSeconds * Stopwatch.Frequency);

        private bool RunCpus(Action<int> work, Exception?[] errors)
        {
            bool finished = cpus.Run(Threads, cpu =>
            {
                try { work(cpu); }
                catch (Exception e) { errors[cpu] = e; }
            }, timeout);
            if (!finished)
                TimedOut = new RuleViolation("ATOM-1", $"the {Threads} CPUs of an atomic_t stress round did not all finish within {timeout.TotalSeconds:F0} s: an atomic_t operation deadlocked or livelocked");
            return finished;
        }

        private RuleViolation? Raised(Exception?[] errors, string what)
        {
            for (int cpu = 0; cpu < errors.Length; cpu++)
                if (errors[cpu] is { } e)
                    return new RuleViolation("ATOM-1", $"{what} on CPU{cpu} raised {e.GetType().Name}: {e.Message}; an atomic_t operation on a counter that exists cannot fail");
            return null;
        }

        private (AtomicOpKind Kind, int Arg)[] Table(AtomicOpKind? only)
        {
            var table = new (AtomicOpKind, int)[TableSize];
            for (int b = 0; b < TableSize / Block; b++)
            {
                var kind = only ?? Updates[_rng.Next(Updates.Length)];
                for (int i = 0; i < Block; i++)
                {
                    int arg = _rng.Next(1, 100) * (_rng.Next(4) == 0 ? -1 : 1);
                    table[b * Block + i] = (kind, arg);
                }
            }
            return table;
        }

        /// <summary>What one update of <paramref name="kind"/> adds to the counter (as <see cref="Apply"/> returns it).</summary>
        private static int Delta(AtomicOpKind kind, int arg) => kind switch
        {
            AtomicOpKind.Add or AtomicOpKind.AddReturn or AtomicOpKind.AddNegative => arg,
            AtomicOpKind.Sub or AtomicOpKind.SubReturn or AtomicOpKind.SubAndTest => -arg,
            AtomicOpKind.Inc or AtomicOpKind.IncReturn or AtomicOpKind.IncAndTest => 1,
            _ => -1,
        };

        private static int Apply(IAtomicT a, AtomicOpKind kind, int arg)
        {
            switch (kind)
            {
                case AtomicOpKind.Add: a.AtomicAdd(arg, 0); return arg;
                case AtomicOpKind.Sub: a.AtomicSub(arg, 0); return -arg;
                case AtomicOpKind.Inc: a.AtomicInc(0); return 1;
                case AtomicOpKind.Dec: a.AtomicDec(0); return -1;
                case AtomicOpKind.AddReturn: a.AtomicAddReturn(arg, 0); return arg;
                case AtomicOpKind.SubReturn: a.AtomicSubReturn(arg, 0); return -arg;
                case AtomicOpKind.IncReturn: a.AtomicIncReturn(0); return 1;
                case AtomicOpKind.DecReturn: a.AtomicDecReturn(0); return -1;
                case AtomicOpKind.SubAndTest: a.AtomicSubAndTest(arg, 0); return -arg;
                case AtomicOpKind.DecAndTest: a.AtomicDecAndTest(0); return -1;
                case AtomicOpKind.IncAndTest: a.AtomicIncAndTest(0); return 1;
                default: a.AtomicAddNegative(arg, 0); return arg;
            }
        }

        // ---- Conservation ------------------------------------------------------------------------

        public RuleViolation? Conservation(int round, AtomicOpKind? only = null)
        {
            int start = _rng.Next(-1000, 1001);
            var tables = Enumerable.Range(0, Threads).Select(_ => Table(only)).ToArray();
            var sums = new long[Threads * Pad];
            var counts = new long[Threads * Pad];
            var errors = new Exception?[Threads];
            atomic.AtomicSet(0, start);
            // Out of process: one chunk per CPU, all written to the program's lanes at once, so that they run together.
            LaneBatch[]? posted = null;
            var chunkSums = new long[Threads];
            if (Lanes is { } lanes)
            {
                var chunks = new AtomicOp[Threads][];
                for (int c = 0; c < Threads; c++)
                {
                    chunks[c] = new AtomicOp[LaneChunk];
                    for (int q = 0; q < LaneChunk; q++)
                    {
                        var (kind, arg) = tables[c][q & (TableSize - 1)];
                        chunks[c][q] = new AtomicOp(kind, 0, arg);
                        chunkSums[c] += Delta(kind, arg);
                    }
                }
                try { posted = lanes.PostAtomic(chunks); }
                catch (Exception e) when (e is not RuleViolation) { errors[0] = e; return Raised(errors, "an atomic_t update"); }
            }
            if (!RunCpus(cpu =>
            {
                var lane = Meter[cpu];
                var table = tables[cpu];
                long sum = 0, n = 0;
                int i = 0;
                long deadline = Stopwatch.GetTimestamp() + RoundTicks;
                lane.Stamp();
                try
                {
                    if (posted is not null)
                    {
                        // Out of process: this CPU's chunk was written with every other CPU's (below); its answers are read here.
                        Lanes!.AwaitAtomic(posted[cpu], static (_, _) => { });
                        sum = chunkSums[cpu];
                        n = posted[cpu].Count;
                        return;
                    }
                    while (true)
                    {
                        for (int k = 0; k < StampEvery; k++, i++)
                        {
                            var (kind, arg) = table[i & (TableSize - 1)];
                            sum += Apply(atomic, kind, arg);
                        }
                        n += StampEvery;
                        lane.Stamp();
                        if (Stopwatch.GetTimestamp() > deadline) break;
                    }
                }
                finally
                {
                    sums[cpu * Pad] = sum;
                    counts[cpu * Pad] = n;
                }
            }, errors)) return TimedOut;
            long calls = Enumerable.Range(0, Threads).Sum(c => counts[c * Pad]);
            Operations += calls;
            if (Raised(errors, "an atomic_t update") is { } raised) return raised;
            long total = Enumerable.Range(0, Threads).Sum(c => sums[c * Pad]);
            int expected = unchecked((int)(start + total));
            int actual = atomic.AtomicRead(0);
            Operations++;
            if (actual == expected) return null;
            string what = only is { } k ? new AtomicOp(k, 0, 1).KernelName : "atomic_t updates of every kind";
            Trace =
            [
                $"atomic_set(&v0, {start})",
                $"{Threads} CPUs at once, for {RoundTime.TotalMilliseconds:F0} ms: {calls:N0} calls ({what}) on &v0, whose amounts sum to {total}",
                $"atomic_read(&v0) = {actual}; start + sum of the amounts = {expected}",
            ];
            return new RuleViolation("ATOM-1",
                $"conservation: {Threads} CPUs made {calls:N0} {what} on &v0 at once, starting from atomic_set(&v0, {start}); the amounts sum to {total}, "
                + $"so &v0 must end at {expected}, but atomic_read(&v0) returns {actual} ({(long)actual - expected:+#;-#} off): "
                + "updates were lost or made up, so a read-modify-write is not indivisible");
        }

        /// <summary>After a lost update: every CPU on one kind of update at a time, to name the kinds that lose updates.</summary>
        public IEnumerable<string> WhichKindsLoseUpdates(Stopwatch clock, TimeSpan budget)
        {
            var losing = new List<string>();
            var clean = new List<string>();
            var savedTrace = Trace;
            // A short search: about a millisecond of overlap per kind, at most half the budget more in all.
            var deadline = clock.Elapsed + budget / 2;
            foreach (var kind in Updates)
            {
                bool lost = false;
                var overlap = TimeSpan.Zero;
                for (int r = 0; r < 12 && !lost && overlap < DiagnosisOverlap && clock.Elapsed < deadline; r++)
                {
                    ClearSeen();
                    lost = Conservation(r, kind) is not null;
                    overlap += Seen();
                    if (TimedOut is not null) break;
                }
                (lost ? losing : clean).Add(new AtomicOp(kind, 0, 1).KernelName);
                if (TimedOut is not null || clock.Elapsed >= deadline) break;
            }
            Trace = savedTrace;
            int tried = losing.Count + clean.Count;
            string scope = tried == Updates.Length ? "" : $" (time allowed {tried} of the {Updates.Length} kinds)";
            return losing.Count == 0
                ? [$"with every CPU on one kind of update at a time, no kind lost an update on its own{scope}"]
                : [$"with every CPU on one kind of update at a time, these lost updates: {string.Join(", ", losing)}{scope}"];
        }

        // ---- Distinct returns --------------------------------------------------------------------

        public RuleViolation? Distinct(int round)
        {
            bool inc = _distinctRounds++ % 2 == 0;
            string name = inc ? "atomic_inc_return" : "atomic_dec_return";
            int start = _rng.Next(-1000, 1001);
            var all = _values ??= Enumerable.Range(0, Threads).Select(_ => new int[DistinctCapacity]).ToArray();
            var counts = new int[Threads * Pad];
            var errors = new Exception?[Threads];
            atomic.AtomicSet(0, start);
            LaneBatch[]? posted = null;
            if (Lanes is { } lanes)
            {
                var chunk = Enumerable.Repeat(new AtomicOp(inc ? AtomicOpKind.IncReturn : AtomicOpKind.DecReturn, 0), LaneChunk).ToArray();
                try { posted = lanes.PostAtomic(Enumerable.Repeat((IReadOnlyList<AtomicOp>)chunk, Threads).ToArray()); }
                catch (Exception e) when (e is not RuleViolation) { errors[0] = e; return Raised(errors, name); }
            }
            if (!RunCpus(cpu =>
            {
                var lane = Meter[cpu];
                var values = all[cpu];
                int n = 0;
                long deadline = Stopwatch.GetTimestamp() + RoundTicks;
                lane.Stamp();
                try
                {
                    if (posted is not null)
                    {
                        Lanes!.AwaitAtomic(posted[cpu], (j, r) => values[j] = (int)r);
                        n = posted[cpu].Count;
                        return;
                    }
                    while (n + StampEvery <= values.Length)
                    {
                        if (inc) for (int k = 0; k < StampEvery; k++) values[n++] = atomic.AtomicIncReturn(0);
                        else for (int k = 0; k < StampEvery; k++) values[n++] = atomic.AtomicDecReturn(0);
                        lane.Stamp();
                        if (Stopwatch.GetTimestamp() > deadline) break;
                    }
                }
                finally { counts[cpu * Pad] = n; }
            }, errors)) return TimedOut;
            int total = Enumerable.Range(0, Threads).Sum(c => counts[c * Pad]);
            Operations += total;
            if (Raised(errors, name) is { } raised) return raised;

            // Each of start±1 .. start±N exactly once.
            var owner = new byte[total + 1];
            for (int cpu = 0; cpu < Threads; cpu++)
            {
                var values = all[cpu];
                for (int i = 0; i < counts[cpu * Pad]; i++)
                {
                    long offset = inc ? (long)values[i] - start : (long)start - values[i];
                    if (offset < 1 || offset > total)
                        return Fail(name, start, total, $"CPU{cpu}'s call {i + 1} returned {values[i]}, outside {Range(inc, start, total)}");
                    if (owner[offset] != 0)
                        return Fail(name, start, total, $"{values[i]} was returned twice: by CPU{owner[offset] - 1} and by CPU{cpu} (its call {i + 1})");
                    owner[offset] = (byte)(cpu + 1);
                }
            }
            int final = atomic.AtomicRead(0);
            Operations++;
            int expected = inc ? start + total : start - total;
            return final == expected ? null
                : Fail(name, start, total, $"every value was returned once, but atomic_read(&v0) returns {final}, not {expected}");
        }

        private static string Range(bool inc, int start, int total) => inc ? $"{start + 1} .. {start + total}" : $"{start - total} .. {start - 1}";

        private RuleViolation Fail(string name, int start, int total, string what)
        {
            Trace =
            [
                $"atomic_set(&v0, {start})",
                $"{Threads} CPUs at once, for {RoundTime.TotalMilliseconds:F0} ms: {total:N0} calls of {name}(&v0)",
                what,
            ];
            return new RuleViolation("ATOM-1",
                $"distinct returns: {Threads} CPUs called {name}(&v0) {total:N0} times at once from atomic_set(&v0, {start}); each of "
                + $"{Range(name == "atomic_inc_return", start, total)} must be returned exactly once, but {what}");
        }

        // ---- Last reference ------------------------------------------------------------------------

        /// <summary>
        /// Lock-step mini-rounds, in groups of two CPUs (three for an odd one out), each group on counters of its
        /// own when the implementation offers enough: a group's leader sets its counters to the group's size, the
        /// others wait for it, everybody calls atomic_dec_and_test once on each, and the leader counts the trues.
        /// Small groups keep lock-step cheap on a busy machine (a group waits only for its own CPUs).
        /// </summary>
        public RuleViolation? LastReference(int round)
        {
            int offered = Math.Min(atomic.AtomicCounters, 8);
            int groups = Math.Max(1, Math.Min(Threads / 2, offered));
            int GroupOf(int cpu) => Math.Min(cpu / 2, groups - 1);
            var members = Enumerable.Range(0, groups).Select(g => Enumerable.Range(0, Threads).Where(c => GroupOf(c) == g).ToArray()).ToArray();
            var counters = Enumerable.Range(0, groups).Select(g => Enumerable.Range(0, offered).Where(c => c % groups == g).Take(3).ToArray()).ToArray();
            var trues = new int[Threads * Pad];
            var errors = new Exception?[Threads];
            var published = new int[groups * Pad];
            var done = new int[groups * Pad];
            var arrived = new int[groups * Pad];
            var groupStop = new int[groups * Pad];
            var miniRounds = new long[groups * Pad];
            int stop = 0;
            var failures = new string?[groups];
            if (!RunCpus(cpu =>
            {
                int g = GroupOf(cpu);
                var mine = counters[g];
                var group = members[g];
                bool leader = group[0] == cpu;
                int size = group.Length;
                var rng = new Random(round * 31 + cpu);
                var lane = Meter[cpu];
                long deadline = Stopwatch.GetTimestamp() + RoundTicks;
                lane.Stamp();
                for (int r = 1; ; r++)
                {
                    if (leader)
                    {
                        try { foreach (int c in mine) atomic.AtomicSet(c, size); }
                        catch (Exception e) { errors[cpu] = e; Volatile.Write(ref stop, 1); Volatile.Write(ref groupStop[g * Pad], 1); return; }
                        Volatile.Write(ref published[g * Pad], r);
                    }
                    else
                    {
                        StressCpus.SpinUntil(() => Volatile.Read(ref published[g * Pad]) >= r || Volatile.Read(ref groupStop[g * Pad]) != 0, size);
                        if (Volatile.Read(ref published[g * Pad]) < r) return;
                    }
                    // Everybody checks in, then waits a random few spins: the leader, who published, would otherwise
                    // always be ahead of the others by the time the news takes to reach them, and never meet them
                    // inside a call. Varying the skew makes some mini-rounds align to the nanosecond.
                    Interlocked.Increment(ref arrived[g * Pad]);
                    StressCpus.SpinUntil(() => Volatile.Read(ref arrived[g * Pad]) >= size * r, size);
                    Thread.SpinWait(rng.Next(0, 24));
                    try
                    {
                        for (int i = 0; i < mine.Length; i++) trues[cpu * Pad + i] = atomic.AtomicDecAndTest(mine[i]) ? 1 : 0;
                    }
                    catch (Exception e) { errors[cpu] = e; Volatile.Write(ref stop, 1); }
                    lane.Stamp();
                    Interlocked.Increment(ref done[g * Pad]);
                    if (!leader) continue;

                    // The leader checks the mini-round, then starts the next one or stops its group.
                    StressCpus.SpinUntil(() => Volatile.Read(ref done[g * Pad]) == size * r, size);
                    miniRounds[g * Pad] = r;
                    for (int i = 0; i < mine.Length && failures[g] is null && Volatile.Read(ref stop) == 0; i++)
                    {
                        int c = mine[i], count = 0;
                        foreach (int t in group) count += trues[t * Pad + i];
                        int value = atomic.AtomicRead(c);
                        if (count != 1 || value != 0)
                        {
                            failures[g] = $"after atomic_set(&v{c}, {size}) each of the {size} CPUs {string.Join(", ", group.Select(t => $"CPU{t}"))} called atomic_dec_and_test(&v{c}) once, together (mini-round {r}); "
                                          + $"exactly one call must return true, the one that took &v{c} to 0, but {count} did "
                                          + $"({string.Join(", ", group.Select(t => $"CPU{t}: {(trues[t * Pad + i] == 1 ? "true" : "false")}"))}); &v{c} is now {value}";
                            Volatile.Write(ref stop, 1);
                        }
                    }
                    if (Volatile.Read(ref stop) != 0 || Stopwatch.GetTimestamp() > deadline)
                    {
                        Volatile.Write(ref groupStop[g * Pad], 1);
                        return;
                    }
                }
            }, errors)) return TimedOut;
            for (int g = 0; g < groups; g++) Operations += miniRounds[g * Pad] * members[g].Length * counters[g].Length;
            if (Raised(errors, "atomic_dec_and_test") is { } raised) return raised;
            if (failures.FirstOrDefault(f => f is not null) is not { } failure) return null;
            Trace =
            [
                $"mini-rounds, in {groups} group(s) of CPUs ({string.Join("; ", members.Select((m, g) => $"{string.Join(", ", m.Select(t => $"CPU{t}"))} on {string.Join(", ", counters[g].Select(c => $"&v{c}"))}"))}): "
                + "the group's first CPU sets its counters to the group's size; then every CPU of the group at once: atomic_dec_and_test on each",
                failure,
            ];
            return new RuleViolation("ATOM-1", $"last reference: {failure}: the test and the decrement are not one indivisible step");
        }
    }
}
