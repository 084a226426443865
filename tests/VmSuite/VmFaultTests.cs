using KernelMm.Conformance.Families.Vm;
using KernelMm.Conformance.Specification;
using KernelMm.Reference;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.VmVariants;

namespace KernelMm.Tests.VmSuite;

/// <summary>
/// Each deliberately broken <see cref="HashedVmKernel"/> must be caught by the vm family and
/// attributed to exactly the one rule it breaks: no other rule, in or outside the family's list,
/// may fail.
/// </summary>
public class VmFaultTests
{
    public static TheoryData<VmFault> EveryFault => new(Enum.GetValues<VmFault>().Where(f => f != VmFault.None));

    internal sealed record FaultPlan(Profile[] Profiles, ulong[] Memory, int Sequences, int MaxSteps = 60);

    [Theory]
    [MemberData(nameof(EveryFault))]
    public void The_vm_family_reports_exactly_the_broken_rule(VmFault fault)
    {
        var plan = Plan(fault);
        var result = VmRuns.Run(new HashedVmFactory(fault), plan.Profiles, plan.Memory, plan.Sequences, plan.MaxSteps);

        string rule = VmFaults.RuleOf(fault);
        var failed = VmRuns.EveryFailedRule(result);
        Assert.True(failed.SetEquals([rule]) && result.FailedRuleIds.SetEquals([rule]),
            $"{fault}: expected exactly [{rule}], the suite reported [{string.Join(", ", result.FailedRuleIds.Order())}] "
            + $"(all counterexamples: [{string.Join(", ", failed.Order())}])\n{VmRuns.Explain(result)}");
    }

    [Fact]
    public void A_vm_failure_is_shrunk_and_replays_identically_with_the_same_seed()
    {
        SuiteResult Run() => VmRuns.Run(new HashedVmFactory(VmFault.DoubleVfreeSilent), [Profiles.X86_32], VmRuns.Small, 30);

        var first = Run();
        var ce = Assert.Single(first.Failures).Counterexample!;
        Assert.Equal("VMAL-6", ce.RuleId);
        Assert.InRange(ce.ShrunkSteps, 1, ce.OriginalSteps);
        Assert.Equal(ce.Trace.Count, ce.CSharp.Count);
        Assert.Contains(ce.CSharp, l => l.Contains("vm.Vfree("));
        Assert.Contains(ce.CSharp, l => l.StartsWith("Assert.Throws<KernelBugException>(() => vm.Vfree(", StringComparison.Ordinal));

        var again = Assert.Single(Run().Failures).Counterexample!;
        Assert.Equal((ce.Seed, ce.ShrunkSteps, ce.Message), (again.Seed, again.ShrunkSteps, again.Message));
        Assert.Equal(ce.CSharp, again.CSharp);

        // The shrunk steps are VmOps the printed regression test carries, and replaying them (what
        // Replay.Sequence(...).ShouldKeep does) breaks the same rule on the variant and nothing on the reference.
        Assert.Equal("VmOp", ce.StepType);
        Assert.Equal(ce.ShrunkSteps, ce.Steps.Count);
        Assert.All(ce.Steps, step => Assert.StartsWith("new VmOp(VmOpKind.", step));
        var profile = Profiles.X86_32.WithMemory(VmRuns.Small[0]);
        var replayed = new VmFamily().Replay(new HashedVmFactory(VmFault.DoubleVfreeSilent), profile, ce.Ops);
        Assert.True(replayed.RuleId == "VMAL-6", $"replay on the variant: {replayed.RuleId}: {replayed.Message}");
        var onReference = Replay.Sequence(new ReferenceFactory(), profile, "vm", ce.Ops.Cast<VmOp>().ToArray());
        Assert.True(onReference.BrokenRule is null, $"replay on the reference: {onReference.BrokenRule}: {onReference.Outcome.Message}");
        onReference.ShouldKeep("VMAL-6");
        var e = Assert.Throws<RuleFailedException>(() => Replay.Sequence(new HashedVmFactory(VmFault.DoubleVfreeSilent), profile, "vm", ce.Ops).ShouldKeep("VMAL-6"));
        Assert.StartsWith("VMAL-6: ", e.Message);
    }

    [Fact]
    public void Every_vm_family_rule_has_a_fault()
    {
        var covered = Enum.GetValues<VmFault>().Where(f => f != VmFault.None).Select(VmFaults.RuleOf).ToHashSet();
        Assert.Empty(new VmFamily().RuleIds.Except(covered));
    }

    /// <summary>Where each fault can show and how hard to look, kept small for speed.</summary>
    internal static FaultPlan Plan(VmFault fault) => fault switch
    {
        // Only a machine with HIGHMEM and a PKMAP window can run out of slots.
        VmFault.KunmapKeepsMapping => new([Profiles.X86_32], [1UL << 30], 40, 100),
        // Deferred vfree in interrupt context exists only on linux-6; the others need no particular profile.
        _ => new([Profiles.X86_32, Profiles.Bit64_8K], VmRuns.Small, 30),
    };
}
