using System.Diagnostics;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// Checked parallel runs per second: the atomic and smp families on the reference, x86-32/64M, one
/// property after another (each 20 programs x 3 runs, a new seed each) for about <c>--seconds</c> seconds per
/// family. A run is one program on a fresh machine: boot, prefix, branches on the CPU pool, the check.
/// </summary>
public static class ParallelThroughput
{
    public static int Run(string[] args)
    {
        double seconds = double.Parse(Program.Option(args, "--seconds") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var family in new[] { "atomic", "smp" })
        {
            var clock = Stopwatch.StartNew();
            long runs = 0, operations = 0;
            for (ulong seed = 1; clock.Elapsed.TotalSeconds < seconds; seed++)
            {
                var result = SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
                {
                    Profiles = [Profiles.X86_32], MemorySizes = [64UL << 20], Families = new HashSet<string> { family },
                    Settings = new RunSettings { Seed = seed, Sequences = 20 },
                });
                if (!result.Passed) { Console.WriteLine($"{family}: the reference failed (seed {seed})"); return 1; }
                runs += result.Sequences;
                operations += result.Operations;
            }
            double s = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"{family}: {runs} checked parallel runs in {s:F1} s = {runs / s:F0} runs/s ({operations / s:N0} checked operations/s)");
        }
        return 0;
    }
}
