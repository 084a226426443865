using System.CommandLine;
using KernelMm.Conformance.Cli.Execution;
using KernelMm.Conformance.Cli.Options;
using KernelMm.Conformance.Running;
using KernelMm.Conformance.Sharding;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary>
/// <c>run</c>: the conformance suite against one implementation, a table per rule and profile, and
/// the report files asked for. Every option is parsed and checked against the others (and against
/// every selected profile) before anything runs: a bad value is exit code 2 with the reason.
/// </summary>
public sealed class RunCommand : ICliCommand
{
    public Option<IReadOnlyList<Profile>> Profile { get; } = OptionFactory.Repeated<IReadOnlyList<Profile>>("--profile",
        $"Profiles to run, repeated or comma-separated: {string.Join(", ", Profiles.Named.Select(p => p.Name))} (default: {string.Join(", ", Profiles.All.Select(p => p.Name))}).",
        "NAME", (t, o) => Values.ProfileList(t, o));

    public Option<IReadOnlyList<ulong>> Memory { get; } = OptionFactory.Repeated<IReadOnlyList<ulong>>("--memory",
        $"RAM sizes, e.g. 64M,512M,1G,2G (the default). Each must be a multiple of every selected profile's maximum-order block, " +
        $"at most {Spec.Profiles.Profile.FormatSize(RunLimits.MaxMemory32)} on 32-bit and {Spec.Profiles.Profile.FormatSize(RunLimits.MaxMemory64)} on 64-bit profiles.",
        "SIZE[,SIZE...]", (t, o) => Values.Sizes(t, o));

    public Option<ulong?> Seed { get; } = OptionFactory.Single<ulong?>("--seed",
        "Run seed (0 to 2^64-1); every failure prints the command that replays it (default: 1).", "N",
        (t, o) => Values.Seed(t, o) is var p && p.Ok ? p.Value : Values.Parsed<ulong?>.Fail(p.Error!));

    public Option<ulong?> Replay { get; } = OptionFactory.Single<ulong?>("--replay",
        "As --seed, and print a ready-to-paste xunit test under each failure.", "N",
        (t, o) => Values.Seed(t, o) is var p && p.Ok ? p.Value : Values.Parsed<ulong?>.Fail(p.Error!));

    public Option<int> Sequences { get; } = OptionFactory.Single("--sequences",
        $"Generated sequences per family, profile and memory size (1 to {RunLimits.MaxSequences:N0}).", "N",
        (t, o) => Values.Count(t, o, 1, RunLimits.MaxSequences), () => new RunSettings().Sequences);

    public Option<int> MaxSteps { get; } = OptionFactory.Single("--max-steps",
        $"Longest generated sequence (1 to {RunLimits.MaxSteps:N0}).", "N",
        (t, o) => Values.Count(t, o, 1, RunLimits.MaxSteps), () => new RunSettings().MaxSteps);

    public Option<IReadOnlySet<string>> Family { get; } = OptionFactory.Repeated<IReadOnlySet<string>>("--family",
        $"Only these families: {string.Join(", ", SuiteRunner.Families.Select(f => f.Name))} (default: all).", "NAME",
        (t, o) => Values.NameSet(t, o, "family", SuiteRunner.Families.Select(f => f.Name).ToList()));

    public Option<IReadOnlySet<string>> Rule { get; } = OptionFactory.Repeated<IReadOnlySet<string>>("--rule",
        "Only report these rule IDs, e.g. PAGE-4 (the rules command lists them).", "ID", (t, o) => Values.RuleSet(t, o));

    public Option<string?> JUnit { get; } = OutputOption("--junit", "Also write JUnit XML (one testsuite per profile) to PATH.");
    public Option<string?> Json { get; } = OutputOption("--json", "Also write the whole result as JSON to PATH.");
    public Option<string?> Html { get; } = OutputOption("--html", "Also write a self-contained HTML report to PATH.");
    public Option<string?> Tap { get; } = StreamOption("--tap", "Also write TAP version 13 (one test point per rule and profile) to PATH; '-' writes it to stdout instead of the table.");
    public Option<string?> Ktap { get; } = StreamOption("--ktap", "Also write KTAP version 1, the kernel's test format (a test per profile, a subtest per rule), to PATH; '-' writes it to stdout instead of the table.");
    public Option<Shard?> ShardOption { get; } = OptionFactory.Single<Shard?>("--shard",
        $"Run only shard I of N (1 to {Shard.MaxCount:N0}): the run's properties (family x profile x RAM size) are dealt round robin; " +
        "each shard's --json goes to 'merge', which gives the whole run's result. For a CI job matrix.", "I/N",
        (t, o) => Shard.Parse(t, out var error) is { } shard ? shard : Values.Parsed<Shard?>.Fail($"{o}: {error}"));
    public Option<string?> Db { get; } = OutputOption("--db",
        $"Failing-seed database: saved failures are re-run first, fixed ones dropped (default: {FailureDatabase.DefaultPath}).");
    public Option<bool> NoDb { get; } = OptionFactory.Flag("--no-db", "Neither read nor write the failing-seed database.");
    public Option<bool> Quiet { get; } = OptionFactory.Flag("--quiet", "No progress display on stderr.");
    public ImplementationOptions Implementation { get; } = new();

    private static Option<string?> OutputOption(string name, string description) =>
        OptionFactory.Single<string?>(name, description, "PATH", (t, o) => Values.OutputPath(t, o) is var p && p.Ok ? p.Value : Values.Parsed<string?>.Fail(p.Error!));

    /// <summary>A report file, or '-' for stdout.</summary>
    internal static Option<string?> StreamOption(string name, string description) =>
        OptionFactory.Single<string?>(name, description, "PATH", (t, o) => t == RunRequest.Stdout ? RunRequest.Stdout : Values.OutputPath(t, o) is var p && p.Ok ? p.Value : Values.Parsed<string?>.Fail(p.Error!));

    public Command Build()
    {
        var command = new Command("run", "Run the conformance suite against an implementation (the reference unless told otherwise) and print a table per rule and profile.");
        foreach (var option in new Option[] { Profile, Memory, Seed, Replay, Sequences, MaxSteps, Family, Rule, JUnit, Json, Html, Tap, Ktap, ShardOption, Db, NoDb, Quiet })
            command.Options.Add(option);
        foreach (var option in Implementation.All) command.Options.Add(option);
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var (request, errors) = Read(parse);
            if (request is null) return KmmConformance.UsageErrors(parse, errors);
            return new RunExecutor(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error).Run(request);
        }));
        return command;
    }

    /// <summary>The validated request, or every reason the options cannot be used together. Nothing is run.</summary>
    public (RunRequest? Request, List<string> Errors) Read(ParseResult parse)
    {
        var (implementation, errors) = Implementation.Read(parse);
        var profiles = parse.GetValue(Profile) is { Count: > 0 } p ? p : Profiles.All;
        var memory = parse.GetValue(Memory) is { Count: > 0 } m ? m : Profiles.StandardMemorySizes;
        foreach (var size in memory)
        {
            // One line per size: its first problem, and how many other selected profiles refuse it too.
            var problems = profiles.Select(profile => RunLimits.CheckMemory(profile, size)).OfType<string>().ToList();
            if (problems.Count > 0)
                errors.Add($"--memory: {problems[0]}{(problems.Count > 1 ? $" (and {problems.Count - 1} other selected profile{(problems.Count > 2 ? "s" : "")} cannot take it either)" : "")}");
        }

        ulong? seed = parse.GetValue(Seed), replay = parse.GetValue(Replay);
        if (seed is not null && replay is not null && seed != replay)
            errors.Add($"--seed {seed} and --replay {replay} disagree; --replay is --seed plus an xunit test per failure");
        var settings = new RunSettings { Seed = replay ?? seed ?? new RunSettings().Seed, Sequences = parse.GetValue(Sequences), MaxSteps = parse.GetValue(MaxSteps) };
        if (RunLimits.Check(settings) is { } limits) errors.Add(limits);

        bool noDb = parse.GetValue(NoDb);
        string? db = parse.GetValue(Db);
        if (noDb && db is not null) errors.Add("--db and --no-db exclude each other");
        db = noDb ? null : db ?? FailureDatabase.DefaultPath;

        var outputs = new (string Option, string? Path)[] { ("--junit", parse.GetValue(JUnit)), ("--json", parse.GetValue(Json)), ("--html", parse.GetValue(Html)),
            ("--tap", parse.GetValue(Tap)), ("--ktap", parse.GetValue(Ktap)), ("--db", db) };
        foreach (var clash in outputs.Where(o => o.Path is not null).GroupBy(o => o.Path == RunRequest.Stdout ? RunRequest.Stdout : Path.GetFullPath(o.Path!)).Where(g => g.Count() > 1))
            errors.Add(clash.Key == RunRequest.Stdout
                ? $"{string.Join(" and ", clash.Select(o => o.Option))} both write to stdout ('-'): one of them can"
                : $"{string.Join(" and ", clash.Select(o => o.Option))} name the same file {clash.First().Path}: each needs its own");

        var shard = parse.GetValue(ShardOption);
        if (shard is not null)
        {
            var families = parse.GetValue(Family) ?? new HashSet<string>();
            if (Shard.CheckCount(shard.Count, Shard.Plan(profiles, memory, families).Count) is { } tooMany) errors.Add($"--shard: {tooMany}");
        }

        if (errors.Count > 0 || implementation is null) return (null, errors);
        return (new RunRequest
        {
            Implementation = implementation,
            Profiles = profiles,
            MemorySizes = memory,
            Families = parse.GetValue(Family) ?? new HashSet<string>(),
            Rules = parse.GetValue(Rule) ?? new HashSet<string>(),
            Settings = settings,
            XunitSnippets = replay is not null,
            JUnitPath = parse.GetValue(JUnit),
            JsonPath = parse.GetValue(Json),
            HtmlPath = parse.GetValue(Html),
            TapPath = parse.GetValue(Tap),
            KtapPath = parse.GetValue(Ktap),
            Shard = shard,
            DatabasePath = db,
            Quiet = parse.GetValue(Quiet),
        }, errors);
    }
}

/// <summary>A run, every value checked.</summary>
public sealed record RunRequest
{
    public required ImplementationChoice Implementation { get; init; }
    public required IReadOnlyList<Profile> Profiles { get; init; }
    public required IReadOnlyList<ulong> MemorySizes { get; init; }
    public required IReadOnlySet<string> Families { get; init; }
    public required IReadOnlySet<string> Rules { get; init; }
    public required RunSettings Settings { get; init; }
    public bool XunitSnippets { get; init; }
    public string? JUnitPath { get; init; }
    public string? JsonPath { get; init; }
    public string? HtmlPath { get; init; }
    /// <summary>TAP version 13 to this file, or to stdout for <see cref="Stdout"/>.</summary>
    public string? TapPath { get; init; }
    /// <summary>KTAP version 1 to this file, or to stdout for <see cref="Stdout"/>.</summary>
    public string? KtapPath { get; init; }
    /// <summary>Run only this shard of the run's properties.</summary>
    public Shard? Shard { get; init; }
    /// <summary>The path that means stdout for --tap and --ktap.</summary>
    public const string Stdout = "-";
    /// <summary>Whether a TAP or KTAP report replaces the table on stdout.</summary>
    public bool StreamsToStdout => TapPath == Stdout || KtapPath == Stdout;
    /// <summary>The failure database, or null for --no-db.</summary>
    public string? DatabasePath { get; init; }
    public bool Quiet { get; init; }
}
