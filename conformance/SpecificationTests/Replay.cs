using System.Text;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// Replays one sequence of a family's steps through the suite's own checks: the API behind the
/// regression tests the suite prints for a failure. The steps run on a freshly booted instance of
/// <c>factory</c>, every check on, nothing masked, exactly as the suite ran them when it found the
/// failure.
/// </summary>
/// <example>
/// <code>
/// PageOp[] steps =
/// [
///     new PageOp(PageOpKind.GetFreePages, Order: 2),
///     new PageOp(PageOpKind.FreeWrongOrder, Arg: 1),
/// ];
/// Replay.Sequence(new MyFactory(), Profiles.Get("x86-32").WithMemory(512UL &lt;&lt; 20), "pages", steps).ShouldKeep("PAGE-4");
/// </code>
/// </example>
public static class Replay
{
    /// <summary>
    /// Runs <paramref name="steps"/> of the family named <paramref name="family"/> ("pages", "heap")
    /// on <paramref name="factory"/>'s instance for <paramref name="profile"/>, through every check.
    /// </summary>
    /// <exception cref="ArgumentException">No such family, or steps of another family's type.</exception>
    /// <exception cref="InvalidOperationException">The factory refuses the profile.</exception>
    public static ReplayedSequence Sequence<TStep>(IImplementationFactory factory, Profile profile, string family, IReadOnlyList<TStep> steps)
        where TStep : notnull
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(steps);
        var engine = SuiteRunner.Families.FirstOrDefault(f => f.Name == family)
            ?? throw new ArgumentException($"no family '{family}'; known: {string.Join(", ", SuiteRunner.Families.Select(f => f.Name))}", nameof(family));
        if (typeof(TStep) != typeof(object) && !engine.StepType.IsAssignableFrom(typeof(TStep)))
            throw new ArgumentException($"family '{family}' runs steps of type {engine.StepType.Name}, not {typeof(TStep).Name}", nameof(steps));
        using (var probe = factory.Create(profile))
            if (probe is null) throw new InvalidOperationException($"'{factory.Name}' does not boot {profile.Label}: the sequence cannot be replayed there");
        var outcome = engine.Replay(factory, profile, steps.Cast<object>().ToList());
        return new ReplayedSequence(factory.Name, profile.Label, family, outcome);
    }
}

/// <summary>What a replayed sequence did; <see cref="ShouldKeep"/> turns it into a test verdict.</summary>
public sealed class ReplayedSequence
{
    internal ReplayedSequence(string implementation, string profileLabel, string family, SequenceOutcome outcome)
    {
        Implementation = implementation;
        ProfileLabel = profileLabel;
        Family = family;
        Outcome = outcome;
    }

    /// <summary>The factory's name.</summary>
    public string Implementation { get; }
    /// <summary>The profile and RAM size the steps ran on, e.g. x86-32/64M.</summary>
    public string ProfileLabel { get; }
    /// <summary>The family whose steps these are, e.g. "pages".</summary>
    public string Family { get; }
    /// <summary>The rule that broke first (null when every check held), its message, the trace.</summary>
    public SequenceOutcome Outcome { get; }

    /// <summary>The rule whose check failed first, or null when every check held.</summary>
    public string? BrokenRule => Outcome.RuleId;

    /// <summary>
    /// Passes when every check held. Otherwise fails the test with <see cref="RuleFailedException"/>,
    /// whose message starts with the rule that broke (<paramref name="ruleId"/>, or the other rule that
    /// broke before it could be checked), then what was observed and the steps as they ran.
    /// </summary>
    public void ShouldKeep(string ruleId)
    {
        if (!RuleCatalogue.Contains(ruleId)) throw new ArgumentException($"no rule '{ruleId}' in the catalogue", nameof(ruleId));
        if (Outcome.Held) return;
        var sb = new StringBuilder();
        sb.Append(Outcome.RuleId == ruleId
            ? $"{ruleId}: {Outcome.Message}\n"
            : $"{Outcome.RuleId}: {Outcome.Message}\n({Outcome.RuleId} broke before {ruleId} could be checked)\n");
        sb.Append($"'{Implementation}' on {ProfileLabel}, family {Family}; the steps as they ran:\n");
        for (int i = 0; i < Outcome.Trace.Count; i++) sb.Append($"  {i + 1,3}. {Outcome.Trace[i]}\n");
        throw new RuleFailedException(sb.ToString().TrimEnd('\n'));
    }
}
