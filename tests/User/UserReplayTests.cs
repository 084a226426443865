using KernelMm.Conformance.Families.User;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Suite;
using KernelMm.Tests.UserVariants;

namespace KernelMm.Tests.User;

/// <summary>
/// A user-family counterexample replays: its shrunk steps are <see cref="UserOp"/> values, printed as
/// C# that builds them, and running them again through <see cref="IConformanceFamily.Replay"/> breaks
/// the same rule on the broken variant and nothing on the reference.
/// </summary>
public class UserReplayTests
{
    private const ulong MiB = 1UL << 20;

    [Theory]
    [InlineData(UserBreak.CopyReturnsCopied)]
    [InlineData(UserBreak.PrivateWriteReachesFile)]
    public void A_user_counterexample_replays_to_the_same_rule_and_prints_as_UserOp_steps(UserBreak broken)
    {
        var profile = Profiles.X86_32.WithMemory(64 * MiB);
        var factory = new BrokenUserFactory(broken);
        var family = SuiteRunner.Families.Single(f => f.Name == "user");
        var outcome = family.Run(factory, profile, new RunSettings { Seed = SuiteRuns.Seed, Sequences = 80, MaxSteps = 60 }, new HashSet<string>());
        string rule = UserBreaks.RuleOf(broken);
        Assert.True(outcome.Failures.TryGetValue(rule, out var ce), $"{broken}: no {rule} counterexample; failures [{string.Join(", ", outcome.Failures.Keys)}]");

        Assert.Equal(typeof(UserOp), family.StepType);
        Assert.Equal("UserOp", ce!.StepType);
        Assert.NotEmpty(ce.Ops);
        Assert.Equal(ce.Ops.Count, ce.Steps.Count);
        Assert.All(ce.Steps, s => Assert.StartsWith("new UserOp(UserOpKind.", s));
        Assert.Contains(typeof(UserOp).Namespace!, ce.StepNamespaces);

        var again = family.Replay(factory, profile, ce.Ops);
        Assert.True(again.RuleId == rule, $"replayed, the steps broke {again.RuleId ?? "nothing"}, not {rule}: {again.Message}");
        var onReference = family.Replay(new ReferenceFactory(), profile, ce.Ops);
        Assert.True(onReference.Held, $"the reference breaks {onReference.RuleId} on the replayed steps: {onReference.Message}");

        var printed = XunitSnippet.Render(ce, "new BrokenUserFactory(UserBreak." + broken + ")");
        Assert.Contains("    UserOp[] steps =", printed);
        Assert.Contains($"Replay.Sequence(factory, profile, \"user\", steps).ShouldKeep(\"{rule}\");", printed);
        Assert.Contains("using KernelMm.Conformance.Families.User;", printed);
    }

    [Fact]
    public void Replaying_steps_of_another_family_is_a_typed_error()
    {
        var family = SuiteRunner.Families.Single(f => f.Name == "user");
        var e = Assert.Throws<ArgumentException>(() => family.Replay(new ReferenceFactory(), Profiles.X86_32.WithMemory(64 * MiB), ["not a step"]));
        Assert.Contains("UserOp", e.Message);
    }
}
