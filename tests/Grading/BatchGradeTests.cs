using System.Diagnostics;
using System.Text.Json;
using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Cli.Grading;
using KernelMm.Tests.OutOfProcess;

namespace KernelMm.Tests.Grading;

/// <summary>
/// The grader end to end, as course staff use it: one command over a class of 22 submissions generated
/// from the C buddy allocator and the misbehaving programs (correct ones, broken ones, crashes at the
/// start and in the middle, one that hangs, one that prints garbage, one with nothing to run, all of
/// them called 'buddy' or 'run'), each run isolated in its own process group and folder, limited in
/// time and memory, two or more at a time. The scoreboard, its CSV and its HTML must say exactly who
/// earned what, and the batch must end in a bounded time with nothing left running.
/// </summary>
/// <remarks>
/// Cost: 22 small runs (x86-32, 64 MiB, the page family, 20 sequences of up to 40 steps), plus one
/// calibration run that sets the time limit to several times what a correct run takes on this machine
/// right now, so that only the hanging submission meets it. About half a minute on an idle 2-core machine.
/// </remarks>
[Collection("OutOfProcess")]
public sealed class BatchGradeTests(NativePrograms native) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-grade-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly string[] Settings =
        ["--profile", "x86-32", "--memory", "64M", "--family", "pages", "--sequences", "20", "--max-steps", "40"];

    private static readonly string[] Correct = ["alice", "bob", "carlos", "dana", "emil", "fatima", "gus", "hana"];
    private static readonly string[] NoCoalescing = ["ivan", "jo", "kai"];
    private static readonly string[] AnyFreeOrder = ["lea", "max", "nia"];

    [Fact]
    public void AClass_IsGradedWithOneCommand_ScoreboardCsvAndHtmlAreRight_InBoundedTime_NothingLeftRunning()
    {
        string subs = Path.Combine(_dir, "subs");
        foreach (var name in Correct) Program(name, "buddy", native.Buddy);
        foreach (var name in NoCoalescing) Program(name, "buddy", native.BrokenCoalesce);
        foreach (var name in AnyFreeOrder) Program(name, "buddy", native.BrokenFreeOrder);
        Script("omar", native.Misbehaving("crash", "--op", "freePages", "--after", "3"));   // crashes in the middle
        Script("pia", native.Misbehaving("crash", "--op", "hello"));                       // crashes at once
        Script("quinn", native.Misbehaving("exit", "--op", "hello"));                      // exits at once
        Script("rosa", InStudentFolder("rosa", native.Misbehaving("hang", "--op", "allocPages")));  // hangs: its programs (named under _dir) must not outlive the time limit
        Script("uma", native.Misbehaving("garbage", "--op", "getZeroedPage"));             // prints garbage
        // Correct, and leaves behind what it was given: its limits and its working folder.
        ScriptText("sam", $"grep 'Max address space' /proc/self/limits > limits.txt\npwd >> limits.txt\nexec {native.Buddy}\n");
        Directory.CreateDirectory(Path.Combine(subs, "tom"));
        File.WriteAllText(Path.Combine(subs, "tom", "README"), "I forgot to build it\n");

        var limit = CalibratedTimeLimit();
        string outDir = Path.Combine(_dir, "grading");
        var clock = Stopwatch.StartNew();
        var (code, output, error) = Invoke(["grade", subs, "--out", outDir, "--jobs", "4", "--time-limit", $"{limit.TotalSeconds:0}s",
            "--memory-limit", "512M", "--operation-timeout", "10m", "--db-per-submission", .. Settings]);
        var elapsed = clock.Elapsed;
        Assert.True(code == ExitCodes.Passed, $"exit {code}\n{output}\n{error}");

        // The scoreboard, as the gradebook gets it.
        var rows = ScoreboardTests.Csv(File.ReadAllText(Path.Combine(outDir, "scores.csv")));
        var header = rows[0];
        var students = rows.Skip(1).ToDictionary(r => r[0], r => header.Zip(r).ToDictionary(p => p.First, p => p.Second));
        string[] everyone = [.. Correct, .. NoCoalescing, .. AnyFreeOrder, "omar", "pia", "quinn", "rosa", "sam", "tom", "uma"];
        Assert.Equal(everyone.Order(StringComparer.Ordinal), rows.Skip(1).Select(r => r[0]));
        Assert.True(everyone.Length >= 20);
        string Explain(string who) => $"{who}: {string.Join(", ", students[who].Select(p => $"{p.Key}={p.Value}"))}\n{output}";
        int rulesCounted = int.Parse(students["alice"]["rules_counted"]);
        Assert.True(rulesCounted >= 20, Explain("alice"));

        foreach (var who in Correct.Append("sam"))
        {
            Assert.True(students[who]["status"] == "graded" && students[who]["points"] == "100", Explain(who));
            // Each run carries the student's label, not the binary's name they share.
            var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "submissions", who, "result.json")));
            Assert.Equal(who, result.RootElement.GetProperty("implementation").GetString());
            Assert.Contains($"<code>{who}</code>", File.ReadAllText(Path.Combine(outDir, "submissions", who, "report.html")));
        }
        double oneRule = 100.0 / rulesCounted;
        foreach (var who in NoCoalescing)
            Assert.True(students[who]["rules_lost"] == "PAGE-8" && Math.Abs(double.Parse(students[who]["points"]) - (100 - oneRule)) < 0.01, Explain(who));
        foreach (var who in AnyFreeOrder)
        {
            // PAGE-4 fails; what it blocks (no verdict, so no credit) is lost with it, and only that.
            var lost = students[who]["rules_lost"].Split(' ');
            var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "submissions", who, "result.json"))).RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(["PAGE-4"], result.Where(r => r.GetProperty("status").GetString() == "failed").Select(r => r.GetProperty("id").GetString()));
            var blocked = result.Where(r => r.GetProperty("status").GetString() == "blocked").ToList();
            Assert.All(blocked, r => Assert.Equal("PAGE-4", r.GetProperty("blockedBy").GetString()));
            Assert.Equal(blocked.Select(r => r.GetProperty("id").GetString()).Append("PAGE-4").Order(StringComparer.Ordinal), lost.Order(StringComparer.Ordinal));
            Assert.True(Math.Abs(double.Parse(students[who]["points"]) - (100 - lost.Length * oneRule)) < 0.01, Explain(who));
        }
        foreach (var who in new[] { "omar", "uma" })
            Assert.True(students[who]["status"] == "graded" && double.Parse(students[who]["points"]) < 100 && students[who]["rules_lost"].Length > 0, Explain(who));
        foreach (var who in new[] { "pia", "quinn" })
            Assert.True(double.Parse(students[who]["points"]) < 50, Explain(who));
        Assert.True(students["rosa"]["status"] == "timed out" && students["rosa"]["points"] == "0", Explain("rosa"));
        Assert.True(students["tom"]["status"] == "rejected" && students["tom"]["detail"].Contains("no executable program"), Explain("tom"));

        // Isolation: the memory limit reached the program, which ran in its own folder; failure databases are per student.
        var limits = File.ReadAllLines(Path.Combine(outDir, "submissions", "sam", "limits.txt"));
        Assert.Matches(@"^Max address space\s+536870912\s+536870912\s+bytes", limits[0]);
        Assert.Equal(Path.Combine(outDir, "submissions", "sam"), limits[1]);
        Assert.False(File.Exists(Path.Combine(outDir, "submissions", "alice", "limits.txt")));
        Assert.Contains("\"ivan\"", File.ReadAllText(Path.Combine(outDir, "submissions", "ivan", "failures.json")));
        Assert.DoesNotContain("\"ivan\"", ReadIfExists(Path.Combine(outDir, "submissions", "jo", "failures.json")));

        // The HTML page links every report that was written, and every one of them exists.
        var html = File.ReadAllText(Path.Combine(outDir, "scoreboard.html"));
        foreach (var who in everyone)
        {
            string report = Path.Combine(outDir, "submissions", who, "report.html");
            Assert.Equal(File.Exists(report), html.Contains($"href=\"submissions/{who}/report.html\""));
            Assert.Contains($"id=\"s-{who}\"", html);
        }
        Assert.True(File.Exists(Path.Combine(outDir, "submissions", "ivan", "report.html")));
        Assert.Contains("PAGE-8 (FAIL x86-32)", html);
        // Each student's score, explained under the rubric.
        var explained = File.ReadAllText(Path.Combine(outDir, "submissions", "ivan", "score.txt"));
        Assert.StartsWith($"ivan: {double.Parse(students["ivan"]["points"]):0.##} of 100 points", explained);
        Assert.Matches(@"\nPAGE-8 +1 +0% +0\.00/[0-9.]+  x86-32 FAIL\n", explained);
        Assert.Contains("rubric: default rubric", explained);

        // Bounded: the hanging run was stopped at its limit, and the batch took no longer than its waves of runs could.
        var board = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "scoreboard.json"))).RootElement.GetProperty("submissions");
        double Seconds(string who) => board.EnumerateArray().Single(s => s.GetProperty("label").GetString() == who).GetProperty("elapsedSeconds").GetDouble();
        Assert.InRange(Seconds("rosa"), limit.TotalSeconds, limit.TotalSeconds + IsolatedRun.Grace.TotalSeconds + 15);
        foreach (var who in everyone) Assert.True(Seconds(who) <= limit.TotalSeconds + IsolatedRun.Grace.TotalSeconds + 15, $"{who} took {Seconds(who)} s");
        double waves = Math.Ceiling(everyone.Length / 4.0);
        Assert.True(elapsed.TotalSeconds < waves * (limit.TotalSeconds + IsolatedRun.Grace.TotalSeconds) + 60, $"the batch took {elapsed.TotalSeconds:0} s");
        AssertNothingLeftRunning();
    }

    [Fact]
    public void AManifest_LabelsCommandsRelativeToItsFolder_AndRefusesTheSameLabelTwice()
    {
        string classDir = Path.Combine(_dir, "class");
        Directory.CreateDirectory(Path.Combine(classDir, "a"));
        File.Copy(native.Buddy, Path.Combine(classDir, "a", "buddy"));
        File.WriteAllText(Path.Combine(classDir, "manifest.txt"), "# label  command\nann ./a/buddy\nben  a/buddy  --unused-argument\ncat /no/such/program\n");
        var (found, problems) = Submissions.Load(Path.Combine(classDir, "manifest.txt"), null);
        Assert.Empty(problems);
        Assert.Equal(["ann", "ben", "cat"], found.Select(s => s.Label));
        Assert.Equal(Path.Combine(classDir, "a", "buddy"), found[0].Command[0]);
        Assert.Equal([Path.Combine(classDir, "a", "buddy"), "--unused-argument"], found[1].Command);
        Assert.Contains("does not exist", found[2].Problem);

        File.AppendAllText(Path.Combine(classDir, "manifest.txt"), "Ann ./a/buddy\nlonely\n");
        var (_, refused) = Submissions.Load(Path.Combine(classDir, "manifest.txt"), null);
        Assert.Contains(refused, p => p.Contains("the label 'ann' is used 2 times"));
        Assert.Contains(refused, p => p.Contains("a label and a command are needed"));
        var (code, output, error) = Invoke("grade", Path.Combine(classDir, "manifest.txt"), "--out", Path.Combine(_dir, "never"));
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains("used 2 times", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Theory]
    [InlineData("--time-limit", "0s", "outside")]
    [InlineData("--memory-limit", "1K", "outside")]
    [InlineData("--jobs", "0", "outside")]
    [InlineData("--rubric", "/no/such/rubric.json", "no such file")]
    [InlineData("--memory", "5M", "not a multiple")]
    public void BadGradeOptions_AreRefusedBeforeAnythingRuns(string option, string value, string expected)
    {
        Program("zed", "buddy", native.Buddy);
        var (code, output, error) = Invoke("grade", Path.Combine(_dir, "subs"), "--out", Path.Combine(_dir, "never"), option, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    /// <summary>Several times what one correct submission's run takes here and now (at least 20 s): only a hang meets it.</summary>
    private TimeSpan CalibratedTimeLimit()
    {
        string manifest = Path.Combine(_dir, "calibration.txt");
        File.WriteAllText(manifest, $"calibration {native.Buddy}\n");
        var (code, _, error) = Invoke(["grade", manifest, "--out", Path.Combine(_dir, "calibration"), "--quiet", "--time-limit", "10m", .. Settings]);
        Assert.True(code == ExitCodes.Passed, error);
        var board = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "calibration", "scoreboard.json"))).RootElement.GetProperty("submissions")[0];
        Assert.Equal(100, board.GetProperty("points").GetDouble());
        // Whole seconds: the limit is passed as "NNs", and the bounds below must be the limit the grader was given.
        return TimeSpan.FromSeconds(Math.Round(Math.Clamp(8 * board.GetProperty("elapsedSeconds").GetDouble(), 20, 300)));
    }

    private void Program(string student, string name, string binary)
    {
        string dir = Path.Combine(_dir, "subs", student);
        Directory.CreateDirectory(dir);
        File.Copy(binary, Path.Combine(dir, name), overwrite: true);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(dir, name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void Script(string student, IEnumerable<string> command) =>
        ScriptText(student, "exec " + string.Join(" ", command.Select(w => $"'{w}'")) + "\n");

    /// <summary>
    /// The command with every program linked into the student's folder (symbolic links, so nothing is
    /// written that another test thread could hold open), so the programs' command lines name the
    /// folder and <see cref="AssertNothingLeftRunning"/> sees a program the runner left behind.
    /// </summary>
    private string[] InStudentFolder(string student, string[] command)
    {
        string dir = Path.Combine(_dir, "subs", student, "tools"); // a subfolder: the grader looks for one program at the top
        Directory.CreateDirectory(dir);
        return [.. command.Select(word =>
        {
            if (!Path.IsPathRooted(word) || !File.Exists(word)) return word;
            string link = Path.Combine(dir, Path.GetFileName(word));
            if (!File.Exists(link)) File.CreateSymbolicLink(link, word);
            return link;
        })];
    }

    private void ScriptText(string student, string body)
    {
        string dir = Path.Combine(_dir, "subs", student);
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "run");
        File.WriteAllText(file, "#!/bin/sh\n" + body);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static string ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    /// <summary>No process still runs a program from this test's folder (looked up, never killed: the grader must have stopped them).</summary>
    private void AssertNothingLeftRunning()
    {
        List<string> left = [];
        for (int attempt = 0; attempt < 20; attempt++)
        {
            left = [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(p => p!.All(char.IsAsciiDigit) && p != Environment.ProcessId.ToString())
                .Select(p => (Pid: p!, Cmd: CommandLine(p!))).Where(p => p.Cmd.Contains(_dir, StringComparison.Ordinal)).Select(p => $"{p.Pid}: {p.Cmd}")];
            if (left.Count == 0) return;
            Thread.Sleep(250);
        }
        Assert.Fail("still running: " + string.Join("; ", left));
    }

    private static string CommandLine(string pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    private static (int Code, string Out, string Err) Invoke(params string[] args) => Hostile.CliHostileTests.Invoke(args);
}
