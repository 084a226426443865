using System.Collections.Concurrent;

namespace KernelMm.Conformance.Specification.Running;

/// <summary>
/// The rule tests the test runner is about to run, per test class, as <see cref="Sdk.RuleTestCaseOrderer"/>
/// saw them: what a <c>dotnet test --filter</c> left of the class. Unknown (null) when the class was
/// run without that orderer: then the family run checks every rule.
/// </summary>
internal static class RuleSelection
{
    private static readonly ConcurrentDictionary<Type, IReadOnlySet<string>> Selected = new();

    public static void Record(Type testClass, IEnumerable<string> ruleIds) =>
        Selected[testClass] = ruleIds.ToHashSet(StringComparer.Ordinal);

    public static IReadOnlySet<string>? For(Type testClass) => Selected.TryGetValue(testClass, out var rules) ? rules : null;
}
