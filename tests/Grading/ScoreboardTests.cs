using System.Text.Json;
using KernelMm.Conformance.Grading;
using KernelMm.Conformance.Running;

namespace KernelMm.Tests.Grading;

/// <summary>The scoreboard files from hand-made outcomes: gradebook CSV (RFC 4180, no formulas), long CSV, JSON, escaped HTML with links.</summary>
public sealed class ScoreboardTests
{
    private static readonly Rubric Rubric = Rubric.Default;

    private static GradedSubmission Graded(string label, params (string Rule, string Profile, RuleOutcome Outcome)[] rows)
    {
        var doc = ScoringTests.Result(rows);
        return new GradedSubmission
        {
            Label = label, Status = SubmissionStatus.Graded, Result = doc, Score = Scoring.Score(doc, Rubric),
            Folder = $"submissions/{label}", Report = $"submissions/{label}/report.html", Elapsed = TimeSpan.FromSeconds(2),
        };
    }

    private static IReadOnlyList<GradedSubmission> Class() =>
    [
        Graded("alice", ("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-8", "x86-32", RuleOutcome.Passed)),
        Graded("bob, \"the builder\"", ("PAGE-1", "x86-32", RuleOutcome.Passed), ("PAGE-8", "x86-32", RuleOutcome.Failed)),
        Graded("=HYPERLINK(\"http://evil\")", ("PAGE-1", "x86-32", RuleOutcome.Failed), ("PAGE-8", "x86-32", RuleOutcome.Failed)),
        new GradedSubmission
        {
            Label = "<script>erin</script>", Status = SubmissionStatus.TimedOut, Score = Scoring.Nothing(Rubric, "stopped"),
            Detail = "stopped at the time limit of 20s", Folder = "submissions/_script_erin__script_", Elapsed = TimeSpan.FromSeconds(20),
        },
    ];

    [Fact]
    public void ScoresCsv_OneRowPerStudent_QuotedAsRfc4180_NoFormulas()
    {
        var csv = Scoreboard.RenderScoresCsv(Class());
        var rows = Csv(csv);
        Assert.Equal(["label", "status", "points", "out_of", "percent", "rules_counted", "rules_lost", "PAGE-1", "PAGE-8", "detail"], rows[0]);
        Assert.Equal(5, rows.Count);
        Assert.Equal(["alice", "graded", "100", "100", "100", "2", "", "50", "50", ""], rows[1]);
        Assert.Equal("bob, \"the builder\"", rows[2][0]);
        Assert.Equal(["50", "PAGE-8"], new[] { rows[2][2], rows[2][6] });
        Assert.Equal("'=HYPERLINK(\"http://evil\")", rows[3][0]);
        Assert.Equal(["timed out", "0"], new[] { rows[4][1], rows[4][2] });
        Assert.Equal("stopped at the time limit of 20s", rows[4][^1]);
        Assert.EndsWith("\r\n", csv);
    }

    [Fact]
    public void ResultsCsv_OneRowPerStudentRuleAndProfile()
    {
        var rows = Csv(Scoreboard.RenderResultsCsv(Class()));
        Assert.Equal(["label", "rule", "family", "profile", "outcome", "checks", "counted", "credit", "rule_weight", "profile_weight", "blocked_by"], rows[0]);
        Assert.Equal(1 + 3 * 2, rows.Count); // the timed-out submission has no result
        Assert.Contains(rows, r => r[0] == "alice" && r[1] == "PAGE-8" && r[3] == "x86-32" && r[4] == "passed" && r[5] == "10" && r[7] == "1");
        Assert.Contains(rows, r => r[1] == "PAGE-8" && r[4] == "failed" && r[7] == "0");
    }

    [Fact]
    public void Html_EscapesEveryLabel_AndLinksEachReport()
    {
        var html = Scoreboard.RenderHtml(Class(), Rubric);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;erin&lt;/script&gt;", html);
        Assert.Contains("<a href=\"submissions/alice/report.html\">full report</a>", html);
        Assert.Contains("href=\"submissions/bob%2C%20%22the%20builder%22/report.html\"", html);
        Assert.Contains(HtmlEscaped(Rubric.Describe()), html);
        // Every in-page link has its target.
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(html, "href=\"#([^\"]+)\""))
            Assert.Contains($"id=\"{m.Groups[1].Value}\"", html);
        Assert.Contains("stopped at the time limit of 20s", html);
    }

    [Fact]
    public void Json_CarriesEveryStudentsScoreAndRules()
    {
        using var doc = JsonDocument.Parse(Scoreboard.RenderJson(Class(), Rubric));
        var students = doc.RootElement.GetProperty("submissions");
        Assert.Equal(4, students.GetArrayLength());
        Assert.Equal(50, students[1].GetProperty("points").GetDouble());
        Assert.Equal("timed out", students[3].GetProperty("status").GetString());
        Assert.Equal("PAGE-8", students[1].GetProperty("rules")[1].GetProperty("id").GetString());
    }

    [Fact]
    public void Text_OneLinePerStudent_WithWhereThePointsWentAndTheRubric()
    {
        var text = Scoreboard.RenderText(Class(), Rubric);
        Assert.Contains("Scoreboard: 4 submissions, 3 graded", text);
        Assert.Matches(@"\nbob, ""the builder""\s+50\.00  graded\s+2\.0s  PAGE-8 \(FAIL x86-32\)\n", text);
        Assert.Contains("timed out", text);
        Assert.EndsWith(Rubric.Describe(), text);
    }

    private static string HtmlEscaped(string s) => KernelMm.Conformance.Reports.HtmlReport.E(s);

    /// <summary>A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF).</summary>
    internal static List<string[]> Csv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') { row.Add(cell.ToString()); cell.Clear(); rows.Add([.. row]); row.Clear(); i++; }
            else cell.Append(c);
        }
        Assert.False(quoted, "unterminated quote");
        Assert.True(row.Count == 0 && cell.Length == 0, "the last row ends with CRLF");
        return rows;
    }
}
