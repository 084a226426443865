using System.Reflection;
using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using ThirdPartySample;

namespace KernelMm.SpecificationTests.Tests;

// The package's rule tests, run in-process as an implementer would run them. Every profile and
// memory size is run (the defaults), with a smaller budget than the command line's 100 sequences.

/// <summary>The reference passes every rule of the page family (nothing is skipped: it declares every capability the family uses).</summary>
public sealed class ReferencePageAllocatorTests : PageAllocatorSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
    protected override RunSettings Settings => new() { Sequences = 25 };
}

/// <summary>The reference passes every rule of the heap family, at the default budget (the heap family is quick).</summary>
public sealed class ReferenceHeapTests : HeapSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
}

/// <summary>The reference passes every rule of the user family (a small budget: the family is the slowest).</summary>
public sealed class ReferenceUserTests : UserSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
    protected override RunSettings Settings => new() { Sequences = 15 };
    protected override IEnumerable<ulong> MemorySizes => [64UL << 20, 1UL << 30];
}

/// <summary>
/// The reference passes every rule of the kernel virtual memory family: a small budget (the family's
/// sequences are heavier) on two RAM sizes, one without HIGHMEM and one with it.
/// </summary>
public sealed class ReferenceKernelVirtualMemoryTests : KernelVirtualMemorySpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
    protected override RunSettings Settings => new() { Sequences = 8 };
    protected override IEnumerable<ulong> MemorySizes => [64UL << 20, 1UL << 30];
}

/// <summary>The sample's allocator (declares only PageAllocator): the PAGE rules pass, ZONE-4 and the GFP rules are skipped n/a.</summary>
public sealed class SampleAllocatorInProcessTests : PageAllocatorSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new SampleFactory();
    protected override RunSettings Settings => new() { Sequences = 25 };
}

/// <summary>The reference passes ATOM-1 in parallel mode (one profile and size: atomic_t does not depend on them).</summary>
public sealed class ReferenceAtomicTTests : AtomicTSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
    protected override RunSettings Settings => new() { Sequences = 40 };
    protected override IEnumerable<KernelMm.Spec.Profiles.Profile> Profiles => [KernelMm.Spec.Profiles.Profiles.X86_32];
    protected override IEnumerable<ulong> MemorySizes => [64UL << 20];
}

/// <summary>The reference passes the SMP family (its allocators take locks).</summary>
public sealed class ReferenceSmpTests : SmpSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new ReferenceFactory();
    protected override RunSettings Settings => new() { Sequences = 20 };
    protected override IEnumerable<KernelMm.Spec.Profiles.Profile> Profiles => [KernelMm.Spec.Profiles.Profiles.X86_32, KernelMm.Spec.Profiles.Profiles.Linux6];
    protected override IEnumerable<ulong> MemorySizes => [64UL << 20];
}

/// <summary>This assembly tests every family the package ships.</summary>
public sealed class ThisAssemblyComplianceTests : ComplianceSpecificationTests
{
    protected override Assembly TargetAssembly => typeof(ThisAssemblyComplianceTests).Assembly;
}
