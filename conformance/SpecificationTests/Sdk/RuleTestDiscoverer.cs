using KernelMm.Spec.Rules;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace KernelMm.Conformance.Specification.Sdk;

/// <summary>Discovers one <see cref="RuleTestCase"/> per rule of the test class's family.</summary>
public sealed class RuleTestDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc/>
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var testClass = testMethod.TestClass.Class.ToRuntimeType();
        var family = testClass is null ? null : SpecificationFamily.Of(testClass);
        if (family is null)
            return [new ExecutionErrorTestCase(diagnosticMessageSink, display, displayOptions, testMethod,
                $"[RuleTheory] on {testMethod.TestClass.Class.Name}.{testMethod.Method.Name}: the class must derive from a family base that carries [SpecificationFamily], such as PageAllocatorSpecificationTests")];
        return family.Rules.Select(IXunitTestCase (rule) => new RuleTestCase(diagnosticMessageSink, display, displayOptions, testMethod, rule.Id)).ToList();
    }
}
