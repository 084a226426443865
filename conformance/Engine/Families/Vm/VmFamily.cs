using FsCheck;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>
/// Kernel virtual memory: vmalloc, ioremap and kmaps through the kernel's page tables and TLB,
/// interleaved with page and kmalloc traffic, context changes and memory pressure.
/// </summary>
public sealed class VmFamily : ConformanceFamily<VmOp>
{
    public override string Name => "vm";
    public override Capability Gate => Capability.Vmalloc;
    /// <summary>Its sequences allocate and count pages around the vmalloc traffic (VmMachine), so a page allocator too.</summary>
    public override IReadOnlyList<Capability> Needs { get; } = [Capability.Vmalloc, Capability.PageAllocator];
    public override string PrimaryRule => "VMAL-1";
    public override IReadOnlyList<string> RuleIds { get; } =
    [
        "ADDR-2", "ADDR-3", "ADDR-5", "ADDR-6", "ADDR-8",
        "ZONE-4",
        "KMAL-6",
        "VMAL-1", "VMAL-2", "VMAL-3", "VMAL-4", "VMAL-5", "VMAL-6",
        "DRV-5",
    ];
    // Its steps also check PAGE-1, PAGE-4, KMAL-1, KMAL-7, GFP-5 and ADDR-11 on the way (the traffic
    // around vmalloc and the final accounting); those rules belong to the page and heap families,
    // and SuiteRunner classifies any rule a run observed.

    public override Gen<VmOp[]> Generator(Profile profile) => VmGen.Sequence(profile);
    public override IEnumerable<VmOp[]> Shrink(VmOp[] ops) => VmGen.Shrink(ops);
    public override void Execute(IMemoryManager mm, VmOp[] ops, CheckScope scope, Trace trace) => VmMachine.Run(mm, ops, scope, trace);
}
