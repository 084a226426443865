using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// A small fixed-seed run of the vm family against the reference on every profile, with and without
/// HIGHMEM: quick enough to kill mutants of the reference's kernel-VM code (stryker-config.json), while
/// the full run of every family (Suite/CorrectImplementationTests) looks harder.
/// </summary>
public class ReferenceVmCampaignTests
{
    [Fact]
    public void Reference_KeepsEveryVmRule_InASmallCampaign()
    {
        var result = SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
        {
            Profiles = Profiles.All,
            MemorySizes = [64UL << 20, 1UL << 30],
            Families = new HashSet<string> { "vm" },
            Settings = new RunSettings { Seed = 7, Sequences = 8, MaxSteps = 40 },
        });
        var bad = result.Results.Where(r => r.Outcome is RuleOutcome.Failed)
            .Select(r => $"{r.Rule.Id} on {r.Profile}: {r.Counterexample?.Message}").ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad));
        Assert.Empty(result.Properties.SelectMany(p => p.Failures));
        Assert.Contains(result.Results, r => r.Rule.Id == "VMAL-4" && r.Outcome == RuleOutcome.Passed);
    }
}
