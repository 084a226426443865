using KernelMm.Conformance.Families.User;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Suite;
using KernelMm.Tests.UserVariants;

namespace KernelMm.Tests.User;

/// <summary>
/// The user family's teeth and its fairness: each broken variant is reported as exactly its rule,
/// and two correct configurations (today's choices, and the other legal ones) pass every rule.
/// </summary>
public class UserSuiteTests
{
    private const ulong MiB = 1UL << 20;

    private static SuiteResult RunUser(IImplementationFactory factory, IReadOnlyList<Profile> profiles, IReadOnlyList<ulong> memory, int sequences, ulong seed = SuiteRuns.Seed) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = profiles,
            MemorySizes = memory,
            Families = new HashSet<string> { "user" },
            Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = 60 },
        });

    public static TheoryData<UserBreak> EveryBreak => new(Enum.GetValues<UserBreak>());

    [Theory]
    [MemberData(nameof(EveryBreak))]
    public void The_suite_reports_exactly_the_broken_rule(UserBreak broken)
    {
        // One profile keeps CI short; x86-32 shows every break (DRV-2's only shows where sizes must be page multiples).
        var result = RunUser(new BrokenUserFactory(broken), [Profiles.X86_32], [64 * MiB], 80);

        var expected = new SortedSet<string> { UserBreaks.RuleOf(broken) };

        Assert.True(expected.SetEquals(result.FailedRuleIds),
            $"{broken}: expected exactly [{string.Join(", ", expected)}], the suite reported [{string.Join(", ", result.FailedRuleIds.Order())}]\n{SuiteRuns.Explain(result)}");
    }

    [Fact]
    public void Every_user_family_rule_has_a_break()
    {
        var covered = Enum.GetValues<UserBreak>().Select(UserBreaks.RuleOf).ToHashSet();
        Assert.Empty(new UserFamily().RuleIds.Except(covered));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Correct_user_spaces_pass_every_user_rule_on_every_profile(bool otherChoices)
    {
        var policy = otherChoices
            ? new UserSpacePolicy { Layout = MmapLayout.BottomUp, SwapVictims = SwapVictimOrder.NewestFirst, EagerForkCopy = true }
            : UserSpacePolicy.Default;
        var result = RunUser(new ReferenceFactory(policy), [.. Profiles.All, Profiles.X86_64], [64 * MiB, 1024 * MiB], 20);

        Assert.True(result.Failures.Count() == 0 && result.Results.All(r => r.Outcome != RuleOutcome.NotExercised), SuiteRuns.Explain(result));
        var userRules = new UserFamily().RuleIds;
        var notPassed = result.Results.Where(r => userRules.Contains(r.Rule.Id) && r.Outcome != RuleOutcome.Passed)
            .Select(r => $"{r.Rule.Id} on {r.Profile}: {r.Outcome} ({r.Reason})").ToList();
        Assert.True(notPassed.Count == 0, string.Join("\n", notPassed));
    }
}
