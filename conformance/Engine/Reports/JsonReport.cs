using System.Text.Json;
using System.Text.Json.Serialization;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// The run as one JSON document (System.Text.Json, camelCase): implementation, settings,
/// profiles and memory sizes, one entry per rule and profile with its counterexample, every
/// property run, and the summary numbers. Seeds are written as strings: they are 64-bit and
/// JavaScript numbers are not. <see cref="Parse"/> reads it back.
/// </summary>
public static class JsonReport
{
    public const string Schema = "kmm-conformance/result/v1";

    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string Render(SuiteResult result, ReportOptions? options = null) =>
        JsonSerializer.Serialize(Build(result, options ?? new ReportOptions()), SerializerOptions) + "\n";

    public static void Write(SuiteResult result, string path, ReportOptions? options = null) =>
        ReportFile.Write(path, Render(result, options));

    public static ResultDocument Parse(string json) =>
        JsonSerializer.Deserialize<ResultDocument>(json, SerializerOptions) ?? throw new JsonException("empty result document");

    public static ResultDocument Build(SuiteResult result, ReportOptions options)
    {
        var factory = options.FactoryFor(result);
        return new ResultDocument
        {
            Schema = Schema,
            Implementation = result.Implementation,
            ImplementationArguments = result.ImplementationArguments.Length > 0 ? result.ImplementationArguments : null,
            Shard = result.Shard is { } shard ? new ShardDocument(shard.Index, shard.Count) : null,
            GeneratedAt = options.GeneratedAt,
            Passed = result.Passed,
            Seed = result.Settings.Seed,
            Settings = new SettingsDocument(result.Settings.Seed, result.Settings.Sequences, result.Settings.MaxSteps, result.Settings.MaxFailuresPerProperty),
            Profiles = result.Profiles,
            MemorySizes = result.MemorySizes.Select(m => new MemoryDocument(m, Profile.FormatSize(m))).ToList(),
            Results = result.Results.Select(r => new RuleDocument
            {
                Id = r.Rule.Id,
                Family = r.Rule.Family.ToString(),
                Statement = r.Rule.Statement,
                Profile = r.Profile,
                Status = r.Outcome,
                Checks = r.Checks,
                Reason = r.Reason,
                BlockedBy = r.BlockedBy,
                Counterexample = r.Counterexample is { } ce ? Counterexample(result, r, ce, options, factory) : null,
            }).ToList(),
            Properties = result.Properties.Select(p => new PropertyDocument(p.Key.Profile, p.Key.Memory, p.Key.Label, p.Key.Family,
                p.Key.Settings.Seed, p.Key.Settings.Sequences, p.Key.Settings.MaxSteps, p.Rerun,
                p.Failures.Select(f => f.RuleId).ToList(), p.Operations, p.Sequences)).ToList(),
            Summary = new SummaryDocument
            {
                Passed = ReportText.Count(result, RuleOutcome.Passed),
                Failed = ReportText.Count(result, RuleOutcome.Failed),
                Blocked = ReportText.Count(result, RuleOutcome.Blocked),
                NotExercised = ReportText.Count(result, RuleOutcome.NotExercised),
                Pending = ReportText.Count(result, RuleOutcome.Pending),
                NotApplicable = ReportText.Count(result, RuleOutcome.NotApplicable),
                Sequences = result.Sequences,
                Operations = result.Operations,
                ElapsedSeconds = Math.Round(result.Elapsed.TotalSeconds, 3),
                OperationsPerSecond = Math.Round(ReportText.OpsPerSecond(result), 1),
                CpuSeconds = Math.Round(result.CpuTime.TotalSeconds, 3),
                OperationsPerCpuSecond = Math.Round(ReportText.OpsPerCpuSecond(result), 1),
            },
        };
    }

    private static CounterexampleDocument Counterexample(SuiteResult result, RuleResult row, Counterexample ce, ReportOptions options, FactoryCode factory) => new()
    {
        RuleId = ce.RuleId,
        Message = ce.Message,
        ProfileLabel = ce.ProfileLabel,
        Family = ce.Family,
        Seed = ce.Seed,
        RunSeed = Replay.SettingsFor(result, ce).Seed,
        OriginalSteps = ce.OriginalSteps,
        ShrunkSteps = ce.ShrunkSteps,
        Trace = ce.Trace,
        CSharp = ce.CSharp,
        Reproducible = ce.Reproducible,
        BlockedBy = ce.BlockedBy,
        StepType = ce.StepType,
        StepNamespaces = ce.StepNamespaces,
        Steps = ce.Steps,
        Replay = Replay.Command(result, ce, options.ReplayPrefix),
        // A blocked check's observation replays into a failure of the blocking rule first: no regression test for it.
        Xunit = ce.BlockedBy is null ? XunitSnippet.Render(ce, factory, Replay.Command(result, ce, options.ReplayPrefix), row.Rule.Statement) : null,
    };
}

public sealed record ResultDocument
{
    public required string Schema { get; init; }
    public required string Implementation { get; init; }
    /// <summary>The command-line arguments that chose the implementation (<c>--impl-command ...</c>); absent for the reference.</summary>
    public string? ImplementationArguments { get; init; }
    /// <summary>Set when the run was one shard (<c>--shard i/n</c>); <c>merge</c> combines the shards into one result.</summary>
    public ShardDocument? Shard { get; init; }
    public DateTimeOffset? GeneratedAt { get; init; }
    /// <summary>True when every applicable rule passed (exit code 0).</summary>
    public required bool Passed { get; init; }
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public required ulong Seed { get; init; }
    public required SettingsDocument Settings { get; init; }
    public required IReadOnlyList<string> Profiles { get; init; }
    public required IReadOnlyList<MemoryDocument> MemorySizes { get; init; }
    /// <summary>One entry per rule and profile.</summary>
    public required IReadOnlyList<RuleDocument> Results { get; init; }
    /// <summary>Every property run (family x profile x RAM size), saved failures first.</summary>
    public IReadOnlyList<PropertyDocument> Properties { get; init; } = [];
    public required SummaryDocument Summary { get; init; }
}

public sealed record SettingsDocument(
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] ulong Seed,
    int Sequences, int MaxSteps, int MaxFailuresPerProperty);

public sealed record MemoryDocument(ulong Bytes, string Label);

/// <summary>Shard <paramref name="Index"/> of <paramref name="Count"/> (1-based).</summary>
public sealed record ShardDocument(int Index, int Count);

public sealed record RuleDocument
{
    public required string Id { get; init; }
    public required string Family { get; init; }
    public required string Statement { get; init; }
    public required string Profile { get; init; }
    /// <summary>passed, failed, blocked, notApplicable, pending or notExercised.</summary>
    public required RuleOutcome Status { get; init; }
    public long Checks { get; init; }
    public string? Reason { get; init; }
    /// <summary>For a blocked rule: the failed rule that blocked it.</summary>
    public string? BlockedBy { get; init; }
    public CounterexampleDocument? Counterexample { get; init; }
}

public sealed record CounterexampleDocument
{
    public required string RuleId { get; init; }
    public required string Message { get; init; }
    public required string ProfileLabel { get; init; }
    public required string Family { get; init; }
    /// <summary>The property's seed (FsCheck's replay seed), derived from the run seed and the property's name.</summary>
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public required ulong Seed { get; init; }
    /// <summary>The run seed to pass to <c>--replay</c>.</summary>
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public required ulong RunSeed { get; init; }
    public required int OriginalSteps { get; init; }
    public required int ShrunkSteps { get; init; }
    /// <summary>The shrunk sequence, one kernel-style line per step.</summary>
    public required IReadOnlyList<string> Trace { get; init; }
    /// <summary>The same steps as C#.</summary>
    public required IReadOnlyList<string> CSharp { get; init; }
    /// <summary>False when the failure did not happen again on replay: <see cref="Message"/> is the first observation.</summary>
    public bool Reproducible { get; init; } = true;
    /// <summary>Set on a blocked rule's observation: the masked rule that had failed earlier in the same sequence.</summary>
    public string? BlockedBy { get; init; }
    /// <summary>The shrunk steps as C# expressions of <see cref="StepType"/>, for the replay API.</summary>
    public string StepType { get; init; } = "";
    /// <summary>The namespaces <see cref="Steps"/> need (usings of a printed test), so a result read back (<c>merge</c>) prints the same tests.</summary>
    public IReadOnlyList<string> StepNamespaces { get; init; } = [];
    public IReadOnlyList<string> Steps { get; init; } = [];
    public required string Replay { get; init; }
    /// <summary>A ready-to-paste xunit test file (none for a blocked rule's observation).</summary>
    public string? Xunit { get; init; }
}

public sealed record PropertyDocument(string Profile, ulong Memory, string Label, string Family,
    [property: JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)] ulong Seed,
    int Sequences, int MaxSteps, bool Rerun, IReadOnlyList<string> FailedRules, long Operations, int SequencesRun);

public sealed record SummaryDocument
{
    public int Passed { get; init; }
    public int Failed { get; init; }
    public int Blocked { get; init; }
    public int NotExercised { get; init; }
    public int Pending { get; init; }
    public int NotApplicable { get; init; }
    public int Sequences { get; init; }
    public long Operations { get; init; }
    public double ElapsedSeconds { get; init; }
    public double OperationsPerSecond { get; init; }
    /// <summary>CPU time the runner's process used during the run (all threads), in seconds.</summary>
    public double CpuSeconds { get; init; }
    /// <summary>Checked operations per second of the runner's CPU time: comparable on a busy machine, where wall time is not.</summary>
    public double OperationsPerCpuSecond { get; init; }
}
