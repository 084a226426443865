using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// JUnit XML for CI systems: one <c>testsuite</c> per profile, one <c>testcase</c> per rule
/// (name = rule ID, classname = rule family). A failed rule carries a <c>failure</c> with the
/// observed message, the shrunk sequence and the replay command; an applicable rule no sequence
/// reached, and a rule blocked by another's failure, are failures too (type NotExercised, Blocked:
/// the run exits 1 for them, and neither is a pass); n/a and pending rules are <c>skipped</c>
/// with the reason.
/// </summary>
public static class JUnitReport
{
    public static string Render(SuiteResult result, ReportOptions? options = null)
    {
        var doc = Build(result, options ?? new ReportOptions());
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, settings)) doc.Save(writer);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static void Write(SuiteResult result, string path, ReportOptions? options = null) =>
        ReportFile.Write(path, Render(result, options));

    public static XDocument Build(SuiteResult result, ReportOptions options)
    {
        var suites = new XElement("testsuites",
            new XAttribute("name", $"kmm-conformance: {result.Implementation}"),
            new XAttribute("tests", result.Results.Count),
            new XAttribute("failures", result.Results.Count(IsFailure)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", result.Results.Count(IsSkipped)),
            new XAttribute("time", Seconds(result.Elapsed.TotalSeconds)));
        if (options.GeneratedAt is { } at) suites.Add(new XAttribute("timestamp", at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)));

        foreach (var profile in result.Profiles)
        {
            var rows = result.Results.Where(r => r.Profile == profile).ToList();
            var suite = new XElement("testsuite",
                new XAttribute("name", profile),
                new XAttribute("tests", rows.Count),
                new XAttribute("failures", rows.Count(IsFailure)),
                new XAttribute("errors", 0),
                new XAttribute("skipped", rows.Count(IsSkipped)),
                new XElement("properties",
                    Property("implementation", result.Implementation),
                    Property("seed", result.Settings.Seed.ToString(CultureInfo.InvariantCulture)),
                    Property("sequences", result.Settings.Sequences.ToString(CultureInfo.InvariantCulture)),
                    Property("max-steps", result.Settings.MaxSteps.ToString(CultureInfo.InvariantCulture)),
                    Property("memory", string.Join(",", result.MemorySizes.Select(Profile.FormatSize)))));
            foreach (var row in rows) suite.Add(Case(result, row, options));
            suites.Add(suite);
        }
        suites.Add(new XElement("system-out", Clean(ConsoleReport.Summary(result))));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), suites);
    }

    private static bool IsFailure(RuleResult r) => r.Outcome is RuleOutcome.Failed or RuleOutcome.NotExercised or RuleOutcome.Blocked;
    private static bool IsSkipped(RuleResult r) => r.Outcome is RuleOutcome.NotApplicable or RuleOutcome.Pending;

    private static XElement Case(SuiteResult result, RuleResult row, ReportOptions options)
    {
        var element = new XElement("testcase",
            new XAttribute("name", row.Rule.Id),
            new XAttribute("classname", row.Rule.Family.ToString()),
            new XAttribute("time", "0"));
        switch (row.Outcome)
        {
            case RuleOutcome.Failed when row.Counterexample is { } ce:
                element.Add(new XElement("failure",
                    new XAttribute("message", Clean($"{ce.RuleId} on {ce.ProfileLabel}: {ce.Message}")),
                    new XAttribute("type", "RuleViolation"),
                    Clean(FailureText(result, row, ce, options))));
                break;
            case RuleOutcome.Failed:
                element.Add(new XElement("failure", new XAttribute("message", Clean(row.Reason ?? "failed")), new XAttribute("type", "RuleViolation")));
                break;
            case RuleOutcome.NotExercised:
                element.Add(new XElement("failure",
                    new XAttribute("message", Clean($"unexercised: {row.Reason ?? "no generated sequence reached this rule's check"}")),
                    new XAttribute("type", "NotExercised"),
                    Clean($"{row.Rule.Id} applies to {row.Profile} but no generated sequence reached its check: a gap in the suite, not a pass.\nrule: {row.Rule.Statement}\ncheck: {row.Rule.Check}")));
                break;
            case RuleOutcome.Blocked:
                element.Add(new XElement("failure",
                    new XAttribute("message", Clean($"blocked by {row.BlockedBy}: {row.Reason}")),
                    new XAttribute("type", "Blocked"),
                    Clean(BlockedText(row))));
                break;
            case RuleOutcome.NotApplicable:
                element.Add(new XElement("skipped", new XAttribute("message", Clean($"n/a: {row.Reason}"))));
                break;
            case RuleOutcome.Pending:
                element.Add(new XElement("skipped", new XAttribute("message", Clean($"pending: {row.Reason}"))));
                break;
        }
        return element;
    }

    private static string FailureText(SuiteResult result, RuleResult row, Counterexample ce, ReportOptions options)
    {
        var sb = new StringBuilder();
        sb.Append($"FAILED {ce.RuleId} on {ce.ProfileLabel} (family {ce.Family}, property seed {ce.Seed}): {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}\n");
        if (!ce.Reproducible) sb.Append($"{ReportText.NotReproducible}\n");
        sb.Append($"rule: {row.Rule.Statement}\n");
        sb.Append($"check: {row.Rule.Check}\n");
        sb.Append($"observed: {ce.Message}\n");
        sb.Append("sequence:\n");
        for (int i = 0; i < ce.Trace.Count; i++) sb.Append($"  {i + 1,3}. {ce.Trace[i]}\n");
        sb.Append("as C#:\n");
        foreach (var line in ce.CSharp) sb.Append($"  {line}\n");
        sb.Append($"replay: {Replay.Command(result, ce, options.ReplayPrefix)}\n");
        return sb.ToString();
    }

    private static string BlockedText(RuleResult row)
    {
        var sb = new StringBuilder();
        sb.Append($"{row.Rule.Id} on {row.Profile} has no verdict: {row.Reason}. It is not a pass: fix {row.BlockedBy} and run again.\n");
        sb.Append($"rule: {row.Rule.Statement}\n");
        if (row.Counterexample is { } seen)
        {
            sb.Append($"observed after {seen.BlockedBy} had failed, on {seen.ProfileLabel}: {seen.Message}\n");
            sb.Append("sequence:\n");
            for (int i = 0; i < seen.Trace.Count; i++) sb.Append($"  {i + 1,3}. {seen.Trace[i]}\n");
        }
        return sb.ToString();
    }

    private static XElement Property(string name, string value) =>
        new("property", new XAttribute("name", name), new XAttribute("value", Clean(value)));

    private static string Seconds(double s) => s.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Drops characters XML 1.0 cannot carry (an implementation's exception message may hold anything).</summary>
    internal static string Clean(string s)
    {
        if (s.All(XmlConvert.IsXmlChar)) return s;
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (XmlConvert.IsXmlChar(s[i])) sb.Append(s[i]);
            else if (i + 1 < s.Length && XmlConvert.IsXmlSurrogatePair(s[i + 1], s[i])) { sb.Append(s[i]).Append(s[i + 1]); i++; }
            else sb.Append('\uFFFD');
        }
        return sb.ToString();
    }
}

/// <summary>Writes a report file, creating its directory.</summary>
internal static class ReportFile
{
    public static void Write(string path, string text)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }
}
