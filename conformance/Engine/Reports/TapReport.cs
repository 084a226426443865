using System.Globalization;
using System.Text;
using System.Text.Json;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// The run in the Test Anything Protocol, for TAP harnesses (<c>prove</c>, CI plugins), and in the
/// kernel's own dialect KTAP (Documentation/dev-tools/ktap.rst), as kselftest and KUnit print it, for
/// kernel CI and its parsers (<c>kunit.py parse</c>).
/// </summary>
/// <remarks>
/// <para><b>TAP</b> (version 13): one test point per rule and profile, <c>ok N - PAGE-4 on x86-32</c>;
/// a failed or not exercised rule is <c>not ok</c> with a YAML block (what was observed, the shrunk
/// sequence, the replay command); n/a and pending rules are <c>ok ... # SKIP reason</c>.</para>
/// <para><b>KTAP</b> (version 1): one test per profile, each with one subtest per rule, indented two
/// spaces and opened by its own version line, <c># Subtest:</c> line and plan, as KUnit nests a
/// suite's cases. Result descriptions are the rule IDs; what a check saw is printed as diagnostic
/// lines (<c># ...</c>) just before the rule's result line. A profile fails when one of its rules
/// does, and is skipped when all of them are. The last line is kselftest's
/// <c># Totals: pass:N fail:N xfail:0 xpass:0 skip:N error:0</c>, counted over rule x profile.</para>
/// <para>In both, a rule counts as passed only with the outcome "passed"; any other outcome that
/// is not n/a or pending (failed, not exercised, blocked, ...) is <c>not ok</c>, so the exit status
/// of a harness agrees with the run's.</para>
/// <para><b>Blocked</b> rules are neither passed nor failed: another rule's failure stands between
/// them and a verdict. They are <c>not ok ... # TODO blocked by PAGE-4</c>, the directive both TAP
/// and KTAP define for "not expected to pass at the moment, because of a known bug": harnesses count
/// a TODO test as neither a pass nor a failure, and the blocking rule's own <c>not ok</c> fails the
/// stream. That holds only when the blocking rule is in the same stream (same profile); when it is
/// not (a <c>--rule</c> selection left it out), the blocked rule is a plain <c>not ok</c>, so the
/// harness never passes a run that did not. KTAP's totals count blocked rules as <c>error</c> (kselftest's
/// counter for a test that could not reach a verdict), so pass + fail + skip + error is the number of rules.</para>
/// </remarks>
public static class TapReport
{
    /// <summary>TAP version 13.</summary>
    public static string RenderTap(SuiteResult result, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var sb = new StringBuilder();
        sb.Append("TAP version 13\n");
        sb.Append($"1..{result.Results.Count}\n");
        sb.Append($"# kmm-conformance: {Line(result.Implementation)}, {Line(ReportText.Headline(result))}\n");
        int n = 0;
        foreach (var row in result.Results)
        {
            n++;
            string description = $"{Description(row.Rule.Id)} on {Description(row.Profile)}";
            switch (Kind(result, row))
            {
                case Verdict.Ok:
                    sb.Append($"ok {n} - {description}\n");
                    break;
                case Verdict.Skip:
                    sb.Append($"ok {n} - {description} # SKIP {Line(SkipReason(row))}\n");
                    break;
                default:
                    sb.Append(Kind(result, row) == Verdict.Todo ? $"not ok {n} - {description} # TODO {Line(TodoReason(row))}\n" : $"not ok {n} - {description}\n");
                    sb.Append("  ---\n");
                    Yaml(sb, "outcome", ReportText.Word(row.Outcome));
                    if (row.BlockedBy is { } by) Yaml(sb, "blockedBy", by);
                    Yaml(sb, "rule", row.Rule.Statement);
                    if (row.Counterexample is { } ce)
                    {
                        Yaml(sb, "profile", ce.ProfileLabel);
                        Yaml(sb, "observed", ce.Message);
                        sb.Append("  sequence:\n");
                        foreach (var step in ce.Trace) sb.Append($"    - {Quote(step)}\n");
                        Yaml(sb, "replay", Replay.Command(result, ce, options.ReplayPrefix));
                    }
                    else if (row.Reason is { } reason) Yaml(sb, "reason", reason);
                    sb.Append("  ...\n");
                    break;
            }
        }
        sb.Append($"# {Line(ConsoleReport.Summary(result))}\n");
        return sb.ToString();
    }

    /// <summary>KTAP version 1: one test per profile, one subtest per rule.</summary>
    public static string RenderKtap(SuiteResult result, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var sb = new StringBuilder();
        sb.Append("KTAP version 1\n");
        sb.Append($"# kmm-conformance: {Line(result.Implementation)}, {Line(ReportText.Headline(result))}\n");
        sb.Append($"1..{result.Profiles.Count}\n");
        int pass = 0, fail = 0, skip = 0, error = 0;
        for (int p = 0; p < result.Profiles.Count; p++)
        {
            string profile = result.Profiles[p];
            var rows = result.Results.Where(r => r.Profile == profile).ToList();
            const string Indent = "  ";
            sb.Append($"{Indent}KTAP version 1\n");
            sb.Append($"{Indent}# Subtest: {Description(profile)}\n");
            sb.Append($"{Indent}1..{rows.Count}\n");
            int profilePass = 0, profileFail = 0, profileSkip = 0, profileBlocked = 0;
            for (int i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                string id = Description(row.Rule.Id);
                switch (Kind(result, row))
                {
                    case Verdict.Ok:
                        sb.Append($"{Indent}# {id}: {row.Checks.ToString(CultureInfo.InvariantCulture)} checks\n");
                        sb.Append($"{Indent}ok {i + 1} {id}\n");
                        profilePass++;
                        break;
                    case Verdict.Skip:
                        sb.Append($"{Indent}ok {i + 1} {id} # SKIP {Line(SkipReason(row))}\n");
                        profileSkip++;
                        break;
                    case Verdict.Todo:
                        Diagnostics(sb, Indent, result, row, options);
                        sb.Append($"{Indent}not ok {i + 1} {id} # TODO {Line(TodoReason(row))}\n");
                        profileBlocked++;
                        break;
                    default:
                        Diagnostics(sb, Indent, result, row, options);
                        sb.Append($"{Indent}not ok {i + 1} {id}\n");
                        profileFail++;
                        break;
                }
            }
            sb.Append($"{Indent}# {Description(profile)}: pass:{profilePass} fail:{profileFail} skip:{profileSkip}{(profileBlocked > 0 ? $" blocked:{profileBlocked}" : "")} total:{rows.Count}\n");
            if (profileFail > 0) sb.Append($"not ok {p + 1} {Description(profile)}\n");
            else if (profilePass == 0 && profileBlocked == 0) sb.Append($"ok {p + 1} {Description(profile)} # SKIP no rule applies on this profile\n");
            else sb.Append($"ok {p + 1} {Description(profile)}\n");
            pass += profilePass;
            fail += profileFail;
            skip += profileSkip;
            error += profileBlocked;
        }
        sb.Append($"# Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:{skip} error:{error}\n");
        return sb.ToString();
    }

    public static void WriteTap(SuiteResult result, string path, ReportOptions? options = null) => ReportFile.Write(path, RenderTap(result, options));

    public static void WriteKtap(SuiteResult result, string path, ReportOptions? options = null) => ReportFile.Write(path, RenderKtap(result, options));

    private enum Verdict { Ok, Skip, Todo, NotOk }

    /// <summary>
    /// Passed is ok; n/a and pending are skips; blocked is a TODO when the rule that blocks it failed
    /// on the same profile in this result (that failure fails the stream), else not ok; everything else
    /// (failed, not exercised, and any outcome not known here) is not ok.
    /// </summary>
    private static Verdict Kind(SuiteResult result, RuleResult row) => row.Outcome switch
    {
        RuleOutcome.Passed => Verdict.Ok,
        RuleOutcome.NotApplicable or RuleOutcome.Pending => Verdict.Skip,
        RuleOutcome.Blocked when row.BlockedBy is { } by
            && result.Results.Any(r => r.Rule.Id == by && r.Profile == row.Profile && r.Outcome == RuleOutcome.Failed) => Verdict.Todo,
        _ => Verdict.NotOk,
    };

    private static string TodoReason(RuleResult row) => $"blocked by {row.BlockedBy}: no verdict until {row.BlockedBy} is fixed";

    private static string SkipReason(RuleResult row)
    {
        if (row.Outcome != RuleOutcome.Pending) return $"n/a: {row.Reason ?? "not applicable"}";
        string reason = row.Reason ?? "not encoded yet";
        return reason.StartsWith("pending", StringComparison.OrdinalIgnoreCase) ? reason : $"pending: {reason}";
    }

    /// <summary>What a KTAP parser shows with a failed rule: one diagnostic line each.</summary>
    private static void Diagnostics(StringBuilder sb, string indent, SuiteResult result, RuleResult row, ReportOptions options)
    {
        void Diag(string text) => sb.Append($"{indent}# {Line(text)}\n");
        string id = row.Rule.Id;
        Diag($"{id}: {ReportText.Word(row.Outcome)}: {row.Rule.Statement}");
        if (row.Counterexample is { } ce)
        {
            Diag($"{id}: on {ce.ProfileLabel}, {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}");
            Diag($"{id}: observed: {ce.Message}");
            for (int i = 0; i < ce.Trace.Count; i++) Diag($"{id}: {i + 1,3}. {ce.Trace[i]}");
            Diag($"{id}: replay: {Replay.Command(result, ce, options.ReplayPrefix)}");
        }
        else if (row.Reason is { } reason) Diag($"{id}: {reason}");
    }

    /// <summary>One line: no line breaks (a KTAP or TAP line ends at the first).</summary>
    private static string Line(string text) => text.Replace("\r\n", " ").Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>A test description: one line, without '#', which would start a directive.</summary>
    private static string Description(string text) => Line(text).Replace('#', '_');

    private static void Yaml(StringBuilder sb, string key, string value) => sb.Append($"  {key}: {Quote(value)}\n");

    /// <summary>A YAML double-quoted scalar (JSON's string syntax is a subset of it).</summary>
    private static string Quote(string value) => JsonSerializer.Serialize(value, Relaxed);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
