using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The SMP family: the page allocator, kmalloc and slab caches called from 2 to 4 threads at once,
/// checked for what must hold whatever the interleaving: blocks of the right size, alignment and zone
/// (PAGE-7, ZONE-2, ZONE-3, KMAL-1, SLAB-2, SLAB-7), no two live blocks overlapping and no byte written
/// by one thread changed by another (PAGE-1, KMAL-7, SLAB-2), and the free counts back once everything
/// is freed (ADDR-11, PAGE-8).
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MySmpTests : SmpSpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The implementation takes part by declaring <see cref="Capability.Smp"/> (with
/// <see cref="Capability.PageAllocator"/>): a promise that <see cref="IPageAllocator"/>,
/// <see cref="IKernelMemory"/> and, where declared, <see cref="IKmalloc"/> and <see cref="ISlab"/> may be
/// called from several threads at once. The rules reported here are also checked one thread at a time by
/// the page and heap families; this class reports what the parallel runs found.</para>
/// </remarks>
[SpecificationFamily("smp")]
public abstract class SmpSpecificationTests : FamilySpecificationTests;
