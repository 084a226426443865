using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// Runs a parallel family on one small machine. Races show in some runs only, and fewer of them on a
/// busy machine, so a test that must see a broken variant caught runs property after property (a new
/// seed each) until it is, within a cap; each attempt is one property of 120 sequences (30 programs, 3
/// runs each). A correct implementation must pass every attempt it is given.
/// </summary>
internal static class ParallelRuns
{
    public static SuiteResult Run(IImplementationFactory factory, string family, ulong seed, int sequences = 60) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { family },
            Settings = new RunSettings { Seed = seed, Sequences = sequences },
        });

    /// <summary>Runs seeds 1, 2, ... until a property fails, at most <paramref name="attempts"/>; returns the failing result and how many it took.</summary>
    public static (SuiteResult? Failed, int Attempts) UntilCaught(IImplementationFactory factory, string family, int attempts)
    {
        for (int a = 1; a <= attempts; a++)
        {
            var result = Run(factory, family, (ulong)a, sequences: 120);
            if (result.FailedRuleIds.Count > 0) return (result, a);
        }
        return (null, attempts);
    }

    public static string Explain(SuiteResult result)
    {
        var sb = new StringBuilder();
        foreach (var row in result.Failures)
        {
            var ce = row.Counterexample!;
            sb.Append($"{ce.RuleId} on {ce.ProfileLabel}: {ce.Message}\n");
            foreach (var line in ce.Trace.Take(40)) sb.Append($"    {line}\n");
        }
        return sb.ToString();
    }
}
