using System.CommandLine;
using System.Globalization;
using KernelMm.Conformance.Cli.Grading;
using KernelMm.Conformance.Cli.Options;
using KernelMm.Conformance.Grading;
using KernelMm.Conformance.Reports;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary>
/// <c>grade</c>: course staff's batch. Runs every submission of a class (a folder of programs or a
/// manifest of labels and commands), each isolated and limited, in parallel, scores each result under
/// a rubric and writes one scoreboard: a table on stdout, a gradebook CSV, a long CSV, JSON, and an
/// HTML page linking each student's full report.
/// </summary>
public sealed class GradeCommand : ICliCommand
{
    public static readonly TimeSpan MinTimeLimit = TimeSpan.FromSeconds(1), MaxTimeLimit = TimeSpan.FromHours(24), DefaultTimeLimit = TimeSpan.FromMinutes(10);
    public const ulong MinMemoryLimit = 16UL << 20, MaxMemoryLimit = 1UL << 40, DefaultMemoryLimit = 2UL << 30;
    public const int MaxJobs = 256;

    public Argument<string> Source { get; } = new("SUBMISSIONS")
    {
        Description = "A folder with one subfolder per student holding their program (or one program per student), or a manifest file: one line per student, 'LABEL COMMAND...' or 'LABEL PATH.dll'.",
    };

    public Option<string?> Out { get; } = OptionFactory.Single<string?>("--out",
        "The scoreboard's folder: scoreboard.html, scores.csv, results.csv, scoreboard.json, scoreboard.txt, and submissions/LABEL/ per student (default: grading).", "DIR",
        (t, o) => string.IsNullOrWhiteSpace(t) ? Values.Parsed<string?>.Fail($"{o} needs a folder") : File.Exists(t) ? Values.Parsed<string?>.Fail($"{o}: '{Values.Show(t)}' is a file, not a folder") : t);

    public Option<string?> RubricFile { get; } = OptionFactory.Single<string?>("--rubric",
        "A rubric (JSON): weights per rule, catalogue family or suite family, weights per profile, what n/a counts for (default: every applicable rule and profile weighs the same).", "FILE",
        (t, o) => string.IsNullOrWhiteSpace(t) ? Values.Parsed<string?>.Fail($"{o} needs a file") : t);

    public Option<string?> Program { get; } = OptionFactory.Single<string?>("--program",
        "The program's file name in each student's folder, when a folder holds more than one executable.", "NAME",
        (t, o) => string.IsNullOrWhiteSpace(t) || t.Contains('/') ? Values.Parsed<string?>.Fail($"{o} takes a file name (no folder)") : t);

    public Option<int> Jobs { get; } = OptionFactory.Single("--jobs",
        $"Submissions run at once (1 to {MaxJobs}; default: the machine's cores, {Environment.ProcessorCount}).", "N",
        (t, o) => Values.Count(t, o, 1, MaxJobs), () => Environment.ProcessorCount);

    public Option<TimeSpan> TimeLimit { get; } = OptionFactory.Single("--time-limit",
        $"Wall-clock limit of one submission's whole run, e.g. 90s, 10m (default 10m; {Values.Format(MinTimeLimit)} to 24h); past it, its process group is stopped and it scores nothing.", "DURATION",
        (t, o) => Values.Duration(t, o, MinTimeLimit, MaxTimeLimit), () => DefaultTimeLimit);

    public Option<ulong?> MemoryLimit { get; } = OptionFactory.Single<ulong?>("--memory-limit",
        "Memory limit of one submission, e.g. 512M, 2G (the default), or 'none': the address space of its program (RLIMIT_AS), or the GC heap of an assembly's run.", "SIZE",
        (t, o) =>
        {
            if (t.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return 0UL;
            var size = Values.Size(t, o);
            if (!size.Ok) return Values.Parsed<ulong?>.Fail(size.Error!);
            if (size.Value is < MinMemoryLimit or > MaxMemoryLimit)
                return Values.Parsed<ulong?>.Fail($"{o} {Values.Show(t)} is outside {Profile.FormatSize(MinMemoryLimit)}..{Profile.FormatSize(MaxMemoryLimit)} (or 'none')");
            return size.Value;
        });

    public Option<bool> Db { get; } = OptionFactory.Flag("--db-per-submission",
        "Give each submission a failure database of its own (submissions/LABEL/failures.json): a regrade re-runs its saved failures first. Default: none.");

    public Option<bool> Quiet { get; } = OptionFactory.Flag("--quiet", "No progress lines on stderr.");

    private readonly RunCommand _run = new();
    private readonly ImplementationOptions _implementation = new();

    public Command Build()
    {
        var command = new Command("grade", "Grade a class: run every submission isolated and in parallel, score each under a rubric, write one scoreboard (CSV for the gradebook, HTML linking each student's report).")
        {
            Source, Out, RubricFile, Program, Jobs, TimeLimit, MemoryLimit, Db, Quiet,
            _run.Profile, _run.Memory, _run.Seed, _run.Sequences, _run.MaxSteps, _run.Family, _implementation.OperationTimeout,
        };
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var problems = new List<string>();

            Rubric rubric = Rubric.Default;
            if (parse.GetValue(RubricFile) is { } rubricPath)
            {
                try { rubric = Rubric.Load(rubricPath); }
                catch (RubricException e) { problems.AddRange(e.Problems.Select(p => $"--rubric {rubricPath}: {p}")); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { problems.Add($"--rubric {rubricPath}: {e.Message}"); }
            }

            var runArguments = RunArguments(parse);
            // The shared options checked together as the runs will see them (a RAM size every profile takes, ...).
            var check = KmmConformance.Check(["run", "--no-db", .. runArguments]);
            problems.AddRange(check.UsageErrors);

            string source = parse.GetValue(Source)!;
            var (submissions, found) = Submissions.Load(source, parse.GetValue(Program));
            problems.AddRange(found);
            string outDir = Path.GetFullPath(parse.GetValue(Out) ?? "grading");
            if (problems.Count > 0) return KmmConformance.UsageErrors(parse, problems);

            ulong? memory = parse.GetValue(MemoryLimit) is { } m ? (m == 0 ? null : m) : DefaultMemoryLimit;
            var options = new BatchOptions
            {
                OutputDirectory = outDir,
                RunArguments = runArguments,
                OperationTimeout = parse.GetValue(_implementation.OperationTimeout),
                TimeLimit = parse.GetValue(TimeLimit),
                MemoryLimit = memory,
                Jobs = parse.GetValue(Jobs),
                FailureDatabase = parse.GetValue(Db),
                Rubric = rubric,
                Progress = parse.GetValue(Quiet) ? null : line => { lock (error) error.WriteLine(line); },
            };
            Directory.CreateDirectory(outDir);
            if (!parse.GetValue(Quiet))
                error.WriteLine($"grading {submissions.Count} submission{(submissions.Count == 1 ? "" : "s")}, {options.Jobs} at a time, each within {Values.Format(options.TimeLimit)} and " +
                                $"{(memory is { } limit ? Profile.FormatSize(limit) : "no memory limit")}, into {outDir}");
            var graded = new BatchRunner(options).RunAsync(submissions).GetAwaiter().GetResult();

            var at = DateTimeOffset.UtcNow;
            string text = Scoreboard.RenderText(graded, rubric);
            File.WriteAllText(Path.Combine(outDir, "scoreboard.txt"), text);
            File.WriteAllText(Path.Combine(outDir, "scores.csv"), Scoreboard.RenderScoresCsv(graded));
            File.WriteAllText(Path.Combine(outDir, "results.csv"), Scoreboard.RenderResultsCsv(graded));
            File.WriteAllText(Path.Combine(outDir, "scoreboard.json"), Scoreboard.RenderJson(graded, rubric));
            File.WriteAllText(Path.Combine(outDir, "scoreboard.html"), Scoreboard.RenderHtml(graded, rubric, at));
            output.Write(text);
            int notGraded = graded.Count(g => g.Status != SubmissionStatus.Graded);
            output.WriteLine($"next: open {Path.Combine(outDir, "scoreboard.html")} (each student's full report is linked); scores.csv is the gradebook" +
                             (notGraded > 0 ? $"; {notGraded} submission{(notGraded == 1 ? " was" : "s were")} not graded: the scoreboard says why." : "."));
            return ExitCodes.Passed;
        }));
        return command;
    }

    /// <summary>The shared run options, canonical, as words for each submission's run.</summary>
    private IReadOnlyList<string> RunArguments(ParseResult parse)
    {
        var args = new List<string>();
        if (parse.GetValue(_run.Profile) is { Count: > 0 } profiles) args.AddRange(["--profile", string.Join(",", profiles.Select(p => p.Name))]);
        if (parse.GetValue(_run.Memory) is { Count: > 0 } sizes) args.AddRange(["--memory", string.Join(",", sizes.Select(Profile.FormatSize))]);
        if (parse.GetValue(_run.Seed) is { } seed) args.AddRange(["--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--sequences", parse.GetValue(_run.Sequences).ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--max-steps", parse.GetValue(_run.MaxSteps).ToString(CultureInfo.InvariantCulture)]);
        if (parse.GetValue(_run.Family) is { Count: > 0 } families) args.AddRange(["--family", string.Join(",", families.Order(StringComparer.Ordinal))]);
        return args;
    }
}
