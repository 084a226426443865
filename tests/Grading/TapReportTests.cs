using System.Text.RegularExpressions;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Tests.Reports;

namespace KernelMm.Tests.Grading;

/// <summary>
/// TAP 13 and KTAP 1 (Documentation/dev-tools/ktap.rst): the grammar a harness or kunit.py parses
/// (version line, plan, numbered results, SKIP directives, nesting by two spaces), and verdicts that
/// agree with the run's.
/// </summary>
public sealed partial class TapReportTests
{
    [Fact]
    public void Ktap_IsWellFormed_OneTestPerProfile_OneSubtestPerRule()
    {
        var result = ReportFixtures.HandBuilt();
        var ktap = TapReport.RenderKtap(result);
        var top = KtapParser.Parse(ktap);

        Assert.Equal(result.Profiles, top.Results.Select(r => r.Description));
        foreach (var (profile, i) in result.Profiles.Select((p, i) => (p, i)))
        {
            var suite = top.Results[i];
            Assert.NotNull(suite.Subtest);
            Assert.Equal($"Subtest: {profile}", suite.Subtest!.Name);
            var rows = result.Results.Where(r => r.Profile == profile).ToList();
            Assert.Equal(rows.Select(r => r.Rule.Id), suite.Subtest.Results.Select(r => r.Description));
            foreach (var (row, test) in rows.Zip(suite.Subtest.Results))
            {
                switch (row.Outcome)
                {
                    case RuleOutcome.Passed: Assert.True(test.Ok && test.Directive is null, row.Rule.Id); break;
                    case RuleOutcome.NotApplicable or RuleOutcome.Pending: Assert.True(test.Ok && test.Directive == "SKIP", row.Rule.Id); break;
                    // Neither a pass nor a failure of its own: not ok, with the TODO directive naming what blocks it.
                    case RuleOutcome.Blocked: Assert.True(!test.Ok && test.Directive == "TODO" && test.Line.Contains("blocked by PAGE-4"), test.Line); break;
                    default: Assert.True(!test.Ok && test.Directive is null, $"{row.Rule.Id} {row.Outcome} must be not ok"); break;
                }
            }
            // A profile fails exactly when one of its rules does.
            Assert.Equal(suite.Subtest.Results.All(r => r.Ok), suite.Ok);
        }
        Assert.False(top.Results.Single(r => r.Description == "x86-32").Ok);        // PAGE-4 failed there
        Assert.False(top.Results.Single(r => r.Description == "linux-2.4").Ok);     // PAGE-3 unexercised there
        // PAGE-4 and the unexercised PAGE-3 fail; the blocked PAGE-8 is neither pass nor fail: kselftest's "error".
        int passed = ReportFixtures.Count(result, RuleOutcome.Passed), skipped = ReportFixtures.Count(result, RuleOutcome.NotApplicable) + ReportFixtures.Count(result, RuleOutcome.Pending);
        Assert.EndsWith($"\n# Totals: pass:{passed} fail:2 xfail:0 xpass:0 skip:{skipped} error:1\n", ktap);
        Assert.Equal(result.Results.Count, passed + 2 + skipped + 1);
    }

    [Fact]
    public void Ktap_FailureDiagnostics_PrecedeTheResult_AndCarryTheReplay()
    {
        var result = ReportFixtures.HandBuilt();
        var lines = TapReport.RenderKtap(result, new ReportOptions { ReplayPrefix = "kmm-conformance" }).Split('\n');
        int failed = Array.FindIndex(lines, l => Regex.IsMatch(l, @"^  not ok \d+ PAGE-4$"));
        Assert.True(failed > 0);
        var diagnostics = lines[..failed].Reverse().TakeWhile(l => l.StartsWith("  # PAGE-4", StringComparison.Ordinal)).Reverse().ToList();
        Assert.Contains(diagnostics, d => d.Contains("observed: " + ReportFixtures.NastyMessage));
        Assert.Contains(diagnostics, d => d.Contains("replay: kmm-conformance run ") && d.Contains("--family pages"));
        Assert.Contains(diagnostics, d => d.Contains("1. boot x86-32/512M"));
    }

    [Fact]
    public void Ktap_OfARealRun_AgreesWithItRuleByRule()
    {
        var result = ReportFixtures.RealRun;
        var top = KtapParser.Parse(TapReport.RenderKtap(result));
        var suite = Assert.Single(top.Results);
        Assert.Equal(result.Passed, suite.Ok);
        var passed = result.Results.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => r.Rule.Id).ToList();
        Assert.NotEmpty(passed);
        Assert.Equal(passed, suite.Subtest!.Results.Where(r => r.Ok && r.Directive is null).Select(r => r.Description));
    }

    [Fact]
    public void Tap_IsWellFormed_OnePointPerRuleAndProfile_WithYamlForFailures()
    {
        var result = ReportFixtures.HandBuilt();
        var tap = TapReport.RenderTap(result);
        var lines = tap.Split('\n');
        Assert.Equal("TAP version 13", lines[0]);
        Assert.Equal($"1..{result.Results.Count}", lines[1]);
        var points = lines.Select(l => TapLine().Match(l)).Where(m => m.Success).ToList();
        Assert.Equal(result.Results.Count, points.Count);
        for (int i = 0; i < points.Count; i++)
        {
            var row = result.Results[i];
            Assert.Equal((i + 1).ToString(), points[i].Groups["n"].Value);
            Assert.Equal($"{row.Rule.Id} on {row.Profile}", points[i].Groups["desc"].Value.TrimEnd());
            bool ok = points[i].Groups["ok"].Value == "ok";
            Assert.Equal(row.Outcome is RuleOutcome.Passed or RuleOutcome.NotApplicable or RuleOutcome.Pending, ok);
            Assert.Equal(row.Outcome is RuleOutcome.NotApplicable or RuleOutcome.Pending, points[i].Groups["skip"].Success);
            Assert.Equal(row.Outcome is RuleOutcome.Blocked, points[i].Groups["todo"].Success);
        }
        // The blocked rule: a TODO (harnesses count it neither passed nor failed) whose YAML names what blocks it.
        int todo = Array.FindIndex(lines, l => l.StartsWith("not ok", StringComparison.Ordinal) && l.Contains(" - PAGE-8 on x86-32 # TODO blocked by PAGE-4"));
        Assert.True(todo > 0, tap);
        var todoYaml = string.Join("\n", lines[(todo + 2)..Array.IndexOf(lines, "  ...", todo)]);
        Assert.Contains("  outcome: \"blocked\"", todoYaml);
        Assert.Contains("  blockedBy: \"PAGE-4\"", todoYaml);
        // The YAML block of the failure: between "  ---" and "  ...", JSON-quoted scalars.
        int failed = Array.FindIndex(lines, l => l.StartsWith("not ok", StringComparison.Ordinal) && l.EndsWith("PAGE-4 on x86-32", StringComparison.Ordinal));
        Assert.Equal("  ---", lines[failed + 1]);
        int end = Array.IndexOf(lines, "  ...", failed);
        var yaml = string.Join("\n", lines[(failed + 2)..end]);
        Assert.Contains("  outcome: \"FAIL\"", yaml);
        Assert.Contains("  observed: \"free_pages(p2, 3) of an order-2 block <was accepted> & \\\"quoted\\\" 'single' <script>alert(1)</script>\"", yaml);
        Assert.Contains("  sequence:\n    - \"boot x86-32/512M", yaml);
    }

    [Fact]
    public void Descriptions_NeverCarryAHashOrALineBreak()
    {
        const string Evil = "x86#32\nevil";
        var hand = ReportFixtures.HandBuilt();
        var result = hand with
        {
            Implementation = "a\nb",
            Profiles = [Evil],
            Results = hand.Results.Where(r => r.Profile == "x86-32").Select(r => r with { Profile = Evil }).ToList(),
        };
        var tap = TapReport.RenderTap(result);
        var ktap = TapReport.RenderKtap(result);
        foreach (var text in new[] { tap, ktap })
        {
            Assert.DoesNotContain("x86#32", text);
            Assert.DoesNotContain(text.Split('\n'), l => l.StartsWith("evil", StringComparison.Ordinal) || l.StartsWith('b'));
        }
        Assert.Contains("\nnot ok 1 x86_32 evil\n", ktap);
        Assert.Contains(" - PAGE-4 on x86_32 evil\n", tap);
        KtapParser.Parse(ktap);
    }

    [Fact]
    public void ABlockedRule_WhoseBlockerIsNotInTheStream_IsAPlainNotOk_SoTheHarnessFailsAsTheRunDoes()
    {
        // A --rule selection that reports PAGE-8 but not PAGE-4: the TODO would leave nothing failing.
        var hand = ReportFixtures.HandBuilt();
        var result = hand with { Results = hand.Results.Where(r => r.Rule.Id != "PAGE-4").ToList() };
        Assert.False(result.Passed);
        var tap = TapReport.RenderTap(result);
        Assert.Contains("not ok", tap);
        Assert.DoesNotContain("# TODO", tap);
        Assert.Matches(@"\nnot ok \d+ - PAGE-8 on x86-32\n", tap);
        var ktap = TapReport.RenderKtap(result);
        Assert.False(KtapParser.Parse(ktap).Results.Single(r => r.Description == "x86-32").Ok);
        Assert.Matches(@"\n  not ok \d+ PAGE-8\n", ktap);
        Assert.Contains("error:0", ktap);
    }

    [Fact]
    public void AProfileWhoseOnlyNonPassesAreBlocked_StillFails_BecauseItsBlockerFailedThere()
    {
        var ktap = TapReport.RenderKtap(ReportFixtures.HandBuilt());
        var x86 = KtapParser.Parse(ktap).Results.Single(r => r.Description == "x86-32");
        Assert.False(x86.Ok);
        Assert.Contains(x86.Subtest!.Results, r => r.Description == "PAGE-8" && r.Directive == "TODO");
        Assert.Contains("  # x86-32: pass:", ktap);
        Assert.Matches(@"  # x86-32: pass:\d+ fail:1 skip:\d+ blocked:1 total:\d+\n", ktap);
    }

    [GeneratedRegex(@"^(?<ok>ok|not ok) (?<n>\d+) - (?<desc>[^#]*)(?<skip># SKIP .*)?(?<todo># TODO blocked by .*)?$")]
    private static partial Regex TapLine();

    /// <summary>A strict reader of KTAP version 1: what kernel tooling expects of it.</summary>
    internal static class KtapParser
    {
        public sealed record Result(bool Ok, int Number, string Description, string? Directive, Test? Subtest, string Line = "");
        public sealed record Test(string? Name, IReadOnlyList<Result> Results);

        public static Test Parse(string text)
        {
            var lines = text.Split('\n').Where(l => l.Length > 0).ToList();
            int i = 0;
            var test = ParseTest(lines, ref i, 0);
            Assert.True(i == lines.Count || lines.Skip(i).All(l => l.StartsWith('#')), $"unparsed lines from {i}: {string.Join(" | ", lines.Skip(i).Take(3))}");
            return test;
        }

        private static Test ParseTest(List<string> lines, ref int i, int depth)
        {
            string indent = new(' ', 2 * depth);
            Assert.Equal($"{indent}KTAP version 1", lines[i++]);
            string? name = null;
            while (lines[i].StartsWith(indent + "# ", StringComparison.Ordinal))
            {
                if (lines[i].StartsWith(indent + "# Subtest: ", StringComparison.Ordinal)) name = lines[i][(indent.Length + 2)..];
                i++;
            }
            var plan = Regex.Match(lines[i++], $"^{indent}1\\.\\.(\\d+)$");
            Assert.True(plan.Success, $"plan line expected at depth {depth}: '{lines[i - 1]}'");
            int count = int.Parse(plan.Groups[1].Value);
            var results = new List<Result>();
            Test? pending = null;
            while (results.Count < count)
            {
                string line = lines[i];
                if (line == $"{indent}  KTAP version 1") { pending = ParseTest(lines, ref i, depth + 1); continue; }
                if (line.StartsWith(indent + "#", StringComparison.Ordinal)) { i++; continue; }
                var m = Regex.Match(line, $"^{indent}(?<ok>ok|not ok) (?<n>\\d+) (?<desc>[^#]+?)(?: # (?<dir>SKIP|TODO|XFAIL|TIMEOUT|ERROR)\\b.*)?$");
                Assert.True(m.Success, $"result line expected at depth {depth}: '{line}'");
                Assert.Equal(results.Count + 1, int.Parse(m.Groups["n"].Value));
                results.Add(new Result(m.Groups["ok"].Value == "ok", results.Count + 1, m.Groups["desc"].Value,
                    m.Groups["dir"].Success ? m.Groups["dir"].Value : null, pending, line));
                pending = null;
                i++;
            }
            while (i < lines.Count && lines[i].StartsWith(indent + "#", StringComparison.Ordinal) && depth > 0) i++;
            return new Test(name, results);
        }
    }
}
