using System.Globalization;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Reports;

/// <summary>
/// The live progress line and the summary count the same things in the same units (issue 7 §1):
/// sequences, checked operations, and failed rules counted rule x profile, so the last progress
/// line and the summary say the same numbers.
/// </summary>
public class ProgressTests
{
    [Fact]
    public void The_last_progress_line_and_the_summary_agree()
    {
        // PAGE-8 fails on both memory sizes of one profile: two failing properties, one failed row.
        var events = new List<SuiteProgress>();
        var result = SuiteRunner.Run(new TreeFactory(Fault.NoCoalescing), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20, 128UL << 20],
            Families = new HashSet<string> { "pages" },
            Settings = new RunSettings { Seed = 3, Sequences = 30, MaxSteps = 40 },
            OnProgress = events.Add,
        });
        Assert.Equal(2, result.Properties.Count(p => p.Failures.Count > 0));

        var last = events[^1];
        Assert.True(last.Finished);
        Assert.Equal(result.Operations, last.Operations);
        Assert.Equal(result.Sequences, last.Sequences);
        int failedRows = result.Results.Count(r => r.Outcome == RuleOutcome.Failed);
        Assert.Equal(1, failedRows);
        Assert.Equal(failedRows, last.Failures);

        string line = ConsoleReport.ProgressLine(last, TimeSpan.FromSeconds(1.5));
        string summary = ConsoleReport.Summary(result);
        string ops = $"{result.Operations.ToString("N0", CultureInfo.InvariantCulture)} checked operations";
        string sequences = $"{result.Sequences.ToString("N0", CultureInfo.InvariantCulture)} sequences";
        Assert.Contains(ops, line);
        Assert.Contains(ops, summary);
        Assert.Contains(sequences, line);
        Assert.Contains(sequences, summary);
        Assert.Contains($"{failedRows} failed (rule x profile)", line);
        Assert.Contains($"{failedRows} failed,", summary);
        Assert.EndsWith("(rule x profile); " + sequences + ", " + ops + summary[(summary.IndexOf(" in ", StringComparison.Ordinal))..], summary);
    }

    [Fact]
    public void Progress_counts_only_the_rules_the_run_reports()
    {
        var events = new List<SuiteProgress>();
        var result = SuiteRunner.Run(new TreeFactory(Fault.NoCoalescing), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "pages" },
            Rules = new HashSet<string> { "PAGE-1" },
            Settings = new RunSettings { Seed = 3, Sequences = 20, MaxSteps = 40 },
            OnProgress = events.Add,
        });
        Assert.Equal(0, result.Results.Count(r => r.Outcome == RuleOutcome.Failed));
        Assert.Equal(0, events[^1].Failures);
    }
}
