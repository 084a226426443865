using System.Globalization;
using System.Text;
using System.Text.Json;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Grading;

/// <summary>How far a submission got.</summary>
public enum SubmissionStatus
{
    /// <summary>The run finished and its result was scored (failed rules included).</summary>
    Graded,
    /// <summary>The run ended without a result: the implementation could not be judged at all (it does not start, cannot be booted, ...).</summary>
    NotJudged,
    /// <summary>Stopped at the overall wall-clock limit.</summary>
    TimedOut,
    /// <summary>Refused before running: the program or assembly cannot be used as given.</summary>
    Rejected,
    /// <summary>The runner itself failed (an internal error of kmm-conformance, or it was killed).</summary>
    RunnerError,
}

/// <summary>One submission of a batch, judged and scored.</summary>
public sealed record GradedSubmission
{
    /// <summary>The student's label (from the folder or the manifest).</summary>
    public required string Label { get; init; }
    /// <summary>How far it got.</summary>
    public required SubmissionStatus Status { get; init; }
    /// <summary>Its score (nothing earned unless graded).</summary>
    public required Score Score { get; init; }
    /// <summary>Why it is not graded, or a note on its run (the runner's last error lines).</summary>
    public string? Detail { get; init; }
    /// <summary>The run's result, when there is one.</summary>
    public ResultDocument? Result { get; init; }
    /// <summary>Its own working folder, relative to the scoreboard.</summary>
    public string? Folder { get; init; }
    /// <summary>Its full HTML report, relative to the scoreboard, when written.</summary>
    public string? Report { get; init; }
    /// <summary>How long its run took (wall clock).</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>What was judged (the implementation options given to the run).</summary>
    public string? Implementation { get; init; }
}

/// <summary>
/// One scoreboard for a batch: a console table, the gradebook CSV (one row per student), a long CSV
/// (student x rule x profile), the HTML page linking each student's full report, and each student's
/// explained score. Rules and profiles are the ones the results carry.
/// </summary>
public static class Scoreboard
{
    /// <summary>The status as one word or two.</summary>
    public static string Word(SubmissionStatus status) => status switch
    {
        SubmissionStatus.Graded => "graded",
        SubmissionStatus.NotJudged => "not judged",
        SubmissionStatus.TimedOut => "timed out",
        SubmissionStatus.Rejected => "rejected",
        _ => "runner error",
    };

    /// <summary>The console table: one line per submission, then the rubric.</summary>
    public static string RenderText(IReadOnlyList<GradedSubmission> submissions, Rubric rubric)
    {
        var sb = new StringBuilder();
        int labelWidth = Math.Clamp(submissions.Select(s => s.Label.Length).DefaultIfEmpty(5).Max(), 5, 40);
        int graded = submissions.Count(s => s.Status == SubmissionStatus.Graded);
        sb.Append($"Scoreboard: {submissions.Count} submission{(submissions.Count == 1 ? "" : "s")}, {graded} graded; {Rubric.Number(rubric.Points)} points ({rubric.Title})\n\n");
        sb.Append($"{"label".PadRight(labelWidth)}  {"score",7}  {"status",-12} {"time",7}  points lost on\n");
        sb.Append(new string('-', labelWidth + 46)).Append('\n');
        foreach (var s in submissions)
        {
            string label = s.Label.Length > labelWidth ? s.Label[..(labelWidth - 1)] + "…" : s.Label.PadRight(labelWidth);
            sb.Append($"{label}  {s.Score.Points,7:0.00}  {Word(s.Status),-12} {s.Elapsed.TotalSeconds,6:0.0}s  {Lost(s)}\n");
        }
        sb.Append('\n').Append(rubric.Describe());
        return sb.ToString();
    }

    /// <summary>Where a submission lost points, in one line: the rules and what they did, or why it was not graded.</summary>
    public static string Lost(GradedSubmission s)
    {
        if (s.Status != SubmissionStatus.Graded) return OneLine(s.Detail ?? Word(s.Status), 100);
        if (s.Score.Note is { } note) return note;
        var lost = s.Score.Lost.Select(r => $"{r.RuleId} ({string.Join(", ", r.Cells.Where(c => c.Counted && c.Credit < 1).Select(c => $"{c.Word} {c.Profile}"))})").ToList();
        return lost.Count == 0 ? "-" : string.Join("; ", lost);
    }

    /// <summary>
    /// The gradebook: one row per student with label, status, points, out of, percent, counted rules,
    /// the rules where points were lost, then the points earned on each rule counted for anyone.
    /// Text cells that a spreadsheet would read as a formula are quoted with a leading apostrophe.
    /// </summary>
    public static string RenderScoresCsv(IReadOnlyList<GradedSubmission> submissions)
    {
        var rules = RuleColumns(submissions);
        var sb = new StringBuilder();
        Row(sb, ["label", "status", "points", "out_of", "percent", "rules_counted", "rules_lost", .. rules, "detail"]);
        foreach (var s in submissions)
        {
            var byRule = s.Score.Rules.Where(r => r.Counted).ToDictionary(r => r.RuleId);
            Row(sb, [s.Label, Word(s.Status), N(s.Score.Points), N(s.Score.OutOf), N(s.Score.Fraction * 100),
                s.Score.Counted.Count().ToString(CultureInfo.InvariantCulture), string.Join(" ", s.Score.Lost.Select(r => r.RuleId)),
                .. rules.Select(id => byRule.TryGetValue(id, out var r) ? N(r.Points) : ""),
                s.Status == SubmissionStatus.Graded ? s.Score.Note ?? "" : OneLine(s.Detail ?? "", 500)]);
        }
        return sb.ToString();
    }

    /// <summary>Every student x rule x profile: outcome, checks, whether counted, credit, weights.</summary>
    public static string RenderResultsCsv(IReadOnlyList<GradedSubmission> submissions)
    {
        var sb = new StringBuilder();
        Row(sb, ["label", "rule", "family", "profile", "outcome", "checks", "counted", "credit", "rule_weight", "profile_weight", "blocked_by"]);
        foreach (var s in submissions)
        {
            var checks = s.Result?.Results.ToDictionary(r => (r.Id, r.Profile), r => r.Checks) ?? [];
            foreach (var rule in s.Score.Rules)
                foreach (var cell in rule.Cells)
                    Row(sb, [s.Label, rule.RuleId, rule.Family, cell.Profile, Name(cell.Outcome),
                        checks.GetValueOrDefault((rule.RuleId, cell.Profile)).ToString(CultureInfo.InvariantCulture),
                        cell.Counted ? "yes" : "no", N(cell.Credit), N(rule.Weight), N(cell.ProfileWeight), cell.BlockedBy ?? ""]);
        }
        return sb.ToString();
    }

    /// <summary>The machine-readable scoreboard (one object per student with the score and every rule's part).</summary>
    public static string RenderJson(IReadOnlyList<GradedSubmission> submissions, Rubric rubric)
    {
        var doc = new
        {
            schema = "kmm-conformance/scoreboard/v1",
            rubric = new { rubric.Title, rubric.Source, rubric.Points, rubric.DefaultWeight, rubric.Weights, Profiles = rubric.ProfileWeights, NotApplicable = rubric.NotApplicable.ToString().ToLowerInvariant() },
            submissions = submissions.Select(s => new
            {
                s.Label,
                Status = Word(s.Status),
                s.Score.Points,
                s.Score.OutOf,
                Percent = Math.Round(s.Score.Fraction * 100, 2),
                s.Score.Note,
                s.Detail,
                s.Folder,
                s.Report,
                ElapsedSeconds = Math.Round(s.Elapsed.TotalSeconds, 3),
                s.Implementation,
                Rules = s.Score.Rules.Select(r => new
                {
                    Id = r.RuleId, r.Family, r.Weight, r.Counted, Credit = Math.Round(r.Credit, 6), Points = Math.Round(r.Points, 6), MaxPoints = Math.Round(r.MaxPoints, 6),
                    Profiles = r.Cells.Select(c => new { c.Profile, Outcome = Name(c.Outcome), c.BlockedBy, c.Counted, c.ProfileWeight }),
                }),
            }),
        };
        return JsonSerializer.Serialize(doc, JsonReport.SerializerOptions) + "\n";
    }

    /// <summary>
    /// The scoreboard page: self-contained (inline CSS, no scripts), every text escaped. The score
    /// table links each student's full report; the matrix shows each counted rule per student as
    /// profiles passed of profiles counted; each student's section explains the score under the rubric.
    /// </summary>
    public static string RenderHtml(IReadOnlyList<GradedSubmission> submissions, Rubric rubric, DateTimeOffset? generatedAt = null)
    {
        string E(string? s) => HtmlReport.E(s);
        var rules = RuleColumns(submissions);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.Append($"<title>Scoreboard — {E(rubric.Title)}</title>\n<style>\n{Css}</style>\n</head>\n<body>\n");
        int graded = submissions.Count(s => s.Status == SubmissionStatus.Graded);
        var scores = submissions.Select(s => s.Score.Points).OrderBy(x => x).ToList();
        h.Append($"<h1>Scoreboard</h1>\n<p class=\"meta\">{submissions.Count} submissions, {graded} graded");
        if (scores.Count > 0) h.Append($" · mean {scores.Average():0.0}, median {Median(scores):0.0} of {Rubric.Number(rubric.Points)} points");
        h.Append("</p>\n");
        h.Append($"<pre class=\"rubric\">{E(rubric.Describe())}</pre>\n");

        h.Append("<h2>Scores</h2>\n<table class=\"scores\">\n<thead><tr><th>label</th><th>score</th><th>%</th><th>status</th><th>time</th><th>points lost on</th><th>files</th></tr></thead>\n<tbody>\n");
        foreach (var s in submissions)
        {
            string cls = s.Status != SubmissionStatus.Graded ? "bad" : s.Score.Fraction >= 0.9999 ? "full" : s.Score.Fraction > 0 ? "part" : "none";
            h.Append($"<tr class=\"{cls}\"><td><a href=\"#{Id(s.Label)}\">{E(s.Label)}</a></td><td class=\"num\">{s.Score.Points:0.00}</td><td class=\"num\">{s.Score.Fraction * 100:0.#}</td>");
            h.Append($"<td>{E(Word(s.Status))}</td><td class=\"num\">{s.Elapsed.TotalSeconds:0.0} s</td><td>{E(Lost(s))}</td><td>{Links(s)}</td></tr>\n");
        }
        h.Append("</tbody>\n</table>\n");

        if (rules.Count > 0)
        {
            h.Append("<h2>Per rule</h2>\n<p class=\"meta\">Each cell: the profiles where the rule passed, of the profiles it counted on. Hover for each profile's outcome.</p>\n");
            h.Append("<div class=\"wide\"><table class=\"matrix\">\n<thead><tr><th>label</th>");
            foreach (var id in rules) h.Append($"<th>{E(id)}</th>");
            h.Append("</tr></thead>\n<tbody>\n");
            foreach (var s in submissions)
            {
                h.Append($"<tr><td><a href=\"#{Id(s.Label)}\">{E(s.Label)}</a></td>");
                var byRule = s.Score.Rules.ToDictionary(r => r.RuleId);
                foreach (var id in rules)
                {
                    if (!byRule.TryGetValue(id, out var r) || !r.Counted) { h.Append("<td class=\"na\">–</td>"); continue; }
                    var counted = r.Cells.Where(c => c.Counted).ToList();
                    int passed = counted.Count(c => c.Credit > 0);
                    string cls = passed == counted.Count ? "full" : passed > 0 ? "part" : "none";
                    string title = string.Join(", ", r.Cells.Select(c => $"{c.Profile}: {c.Word}"));
                    h.Append($"<td class=\"{cls}\" title=\"{E(title)}\">{passed}/{counted.Count}</td>");
                }
                h.Append("</tr>\n");
            }
            h.Append("</tbody>\n</table></div>\n");
        }

        h.Append("<h2>Each submission</h2>\n");
        foreach (var s in submissions)
        {
            h.Append($"<section id=\"{Id(s.Label)}\">\n<h3>{E(s.Label)} — {s.Score.Points:0.00} of {Rubric.Number(s.Score.OutOf)} ({E(Word(s.Status))})</h3>\n");
            h.Append($"<p class=\"meta\">{Links(s)}{(s.Implementation is null ? "" : $" · judged: <code>{E(s.Implementation)}</code>")}</p>\n");
            if (s.Status != SubmissionStatus.Graded && s.Detail is not null) h.Append($"<pre class=\"detail\">{E(s.Detail)}</pre>\n");
            h.Append($"<pre>{E(Scoring.Explain(s.Label, s.Score, rubric))}</pre>\n</section>\n");
        }
        h.Append("<footer>Generated by <code>kmm-conformance grade</code>");
        if (generatedAt is { } at) h.Append($" at {E(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))} UTC");
        h.Append(".</footer>\n</body>\n</html>\n");
        return h.ToString();

        string Links(GradedSubmission s)
        {
            var links = new List<string>();
            if (s.Report is not null) links.Add($"<a href=\"{E(Href(s.Report))}\">full report</a>");
            if (s.Folder is not null)
            {
                links.Add($"<a href=\"{E(Href(s.Folder + "/score.txt"))}\">score</a>");
                links.Add($"<a href=\"{E(Href(s.Folder + "/output.txt"))}\">output</a>");
                links.Add($"<a href=\"{E(Href(s.Folder + "/errors.txt"))}\">errors</a>");
            }
            return string.Join(" · ", links);
        }
    }

    /// <summary>The rules counted for at least one submission, in the results' order.</summary>
    private static List<string> RuleColumns(IReadOnlyList<GradedSubmission> submissions) =>
        submissions.SelectMany(s => s.Score.Rules.Where(r => r.Counted).Select(r => r.RuleId)).Distinct().ToList();

    private static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>An element id for a label (letters, digits, '-', '_' kept; anything else as its code).</summary>
    public static string Id(string label) =>
        "s-" + string.Concat(label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c.ToString() : $"_{(int)c:x}"));

    /// <summary>A relative path as a URL: each segment percent-encoded.</summary>
    private static string Href(string path) => string.Join("/", path.Split('/').Select(Uri.EscapeDataString));


    /// <summary>The outcome as the JSON result spells it (passed, notApplicable, ...).</summary>
    public static string Name(RuleOutcome outcome) => JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString());

    private static string N(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string OneLine(string text, int max)
    {
        var line = string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    /// <summary>One CSV row (RFC 4180): quoted when needed; text a spreadsheet would run as a formula gets a leading apostrophe.</summary>
    private static void Row(StringBuilder sb, IEnumerable<string> cells)
    {
        sb.Append(string.Join(",", cells.Select(Cell))).Append("\r\n");

        static string Cell(string value)
        {
            if (value.Length > 0 && "=+-@\t\r".Contains(value[0]) && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                value = "'" + value;
            return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
        }
    }

    private const string Css = """
        body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 78rem; padding: 0 1rem; color: #1d2430; }
        h1 { margin: 0 0 .3rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #d8dde6; }
        .meta { color: #5a6472; }
        pre { background: #f5f7fa; border: 1px solid #e1e5ec; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; }
        pre.detail { background: #fff4f2; border-color: #f1c7bf; }
        table { border-collapse: collapse; } th, td { border: 1px solid #d8dde6; padding: .25rem .5rem; text-align: left; vertical-align: top; }
        th { background: #eef1f6; position: sticky; top: 0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .wide { overflow-x: auto; } .matrix td { text-align: center; font-variant-numeric: tabular-nums; }
        tr.full td:nth-child(2), td.full { background: #dff3e4; } tr.part td:nth-child(2), td.part { background: #fff3cd; }
        tr.none td:nth-child(2), td.none { background: #f8d7da; } tr.bad td { background: #fbe3e0; } td.na { color: #9aa3af; }
        footer { margin-top: 2rem; color: #5a6472; font-size: 12px; }
        """;
}
