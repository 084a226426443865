using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Reports;

/// <summary>The per-rule table, each failure read like a kernel report, and a one-line summary.</summary>
public static class ConsoleReport
{
    public static string Render(SuiteResult result, string replayPrefix = Replay.DefaultPrefix) =>
        Render(result, new ReportOptions { ReplayPrefix = replayPrefix });

    /// <summary>As above; with <see cref="ReportOptions.XunitSnippets"/> each failure also gets a ready-to-paste xunit test.</summary>
    public static string Render(SuiteResult result, ReportOptions options)
    {
        var sb = new StringBuilder();
        var profiles = result.Profiles;
        sb.AppendLine($"Conformance of '{result.Implementation}' — {ReportText.Headline(result)}");
        sb.AppendLine();
        // Columns as wide as their widest cell; statements fill the rest of the terminal (whole when redirected).
        var widths = profiles.Select(p => Math.Max(p.Length, result.Results.Where(r => r.Profile == p).Select(r => Cell(r).Length).DefaultIfEmpty(0).Max())).ToList();
        int used = 9 + widths.Sum(w => w + 1);
        int? room = options.Width is { } width ? Math.Max(width - 1 - used, 12) : null;
        sb.Append($"{"rule",-8} ");
        for (int i = 0; i < profiles.Count; i++) sb.Append(profiles[i].PadRight(widths[i] + 1));
        sb.AppendLine("statement");
        sb.AppendLine(new string('-', used + Math.Min(room ?? 60, 60)));
        foreach (var group in result.Results.GroupBy(r => r.Rule.Id))
        {
            var rule = group.First().Rule;
            sb.Append($"{rule.Id,-8} ");
            for (int i = 0; i < profiles.Count; i++)
                sb.Append(Cell(group.FirstOrDefault(r => r.Profile == profiles[i])).PadRight(widths[i] + 1));
            sb.AppendLine(room is { } r ? Trim(rule.Statement, r) : rule.Statement);
        }
        sb.AppendLine(Legend);
        sb.AppendLine();
        foreach (var failure in result.Failures)
        {
            var ce = failure.Counterexample!;
            sb.AppendLine($"==================================================================");
            sb.AppendLine($"FAILED {ce.RuleId} on {ce.ProfileLabel} (family {ce.Family}, seed {ce.Seed}): {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}");
            sb.AppendLine($"  rule: {failure.Rule.Statement}");
            sb.AppendLine($"  check: {failure.Rule.Check}");
            sb.AppendLine($"  observed: {ce.Message}");
            sb.AppendLine("  sequence:");
            for (int i = 0; i < ce.Trace.Count; i++) sb.AppendLine($"    {i + 1,3}. {ce.Trace[i]}");
            if (!options.XunitSnippets)
            {
                sb.AppendLine("  as C#:");
                foreach (var line in ce.CSharp) sb.AppendLine($"    {line}");
            }
            sb.AppendLine($"  replay: {Replay.Command(result, ce, options.ReplayPrefix)}");
            if (options.XunitSnippets)
            {
                sb.AppendLine("  as an xunit test:");
                sb.Append(XunitSnippet.Render(ce, options.FactoryFor(result.Implementation), indent: "    "));
            }
        }
        sb.AppendLine(Summary(result));
        return sb.ToString();
    }

    /// <summary>What the cells of the table mean, printed under it.</summary>
    public const string Legend = """
        legend: pass N       checked N times, never broken
                FAIL         broken: the shrunk counterexample is below
                UNEXERCISED  applicable but never reached: a gap in the run, not a pass
                n/a          the implementation does not declare what the rule needs
                pending      not encoded yet (the rules command says why)
        """;

    public static string Summary(SuiteResult result)
    {
        int Count(RuleOutcome o) => result.Results.Count(r => r.Outcome == o);
        double seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-9);
        return $"summary: {Count(RuleOutcome.Passed)} passed, {Count(RuleOutcome.Failed)} failed, {Count(RuleOutcome.NotExercised)} not exercised, " +
               $"{Count(RuleOutcome.Pending)} pending, {Count(RuleOutcome.NotApplicable)} not applicable (rule x profile); " +
               $"{result.Sequences} sequences, {result.Operations} checked operations in {seconds:F1} s ({result.Operations / seconds:N0} ops/s)";
    }

    private static string Cell(RuleResult? row) => ReportText.Cell(row);

    private static string Trim(string s, int max) => ReportText.Trim(s, max);
}
