using FsCheck;
using FsCheck.Fluent;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Conformance.Families.Shared;

namespace KernelMm.Conformance.Families.Heap;

/// <summary>Generates and shrinks kmalloc/slab sequences mixed with page-allocator traffic and context changes.</summary>
public static class HeapGen
{
    private static readonly GfpFlags[] FlagChoices =
    [
        Gfp.Kernel, Gfp.Kernel, Gfp.Kernel, Gfp.Atomic, Gfp.Atomic, Gfp.Kernel | GfpFlags.Dma, Gfp.Atomic | GfpFlags.Dma,
        Gfp.Kernel | GfpFlags.HighMem, Gfp.HighUser, Gfp.Kernel | GfpFlags.Zero, Gfp.Atomic | GfpFlags.Zero,
    ];

    /// <summary>Documented combinations, __GFP_ZERO included (kmalloc with it is kzalloc), and now and then an unknown bit (GFP-7).</summary>
    private static Gen<GfpFlags> Flags => Pages.PageGen.FlagsWithUnknown(40, FlagChoices);

    /// <summary>Sizes: mostly small, many at a class edge (c - 1, c, c + 1), some at and past the kmalloc maximum.</summary>
    public static Gen<long> SizeGen(Profile p)
    {
        var classes = p.KmallocClasses.Select(c => (long)c).ToArray();
        var edge = from c in Gen.Elements(classes) from d in Gen.Choose(-1, 1) select Math.Max(1, c + d);
        var big = from k in Gen.Choose(0, 3)
                  from d in Gen.Choose(-1, 1)
                  select (p.KmallocMaxSize >> k) + d;
        return Gen.Frequency(
            (40, Gen.Choose(1, 256).Select(i => (long)i)),
            (25, edge),
            (12, Gen.Choose(257, 4 * p.PageSize).Select(i => (long)i)),
            (8, big),
            (3, Gen.Constant(0L)),
            (1, Gen.Constant(-1L)));
    }

    private static readonly SlabFlags[] CacheFlagChoices =
    [
        SlabFlags.None, SlabFlags.HwcacheAlign, SlabFlags.Poison, SlabFlags.RedZone, SlabFlags.RedZone | SlabFlags.Poison,
        SlabFlags.CacheDma, SlabFlags.CacheDma | SlabFlags.RedZone, SlabFlags.HwcacheAlign | SlabFlags.RedZone,
        SlabFlags.NoReap, SlabFlags.Panic, SlabFlags.RedZone | SlabFlags.Panic, SlabFlags.Panic | SlabFlags.NoReap,
        // Red-zone caches once more: SLAB-9 needs a live object of one, and reached few on linux-2.4.
        SlabFlags.RedZone, SlabFlags.RedZone | SlabFlags.HwcacheAlign | SlabFlags.Poison,
    ];

    /// <summary>Bits no profile has: kmem_cache_create must refuse them (SLAB-1), like SLAB_NO_REAP outside linux-2.4 (SLAB-13).</summary>
    private static readonly SlabFlags[] UnknownCacheFlagChoices = [(SlabFlags)0x40, SlabFlags.Poison | (SlabFlags)0x8000_0000];

    private static Gen<SlabFlags> CacheFlags =>
        Gen.Frequency((24, Gen.Elements(CacheFlagChoices)), (1, Gen.Elements(UnknownCacheFlagChoices)));

    public static Gen<HeapOp> Op(Profile p)
    {
        Gen<HeapOp> Slotted(HeapOpKind kind) =>
            from s in Gen.Choose(0, 63) from a in Gen.Choose(0, int.MaxValue) select new HeapOp(kind, Slot: s, Arg: a);
        Gen<HeapOp> Simple(HeapOpKind kind) => Gen.Constant(new HeapOp(kind));
        var cacheSize = Gen.Frequency(
            (10, Gen.Choose(1, 512).Select(i => (long)i)),
            (3, Gen.Choose(513, 3 * p.PageSize).Select(i => (long)i)),
            (2, Gen.Elements(p.SlabObjectMax + 1, p.SlabObjectMax / 2, p.SlabObjectMax)));

        return Gen.Frequency(
            (16, from s in SizeGen(p) from f in Flags select new HeapOp(HeapOpKind.Kmalloc, f, s)),
            (5, from s in SizeGen(p) from f in Flags select new HeapOp(HeapOpKind.Kzalloc, f, s)),
            (5, from s in SizeGen(p) from slot in Gen.Choose(0, 63) from f in Flags select new HeapOp(HeapOpKind.Krealloc, f, s, slot)),
            (14, Slotted(HeapOpKind.Kfree)),
            (2, Slotted(HeapOpKind.KfreeTwice)),
            (2, Slotted(HeapOpKind.KfreeInterior)),
            (1, Slotted(HeapOpKind.KfreePageMemory)),
            (2, Slotted(HeapOpKind.KfreeCacheObject)),
            (10, Slotted(HeapOpKind.Write)),
            (4, Slotted(HeapOpKind.Verify)),
            (6, Slotted(HeapOpKind.Overrun)),
            (4, from s in cacheSize
                from align in Gen.Elements(0, 0, 8, 16, 64)
                from f in CacheFlags
                from ctor in Gen.Frequency((3, Gen.Constant(-1)), (1, Gen.Choose(1, 255)))
                select new HeapOp(HeapOpKind.CacheCreate, Size: s, Arg: align | ((ctor & 0x1ff) << 8), Flags: f)),
            (12, from s in Gen.Choose(0, 63) from f in Flags select new HeapOp(HeapOpKind.CacheAlloc, f, Slot: s)),
            (9, Slotted(HeapOpKind.CacheFree)),
            (2, Slotted(HeapOpKind.CacheFreeWrongCache)),
            (2, Slotted(HeapOpKind.CacheFreeTwice)),
            (1, Slotted(HeapOpKind.CacheFreeKmalloc)),
            (3, Slotted(HeapOpKind.CacheShrink)),
            (3, Slotted(HeapOpKind.CacheDestroy)),
            (1, Simple(HeapOpKind.Reap)),
            (4, from o in Gen.Choose(0, 3) from f in Flags select new HeapOp(HeapOpKind.PageAlloc, f, o)),
            (3, Slotted(HeapOpKind.PageFree)),
            (2, Simple(HeapOpKind.PreemptDisable)),
            (2, Simple(HeapOpKind.PreemptEnable)),
            (1, Simple(HeapOpKind.IrqEnter)),
            (1, Simple(HeapOpKind.IrqExit)),
            (1, Simple(HeapOpKind.FreeAll)));
    }

    public static Gen<HeapOp[]> Sequence(Profile p) =>
        Gen.Sized(size => from n in Gen.Choose(1, Math.Max(1, size)) from ops in Op(p).ArrayOf(n) select ops);

    public static IEnumerable<HeapOp[]> Shrink(HeapOp[] ops) => SequenceShrink.Candidates(ops, Simplify);

    private static IEnumerable<HeapOp> Simplify(HeapOp op)
    {
        if (op.Slot > 0) yield return op with { Slot = 0 };
    }
}
