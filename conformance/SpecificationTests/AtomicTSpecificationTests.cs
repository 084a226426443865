using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// The atomic_t family (ATOM-1), checked in parallel mode: generated programs run on 2 to 4 threads at
/// once and every counter's history must be linearizable (some sequential order consistent with real
/// time explains every result).
/// </summary>
/// <remarks>
/// <para>Derive one class and override <see cref="FamilySpecificationTests.CreateFactory"/>:</para>
/// <code>
/// public sealed class MyAtomicTests : AtomicTSpecificationTests
/// {
///     protected override IImplementationFactory CreateFactory() => new MyFactory();
/// }
/// </code>
/// <para>The implementation takes part by declaring <see cref="Capability.AtomicT"/> and implementing
/// <see cref="IAtomicT"/> (thread-safe: the suite calls it from several threads at once). A race shows
/// in some runs only: a failure says how often the shrunk case failed when re-run. The default budget
/// (100 programs, 3 runs each, per profile and memory size) is the command line's; lower
/// <see cref="FamilySpecificationTests.Profiles"/> and <see cref="FamilySpecificationTests.MemorySizes"/>
/// for speed: atomic_t does not depend on them.</para>
/// </remarks>
[SpecificationFamily("atomic", RuleFamily.ATOM)]
public abstract class AtomicTSpecificationTests : FamilySpecificationTests;
