using FsCheck;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>The page allocator, its zones and its GFP context rules, as one generated family.</summary>
public sealed class PageFamily : ConformanceFamily<PageOp>
{
    public override string Name => "pages";
    public override Capability Gate => Capability.PageAllocator;
    public override string PrimaryRule => "PAGE-1";
    public override IReadOnlyList<string> RuleIds { get; } =
    [
        "ADDR-1", "ADDR-2", "ADDR-10", "ADDR-11",
        "ZONE-1", "ZONE-2", "ZONE-3", "ZONE-4",
        "GFP-1", "GFP-2", "GFP-3", "GFP-4", "GFP-5", "GFP-6", "GFP-7",
        "PAGE-1", "PAGE-2", "PAGE-3", "PAGE-4", "PAGE-5", "PAGE-6", "PAGE-7", "PAGE-8",
    ];

    public override Gen<PageOp[]> Generator(Profile profile) => PageGen.Sequence(profile);
    public override IEnumerable<PageOp[]> Shrink(PageOp[] ops) => PageGen.Shrink(ops);
    public override void Execute(IMemoryManager mm, PageOp[] ops, CheckScope scope, Trace trace) => PageMachine.Run(mm, ops, scope, trace);
}
