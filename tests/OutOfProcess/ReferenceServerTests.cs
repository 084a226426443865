using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The C# reference served over the protocol (examples/reference-server): the out-of-process example
/// that carries the vm family (protocol 3). The correct server passes every vm rule the reference passes
/// in-process; a broken one is caught as exactly the rule it breaks; older protocol versions still boot.
/// </summary>
public class ReferenceServerTests(ITestOutputHelper output)
{
    /// <summary>dotnet and the server's build output (built by the test project's reference to it).</summary>
    public static string[] Command(params string[] options)
    {
        // tests/bin/<Configuration>/<tfm>/ -> examples/reference-server/bin/<Configuration>/<tfm>/
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string dll = Path.Combine(NativePrograms.FindRoot(), "examples", "reference-server", "bin", bin.Parent!.Name, bin.Name, "kmm-reference-server.dll");
        Assert.True(File.Exists(dll), $"{dll} is not built");
        return ["dotnet", dll, .. options];
    }

    /// <summary>One family at 64 MiB with a fixed seed: the shape of every over-the-wire run of these tests.</summary>
    internal static SuiteOptions OneFamily(string family, ulong seed, int maxSteps, int sequences, params Profile[] profiles) => new()
    {
        Profiles = profiles,
        MemorySizes = [64UL << 20],
        Families = new HashSet<string> { family },
        Settings = new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps },
    };

    private static SuiteOptions Vm(int sequences, params Profile[] profiles) => OneFamily("vm", 7, 40, sequences, profiles);

    [Fact]
    public void CorrectServer_PassesTheVmFamily_OverProtocol3_AsTheReferenceDoesInProcess()
    {
        var options = Vm(12, Profiles.X86_32, Profiles.Bit64_8K);
        using var factory = new ProcessFactory(Command());
        var wire = SuiteRunner.Run(factory, options);
        var inProcess = SuiteRunner.Run(new ReferenceFactory(), options);
        output.WriteLine($"over the wire: {wire.Operations} checked operations in {wire.Elapsed.TotalSeconds:0.00} s " +
                         $"({wire.Operations / wire.Elapsed.TotalSeconds:0} ops/s); in-process: {inProcess.Operations} in {inProcess.Elapsed.TotalSeconds:0.00} s " +
                         $"({inProcess.Operations / inProcess.Elapsed.TotalSeconds:0} ops/s); {factory.Statistics}");

        Assert.True(!wire.Failures.Any(), NativePrograms.Describe(wire));
        Assert.Equal(Protocol.Latest, factory.ProtocolVersion);
        Assert.Equal("reference-server", factory.DeclaredName);
        Assert.Equal(0, factory.Statistics.Faults);
        // The same sequences, the same verdicts: the wire neither loses a check nor invents a failure.
        var passedInProcess = inProcess.Results.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => (r.Rule.Id, r.Profile)).ToHashSet();
        var passedOverWire = wire.Results.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => (r.Rule.Id, r.Profile)).ToHashSet();
        Assert.Contains(passedOverWire, p => p.Id == "VMAL-1");
        Assert.Contains(passedOverWire, p => p.Id == "ADDR-8");
        Assert.Contains(passedOverWire, p => p.Id == "DRV-5");
        Assert.Empty(passedInProcess.Except(passedOverWire));
        Assert.Equal(inProcess.Operations, wire.Operations);
    }

    [Theory]
    [InlineData("double-vfree", "VMAL-6")]
    [InlineData("unmapped-reads-zero", "ADDR-6")]
    public void BrokenServer_IsCaughtOverTheWire_AsExactlyItsRule(string fault, string rule)
    {
        using var factory = new ProcessFactory(Command("--fault", fault));
        var result = SuiteRunner.Run(factory, Vm(30, Profiles.X86_32));
        var failed = result.Properties.SelectMany(p => p.Failures).Select(f => f.RuleId).ToHashSet();
        Assert.True(failed.SetEquals([rule]) && result.FailedRuleIds.SetEquals([rule]),
            $"expected exactly {rule}, got [{string.Join(", ", failed)}]\n{NativePrograms.Describe(result)}");
        var ce = result.Failures.First().Counterexample!;
        Assert.InRange(ce.ShrunkSteps, 1, ce.OriginalSteps);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void ServerSpeakingProtocol2_BootsWithoutTheVmCapabilities_AndTheVmFamilyIsNotApplicable()
    {
        using var factory = new ProcessFactory(Command("--protocol", "2"));
        using (var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!)
        {
            Assert.Equal(2, factory.ProtocolVersion);
            Assert.Contains(Capability.SlabCache, mm.Capabilities);
            Assert.DoesNotContain(Capability.Vmalloc, mm.Capabilities);
            Assert.DoesNotContain(Capability.KernelPageTables, mm.Capabilities);
            Assert.False(mm is IVmalloc && mm.Capabilities.Contains(Capability.Vmalloc));
        }
        var result = SuiteRunner.Run(factory, Vm(3, Profiles.X86_32));
        Assert.All(result.Results.Where(r => r.Rule.Id.StartsWith("VMAL-")), r => Assert.Equal(RuleOutcome.NotApplicable, r.Outcome));
    }
}
