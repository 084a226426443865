using System.Text.Json;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Reports;

/// <summary>The JSON result document round-trips and carries the counterexample.</summary>
public class JsonReportTests
{
    [Fact]
    public void HandBuilt_RoundTripsWithTheCounterexample()
    {
        var result = ReportFixtures.HandBuilt();
        var json = JsonReport.Render(result);
        var doc = JsonReport.Parse(json);

        Assert.Equal(JsonReport.Schema, doc.Schema);
        Assert.Equal("broken <impl>", doc.Implementation);
        Assert.False(doc.Passed);
        Assert.Equal(7UL, doc.Seed);
        Assert.Equal(new SettingsDocument(7, 40, 30, 12), doc.Settings);
        Assert.Equal(["x86-32", "linux-2.4"], doc.Profiles);
        Assert.Equal(["64M", "512M"], doc.MemorySizes.Select(m => m.Label));
        Assert.Equal(512UL << 20, doc.MemorySizes[1].Bytes);
        Assert.Equal(result.Results.Count, doc.Results.Count);

        var failed = Assert.Single(doc.Results, r => r.Status == RuleOutcome.Failed);
        Assert.Equal(("PAGE-4", "PAGE", "x86-32", 120L), (failed.Id, failed.Family, failed.Profile, failed.Checks));
        Assert.Equal(RuleCatalogue.Get("PAGE-4").Statement, failed.Statement);
        var ce = failed.Counterexample!;
        var original = ReportFixtures.Counterexample();
        Assert.Equal(ReportFixtures.NastyMessage, ce.Message);
        Assert.Equal(original.Seed, ce.Seed);
        Assert.Equal(7UL, ce.RunSeed);
        Assert.Equal((37, 4), (ce.OriginalSteps, ce.ShrunkSteps));
        Assert.Equal(original.Trace, ce.Trace);
        Assert.Equal(original.CSharp, ce.CSharp);
        Assert.Equal(Replay.Command(result, original), ce.Replay);
        Assert.Contains("[Fact]", ce.Xunit);
        Assert.Contains("ShouldKeep(\"PAGE-4\")", ce.Xunit);
        Assert.Equal(original.Steps, ce.Steps);
        Assert.Equal("PageOp", ce.StepType);
        Assert.True(ce.Reproducible);

        var blocked = Assert.Single(doc.Results, r => r.Status == RuleOutcome.Blocked);
        Assert.Equal(("PAGE-8", "PAGE-4"), (blocked.Id, blocked.BlockedBy));
        Assert.Equal("PAGE-4", blocked.Counterexample!.BlockedBy);
        Assert.Null(blocked.Counterexample.Xunit); // an observation behind another failure is not a regression test
        Assert.Equal(1, doc.Summary.Blocked);

        Assert.Equal("no generated sequence reached this rule's check", doc.Results.Single(r => r.Status == RuleOutcome.NotExercised).Reason);
        Assert.Equal(ReportFixtures.Count(result, RuleOutcome.Passed), doc.Summary.Passed);
        Assert.Equal(1, doc.Summary.Failed);
        Assert.Equal(1, doc.Summary.NotExercised);
        Assert.Equal(1, doc.Summary.NotApplicable);
        Assert.Equal(ReportFixtures.Count(result, RuleOutcome.Pending), doc.Summary.Pending);
        Assert.Equal(123_456, doc.Summary.Operations);
        Assert.Equal(123_456 / 2.5, doc.Summary.OperationsPerSecond, 1);

        // Serialising what was read gives the same text: nothing is lost on the way.
        Assert.Equal(json, JsonSerializer.Serialize(doc, JsonReport.SerializerOptions) + "\n");
    }

    [Fact]
    public void Seeds_AreStrings_StatusesCamelCase()
    {
        var ce = ReportFixtures.Counterexample(seed: ulong.MaxValue);
        using var json = JsonDocument.Parse(JsonReport.Render(ReportFixtures.HandBuilt(ce)));
        var root = json.RootElement;
        Assert.Equal("7", root.GetProperty("seed").GetString());
        var failed = root.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("status").GetString() == "failed");
        Assert.Equal(ulong.MaxValue.ToString(), failed.GetProperty("counterexample").GetProperty("seed").GetString());
        Assert.Contains(root.GetProperty("results").EnumerateArray(), r => r.GetProperty("status").GetString() == "notExercised");
        Assert.Contains(root.GetProperty("results").EnumerateArray(), r => r.GetProperty("status").GetString() == "blocked" && r.GetProperty("blockedBy").GetString() == "PAGE-4");
        Assert.False(root.TryGetProperty("generatedAt", out _));
    }

    [Fact]
    public void RealRun_SummaryMatchesTheResult()
    {
        var result = ReportFixtures.RealRun;
        var doc = JsonReport.Parse(JsonReport.Render(result));
        Assert.Equal("reference", doc.Implementation);
        Assert.Equal(result.Passed, doc.Passed);
        Assert.Equal(RuleCatalogue.All.Count, doc.Results.Count);
        Assert.Equal(result.Operations, doc.Summary.Operations);
        Assert.Equal(result.Sequences, doc.Summary.Sequences);
        var property = Assert.Single(doc.Properties);
        Assert.Equal(("x86-32", 64UL << 20, "x86-32/64M", "pages", false), (property.Profile, property.Memory, property.Label, property.Family, property.Rerun));
        Assert.All(doc.Results.Where(r => r.Status == RuleOutcome.Passed), r => Assert.True(r.Checks > 0));
    }
}
