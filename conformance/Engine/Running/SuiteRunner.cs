using System.Diagnostics;
using KernelMm.Conformance.Families.Heap;
using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Families.User;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Running;

/// <summary>Where one rule stands on one profile after a run.</summary>
public enum RuleOutcome
{
    Passed,
    Failed,
    /// <summary>The implementation does not declare what the rule needs, or refuses the profile.</summary>
    NotApplicable,
    /// <summary>The catalogue has no executable check yet.</summary>
    Pending,
    /// <summary>Encoded and applicable, but no generated sequence reached its check: a gap in the suite, not a pass.</summary>
    NotExercised,
}

public sealed record RuleResult(Rule Rule, string Profile, RuleOutcome Outcome, long Checks, Counterexample? Counterexample, string? Reason);

/// <summary>Everything a run found, per rule and profile, with the numbers needed to report it.</summary>
public sealed record SuiteResult
{
    public required string Implementation { get; init; }
    public required RunSettings Settings { get; init; }
    public required IReadOnlyList<string> Profiles { get; init; }
    public required IReadOnlyList<ulong> MemorySizes { get; init; }
    public required IReadOnlyList<RuleResult> Results { get; init; }
    public required long Operations { get; init; }
    public required int Sequences { get; init; }
    public required TimeSpan Elapsed { get; init; }
    /// <summary>The CLI arguments that select the implementation (e.g. <c>--impl-command "./buddy"</c>); empty for the reference. Replay commands carry them.</summary>
    public string ImplementationArguments { get; init; } = "";

    public IEnumerable<RuleResult> Failures => Results.Where(r => r.Outcome == RuleOutcome.Failed);
    public bool Passed => Results.All(r => r.Outcome is not (RuleOutcome.Failed or RuleOutcome.NotExercised));
    /// <summary>Rules that failed on at least one profile.</summary>
    public IReadOnlySet<string> FailedRuleIds => Failures.Select(r => r.Rule.Id).ToHashSet();
    /// <summary>Every property run, in order (saved failures first), with its own settings and failures.</summary>
    public IReadOnlyList<PropertyRun> Properties { get; init; } = [];
}

/// <summary>One property, fully determined: family, profile name, RAM size and the settings its sequences derive from.</summary>
public sealed record PropertyKey(string Profile, ulong Memory, string Family, RunSettings Settings)
{
    public string Label => $"{Profile}/{Spec.Profiles.Profile.FormatSize(Memory)}";
}

/// <summary>What one property run found; <paramref name="Rerun"/> when it was a saved failure run first.</summary>
public sealed record PropertyRun(PropertyKey Key, bool Rerun, IReadOnlyList<Counterexample> Failures, long Operations, int Sequences);

/// <summary>A progress event: a property is starting (<paramref name="Finished"/> false) or done, with the run's counts so far.</summary>
public sealed record SuiteProgress(string Family, string ProfileLabel, bool Rerun, bool Finished, int Done, int Total,
    long Checks, long Operations, int Sequences, int Failures);

/// <summary>What to run: profiles, memory sizes, families, rules, effort.</summary>
public sealed record SuiteOptions
{
    public IReadOnlyList<Profile> Profiles { get; init; } = Spec.Profiles.Profiles.All;
    public IReadOnlyList<ulong> MemorySizes { get; init; } = Spec.Profiles.Profiles.StandardMemorySizes;
    /// <summary>Family names to run; empty runs all.</summary>
    public IReadOnlySet<string> Families { get; init; } = new HashSet<string>();
    /// <summary>Rule IDs to report; empty reports all.</summary>
    public IReadOnlySet<string> Rules { get; init; } = new HashSet<string>();
    public RunSettings Settings { get; init; } = new();
    /// <summary>Called after each property with a one-line progress note.</summary>
    public Action<string>? Progress { get; init; }
    /// <summary>Called before and after each property with counts, for live progress displays.</summary>
    public Action<SuiteProgress>? OnProgress { get; init; }
    /// <summary>Properties to run before everything else with their own settings (saved failures); those outside the selected profiles, sizes and families are skipped.</summary>
    public IReadOnlyList<PropertyKey> Reruns { get; init; } = [];
}

/// <summary>Runs every family on every profile and memory size and folds the outcomes into one row per rule and profile.</summary>
public static class SuiteRunner
{
    public static readonly IReadOnlyList<IConformanceFamily> Families = [new PageFamily(), new HeapFamily(), new UserFamily()];

    public static SuiteResult Run(IImplementationFactory factory, SuiteOptions options)
    {
        var clock = Stopwatch.StartNew();
        var rows = new List<RuleResult>();
        long operations = 0;
        int sequences = 0;
        var families = Families.Where(f => options.Families.Count == 0 || options.Families.Contains(f.Name)).ToList();
        var covered = families.SelectMany(f => f.RuleIds).ToHashSet();

        var properties = new List<PropertyRun>();
        var early = new Dictionary<string, (Dictionary<string, long> Checks, Dictionary<string, Counterexample> Failures)>();
        long checksSoFar = 0;
        int done = 0, failuresSoFar = 0;
        var reruns = options.Reruns.Distinct()
            .Where(k => families.Any(f => f.Name == k.Family) && options.Profiles.Any(p => p.Name == k.Profile) && options.MemorySizes.Contains(k.Memory))
            .ToList();
        var rerunWithRunSettings = reruns.Where(k => k.Settings == options.Settings).Select(k => (k.Family, k.Label)).ToHashSet();
        int total = options.Profiles.Count * options.MemorySizes.Count * families.Count + reruns.Count - rerunWithRunSettings.Count;

        IReadOnlySet<Capability>? Probe(Profile profile)
        {
            using var probe = factory.Create(profile);
            if (probe is null) return null;
            ValidateDeclaration(probe);
            return probe.Capabilities;
        }
        void RunProperty(IConformanceFamily family, Profile profile, RunSettings settings, bool rerun,
            Dictionary<string, long> checks, Dictionary<string, Counterexample> failures)
        {
            options.OnProgress?.Invoke(new(family.Name, profile.Label, rerun, false, done, total, checksSoFar, operations, sequences, failuresSoFar));
            var outcome = family.Run(factory, profile, settings, new HashSet<string>());
            foreach (var (rule, n) in outcome.Checks) { checks[rule] = checks.GetValueOrDefault(rule) + n; checksSoFar += n; }
            foreach (var (rule, ce) in outcome.Failures) failures.TryAdd(rule, ce);
            operations += outcome.Operations;
            sequences += outcome.Sequences;
            failuresSoFar += outcome.Failures.Count;
            properties.Add(new PropertyRun(new PropertyKey(profile.Name, profile.PhysicalMemory, family.Name, settings), rerun,
                outcome.Failures.Values.ToList(), outcome.Operations, outcome.Sequences));
            options.Progress?.Invoke($"{family.Name} on {profile.Label}{(rerun ? $" (saved failure, seed {settings.Seed})" : "")}: {outcome.Sequences} sequences, {outcome.Operations} operations, {outcome.Failures.Count} failing rule(s)");
            options.OnProgress?.Invoke(new(family.Name, profile.Label, rerun, true, ++done, total, checksSoFar, operations, sequences, failuresSoFar));
        }

        // Saved failures first, each with the settings it failed with; their findings fold into their profile's rows.
        foreach (var key in reruns)
        {
            var profile = options.Profiles.First(p => p.Name == key.Profile).WithMemory(key.Memory);
            var family = families.First(f => f.Name == key.Family);
            if (!early.TryGetValue(key.Profile, out var found)) early[key.Profile] = found = (new(), new());
            if (Probe(profile) is { } caps && caps.Contains(family.Gate)) RunProperty(family, profile, key.Settings, true, found.Checks, found.Failures);
            else done++;
        }

        foreach (var baseProfile in options.Profiles)
        {
            var (checks, failures) = early.TryGetValue(baseProfile.Name, out var found) ? found : (new(), new());
            IReadOnlySet<Capability>? declared = null;
            foreach (var memory in options.MemorySizes)
            {
                var profile = baseProfile.WithMemory(memory);
                if (Probe(profile) is not { } caps) { done += families.Count(f => !rerunWithRunSettings.Contains((f.Name, profile.Label))); continue; }
                declared = caps;
                foreach (var family in families)
                {
                    if (rerunWithRunSettings.Contains((family.Name, profile.Label))) continue;
                    if (declared.Contains(family.Gate)) RunProperty(family, profile, options.Settings, false, checks, failures);
                    else done++;
                }
            }
            foreach (var rule in RuleCatalogue.All.Where(r => options.Rules.Count == 0 || options.Rules.Contains(r.Id)))
                rows.Add(Classify(rule, baseProfile.Name, declared, WithObserved(covered, checks, failures), checks, failures));
        }
        return new SuiteResult
        {
            Implementation = factory.Name,
            Settings = options.Settings,
            Profiles = options.Profiles.Select(p => p.Name).ToList(),
            MemorySizes = options.MemorySizes,
            Results = rows,
            Operations = operations,
            Sequences = sequences,
            Elapsed = clock.Elapsed,
            Properties = properties,
        };
    }

    /// <summary>A family may check a rule outside its own list (a heap step that frees pages checks PAGE-4): what was observed counts too.</summary>
    private static HashSet<string> WithObserved(HashSet<string> covered, IReadOnlyDictionary<string, long> checks, IReadOnlyDictionary<string, Counterexample> failures) =>
        [.. covered, .. checks.Keys, .. failures.Keys];

    private static RuleResult Classify(Rule rule, string profile, IReadOnlySet<Capability>? declared, HashSet<string> covered,
        Dictionary<string, long> checks, Dictionary<string, Counterexample> failures)
    {
        if (rule.Status != RuleStatus.Encoded)
            return new(rule, profile, RuleOutcome.Pending, 0, null, rule.Check);
        if (declared is null)
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, "the implementation does not support this profile");
        var missing = rule.Requires.Where(c => !declared.Contains(c)).ToList();
        if (missing.Count > 0)
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, $"not declared: {string.Join(", ", missing)}");
        if (!covered.Contains(rule.Id))
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, "its family was not selected for this run");
        long n = checks.GetValueOrDefault(rule.Id);
        if (failures.TryGetValue(rule.Id, out var ce))
            return new(rule, profile, RuleOutcome.Failed, n, ce, null);
        return n > 0
            ? new(rule, profile, RuleOutcome.Passed, n, null, null)
            : new(rule, profile, RuleOutcome.NotExercised, 0, null, "no generated sequence reached this rule's check");
    }

    /// <summary>A declared capability must come with its interface; a mismatch is a setup error, not a rule failure.</summary>
    public static void ValidateDeclaration(IMemoryManager mm)
    {
        foreach (var capability in mm.Capabilities)
            if (Capabilities.InterfaceFor(capability) is { } iface && !iface.IsInstanceOfType(mm))
                throw new InvalidOperationException($"{mm.GetType().Name} declares {capability} but does not implement {iface.Name}");
        if (mm.Capabilities.Contains(Capability.PageAllocator) && mm is not IKernelMemory)
            throw new InvalidOperationException($"{mm.GetType().Name} declares PageAllocator but does not implement IKernelMemory");
    }
}
