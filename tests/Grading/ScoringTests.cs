using KernelMm.Conformance.Grading;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Grading;

/// <summary>Rubrics (parsing, most specific weight, typos refused) and scores (partial credit by profile, n/a policy, pending, outcomes).</summary>
public sealed class ScoringTests
{
    /// <summary>A result document with the given outcome per (rule, profile); every other cataloged rule pending.</summary>
    internal static ResultDocument Result(params (string Rule, string Profile, RuleOutcome Outcome)[] rows) => new()
    {
        Schema = JsonReport.Schema,
        Implementation = "student",
        Passed = rows.All(r => r.Outcome is not (RuleOutcome.Failed or RuleOutcome.NotExercised)),
        Seed = 1,
        Settings = new SettingsDocument(1, 10, 10, 12),
        Profiles = rows.Select(r => r.Profile).Distinct().ToList(),
        MemorySizes = [new MemoryDocument(64UL << 20, "64M")],
        Results = rows.Select(r => new RuleDocument
        {
            Id = r.Rule,
            Family = RuleCatalogue.Contains(r.Rule) ? RuleCatalogue.Get(r.Rule).Family.ToString() : r.Rule.Split('-')[0],
            Statement = "",
            Profile = r.Profile,
            Status = r.Outcome,
            Checks = r.Outcome == RuleOutcome.Passed ? 10 : 0,
            BlockedBy = r.Outcome == RuleOutcome.Blocked ? "PAGE-4" : null,
        }).ToList(),
        Summary = new SummaryDocument(),
    };

    [Fact]
    public void DefaultRubric_EveryApplicableRuleEqual_PartialCreditByProfile()
    {
        var doc = Result(
            ("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-1", "linux-6", RuleOutcome.Passed),
            ("PAGE-8", "x86-32", RuleOutcome.Failed), ("PAGE-8", "linux-6", RuleOutcome.Passed),
            ("ZONE-4", "x86-32", RuleOutcome.NotApplicable), ("ZONE-4", "linux-6", RuleOutcome.NotApplicable),
            ("VMAL-1", "x86-32", RuleOutcome.Pending), ("VMAL-1", "linux-6", RuleOutcome.Pending));
        var score = Scoring.Score(doc, Rubric.Default);
        // Two counted rules of weight 1: PAGE-1 full, PAGE-8 on one profile of two.
        Assert.Equal(75, score.Points, 9);
        Assert.Equal(["PAGE-1", "PAGE-8"], score.Counted.Select(r => r.RuleId));
        Assert.Equal(0.5, score.Rules.Single(r => r.RuleId == "PAGE-8").Credit, 9);
        Assert.Equal(["PAGE-8"], score.Lost.Select(r => r.RuleId));
        Assert.Null(score.Note);
    }

    [Fact]
    public void ABlockedRule_IsCountedAndEarnsNothing_AndTheExplanationNamesWhatBlocksIt()
    {
        var doc = Result(
            ("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-1", "linux-6", RuleOutcome.Passed),
            ("PAGE-4", "x86-32", RuleOutcome.Failed), ("PAGE-4", "linux-6", RuleOutcome.Passed),
            ("PAGE-8", "x86-32", RuleOutcome.Blocked), ("PAGE-8", "linux-6", RuleOutcome.Passed));
        var score = Scoring.Score(doc, Rubric.Default);
        // Three counted rules; PAGE-4 and PAGE-8 each earn one profile of two: (1 + 0.5 + 0.5) / 3.
        Assert.Equal(200.0 / 3, score.Points, 9);
        var page8 = score.Rules.Single(r => r.RuleId == "PAGE-8");
        Assert.True(page8.Counted);
        Assert.Equal(0.5, page8.Credit, 9);
        var blocked = page8.Cells.Single(c => c.Profile == "x86-32");
        Assert.True(blocked.Counted);
        Assert.Equal(0, blocked.Credit);
        Assert.Equal("PAGE-4", blocked.BlockedBy);
        Assert.Null(page8.Cells.Single(c => c.Profile == "linux-6").BlockedBy);

        var explained = Scoring.Explain("ann", score, Rubric.Default);
        Assert.Contains("x86-32 blocked by PAGE-4, linux-6 pass", explained);
        Assert.Contains("a blocked rule has no verdict until the rule blocking it is fixed", explained);
        var board = new GradedSubmission { Label = "ann", Status = SubmissionStatus.Graded, Score = score, Result = doc };
        Assert.Equal("PAGE-4 (FAIL x86-32); PAGE-8 (blocked by PAGE-4 x86-32)", Scoreboard.Lost(board));
        var csv = ScoreboardTests.Csv(Scoreboard.RenderResultsCsv([board]));
        int by = Array.IndexOf(csv[0], "blocked_by"), outcome = Array.IndexOf(csv[0], "outcome");
        var row = csv.Single(r => r[1] == "PAGE-8" && r[3] == "x86-32");
        Assert.Equal(("blocked", "PAGE-4"), (row[outcome], row[by]));
        Assert.All(csv.Skip(1).Where(r => r[outcome] != "blocked"), r => Assert.Equal("", r[by]));
    }

    [Fact]
    public void NotApplicableZero_CountsAsNotPassed_PendingNeverCounts()
    {
        var doc = Result(("PAGE-1", "x86-32", RuleOutcome.Passed), ("ZONE-4", "x86-32", RuleOutcome.NotApplicable), ("VMAL-1", "x86-32", RuleOutcome.Pending));
        var rubric = Rubric.Parse("""{ "notApplicable": "zero", "points": 10 }""");
        var score = Scoring.Score(doc, rubric);
        Assert.Equal(5, score.Points, 9);
        Assert.Equal(["PAGE-1", "ZONE-4"], score.Counted.Select(r => r.RuleId));
    }

    [Fact]
    public void OnlyPassedEarns_AnyOtherOutcome_EvenOneThisVersionDoesNotName_EarnsNothing()
    {
        var unknown = (RuleOutcome)77; // e.g. an outcome a later version adds
        var doc = Result(("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-2", "x86-32", RuleOutcome.NotExercised), ("PAGE-3", "x86-32", unknown));
        var score = Scoring.Score(doc, Rubric.Default);
        Assert.Equal(100.0 / 3, score.Points, 9);
        Assert.Equal(3, score.Counted.Count());
    }

    [Fact]
    public void Weights_MostSpecificWins_RuleThenCatalogueFamilyThenSuiteFamily()
    {
        var rubric = Rubric.Parse("""
            // comments and trailing commas are fine
            {
              "title": "Lab 3",
              "weights": { "PAGE-8": 5, "PAGE": 2, "pages": 3, "heap": 0, },
              "defaultWeight": 1,
            }
            """);
        Assert.Equal(5, rubric.WeightOf("PAGE-8", "PAGE"));
        Assert.Equal(2, rubric.WeightOf("PAGE-1", "PAGE"));
        Assert.Equal(3, rubric.WeightOf("ZONE-1", "ZONE"));   // checked by the pages family
        Assert.Equal(0, rubric.WeightOf("KMAL-1", "KMAL"));   // checked by the heap family
        Assert.Equal(1, rubric.WeightOf("VMAL-1", "VMAL"));   // pending: no suite family yet
        var doc = Result(("PAGE-8", "x86-32", RuleOutcome.Failed), ("PAGE-1", "x86-32", RuleOutcome.Passed), ("KMAL-1", "x86-32", RuleOutcome.Failed));
        var score = Scoring.Score(doc, rubric);
        Assert.Equal(100.0 * 2 / 7, score.Points, 9);
        Assert.DoesNotContain(score.Counted, r => r.RuleId == "KMAL-1");
        Assert.Contains("Lab 3", rubric.Describe());
        Assert.Contains("PAGE-8 5, PAGE 2, heap 0, pages 3, any other rule 1", rubric.Describe());
    }

    [Fact]
    public void ProfileWeights_GivePartialCredit_AZeroWeightProfileDoesNotCount()
    {
        var rubric = Rubric.Parse("""{ "profiles": { "x86-32": 3, "LINUX-6": 1, "linux-2.4": 0 } }""");
        var doc = Result(("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-1", "linux-6", RuleOutcome.Failed), ("PAGE-1", "linux-2.4", RuleOutcome.Failed));
        var score = Scoring.Score(doc, rubric);
        Assert.Equal(75, score.Points, 9);
        Assert.False(score.Rules.Single().Cells.Single(c => c.Profile == "linux-2.4").Counted);
    }

    [Fact]
    public void NothingApplicable_EarnsNothing_AndSaysWhy()
    {
        var score = Scoring.Score(Result(("KMAL-1", "x86-32", RuleOutcome.NotApplicable)), Rubric.Default);
        Assert.Equal(0, score.Points);
        Assert.Contains("no rule of the rubric applies", score.Note);
    }

    [Theory]
    [InlineData("""{ "weights": { "PAGE-99": 1 } }""", "neither a rule ID")]
    [InlineData("""{ "weights": { "PAEG": 1 } }""", "did you mean PAGE?")]
    [InlineData("""{ "weights": { "PAGE": -1 } }""", "from 0 to 1000000")]
    [InlineData("""{ "weights": { "PAGE": "2" } }""", "from 0 to 1000000")]
    [InlineData("""{ "weights": { "PAGE": 1, "page": 2 } }""", "names PAGE twice")]
    [InlineData("""{ "profiles": { "x86-64bit": 1 } }""", "no profile")]
    [InlineData("""{ "points": 0 }""", "above 0")]
    [InlineData("""{ "notApplicable": "maybe" }""", "\"exclude\"")]
    [InlineData("""{ "weigths": {} }""", "did you mean weights?")]
    [InlineData("""[1, 2]""", "a JSON object")]
    [InlineData("""{ "weights": """, "not JSON")]
    public void BadRubrics_AreRefused_SayingWhat(string json, string expected)
    {
        var e = Assert.Throws<RubricException>(() => Rubric.Parse(json, "rubric.json"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Explain_PrintsTheRubric_AndWhereEachPointWent()
    {
        var doc = Result(("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-8", "x86-32", RuleOutcome.Failed), ("ZONE-4", "x86-32", RuleOutcome.NotApplicable));
        var text = Scoring.Explain("alice", Scoring.Score(doc, Rubric.Default), Rubric.Default);
        Assert.StartsWith("alice: 50 of 100 points (50%)", text);
        Assert.Contains(Rubric.Default.Describe(), text);
        var lines = text.Split('\n');
        int page8 = Array.FindIndex(lines, l => l.StartsWith("PAGE-8", StringComparison.Ordinal));
        int page1 = Array.FindIndex(lines, l => l.StartsWith("PAGE-1", StringComparison.Ordinal));
        Assert.True(page8 >= 0 && page8 < page1, "lost points come first");
        Assert.Contains("x86-32 FAIL", lines[page8]);
        Assert.Contains(lines, l => l == "not counted, n/a (not declared by the submission): ZONE-4");
    }
}
