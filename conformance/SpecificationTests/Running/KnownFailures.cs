using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification.Running;

/// <summary>
/// A test class's known failures (<see cref="FamilySpecificationTests.KnownFailures"/>): entries
/// "RULE-ID: reason", read and checked, and what they do to a rule's verdict. Like a strict xfail: a
/// listed rule that still fails is reported skipped with the reason and what failed; a listed rule
/// that passes fails its test, so the list never hides a fix.
/// </summary>
internal sealed class KnownFailures
{
    private KnownFailures(IReadOnlyDictionary<string, string> reasons, IReadOnlyList<string> problems)
    {
        Reasons = reasons;
        Problems = problems;
    }

    /// <summary>The reason per listed rule ID.</summary>
    public IReadOnlyDictionary<string, string> Reasons { get; }

    /// <summary>Entries that cannot be used, one sentence each (an unknown rule, no reason, a rule listed twice).</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>Reads the entries. Never throws: what is wrong is in <see cref="Problems"/>.</summary>
    public static KnownFailures Parse(IEnumerable<string>? entries)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var entry in entries ?? [])
        {
            if (entry is null) { problems.Add("an entry is null"); continue; }
            int colon = entry.IndexOf(':');
            string id = (colon < 0 ? entry : entry[..colon]).Trim();
            string reason = colon < 0 ? "" : entry[(colon + 1)..].Trim();
            if (!RuleCatalogue.Contains(id))
            {
                var near = RuleCatalogue.All.Select(r => r.Id).FirstOrDefault(r => string.Equals(r, id, StringComparison.OrdinalIgnoreCase));
                problems.Add($"'{entry}': no rule '{id}' in the catalogue{(near is null ? "" : $" (did you mean {near}?)")}; write \"RULE-ID: reason\"");
                continue;
            }
            if (reason.Length == 0) { problems.Add($"'{entry}': give the reason after the rule ID, e.g. \"{id}: fixed in lab 4\""); continue; }
            if (!reasons.TryAdd(id, reason)) problems.Add($"{id} is listed twice");
        }
        return new KnownFailures(reasons, problems);
    }

    /// <summary>The verdict of <paramref name="ruleId"/> once the list is applied.</summary>
    public RuleVerdict Apply(string ruleId, RuleVerdict verdict)
    {
        if (!Reasons.TryGetValue(ruleId, out var reason)) return verdict;
        return verdict.Kind switch
        {
            VerdictKind.Failed => new(VerdictKind.Skipped, $"known failure ({reason}); it still fails: {FirstLine(verdict.Message)}"),
            VerdictKind.Passed => new(VerdictKind.Failed,
                $"{ruleId} is listed in KnownFailures (\"{reason}\") but it passed: remove it from the list so that a regression is caught again.\n{verdict.Message}"),
            _ => new(VerdictKind.Skipped, $"{verdict.Message} (also listed as a known failure: {reason})"),
        };
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOf('\n');
        return end < 0 ? text : text[..end].TrimEnd('\r');
    }
}
