using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Suite;

/// <summary>
/// A crash is charged to the rule whose check was running (docs/protocol.md), the call that
/// crashed is the last step of the counterexample and its replay crashes again, a crash in a
/// sequence whose rule is already masked is never a passing sequence, and a failure that does not
/// repeat keeps its first message (issue 7 §1).
/// </summary>
public class CrashAttributionTests
{
    private static readonly Profile Small = Profiles.X86_32.WithMemory(64UL << 20);

    private static SuiteResult Run(IImplementationFactory factory, int sequences = 40) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "pages" },
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = sequences, MaxSteps = 40 },
        });

    [Fact]
    public void A_process_crash_in_a_free_is_charged_to_the_free_rule_and_is_the_last_step()
    {
        var factory = new ForwardingFactory("crashes-at-free", p => new CrashesAtFree(p));
        var result = Run(factory);

        var failure = Assert.Single(result.Failures);
        Assert.Equal("PAGE-4", failure.Rule.Id); // the check of the free, not the family's primary rule PAGE-1
        var ce = failure.Counterexample!;
        Assert.Contains("SIGSEGV", ce.Message);
        Assert.Contains("the implementation process failed during free_pages", ce.Message);
        Assert.StartsWith("free_pages", ce.Trace[^1]);
        Assert.Contains("ImplementationCrashedException", ce.Trace[^1]);
        Assert.Matches(@"^pages\.FreePages(Of)?\(", ce.CSharp[^1]);

        // Replayed, the shrunk steps make the same call, which crashes again, charged to the same rule.
        var replay = new PageFamily().Replay(factory, Small, ce.Ops);
        Assert.Equal("PAGE-4", replay.RuleId);
        Assert.NotNull(replay.Failure);
        Assert.Equal(ce.Trace[^1], replay.Trace[^1]);
    }

    [Fact]
    public void A_crash_after_its_rule_is_masked_cuts_the_sequence_short_and_is_never_a_pass()
    {
        var factory = new ForwardingFactory("corrupts-and-crashes", p => new CorruptsReadsAndCrashesInDrain(p));

        var result = Run(factory, sequences: 60);

        // Both defects are reported: the corruption (PAGE-1) and the crash, charged to the check
        // that reads what drain_caches() should have produced (ADDR-11), not swallowed because
        // PAGE-1 was masked.
        Assert.Contains("PAGE-1", result.FailedRuleIds);
        var crash = Assert.Single(result.Failures, f => f.Counterexample!.Message.Contains("SIGABRT"));
        Assert.NotEqual("PAGE-1", crash.Rule.Id);
        Assert.Equal("drain_caches() -> ImplementationCrashedException: " + "crashed: it was killed by signal 6 (SIGABRT) while answering request 9 {\"op\":\"drainCaches\"}", crash.Counterexample!.Trace[^1]);
        Assert.Equal("pages.DrainCaches();", crash.Counterexample.CSharp[^1]);

        // With the crash's rule masked, the sequences that crash are cut short, not passed: PAGE-8,
        // whose checks all come after drain_caches(), is not reported as passing nor as a gap.
        var outcome = new PageFamily().Run(factory, Small, new RunSettings { Seed = SuiteRuns.Seed, Sequences = 40, MaxSteps = 40 }, new HashSet<string> { crash.Rule.Id, "PAGE-1" });
        Assert.True(outcome.CutShort.GetValueOrDefault(crash.Rule.Id) > 0, $"no sequence was cut short by {crash.Rule.Id}");
        Assert.Equal(0, outcome.Checks.GetValueOrDefault("PAGE-8"));
        var page8 = result.Results.Single(r => r.Rule.Id == "PAGE-8");
        Assert.Equal(RuleOutcome.Blocked, page8.Outcome);
        Assert.Contains("not reached", page8.Reason);
    }

    [Fact]
    public void A_failure_that_does_not_repeat_keeps_its_first_message()
    {
        var once = new CrashesOnce();
        var result = Run(once.Factory);

        var failure = Assert.Single(result.Failures);
        var ce = failure.Counterexample!;
        Assert.False(ce.Reproducible);
        Assert.Contains(CrashesOnce.Message, ce.Message); // the signal and the stderr line, as first seen
        Assert.DoesNotContain("did not fail again", ce.Message);
        Assert.Contains("replayed, they ran to the end without failing", ce.Trace[^1]);
        Assert.NotEmpty(ce.Ops);
    }
}
