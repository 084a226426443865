using KernelMm.Conformance.Families.User;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The user family over the wire (protocol 4), with the reference served by examples/reference-server:
/// the same sequences give the same verdicts as in-process, each broken server is caught as exactly the
/// rule it breaks, and a server that speaks protocol 3 gets the user family n/a.
/// </summary>
public class ReferenceServerUserTests(ITestOutputHelper output)
{
    private static SuiteOptions User(int sequences, params Profile[] profiles) =>
        ReferenceServerTests.OneFamily("user", 11, 60, sequences, profiles);

    [Fact]
    public void CorrectServer_PassesTheUserFamily_OverProtocol4_AsTheReferenceDoesInProcess()
    {
        var options = User(10, Profiles.X86_32, Profiles.X86_64);
        using var factory = new ProcessFactory(ReferenceServerTests.Command());
        var wire = SuiteRunner.Run(factory, options);
        var inProcess = SuiteRunner.Run(new ReferenceFactory(), options);
        output.WriteLine($"over the wire: {wire.Operations} checked operations in {wire.Elapsed.TotalSeconds:0.00} s; " +
                         $"in-process: {inProcess.Operations} in {inProcess.Elapsed.TotalSeconds:0.00} s; {factory.Statistics}");

        Assert.True(!wire.Failures.Any(), NativePrograms.Describe(wire));
        Assert.True(factory.ProtocolVersion >= 4, $"protocol {factory.ProtocolVersion}");
        Assert.Equal(0, factory.Statistics.Faults);
        // The same sequences, the same verdicts, rule by rule and profile by profile.
        var userRules = new UserFamily().RuleIds;
        var verdicts = (SuiteResult r) => r.Results.Where(x => userRules.Contains(x.Rule.Id)).Select(x => (x.Rule.Id, x.Profile, x.Outcome)).ToHashSet();
        var overWire = verdicts(wire);
        Assert.Equal(verdicts(inProcess), overWire);
        foreach (var rule in new[] { "MMAP-1", "MMAP-7", "ADDR-4", "UACC-1", "UACC-2", "DRV-1", "DRV-3", "SWAP-1", "SWAP-2" })
            Assert.Contains(overWire, v => v.Id == rule && v.Outcome == RuleOutcome.Passed);
        Assert.Equal(inProcess.Operations, wire.Operations);
    }

    [Theory]
    [InlineData("copy-returns-copied", "UACC-1")]
    [InlineData("mprotect-ignored", "MMAP-6")]
    [InlineData("neither-flag-accepted", "MMAP-3")]
    public void BrokenServer_IsCaughtOverTheWire_AsExactlyItsRule(string fault, string rule)
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--fault", fault));
        var result = SuiteRunner.Run(factory, User(20, Profiles.X86_32));
        var failed = result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();
        Assert.True(failed.SetEquals([rule]) && result.FailedRuleIds.SetEquals([rule]),
            $"expected exactly {rule}, got [{string.Join(", ", failed)}]\n{NativePrograms.Describe(result)}");
        var ce = result.Failures.First().Counterexample!;
        Assert.InRange(ce.ShrunkSteps, 1, ce.OriginalSteps);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void ServerSpeakingProtocol3_BootsWithoutTheUserCapabilities_AndTheUserFamilyIsNotApplicable()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--protocol", "3"));
        using (var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!)
        {
            Assert.Equal(3, factory.ProtocolVersion);
            Assert.Contains(Capability.Vmalloc, mm.Capabilities);
            foreach (var c in new[] { Capability.UserMemory, Capability.Swap, Capability.UserCopy, Capability.DriverMmap })
                Assert.DoesNotContain(c, mm.Capabilities);
        }
        var result = SuiteRunner.Run(factory, User(3, Profiles.X86_32));
        var userRules = new UserFamily().RuleIds;
        Assert.All(result.Results.Where(r => userRules.Contains(r.Rule.Id) && r.Rule.Id.StartsWith("MMAP-")),
            r => Assert.Equal(RuleOutcome.NotApplicable, r.Outcome));
    }
}
