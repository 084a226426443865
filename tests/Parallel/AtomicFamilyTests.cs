using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// ATOM-1 has teeth: each broken atomic_t is reported as exactly ATOM-1 (the racy ones by the stress,
/// usually in the first property; the sequential one by the linearizability check, at once), and the
/// two correct ones are never flagged. The detection rates are bench/README.md's ("Parallel mode: stress").
/// </summary>
[Collection(ParallelModeCollection.Name)]
public class AtomicFamilyTests
{
    /// <summary>How long a racy variant's test may look (it stops at the first catch: about a second unless the machine is very busy).</summary>
    internal static readonly TimeSpan RaceCap = TimeSpan.FromSeconds(40);

    [Theory]
    [InlineData(AtomicFault.NonAtomicAdd)]
    [InlineData(AtomicFault.DecAndTestBeforeDecrement)]
    public void Racy_atomic_is_reported_as_exactly_ATOM_1(AtomicFault fault)
    {
        var (failed, tries, elapsed) = ParallelRuns.UntilCaught(new CasAtomicFactory(fault), "atomic", RaceCap);
        Assert.True(failed is not null, $"{fault} was not caught in {tries} properties ({elapsed.TotalSeconds:F0} s, each with a stress of up to 250 ms)");
        Assert.Equal(["ATOM-1"], failed!.FailedRuleIds);
        var ce = failed.Failures.Single().Counterexample!;
        // Caught by the stress (the usual case) or by a generated program: either names the broken behaviour.
        Assert.Matches(fault == AtomicFault.NonAtomicAdd ? "conservation: |distinct returns: |couldn't linearise" : "last reference: |couldn't linearise", ce.Message);
        Assert.NotEmpty(ce.Trace);
    }

    [Theory]
    [InlineData(AtomicFault.AddNegativeWrongSign, 1)]
    public void Sequential_fault_is_reported_as_exactly_ATOM_1_by_the_linearizability_check(AtomicFault fault, int attempts)
    {
        var (failed, tries) = ParallelRuns.UntilCaught(new CasAtomicFactory(fault), "atomic", attempts);
        Assert.True(failed is not null, $"{fault} was not caught in {tries} properties");
        Assert.Equal(["ATOM-1"], failed!.FailedRuleIds);
        var ce = failed.Failures.Single().Counterexample!;
        Assert.StartsWith("couldn't linearise the ", ce.Message);
        Assert.Contains("parallel run, ", ce.Message);
        Assert.NotEmpty(ce.Trace);
        Assert.Contains(ce.CSharp, l => l.Contains("System.Threading.Thread"));
    }

    [Fact]
    public void Sequential_fault_shrinks_to_a_few_steps_on_one_cpu_and_reproduces_every_time()
    {
        // A program whose add_negative calls all race with others can be linearized either way: a few seeds may be needed.
        var (caught, attempts) = ParallelRuns.UntilCaught(new CasAtomicFactory(AtomicFault.AddNegativeWrongSign), "atomic", 5);
        var result = Assert.IsType<SuiteResult>(caught);
        Assert.True(attempts <= 5);
        var ce = Assert.Single(result.Failures).Counterexample!;
        // The shrinker has 4 s: on an idle machine that reaches 4 steps on one CPU; at load 50 it still makes progress.
        Assert.True(ce.ShrunkSteps < ce.OriginalSteps, $"{ce.OriginalSteps} steps not shrunk:\n{ParallelRuns.Explain(result)}");
        Assert.Matches(@"\d CPU\(s\); \d+ of 40 re-runs of the shrunk case failed", ce.Message);
        Assert.Contains("atomic_add_negative", ce.Message);
        Assert.Contains("returned true, but from v", ce.Message);
    }

    [Fact]
    public void Reference_and_lock_free_atomics_pass()
    {
        foreach (var factory in new IImplementationFactory[] { new ReferenceFactory(), new CasAtomicFactory() })
        {
            var result = ParallelRuns.Run(factory, "atomic", 1);
            Assert.True(result.FailedRuleIds.Count == 0, ParallelRuns.Explain(result));
            var row = result.Results.Single(r => r.Rule.Id == "ATOM-1");
            Assert.Equal(RuleOutcome.Passed, row.Outcome);
            Assert.True(row.Checks > 0);
        }
    }

    [Fact]
    public void Lock_free_atomics_offer_fewer_counters_and_the_suite_adapts()
    {
        using var mm = new CasAtomicKernel(KernelMm.Spec.Profiles.Profiles.X86_32);
        Assert.Equal(3, mm.AtomicCounters);
        Assert.Throws<InvalidArgumentException>(() => mm.AtomicRead(3));
    }
}
