using System.Text.Json;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Sharding;

/// <summary>
/// Reads a result written by <c>--json</c> back into a <see cref="SuiteResult"/>, so that shards
/// run on other machines can be merged (<see cref="ResultMerge"/>) and reported again with every
/// report (console, JSON, JUnit, HTML, TAP, KTAP). Replay commands are rebuilt from the document,
/// so they come out as the run printed them (with the merging program's own prefix).
/// </summary>
public static class ResultDocuments
{
    /// <summary>Largest result file read (a run's JSON is a few MiB at most).</summary>
    public const long MaxBytes = 256L << 20;

    /// <summary>Reads and converts the file. Errors: <see cref="InvalidDataException"/> saying what is wrong with it.</summary>
    public static SuiteResult Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new InvalidDataException($"{path}: no such file");
        if (info.Length > MaxBytes) throw new InvalidDataException($"{path}: {info.Length:N0} bytes, larger than any result ({MaxBytes:N0})");
        ResultDocument doc;
        try { doc = JsonReport.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a kmm-conformance JSON result ({e.Message})"); }
        try { return ToResult(doc); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
    }

    /// <summary>The result a document describes. Errors: <see cref="InvalidDataException"/> for another schema or a rule this version does not know.</summary>
    public static SuiteResult ToResult(ResultDocument doc)
    {
        if (doc.Schema != JsonReport.Schema)
            throw new InvalidDataException($"schema '{doc.Schema}', this version reads '{JsonReport.Schema}'");
        if (doc.Settings is null || doc.Results is null || doc.Profiles is null || doc.MemorySizes is null || doc.Summary is null)
            throw new InvalidDataException("a required part (settings, results, profiles, memorySizes or summary) is missing");
        var unknown = doc.Results.Select(r => r.Id).Where(id => !RuleCatalogue.Contains(id)).Distinct().ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"rule{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Take(5))} not in this version's catalogue: merge with the version that ran it");
        var settings = new RunSettings
        {
            Seed = doc.Settings.Seed,
            Sequences = doc.Settings.Sequences,
            MaxSteps = doc.Settings.MaxSteps,
            MaxFailuresPerProperty = doc.Settings.MaxFailuresPerProperty,
        };
        if (RunLimits.Check(settings) is { } bad) throw new InvalidDataException($"settings outside the limits: {bad}");

        var rows = doc.Results.Select(r => new RuleResult(RuleCatalogue.Get(r.Id), r.Profile, r.Status, r.Checks,
            r.Counterexample is { } ce ? Counterexample(ce) : null, r.Reason) { BlockedBy = r.BlockedBy }).ToList();
        var failures = rows.Where(r => r.Counterexample is not null).Select(r => (Row: r, RunSeed: doc.Results.First(d => d.Id == r.Rule.Id && d.Profile == r.Profile).Counterexample!.RunSeed)).ToList();
        var properties = (doc.Properties ?? []).Select(p =>
        {
            var key = new PropertyKey(p.Profile, p.Memory, p.Family, settings with { Seed = p.Seed, Sequences = p.Sequences, MaxSteps = p.MaxSteps });
            var found = failures.Where(f => f.RunSeed == p.Seed && f.Row.Counterexample!.ProfileLabel == p.Label && f.Row.Counterexample.Family == p.Family
                                            && p.FailedRules.Contains(f.Row.Counterexample.RuleId))
                .Select(f => f.Row.Counterexample!).ToList();
            return new PropertyRun(key, p.Rerun, found, p.Operations, p.SequencesRun);
        }).ToList();
        return new SuiteResult
        {
            Implementation = doc.Implementation,
            ImplementationArguments = doc.ImplementationArguments ?? "",
            Settings = settings,
            Profiles = doc.Profiles,
            MemorySizes = doc.MemorySizes.Select(m => m.Bytes).ToList(),
            Results = rows,
            Operations = doc.Summary.Operations,
            Sequences = doc.Summary.Sequences,
            Elapsed = TimeSpan.FromSeconds(Math.Max(0, doc.Summary.ElapsedSeconds)),
            Properties = properties,
            Shard = doc.Shard is { } s ? Shard.Parse($"{s.Index}/{s.Count}", out var error) ?? throw new InvalidDataException($"shard: {error}") : null,
        };
    }

    private static Counterexample Counterexample(CounterexampleDocument ce) => new()
    {
        RuleId = ce.RuleId,
        Message = ce.Message,
        ProfileLabel = ce.ProfileLabel,
        Family = ce.Family,
        Seed = ce.Seed,
        OriginalSteps = ce.OriginalSteps,
        ShrunkSteps = ce.ShrunkSteps,
        Trace = ce.Trace ?? [],
        CSharp = ce.CSharp ?? [],
        Reproducible = ce.Reproducible,
        BlockedBy = ce.BlockedBy,
        StepType = ce.StepType ?? "",
        Steps = ce.Steps ?? [],
        StepNamespaces = ce.StepNamespaces ?? [],
    };
}
