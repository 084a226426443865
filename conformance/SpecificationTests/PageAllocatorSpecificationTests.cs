using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The page family: the buddy page allocator (PAGE), its zones (ZONE), the GFP context rules (GFP)
/// and the address rules the page allocator shows (ADDR-1, ADDR-2, ADDR-10, ADDR-11).
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MyPageAllocatorTests : PageAllocatorSpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The implementation takes part by declaring <see cref="Capability.PageAllocator"/> (and
/// implementing <see cref="IPageAllocator"/> and <see cref="IKernelMemory"/>). Rules that also need
/// <see cref="Capability.ExecutionContext"/>, <see cref="Capability.Highmem"/> or
/// <see cref="Capability.Reclaim"/> are skipped as n/a unless it declares those too. Without
/// <see cref="Capability.PageAllocator"/> every rule is skipped: list the family as unsupported
/// in your <see cref="ComplianceSpecificationTests"/> instead of deriving this class.</para>
/// </remarks>
[SpecificationFamily("pages", RuleFamily.PAGE, RuleFamily.ZONE, RuleFamily.GFP)]
public abstract class PageAllocatorSpecificationTests : FamilySpecificationTests;
