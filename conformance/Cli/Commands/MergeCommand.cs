using System.CommandLine;
using KernelMm.Conformance.Cli.Execution;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Conformance.Sharding;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary>
/// <c>merge</c>: the JSON results of the shards of one run (<c>run --shard i/n --json ...</c>, one CI
/// job each) folded into the whole run's result: the same table, verdict and exit code as the run
/// unsplit, and any report file (--json, --junit, --html, --tap, --ktap). Results of one
/// implementation and settings on different profiles or RAM sizes merge the same way.
/// </summary>
public sealed class MergeCommand : ICliCommand
{
    /// <summary>Most result files merged at once.</summary>
    public const int MaxFiles = Shard.MaxCount;

    public Argument<string[]> Files { get; } = new("RESULT.json")
    {
        Description = "JSON results (--json) of the shards of one run, or of runs of one implementation and settings on other profiles or RAM sizes.",
        Arity = new ArgumentArity(1, MaxFiles),
    };

    private readonly RunCommand _reports = new();

    /// <summary>
    /// The C# that builds the judged implementation in printed xunit tests, from the arguments the
    /// shards ran with (a program or the reference; null, the generic placeholder, when that cannot be
    /// told here, e.g. an assembly or a program not on this machine).
    /// </summary>
    private static FactoryCode? FactoryCodeOf(SuiteResult merged)
    {
        IReadOnlyList<string> words;
        try { words = OutOfProcess.CommandLineWords.Split(merged.ImplementationArguments); }
        catch (ArgumentException) { return null; }
        if (words.Count == 0 && merged.Implementation != "reference") return null; // judged from code, not by the command line
        var check = KmmConformance.Check(["run", .. words]);
        if (check.Run?.Implementation is not { } choice || choice.AssemblyPath is not null) return null;
        try
        {
            var factory = choice.CreateFactory(); // a program or the reference: nothing is started
            try { return choice.FactoryCode(factory); }
            finally { (factory as IDisposable)?.Dispose(); }
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception) { return null; }
    }

    public Command Build()
    {
        var command = new Command("merge", "Merge the JSON results of the shards of a run (run --shard I/N --json PATH) into the whole run's table, verdict and reports.")
        {
            Files, _reports.JUnit, _reports.Json, _reports.Html, _reports.Tap, _reports.Ktap,
        };
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            string? junit = parse.GetValue(_reports.JUnit), json = parse.GetValue(_reports.Json), html = parse.GetValue(_reports.Html),
                tap = parse.GetValue(_reports.Tap), ktap = parse.GetValue(_reports.Ktap);
            var problems = new List<string>();
            if (tap == RunRequest.Stdout && ktap == RunRequest.Stdout) problems.Add("--tap and --ktap both write to stdout ('-'): one of them can");
            var files = parse.GetValue(Files) ?? [];
            var outputs = new[] { junit, json, html, tap, ktap }.Where(p => p is not null && p != RunRequest.Stdout).Select(p => Path.GetFullPath(p!)).ToHashSet();
            foreach (var file in files.Where(f => outputs.Contains(Path.GetFullPath(f))))
                problems.Add($"{file} is both an input and a report to write");
            var parts = new List<SuiteResult>();
            foreach (var file in files)
            {
                try { parts.Add(ResultDocuments.Load(file)); }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException) { problems.Add(e.Message); }
            }
            if (problems.Count > 0) return KmmConformance.UsageErrors(parse, problems);

            SuiteResult merged;
            try { merged = ResultMerge.Combine(parts); }
            catch (MergeException e) { return KmmConformance.UsageErrors(parse, e.Problems); }

            string prefix = Invocation.Prefix();
            var options = new ReportOptions { ReplayPrefix = prefix, GeneratedAt = DateTimeOffset.UtcNow, Width = Invocation.TerminalWidth(output), Factory = FactoryCodeOf(merged) };
            bool streaming = tap == RunRequest.Stdout || ktap == RunRequest.Stdout;
            if (tap == RunRequest.Stdout) output.Write(TapReport.RenderTap(merged, options));
            else if (ktap == RunRequest.Stdout) output.Write(TapReport.RenderKtap(merged, options));
            else output.Write(ConsoleReport.Render(merged, options));
            int status = RunExecutor.Verdict(merged);
            try
            {
                if (junit is not null) JUnitReport.Write(merged, junit, options);
                if (json is not null) JsonReport.Write(merged, json, options);
                if (html is not null) HtmlReport.Write(merged, html, options);
                if (tap is not null && tap != RunRequest.Stdout) TapReport.WriteTap(merged, tap, options);
                if (ktap is not null && ktap != RunRequest.Stdout) TapReport.WriteKtap(merged, ktap, options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"{KmmConformance.Name}: could not write a report: {e.Message}");
                status = ExitCodes.Usage;
            }
            if (!streaming)
            {
                string shards = parts.Any(p => p.Shard is not null) ? $"{parts.Count} shards" : $"{parts.Count} results";
                output.WriteLine(merged.Failures.Any()
                    ? $"next: {shards} merged; fix {merged.Failures.First().Rule.Id} first: its replay command above runs its property alone."
                    : merged.Passed
                        ? $"next: {shards} merged; every applicable rule passed."
                        : $"next: {shards} merged; UNEXERCISED rules were reached in no shard: raise --sequences or --max-steps.");
            }
            return status;
        }));
        return command;
    }
}
