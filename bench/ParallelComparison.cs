using System.Diagnostics;
using CsCheck;

namespace KernelMm.Benchmarks;

/// <summary>
/// The evidence for writing the parallel runner instead of using CsCheck's SampleParallel: the same
/// three broken atomic_t counters the suite's teeth use (non-atomic add, dec_and_test testing before
/// decrementing, add_negative testing "&lt;= 0"), each given to SampleParallel <c>--tries</c> times with its
/// defaults (100 iterations, up to 10 sequential and 5 parallel operations). SampleParallel compares the
/// final state with every permutation's, so answers are folded into the state (how many
/// dec_and_test / add_negative calls answered true). Prints how often each was caught, how long it
/// took, and the first failure report as CsCheck prints it.
/// </summary>
public static class ParallelComparison
{
    private enum Fault { NonAtomicAdd, DecAndTestBeforeDecrement, AddNegativeWrongSign }

    /// <summary>The implementation under test: one counter, and the number of true answers.</summary>
    private sealed class Counter(Fault fault)
    {
        public int Value;
        public int Trues;

        public void Add(int i)
        {
            if (fault == Fault.NonAtomicAdd) { int seen = Value; Value = seen + i; }
            else Interlocked.Add(ref Value, i);
        }

        public void Inc() => Interlocked.Increment(ref Value);

        public void DecAndTest()
        {
            bool zero = fault == Fault.DecAndTestBeforeDecrement
                ? Volatile.Read(ref Value) == 1 & Interlocked.Decrement(ref Value) > int.MinValue
                : Interlocked.Decrement(ref Value) == 0;
            if (zero) Interlocked.Increment(ref Trues);
        }

        public void AddNegative(int i)
        {
            int now = Interlocked.Add(ref Value, i);
            if (fault == Fault.AddNegativeWrongSign ? now <= 0 : now < 0) Interlocked.Increment(ref Trues);
        }

        public override string ToString() => $"(value {Value}, true answers {Trues})";
    }

    /// <summary>The sequential model.</summary>
    private sealed class Model
    {
        public int Value;
        public int Trues;
        public override string ToString() => $"(value {Value}, true answers {Trues})";
    }

    public static int Run(string[] args)
    {
        int tries = int.Parse(Program.Option(args, "--tries") ?? "20");
        foreach (var fault in Enum.GetValues<Fault>())
        {
            int caught = 0;
            string? firstReport = null;
            var clock = Stopwatch.StartNew();
            for (int t = 0; t < tries; t++)
            {
                try
                {
                    Sample(fault);
                }
                catch (Exception e)
                {
                    caught++;
                    firstReport ??= e.Message;
                }
            }
            Console.WriteLine($"CsCheck SampleParallel, {fault}: caught in {caught} of {tries} samples (100 iterations each), {clock.Elapsed.TotalSeconds / tries:F2} s per sample");
            if (firstReport is not null)
                Console.WriteLine("  first report:\n    " + string.Join("\n    ", firstReport.Split('\n').Take(30)));
        }
        return 0;
    }

    private static void Sample(Fault fault)
    {
        var start = fault switch
        {
            Fault.DecAndTestBeforeDecrement => Gen.Int[0, 3],
            Fault.AddNegativeWrongSign => Gen.Int[-3, 3],
            _ => Gen.Int[-2, 2],
        };
        var initial = start.Select(v => (new Counter(fault) { Value = v }, new Model { Value = v }));
        var add = Gen.Int[1, 5].Operation<Counter, Model>(i => $"atomic_add({i})", (a, i) => a.Add(i), (m, i) => m.Value += i);
        var inc = Gen.Const(0).Operation<Counter, Model>(_ => "atomic_inc", (a, _) => a.Inc(), (m, _) => m.Value++);
        var dec = Gen.Const(0).Operation<Counter, Model>(_ => "atomic_dec_and_test", (a, _) => a.DecAndTest(), (m, _) => { if (--m.Value == 0) m.Trues++; });
        var neg = Gen.Int[-4, 4].Operation<Counter, Model>(i => $"atomic_add_negative({i})", (a, i) => a.AddNegative(i), (m, i) => { m.Value += i; if (m.Value < 0) m.Trues++; });
        GenOperation<Counter, Model>[] operations = fault switch
        {
            Fault.NonAtomicAdd => [add, inc],
            Fault.DecAndTestBeforeDecrement => [inc, dec, dec],
            _ => [neg, add],
        };
        initial.SampleParallel(operations, equal: (a, m) => a.Value == m.Value && a.Trues == m.Trues,
            printActual: a => a.ToString(), printModel: m => m.ToString());
    }
}
