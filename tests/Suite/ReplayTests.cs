using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Suite;

/// <summary>A failure is shrunk to a shorter counterexample, and the same seed finds the same failures with the same traces.</summary>
public class ReplayTests
{
    [Theory]
    [InlineData(Fault.NoCoalescing)]
    [InlineData(Fault.OverlappingBlocks)]
    [InlineData(Fault.AtomicKeptOutOfReserve)]
    public void A_failure_is_shrunk_and_replays_identically_with_the_same_seed(Fault fault)
    {
        SuiteResult Run() => SuiteRuns.Run(new TreeFactory(fault), [Profiles.X86_32], [64UL << 20], 60);

        var first = Run();
        var second = Run();

        var failure = Assert.Single(first.Failures);
        var ce = Assert.IsType<Counterexample>(failure.Counterexample);
        Assert.Equal(Faults.RuleOf(fault), ce.RuleId);
        Assert.InRange(ce.ShrunkSteps, 1, ce.OriginalSteps);
        Assert.NotEmpty(ce.Trace);
        Assert.Equal(ce.Trace.Count, ce.CSharp.Count);

        Assert.Equal(first.FailedRuleIds.Order(), second.FailedRuleIds.Order());
        var again = Assert.Single(second.Failures).Counterexample!;
        Assert.Equal(ce.Seed, again.Seed);
        Assert.Equal(ce.OriginalSteps, again.OriginalSteps);
        Assert.Equal(ce.ShrunkSteps, again.ShrunkSteps);
        Assert.Equal(ce.Message, again.Message);
        Assert.Equal(ce.Trace, again.Trace);
        Assert.Equal(ce.CSharp, again.CSharp);
    }

    [Fact]
    public void Another_seed_still_finds_the_fault()
    {
        var result = SuiteRuns.Run(new TreeFactory(Fault.NoCoalescing), [Profiles.X86_32], [64UL << 20], 60, seed: SuiteRuns.Seed + 1);
        Assert.Equal(["PAGE-8"], result.FailedRuleIds.Order());
    }
}
