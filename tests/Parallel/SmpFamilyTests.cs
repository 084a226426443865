using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.Parallel;

public class SmpFamilyTests(ITestOutputHelper output)
{
    private static SuiteResult Run(IImplementationFactory factory, int sequences = 30, ulong seed = 1) =>
        SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "smp" },
            Settings = new RunSettings { Seed = seed, Sequences = sequences },
        });

    [Fact]
    public void Correct_smp_allocators_pass()
    {
        foreach (var factory in new IImplementationFactory[] { new ReferenceFactory(), new PcpPagesFactory(), new KmallocCpuCacheFactory() })
        {
            var result = Run(factory);
            output.WriteLine(ConsoleReport.Render(result));
            Assert.Empty(result.FailedRuleIds);
        }
    }

    [Fact]
    public void Unsynchronised_free_list_is_caught()
    {
        var result = Run(new PcpPagesFactory(sharedUnlocked: true), 200);
        output.WriteLine(ConsoleReport.Render(result));
        Assert.NotEmpty(result.FailedRuleIds);
    }

    [Fact]
    public void Kmalloc_cpu_cache_without_lock_is_caught()
    {
        var result = Run(new KmallocCpuCacheFactory(sharedUnlocked: true), 200);
        output.WriteLine(ConsoleReport.Render(result));
        Assert.NotEmpty(result.FailedRuleIds);
    }
}
