using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Conformance.Specification.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Suite;

/// <summary>
/// "pass" means the rule was checked in states where it could have failed (issue 7 §1). When one
/// failure hides another - every sequence that reaches the second defect trips the first, already
/// masked, rule first - the hidden rule must not be reported as passing.
/// </summary>
public class MaskingTests
{
    private static SuiteResult RunLosing(ulong seed = SuiteRuns.Seed) =>
        SuiteRunner.Run(new ForwardingFactory("loses-max-order-blocks", p => new LosesMaxOrderBlocks(p)), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "pages" },
            Settings = new RunSettings { Seed = seed, Sequences = 60 },
        });

    [Fact]
    public void A_rule_whose_only_failures_lie_behind_a_masked_failure_is_blocked_not_passed()
    {
        var result = RunLosing();
        var row = (string id) => result.Results.Single(r => r.Rule.Id == id);

        Assert.Equal(RuleOutcome.Failed, row("ADDR-11").Outcome);
        var page8 = row("PAGE-8");
        Assert.True(page8.Outcome == RuleOutcome.Blocked, $"PAGE-8 is {page8.Outcome} ({page8.Checks} checks); expected Blocked\n{SuiteRuns.Explain(result)}");
        Assert.Equal("ADDR-11", page8.BlockedBy);
        Assert.Contains("blocked by ADDR-11", page8.Reason);

        // The observation that blocked it is kept, as a (shrunk) sequence that shows it.
        var seen = Assert.IsType<Counterexample>(page8.Counterexample);
        Assert.Equal("PAGE-8", seen.RuleId);
        Assert.Equal("ADDR-11", seen.BlockedBy);
        Assert.Contains($"order-{Profiles.X86_32.MaxOrder}", seen.Message);
        Assert.NotEmpty(seen.Trace);
        Assert.InRange(seen.ShrunkSteps, 1, seen.OriginalSteps);

        // Blocked is not a failure of its own (exactly the broken rule fails) and never a pass.
        Assert.Equal(["ADDR-11"], result.FailedRuleIds.Order());
        Assert.False(result.Passed);
        // Whatever else is blocked (a lost block the model believes free is a double free the
        // implementation accepts: PAGE-4) is blocked by the one failed rule, with its reason.
        Assert.All(result.Blocked, r => Assert.Equal("ADDR-11", r.BlockedBy));
    }

    [Fact]
    public void Blocked_verdicts_are_deterministic()
    {
        var first = RunLosing();
        var second = RunLosing();
        var a = first.Blocked.Select(r => (r.Rule.Id, r.BlockedBy, r.Counterexample!.Message, string.Join("\n", r.Counterexample.Trace))).ToList();
        var b = second.Blocked.Select(r => (r.Rule.Id, r.BlockedBy, r.Counterexample!.Message, string.Join("\n", r.Counterexample.Trace))).ToList();
        Assert.NotEmpty(a);
        Assert.Equal(a, b);
    }

    [Fact]
    public void The_specification_test_of_a_blocked_rule_fails_naming_what_blocks_it()
    {
        var family = SpecificationFamily.Of(typeof(PageAllocatorSpecificationTests))!;
        var run = FamilyRun.Start(family, new RunRequest(new ForwardingFactory("loses-max-order-blocks", p => new LosesMaxOrderBlocks(p)),
            new RunSettings { Seed = SuiteRuns.Seed, Sequences = 60 }, [Profiles.X86_32], [64UL << 20], "Some.TestClass"));

        var page8 = run.Judge(RuleCatalogue.Get("PAGE-8"));
        Assert.Equal(VerdictKind.Failed, page8.Kind); // never a pass
        Assert.StartsWith("PAGE-8 has no verdict on x86-32: it is blocked by ADDR-11, which failed first.", page8.Message);
        Assert.Contains("observed after ADDR-11 had failed", page8.Message);
        Assert.Equal(VerdictKind.Failed, run.Judge(RuleCatalogue.Get("ADDR-11")).Kind);
        Assert.StartsWith("ADDR-11 failed on 1 of 1 profile(s)", run.Judge(RuleCatalogue.Get("ADDR-11")).Message);
    }
}
