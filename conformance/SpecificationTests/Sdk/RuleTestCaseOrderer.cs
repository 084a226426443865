using KernelMm.Conformance.Specification.Running;
using KernelMm.Spec.Rules;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelMm.Conformance.Specification.Sdk;

/// <summary>
/// Orders a class's rule tests in catalogue order, and, before any of them runs, records which rules
/// the test runner selected (all of them, or the few a <c>--filter</c> leaves): the family's run then
/// checks only those (<see cref="RuleSelection"/>). xunit hands the orderer exactly the test cases it
/// is about to run for the class, after filtering. A class with an orderer of its own keeps it, and its
/// family run then checks every rule of the family.
/// </summary>
public sealed class RuleTestCaseOrderer : ITestCaseOrderer
{
    private static readonly Dictionary<string, int> CatalogueOrder =
        RuleCatalogue.All.Select((r, i) => (r.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);

    /// <inheritdoc/>
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase
    {
        var cases = testCases.ToList();
        foreach (var byClass in cases.OfType<RuleTestCase>().GroupBy(c => c.TestMethod.TestClass.Class.ToRuntimeType()))
            if (byClass.Key is { } type) RuleSelection.Record(type, byClass.Select(c => c.RuleId));
        // Stable: other tests of the class first, as given; then the rules in catalogue order.
        return cases.OrderBy(c => c is RuleTestCase r ? CatalogueOrder.GetValueOrDefault(r.RuleId, int.MaxValue) : -1).ToList();
    }
}
