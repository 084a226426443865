using KernelMm.Conformance.Specification;
using KernelMm.Spec.Rules;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>
/// A family whose engine does not exist (as kmalloc, slab and atomic_t were before their issues):
/// every rule is reported pending. Abstract, so xunit does not run it; tests use it directly.
/// </summary>
[SpecificationFamily("draft-swap", RuleFamily.SWAP)]
public abstract class DraftSwapSpecificationTests : FamilySpecificationTests;

/// <summary>A class outside any family (misuse of the rule test).</summary>
public abstract class NoFamilyTests : FamilySpecificationTests;
