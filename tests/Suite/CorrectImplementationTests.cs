using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Suite;

/// <summary>
/// Two independent correct implementations must pass the whole suite on every profile and memory
/// size: a rule that fails on either is a bug in it or an over-specification in the suite, and a
/// rule no sequence reaches is a gap in the suite.
/// </summary>
public class CorrectImplementationTests
{
    [Fact]
    public void TreeKernel_passes_every_applicable_rule_on_every_profile_and_memory_size()
    {
        var result = SuiteRuns.Full(new TreeFactory());

        AssertPassed(result);
        // TreeKernel declares every capability the page family needs, so none of its rules may be
        // skipped as "not applicable" on any profile.
        var pageRules = new PageFamily().RuleIds;
        var notPassed = result.Results
            .Where(r => pageRules.Contains(r.Rule.Id) && r.Outcome != RuleOutcome.Passed)
            .Select(r => $"{r.Rule.Id} on {r.Profile}: {r.Outcome} ({r.Reason})")
            .ToList();
        Assert.True(notPassed.Count == 0, string.Join("\n", notPassed));
        Assert.Equal(Profiles.All.Count * pageRules.Count, result.Results.Count(r => pageRules.Contains(r.Rule.Id)));
    }

    [Fact]
    public void Reference_passes_every_applicable_rule_on_every_profile_and_memory_size() =>
        AssertPassed(SuiteRuns.Full(new ReferenceFactory()));

    private static void AssertPassed(SuiteResult result)
    {
        Assert.True(result.Failures.Count() == 0 && result.Results.All(r => r.Outcome != RuleOutcome.NotExercised), SuiteRuns.Explain(result));
        Assert.True(result.Results.Any(r => r.Outcome == RuleOutcome.Passed), "no rule ran at all");
    }
}

public class ObservedRuleClassificationTests
{
    /// <summary>
    /// A rule checked by a family that does not list it (the heap family frees pages and so checks
    /// PAGE-4) is still classified from what was observed, never dropped as "not selected".
    /// </summary>
    [Fact]
    public void HeapFamilyAlone_ReportsThePageRulesItChecksOnTheWay()
    {
        var result = KernelMm.Conformance.Running.SuiteRunner.Run(new KernelMm.Reference.ReferenceFactory(), new KernelMm.Conformance.Running.SuiteOptions
        {
            Profiles = [KernelMm.Spec.Profiles.Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "heap" },
            Settings = new KernelMm.Conformance.Running.RunSettings { Seed = 3, Sequences = 40, MaxSteps = 60 },
        });
        var pageFree = result.Results.Single(r => r.Rule.Id == "PAGE-4");
        Assert.Equal(KernelMm.Conformance.Running.RuleOutcome.Passed, pageFree.Outcome);
        Assert.True(pageFree.Checks > 0);
        Assert.Equal(KernelMm.Conformance.Running.RuleOutcome.NotApplicable, result.Results.Single(r => r.Rule.Id == "PAGE-8").Outcome);
    }
}
