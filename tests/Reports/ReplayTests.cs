using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;

namespace KernelMm.Tests.Reports;

/// <summary>One replay command, used by every report, naming the settings the failing property ran with.</summary>
public class ReplayTests
{
    [Fact]
    public void Command_UsesTheRunSettings()
    {
        var result = ReportFixtures.HandBuilt();
        var ce = result.Failures.Single().Counterexample!;
        Assert.Equal("dotnet run --project conformance/Cli -- run --profile x86-32 --memory 512M --replay 7 --sequences 40 --max-steps 30 --family pages",
            Replay.Command(result, ce));
        Assert.Equal("kmm run --profile x86-32 --memory 512M --replay 7 --sequences 40 --max-steps 30 --family pages", Replay.Command(result, ce, "kmm"));
    }

    [Fact]
    public void Command_ForASavedFailure_UsesItsSavedSettings()
    {
        var ce = ReportFixtures.Counterexample();
        var saved = new PropertyKey("x86-32", 512UL << 20, "pages", new RunSettings { Seed = 99, Sequences = 5, MaxSteps = 15 });
        var result = ReportFixtures.HandBuilt(ce, [new PropertyRun(saved, true, [ce], 10, 5)]);
        Assert.EndsWith("run --profile x86-32 --memory 512M --replay 99 --sequences 5 --max-steps 15 --family pages", Replay.Command(result, ce));
    }

    [Fact]
    public void ConsoleReport_UsesTheReplayCommand_AndPrintsTheSnippetWhenAsked()
    {
        var result = ReportFixtures.HandBuilt();
        var ce = result.Failures.Single().Counterexample!;
        var plain = ConsoleReport.Render(result);
        Assert.Contains($"  replay: {Replay.Command(result, ce)}", plain);
        Assert.DoesNotContain("[Fact]", plain);

        var withSnippet = ConsoleReport.Render(result, new ReportOptions { XunitSnippets = true });
        Assert.Contains("as an xunit test", withSnippet);
        Assert.Contains("ShouldKeep(\"PAGE-4\")", withSnippet);
        Assert.Contains("    [Fact]", withSnippet);
        Assert.Contains($"public void {XunitSnippet.MethodName(ce)}()", withSnippet);
        Assert.Contains("summary: ", withSnippet);
        Assert.Contains("  as C#:", plain);
        Assert.DoesNotContain("  as C#:", withSnippet); // the test holds the same lines
    }
}
