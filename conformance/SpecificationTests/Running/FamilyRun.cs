using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification.Running;

/// <summary>What one rule test reports.</summary>
internal enum VerdictKind { Passed, Failed, Skipped }

/// <summary>The outcome of one rule test and the text shown with it (failure message, skip reason, or pass note).</summary>
internal sealed record RuleVerdict(VerdictKind Kind, string Message);

/// <summary>What a family run needs from the test class: its hooks, read once.</summary>
/// <param name="Factory">The implementation under test.</param>
/// <param name="Settings">Seed, sequences and steps of the run.</param>
/// <param name="Profiles">The profiles the run covers.</param>
/// <param name="MemorySizes">The memory sizes the run covers.</param>
/// <param name="TestClass">The test class's name, used in the filter a failure message suggests.</param>
/// <param name="Selected">The rule tests the test runner selected in the class (a <c>--filter</c>); null or every rule of the family: all.</param>
/// <param name="TestClassType">The test class, whose runner listens for progress (<see cref="RunProgress"/>).</param>
internal sealed record RunRequest(
    IImplementationFactory Factory, RunSettings Settings, IReadOnlyList<Profile> Profiles, IReadOnlyList<ulong> MemorySizes,
    string TestClass, IReadOnlySet<string>? Selected = null, Type? TestClassType = null);

/// <summary>
/// The family's property run, done once per test class and shared by its rule tests, and the
/// judgement of each rule from it. Runs are cached by the concrete test class, because the class's
/// overrides (factory, settings, profiles, memory sizes) define the run.
/// </summary>
internal sealed class FamilyRun
{
    private static readonly ConcurrentDictionary<Type, Lazy<FamilyRun>> Cache = new();

    private readonly SpecificationFamily _family;
    private readonly RunRequest _request;
    /// <summary>Capabilities declared per profile name, for profiles the implementation boots; empty when it boots none.</summary>
    private readonly Dictionary<string, IReadOnlySet<Capability>> _declared = new(StringComparer.Ordinal);
    private readonly SuiteResult? _result;
    private readonly string? _familySkip;

    private FamilyRun(SpecificationFamily family, RunRequest request)
    {
        _family = family;
        _request = request;
        if (family.Engine is null)
        {
            _familySkip = $"pending: the engine has no '{family.Name}' family yet";
            return;
        }
        Probe();
        if (_declared.Count == 0)
        {
            _familySkip = $"n/a: '{request.Factory.Name}' boots none of the profiles run " +
                          $"({string.Join(", ", request.Profiles.Select(p => p.Name))} at {string.Join(", ", request.MemorySizes.Select(Profile.FormatSize))})";
            return;
        }
        if (family.Engine is { } engine && !_declared.Values.Any(caps => engine.Needs.All(caps.Contains)))
        {
            var lacking = engine.Needs.Where(c => !_declared.Values.Any(caps => caps.Contains(c)));
            _familySkip = $"n/a: family '{family.Name}' is not supported: '{request.Factory.Name}' does not declare " +
                          string.Join(", ", (lacking.Any() ? lacking : engine.Needs).Select(c => $"Capability.{c}"));
            return;
        }
        // A --filter that leaves some of the family's rules: only those are judged (the others' checks
        // run masked, so nothing is shrunk for them and a divergence they cause blocks, never fails).
        var judged = request.Selected is { } selected && family.Rules.Any(r => !selected.Contains(r.Id))
            ? family.Rules.Where(r => selected.Contains(r.Id)).ToList()
            : family.Rules;
        // Nothing to learn from a run in which every judged rule is n/a: each is skipped with what it needs.
        if (!judged.Any(r => family.StaticSkipReason(r) is null && _declared.Values.Any(caps => Requirements.Met(r, caps))))
            return;
        bool focused = judged.Count < family.Rules.Count;
        if (focused && request.TestClassType is { } type)
            RunProgress.Say(type, $"--filter selected {string.Join(", ", judged.Select(r => r.Id))}: only {(judged.Count == 1 ? "that rule is" : "those rules are")} judged in family '{family.Name}'");
        var options = new SuiteOptions
        {
            Profiles = request.Profiles,
            MemorySizes = request.MemorySizes,
            Families = new HashSet<string> { family.Name },
            Rules = judged.Select(r => r.Id).ToHashSet(),
            Focus = focused ? judged.Select(r => r.Id).ToHashSet() : null,
            Settings = request.Settings,
            OnProgress = request.TestClassType is { } t ? RunProgress.For(t, family.Name) : null,
        };
        _result = SuiteRunner.Run(request.Factory, options);
    }

    /// <summary>The run for the test class of <paramref name="tests"/>, started by the first rule test that asks.</summary>
    public static FamilyRun For(FamilySpecificationTests tests, SpecificationFamily family) =>
        Cache.GetOrAdd(tests.GetType(), _ => new Lazy<FamilyRun>(() => new FamilyRun(family, tests.CreateRunRequest()))).Value;

    /// <summary>Runs without caching (for tests of this package).</summary>
    internal static FamilyRun Start(SpecificationFamily family, RunRequest request) => new(family, request);

    public SuiteResult? Result => _result;

    /// <summary>Boots each profile once (at the first memory size it accepts) to read what the implementation declares.</summary>
    private void Probe()
    {
        foreach (var profile in _request.Profiles)
            foreach (var memory in _request.MemorySizes)
            {
                using var mm = _request.Factory.Create(profile.WithMemory(memory));
                if (mm is null) continue;
                SuiteRunner.ValidateDeclaration(mm);
                _declared[profile.Name] = mm.Capabilities.ToHashSet();
                break;
            }
    }

    public RuleVerdict Judge(Rule rule)
    {
        if (_family.StaticSkipReason(rule) is { } pending) return new(VerdictKind.Skipped, pending);
        if (_familySkip is not null) return new(VerdictKind.Skipped, _familySkip);
        var profiles = _request.Profiles.Select(p => p.Name).ToList();
        if (_result is null) return NotApplicable(rule, profiles);
        var rows = _result.Results.Where(r => r.Rule.Id == rule.Id).ToList();

        var failed = rows.Where(r => r.Outcome == RuleOutcome.Failed).ToList();
        if (failed.Count > 0) return new(VerdictKind.Failed, DescribeFailure(rule, failed, rows.Count));

        // Not a pass: another rule's failure stands between this rule and a verdict.
        var blocked = rows.Where(r => r.Outcome == RuleOutcome.Blocked).ToList();
        if (blocked.Count > 0) return new(VerdictKind.Failed, DescribeBlocked(rule, blocked));

        var unexercised = rows.Where(r => r.Outcome == RuleOutcome.NotExercised).ToList();
        if (unexercised.Count > 0)
            return new(VerdictKind.Failed,
                $"{rule.Id} was not exercised on {string.Join(", ", unexercised.Select(r => r.Profile))}: the implementation declares what the rule needs, " +
                $"but no generated sequence reached its check, which is a gap, not a pass. Raise Settings.Sequences or Settings.MaxSteps " +
                $"(now {_request.Settings.Sequences} sequences of up to {_request.Settings.MaxSteps} steps).\n  rule: {rule.Statement}");

        var passed = rows.Where(r => r.Outcome == RuleOutcome.Passed).ToList();
        if (passed.Count == 0) return NotApplicable(rule, rows.Select(r => r.Profile).ToList(), rows);
        var note = new StringBuilder($"{rule.Id} passed: ");
        note.Append(string.Join(", ", passed.Select(r => $"{r.Profile} {r.Checks.ToString("N0", CultureInfo.InvariantCulture)} checks")));
        var notApplicable = rows.Where(r => r.Outcome == RuleOutcome.NotApplicable).ToList();
        if (notApplicable.Count > 0)
            note.Append($"; n/a on {string.Join(", ", notApplicable.Select(r => $"{r.Profile} ({ReasonNotApplicable(rule, r.Profile, r.Reason)})"))}");
        note.Append($". Family run: {_result.Sequences:N0} sequences, {_result.Operations:N0} checked operations in {_result.Elapsed.TotalSeconds:F1} s (seed {_request.Settings.Seed}).");
        return new(VerdictKind.Passed, note.ToString());
    }

    /// <summary>Skipped: why the rule applies on none of the profiles, in one reason when they agree.</summary>
    private RuleVerdict NotApplicable(Rule rule, IReadOnlyList<string> profiles, IReadOnlyList<RuleResult>? rows = null)
    {
        var reasons = profiles
            .Select(p => (Profile: p, Reason: ReasonNotApplicable(rule, p, rows?.FirstOrDefault(r => r.Profile == p)?.Reason)))
            .ToList();
        if (reasons.Count == 0) return new(VerdictKind.Skipped, "n/a: no profile was run");
        return new(VerdictKind.Skipped, reasons.Select(r => r.Reason).Distinct().Count() == 1
            ? $"n/a: {reasons[0].Reason}"
            : $"n/a: {string.Join("; ", reasons.Select(r => $"{r.Profile}: {r.Reason}"))}");
    }

    private string ReasonNotApplicable(Rule rule, string profile, string? engineReason)
    {
        if (!_declared.TryGetValue(profile, out var declared))
            return $"'{_request.Factory.Name}' does not boot profile {profile}";
        return Requirements.Missing(rule, declared) is { } missing
            ? $"'{_request.Factory.Name}' does not declare {missing} (the rule needs {Requirements.Describe(rule)})"
            : engineReason ?? "not applicable";
    }

    private string DescribeFailure(Rule rule, List<RuleResult> failed, int profilesRun)
    {
        var settings = _request.Settings;
        var sb = new StringBuilder();
        sb.Append($"{rule.Id} failed on {failed.Count} of {profilesRun} profile(s) for '{_request.Factory.Name}'.\n");
        sb.Append($"  rule: {rule.Statement}\n");
        sb.Append($"  check: {rule.Check}\n");
        if (rule.Decision is not null) sb.Append($"  decision: {rule.Decision}\n");
        foreach (var row in failed)
        {
            var ce = row.Counterexample!;
            sb.Append('\n');
            sb.Append($"FAILED {ce.RuleId} on {ce.ProfileLabel} (family {ce.Family}, property seed {ce.Seed}): {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}\n");
            if (!ce.Reproducible) sb.Append("  NOT REPRODUCIBLE: it failed once and did not fail again when its steps were replayed; the observation below is the first one\n");
            sb.Append($"  observed: {ce.Message}\n");
            sb.Append("  sequence:\n");
            for (int i = 0; i < ce.Trace.Count; i++) sb.Append($"    {i + 1,3}. {ce.Trace[i]}\n");
            sb.Append("  as a regression test (a file of its own, as printed; it fails with this rule until the implementation keeps it):\n");
            foreach (var line in Reports.XunitSnippet.Render(ce, Reports.FactoryCode.For(_request.Factory, _request.Factory.Name), ruleStatement: rule.Statement).TrimEnd('\n').Split('\n'))
                sb.Append($"    {line}\n");
            int slash = ce.ProfileLabel.LastIndexOf('/');
            string profile = slash < 0 ? ce.ProfileLabel : ce.ProfileLabel[..slash];
            string memory = slash < 0 ? "" : ce.ProfileLabel[(slash + 1)..];
            sb.Append($"  replay: the run is deterministic (seed {settings.Seed}, {settings.Sequences} sequences of up to {settings.MaxSteps} steps): " +
                      $"dotnet test --filter \"FullyQualifiedName~{_request.TestClass}&Rule={rule.Id}\"; to run this case alone, override " +
                      $"Profiles => [{profile}] and MemorySizes => [{memory}] (same sequences, same counterexample)\n");
        }
        return sb.ToString().TrimEnd('\n');
    }

    private static string DescribeBlocked(Rule rule, List<RuleResult> blocked)
    {
        var sb = new StringBuilder();
        sb.Append($"{rule.Id} has no verdict on {string.Join(", ", blocked.Select(r => r.Profile))}: it is blocked by {string.Join(", ", blocked.Select(r => r.BlockedBy).Distinct())}, which failed first. Not a pass: fix that rule and run again.\n");
        sb.Append($"  rule: {rule.Statement}\n");
        foreach (var row in blocked)
        {
            sb.Append($"\nBLOCKED {rule.Id} on {row.Profile}: {row.Reason}\n");
            if (row.Counterexample is not { } seen) continue;
            sb.Append($"  observed after {seen.BlockedBy} had failed, on {seen.ProfileLabel}: {seen.Message}\n");
            sb.Append("  sequence:\n");
            for (int i = 0; i < seen.Trace.Count; i++) sb.Append($"    {i + 1,3}. {seen.Trace[i]}\n");
        }
        return sb.ToString().TrimEnd('\n');
    }

}
