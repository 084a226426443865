using FsCheck;
using FsCheck.Fluent;
using KernelMm.Spec.Profiles;
using KernelMm.Conformance.Families.Shared;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>
/// Generates and shrinks kernel-virtual-memory sequences: vmalloc, vfree, ioremap and kmaps mixed
/// with page and kmalloc traffic, translations and TLB flushes, context changes and pressure.
/// </summary>
public static class VmGen
{
    /// <summary>
    /// vmalloc sizes: mostly a few pages, many one byte around a page boundary (k pages - 1, k pages,
    /// k pages + 1), some larger, a few around and above the largest physically contiguous block,
    /// and the edge cases (0, negative, more than RAM).
    /// </summary>
    public static Gen<long> SizeGen(Profile p)
    {
        long page = p.PageSize, block = page << p.MaxOrder;
        var edge = from k in Gen.Choose(1, 8) from d in Gen.Choose(-1, 1) select k * page + d;
        var big = from d in Gen.Elements(-page, 1, page) select block + d;
        return Gen.Frequency(
            (30, Gen.Choose(1, 4 * (int)page).Select(i => (long)i)),
            (22, edge),
            (10, Gen.Choose(5, 64).Select(k => k * page)),
            (3, big),
            (1, Gen.Choose(2, 3).Select(k => k * block)),
            (2, Gen.Constant(0L)),
            (1, Gen.Constant(-1L)),
            (1, Gen.Constant((long)p.PhysicalMemory + page)));
    }

    public static Gen<VmOp> Op(Profile p)
    {
        Gen<VmOp> Slotted(VmOpKind kind) =>
            from s in Gen.Choose(0, 63) from a in Gen.Choose(0, int.MaxValue) select new VmOp(kind, Slot: s, Arg: a);
        Gen<VmOp> Simple(VmOpKind kind) => Gen.Constant(new VmOp(kind));
        var sizes = SizeGen(p);
        var ioSizes = Gen.Frequency(
            (4, Gen.Choose(1, 16).Select(k => (long)k * p.PageSize)),
            (3, Gen.Choose(1, 3 * p.PageSize).Select(i => (long)i)),
            (1, Gen.Constant(0L)));

        return Gen.Frequency(
            (14, from s in sizes select new VmOp(VmOpKind.Vmalloc, s)),
            (4, from s in sizes select new VmOp(VmOpKind.Vzalloc, s)),
            (10, Slotted(VmOpKind.Vfree)),
            (2, Slotted(VmOpKind.VfreeTwice)),
            (2, Slotted(VmOpKind.VfreeInterior)),
            (2, Slotted(VmOpKind.VfreeForeign)),
            (2, Slotted(VmOpKind.BigVmalloc)),
            (1, Simple(VmOpKind.WindowOverflow)),
            (1, Slotted(VmOpKind.KfreeVmalloc)),
            (1, Slotted(VmOpKind.FreePagesVmalloc)),
            (2, Slotted(VmOpKind.VirtToPhysVmalloc)),
            (9, Slotted(VmOpKind.Write)),
            (4, Slotted(VmOpKind.Verify)),
            (6, Slotted(VmOpKind.Translate)),
            (2, Slotted(VmOpKind.TlbFlushPage)),
            (1, Slotted(VmOpKind.TlbFlushAll)),
            (1, Slotted(VmOpKind.TlbScan)),
            (3, Slotted(VmOpKind.ProbeUnmapped)),
            (4, from s in ioSizes from slot in Gen.Choose(0, 63) from a in Gen.Choose(0, int.MaxValue) select new VmOp(VmOpKind.Ioremap, s, slot, a)),
            (3, Slotted(VmOpKind.Iounmap)),
            (1, Slotted(VmOpKind.IounmapBad)),
            (4, from o in Gen.Choose(0, 3) from a in Gen.Choose(0, int.MaxValue) select new VmOp(VmOpKind.PageAlloc, o, Arg: a)),
            (3, Slotted(VmOpKind.PageFree)),
            (3, from s in Gen.Choose(1, 8192) select new VmOp(VmOpKind.Kmalloc, s)),
            (2, Slotted(VmOpKind.Kfree)),
            (3, Slotted(VmOpKind.Kmap)),
            (3, Slotted(VmOpKind.Kunmap)),
            (2, Slotted(VmOpKind.KmapAtomic)),
            (1, Simple(VmOpKind.KmapCycle)),
            (2, Simple(VmOpKind.PreemptDisable)),
            (2, Simple(VmOpKind.PreemptEnable)),
            (1, Simple(VmOpKind.IrqEnter)),
            (1, Simple(VmOpKind.IrqExit)),
            (1, Simple(VmOpKind.Exhaust)),
            (1, Simple(VmOpKind.FragmentAll)),
            (2, Simple(VmOpKind.FreeAll)));
    }

    /// <summary>A sequence whose length grows with FsCheck's size parameter.</summary>
    public static Gen<VmOp[]> Sequence(Profile p)
    {
        var op = Op(p);
        return Gen.Sized(size => from n in Gen.Choose(1, Math.Max(1, size)) from ops in op.ArrayOf(n) select ops);
    }

    /// <summary>Shrinks by removing chunks (halves, quarters, ... single steps), then by simplifying one step (slot 0, smaller size).</summary>
    public static IEnumerable<VmOp[]> Shrink(VmOp[] ops) => SequenceShrink.Candidates(ops, Simplify);

    private static IEnumerable<VmOp> Simplify(VmOp op)
    {
        if (op.Slot > 0) yield return op with { Slot = 0 };
    }
}
