using System.Diagnostics;
using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Running;
using KernelMm.Tests.OutOfProcess;

namespace KernelMm.Tests.Cli;

/// <summary>
/// The command line judging programs (the C buddy allocator and its broken builds): students'
/// programs with the same file name keep their own saved failures, two runs at once keep each
/// other's, and --operation-timeout reaches the process adapter.
/// </summary>
public sealed class CliProgramTests(NativePrograms programs) : IClassFixture<NativePrograms>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-cli-programs-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly string[] Small = ["--profile", "x86-32", "--memory", "64M", "--family", "pages", "--sequences", "10", "--max-steps", "20"];

    private string Student(string name, string program)
    {
        string path = Path.Combine(_dir, name, "buddy");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A link, not a copy: a program this process has just written can still be open for writing in a child another
        // test thread is forking (until that child execs), and exec of it then fails with "Text file busy" (ETXTBSY).
        File.CreateSymbolicLink(path, program);
        return path;
    }

    /// <summary>
    /// Seen: two students' binaries named "buddy" shared the failure database entries; the second
    /// (correct) one re-ran the first's saved failures, passed them and deleted them as "now passing".
    /// </summary>
    [Fact]
    public void TwoStudentsProgramsNamedAlike_KeepTheirOwnSavedFailures()
    {
        string db = Path.Combine(_dir, "failures.json");
        string alice = Student("alice", programs.BrokenFreeOrder), bob = Student("bob", programs.Buddy);

        var (code, output, error) = Hostile.CliHostileTests.Invoke(["run", "--impl-command", alice, "--db", db, .. Small]);
        Assert.True(code == ExitCodes.Failed, $"the broken program was not caught:\n{output}\n{error}");
        Assert.StartsWith("Conformance of 'buddy'", output);
        var saved = FailureDatabase.Load(db).Entries;
        Assert.NotEmpty(saved);
        Assert.All(saved, e => Assert.Equal("buddy", e.Implementation));
        Assert.All(saved, e => Assert.StartsWith("sha256:", e.Program));

        (code, output, error) = Hostile.CliHostileTests.Invoke(["run", "--impl-command", bob, "--db", db, .. Small]);
        Assert.DoesNotContain("saved failure", error);
        Assert.Equal(saved.Select(e => e.Key), FailureDatabase.Load(db).Entries.Select(e => e.Key));
    }

    /// <summary>Seen: two runs in one folder at once, the last writer won, 10 times out of 10. Here two processes save at once and both keep their failures.</summary>
    [Fact]
    public async Task TwoRunsAtOnce_InOneFolder_KeepBothRunsFailures()
    {
        string cli = typeof(KmmConformance).Assembly.Location;
        var runs = new[] { "11", "12" }.Select(seed =>
        {
            var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
            string[] args = [cli, "run", "--impl-command", programs.BrokenFreeOrder, "--seed", seed, "--quiet", .. Small];
            foreach (var a in args) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            return (process, stdout, stderr, seed);
        }).ToList();
        foreach (var (process, stdout, stderr, seed) in runs)
        {
            bool exited = process.WaitForExit(TimeSpan.FromMinutes(3));
            if (!exited) process.Kill(entireProcessTree: true);
            Assert.True(exited, $"run with seed {seed} did not finish");
            Assert.True(process.ExitCode == ExitCodes.Failed, $"seed {seed}: exit code {process.ExitCode}\n{await stdout}\n{await stderr}");
            process.Dispose();
        }
        var entries = FailureDatabase.Load(Path.Combine(_dir, FailureDatabase.DefaultPath)).Entries;
        Assert.Equal(["11", "12"], entries.Select(e => e.Seed.ToString()).Distinct().Order());
    }

    [Fact]
    public void OperationTimeout_ReachesTheProgramAdapter_AndTheReplayCommand()
    {
        string[] command = programs.Misbehaving("hang", "--op", "getFreePages");
        var (code, output, error) = Hostile.CliHostileTests.Invoke(["run", "--impl-command", string.Join(" ", command), "--operation-timeout", "80ms", "--no-db", "--quiet",
            "--profile", "x86-32", "--memory", "4M", "--family", "pages", "--sequences", "1", "--max-steps", "3"]);
        Assert.True(code == ExitCodes.Failed, error);
        Assert.Contains("within 80 ms", output);
        Assert.Contains("--operation-timeout 80ms", output);
    }
}
