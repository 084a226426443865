using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Running;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// Hostile command lines: values that overflow, make no sense, or are missing; options that
/// exclude each other; programs, assemblies and paths that cannot be used. Each ends with exit
/// code 2 and a sentence naming the problem before any work starts (nothing on stdout), never with
/// a crash, a silently wrapped value or a run that stops half way.
/// </summary>
public sealed class CliHostileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-cli-hostile-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    internal static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = KmmConformance.Invoke(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertRefused(string[] args, string expected)
    {
        var (code, output, error) = Invoke(args);
        Assert.True(code == ExitCodes.Usage, $"exit code {code} for {string.Join(' ', args)}\nstdout: {output}\nstderr: {error}");
        Assert.True(output.Length == 0, $"something ran or printed for {string.Join(' ', args)}: {output}");
        Assert.Contains(expected, error);
        // The same verdict without running anything.
        Assert.NotEmpty(KmmConformance.Check(args).UsageErrors);
    }

    /// <summary>The cases of issue 7 and their neighbours. Before: a crash, a silent 4G run, 6.6 GB of memory, a run that stopped after two profiles.</summary>
    [Theory]
    [InlineData("above the largest RAM", "run", "--memory", "1000000G")]
    [InlineData("too large", "run", "--memory", "17179869188G")]
    [InlineData("too large", "run", "--memory", "99999999999999999999999G")]
    [InlineData("outside 1..10,000", "run", "--max-steps", "2147483647")]
    [InlineData("not a multiple of 64-bit-8k", "run", "--memory", "100M")]
    [InlineData("below the smallest RAM", "run", "--memory", "1K")]
    [InlineData("above 0", "run", "--memory", "0")]
    [InlineData("above the largest RAM of x86-32", "run", "--profile", "x86-32", "--memory", "8G")]
    [InlineData("outside 1..1,000,000", "run", "--sequences", "2147483648")]
    [InlineData("outside 1..1,000,000", "run", "--sequences", "0")]
    [InlineData("outside 1..1,000,000", "run", "--sequences", "-5")]
    [InlineData("takes a whole number", "run", "--sequences", "ten")]
    [InlineData("takes a whole number", "run", "--max-steps", "1e3")]
    [InlineData("takes a whole number from 0", "run", "--seed", "-1")]
    [InlineData("takes a whole number from 0", "run", "--seed", "18446744073709551616")]
    [InlineData("takes a whole number from 0", "run", "--replay", "0x10")]
    [InlineData("disagree", "run", "--seed", "1", "--replay", "2")]
    [InlineData("an empty size", "run", "--memory", "64M,,1G")]
    [InlineData("not a memory size", "run", "--memory", "lots")]
    [InlineData("at most 16", "run", "--profile", "x86-32", "--memory", "4M,8M,12M,16M,20M,24M,28M,32M,36M,40M,44M,48M,52M,56M,60M,64M,68M")]
    [InlineData("no profile 'x86-23' (did you mean x86-32?)", "run", "--profile", "x86-23")]
    [InlineData("no family 'page' (did you mean pages?)", "run", "--family", "page")]
    [InlineData("no rule 'PAGE-99'", "run", "--rule", "PAGE-99")]
    public void NonsenseValues_AreRefusedBeforeAnyWork(string expected, params string[] args) => AssertRefused(args, expected);

    /// <summary>Before: "--profile --no-db" read --no-db as a profile name.</summary>
    [Theory]
    [InlineData("--profile needs a value, but the next word is the option '--no-db'", "run", "--profile", "--no-db")]
    [InlineData("--memory needs a value, but the next word is the option '--quiet'", "run", "--memory", "--quiet")]
    [InlineData("--seed needs a value, but the next word is the option '--sequences'", "run", "--seed", "--sequences", "3")]
    [InlineData("--db needs a value, but the next word is the option '--help'", "run", "--db", "--help")]
    [InlineData("Required argument missing for option: '--html'", "run", "--html")]
    [InlineData("--name needs a value, but the next word is the option '--impl-command'", "run", "--name", "--impl-command", "./x")]
    public void AMissingValue_IsNeverReadAsTheNextOption(string expected, params string[] args) => AssertRefused(args, expected);

    /// <summary>Before: extra arguments to rules and profiles were silently ignored.</summary>
    [Theory]
    [InlineData("rules", "extra")]
    [InlineData("profiles", "x86-32")]
    [InlineData("run", "x86-32")]
    [InlineData("rules", "--markdown", "--json")]
    public void ExtraArguments_AreRefused(params string[] args) => AssertRefused(args, "Unrecognized command or argument");

    [Theory]
    [InlineData("exclude each other", "run", "--impl-command", "/bin/true", "--impl-assembly", "x.dll")]
    [InlineData("--impl-type picks a factory of --impl-assembly", "run", "--impl-type", "MyFactory")]
    [InlineData("--operation-timeout applies to a program", "run", "--operation-timeout", "5s")]
    [InlineData("outside 10ms..10m", "run", "--impl-command", "/bin/true", "--operation-timeout", "0s")]
    [InlineData("outside 10ms..10m", "run", "--impl-command", "/bin/true", "--operation-timeout", "2h")]
    [InlineData("takes a duration", "run", "--impl-command", "/bin/true", "--operation-timeout", "soon")]
    [InlineData("--db and --no-db exclude each other", "run", "--db", "x.json", "--no-db")]
    [InlineData("needs a non-empty label", "run", "--name", " ")]
    [InlineData("the label holds control characters", "run", "--name", "a\u0007b")]
    [InlineData("at most 100", "run", "--name", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn")]
    [InlineData("the program './no-such-program' does not exist", "run", "--impl-command", "./no-such-program")]
    [InlineData("was not found on PATH", "run", "--impl-command", "no-such-program-on-path --flag")]
    [InlineData("unterminated", "run", "--impl-command", "'./buddy")]
    [InlineData("is a directory, not a program", "run", "--impl-command", "/tmp")]
    [InlineData("does not exist", "run", "--impl-assembly", "/no/such/Implementation.dll")]
    public void OptionsThatCannotBeUsed_AreRefusedBeforeAnyWork(string expected, params string[] args) => AssertRefused(args, expected);

    [Fact]
    public void OutputPaths_ThatCannotBeFiles_AreRefused()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        AssertRefused(["run", "--junit", _dir], "is a directory");
        AssertRefused(["run", "--html", Path.Combine(file, "report.html")], "is a file");
        AssertRefused(["run", "--json", Path.Combine(_dir, "same"), "--html", Path.Combine(_dir, "same")], "name the same file");
        AssertRefused(["run", "--db", Path.Combine(_dir, "r.json"), "--json", Path.Combine(_dir, "r.json")], "name the same file");
    }

    [Fact]
    public void AProgramThatIsNotExecutable_IsRefused()
    {
        string program = Path.Combine(_dir, "buddy");
        File.WriteAllText(program, "#!/bin/sh\n");
        AssertRefused(["run", "--impl-command", program], "is not executable");
    }

    [Fact]
    public void AnAssemblyThatIsNotDotNet_IsBadUsage_AndNothingRuns()
    {
        string dll = Path.Combine(_dir, "Fake.dll");
        File.WriteAllText(dll, "MZ this is not an assembly");
        var (code, output, error) = Invoke("run", "--impl-assembly", dll, "--no-db");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains("not a loadable .NET assembly", error);
    }

    /// <summary>A failure database that is not a regular, understood file: the run goes on and the file is left as it was.</summary>
    [Fact]
    public void ADatabaseFileThatIsNotUnderstood_IsReported_AndLeftAsItIs()
    {
        string db = Path.Combine(_dir, "failures.json");
        File.WriteAllText(db, "");
        var (code, output, error) = Invoke("run", "--db", db, "--profile", "x86-32", "--memory", "4M", "--family", "pages", "--sequences", "3", "--max-steps", "5", "--quiet");
        Assert.True(code is ExitCodes.Passed or ExitCodes.Failed, error);
        Assert.Contains("Conformance of 'reference'", output);
        Assert.Contains("neither used nor changed", error);
        Assert.Equal(0, new FileInfo(db).Length);
    }

    /// <summary>A response file that never ends (a device) or is huge is refused, never read forever.</summary>
    [Theory]
    [InlineData("/dev/zero", "not a regular file")]
    [InlineData("/dev/urandom", "not a regular file")]
    [InlineData("/no/such/file.rsp", "not found")]
    public async Task ResponseFilesThatCannotBeRead_AreRefused(string path, string expected)
    {
        var work = Task.Run(() => Invoke("run", "@" + path));
        Assert.True(await Task.WhenAny(work, Task.Delay(TimeSpan.FromSeconds(30))) == work, $"@{path} was read without end");
        var (code, output, error) = await work;
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void ResponseFiles_AreReadWithShellQuoting_AndCheckedLikeTheCommandLine()
    {
        string rsp = Path.Combine(_dir, "args.rsp");
        File.WriteAllText(rsp, "# a comment\n--profile 'x86-32'\n\n--sequences 0\n");
        var (code, _, error) = Invoke("run", "@" + rsp);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--sequences 0 is outside", error);

        string huge = Path.Combine(_dir, "huge.rsp");
        using (var f = new FileStream(huge, FileMode.Create)) f.SetLength(Conformance.Cli.Options.ResponseFiles.MaxBytes + 1);
        Assert.Contains("larger than", Invoke("run", "@" + huge).Err);
    }
}
