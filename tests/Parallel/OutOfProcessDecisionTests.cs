using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.OutOfProcess;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// The decision of docs/protocol.md, "CPU lanes": parallel checking travels over protocol 5 only. A program
/// declaring AtomicT or Smp must also say how many lanes it runs ("cpus": a clean boot refusal naming the reason
/// otherwise), and for a program of an older protocol ATOM-1 and the smp family's own run are n/a with the
/// reason, never passed (tests/OutOfProcess/ReferenceServerLaneTests runs the lanes themselves).
/// </summary>
[Collection("OutOfProcess")]
public class OutOfProcessDecisionTests
{
    [Fact]
    public void A_protocol_4_implementation_gets_ATOM_1_not_applicable_with_the_reason()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--protocol", "4"));
        var result = SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "atomic", "smp" },
            Settings = new RunSettings { Sequences = 5 },
        });
        var atom = result.Results.Single(r => r.Rule.Id == "ATOM-1");
        Assert.Equal(RuleOutcome.NotApplicable, atom.Outcome);
        Assert.Equal("not declared: AtomicT (checked in parallel: in-process, or over protocol 5's CPU lanes: docs/protocol.md, \"CPU lanes\")", atom.Reason);
        Assert.Equal(0, result.Sequences);
        Assert.Empty(result.Failures);
    }

    [Theory]
    [InlineData("AtomicT")]
    [InlineData("Smp")]
    public void A_program_declaring_a_parallel_capability_without_cpus_is_refused_at_boot_naming_it(string capability)
    {
        var script = Path.Combine(Path.GetTempPath(), $"kmm-declares-{capability}-{Environment.ProcessId}.sh");
        File.WriteAllText(script,
            "#!/bin/sh\nread line\n" +
            $"echo '{{\"id\":1,\"ok\":true,\"protocol\":{Protocol.Latest},\"name\":\"parallel\",\"capabilities\":[\"PageAllocator\",\"{capability}\"]}}'\n" +
            "while read line; do :; done\n");
        try
        {
            // Run by /bin/sh, not executed itself: a file this process has just written can still be open for writing in a
            // child another test thread is forking (until that child execs), and then exec of it fails with "Text file busy".
            using var factory = new ProcessFactory(["/bin/sh", script]);
            using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20));
            // The boot failed: its first call raises the boot fault, naming the reason.
            Assert.NotNull(mm);
            var e = Assert.ThrowsAny<ImplementationFaultException>(() => ((KernelMm.Spec.Contract.IPageAllocator)mm!).GetFreePages(KernelMm.Spec.Contract.Gfp.Kernel, 0));
            Assert.Contains(capability, e.Message);
            Assert.Contains("no \"cpus\"", e.Message);
            Assert.Same(e.GetType(), factory.Statistics.LastFault!.GetType());
        }
        finally
        {
            File.Delete(script);
        }
    }
}
