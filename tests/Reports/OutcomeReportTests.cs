using System.Xml.Linq;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;

namespace KernelMm.Tests.Reports;

/// <summary>
/// The outcomes issue 7 added, in every report format: a rule blocked by another's failure (never
/// shown as a pass, always with what blocked it) and a failure that did not repeat on replay.
/// </summary>
public class OutcomeReportTests
{
    [Fact]
    public void Console_ShowsTheBlockedCellTheBlockedSectionAndCountsIt()
    {
        var result = ReportFixtures.HandBuilt();
        var text = ConsoleReport.Render(result);

        var page8 = text.Split('\n').Single(l => l.StartsWith("PAGE-8 ", StringComparison.Ordinal));
        Assert.StartsWith("PAGE-8   BLOCKED ", page8); // the x86-32 cell is not a pass
        Assert.Contains("BLOCKED PAGE-8 on x86-32 by PAGE-4: no verdict until PAGE-4 is fixed", text);
        Assert.Contains("observed after PAGE-4 had failed", text);
        Assert.Contains("zone Normal has 13 free order-10 blocks", text);
        Assert.Contains(", 1 blocked, ", ConsoleReport.Summary(result));
        Assert.False(result.Passed);
    }

    [Fact]
    public void A_result_whose_only_problem_is_a_blocked_rule_does_not_pass()
    {
        var result = ReportFixtures.HandBuilt();
        var onlyBlocked = result with
        {
            Results = result.Results.Select(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised ? r with { Outcome = RuleOutcome.Passed, Counterexample = null } : r).ToList(),
        };
        Assert.False(onlyBlocked.Passed);
        Assert.False(JsonReport.Parse(JsonReport.Render(onlyBlocked)).Passed);
    }

    [Fact]
    public void Every_format_flags_a_failure_that_did_not_repeat()
    {
        var result = ReportFixtures.HandBuilt(ReportFixtures.Counterexample() with { Reproducible = false });

        Assert.Contains(ReportText.NotReproducible, ConsoleReport.Render(result));
        Assert.Contains(HtmlReport.E(ReportText.NotReproducible), HtmlReport.Render(result));
        var junit = XDocument.Parse(JUnitReport.Render(result));
        Assert.Contains(ReportText.NotReproducible, junit.Descendants("failure").First(f => (string?)f.Attribute("type") == "RuleViolation").Value);
        var json = JsonReport.Parse(JsonReport.Render(result));
        Assert.False(json.Results.Single(r => r.Status == RuleOutcome.Failed).Counterexample!.Reproducible);
        // The first message is what every format shows.
        Assert.Contains(ReportFixtures.NastyMessage, ConsoleReport.Render(result));
    }
}
