using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Heap;

/// <summary>The kinds of step a generated kmalloc/slab sequence is made of.</summary>
public enum HeapOpKind
{
    // kmalloc family
    Kmalloc, Kzalloc, Krealloc, Kfree, KfreeTwice, KfreeInterior, KfreePageMemory, KfreeCacheObject,
    // contents
    Write, Verify, Overrun,
    // slab caches
    CacheCreate, CacheAlloc, CacheFree, CacheFreeWrongCache, CacheFreeTwice, CacheFreeKmalloc,
    CacheShrink, CacheDestroy, Reap,
    // page-allocator traffic and context
    PageAlloc, PageFree, PreemptDisable, PreemptEnable, IrqEnter, IrqExit,
    FreeAll,
}

/// <summary>
/// One generated step. <see cref="Slot"/> picks a live object or cache by index modulo the count at
/// run time; <see cref="Size"/> is a byte size (or order for pages); <see cref="Arg"/> is extra data
/// (offset seed, alignment, flags, constructor byte).
/// </summary>
public sealed record HeapOp(HeapOpKind Kind, GfpFlags Gfp = Spec.Contract.Gfp.Kernel, long Size = 0, int Slot = 0, int Arg = 0, SlabFlags Flags = SlabFlags.None)
{
    public override string ToString() => Kind switch
    {
        HeapOpKind.Kmalloc or HeapOpKind.Kzalloc => $"{Kind}({Size}, {Spec.Contract.Gfp.Describe(Gfp)})",
        HeapOpKind.Krealloc => $"Krealloc(slot {Slot}, {Size})",
        HeapOpKind.CacheCreate => $"CacheCreate({Size}, align {Arg & 0xff}, {Flags})",
        _ => $"{Kind}(slot {Slot}, arg {Arg})",
    };
}
