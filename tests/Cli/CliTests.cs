using System.Reflection;
using System.Text.Json;
using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Rules;
using KernelMm.Tests.Reports;

namespace KernelMm.Tests.Cli;

/// <summary>The command line as a user meets it: help, version, suggestions, labels, the table and its last line.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Out, string Err) Invoke(params string[] args) => Hostile.CliHostileTests.Invoke(args);

    /// <summary>A run of a few seconds at most: one profile, one small RAM size, the page family.</summary>
    private static readonly string[] Tiny = ["--profile", "x86-32", "--memory", "4M", "--family", "pages", "--sequences", "4", "--max-steps", "8", "--quiet"];

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_ListsTheCommands_ExamplesAndExitCodes(string flag)
    {
        var (code, output, _) = Invoke(flag);
        Assert.Equal(ExitCodes.Passed, code);
        foreach (var command in new[] { "run", "rules", "profiles", "--version", "Examples:", "Exit codes:" })
            Assert.Contains(command, output);
    }

    [Fact]
    public void HelpPerCommand_ListsEveryOptionWithItsBounds()
    {
        var (code, output, _) = Invoke("run", "--help");
        Assert.Equal(ExitCodes.Passed, code);
        foreach (var option in new[] { "--profile", "--memory", "--seed", "--replay", "--sequences", "--max-steps", "--family", "--rule", "--junit",
                     "--json", "--html", "--db", "--no-db", "--quiet", "--impl-command", "--impl-assembly", "--impl-type", "--name", "--operation-timeout" })
            Assert.Contains(option, output);
        Assert.Contains("1 to 10,000", output);
        Assert.Contains("Exit codes:", output);
        Assert.Contains("--markdown", Invoke("rules", "--help").Out);
    }

    [Fact]
    public void Version_IsTheToolsInformationalVersion()
    {
        var (code, output, _) = Invoke("--version");
        Assert.Equal(ExitCodes.Passed, code);
        var expected = typeof(KmmConformance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, output.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", output);
    }

    [Theory]
    [InlineData("run", new[] { "rnu" })]
    [InlineData("profiles", new[] { "profile" })]
    [InlineData("--profile", new[] { "run", "--profle", "x86-32" })]
    [InlineData("--max-steps", new[] { "run", "--max-step", "5" })]
    public void Typos_GetASuggestion(string suggestion, string[] args)
    {
        var (code, output, error) = Invoke(args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains("Did you mean", error);
        Assert.Contains(suggestion, error);
    }

    [Fact]
    public void NoArguments_ShowTheHelp_AsBadUsage()
    {
        var (code, output, error) = Invoke();
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Contains("Commands:", error);
    }

    [Fact]
    public void Rules_ListsTheCatalogue_AndMarkdownIsTheDocument()
    {
        var (code, output, _) = Invoke("rules");
        Assert.Equal(ExitCodes.Passed, code);
        Assert.All(RuleCatalogue.All, r => Assert.Contains(r.Id, output));
        Assert.Equal(Conformance.Catalogue.RulesDocument.Render(), Invoke("rules", "--markdown").Out);
    }

    [Fact]
    public void Profiles_SayWhichRamSizesEachAccepts()
    {
        var (code, output, _) = Invoke("profiles");
        Assert.Equal(ExitCodes.Passed, code);
        Assert.Contains("RAM: multiples of 4M up to 4G", output);
        Assert.Contains("RAM: multiples of 8M up to 64G", output);
    }

    /// <summary>Before: `profiles` left out the kernel virtual layout and page-table format that docs/rules.md tabulates.</summary>
    [Fact]
    public void Profiles_ShowTheKernelVirtualLayoutAndPageTableFormat()
    {
        var (code, output, _) = Invoke("profiles");
        Assert.Equal(ExitCodes.Passed, code);
        string Block(string name) => output.Split('\n').SkipWhile(l => !l.StartsWith(name + " ")).Take(5).Aggregate("", (a, l) => a + l + "\n");

        // x86-32: 0xc0000000 + 64M + 8M, and + 896M + 8M once HIGHMEM caps low memory (arch/x86/include/asm/pgtable_32_areas.h).
        string x86 = Block("x86-32");
        Assert.Contains("VMALLOC_START = PAGE_OFFSET + low memory + VMALLOC_OFFSET 8M (0xc4800000 with 64M of RAM, 0xf8800000 with 896M or more)", x86);
        Assert.Contains("VMALLOC_END 0xff7fe000", x86);
        Assert.Contains("ioremap window = vmalloc window", x86);
        Assert.Contains("PKMAP_BASE 0xff800000 (1024 kmap slots of one page)", x86);
        Assert.Contains("TASK_SIZE 0xc0000000", x86);
        Assert.Contains("vfree in interrupt reported (VMAL-3)", x86);
        Assert.Contains("page tables: 2 levels (10/10 index bits, top first), 12 offset bits, 4-byte entries, 32-bit virtual and 32-bit physical addresses", x86);

        // 64-bit-8k: no HIGHMEM, so VMALLOC_START keeps moving with RAM; no kmap window; Alpha's three levels over 13 offset bits.
        string alpha = Block("64-bit-8k");
        Assert.Contains("(0xfffffd0004000000 with 64M of RAM, 0xfffffd0080000000 with 2G)", alpha);
        Assert.Contains("VMALLOC_END 0xfffffe0000000000", alpha);
        Assert.Contains("no PKMAP window", alpha);
        Assert.Contains("page tables: 3 levels (10/10/10 index bits, top first), 13 offset bits, 8-byte entries, 43-bit virtual and 44-bit physical addresses", alpha);

        Assert.Contains("vfree in interrupt deferred (vfree_atomic)", Block("linux-6"));
        // Every named profile, x86-64 (outside the default run) included, gets both lines.
        foreach (var p in KernelMm.Spec.Profiles.Profiles.Named)
        {
            string block = Block(p.Name);
            Assert.Contains($"VMALLOC_END 0x{p.VmallocEnd:x}", block);
            Assert.Contains($"TASK_SIZE 0x{p.TaskSize:x}", block);
            Assert.Contains($"page tables: {p.PageTableLevelBits.Count} levels", block);
        }
    }

    /// <summary>Before: every report said "Conformance of 'buddy'" (or 'reference'): --name did not exist.</summary>
    [Fact]
    public void Name_LabelsTheTable_TheReports_AndTheReplayCommands()
    {
        string json = Path.Combine(_dir, "result.json");
        var (code, output, error) = Invoke(["run", .. Tiny, "--no-db", "--name", "alice (group 3)", "--json", json]);
        Assert.True(code is ExitCodes.Passed or ExitCodes.Failed, error);
        Assert.StartsWith("Conformance of 'alice (group 3)'", output);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("alice (group 3)", document.RootElement.GetProperty("implementation").GetString());
    }

    [Fact]
    public void Table_HasItsLegend_WholeStatementsWhenRedirected_AndEndsWithWhatToDoNext()
    {
        string html = Path.Combine(_dir, "report.html");
        var (code, output, error) = Invoke(["run", .. Tiny, "--no-db", "--html", html]);
        Assert.True(code is ExitCodes.Passed or ExitCodes.Failed, error);
        Assert.Contains(ConsoleReport.Legend.Trim(), output);
        // Redirected output (a StringWriter here) is never cut: the longest statement appears whole.
        var longest = RuleCatalogue.All.MaxBy(r => r.Statement.Length)!;
        Assert.Contains(longest.Statement, output);
        var last = output.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("next: ", last);
        Assert.Contains(html, last);
        Assert.True(File.Exists(html));
    }

    [Fact]
    public void NextStep_AfterAPassingReferenceRun_SaysHowToJudgeYourOwnImplementation()
    {
        var request = Assert.IsType<Conformance.Cli.Commands.RunRequest>(KmmConformance.Check(["run", "--no-db"]).Run);
        var passed = ReportFixtures.HandBuilt() with { Results = ReportFixtures.HandBuilt().Results.Where(r => r.Outcome is RuleOutcome.Passed or RuleOutcome.Pending).ToList() };
        var line = Conformance.Cli.Execution.RunExecutor.NextStep(passed, request, "kmm-conformance");
        Assert.Contains("kmm-conformance run --impl-command", line);
        Assert.Contains("--impl-assembly", line);
        Assert.Contains("--html", line);

        var failed = Conformance.Cli.Execution.RunExecutor.NextStep(ReportFixtures.HandBuilt(), request, "kmm-conformance");
        Assert.StartsWith("next: fix PAGE-4 first", failed);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    [InlineData(40)]
    public void Table_FitsTheTerminalWidth(int width)
    {
        var text = ConsoleReport.Render(ReportFixtures.HandBuilt(), new ReportOptions { Width = width });
        var table = text.Split('\n').SkipWhile(l => !l.StartsWith("rule ")).TakeWhile(l => !l.StartsWith("legend:")).ToList();
        Assert.True(table.Count > RuleCatalogue.All.Count, "the table was not found");
        int tableWidth = table.Max(l => l.Length);
        // The rule and profile columns always show; statements take what is left, never less than a few words.
        Assert.True(tableWidth <= Math.Max(width, 9 + 2 * 12 + 12 + 1), $"a line of {tableWidth} characters on a {width}-column terminal:\n{string.Join("\n", table.Where(l => l.Length > width))}");
        Assert.Contains("…", text);
    }

    /// <summary>The reference's failures are filed under its label and a hash of the reference build; saved failures are re-run and dropped once they pass.</summary>
    [Fact]
    public void FailureDatabase_OfACliRun_IsKeyedByLabelAndProgram()
    {
        string db = Path.Combine(_dir, "failures.json");
        var seeded = FailureDatabase.Load(db);
        var key = new PropertyKey("x86-32", 4UL << 20, "pages", new RunSettings { Seed = 99, Sequences = 2, MaxSteps = 4 });
        var saved = ReportFixtures.HandBuilt(properties: [new PropertyRun(key, false, [ReportFixtures.Counterexample(label: key.Label)], 1, 2)]);
        // Saved for another program labelled "reference": never re-run by this one.
        seeded.Record(saved with { Implementation = "reference" }, new ImplementationIdentity("reference", "sha256:0123456789abcdef", "/elsewhere/Reference.dll"));
        seeded.Save();

        var (code, output, error) = Invoke(["run", .. Tiny[..^1], "--db", db]);
        Assert.True(code is ExitCodes.Passed or ExitCodes.Failed, error);
        Assert.DoesNotContain("saved failure", error);
        Assert.Single(FailureDatabase.Load(db).Entries); // kept: it is another program's

        // The same entry under this build's own identity is re-run first and dropped when it passes.
        var reference = new Conformance.Cli.Options.ImplementationChoice().Identity(new KernelMm.Reference.ReferenceFactory());
        seeded = FailureDatabase.Load(db);
        seeded.Record(saved with { Implementation = "reference" }, reference);
        seeded.Save();
        (code, output, error) = Invoke(["run", .. Tiny[..^1], "--db", db]);
        Assert.Contains("(saved failure)", error);
        Assert.Contains("1 property that pass now removed", error);
        Assert.Single(FailureDatabase.Load(db).Entries);
    }
}
