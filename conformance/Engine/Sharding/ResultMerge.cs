using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Sharding;

/// <summary>Results that cannot be merged (another implementation, other settings, a shard missing or given twice).</summary>
public sealed class MergeException(IReadOnlyList<string> problems)
    : Exception(string.Join("; ", problems))
{
    /// <summary>Every reason, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// Folds results of parts of one run (the shards of <c>run --shard i/n</c>, or runs of the same
/// implementation and settings on different profiles or RAM sizes) into the result the whole run
/// gives. Per rule and profile: a failure anywhere fails the rule (with the counterexample of the
/// first failing property in run order, as the whole run reports it), then a rule blocked by an
/// observation, or any other outcome that is not a verdict, then a pass when any part checked it
/// (checks add up), then a rule blocked because its sequences were cut short, then not exercised,
/// not applicable, pending (<see cref="Rank(RuleResult)"/>). Nothing about a family is hard-coded: outcomes and rules
/// come from the parts.
/// </summary>
public static partial class ResultMerge
{
    /// <summary>A blocked rule's reason counts the checks that held (<see cref="SuiteRunner"/>'s wording): the merged row counts all parts'.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\(\d+ checks held elsewhere\)")]
    private static partial System.Text.RegularExpressions.Regex HeldElsewhere();

    /// <summary>
    /// How strongly an outcome speaks for the rule on a profile when parts disagree, as the whole run
    /// decides it (<see cref="SuiteRunner"/>): failed; then blocked by an observation (its check failed
    /// after another rule's failure, which outranks passes elsewhere); then passed; then blocked without
    /// a check (its sequences were cut short: a part that checked it wins); then not exercised, not
    /// applicable, pending. An outcome this version does not name is treated as a non-verdict that
    /// outranks a pass (never hides a failure, never turns into a pass).
    /// </summary>
    public static int Rank(RuleResult row) => row.Outcome switch
    {
        RuleOutcome.Blocked when row.Counterexample is null => 3,
        _ => Rank(row.Outcome),
    };

    /// <summary>The rank of an outcome (<see cref="Rank(RuleResult)"/>); blocked counts as blocked by an observation.</summary>
    public static int Rank(RuleOutcome outcome) => outcome switch
    {
        RuleOutcome.Failed => 6,
        RuleOutcome.Passed => 4,
        RuleOutcome.NotExercised => 2,
        RuleOutcome.NotApplicable => 1,
        RuleOutcome.Pending => 0,
        _ => 5,
    };

    /// <summary>The whole run's result from its parts. Errors: <see cref="MergeException"/> listing every reason the parts do not belong together.</summary>
    public static SuiteResult Combine(IReadOnlyList<SuiteResult> parts)
    {
        if (parts.Count == 0) throw new MergeException(["nothing to merge"]);
        var problems = Check(parts);
        if (problems.Count > 0) throw new MergeException(problems);
        var ordered = parts.OrderBy(p => p.Shard?.Index ?? 0).ToList();
        var first = ordered[0];
        var profiles = ordered.SelectMany(p => p.Profiles).Distinct().ToList();
        var sizes = ordered.SelectMany(p => p.MemorySizes).Distinct().ToList();
        // Properties in the whole run's order: saved failures first, then by profile, RAM size and family.
        var properties = ordered.SelectMany(p => p.Properties)
            .OrderBy(p => p.Rerun ? 0 : 1)
            .ThenBy(p => IndexOf(profiles, p.Key.Profile))
            .ThenBy(p => IndexOf(sizes.Select(Profile.FormatSize), Profile.FormatSize(p.Key.Memory)))
            .ThenBy(p => IndexOf(SuiteRunner.Families.Select(f => f.Name), p.Key.Family))
            .ToList();
        var catalogueOrder = RuleCatalogue.All.Select((r, i) => (r.Id, i)).ToDictionary(x => x.Id, x => x.i);

        var rows = new List<RuleResult>();
        foreach (var profile in profiles)
        {
            var cells = ordered.SelectMany(p => p.Results).Where(r => r.Profile == profile)
                .GroupBy(r => r.Rule.Id)
                .OrderBy(g => catalogueOrder.GetValueOrDefault(g.Key, int.MaxValue));
            foreach (var cell in cells)
            {
                var best = cell.OrderByDescending(Rank).ThenBy(r => RunOrder(r, sizes, properties)).First();
                long checks = cell.Sum(r => r.Checks);
                rows.Add(best with { Checks = checks, Reason = best.Reason is { } reason ? HeldElsewhere().Replace(reason, $"({checks} checks held elsewhere)") : null });
            }
        }
        return first with
        {
            Profiles = profiles,
            MemorySizes = sizes,
            Results = rows,
            Operations = ordered.Sum(p => p.Operations),
            Sequences = ordered.Sum(p => p.Sequences),
            Elapsed = TimeSpan.FromTicks(ordered.Sum(p => p.Elapsed.Ticks)),
            Properties = properties,
            Shard = null,
        };
    }

    /// <summary>Why the parts are not parts of one run; empty when they are.</summary>
    public static IReadOnlyList<string> Check(IReadOnlyList<SuiteResult> parts)
    {
        var problems = new List<string>();
        if (parts.Count == 0) return ["nothing to merge"];
        var first = parts[0];
        string Name(int i) => parts[i].Shard is { } s ? $"shard {s}" : $"result {i + 1}";
        for (int i = 1; i < parts.Count; i++)
        {
            var p = parts[i];
            if (p.Implementation != first.Implementation)
                problems.Add($"{Name(i)} judged '{p.Implementation}', {Name(0)} '{first.Implementation}': merge the results of one implementation");
            else if (p.ImplementationArguments != first.ImplementationArguments)
                problems.Add($"{Name(i)} chose the implementation with '{p.ImplementationArguments}', {Name(0)} with '{first.ImplementationArguments}'");
            if (p.Settings != first.Settings)
                problems.Add($"{Name(i)} ran seed {p.Settings.Seed}, {p.Settings.Sequences} sequences of up to {p.Settings.MaxSteps} steps; " +
                             $"{Name(0)} seed {first.Settings.Seed}, {first.Settings.Sequences} of up to {first.Settings.MaxSteps}: shards of one run share their settings");
        }
        var sharded = parts.Where(p => p.Shard is not null).ToList();
        if (sharded.Count > 0)
        {
            if (sharded.Count < parts.Count)
                problems.Add("some results are shards and some are whole runs: merge the shards of one run");
            var counts = sharded.Select(p => p.Shard!.Count).Distinct().ToList();
            if (counts.Count > 1)
                problems.Add($"the shards come from runs split {string.Join(" and ", counts.Select(c => $"{c} ways"))}");
            else
            {
                int count = counts[0];
                foreach (var twice in sharded.GroupBy(p => p.Shard!.Index).Where(g => g.Count() > 1))
                    problems.Add($"shard {twice.Key}/{count} is given {twice.Count()} times");
                var missing = Enumerable.Range(1, count).Except(sharded.Select(p => p.Shard!.Index)).ToList();
                if (missing.Count > 0)
                    problems.Add($"shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"{m}/{count}"))} missing: the merged result covers the run only with all {count}");
                if (sharded.Select(p => string.Join(",", p.Profiles)).Distinct().Count() > 1 || sharded.Select(p => string.Join(",", p.MemorySizes)).Distinct().Count() > 1)
                    problems.Add("the shards ran different profiles or RAM sizes: shards of one run share them");
            }
        }
        return problems;
    }

    /// <summary>
    /// Where the property that found a failure comes in the whole run (saved failures first, then by
    /// RAM size and family), so that the merged row keeps the counterexample the whole run reports.
    /// </summary>
    private static (int, int, int) RunOrder(RuleResult row, IReadOnlyList<ulong> sizes, IReadOnlyList<PropertyRun> properties)
    {
        if (row.Counterexample is not { } ce) return (0, 0, 0);
        bool rerun = properties.Any(p => p.Rerun && p.Failures.Any(f => ReferenceEquals(f, ce)
            || (f.RuleId == ce.RuleId && f.Seed == ce.Seed && f.Family == ce.Family && f.ProfileLabel == ce.ProfileLabel)));
        var (_, memory) = ReportText.SplitLabel(ce.ProfileLabel);
        int size = IndexOf(sizes.Select(Profile.FormatSize), memory);
        int family = IndexOf(SuiteRunner.Families.Select(f => f.Name), ce.Family);
        return (rerun ? 0 : 1, size, family);
    }

    private static int IndexOf(IEnumerable<string> items, string item)
    {
        int i = 0;
        foreach (var x in items) { if (x == item) return i; i++; }
        return int.MaxValue;
    }
}
