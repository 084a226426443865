using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The heap family: kmalloc, kzalloc, krealloc, kfree and ksize (KMAL), and slab caches (SLAB),
/// mixed with page-allocator traffic and context changes.
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MyHeapTests : HeapSpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The family runs on implementations that declare <see cref="Capability.PageAllocator"/>.
/// The KMAL rules also need <see cref="Capability.Kmalloc"/> (<see cref="IKmalloc"/>), and the
/// SLAB rules need <see cref="Capability.SlabCache"/> (<see cref="ISlab"/>). A rule whose capability
/// is not declared is skipped as n/a. An implementation with neither capability should list the
/// family as unsupported in its <see cref="ComplianceSpecificationTests"/> instead of deriving
/// this class.</para>
/// </remarks>
[SpecificationFamily("heap", RuleFamily.KMAL, RuleFamily.SLAB)]
public abstract class HeapSpecificationTests : FamilySpecificationTests;
