using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Running;

/// <summary>
/// Whether a rule applies to what an implementation declares. A rule lists the capabilities it needs
/// (<see cref="Rule.Requires"/>, all of them) and, for a rule with a kernel side and a user side, other
/// sets each enough on its own (<see cref="Rule.OrRequires"/>): ADDR-6 applies to an implementation of
/// kernel virtual memory and to one of user space alone (the live kernel), each judged on its side.
/// Every place that decides "n/a" (the runner's table, the families it runs, the test package) asks here.
/// </summary>
public static class Requirements
{
    /// <summary>Every set of capabilities that makes the rule apply: <see cref="Rule.Requires"/> first, then each of <see cref="Rule.OrRequires"/>.</summary>
    public static IEnumerable<IReadOnlyList<Capability>> Alternatives(Rule rule)
    {
        yield return rule.Requires;
        foreach (var other in rule.OrRequires) yield return other;
    }

    /// <summary>Whether the declared capabilities include all of one of the rule's alternatives.</summary>
    public static bool Met(Rule rule, IReadOnlySet<Capability> declared) =>
        Alternatives(rule).Any(set => set.All(declared.Contains));

    /// <summary>
    /// What is missing, for an n/a reason ("Vmalloc, KernelPageTables (or instead: UserMemory)"), with the
    /// missing capabilities of each alternative; null when the rule applies.
    /// </summary>
    public static string? Missing(Rule rule, IReadOnlySet<Capability> declared)
    {
        if (Met(rule, declared)) return null;
        var missing = Alternatives(rule).Select(set => string.Join(", ", set.Where(c => !declared.Contains(c)))).ToList();
        return missing[0] + (missing.Count > 1 ? $" (or instead: {string.Join("; or ", missing.Skip(1))})" : "");
    }

    /// <summary>Every capability a missing alternative lacks (to explain, say, that AtomicT needs CPU lanes).</summary>
    public static IEnumerable<Capability> MissingCapabilities(Rule rule, IReadOnlySet<Capability> declared) =>
        Met(rule, declared) ? [] : Alternatives(rule).SelectMany(set => set).Where(c => !declared.Contains(c)).Distinct();

    /// <summary>The rule's requirement as a reader reads it: "Vmalloc, KernelPageTables; or UserMemory".</summary>
    public static string Describe(Rule rule) => string.Join("; or ", Alternatives(rule).Select(set => string.Join(", ", set)));
}
