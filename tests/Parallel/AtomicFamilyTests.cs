using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.Parallel;

public class AtomicFamilyTests(ITestOutputHelper output)
{
    private static SuiteResult Run(IImplementationFactory factory, int sequences = 60, ulong seed = 1) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "atomic" },
            Rules = new HashSet<string> { "ATOM-1" },
            Settings = new RunSettings { Seed = seed, Sequences = sequences },
        });

    [Theory]
    [InlineData(AtomicFault.NonAtomicAdd)]
    [InlineData(AtomicFault.DecAndTestBeforeDecrement)]
    [InlineData(AtomicFault.AddNegativeWrongSign)]
    public void Broken_atomic_is_reported_as_ATOM_1(AtomicFault fault)
    {
        var result = Run(new CasAtomicFactory(fault));
        output.WriteLine(ConsoleReport.Render(result));
        Assert.Equal(["ATOM-1"], result.FailedRuleIds);
    }

    [Fact]
    public void Correct_atomics_pass()
    {
        foreach (var factory in new IImplementationFactory[] { new ReferenceFactory(), new CasAtomicFactory() })
        {
            var result = Run(factory);
            output.WriteLine(ConsoleReport.Render(result));
            Assert.Empty(result.FailedRuleIds);
            Assert.Equal(RuleOutcome.Passed, result.Results.Single(r => r.Rule.Id == "ATOM-1").Outcome);
        }
    }
}
