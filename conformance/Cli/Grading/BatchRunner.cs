using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelMm.Conformance.Cli.Options;
using KernelMm.Conformance.Grading;
using KernelMm.Conformance.Reports;

namespace KernelMm.Conformance.Cli.Grading;

/// <summary>How a batch runs: where it writes, the run options every submission shares, its limits.</summary>
public sealed record BatchOptions
{
    /// <summary>The scoreboard's folder (absolute); each submission gets <c>submissions/LABEL/</c> under it.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>The <c>run</c> options every submission shares (profiles, RAM sizes, seed, effort, families), as words.</summary>
    public IReadOnlyList<string> RunArguments { get; init; } = [];
    /// <summary>--operation-timeout for programs (not for assemblies, which run in-process in their runner).</summary>
    public TimeSpan? OperationTimeout { get; init; }
    /// <summary>Wall-clock limit of one submission's whole run.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Memory limit of one submission (address space of its program, or heap of its assembly's runner); null: none.</summary>
    public ulong? MemoryLimit { get; init; } = 2UL << 30;
    /// <summary>Submissions run at once.</summary>
    public int Jobs { get; init; } = Environment.ProcessorCount;
    /// <summary>Give each submission a failure database of its own in its folder (else none).</summary>
    public bool FailureDatabase { get; init; }
    public required Rubric Rubric { get; init; }
    /// <summary>One line per finished submission.</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>
/// Runs a batch of submissions, each isolated: its own <c>kmm-conformance run</c> process in a
/// process group of its own (<see cref="IsolatedRun"/>), its own working folder, its own failure
/// database or none, a wall-clock limit on the whole run and a memory limit (RLIMIT_AS through
/// prlimit(1), or the shell's ulimit, around the student's program; a GC heap limit for an assembly,
/// which its runner loads), up to <see cref="BatchOptions.Jobs"/> at once; then scores each result
/// under the rubric.
/// </summary>
public sealed class BatchRunner(BatchOptions options)
{
    /// <summary>Where submission <paramref name="folder"/> lives, relative to the scoreboard.</summary>
    public static string RelativeFolder(string folder) => $"submissions/{folder}";

    /// <summary>Runs every submission and scores it; the list follows the submissions' order.</summary>
    public async Task<IReadOnlyList<GradedSubmission>> RunAsync(IReadOnlyList<Submission> submissions, CancellationToken cancel = default)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var folders = submissions.Select(s => Submissions.FolderName(s.Label, taken)).ToList();
        var results = new GradedSubmission[submissions.Count];
        using var slots = new SemaphoreSlim(Math.Max(1, options.Jobs));
        int done = 0;
        var tasks = submissions.Select(async (submission, i) =>
        {
            await slots.WaitAsync(cancel);
            try
            {
                var graded = await GradeAsync(submission, folders[i], cancel);
                results[i] = graded;
                int n = Interlocked.Increment(ref done);
                options.Progress?.Invoke($"[{n}/{submissions.Count}] {submission.Label}: {graded.Score.Points:0.00} points ({Scoreboard.Word(graded.Status)}, {graded.Elapsed.TotalSeconds:0.0} s)");
            }
            finally { slots.Release(); }
        }).ToList();
        await Task.WhenAll(tasks);
        return results;
    }

    /// <summary>The arguments of <c>kmm-conformance</c> that judge one submission into its folder.</summary>
    public IReadOnlyList<string> ChildArguments(Submission submission, string folder)
    {
        var args = new List<string> { "run", "--name", submission.Label };
        if (submission.Assembly is { } assembly)
        {
            args.AddRange(["--impl-assembly", assembly]);
            if (submission.TypeName is { } type) args.AddRange(["--impl-type", type]);
        }
        else
        {
            args.AddRange(["--impl-command", string.Join(" ", Limited(submission.Command).Select(ImplementationChoice.Quote))]);
            if (options.OperationTimeout is { } t) args.AddRange(["--operation-timeout", Values.Format(t)]);
        }
        args.AddRange(["--json", Path.Combine(folder, "result.json"), "--html", Path.Combine(folder, "report.html")]);
        if (options.FailureDatabase) args.AddRange(["--db", Path.Combine(folder, "failures.json")]);
        else args.Add("--no-db");
        args.AddRange(options.RunArguments);
        return args;
    }

    /// <summary>The program's command under the memory limit: prlimit --as=BYTES -- COMMAND, or sh's ulimit -v where there is no prlimit.</summary>
    private IReadOnlyList<string> Limited(IReadOnlyList<string> command)
    {
        if (options.MemoryLimit is not { } bytes || OperatingSystem.IsWindows()) return command;
        if (IsolatedRun.Prlimit is { } prlimit) return [prlimit, $"--as={bytes.ToString(CultureInfo.InvariantCulture)}", "--", .. command];
        return ["/bin/sh", "-c", $"ulimit -v {(bytes / 1024).ToString(CultureInfo.InvariantCulture)} && exec \"$@\"", "kmm-memory-limit", .. command];
    }

    private async Task<GradedSubmission> GradeAsync(Submission submission, string folderName, CancellationToken cancel)
    {
        string relative = RelativeFolder(folderName);
        string folder = Path.Combine(options.OutputDirectory, "submissions", folderName);
        Directory.CreateDirectory(folder);
        foreach (var stale in new[] { "result.json", "report.html", "score.txt", "output.txt", "errors.txt" })
            File.Delete(Path.Combine(folder, stale));
        var rubric = options.Rubric;
        string implementation = submission.Assembly is { } a
            ? $"--impl-assembly {ImplementationChoice.Quote(a)}{(submission.TypeName is { } t ? $" --impl-type {ImplementationChoice.Quote(t)}" : "")}"
            : $"--impl-command {ImplementationChoice.Quote(submission.CommandLine)}";

        GradedSubmission Finish(GradedSubmission graded)
        {
            File.WriteAllText(Path.Combine(folder, "score.txt"), Scoring.Explain(graded.Label, graded.Score, rubric) +
                (graded.Status == SubmissionStatus.Graded ? "" : $"\n{Scoreboard.Word(graded.Status)}: {graded.Detail}\n"));
            return graded;
        }

        if (submission.Problem is { } problem)
        {
            File.WriteAllText(Path.Combine(folder, "errors.txt"), problem + "\n");
            File.WriteAllText(Path.Combine(folder, "output.txt"), "");
            return Finish(new GradedSubmission
            {
                Label = submission.Label, Status = SubmissionStatus.Rejected, Score = Scoring.Nothing(rubric, problem), Detail = problem,
                Folder = relative, Implementation = submission.Command.Count > 0 ? implementation : null,
            });
        }

        var args = ChildArguments(submission, folder);
        var check = KmmConformance.Check(args);
        if (check.UsageErrors.Count > 0)
        {
            string why = string.Join("\n", check.UsageErrors);
            File.WriteAllText(Path.Combine(folder, "errors.txt"), why + "\n");
            File.WriteAllText(Path.Combine(folder, "output.txt"), "");
            return Finish(new GradedSubmission
            {
                Label = submission.Label, Status = SubmissionStatus.Rejected, Score = Scoring.Nothing(rubric, why), Detail = why,
                Folder = relative, Implementation = implementation,
            });
        }

        var (file, prefix) = Self();
        var environment = new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };
        if (submission.Assembly is not null && options.MemoryLimit is { } heap)
            environment["DOTNET_GCHeapHardLimit"] = "0x" + heap.ToString("x", CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        int exitCode;
        bool timedOut;
        using (var run = IsolatedRun.Start(file, [.. prefix, .. args], folder, environment, Path.Combine(folder, "output.txt"), Path.Combine(folder, "errors.txt")))
            (exitCode, timedOut) = await run.WaitAsync(options.TimeLimit, cancel);
        var elapsed = clock.Elapsed;

        var graded = new GradedSubmission
        {
            Label = submission.Label, Status = SubmissionStatus.RunnerError, Score = Scoring.Nothing(rubric, "no result"),
            Folder = relative, Elapsed = elapsed, Implementation = implementation,
        };
        string errors = Tail(Path.Combine(folder, "errors.txt"));
        if (timedOut)
        {
            string why = $"stopped at the time limit of {Values.Format(options.TimeLimit)} (--time-limit): its run had not finished";
            return Finish(graded with { Status = SubmissionStatus.TimedOut, Score = Scoring.Nothing(rubric, why), Detail = why });
        }
        string resultPath = Path.Combine(folder, "result.json");
        if (exitCode is ExitCodes.Passed or ExitCodes.Failed && File.Exists(resultPath))
        {
            try
            {
                var result = JsonReport.Parse(await File.ReadAllTextAsync(resultPath, cancel));
                return Finish(graded with
                {
                    Status = SubmissionStatus.Graded, Result = result, Score = Scoring.Score(result, rubric),
                    Report = File.Exists(Path.Combine(folder, "report.html")) ? $"{relative}/report.html" : null,
                    Detail = exitCode == ExitCodes.Passed ? null : "some rule failed or was not exercised (its report says which)",
                });
            }
            catch (System.Text.Json.JsonException e)
            {
                string why = $"its result could not be read: {e.Message}";
                return Finish(graded with { Score = Scoring.Nothing(rubric, why), Detail = why });
            }
        }
        var (status, detail) = exitCode switch
        {
            ExitCodes.Failed => (SubmissionStatus.NotJudged, $"the implementation could not be judged: {errors}"),
            ExitCodes.Usage => (SubmissionStatus.Rejected, errors),
            ExitCodes.Internal => (SubmissionStatus.RunnerError, $"kmm-conformance failed (exit code 3): {errors}"),
            _ when errors.Contains("OutOfMemoryException", StringComparison.Ordinal) =>
                (SubmissionStatus.NotJudged, $"ran out of memory (the limit is {(options.MemoryLimit is { } m ? Spec.Profiles.Profile.FormatSize(m) : "none")}): {errors}"),
            _ => (SubmissionStatus.RunnerError, $"its run ended with exit code {exitCode}{Signal(exitCode)}: {errors}"),
        };
        return Finish(graded with { Status = status, Score = Scoring.Nothing(rubric, detail), Detail = detail });
    }

    private static string Signal(int code) => code is > 128 and < 128 + 65 ? $" (signal {code - 128})" : "";

    /// <summary>What the run said last on stderr: its own error lines (kmm-conformance: ...) when there are some, else the last lines.</summary>
    private static string Tail(string path)
    {
        if (!File.Exists(path)) return "";
        var lines = File.ReadLines(path).TakeLast(200).ToList();
        var own = lines.Where(l => l.StartsWith(KmmConformance.Name + ":", StringComparison.Ordinal)).ToList();
        var chosen = (own.Count > 0 ? own : lines.Where(l => l.Trim().Length > 0).ToList()).TakeLast(8);
        return string.Join("\n", chosen);
    }

    /// <summary>
    /// How to start this kmm-conformance again: the dotnet host and this assembly (so it works the
    /// same from the repository, as an installed tool, and hosted in a test process).
    /// </summary>
    public static (string File, IReadOnlyList<string> Prefix) Self()
    {
        string dll = typeof(KmmConformance).Assembly.Location;
        return (DotnetHost(), [dll]);
    }

    private static string DotnetHost()
    {
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } process && Path.GetFileName(process) == exe) return process;
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        // The runtime this process runs on lives in DOTNET_ROOT/shared/Microsoft.NETCore.App/VERSION/.
        string runtime = RuntimeEnvironment.GetRuntimeDirectory();
        string root = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        string candidate = Path.Combine(root, exe);
        if (File.Exists(candidate)) return candidate;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot && File.Exists(Path.Combine(dotnetRoot, exe))) return Path.Combine(dotnetRoot, exe);
        return exe;
    }
}
