using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Running;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// Generated command lines, from words the CLI knows, near misses and garbage: parsing never
/// throws; a command line with a usage error ends with exit code 2 and prints nothing on stdout
/// (nothing ran); one without errors describes a run whose every value is within the limits.
/// No generated command line runs the suite.
/// </summary>
public sealed class CliFuzzTests
{
    private static readonly string[] Commands = ["run", "rules", "profiles", "rnu", "rule", "RUN", "", "help"];

    private static readonly string[] Options =
    [
        "--profile", "--memory", "--seed", "--replay", "--sequences", "--max-steps", "--family", "--rule", "--junit", "--json",
        "--html", "--db", "--no-db", "--quiet", "--impl-command", "--impl-assembly", "--impl-type", "--name", "--operation-timeout",
        "--markdown", "--help", "-h", "-?", "--version", "--profle", "--memroy", "-p", "--", "-", "--seed=3", "--memory=64M", "--profile:x86-32",
    ];

    private static readonly string[] Values =
    [
        "x86-32", "linux-2.4", "64-bit-8k", "linux-6", "x86-32,linux-6", "X86-32", "x86-23", "64M", "4M", "100M", "2G", "4G", "64G", "65G",
        "1000000G", "17179869188G", "64M,512M", "64M,,1G", "0", "1", "-1", "60", "10000", "10001", "2147483647", "2147483648",
        "18446744073709551615", "18446744073709551616", "pages", "heap", "page", "PAGE-4", "page-4", "PAGE-99", "500ms", "2s", "0s",
        "1m", "2h", "/bin/true", "./nope", "'unterminated", "/tmp", "/no/such.dll", "alice", " ", "\u0007", "ünïcödé", "\u202e",
        "-5", "1e3", "0x10", "NaN", new string('9', 300), new string('x', 5000), "a\0b",
    ];

    private static Gen<string> Word() => Gen.OneOf(
        Gen.Elements(Options), Gen.Elements(Options), Gen.Elements(Values), Gen.Elements(Values),
        Gen.Choose(0, 0xFFFF).Select(c => ((char)c).ToString()),
        Gen.Elements("a", "-", "=", ",", "/", "G", "9").ArrayOf().Select(a => string.Concat(a)));

    private static Arbitrary<string[]> CommandLines() =>
        (from command in Gen.Elements(Commands)
         from rest in Word().ArrayOf()
         select (command.Length == 0 ? rest : [command, .. rest]).Take(14).ToArray()).ToArbitrary();

    [Fact]
    public void GeneratedCommandLines_ParseCleanly_AndNeverRunWithValuesOutsideTheLimits()
    {
        var property = Prop.ForAll(CommandLines(), args =>
        {
            var check = KmmConformance.Check(args);
            if (check.UsageErrors.Count > 0)
            {
                var output = new StringWriter();
                var error = new StringWriter();
                int code = KmmConformance.Invoke(args, output, error);
                if (code != ExitCodes.Usage) throw new Exception($"exit code {code}, not 2, for [{string.Join("] [", args)}]: {error}");
                if (output.ToString().Length > 0)
                    throw new Exception($"stdout not empty for a usage error [{string.Join("] [", args)}]: {output}");
                return;
            }
            if (check.Run is not { } run) return; // help, --version, rules, profiles
            Assert.Null(RunLimits.Check(run.Settings));
            Assert.NotEmpty(run.Profiles);
            Assert.InRange(run.MemorySizes.Count, 1, RunLimits.MaxMemorySizes);
            foreach (var profile in run.Profiles)
                foreach (var size in run.MemorySizes)
                    Assert.Null(RunLimits.CheckMemory(profile, size));
        });
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(400).WithReplay(77UL, 0x9E3779B97F4A7C15UL));
    }

    /// <summary>Commands that only print (help, --version, rules, profiles) succeed whatever option order.</summary>
    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    [InlineData("--version")]
    [InlineData("run", "--help")]
    [InlineData("run", "--sequences", "0", "--help")]
    [InlineData("rules", "-h")]
    [InlineData("rules", "--markdown")]
    [InlineData("profiles")]
    public void PrintingCommands_ExitZero(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Passed, KmmConformance.Invoke(args, output, error));
        Assert.NotEmpty(output.ToString());
        Assert.Null(KmmConformance.Check(args).Run);
    }
}
