using System.Globalization;
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
            if (!ce.Reproducible) sb.AppendLine($"  {ReportText.NotReproducible}");
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
                sb.AppendLine("  as an xunit test (a file of its own; it needs the KernelMm.Conformance.Specification.Tests package):");
                sb.Append(XunitSnippet.Render(ce, options.FactoryFor(result), indent: "    "));
            }
        }
        foreach (var blocked in result.Blocked)
        {
            sb.AppendLine($"==================================================================");
            sb.AppendLine($"BLOCKED {blocked.Rule.Id} on {blocked.Profile} by {blocked.BlockedBy}: no verdict until {blocked.BlockedBy} is fixed");
            sb.AppendLine($"  rule: {blocked.Rule.Statement}");
            sb.AppendLine($"  why: {blocked.Reason}");
            if (blocked.Counterexample is { } seen)
            {
                sb.AppendLine($"  observed after {seen.BlockedBy} had failed, on {seen.ProfileLabel} (seed {seen.Seed}, {seen.OriginalSteps} steps shrunk to {seen.ShrunkSteps}): {seen.Message}");
                sb.AppendLine("  sequence:");
                for (int i = 0; i < seen.Trace.Count; i++) sb.AppendLine($"    {i + 1,3}. {seen.Trace[i]}");
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
                BLOCKED      no verdict: another rule failed first (named below) and its check failed only after that, or was never reached; not a pass
                n/a          the implementation does not declare what the rule needs
                pending      not encoded yet (the rules command says why)
        """;

    /// <summary>
    /// The last line. It counts rules per profile (rule x profile), sequences and checked operations,
    /// the units <see cref="ProgressLine"/> uses while the run goes on.
    /// </summary>
    public static string Summary(SuiteResult result)
    {
        int Count(RuleOutcome o) => result.Results.Count(r => r.Outcome == o);
        double seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-9);
        return $"summary: {Count(RuleOutcome.Passed)} passed, {Count(RuleOutcome.Failed)} failed, {Count(RuleOutcome.Blocked)} blocked, {Count(RuleOutcome.NotExercised)} not exercised, " +
               $"{Count(RuleOutcome.Pending)} pending, {Count(RuleOutcome.NotApplicable)} not applicable (rule x profile); " +
               $"{N(result.Sequences)} sequences, {N(result.Operations)} checked operations in {seconds.ToString("F1", CultureInfo.InvariantCulture)} s ({N((long)(result.Operations / seconds))} ops/s)";
    }

    /// <summary>
    /// The live progress line: properties done, what runs, and the run's totals so far in the
    /// summary's units (sequences, checked operations, failed rules counted rule x profile), so the
    /// last progress line and the summary agree.
    /// </summary>
    public static string ProgressLine(SuiteProgress p, TimeSpan elapsed) =>
        $"[{p.Done}/{p.Total}] {(p.Finished ? "done" : "running")} {p.Family} on {p.ProfileLabel}{(p.Rerun ? " (saved failure)" : "")} | " +
        $"{N(p.Sequences)} sequences, {N(p.Operations)} checked operations | {p.Failures} failed (rule x profile) | {elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s";

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Cell(RuleResult? row) => ReportText.Cell(row);

    private static string Trim(string s, int max) => ReportText.Trim(s, max);
}
