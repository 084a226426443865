using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>The kinds of step a generated page-allocator sequence is made of.</summary>
public enum PageOpKind
{
    // Allocation entry points
    GetFreePages, AllocPages, GetZeroedPage, GetDmaPages,
    // Frees, valid and invalid
    Free, FreeWrongOrder, DoubleFree, FreeInterior, FreeUnaligned, FreeUnowned,
    // Contents
    Write, Verify,
    // Highmem
    Kmap, Kunmap, KmapAtomic,
    // Context
    PreemptDisable, PreemptEnable, IrqEnter, IrqExit,
    // Pressure and bulk scenarios
    FillPageCache, Exhaust, Fragment, FreeAll, ReclaimUnderPressure,
}

/// <summary>
/// One generated step. <see cref="Slot"/> picks a live (or freed) allocation by index modulo the
/// count at run time, so removing earlier steps while shrinking keeps later steps meaningful.
/// <see cref="Arg"/> is the step's number: an order, an order delta, a byte offset, a count.
/// </summary>
public sealed record PageOp(PageOpKind Kind, GfpFlags Gfp = Spec.Contract.Gfp.Kernel, int Order = 0, int Slot = 0, int Arg = 0)
{
    public override string ToString() => Kind switch
    {
        PageOpKind.GetFreePages or PageOpKind.AllocPages or PageOpKind.GetDmaPages =>
            $"{Kind}({Spec.Contract.Gfp.Describe(Gfp)}, order {Order})",
        PageOpKind.GetZeroedPage => $"{Kind}({Spec.Contract.Gfp.Describe(Gfp)})",
        PageOpKind.Exhaust => $"Exhaust({Spec.Contract.Gfp.Describe(Gfp)})",
        PageOpKind.Fragment => $"Fragment(2^{Arg} pages)",
        PageOpKind.FillPageCache => $"FillPageCache({Arg})",
        _ => $"{Kind}(slot {Slot}, arg {Arg})",
    };
}
