using System.Text.RegularExpressions;
using KernelMm.Conformance.Reports;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Reports;

/// <summary>The HTML report: self-contained, balanced, every rule present, everything escaped.</summary>
public class HtmlReportTests
{
    private static readonly HashSet<string> Void = ["meta", "col", "br", "hr", "img", "input", "link", "wbr"];

    /// <summary>Asserts that every non-void element is closed in order (well-formed enough for a browser not to guess).</summary>
    private static void AssertBalanced(string html)
    {
        var body = Regex.Replace(html, "<style>.*?</style>", "<style></style>", RegexOptions.Singleline);
        var stack = new Stack<string>();
        foreach (Match m in Regex.Matches(body, @"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>"))
        {
            string name = m.Groups[2].Value.ToLowerInvariant();
            if (Void.Contains(name)) continue;
            if (m.Groups[1].Value == "") { stack.Push(name); continue; }
            Assert.True(stack.Count > 0, $"</{name}> closes nothing");
            Assert.Equal(stack.Pop(), name);
        }
        Assert.Empty(stack);
        // No stray angle brackets: every '<' starts a tag, a comment or the doctype.
        Assert.DoesNotMatch(new Regex(@"<(?![a-zA-Z/!])"), body);
    }

    [Fact]
    public void HandBuilt_IsSelfContainedBalancedAndEscaped()
    {
        var html = HtmlReport.Render(ReportFixtures.HandBuilt());

        Assert.StartsWith("<!DOCTYPE html>", html);
        AssertBalanced(html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*""(https?:)?//"), html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&lt;was accepted&gt; &amp; &quot;quoted&quot; &#39;single&#39;", html);
        Assert.Contains("broken &lt;impl&gt;", html);
        Assert.Contains("not declared: Highmem &lt;optional&gt;", html);
        foreach (var rule in RuleCatalogue.All) Assert.Contains(rule.Id, html);
    }

    [Fact]
    public void HandBuilt_FailureSectionHasEverythingToActOn()
    {
        var result = ReportFixtures.HandBuilt();
        var html = HtmlReport.Render(result);
        var row = result.Failures.Single();
        var ce = row.Counterexample!;

        Assert.Contains($"<a href=\"#{HtmlReport.Anchor(row)}\">FAIL</a>", html);
        Assert.Contains($"id=\"{HtmlReport.Anchor(row)}\"", html);
        Assert.Contains(HtmlReport.E(row.Rule.Statement), html);
        Assert.Contains(HtmlReport.E(row.Rule.Check), html);
        foreach (var line in ce.Trace) Assert.Contains(HtmlReport.E(line), html);
        Assert.Contains(HtmlReport.E(Replay.Command(result, ce)), html);
        Assert.Contains("[Fact]", html);
        Assert.Contains(HtmlReport.E("ShouldKeep(\"PAGE-4\")"), html);
        foreach (var step in ce.Steps) Assert.Contains(HtmlReport.E(step), html);
        Assert.Contains("class=\"c unex\"", html);
        Assert.Contains("class=\"c na\"", html);
        Assert.Contains("<div class=\"verdict fail\">FAIL</div>", html);
    }

    [Fact]
    public void HandBuilt_BlockedRuleIsMarkedAndExplained()
    {
        var result = ReportFixtures.HandBuilt();
        var html = HtmlReport.Render(result);
        var row = result.Blocked.Single();

        Assert.Contains($"<a href=\"#{HtmlReport.BlockedAnchor(row)}\">BLOCKED <small>PAGE-4</small></a>", html);
        Assert.Contains($"id=\"{HtmlReport.BlockedAnchor(row)}\"", html);
        Assert.Contains("class=\"c blocked\"", html);
        Assert.Contains("<b>1</b> blocked", html);
        Assert.Contains(HtmlReport.E(row.Counterexample!.Message), html);
        Assert.DoesNotContain("class=\"c pass\" title=\"40 checks\"", html); // not shown as a pass
    }

    [Fact]
    public void RealRun_IsBalancedAndListsEveryRule()
    {
        var result = ReportFixtures.RealRun;
        var html = HtmlReport.Render(result, new ReportOptions { GeneratedAt = DateTimeOffset.UnixEpoch });
        AssertBalanced(html);
        foreach (var rule in RuleCatalogue.All) Assert.Contains(rule.Id, html);
        Assert.Contains("1970-01-01 00:00:00 UTC", html);
        Assert.Contains(result.Passed ? "verdict pass" : "verdict fail", html);
    }
}
