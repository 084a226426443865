using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Parallel.Atomic;

/// <summary>
/// Generates atomic_t programs. Each draws one scenario, because the interesting races need the
/// counters in particular places: many updates on one counter (a lost update), a reference count near
/// zero (dec_and_test), values around zero (add_negative's sign), values at the 32-bit edge (wrap-around),
/// and everything mixed. The prefix always starts by setting every counter it uses (those steps are
/// kept by the shrinker), then may run a few operations alone; every op of the fourteen appears.
/// Half the programs end their prefix with a zero crossing: a test of the new value (add_negative,
/// sub_and_test) with the amount that takes a counter to exactly 0 (or add_negative to -1), then an
/// atomic_add that puts the scenario's value back. The prefix runs on one CPU, so its results have one
/// order only: an off-by-one test at 0 (`&lt;= 0` for `&lt; 0`) fails the linearizability check on every
/// run, not only when the branches' interleaving leaves no other explanation.
/// </summary>
public static class AtomicGen
{
    /// <summary>Counters a program uses at most (the reference offers 8; an implementation must offer at least 1).</summary>
    public const int MaxCounters = 3;

    private enum Scenario { Hammer, RefCount, Sign, Wrap, Mixed }

    private static readonly AtomicOpKind[] Every = Enum.GetValues<AtomicOpKind>();

    public static ParallelProgram<AtomicOp> Program(Random rng, RunSettings settings)
    {
        var scenario = rng.Next(10) switch
        {
            0 or 1 or 2 => Scenario.Hammer,
            3 or 4 or 5 => Scenario.RefCount,
            6 => Scenario.Sign,
            7 => Scenario.Wrap,
            _ => Scenario.Mixed,
        };
        int counters = scenario is Scenario.Hammer or Scenario.RefCount ? 1 : rng.Next(1, MaxCounters + 1);
        int cpus = rng.Next(4) switch { 0 or 1 => 2, 2 => 3, _ => 4 };
        int maxLength = Math.Max(1, settings.MaxSteps / 2);
        bool pauses = rng.Next(2) == 0;

        var prefix = new List<ParallelStep<AtomicOp>>();
        for (int c = 0; c < counters; c++) prefix.Add(new(new AtomicOp(AtomicOpKind.Set, c, Start(rng, scenario, cpus))));
        int alone = rng.Next(4);
        for (int i = 0; i < alone; i++)
        {
            var op = Op(rng, scenario, counters);
            // Only the first steps set counters, so that the shrinker knows what to keep.
            prefix.Add(new(op.Kind == AtomicOpKind.Set ? op with { Kind = AtomicOpKind.Read } : op));
        }

        var branches = new List<IReadOnlyList<ParallelStep<AtomicOp>>>();
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            // Races need the branches to overlap: the racy scenarios run long branches (up to 3 x MaxSteps
            // calls per CPU), so that CPUs released a few microseconds apart still meet.
            int length = scenario is Scenario.Hammer or Scenario.RefCount
                ? rng.Next(maxLength, 6 * maxLength + 1)
                : rng.Next(1, maxLength + 1);
            var steps = new List<ParallelStep<AtomicOp>>(length);
            for (int i = 0; i < length; i++)
            {
                int pause = pauses && rng.Next(7) == 0 ? PauseOf(rng) : 0;
                if (scenario == Scenario.RefCount)
                {
                    // get, then put: the count stays between its start and start + CPUs, so that two
                    // puts often meet while it is 1 or 2, where a test of the old value answers wrongly.
                    var (get, put) = RefPair(rng);
                    steps.Add(new(get, pause));
                    if (++i < length) steps.Add(new(put));
                    continue;
                }
                steps.Add(new(Op(rng, scenario, counters), pause));
            }
            branches.Add(steps);
        }
        // Drawn last, so that everything else a seed generates stays as it was before zero crossings came in.
        if (rng.Next(2) == 0) prefix.AddRange(ZeroCrossing(rng, prefix, counters).ToList());
        return new ParallelProgram<AtomicOp>(prefix, branches);
    }

    /// <summary>
    /// A call whose new value is exactly 0 (or -1), computed from the prefix's known values, then the atomic_add
    /// that restores the counter: add_negative(-v) must answer false, add_negative(-v - 1) true, sub_and_test(v) true.
    /// </summary>
    private static IEnumerable<ParallelStep<AtomicOp>> ZeroCrossing(Random rng, IReadOnlyList<ParallelStep<AtomicOp>> prefix, int counters)
    {
        int counter = rng.Next(counters);
        int value = 0;
        foreach (var step in prefix)
            if (step.Op.Counter == counter) value = AtomicModel.Apply(value, step.Op).Next;
        var edge = rng.Next(6) switch
        {
            0 or 1 or 2 => new AtomicOp(AtomicOpKind.AddNegative, counter, unchecked(-value)),
            3 => new AtomicOp(AtomicOpKind.AddNegative, counter, unchecked(-value - 1)),
            _ => new AtomicOp(AtomicOpKind.SubAndTest, counter, value),
        };
        yield return new(edge);
        int back = unchecked(value - AtomicModel.Apply(value, edge).Next);
        if (back != 0) yield return new(new AtomicOp(AtomicOpKind.Add, counter, back));
    }

    private static (AtomicOp Get, AtomicOp Put) RefPair(Random rng)
    {
        var get = rng.Next(6) switch
        {
            0 => new AtomicOp(AtomicOpKind.IncReturn, 0),
            1 => new AtomicOp(AtomicOpKind.AddReturn, 0, 1),
            2 => new AtomicOp(AtomicOpKind.IncAndTest, 0),
            _ => new AtomicOp(AtomicOpKind.Inc, 0),
        };
        var put = rng.Next(8) switch
        {
            0 => new AtomicOp(AtomicOpKind.SubAndTest, 0, 1),
            1 => new AtomicOp(AtomicOpKind.DecReturn, 0),
            2 => new AtomicOp(AtomicOpKind.Read, 0),
            _ => new AtomicOp(AtomicOpKind.DecAndTest, 0),
        };
        return (get, put);
    }

    private static int PauseOf(Random rng) => rng.Next(5) == 0 ? ParallelStep<AtomicOp>.Yield : rng.Next(1, 300);

    private static int Start(Random rng, Scenario scenario, int cpus) => scenario switch
    {
        Scenario.RefCount => rng.Next(0, 3),
        Scenario.Sign => rng.Next(-3, 4),
        Scenario.Wrap => rng.Next(2) == 0 ? int.MaxValue - rng.Next(4) : int.MinValue + rng.Next(4),
        Scenario.Hammer => rng.Next(-2, 3),
        _ => rng.Next(-5, 6),
    };

    private static AtomicOp Op(Random rng, Scenario scenario, int counters)
    {
        int counter = rng.Next(counters);
        int Small() => rng.Next(1, 6);
        AtomicOpKind kind = scenario switch
        {
            Scenario.Hammer => Pick(rng, (AtomicOpKind.Inc, 3), (AtomicOpKind.Add, 3), (AtomicOpKind.Sub, 2), (AtomicOpKind.Dec, 2),
                (AtomicOpKind.AddReturn, 2), (AtomicOpKind.IncReturn, 2), (AtomicOpKind.DecReturn, 1), (AtomicOpKind.Read, 1)),
            Scenario.RefCount => Pick(rng, (AtomicOpKind.DecAndTest, 6), (AtomicOpKind.Inc, 3), (AtomicOpKind.IncReturn, 1),
                (AtomicOpKind.DecReturn, 1), (AtomicOpKind.SubAndTest, 1), (AtomicOpKind.IncAndTest, 1), (AtomicOpKind.Read, 1)),
            Scenario.Sign => Pick(rng, (AtomicOpKind.AddNegative, 6), (AtomicOpKind.Add, 1), (AtomicOpKind.Sub, 1), (AtomicOpKind.AddReturn, 1),
                (AtomicOpKind.IncAndTest, 1), (AtomicOpKind.SubAndTest, 1), (AtomicOpKind.Read, 1)),
            _ => Every[rng.Next(Every.Length)],
        };
        int arg = kind switch
        {
            AtomicOpKind.Set => scenario == Scenario.Wrap ? int.MaxValue - rng.Next(3) : rng.Next(-5, 6),
            AtomicOpKind.SubAndTest when scenario == Scenario.RefCount => rng.Next(1, 3),
            AtomicOpKind.AddNegative or AtomicOpKind.Add or AtomicOpKind.Sub when scenario == Scenario.Sign => rng.Next(-4, 5),
            AtomicOpKind.Add or AtomicOpKind.Sub or AtomicOpKind.AddReturn or AtomicOpKind.SubReturn or AtomicOpKind.SubAndTest or AtomicOpKind.AddNegative
                => scenario == Scenario.Mixed && rng.Next(2) == 0 ? -Small() : Small(),
            _ => 0,
        };
        return new AtomicOp(kind, counter, arg);
    }

    private static AtomicOpKind Pick(Random rng, params (AtomicOpKind Kind, int Weight)[] choices)
    {
        int total = choices.Sum(c => c.Weight), at = rng.Next(total);
        foreach (var (kind, weight) in choices)
        {
            if (at < weight) return kind;
            at -= weight;
        }
        return choices[^1].Kind;
    }

    /// <summary>Simpler forms of an operation: a smaller amount, a plainer operation with the same effect.</summary>
    public static IEnumerable<AtomicOp> Simplify(AtomicOp op)
    {
        if (op.Kind is not AtomicOpKind.Set && op.Arg is > 1 or < -1) yield return op with { Arg = op.Arg / 2 };
        if (op.Counter > 0 && op.Kind != AtomicOpKind.Set) yield return op with { Counter = 0 };
    }
}
