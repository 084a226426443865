using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;

namespace KernelMm.Tests.Parallel;

/// <summary>The checker on hand-written histories: what it must accept (never a false alarm) and what it must refuse.</summary>
public class LinearizabilityTests
{
    private static HistoryOp<AtomicOp, long> H(int cpu, AtomicOpKind kind, long result, long call, long ret, int arg = 0) =>
        new(cpu, new AtomicOp(kind, 0, arg), result, call, ret);

    private const long Void = AtomicModel.Void;

    private static LinearizabilityResult<int> Check(params HistoryOp<AtomicOp, long>[] history) =>
        Linearizability.Check(history, 0, AtomicModel.Instance);

    [Fact]
    public void Sequential_history_with_right_results_is_linearizable()
    {
        var r = Check(
            H(-1, AtomicOpKind.Set, Void, 1, 2, arg: 2),
            H(0, AtomicOpKind.DecAndTest, 0, 3, 4),
            H(0, AtomicOpKind.DecAndTest, 1, 5, 6),
            H(0, AtomicOpKind.AddNegative, 1, 7, 8, arg: -1),
            H(-2, AtomicOpKind.Read, -1, 9, 10));
        Assert.True(r.Linearizable);
        Assert.Equal([0, 1, 2, 3, 4], r.LongestOrder);
    }

    [Fact]
    public void Overlapping_calls_may_take_effect_in_either_order()
    {
        // CPU0's inc_return saw 2 although it was called first: it overlapped CPU1's, which took effect first.
        var r = Check(
            H(0, AtomicOpKind.IncReturn, 2, 1, 4),
            H(1, AtomicOpKind.IncReturn, 1, 2, 3),
            H(-2, AtomicOpKind.Read, 2, 5, 6));
        Assert.True(r.Linearizable);
        Assert.Equal([1, 0, 2], r.LongestOrder);
    }

    [Fact]
    public void Real_time_order_is_respected()
    {
        // CPU1's inc returned (ticket 2) before CPU0 read (ticket 3): the read cannot see 0.
        var r = Check(
            H(1, AtomicOpKind.Inc, Void, 1, 2),
            H(0, AtomicOpKind.Read, 0, 3, 4));
        Assert.False(r.Linearizable);
        Assert.False(r.Inconclusive);
        Assert.Equal([0], r.LongestOrder);
        Assert.Equal(1, r.StateAfterLongest);
        Assert.Equal([1], r.Stuck);
    }

    [Fact]
    public void Lost_update_has_no_linearization()
    {
        var r = Check(
            H(0, AtomicOpKind.Add, Void, 1, 4, arg: 1),
            H(1, AtomicOpKind.Add, Void, 2, 3, arg: 1),
            H(-2, AtomicOpKind.Read, 1, 5, 6));
        Assert.False(r.Linearizable);
        Assert.Equal(2, r.StateAfterLongest);
        Assert.Equal([2], r.Stuck);
    }

    [Fact]
    public void Two_puts_that_both_miss_zero_are_refused()
    {
        // Both dec_and_test calls overlap and answer false, yet the count went from 2 to 0.
        var r = Check(
            H(-1, AtomicOpKind.Set, Void, 1, 2, arg: 2),
            H(0, AtomicOpKind.DecAndTest, 0, 3, 6),
            H(1, AtomicOpKind.DecAndTest, 0, 4, 5),
            H(-2, AtomicOpKind.Read, 0, 7, 8));
        Assert.False(r.Linearizable);
    }

    [Fact]
    public void Wrap_around_is_the_documented_behaviour()
    {
        var r = Check(
            H(-1, AtomicOpKind.Set, Void, 1, 2, arg: int.MaxValue),
            H(0, AtomicOpKind.IncReturn, int.MinValue, 3, 4),
            H(0, AtomicOpKind.AddNegative, 1, 5, 6, arg: 0));
        Assert.True(r.Linearizable);
    }

    [Fact]
    public void Memoisation_keeps_a_long_four_cpu_history_near_linear()
    {
        // 4 CPUs x 500 increments, each overlapping its neighbours' calls, all returning their real values.
        var rng = new Random(7);
        var ops = new List<HistoryOp<AtomicOp, long>>();
        long tick = 0;
        var pending = new (long Call, int Value)?[4];
        int value = 0, made = 0;
        while (made < 2000 || pending.Any(p => p is not null))
        {
            int cpu = rng.Next(4);
            if (pending[cpu] is { } p)
            {
                ops.Add(H(cpu, AtomicOpKind.IncReturn, p.Value, p.Call, ++tick));
                pending[cpu] = null;
            }
            else if (made < 2000)
            {
                pending[cpu] = (++tick, ++value);
                made++;
            }
        }
        var r = Check([.. ops]);
        Assert.True(r.Linearizable);
        Assert.True(r.Steps < 40 * ops.Count, $"{r.Steps} steps for {ops.Count} operations");
    }

    [Fact]
    public void A_search_over_budget_is_inconclusive_never_a_failure()
    {
        var history = Enumerable.Range(0, 12).Select(i => H(i % 4, AtomicOpKind.Inc, Void, i, 100 + i)).Append(H(-2, AtomicOpKind.Read, 5, 200, 201)).ToArray();
        var r = Linearizability.Check(history, 0, AtomicModel.Instance, maxSteps: 10);
        Assert.True(r.Inconclusive);
        Assert.False(r.Linearizable);
    }

    [Fact]
    public void A_return_before_its_call_is_refused_as_bad_input()
    {
        Assert.Throws<ArgumentException>(() => Check(H(0, AtomicOpKind.Inc, Void, 5, 4)));
    }
}

public class InterleavingDiagramTests
{
    [Fact]
    public void Draws_one_column_per_cpu_with_calls_in_flight()
    {
        var lines = InterleavingDiagram.Render(
        [
            new TimedCall(TimedCall.Prefix, "atomic_set(&v0, 2)", "", 1, 2),
            new TimedCall(0, "atomic_dec_and_test(&v0)", "false", 3, 6),
            new TimedCall(1, "atomic_dec_and_test(&v0)", "false", 4, 5),
            new TimedCall(TimedCall.AfterJoin, "atomic_read(&v0)", "0", 7, 8),
        ]);
        Assert.Equal("CPU0                      CPU1", lines[0]);
        Assert.Equal("[prefix] atomic_set(&v0, 2)", lines[1]);
        Assert.Equal("atomic_dec_and_test(&v0)", lines[2]);
        Assert.Equal("│                         atomic_dec_and_test(&v0) = false", lines[3]);
        Assert.Equal("└→ false", lines[4]);
        Assert.Equal("[after join] atomic_read(&v0) = 0", lines[5]);
    }
}
