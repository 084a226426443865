using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Grading;

/// <summary>One rule on one profile, as scored.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="Outcome">What the run found (passed, failed, notApplicable, ...).</param>
/// <param name="ProfileWeight">The rubric's weight of the profile.</param>
/// <param name="Counted">Whether the cell takes part in the rule's credit (pending never; n/a by the rubric's policy; a profile of weight 0 never).</param>
/// <param name="Credit">1 when passed, else 0.</param>
public sealed record CellScore(string Profile, RuleOutcome Outcome, double ProfileWeight, bool Counted, double Credit)
{
    /// <summary>For a blocked cell: the failed rule that blocked it (it earns nothing until that rule is fixed).</summary>
    public string? BlockedBy { get; init; }

    /// <summary>The outcome as the console table spells it, with what blocked it: <c>FAIL</c>, <c>blocked by PAGE-4</c>.</summary>
    public string Word => ReportText.Word(Outcome) + (BlockedBy is { } by ? $" by {by}" : "");
}

/// <summary>One rule, as scored: its weight, its credit (the weighted share of its counted profiles that passed) and the points it earned.</summary>
public sealed record RuleScore(string RuleId, string Family, double Weight, double Credit, double Points, double MaxPoints, IReadOnlyList<CellScore> Cells)
{
    /// <summary>Whether the rule counts toward the score (weight above 0 and at least one counted profile).</summary>
    public bool Counted => Weight > 0 && Cells.Any(c => c.Counted);
}

/// <summary>A submission's score under a rubric, with every rule's part of it.</summary>
public sealed record Score(double Points, double OutOf, IReadOnlyList<RuleScore> Rules, string? Note)
{
    /// <summary>Points as a share of <see cref="OutOf"/>, 0 to 1.</summary>
    public double Fraction => OutOf > 0 ? Points / OutOf : 0;
    /// <summary>The rules that count toward the score.</summary>
    public IEnumerable<RuleScore> Counted => Rules.Where(r => r.Counted);
    /// <summary>Counted rules that did not pass on every counted profile.</summary>
    public IEnumerable<RuleScore> Lost => Counted.Where(r => r.Credit < 1);
}

/// <summary>
/// Scores a run's result (the JSON document of <c>run --json</c>) under a <see cref="Rubric"/>.
/// Works from the result alone: rules, families, profiles and outcomes are read from it, so new
/// families and outcomes score without changes here.
/// </summary>
/// <remarks>
/// A <b>blocked</b> rule (no verdict: another rule's failure stands in the way) is counted and earns
/// nothing, like a failed one: a point is earned by a check that could have failed and did not, and a
/// blocked rule has none. Leaving it out of the rubric instead would raise the score of a submission
/// whose early bug hides the rest. Its explanation names the blocking rule ("blocked by PAGE-4"), so a
/// student sees that one fix may earn both.
/// </remarks>
public static class Scoring
{
    /// <summary>The score of one result.</summary>
    public static Score Score(ResultDocument result, Rubric rubric)
    {
        var raw = new List<(string Id, string Family, double Weight, double Credit, List<CellScore> Cells)>();
        foreach (var rule in result.Results.GroupBy(r => r.Id))
        {
            string family = rule.First().Family;
            double weight = rubric.WeightOf(rule.Key, family);
            var cells = rule.Select(row =>
            {
                double pw = rubric.ProfileWeight(row.Profile);
                bool counted = pw > 0 && row.Status switch
                {
                    RuleOutcome.Pending => false,
                    RuleOutcome.NotApplicable => rubric.NotApplicable == NotApplicablePolicy.Zero,
                    _ => true,
                };
                return new CellScore(row.Profile, row.Status, pw, counted, row.Status == RuleOutcome.Passed ? 1 : 0)
                {
                    BlockedBy = row.Status == RuleOutcome.Blocked ? row.BlockedBy : null,
                };
            }).ToList();
            double total = cells.Where(c => c.Counted).Sum(c => c.ProfileWeight);
            double credit = total > 0 ? cells.Where(c => c.Counted).Sum(c => c.ProfileWeight * c.Credit) / total : 0;
            raw.Add((rule.Key, family, weight, credit, cells));
        }
        double weights = raw.Where(r => r.Weight > 0 && r.Cells.Any(c => c.Counted)).Sum(r => r.Weight);
        var rules = raw.Select(r =>
        {
            bool counted = r.Weight > 0 && r.Cells.Any(c => c.Counted) && weights > 0;
            double max = counted ? rubric.Points * r.Weight / weights : 0;
            return new RuleScore(r.Id, r.Family, r.Weight, r.Credit, max * r.Credit, max, r.Cells);
        }).ToList();
        string? note = weights > 0 ? null
            : rubric.NotApplicable == NotApplicablePolicy.Exclude
                ? "no rule of the rubric applies to this submission (it declares none of what they need): nothing earned"
                : "the rubric counts no rule of this run";
        // The total from the weighted sums (not a sum of rounded parts): full credit is exactly the full points.
        var counted = raw.Where(r => r.Weight > 0 && r.Cells.Any(c => c.Counted)).ToList();
        double points = weights > 0 ? rubric.Points * counted.Sum(r => r.Weight * r.Credit) / weights : 0;
        return new Score(points, rubric.Points, rules, note);
    }

    /// <summary>The score of a submission that produced no result (did not run, was stopped): nothing earned.</summary>
    public static Score Nothing(Rubric rubric, string why) => new(0, rubric.Points, [], why);

    /// <summary>
    /// The score explained for the student: the rubric, then every counted rule with its weight,
    /// credit, points and per-profile outcomes, lost points first.
    /// </summary>
    public static string Explain(string label, Score score, Rubric rubric)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"{label}: {Rubric.Number(score.Points)} of {Rubric.Number(score.OutOf)} points ({score.Fraction * 100:0.#}%)\n");
        if (score.Note is not null) sb.Append($"  {score.Note}\n");
        sb.Append('\n').Append(rubric.Describe()).Append('\n');
        var counted = score.Counted.OrderBy(r => r.Credit).ToList(); // stable: lost points first, then the results' (catalogue) order
        if (counted.Count > 0)
        {
            sb.Append($"{"rule",-9}{"weight",7}{"credit",8}{"points",9}  per profile\n");
            foreach (var r in counted)
            {
                string cells = string.Join(", ", r.Cells.Select(c => $"{c.Profile} {c.Word}{(c.Counted ? "" : " (not counted)")}"));
                sb.Append($"{r.RuleId,-9}{Rubric.Number(r.Weight),7}{r.Credit * 100,7:0}%{r.Points,6:0.00}/{r.MaxPoints:0.00}  {cells}\n");
            }
        }
        var uncounted = score.Rules.Where(r => !r.Counted).ToList();
        if (uncounted.Count > 0)
        {
            var byWhy = uncounted.GroupBy(r => r.Weight == 0 ? "weight 0 in the rubric"
                : r.Cells.All(c => c.Outcome == RuleOutcome.Pending) ? "pending (no check yet)"
                : r.Cells.All(c => c.Outcome is RuleOutcome.Pending or RuleOutcome.NotApplicable) ? "n/a (not declared by the submission)"
                : "no counted profile");
            foreach (var g in byWhy)
                sb.Append($"not counted, {g.Key}: {string.Join(", ", g.Select(r => r.RuleId))}\n");
        }
        return sb.ToString();
    }

    internal static string ReportTextWord(RuleOutcome outcome) => ReportText.Word(outcome);
}
