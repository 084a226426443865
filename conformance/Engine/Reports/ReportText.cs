using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Reports;

/// <summary>Wording shared by the reports, so the console, JUnit, JSON and HTML say the same thing.</summary>
internal static class ReportText
{
    public static string Cell(RuleResult? row) => row?.Outcome switch
    {
        null => "",
        RuleOutcome.Passed => $"pass {Compact(row.Checks)}",
        RuleOutcome.Failed => "FAIL",
        RuleOutcome.NotApplicable => "n/a",
        RuleOutcome.Pending => "pending",
        RuleOutcome.NotExercised => "UNEXERCISED",
        // The column stays narrow; the BLOCKED section under the table names the rule that blocks it.
        RuleOutcome.Blocked => "BLOCKED",
        _ => "?",
    };

    public static string Word(RuleOutcome outcome) => outcome switch
    {
        RuleOutcome.Passed => "pass",
        RuleOutcome.Failed => "FAIL",
        RuleOutcome.NotApplicable => "n/a",
        RuleOutcome.Pending => "pending",
        RuleOutcome.NotExercised => "unexercised",
        RuleOutcome.Blocked => "blocked",
        _ => "?",
    };

    /// <summary>What follows "FAILED RULE on PROFILE" when the failure did not happen again on replay.</summary>
    public const string NotReproducible = "NOT REPRODUCIBLE: it failed once and did not fail again when its steps were replayed; the observation below is the first one";

    public static string Compact(long n) => n >= 10_000_000 ? $"{n / 1_000_000}M" : n >= 10_000 ? $"{n / 1000}k" : n.ToString();

    public static string Trim(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    /// <summary>"x86-32/512M" into ("x86-32", "512M").</summary>
    public static (string Name, string Memory) SplitLabel(string label)
    {
        int slash = label.LastIndexOf('/');
        return slash < 0 ? (label, "") : (label[..slash], label[(slash + 1)..]);
    }

    public static int Count(SuiteResult result, RuleOutcome outcome) => result.Results.Count(r => r.Outcome == outcome);

    public static double OpsPerSecond(SuiteResult result) => result.Operations / Math.Max(result.Elapsed.TotalSeconds, 1e-9);

    /// <summary>The header line: implementation, seed, effort, sizes.</summary>
    public static string Headline(SuiteResult result) =>
        $"seed {result.Settings.Seed}, {result.Settings.Sequences} sequences of up to {result.Settings.MaxSteps} steps per family, profile and memory size ({string.Join(", ", result.MemorySizes.Select(Spec.Profiles.Profile.FormatSize))})";
}
