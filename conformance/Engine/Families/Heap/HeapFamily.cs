using FsCheck;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.Heap;

/// <summary>The kmalloc family and slab caches, mixed with page-allocator traffic and context changes.</summary>
public sealed class HeapFamily : ConformanceFamily<HeapOp>
{
    public override string Name => "heap";
    public override Capability Gate => Capability.PageAllocator;
    public override string PrimaryRule => "KMAL-7";
    public override IReadOnlyList<string> RuleIds { get; } =
    [
        "KMAL-1", "KMAL-2", "KMAL-3", "KMAL-4", "KMAL-5", "KMAL-6", "KMAL-7", "KMAL-8",
        "SLAB-1", "SLAB-2", "SLAB-3", "SLAB-4", "SLAB-5", "SLAB-6", "SLAB-7", "SLAB-8", "SLAB-9", "SLAB-10",
        "SLAB-11", "SLAB-12", "SLAB-13",
    ];
    // Its steps also check GFP-1, GFP-5, PAGE-1, PAGE-4 and ADDR-11 on the way (sleeping calls in
    // atomic context, context queries, page traffic, accounting); those rules belong to the page
    // family, and SuiteRunner classifies any rule a run observed.

    public override Gen<HeapOp[]> Generator(Profile profile) => HeapGen.Sequence(profile);
    public override IEnumerable<HeapOp[]> Shrink(HeapOp[] ops) => HeapGen.Shrink(ops);
    public override void Execute(IMemoryManager mm, HeapOp[] ops, CheckScope scope, Trace trace) => HeapMachine.Run(mm, ops, scope, trace);
}
