using KernelMm.Conformance.Families.Vm;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.VmVariants;

namespace KernelMm.Tests.VmSuite;

/// <summary>
/// A second correct kernel VM, <see cref="HashedVmKernel"/>, with other legal choices than the
/// reference (hashed tables outside RAM, top-down placement without guard pages, a 24-entry fully
/// associative TLB with lazy validated invalidation, lazy kunmap) must pass the vm family with zero
/// failures and every rule exercised on every profile: a failure is a bug in it or an
/// over-specification in the suite. (The reference's vm run is part of
/// Suite/CorrectImplementationTests' full run of every family.)
/// </summary>
public class CorrectVmTests
{
    private const int Sequences = 25;

    [Fact]
    public void HashedVmKernel_PassesEveryVmRule_OnEveryProfile() =>
        AssertEveryVmRulePassed(VmRuns.Run(new HashedVmFactory(), Profiles.All, VmRuns.Both, Sequences));

    /// <summary>The second implementation overrides kmaps, page_address and frees: the page and heap families must still pass on it.</summary>
    [Fact]
    public void HashedVmKernel_PassesThePageAndHeapFamilies()
    {
        var result = VmRuns.Run(new HashedVmFactory(), [Profiles.X86_32, Profiles.Bit64_8K], [64UL << 20, 1UL << 30], 20, families: ["pages", "heap"]);
        Assert.True(!result.Failures.Any() && result.Results.All(r => r.Outcome != RuleOutcome.NotExercised), VmRuns.Explain(result));
        Assert.Empty(VmRuns.EveryFailedRule(result));
    }

    private static void AssertEveryVmRulePassed(SuiteResult result)
    {
        Assert.True(VmRuns.EveryFailedRule(result).Count == 0 && !result.Failures.Any(), VmRuns.Explain(result));
        var vmRules = new VmFamily().RuleIds;
        var notPassed = result.Results
            .Where(r => vmRules.Contains(r.Rule.Id) && r.Outcome != RuleOutcome.Passed)
            .Select(r => $"{r.Rule.Id} on {r.Profile}: {r.Outcome} ({r.Reason})")
            .ToList();
        Assert.True(notPassed.Count == 0, string.Join("\n", notPassed) + "\n" + VmRuns.Explain(result));
    }
}
