using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// The SMP family: allocators that are unsafe under concurrency are caught (as the rules their races
/// break), and the reference and two other correct SMP allocators are never flagged.
/// </summary>
[Collection(ParallelModeCollection.Name)]
public class SmpFamilyTests
{
    [Theory]
    [InlineData("pages", "PAGE-1", "ADDR-11", "PAGE-8")]
    // A per-CPU kmalloc cache shared without a lock hands one object to two CPUs (KMAL-7) or loses one (its slab
    // never empties: ADDR-11 after the drain); its corrupted bookkeeping can also make a call raise, charged to
    // the rule of what the call allocated (KMAL-7) or, in a generated program, to the family's crash rule (PAGE-1).
    [InlineData("kmalloc", "KMAL-7", "ADDR-11", "PAGE-8", "PAGE-1")]
    public void Unsafe_allocator_is_caught_as_the_rules_its_race_breaks(string which, params string[] allowed)
    {
        IImplementationFactory factory = which == "pages" ? new PcpPagesFactory(sharedUnlocked: true) : new KmallocCpuCacheFactory(sharedUnlocked: true);
        var (failed, tries, elapsed) = ParallelRuns.UntilCaught(factory, "smp", AtomicFamilyTests.RaceCap);
        Assert.True(failed is not null, $"{factory.Name} was not caught in {tries} properties ({elapsed.TotalSeconds:F0} s, each with a stress of up to 250 ms)");
        Assert.Subset(allowed.ToHashSet(), failed!.FailedRuleIds.ToHashSet());
        Assert.All(failed.Failures, f => Assert.NotEmpty(f.Counterexample!.Trace));
    }

    [Fact]
    public void Correct_smp_allocators_pass()
    {
        foreach (var factory in new IImplementationFactory[] { new ReferenceFactory(), new PcpPagesFactory(), new KmallocCpuCacheFactory() })
        {
            var result = ParallelRuns.Run(factory, "smp", 1, sequences: 20);
            Assert.True(result.FailedRuleIds.Count == 0, $"{factory.Name}:\n{ParallelRuns.Explain(result)}");
            foreach (var rule in new[] { "PAGE-1", "PAGE-7", "PAGE-8", "ADDR-11", "KMAL-7" })
                Assert.Equal(RuleOutcome.Passed, result.Results.Single(r => r.Rule.Id == rule).Outcome);
        }
    }

    [Fact]
    public void Per_cpu_page_lists_pass_the_sequential_page_and_heap_families_too()
    {
        var result = KernelMm.Tests.Suite.SuiteRuns.Run(new PcpPagesFactory(), [KernelMm.Spec.Profiles.Profiles.X86_32], [64UL << 20, 1UL << 30], sequences: 60);
        Assert.True(result.FailedRuleIds.Count == 0 && result.Results.All(r => r.Outcome != RuleOutcome.NotExercised), KernelMm.Tests.Suite.SuiteRuns.Explain(result));
    }
}
