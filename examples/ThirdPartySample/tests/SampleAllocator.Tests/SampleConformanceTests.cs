using System.Reflection;
using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Spec.Contract;

namespace ThirdPartySample;

/// <summary>
/// The page family against the sample allocator: one test per rule ID. The allocator declares only
/// PageAllocator, so the ZONE-4 and GFP rules are skipped as n/a with the capability they need.
/// </summary>
public sealed class SamplePageAllocatorTests : PageAllocatorSpecificationTests
{
    protected override IImplementationFactory CreateFactory() => new SampleFactory();

    // A quarter of the default effort (the command line's: seed 1, 100 sequences of up to 60 steps for
    // each profile and memory size), still enough to reach every rule the sample can show. The
    // mutation run (mutate.sh, PACKAGE.md section 5) repeats the whole family run once per mutant,
    // so this budget is what makes it take minutes rather than an hour.
    protected override RunSettings Settings => new() { Sequences = 25 };
}

/// <summary>Fails if the package has a family this assembly neither tests nor declares unsupported.</summary>
public sealed class SampleComplianceTests : ComplianceSpecificationTests
{
    protected override Assembly TargetAssembly => typeof(SampleComplianceTests).Assembly;

    protected override IReadOnlySet<string> UnsupportedFamilies => new HashSet<string>
    {
        "heap: the sample is a page allocator only; it has no kmalloc and no slab caches",
        "vm: the sample is a page allocator only; it has no vmalloc and no page tables",
        "user: the sample is a page allocator only; it has no processes and no user address spaces",
        "atomic: the sample has no atomic_t",
        "smp: the sample's allocator is not safe to call from several threads at once",
    };
}
