using KernelMm.Spec.Rules;
using KernelMm.Tests.HeapVariants;
using KernelMm.Tests.UserVariants;
using KernelMm.Tests.Variants;
using KernelMm.Tests.VmVariants;

namespace KernelMm.Tests.Spec;

/// <summary>
/// Statement, check and mutant are one grep apart: every encoded rule has a broken implementation
/// that the suite must catch, and every rule that is not encoded says why.
/// </summary>
public class ComplianceTests
{
    [Fact]
    public void EveryEncodedRule_HasADeliberatelyBrokenImplementation()
    {
        var mutated = Enum.GetValues<Fault>().Where(f => f != Fault.None).Select(Faults.RuleOf)
            .Concat(Enum.GetValues<HeapFault>().Where(f => f != HeapFault.None).Select(HeapFaults.RuleOf))
            .Concat(Enum.GetValues<UserBreak>().Select(UserBreaks.RuleOf))
            .Concat(Enum.GetValues<VmFault>().Where(f => f != VmFault.None).Select(VmFaults.RuleOf))
            .Concat(Enum.GetValues<KernelMm.Tests.Parallel.AtomicFault>().Where(f => f != KernelMm.Tests.Parallel.AtomicFault.None).Select(_ => "ATOM-1"))
            .ToHashSet();
        var missing = RuleCatalogue.All.Where(r => r.Status == RuleStatus.Encoded && !mutated.Contains(r.Id)).Select(r => r.Id).ToList();
        Assert.True(missing.Count == 0, $"encoded rules without a broken variant: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EveryRuleNotEncoded_SaysWhy()
    {
        var silent = RuleCatalogue.All.Where(r => r.Status != RuleStatus.Encoded && !r.Check.StartsWith("Pending:")).Select(r => r.Id).ToList();
        Assert.True(silent.Count == 0, $"rules not encoded without a reason: {string.Join(", ", silent)}");
    }
}
