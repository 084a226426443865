using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// What a program may declare in its hello answer (issue 10): any set of the capabilities its protocol
/// carries, PageAllocator or not. A program that never boots is not passed by default.
/// </summary>
public class DeclarationTests
{
    private static readonly Profile X86_32 = Profiles.X86_32.WithMemory(64UL << 20);

    /// <summary>A shell program answering every request with the same JSON (the request's id spliced in).</summary>
    private static string[] Answering(string json) =>
        ["sh", "-c", "while IFS= read -r l; do id=${l#*\\\"id\\\":}; id=${id%%,*}; printf '{\"id\":%s,%s}\\n' \"$id\" '" + json + "'; done"];

    [Fact]
    public void A_program_without_PageAllocator_is_accepted_with_what_it_declares()
    {
        using var factory = new ProcessFactory(Answering("\"ok\":true,\"protocol\":3,\"name\":\"x\",\"capabilities\":[\"Vmalloc\",\"KernelPageTables\"]"));
        using var mm = factory.Create(X86_32)!;
        Assert.Equal(new HashSet<Capability> { Capability.Vmalloc, Capability.KernelPageTables }, mm.Capabilities);
        Assert.Equal(1, factory.Statistics.Boots);
    }

    /// <summary>
    /// A program that never boots is taken to declare everything its protocol carries, so the family a run
    /// selects fails with the boot fault instead of being n/a (which would pass the run).
    /// </summary>
    [Theory]
    [InlineData("user")]
    [InlineData("vm")]
    [InlineData("pages")]
    public void A_program_that_never_boots_fails_the_selected_family(string family)
    {
        using var factory = new ProcessFactory(["sh", "-c", "exit 3"]);
        var result = SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_64],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { family },
            Settings = new RunSettings { Seed = 1, Sequences = 2, MaxSteps = 5 },
        });
        Assert.False(result.Passed);
        var failure = Assert.Single(result.Failures);
        Assert.Contains("boot failed", failure.Counterexample!.Message);
        Assert.Equal([family], result.Properties.Select(p => p.Key.Family).Distinct());
    }
}
