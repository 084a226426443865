using System.Text;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel.Atomic;

/// <summary>
/// ATOM-1 in parallel mode: generated atomic_t programs run on 2..4 CPUs at once, every call's result
/// recorded with real-time tickets, the counters read after the join, and each counter's history
/// checked for linearizability against <see cref="AtomicModel"/>: some sequential order consistent
/// with real time must explain every result. One wrong result alone (a sequential bug) fails the same
/// check, in the prefix or anywhere.
/// </summary>
public sealed class AtomicFamily : ParallelFamily<AtomicOp>
{
    public override string Name => "atomic";
    public override IReadOnlyList<string> RuleIds { get; } = ["ATOM-1"];
    public override Capability Gate => Capability.AtomicT;
    public override string PrimaryRule => "ATOM-1";

    public override ParallelProgram<AtomicOp> Generate(Random random, Profile profile, RunSettings settings, IReadOnlySet<Capability> declared) =>
        AtomicGen.Program(random, settings);

    public override IEnumerable<AtomicOp> Simplify(AtomicOp op) => AtomicGen.Simplify(op);

    /// <summary>The atomic_set that gives a counter the branches use its start value stays: without it they start from another value.</summary>
    public override bool Essential(ParallelProgram<AtomicOp> program, AtomicOp op) =>
        op.Kind == AtomicOpKind.Set && program.Branches.Any(b => b.Any(s => s.Op.Counter == op.Counter));

    public override StressOutcome? RunStress(IMemoryManager mm, CpuPool cpus, ulong seed, CheckScope scope, TimeSpan budget, TimeSpan timeout)
    {
        var atomic = (IAtomicT)mm;
        if (atomic.AtomicCounters < 1) return null; // the programs report it
        return AtomicStress.Run(atomic, cpus, seed, scope, budget, timeout);
    }

    public override IReadOnlyList<string> StressRules => RuleIds;

    public override ParallelRunResult Execute(IMemoryManager mm, ParallelProgram<AtomicOp> program, CpuPool cpus, CheckScope scope, bool explain, TimeSpan timeout)
    {
        var atomic = (IAtomicT)mm;
        int offered = atomic.AtomicCounters;
        if (offered < 1)
            return new(new RuleViolation("ATOM-1", $"AtomicCounters is {offered}: an implementation declaring AtomicT must offer at least one counter"), [], []);
        program = Fit(program, offered);

        var clock = new History();
        var ops = new List<HistoryOp<AtomicOp, long>>(program.Steps + AtomicGen.MaxCounters);
        // The prefix, on this thread.
        foreach (var step in program.Prefix)
        {
            Pause(step.Pause);
            long start = clock.Tick();
            long result;
            try { result = step.Op.Apply(atomic); }
            catch (Exception e) when (e is not RuleViolation) { return new(Raised(step.Op, "the prefix", e), [], []); }
            ops.Add(new(TimedCall.Prefix, step.Op, result, start, clock.Tick()));
        }

        // The branches, one per CPU, released together. On the CPU lanes of an out-of-process program every branch is
        // written before the CPUs start, all in one write (its operations are known up front), so that the program's
        // lane threads get their work at the same moment and run it back to back; each CPU then reads its own answers.
        // Every call's interval starts before that write and ends when its answer was read, which contains its real
        // execution, and program order inside a lane is added to the check.
        var lanes = mm is ICpuLanes { Lanes: > 0 } l ? l : null;
        lanes?.ClearOverlap();
        int n = program.Branches.Count;
        LaneBatch[]? posted = null;
        long written = 0;
        if (lanes is not null)
        {
            written = clock.Tick();
            try { posted = lanes.PostAtomic(program.Branches.Select(b => (IReadOnlyList<AtomicOp>)b.Select(s => s.Op).ToArray()).ToArray()); }
            catch (Exception e) when (e is not RuleViolation) { return new(Raised(program.Branches[0][0].Op, "CPU0", e), [], []); }
        }
        // Everything a branch writes is allocated before the start, so that no CPU is held up allocating.
        var records = new HistoryOp<AtomicOp, long>[n][];
        for (int cpu = 0; cpu < n; cpu++) records[cpu] = new HistoryOp<AtomicOp, long>[program.Branches[cpu].Count];
        var done = new int[n];
        var errors = new Exception?[n];
        int stop = 0;
        var timedOut = RunBranches(cpus, n, cpu =>
        {
            var branch = program.Branches[cpu];
            var mine = records[cpu];
            if (lanes is not null)
            {
                try
                {
                    lanes.AwaitAtomic(posted![cpu], (j, result) =>
                    {
                        mine[j] = new(cpu, branch[j].Op, result, written, clock.Tick());
                        done[cpu] = j + 1;
                    });
                }
                catch (Exception e)
                {
                    errors[cpu] = e;
                    Volatile.Write(ref stop, 1);
                }
                return;
            }
            for (int j = 0; j < branch.Count && Volatile.Read(ref stop) == 0; j++)
            {
                var step = branch[j];
                Pause(step.Pause);
                long start = clock.Tick();
                long result;
                try { result = step.Op.Apply(atomic); }
                catch (Exception e)
                {
                    errors[cpu] = e;
                    Volatile.Write(ref stop, 1);
                    return;
                }
                mine[j] = new(cpu, step.Op, result, start, clock.Tick());
                done[cpu] = j + 1;
            }
        }, timeout);
        if (timedOut is not null) return new(timedOut, [], []);
        for (int cpu = 0; cpu < n; cpu++)
            if (errors[cpu] is { } e) return new(Raised(program.Branches[cpu][done[cpu]].Op, $"CPU{cpu}", e), [], []);
        for (int cpu = 0; cpu < n; cpu++) ops.AddRange(records[cpu].AsSpan(0, done[cpu]));

        // After the join: read every counter used, so that a lost update shows even when no call returned a value.
        foreach (int counter in ops.Select(o => o.Op.Counter).Distinct().Order().ToList())
        {
            var read = new AtomicOp(AtomicOpKind.Read, counter);
            long start = clock.Tick();
            long value;
            try { value = atomic.AtomicRead(counter); }
            catch (Exception e) when (e is not RuleViolation) { return new(Raised(read, "after the join", e), [], []); }
            ops.Add(new(TimedCall.AfterJoin, read, value, start, clock.Tick()));
        }
        scope.Operations += ops.Count;

        // One linearizability check per counter (linearizability is local).
        foreach (var group in ops.GroupBy(o => o.Op.Counter).OrderBy(g => g.Key))
        {
            var history = group.ToList();
            var result = Linearizability.Check(history, 0, AtomicModel.Instance, programOrder: lanes is not null);
            if (result.Linearizable || result.Inconclusive)
            {
                scope.That("ATOM-1", true, () => "");
                continue;
            }
            var violation = new RuleViolation("ATOM-1", Explain(group.Key, history, result));
            if (scope.IsMasked("ATOM-1")) return new(null, [], [], Diverged: true);
            return new(violation, Draw(history), []);
        }
        return new(null, [], []);
    }

    /// <summary>Counters beyond what the implementation offers fold onto those it has.</summary>
    private static ParallelProgram<AtomicOp> Fit(ParallelProgram<AtomicOp> p, int offered)
    {
        if (p.Prefix.Concat(p.Branches.SelectMany(b => b)).All(s => s.Op.Counter < offered)) return p;
        ParallelStep<AtomicOp> Map(ParallelStep<AtomicOp> s) => s with { Op = s.Op with { Counter = s.Op.Counter % offered } };
        return p with { Prefix = p.Prefix.Select(Map).ToList(), Branches = p.Branches.Select(b => (IReadOnlyList<ParallelStep<AtomicOp>>)b.Select(Map).ToList()).ToList() };
    }

    private static RuleViolation Raised(AtomicOp op, string where, Exception e) =>
        new("ATOM-1", $"{op} on {where} raised {e.GetType().Name}: {e.Message}; an atomic_t operation on a counter that exists cannot fail");

    private static string Who(HistoryOp<AtomicOp, long> o) => o.Cpu switch
    {
        TimedCall.Prefix => "in the prefix",
        TimedCall.AfterJoin => "after the join",
        _ => $"on CPU{o.Cpu}",
    };

    private static string Call(HistoryOp<AtomicOp, long> o) =>
        o.Op.ResultKind == AtomicResultKind.None ? o.Op.ToString() : $"{o.Op} = {o.Op.Show(o.Result)}";

    /// <summary>"Couldn't linearise": the longest explainable order, the value it leaves, and why no next call fits.</summary>
    private static string Explain(int counter, List<HistoryOp<AtomicOp, long>> history, LinearizabilityResult<int> result)
    {
        var sb = new StringBuilder($"couldn't linearise the {history.Count} calls on &v{counter}: no sequential order consistent with real time explains every result. ");
        var order = result.LongestOrder;
        const int show = 8;
        if (order.Count == 0) sb.Append("Not even the first call fits. ");
        else
        {
            sb.Append("The longest order that explains the results is ");
            if (order.Count > show) sb.Append($"… {order.Count - show} calls, then ");
            sb.Append(string.Join(" → ", order.Skip(Math.Max(0, order.Count - show)).Select(i => $"{Call(history[i])} ({Who(history[i]).Replace("on ", "")})")));
            sb.Append($", leaving v{counter} = {result.StateAfterLongest}. ");
        }
        if (result.Stuck.Count > 0)
        {
            sb.Append("None of the calls that could come next fits: ");
            sb.Append(string.Join("; ", result.Stuck.Take(4).Select(i =>
            {
                var o = history[i];
                var (_, expected) = AtomicModel.Apply(result.StateAfterLongest, o.Op);
                return $"{o.Op} {Who(o)} returned {o.Op.Show(o.Result)}, but from v{counter} = {result.StateAfterLongest} it returns {o.Op.Show(expected)}";
            })));
            sb.Append('.');
        }
        return sb.ToString().TrimEnd();
    }

    private static IReadOnlyList<string> Draw(List<HistoryOp<AtomicOp, long>> history) =>
        InterleavingDiagram.Render(history.Select(o => new TimedCall(o.Cpu, o.Op.ToString(), o.Op.Show(o.Result), o.Call, o.Return)).ToList());

    public override IReadOnlyList<string> CSharp(ParallelProgram<AtomicOp> program)
    {
        var lines = new List<string> { "var atomic = (IAtomicT)mm;" };
        foreach (var step in program.Prefix) lines.Add($"{step.Op.CSharp};");
        int n = program.Branches.Count;
        lines.Add($"var go = new System.Threading.Barrier({n});");
        for (int cpu = 0; cpu < n; cpu++)
            lines.Add($"var cpu{cpu} = new System.Threading.Thread(() => {{ go.SignalAndWait(); {string.Concat(program.Branches[cpu].Select(s => $"{s.Op.CSharp}; "))}}});");
        lines.Add(string.Concat(Enumerable.Range(0, n).Select(c => $"cpu{c}.Start(); ")) + string.Concat(Enumerable.Range(0, n).Select(c => $"cpu{c}.Join(); ")).TrimEnd());
        foreach (int c in program.Prefix.Concat(program.Branches.SelectMany(b => b)).Select(s => s.Op.Counter).Distinct().Order())
            lines.Add($"var v{c} = atomic.AtomicRead({c});");
        lines.Add("// ATOM-1: some sequential order of these calls, consistent with real time, must explain every result and the final values.");
        lines.Add("// A race shows in some runs only: run this test repeatedly (the report says how often the shrunk case failed).");
        return lines;
    }
}
