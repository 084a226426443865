using KernelMm.Conformance.Cli.Commands;
using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Cli.Execution;

/// <summary>
/// Carries out a checked <see cref="RunRequest"/>: builds the implementation, re-runs its saved
/// failures first, runs the suite with live progress on stderr, prints the per-rule table, writes the
/// reports, updates the failure database and ends with one line saying what to do next.
/// </summary>
public sealed class RunExecutor(TextWriter output, TextWriter error)
{
    public int Run(RunRequest request)
    {
        var factory = request.Implementation.CreateFactory();
        try
        {
            return RunWith(factory, request);
        }
        finally
        {
            (factory as IDisposable)?.Dispose(); // stops an out-of-process implementation
        }
    }

    private int RunWith(IImplementationFactory factory, RunRequest request)
    {
        var choice = request.Implementation;
        string label = choice.LabelFor(factory);
        var identity = IdentityOf(choice, factory, label);
        var database = request.DatabasePath is null ? null : FailureDatabase.Load(request.DatabasePath);
        if (database?.Warning is { } warning) error.WriteLine($"{KmmConformance.Name}: {warning}");

        SuiteResult result;
        using (var progress = request.Quiet ? null : new ProgressDisplay(error, interactive: ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected))
        {
            var options = new SuiteOptions
            {
                Profiles = request.Profiles,
                MemorySizes = request.MemorySizes,
                Families = request.Families,
                Rules = request.Rules,
                Settings = request.Settings,
                OnProgress = progress is null ? null : progress.Report,
                Reruns = database?.RerunsFor(identity) ?? [],
            };
            if (request.Shard is { } shard) options = shard.Apply(options);
            try
            {
                result = SuiteRunner.Run(factory, options);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                progress?.Finish();
                // An implementation that cannot even be booted or probed (a declaration without its
                // interface, an exception from its factory) cannot be judged: that is its failure.
                error.WriteLine($"{KmmConformance.Name}: '{label}' could not be judged: {e.GetType().Name}: {e.Message}");
                error.WriteLine(FirstFrames(e));
                return ExitCodes.Failed;
            }
            progress?.Finish();
        }
        result = result with { Implementation = label, ImplementationArguments = choice.ReplayArguments, Shard = request.Shard };

        var prefix = Invocation.Prefix();
        var reportOptions = new ReportOptions
        {
            ReplayPrefix = prefix,
            Factory = choice.FactoryCode(factory),
            XunitSnippets = request.XunitSnippets,
            GeneratedAt = DateTimeOffset.UtcNow,
            Width = Invocation.TerminalWidth(output),
        };
        if (request.TapPath == RunRequest.Stdout) output.Write(TapReport.RenderTap(result, reportOptions));
        else if (request.KtapPath == RunRequest.Stdout) output.Write(TapReport.RenderKtap(result, reportOptions));
        else output.Write(ConsoleReport.Render(result, reportOptions));
        int status = Verdict(result);
        try
        {
            if (request.JUnitPath is not null) JUnitReport.Write(result, request.JUnitPath, reportOptions);
            if (request.JsonPath is not null) JsonReport.Write(result, request.JsonPath, reportOptions);
            if (request.HtmlPath is not null) HtmlReport.Write(result, request.HtmlPath, reportOptions);
            if (request.TapPath is { } tap && tap != RunRequest.Stdout) TapReport.WriteTap(result, tap, reportOptions);
            if (request.KtapPath is { } ktap && ktap != RunRequest.Stdout) TapReport.WriteKtap(result, ktap, reportOptions);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{KmmConformance.Name}: could not write a report: {e.Message}");
            status = ExitCodes.Usage;
        }
        if (database is not null) SaveDatabase(database, result, identity, request.Quiet);
        // With TAP or KTAP on stdout, stdout carries nothing else.
        if (!request.StreamsToStdout) output.WriteLine(NextStep(result, request, prefix));
        return status;
    }

    /// <summary>
    /// The exit code of a run: 0 when every applicable rule passed. A shard is judged on what it can
    /// judge alone: a failure, a blocked rule (there is a failure behind it) or any other outcome that
    /// outranks a pass fails it, but a rule not exercised in this shard may be exercised in another,
    /// so that is left to <c>merge</c>.
    /// </summary>
    public static int Verdict(SuiteResult result)
    {
        if (result.Shard is null) return result.Passed ? ExitCodes.Passed : ExitCodes.Failed;
        int pass = Sharding.ResultMerge.Rank(RuleOutcome.Passed);
        return result.Results.Any(r => r.Outcome is RuleOutcome.Failed or RuleOutcome.Blocked || Sharding.ResultMerge.Rank(r) > pass)
            ? ExitCodes.Failed : ExitCodes.Passed;
    }

    private ImplementationIdentity IdentityOf(Options.ImplementationChoice choice, IImplementationFactory factory, string label)
    {
        try
        {
            return choice.Identity(factory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{KmmConformance.Name}: could not read the program to tell it apart from others of the same name ({e.Message}); saved failures are matched by the label '{label}' alone");
            return new ImplementationIdentity(label);
        }
    }

    private void SaveDatabase(FailureDatabase database, SuiteResult result, ImplementationIdentity identity, bool quiet)
    {
        var change = database.Record(result, identity);
        try
        {
            if (!change.Changed) return;
            if (!database.Save())
            {
                error.WriteLine($"{KmmConformance.Name}: {database.Warning}");
                return;
            }
            if (!quiet && change.Added + change.Removed > 0)
            {
                static string Properties(int n) => n == 1 ? "1 property" : $"{n} properties";
                var parts = new List<string>();
                if (change.Added > 0) parts.Add($"{Properties(change.Added)} that failed saved");
                if (change.Removed > 0) parts.Add($"{Properties(change.Removed)} that pass now removed");
                int mine = database.Entries.Count(identity.Matches);
                error.WriteLine($"failure database {database.Path}: {string.Join(", ", parts)}; {Properties(mine)} of '{identity.Label}' to re-run first next time (--no-db to skip)");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{KmmConformance.Name}: could not save the failure database {database.Path}: {e.Message}");
        }
    }

    /// <summary>The last line: what to do next, given how the run went and what was written.</summary>
    public static string NextStep(SuiteResult result, RunRequest request, string prefix)
    {
        string html = request.HtmlPath is { } h ? $"the full report is in {h}" : $"add --html report.html for a report to share";
        if (result.Shard is { } shard)
            return $"next: this was shard {shard} (a rule checked only in another shard's properties shows UNEXERCISED here); run every shard " +
                   $"with --json and combine them: {prefix} merge {(request.JsonPath is null ? "shard-1.json ... " : "SHARD.json ... ")}(the whole run's table and verdict){(result.Failures.Any() ? $"; fix {result.Failures.First().Rule.Id} first: its replay command above runs its property alone" : "")}.";
        if (result.Failures.Any())
        {
            var first = result.Failures.First();
            return $"next: fix {first.Rule.Id} first: its replay command above regenerates the failing sequence" +
                   (request.XunitSnippets ? "" : " (with --replay N instead of --seed N it also prints a ready-to-paste xunit test)") + $"; {html}.";
        }
        if (!result.Passed)
            return $"next: UNEXERCISED rules were never reached, a gap rather than a pass: raise --sequences (now {result.Settings.Sequences}) or --max-steps (now {result.Settings.MaxSteps}); {html}.";
        if (request.Implementation.IsReference)
            return $"next: judge your own implementation: {prefix} run --impl-command './your-program' (a program speaking docs/protocol.md) " +
                   $"or --impl-assembly Your.dll (a .NET IImplementationFactory), with --name LABEL; {html}.";
        return $"next: every applicable rule passed; a longer campaign (--sequences {Math.Min(result.Settings.Sequences * 10, RunLimits.MaxSequences)}) or other seeds look deeper; {html}.";
    }

    private static string FirstFrames(Exception e) =>
        string.Join(Environment.NewLine, (e.StackTrace ?? "").Split('\n').Take(4).Select(l => "  " + l.Trim()));
}
