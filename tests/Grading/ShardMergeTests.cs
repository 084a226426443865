using KernelMm.Conformance.Cli;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Conformance.Sharding;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Grading;

/// <summary>
/// Sharding: the shards of a run, merged, are the run: the same row per rule and profile (outcome,
/// checks, counterexample) and the same verdict, whether merged in process or from their JSON files.
/// </summary>
public sealed class ShardMergeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-shard-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Two profiles, two RAM sizes, both families: eight properties. A broken variant, so there are failures to keep.</summary>
    private static SuiteOptions Options() => new()
    {
        Profiles = [Profiles.X86_32, Profiles.Linux6],
        MemorySizes = [64UL << 20, 512UL << 20],
        Settings = new RunSettings { Seed = 5, Sequences = 12, MaxSteps = 30 },
    };

    private static readonly Lazy<SuiteResult> Whole = new(() => SuiteRunner.Run(new TreeFactory(Fault.NoCoalescing), Options()));

    private static SuiteResult RunShard(int i, int n) =>
        SuiteRunner.Run(new TreeFactory(Fault.NoCoalescing), new Shard(i, n).Apply(Options())) with { Shard = new Shard(i, n) };

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void MergedShards_AreTheWholeRun(int n)
    {
        var merged = ResultMerge.Combine([.. Enumerable.Range(1, n).Select(i => RunShard(i, n))]);
        AssertSameRows(Whole.Value, merged);
        Assert.Equal(Whole.Value.Passed, merged.Passed);
        Assert.Equal(Whole.Value.Operations, merged.Operations);
        Assert.Equal(Whole.Value.Properties.Select(p => p.Key), merged.Properties.Select(p => p.Key));
    }

    [Fact]
    public void EachShard_RunsOnlyItsOwnProperties_RoundRobin()
    {
        var plan = Shard.Plan(Options().Profiles, Options().MemorySizes, new HashSet<string>());
        Assert.Equal(2 * 2 * SuiteRunner.Families.Count, plan.Count); // the parallel families' properties too (n/a here: not declared)
        var runs = Enumerable.Range(1, 3).Select(i => RunShard(i, 3)).ToList();
        var ran = runs.SelectMany((r, i) => r.Properties.Select(p => (Shard: i + 1, p.Key.Profile, p.Key.Memory, p.Key.Family))).ToList();
        // What the whole run runs (families whose rules all are n/a for the variant are not run at all), each in exactly the shard its plan index deals it to.
        var runnable = Whole.Value.Properties.Select(p => (p.Key.Profile, p.Key.Memory, p.Key.Family)).ToList();
        Assert.True(runnable.Count >= 4, $"{runnable.Count} properties");
        Assert.Equal(runnable.Count, ran.Count);
        foreach (var property in runnable)
        {
            int k = plan.ToList().IndexOf(property);
            Assert.True(k >= 0);
            Assert.Equal(k % 3 + 1, Assert.Single(ran, r => (r.Profile, r.Memory, r.Family) == property).Shard);
        }
    }

    [Fact]
    public void MergedFromJsonFiles_IsTheWholeRun_ReplayCommandsIncluded()
    {
        var options = new ReportOptions { ReplayPrefix = "kmm-conformance" };
        var files = Enumerable.Range(1, 3).Select(i =>
        {
            string path = Path.Combine(_dir, $"shard-{i}.json");
            JsonReport.Write(RunShard(i, 3), path, options);
            return path;
        }).ToList();
        var merged = ResultMerge.Combine([.. files.Select(ResultDocuments.Load)]);
        AssertSameRows(Whole.Value, merged);
        var whole = JsonReport.Build(Whole.Value, options);
        // A factory given as C# is not in the JSON (merge derives a program's or the reference's from the
        // run's arguments): given the same, the printed tests are the same, steps and usings included.
        var again = JsonReport.Build(merged, options with { Factory = FactoryCode.For(new TreeFactory(Fault.NoCoalescing), "tree") });
        Assert.Equal(whole.Results.Select(r => r.Counterexample?.Replay), again.Results.Select(r => r.Counterexample?.Replay));
        foreach (var (w, a) in whole.Results.Zip(again.Results)) Assert.Equal(w.Counterexample?.Xunit, a.Counterexample?.Xunit);
    }

    [Fact]
    public void PartsThatAreNotOneRun_AreRefused_SayingWhy()
    {
        var one = RunShard(1, 2);
        Assert.Contains("shard 2/2 missing", Assert.Throws<MergeException>(() => ResultMerge.Combine([one])).Message);
        Assert.Contains("shard 1/2 is given 2 times", Assert.Throws<MergeException>(() => ResultMerge.Combine([one, one, RunShard(2, 2)])).Message);
        var other = RunShard(2, 2) with { Settings = one.Settings with { Seed = 6 } };
        Assert.Contains("share their settings", Assert.Throws<MergeException>(() => ResultMerge.Combine([one, other])).Message);
        var someoneElse = RunShard(2, 2) with { Implementation = "bob" };
        Assert.Contains("merge the results of one implementation", Assert.Throws<MergeException>(() => ResultMerge.Combine([one, someoneElse])).Message);
    }

    /// <summary>A variant whose failure (ADDR-11) blocks other rules (PAGE-8 and more), on two RAM sizes: two properties.</summary>
    private static SuiteOptions BlockingOptions() => new()
    {
        Profiles = [Profiles.X86_32],
        MemorySizes = [64UL << 20, 128UL << 20],
        Families = new HashSet<string> { "pages" },
        Settings = new RunSettings { Seed = Suite.SuiteRuns.Seed, Sequences = 40 },
    };

    private static Suite.ForwardingFactory Losing() => new("loses-max-order-blocks", p => new Suite.LosesMaxOrderBlocks(p));

    [Fact]
    public void BlockedRules_MergeAsTheWholeRunJudgesThem_ThroughJsonToo()
    {
        var whole = SuiteRunner.Run(Losing(), BlockingOptions());
        Assert.Contains(whole.Results, r => r.Outcome == RuleOutcome.Blocked);
        var shards = Enumerable.Range(1, 2).Select(i => SuiteRunner.Run(Losing(), new Shard(i, 2).Apply(BlockingOptions())) with { Shard = new Shard(i, 2) }).ToList();
        AssertSameRows(whole, ResultMerge.Combine(shards));
        // And read back from the shards' JSON: the blocking rule, the observation and its step namespaces survive.
        var files = shards.Select((r, i) => { string f = Path.Combine(_dir, $"b{i}.json"); JsonReport.Write(r, f); return f; }).ToList();
        var merged = ResultMerge.Combine([.. files.Select(ResultDocuments.Load)]);
        AssertSameRows(whole, merged);
        foreach (var (e, a) in whole.Results.Zip(merged.Results).Where(p => p.First.Outcome == RuleOutcome.Blocked))
        {
            Assert.Equal(e.BlockedBy, a.BlockedBy);
            Assert.Equal(e.Counterexample?.BlockedBy, a.Counterexample?.BlockedBy);
            Assert.Equal(e.Counterexample?.StepNamespaces, a.Counterexample?.StepNamespaces);
        }
        Assert.Equal(whole.Passed, merged.Passed);
        // Each shard fails on its own when it holds a blocked rule (a failure stands behind it).
        Assert.All(shards.Where(s => s.Blocked.Any()), s => Assert.Equal(ExitCodes.Failed, KernelMm.Conformance.Cli.Execution.RunExecutor.Verdict(s)));
    }

    [Fact]
    public void Rank_ABlockedObservationOutranksAPassElsewhere_ABlockedRuleNeverReachedDoesNot()
    {
        var rule = KernelMm.Spec.Rules.RuleCatalogue.Get("PAGE-8");
        var seen = new RuleResult(rule, "x86-32", RuleOutcome.Blocked, 3, Reports.ReportFixtures.BlockedObservation(), "blocked by PAGE-4") { BlockedBy = "PAGE-4" };
        var cut = new RuleResult(rule, "x86-32", RuleOutcome.Blocked, 0, null, "blocked by PAGE-4: not reached") { BlockedBy = "PAGE-4" };
        var passed = new RuleResult(rule, "x86-32", RuleOutcome.Passed, 10, null, null);
        var unexercised = new RuleResult(rule, "x86-32", RuleOutcome.NotExercised, 0, null, null);
        var failed = new RuleResult(rule, "x86-32", RuleOutcome.Failed, 1, Reports.ReportFixtures.Counterexample(), null);
        Assert.True(ResultMerge.Rank(failed) > ResultMerge.Rank(seen));
        Assert.True(ResultMerge.Rank(seen) > ResultMerge.Rank(passed));
        Assert.True(ResultMerge.Rank(passed) > ResultMerge.Rank(cut));
        Assert.True(ResultMerge.Rank(cut) > ResultMerge.Rank(unexercised));
    }

    [Fact]
    public void Rank_AFailureWinsOverEverything_AnUnknownOutcomeOverAPass()
    {
        Assert.True(ResultMerge.Rank(RuleOutcome.Failed) > ResultMerge.Rank((RuleOutcome)77));
        Assert.True(ResultMerge.Rank((RuleOutcome)77) > ResultMerge.Rank(RuleOutcome.Passed));
        Assert.True(ResultMerge.Rank(RuleOutcome.Passed) > ResultMerge.Rank(RuleOutcome.NotExercised));
        Assert.True(ResultMerge.Rank(RuleOutcome.NotExercised) > ResultMerge.Rank(RuleOutcome.NotApplicable));
        Assert.True(ResultMerge.Rank(RuleOutcome.NotApplicable) > ResultMerge.Rank(RuleOutcome.Pending));
    }

    [Fact]
    public void Cli_ShardThenMerge_GivesTheWholeRunsTableAndExitCode()
    {
        string[] run = ["run", "--profile", "x86-32", "--memory", "4M,8M", "--family", "pages", "--sequences", "6", "--max-steps", "12", "--no-db", "--quiet"];
        var whole = Invoke([.. run]);
        var shards = Enumerable.Range(1, 2).Select(i => Invoke([.. run, "--shard", $"{i}/2", "--json", Path.Combine(_dir, $"s{i}.json")])).ToList();
        Assert.All(shards, s => Assert.Contains("next: this was shard ", s.Out));
        var merged = Invoke("merge", Path.Combine(_dir, "s1.json"), Path.Combine(_dir, "s2.json"), "--ktap", Path.Combine(_dir, "merged.ktap"));
        Assert.Equal(whole.Code, merged.Code);
        Assert.Equal(Table(whole.Out), Table(merged.Out));
        Assert.StartsWith("KTAP version 1\n", File.ReadAllText(Path.Combine(_dir, "merged.ktap")));

        var usage = Invoke([.. run, "--shard", "3/2"]);
        Assert.Equal(ExitCodes.Usage, usage.Code);
        Assert.Contains("the shard number goes from 1 to 2", usage.Err);
        var tooMany = Invoke([.. run, "--shard", "1/3"]);
        Assert.Equal(ExitCodes.Usage, tooMany.Code);
        Assert.Contains("3 shards for a run of 2 properties", tooMany.Err);
        var missing = Invoke("merge", Path.Combine(_dir, "s1.json"));
        Assert.Equal(ExitCodes.Usage, missing.Code);
        Assert.Contains("shard 2/2 missing", missing.Err);
    }

    [Fact]
    public void Cli_KtapOnStdout_ReplacesTheTable()
    {
        var (code, output, _) = Invoke("run", "--profile", "x86-32", "--memory", "4M", "--family", "pages", "--sequences", "4", "--max-steps", "8", "--no-db", "--quiet", "--ktap", "-");
        Assert.StartsWith("KTAP version 1\n", output);
        Assert.DoesNotContain("next:", output);
        Assert.DoesNotContain("legend:", output);
        TapReportTests.KtapParser.Parse(output);
        Assert.Equal(output.Contains("\nnot ok ") ? ExitCodes.Failed : ExitCodes.Passed, code);
        var both = Invoke("run", "--tap", "-", "--ktap", "-");
        Assert.Equal(ExitCodes.Usage, both.Code);
        Assert.Contains("both write to stdout", both.Err);
    }

    private static string Table(string output) => string.Join("\n", output.Split('\n').SkipWhile(l => !l.StartsWith("rule ", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("summary:", StringComparison.Ordinal)));

    private static (int Code, string Out, string Err) Invoke(params string[] args) => Hostile.CliHostileTests.Invoke(args);

    private static void AssertSameRows(SuiteResult expected, SuiteResult actual)
    {
        Assert.Equal(expected.Profiles, actual.Profiles);
        Assert.Equal(expected.Results.Count, actual.Results.Count);
        foreach (var (e, a) in expected.Results.Zip(actual.Results))
        {
            Assert.Equal((e.Rule.Id, e.Profile, e.Outcome, e.Checks, e.Reason, e.BlockedBy), (a.Rule.Id, a.Profile, a.Outcome, a.Checks, a.Reason, a.BlockedBy));
            Assert.Equal(e.Counterexample?.ProfileLabel, a.Counterexample?.ProfileLabel);
            Assert.Equal(e.Counterexample?.Seed, a.Counterexample?.Seed);
            Assert.Equal(e.Counterexample?.Trace, a.Counterexample?.Trace);
        }
        Assert.Contains(expected.Results, r => r.Outcome == RuleOutcome.Failed);
    }
}
