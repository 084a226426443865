using Xunit;
using Xunit.Sdk;

namespace KernelMm.Conformance.Specification.Sdk;

/// <summary>
/// A test method with one test case per rule of the test class's family
/// (<see cref="SpecificationFamilyAttribute"/>), each named by its rule ID. The method takes the
/// rule ID; throwing <see cref="SkipRuleException"/> reports the test as skipped with its message
/// (xunit 2 has no dynamic skip of its own).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
[XunitTestCaseDiscoverer("KernelMm.Conformance.Specification.Sdk.RuleTestDiscoverer", "KernelMm.Conformance.Specification.Tests")]
public sealed class RuleTheoryAttribute : FactAttribute;

/// <summary>Thrown by a rule test to report it skipped; the message is the reason shown in the test results.</summary>
public sealed class SkipRuleException(string reason) : Exception(reason);
