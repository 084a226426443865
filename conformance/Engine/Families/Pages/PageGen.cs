using FsCheck;
using FsCheck.Fluent;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Conformance.Families.Shared;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>
/// Generates and shrinks page-allocator sequences: valid and invalid calls mixed, with weights
/// that keep most steps valid, reach exhaustion and fragmentation, and visit atomic context.
/// </summary>
public static class PageGen
{
    /// <summary>Flag combinations the generator draws from; GFP_BUFFER is refused where the profile lacks it.</summary>
    public static readonly GfpFlags[] FlagChoices =
    [
        Gfp.Kernel, Gfp.Kernel, Gfp.Atomic, Gfp.Atomic, Gfp.NoWait,
        Gfp.Kernel | GfpFlags.Dma, Gfp.Atomic | GfpFlags.Dma, Gfp.Dma,
        Gfp.Kernel | GfpFlags.HighMem, Gfp.Atomic | GfpFlags.HighMem,
        Gfp.User, Gfp.HighUser, Gfp.Buffer,
        Gfp.Kernel | GfpFlags.Zero, Gfp.Atomic | GfpFlags.HighMem | GfpFlags.Zero,
    ];

    /// <summary>
    /// Masks with a bit no profile has (GFP-7: every allocating call must refuse them): the first
    /// undocumented bits above GFP_BUFFER and the top bit, alone or with a documented combination.
    /// </summary>
    public static readonly GfpFlags[] UnknownFlagChoices =
    [
        Gfp.Kernel | (GfpFlags)0x200, Gfp.Atomic | (GfpFlags)0x400, (GfpFlags)0x8000_0000 | Gfp.Kernel,
        (GfpFlags)0x200, Gfp.HighUser | (GfpFlags)0x400,
    ];

    /// <summary>Mostly documented combinations, now and then one with an unknown bit.</summary>
    public static Gen<GfpFlags> FlagsWithUnknown(int documented, GfpFlags[] choices) =>
        Gen.Frequency((documented, Gen.Elements(choices)), (1, Gen.Elements(UnknownFlagChoices)));

    private static Gen<GfpFlags> Flags => FlagsWithUnknown(30, FlagChoices);

    /// <summary>Mostly small orders, some up to and just past the maximum, rarely negative.</summary>
    private static Gen<int> OrderGen(int maxOrder) => Gen.Frequency(
        (40, Gen.Constant(0)),
        (30, Gen.Choose(1, 3)),
        (15, Gen.Choose(4, maxOrder)),
        (6, Gen.Constant(maxOrder)),
        (4, Gen.Choose(maxOrder + 1, maxOrder + 3)),
        (1, Gen.Constant(-1)));

    private static Gen<int> SlotGen => Gen.Choose(0, 63);

    public static Gen<PageOp> Op(Profile profile)
    {
        int max = profile.MaxOrder;
        Gen<PageOp> Alloc(PageOpKind kind) =>
            from f in Flags from o in OrderGen(max) select new PageOp(kind, f, o);
        Gen<PageOp> WithSlot(PageOpKind kind, Gen<int> arg) =>
            from s in SlotGen from a in arg select new PageOp(kind, Slot: s, Arg: a);
        Gen<PageOp> Simple(PageOpKind kind) => Gen.Constant(new PageOp(kind));

        return Gen.Frequency(
            (14, Alloc(PageOpKind.GetFreePages)),
            (12, Alloc(PageOpKind.AllocPages)),
            (4, from f in Flags select new PageOp(PageOpKind.GetZeroedPage, f)),
            (3, Alloc(PageOpKind.GetDmaPages)),
            (22, WithSlot(PageOpKind.Free, Gen.Constant(0))),
            (3, WithSlot(PageOpKind.FreeWrongOrder, Gen.Choose(1, 3))),
            (3, WithSlot(PageOpKind.DoubleFree, Gen.Constant(0))),
            (2, WithSlot(PageOpKind.FreeInterior, Gen.Choose(1, 1 << 20))),
            (1, WithSlot(PageOpKind.FreeUnaligned, Gen.Choose(1, profile.PageSize - 1))),
            (1, WithSlot(PageOpKind.FreeUnowned, Gen.Choose(0, int.MaxValue))),
            (8, WithSlot(PageOpKind.Write, Gen.Choose(0, int.MaxValue))),
            (4, WithSlot(PageOpKind.Verify, Gen.Constant(0))),
            (4, WithSlot(PageOpKind.Kmap, Gen.Constant(0))),
            (4, WithSlot(PageOpKind.Kunmap, Gen.Constant(0))),
            (3, WithSlot(PageOpKind.KmapAtomic, Gen.Constant(0))),
            (3, Simple(PageOpKind.PreemptDisable)),
            (3, Simple(PageOpKind.PreemptEnable)),
            (2, Simple(PageOpKind.IrqEnter)),
            (2, Simple(PageOpKind.IrqExit)),
            (2, from n in Gen.Choose(1, 64) select new PageOp(PageOpKind.FillPageCache, Arg: n * 16)),
            (1, from f in Flags select new PageOp(PageOpKind.Exhaust, f)),
            (2, from k in Gen.Choose(2, 7) select new PageOp(PageOpKind.Fragment, Gfp.Atomic, Arg: k)),
            (2, Simple(PageOpKind.FreeAll)),
            (1, from n in Gen.Choose(1, 32) select new PageOp(PageOpKind.ReclaimUnderPressure, Arg: n * 16)));
    }

    /// <summary>A sequence whose length grows with FsCheck's size parameter.</summary>
    public static Gen<PageOp[]> Sequence(Profile profile) =>
        Gen.Sized(size => from n in Gen.Choose(1, Math.Max(1, size)) from ops in Op(profile).ArrayOf(n) select ops);

    /// <summary>
    /// Shrinks by removing chunks (halves, quarters, ... single steps), then by simplifying one
    /// step (smaller order, smaller argument, simpler flags).
    /// </summary>
    public static IEnumerable<PageOp[]> Shrink(PageOp[] ops) => SequenceShrink.Candidates(ops, Simplify);

    private static IEnumerable<PageOp> Simplify(PageOp op)
    {
        if (op.Order > 0) yield return op with { Order = op.Order - 1 };
        if (op.Slot > 0) yield return op with { Slot = 0 };
        if (op.Arg > 1 && op.Kind is PageOpKind.FillPageCache or PageOpKind.Fragment) yield return op with { Arg = op.Arg / 2 };
        if (op.Gfp != Gfp.Kernel && op.Gfp != Gfp.Atomic && op.Kind is not PageOpKind.Exhaust)
        {
            bool sleeps = Expectations.GfpSemantics.MaySleep(op.Gfp);
            if (((uint)op.Gfp & ~0x1FFu) != 0) { } // an unknown bit is the point of the step: keep it
            else if (!sleeps && (op.Gfp & GfpFlags.Dma) == 0) yield return op with { Gfp = Gfp.Atomic };
            else if (sleeps && (op.Gfp & (GfpFlags.Dma | GfpFlags.Hardwall | GfpFlags.Buffer2_4)) == 0) yield return op with { Gfp = Gfp.Kernel };
        }
    }
}
