using System.Xml.Linq;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Reports;

/// <summary>JUnit XML: parses, one testsuite per profile, one testcase per rule, counts that add up.</summary>
public class JUnitReportTests
{
    [Fact]
    public void RealRun_ParsesWithOneSuitePerProfileAndOneCasePerRule()
    {
        var result = ReportFixtures.RealRun;
        var doc = XDocument.Parse(JUnitReport.Render(result));

        var root = doc.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        var suite = Assert.Single(root.Elements("testsuite"));
        Assert.Equal("x86-32", (string?)suite.Attribute("name"));
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(RuleCatalogue.All.Select(r => r.Id), cases.Select(c => (string?)c.Attribute("name")));
        Assert.All(cases, c => Assert.Equal(RuleCatalogue.Get((string)c.Attribute("name")!).Family.ToString(), (string?)c.Attribute("classname")));

        int failures = ReportFixtures.Count(result, RuleOutcome.Failed) + ReportFixtures.Count(result, RuleOutcome.NotExercised);
        int skipped = ReportFixtures.Count(result, RuleOutcome.Pending) + ReportFixtures.Count(result, RuleOutcome.NotApplicable);
        Assert.Equal(RuleCatalogue.All.Count, (int)suite.Attribute("tests")!);
        Assert.Equal(failures, (int)suite.Attribute("failures")!);
        Assert.Equal(skipped, (int)suite.Attribute("skipped")!);
        Assert.Equal(failures, cases.Count(c => c.Element("failure") is not null));
        Assert.Equal(skipped, cases.Count(c => c.Element("skipped") is not null));
        Assert.Equal((int)suite.Attribute("tests")!, (int)root.Attribute("tests")!);
        Assert.Equal("12", suite.Element("properties")!.Elements("property").Single(p => (string?)p.Attribute("name") == "sequences").Attribute("value")!.Value);
    }

    [Fact]
    public void HandBuilt_FailureCarriesMessageSequenceAndReplay()
    {
        var result = ReportFixtures.HandBuilt();
        var xml = JUnitReport.Render(result);
        var doc = XDocument.Parse(xml); // the message's < & " are escaped, or this throws

        var suites = doc.Root!.Elements("testsuite").ToList();
        Assert.Equal(["x86-32", "linux-2.4"], suites.Select(s => (string)s.Attribute("name")!));
        var x86 = suites[0];
        var page4 = x86.Elements("testcase").Single(c => (string?)c.Attribute("name") == "PAGE-4");
        Assert.Equal("PAGE", (string?)page4.Attribute("classname"));
        var failure = page4.Element("failure")!;
        Assert.Contains(ReportFixtures.NastyMessage, (string)failure.Attribute("message")!);
        Assert.Contains("free_pages(p1, 3) of an order-2 block -> no error", failure.Value);
        Assert.Contains("Assert.Throws<KernelBugException>(() => pages.FreePages(p1, 3));", failure.Value);
        Assert.Contains("replay: dotnet run --project conformance/Cli -- run --profile x86-32 --memory 512M --replay 7 --sequences 40 --max-steps 30 --family pages", failure.Value);
        // PAGE-8, blocked by PAGE-4, is no pass: a failure of type Blocked with the observation behind it.
        var page8 = x86.Elements("testcase").Single(c => (string?)c.Attribute("name") == "PAGE-8").Element("failure")!;
        Assert.Equal("Blocked", (string?)page8.Attribute("type"));
        Assert.StartsWith("blocked by PAGE-4: ", (string?)page8.Attribute("message"));
        Assert.Contains("zone Normal has 13 free order-10 blocks", page8.Value);
        Assert.Equal(2, (int)x86.Attribute("failures")!);

        var linux = suites[1];
        var page3 = linux.Elements("testcase").Single(c => (string?)c.Attribute("name") == "PAGE-3");
        Assert.Equal("NotExercised", (string?)page3.Element("failure")!.Attribute("type"));
        var addr2 = linux.Elements("testcase").Single(c => (string?)c.Attribute("name") == "ADDR-2");
        Assert.Equal("n/a: not declared: Highmem <optional>", (string?)addr2.Element("skipped")!.Attribute("message"));
        var pendingId = "SWAP-2";
        var pending = linux.Elements("testcase").Single(c => (string?)c.Attribute("name") == pendingId);
        Assert.StartsWith("pending: ", (string?)pending.Element("skipped")!.Attribute("message"));

        Assert.Equal(3, (int)doc.Root!.Attribute("failures")!);
        Assert.Equal(ReportFixtures.Count(result, RuleOutcome.Pending) + 1, (int)doc.Root!.Attribute("skipped")!);
    }

    [Fact]
    public void ControlCharactersInMessages_DoNotBreakTheXml()
    {
        var ce = ReportFixtures.Counterexample(message: "crash\u0001 with \u0000 NUL");
        var doc = XDocument.Parse(JUnitReport.Render(ReportFixtures.HandBuilt(ce)));
        Assert.Contains("crash", doc.Descendants("failure").First().Attribute("message")!.Value);
    }
}
