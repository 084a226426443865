using System.Diagnostics;
using KernelMm.Conformance.Families.Heap;
using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Families.User;
using KernelMm.Conformance.Families.Vm;
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
    /// <summary>
    /// No verdict, because another rule (<see cref="RuleResult.BlockedBy"/>) failed first: the
    /// rule's check failed only in sequences where that rule had already failed (so it may be broken,
    /// or it may be a consequence), or it was never reached because every sequence that could have
    /// reached it was cut short by that failure. Never a pass: fix the blocking rule and run again.
    /// </summary>
    Blocked,
}

public sealed record RuleResult(Rule Rule, string Profile, RuleOutcome Outcome, long Checks, Counterexample? Counterexample, string? Reason)
{
    /// <summary>For <see cref="RuleOutcome.Blocked"/>: the failed rule that blocked this one.</summary>
    public string? BlockedBy { get; init; }
}

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
    /// <summary>
    /// CPU time this process used during the run (every thread: the engine, the checks, an in-process
    /// implementation, the runner's side of the protocol; not a program's own CPU). On a shared machine
    /// operations per CPU-second say what the run costs, where wall time says how busy the machine was.
    /// </summary>
    public TimeSpan CpuTime { get; init; }
    /// <summary>The CLI arguments that select the implementation (e.g. <c>--impl-command "./buddy"</c>); empty for the reference. Replay commands carry them.</summary>
    public string ImplementationArguments { get; init; } = "";

    public IEnumerable<RuleResult> Failures => Results.Where(r => r.Outcome == RuleOutcome.Failed);
    /// <summary>Rules with no verdict because another rule failed first.</summary>
    public IEnumerable<RuleResult> Blocked => Results.Where(r => r.Outcome == RuleOutcome.Blocked);
    public bool Passed => Results.All(r => r.Outcome is not (RuleOutcome.Failed or RuleOutcome.NotExercised or RuleOutcome.Blocked));
    /// <summary>Rules that failed on at least one profile.</summary>
    public IReadOnlySet<string> FailedRuleIds => Failures.Select(r => r.Rule.Id).ToHashSet();
    /// <summary>Every property run, in order (saved failures first), with its own settings and failures.</summary>
    public IReadOnlyList<PropertyRun> Properties { get; init; } = [];
    /// <summary>Set when this is one shard of a run (<c>--shard i/n</c>): its rows cover only its own properties until merged.</summary>
    public Sharding.Shard? Shard { get; init; }
    /// <summary>The factory that was judged, for reports that print code building it again (see <c>Reports.FactoryCode</c>).</summary>
    public IImplementationFactory? Factory { get; init; }
}

/// <summary>One property, fully determined: family, profile name, RAM size and the settings its sequences derive from.</summary>
public sealed record PropertyKey(string Profile, ulong Memory, string Family, RunSettings Settings)
{
    public string Label => $"{Profile}/{Spec.Profiles.Profile.FormatSize(Memory)}";
}

/// <summary>What one property run found; <paramref name="Rerun"/> when it was a saved failure run first.</summary>
public sealed record PropertyRun(PropertyKey Key, bool Rerun, IReadOnlyList<Counterexample> Failures, long Operations, int Sequences);

/// <summary>
/// A progress event: a property is starting (<paramref name="Finished"/> false) or done, with the
/// run's counts so far, in the summary's units: <paramref name="Operations"/> checked operations,
/// <paramref name="Sequences"/> sequences, and <paramref name="Failures"/> failed rules counted as the
/// summary counts them (rule x profile, only the rules the run reports).
/// <paramref name="Checks"/> is the number of checks made (the sum of the "pass N" figures).
/// </summary>
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
    /// <summary>
    /// Properties run at once. Null: what the factory allows (<see cref="IConcurrentFactory"/>; one
    /// for any other). Results do not depend on it: each property derives from its own seed, and the
    /// outcomes are folded in the same order whatever order they finish in.
    /// </summary>
    public int? Parallelism { get; init; }
    /// <summary>
    /// Which of the selected properties (family x profile x RAM size, keyed with <see cref="Settings"/>) to run; null runs
    /// all. The rest are left out as if nothing reached their rules there: one shard of a run (<see cref="Sharding.Shard"/>),
    /// whose results <see cref="Sharding.ResultMerge"/> folds together with the other shards'.
    /// </summary>
    public Func<PropertyKey, bool>? Include { get; init; }
    /// <summary>
    /// Only these rules are judged; null judges every rule. The other rules' checks still run, masked
    /// from the first step (see <see cref="Checking.CheckScope"/>): their failures are neither reported
    /// nor shrunk, but a sequence in which one of them fails has diverged from the model, so a later
    /// failure of a focused rule is Blocked by it, never a false failure. What <c>dotnet test --filter</c>
    /// on one rule test of the specification-test package runs.
    /// </summary>
    public IReadOnlySet<string>? Focus { get; init; }
}

/// <summary>Runs every family on every profile and memory size and folds the outcomes into one row per rule and profile.</summary>
public static class SuiteRunner
{
    /// <summary>
    /// Every family; the parallel ones (atomic, smp: conformance/Engine/Parallel) run for implementations
    /// declaring AtomicT or Smp: in-process, or out of process on protocol 5's CPU lanes.
    /// </summary>
    public static readonly IReadOnlyList<IConformanceFamily> Families =
        [new PageFamily(), new HeapFamily(), new VmFamily(), new UserFamily(), new Parallel.Atomic.AtomicFamily(), new Parallel.Smp.SmpFamily()];

    public static SuiteResult Run(IImplementationFactory factory, SuiteOptions options)
    {
        var clock = Stopwatch.StartNew();
        var cpuAtStart = ProcessCpu();
        var rows = new List<RuleResult>();
        long operations = 0;
        int sequences = 0;
        var families = Families.Where(f => options.Families.Count == 0 || options.Families.Contains(f.Name)).ToList();
        var covered = families.SelectMany(f => f.RuleIds).ToHashSet();

        var properties = new List<PropertyRun>();
        var early = new Dictionary<string, Found>();
        var failedSoFar = new HashSet<(string Rule, string Profile)>();
        long checksSoFar = 0;
        int done = 0;
        bool Reported(string rule) => options.Rules.Count == 0 || options.Rules.Contains(rule);
        var reruns = options.Reruns.Distinct()
            .Where(k => families.Any(f => f.Name == k.Family) && options.Profiles.Any(p => p.Name == k.Profile) && options.MemorySizes.Contains(k.Memory))
            .ToList();
        var rerunWithRunSettings = reruns.Where(k => k.Settings == options.Settings).Select(k => (k.Family, k.Label)).ToHashSet();
        int total = options.Profiles.Count * options.MemorySizes.Count * families.Count + reruns.Count - rerunWithRunSettings.Count;

        IReadOnlySet<Capability>? Probe(Profile profile)
        {
            using var probe = factory.Create(profile);
            if (probe is null) return null;
            ValidateDeclaration(probe, profile);
            return probe.Capabilities;
        }
        // Plan: which properties run, in report order (the probes boot each profile once, in order).
        var jobs = new List<(IConformanceFamily Family, Profile Profile, RunSettings Settings, bool Rerun, string Row)>();
        var declaredByProfile = new Dictionary<string, IReadOnlySet<Capability>?>();
        foreach (var key in reruns)
        {
            var profile = options.Profiles.First(p => p.Name == key.Profile).WithMemory(key.Memory);
            var family = families.First(f => f.Name == key.Family);
            if (Probe(profile) is { } caps && Runs(family, caps)) jobs.Add((family, profile, key.Settings, true, key.Profile));
            else done++;
        }
        foreach (var baseProfile in options.Profiles)
        {
            IReadOnlySet<Capability>? declared = null;
            foreach (var memory in options.MemorySizes)
            {
                var profile = baseProfile.WithMemory(memory);
                if (Probe(profile) is not { } caps) { done += families.Count(f => !rerunWithRunSettings.Contains((f.Name, profile.Label))); continue; }
                declared = caps;
                foreach (var family in families)
                {
                    if (rerunWithRunSettings.Contains((family.Name, profile.Label))) continue;
                    if (Runs(family, declared) && (options.Include?.Invoke(new PropertyKey(profile.Name, memory, family.Name, options.Settings)) ?? true))
                        jobs.Add((family, profile, options.Settings, false, baseProfile.Name));
                    else done++;
                }
            }
            declaredByProfile[baseProfile.Name] = declared;
        }

        // Run: one property per worker; progress is reported as properties start and finish, in the summary's units.
        IReadOnlySet<string> masked = options.Focus is { } focus
            ? RuleCatalogue.All.Select(r => r.Id).Where(id => !focus.Contains(id)).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>();
        var outcomes = new FamilyOutcome[jobs.Count];
        var gate = new object();
        void RunJob(int i)
        {
            var (family, profile, settings, rerun, _) = jobs[i];
            lock (gate) options.OnProgress?.Invoke(new(family.Name, profile.Label, rerun, false, done, total, checksSoFar, operations, sequences, failedSoFar.Count));
            var outcome = outcomes[i] = family.Run(factory, profile, settings, masked);
            lock (gate)
            {
                checksSoFar += outcome.Checks.Values.Sum();
                operations += outcome.Operations;
                sequences += outcome.Sequences;
                foreach (var rule in outcome.Failures.Keys)
                    if (Reported(rule) && RuleCatalogue.Contains(rule)) failedSoFar.Add((rule, profile.Name));
                options.Progress?.Invoke($"{family.Name} on {profile.Label}{(rerun ? $" (saved failure, seed {settings.Seed})" : "")}: {outcome.Sequences} sequences, {outcome.Operations} checked operations, {outcome.Failures.Count} failing rule(s)");
                options.OnProgress?.Invoke(new(family.Name, profile.Label, rerun, true, ++done, total, checksSoFar, operations, sequences, failedSoFar.Count));
            }
        }
        int parallelism = Math.Max(1, options.Parallelism ?? (factory is IConcurrentFactory concurrent ? concurrent.MaxConcurrency : 1));
        if (parallelism == 1 || jobs.Count < 2) for (int i = 0; i < jobs.Count; i++) RunJob(i);
        else System.Threading.Tasks.Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, RunJob);

        // Fold, in plan order: saved failures first, then each profile's sizes and families.
        for (int i = 0; i < jobs.Count; i++)
        {
            var (family, profile, settings, rerun, row) = jobs[i];
            var outcome = outcomes[i];
            if (!early.TryGetValue(row, out var found)) early[row] = found = new Found();
            foreach (var (rule, n) in outcome.Checks) found.Checks[rule] = found.Checks.GetValueOrDefault(rule) + n;
            foreach (var (rule, ce) in outcome.Failures) found.Failures.TryAdd(rule, ce);
            foreach (var (rule, ce) in outcome.Blocked) found.Blocked.TryAdd(rule, ce);
            foreach (var (rule, n) in outcome.CutShort) found.CutShort[rule] = found.CutShort.GetValueOrDefault(rule) + n;
            properties.Add(new PropertyRun(new PropertyKey(profile.Name, profile.PhysicalMemory, family.Name, settings), rerun,
                outcome.Failures.Values.ToList(), outcome.Operations, outcome.Sequences));
        }
        foreach (var baseProfile in options.Profiles)
        {
            var found = early.TryGetValue(baseProfile.Name, out var saved) ? saved : new Found();
            var declared = declaredByProfile[baseProfile.Name];
            foreach (var rule in RuleCatalogue.All.Where(r => options.Rules.Count == 0 || options.Rules.Contains(r.Id)))
                rows.Add(Classify(rule, baseProfile.Name, declared, WithObserved(covered, found), found));
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
            CpuTime = ProcessCpu() - cpuAtStart,
            Properties = properties,
            Factory = factory,
        };
    }

    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>
    /// A family runs when the implementation declares its gate and at least one of its encoded rules
    /// is applicable: a family whose every rule would be n/a is not run at all (a page-only program
    /// is not sent the heap family's sequences).
    /// </summary>
    public static bool Runs(IConformanceFamily family, IReadOnlySet<Capability> declared) =>
        family.Needs.All(declared.Contains)
        && family.RuleIds.Any(id => RuleCatalogue.All.FirstOrDefault(r => r.Id == id) is { Status: RuleStatus.Encoded } rule
                                    && Requirements.Met(rule, declared));

    /// <summary>What the properties of one profile found, over its memory sizes.</summary>
    private sealed class Found
    {
        public Dictionary<string, long> Checks { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Counterexample> Failures { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Counterexample> Blocked { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, int> CutShort { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A family may check a rule outside its own list (a heap step that frees pages checks PAGE-4): what was observed counts too.</summary>
    private static HashSet<string> WithObserved(HashSet<string> covered, Found found) =>
        [.. covered, .. found.Checks.Keys, .. found.Failures.Keys, .. found.Blocked.Keys];

    /// <summary>
    /// One rule on one profile. Failed wins; then Blocked (its check failed only after another rule's
    /// failure); then Passed when checks ran; with no check at all, Blocked when sequences were cut
    /// short by a failed rule (it may have been reached there), else NotExercised.
    /// </summary>
    private static RuleResult Classify(Rule rule, string profile, IReadOnlySet<Capability>? declared, HashSet<string> covered, Found found)
    {
        var (checks, failures) = (found.Checks, found.Failures);
        if (rule.Status != RuleStatus.Encoded)
            return new(rule, profile, RuleOutcome.Pending, 0, null, rule.Check);
        if (declared is null)
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, "the implementation does not support this profile");
        if (Requirements.Missing(rule, declared) is { } missing)
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, $"not declared: {missing}"
                + (Requirements.MissingCapabilities(rule, declared).Any(c => c is Capability.AtomicT or Capability.Smp) ? " (checked in parallel: in-process, or over protocol 5's CPU lanes: docs/protocol.md, \"CPU lanes\")" : ""));
        if (Unjudgeable(rule, declared) is { } why)
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, why);
        if (!covered.Contains(rule.Id))
            return new(rule, profile, RuleOutcome.NotApplicable, 0, null, "its family was not selected for this run");
        long n = checks.GetValueOrDefault(rule.Id);
        if (failures.TryGetValue(rule.Id, out var ce))
            return new(rule, profile, RuleOutcome.Failed, n, ce, null);
        if (found.Blocked.TryGetValue(rule.Id, out var hidden))
            return new(rule, profile, RuleOutcome.Blocked, n, hidden,
                $"blocked by {hidden.BlockedBy}: its check failed only after {hidden.BlockedBy} had failed in the same sequence " +
                $"({n} checks held elsewhere), so whether {rule.Id} itself is broken cannot be told until {hidden.BlockedBy} is fixed")
            { BlockedBy = hidden.BlockedBy };
        if (n > 0) return new(rule, profile, RuleOutcome.Passed, n, null, null);
        if (found.CutShort.Count > 0)
        {
            var (by, cut) = found.CutShort.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).First();
            return new(rule, profile, RuleOutcome.Blocked, 0, null,
                $"blocked by {by}: not reached; {cut} sequence(s) were cut short by {by}'s failure before any check of {rule.Id}") { BlockedBy = by };
        }
        return new(rule, profile, RuleOutcome.NotExercised, 0, null, "no generated sequence reached this rule's check");
    }

    /// <summary>
    /// Why an applicable rule cannot be judged: every family that lists it needs a capability that is
    /// not declared (the vm family's VMAL rules for a program that declares Vmalloc but no page
    /// allocator). Null when some family can judge it.
    /// </summary>
    private static string? Unjudgeable(Rule rule, IReadOnlySet<Capability> declared)
    {
        var judges = Families.Where(f => f.RuleIds.Contains(rule.Id)).ToList();
        if (judges.Count == 0 || judges.Any(f => f.Needs.All(declared.Contains))) return null;
        return "not declared: " + string.Join("; or ", judges.Select(f =>
            $"{string.Join(", ", f.Needs.Where(c => !declared.Contains(c)))} (the {f.Name} family, which judges it, also calls it)"));
    }

    /// <summary>
    /// A declared capability must come with its interface, and an instance booted for a profile must
    /// say it runs that profile (the checks take their profile from it: one that reported another
    /// would be judged by the wrong rules); a mismatch is a setup error, not a rule failure.
    /// </summary>
    public static void ValidateDeclaration(IMemoryManager mm, Profile? booted = null)
    {
        if (booted is not null && !Equals(mm.Profile, booted))
            throw new InvalidOperationException($"{mm.GetType().Name} was booted for {booted.Label} but reports profile {mm.Profile?.Label ?? "null"}");
        foreach (var capability in mm.Capabilities)
            if (Capabilities.InterfaceFor(capability) is { } iface && !iface.IsInstanceOfType(mm))
                throw new InvalidOperationException($"{mm.GetType().Name} declares {capability} but does not implement {iface.Name}");
        if (mm.Capabilities.Contains(Capability.PageAllocator) && mm is not IKernelMemory)
            throw new InvalidOperationException($"{mm.GetType().Name} declares PageAllocator but does not implement IKernelMemory");
    }
}
