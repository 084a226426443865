using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Conformance.Specification.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;
using ThirdPartySample;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>How each rule test judges a family run: failures with counterexamples, passes, and skips with reasons.</summary>
public sealed class VerdictTests
{
    private static readonly SpecificationFamily Pages = SpecificationFamily.Of(typeof(PageAllocatorSpecificationTests))!;

    /// <summary>One small profile and memory size: enough to reach every page rule, fast.</summary>
    private static FamilyRun Run(IImplementationFactory factory, SpecificationFamily? family = null) =>
        FamilyRun.Start(family ?? Pages, new RunRequest(factory, new RunSettings { Sequences = 30 }, [Profiles.X86_32], [64UL << 20], "Some.TestClass"));

    private static RuleVerdict Judge(FamilyRun run, string ruleId) => run.Judge(RuleCatalogue.Get(ruleId));

    [Fact]
    public void Broken_rule_fails_with_the_shrunk_counterexample_and_a_replay_hint()
    {
        var run = Run(new SilentBadFreeFactory(new SampleFactory()));
        var verdict = Judge(run, "PAGE-4");
        Assert.Equal(VerdictKind.Failed, verdict.Kind);
        Assert.StartsWith("PAGE-4 failed on 1 of 1 profile(s) for 'sample-buddy/silent-bad-free'.", verdict.Message);
        Assert.Contains(RuleCatalogue.Get("PAGE-4").Statement, verdict.Message);
        Assert.Contains("FAILED PAGE-4 on x86-32/64M (family pages, property seed ", verdict.Message);
        Assert.Contains("must be reported as PAGE-4, got no error", verdict.Message);
        Assert.Contains("  sequence:\n", verdict.Message);
        // A regression test that compiles as printed (a whole file: no C# fragment with undefined
        // variables) and replays the steps through the rule's own check.
        Assert.DoesNotContain("  as C#:\n", verdict.Message);
        Assert.Contains("  as a regression test", verdict.Message);
        Assert.Contains("    using KernelMm.Conformance.Specification;\n", verdict.Message);
        Assert.Contains("            new PageOp(PageOpKind.", verdict.Message);
        Assert.Contains("Replay.Sequence(factory, profile, \"pages\", steps).ShouldKeep(\"PAGE-4\");", verdict.Message);
        Assert.Contains("'sample-buddy/silent-bad-free'", verdict.Message); // its factory cannot be rebuilt from outside: the test says where to build it
        Assert.Contains("replay: the run is deterministic (seed 1, 30 sequences of up to 60 steps): dotnet test --filter \"FullyQualifiedName~Some.TestClass&Rule=PAGE-4\"", verdict.Message);
        Assert.Contains("Profiles => [x86-32] and MemorySizes => [64M]", verdict.Message);
    }

    [Fact]
    public void The_replay_api_fails_with_the_rule_on_the_broken_implementation_and_passes_on_the_sample()
    {
        var ce = Run(new SilentBadFreeFactory(new SampleFactory())).Result!.Failures.Single(f => f.Rule.Id == "PAGE-4").Counterexample!;
        var profile = Profiles.X86_32.WithMemory(64UL << 20);

        var e = Assert.Throws<RuleFailedException>(() => Replay.Sequence(new SilentBadFreeFactory(new SampleFactory()), profile, "pages", ce.Ops).ShouldKeep("PAGE-4"));
        Assert.StartsWith($"PAGE-4: {ce.Message}\n", e.Message);
        Replay.Sequence(new SampleFactory(), profile, "pages", ce.Ops).ShouldKeep("PAGE-4");

        Assert.Throws<ArgumentException>(() => Replay.Sequence(new SampleFactory(), profile, "no-such-family", ce.Ops));
        Assert.Throws<ArgumentException>(() => Replay.Sequence(new SampleFactory(), profile, "heap", ce.Ops.Cast<KernelMm.Conformance.Families.Pages.PageOp>().ToArray()));
        Assert.Throws<ArgumentException>(() => Replay.Sequence(new SampleFactory(), profile, "pages", ce.Ops).ShouldKeep("NOPE-1"));
    }

    [Fact]
    public void Rules_the_broken_implementation_keeps_still_pass()
    {
        var run = Run(new SilentBadFreeFactory(new SampleFactory()));
        foreach (var id in new[] { "PAGE-1", "PAGE-7", "ADDR-11", "ZONE-1" })
            Assert.Equal(VerdictKind.Passed, Judge(run, id).Kind);
    }

    [Fact]
    public void Passed_rule_notes_its_checks_per_profile()
    {
        var verdict = Judge(Run(new ReferenceFactory()), "PAGE-1");
        Assert.Equal(VerdictKind.Passed, verdict.Kind);
        Assert.Matches(@"^PAGE-1 passed: x86-32 [\d,]+ checks\. Family run: [\d,]+ sequences, [\d,]+ checked operations in [\d.]+ s \(seed 1\)\.$", verdict.Message);
    }

    [Fact]
    public void Rule_needing_undeclared_capabilities_is_skipped_naming_them()
    {
        var run = Run(new SampleFactory());
        var zone4 = Judge(run, "ZONE-4");
        Assert.Equal(VerdictKind.Skipped, zone4.Kind);
        Assert.Equal("n/a: 'sample-buddy' does not declare Highmem, ExecutionContext (the rule needs PageAllocator, Highmem, ExecutionContext)", zone4.Message);
        var gfp4 = Judge(run, "GFP-4");
        Assert.Equal(VerdictKind.Skipped, gfp4.Kind);
        Assert.Contains("does not declare ExecutionContext, Reclaim", gfp4.Message);
    }

    [Fact]
    public void Every_rule_is_skipped_when_the_implementation_does_not_declare_the_family()
    {
        var run = Run(new AtomicOnlyFactory());
        Assert.Null(run.Result);
        foreach (var rule in Pages.Rules)
        {
            var verdict = run.Judge(rule);
            Assert.Equal(VerdictKind.Skipped, verdict.Kind);
            Assert.Equal("n/a: family 'pages' is not supported: 'atomic-only' does not declare Capability.PageAllocator", verdict.Message);
        }
    }

    [Fact]
    public void Family_whose_every_rule_lacks_a_capability_is_not_run_and_each_rule_says_what_it_needs()
    {
        var heap = SpecificationFamily.Of(typeof(HeapSpecificationTests))!;
        var run = Run(new SampleFactory(), heap);
        Assert.Null(run.Result);
        Assert.Equal("n/a: 'sample-buddy' does not declare Kmalloc (the rule needs Kmalloc, PageAllocator)", Judge(run, "KMAL-1").Message);
        Assert.Equal("n/a: 'sample-buddy' does not declare SlabCache (the rule needs SlabCache, PageAllocator)", Judge(run, "SLAB-1").Message);
        Assert.All(heap.Rules, r => Assert.Equal(VerdictKind.Skipped, run.Judge(r).Kind));
    }

    [Fact]
    public void Every_rule_is_skipped_when_no_profile_boots()
    {
        var verdict = Judge(Run(new RefusingFactory()), "PAGE-1");
        Assert.Equal(VerdictKind.Skipped, verdict.Kind);
        Assert.Equal("n/a: 'refuses-everything' boots none of the profiles run (x86-32 at 64M)", verdict.Message);
    }

    [Fact]
    public void Declaring_a_capability_without_its_interface_is_a_setup_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Run(new DeclaringOnlyFactory(Capability.PageAllocator)));
        Assert.Contains("declares PageAllocator but does not implement IPageAllocator", e.Message);
    }

    [Fact]
    public void Family_without_an_engine_has_no_engine_and_claims_no_rule_another_family_checks()
    {
        var draft = SpecificationFamily.Of(typeof(DraftVmallocSpecificationTests))!;
        Assert.Null(draft.Engine);
        Assert.Null(draft.Gate);
        // Every VMAL rule is checked by the vm family now: none is left for a draft family to report pending.
        Assert.Empty(draft.Rules);
    }
}
