using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Suite;

/// <summary>
/// Each deliberately broken <see cref="TreeKernel"/> must be caught, and attributed to exactly the
/// one rule it breaks: the suite's failed-rule set is exactly that rule's ID.
/// </summary>
public class FaultIsolationTests
{
    public static TheoryData<Fault> EveryFault => new(Enum.GetValues<Fault>().Where(f => f != Fault.None));

    [Theory]
    [MemberData(nameof(EveryFault))]
    public void The_suite_reports_exactly_the_broken_rule(Fault fault)
    {
        var (profiles, memory, sequences) = Plan(fault);

        // ProtectionIgnored breaks lowmem_reserve, which only the Linux-watermark mode keeps.
        var result = SuiteRuns.Run(new TreeFactory(fault, linuxWatermarks: fault == Fault.ProtectionIgnored), profiles, memory, sequences);

        var expected = new SortedSet<string> { Faults.RuleOf(fault) };
        Assert.True(expected.SetEquals(result.FailedRuleIds),
            $"{fault}: expected exactly [{string.Join(", ", expected)}], the suite reported [{string.Join(", ", result.FailedRuleIds.Order())}]\n{SuiteRuns.Explain(result)}");
    }

    [Fact]
    public void Every_page_family_rule_has_a_fault()
    {
        var covered = Enum.GetValues<Fault>().Where(f => f != Fault.None).Select(Faults.RuleOf).ToHashSet();
        var rules = new KernelMm.Conformance.Families.Pages.PageFamily().RuleIds;
        Assert.Empty(rules.Except(covered));
    }

    /// <summary>Where each fault can show, and how hard to look: the profiles and memory sizes it needs, kept small for speed.</summary>
    private static (Profile[] Profiles, ulong[] Memory, int Sequences) Plan(Fault fault) => fault switch
    {
        // Only a machine with HIGHMEM (more than 896 MiB on the 32-bit profiles) can show these.
        Fault.KernelGetsHighmem or Fault.HighmemHasDirectAddress or Fault.UserGetsHighmem =>
            ([Profiles.X86_32, Profiles.Linux2_4], SuiteRuns.Large, 60),
        // HIGHMEM needed too, but one machine with it is enough: the edge of low memory (exhaustion)
        // and two live kmaps come up in most sequences.
        Fault.AddressCallsFallBackToHighmem => ([Profiles.X86_32], [1UL << 30], 40),
        Fault.KmapSlotSearchOffByOne => ([Profiles.X86_32, Profiles.Linux2_4], [1UL << 30], 60),
        // The generator rarely needs reclaim below the maximum order (a filled page cache, then
        // GFP_ATOMIC or GFP_NOWAIT exhaustion, then a sleeping request): look longer, on small machines.
        Fault.NoReclaim => ([.. Profiles.All], [64UL << 20], 300),
        // The 2.4 profile has another maximum order (9).
        Fault.MaxOrderRefused => ([Profiles.X86_32, Profiles.Linux2_4, Profiles.Bit64_8K], [64UL << 20, 1UL << 30], 60),
        _ => ([Profiles.X86_32, Profiles.Bit64_8K], [64UL << 20, 1UL << 30], 60),
    };
}
