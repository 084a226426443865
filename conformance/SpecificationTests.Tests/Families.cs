using KernelMm.Conformance.Specification;
using KernelMm.Spec.Rules;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>
/// A family whose engine does not exist (as kmalloc, slab, atomic_t and swap were before their issues; vmalloc until the kernel-VM slice lands):
/// every rule is reported pending. Abstract, so xunit does not run it; tests use it directly.
/// </summary>
[SpecificationFamily("draft-vmalloc", RuleFamily.VMAL)]
public abstract class DraftVmallocSpecificationTests : FamilySpecificationTests;

/// <summary>A class outside any family (misuse of the rule test).</summary>
public abstract class NoFamilyTests : FamilySpecificationTests;
