namespace KernelMm.Conformance.Families.Vm;

/// <summary>The kinds of step a generated kernel-virtual-memory sequence is made of.</summary>
public enum VmOpKind
{
    // vmalloc family
    Vmalloc, Vzalloc, Vfree, VfreeTwice, VfreeInterior, VfreeForeign, BigVmalloc, WindowOverflow,
    // wrong allocator, wrong conversion
    KfreeVmalloc, FreePagesVmalloc, VirtToPhysVmalloc,
    // contents and translations
    Write, Verify, Translate, TlbFlushPage, TlbFlushAll, TlbScan, ProbeUnmapped,
    // ioremap
    Ioremap, Iounmap, IounmapBad,
    // page, kmalloc and kmap traffic
    PageAlloc, PageFree, Kmalloc, Kfree, Kmap, Kunmap, KmapAtomic, KmapCycle,
    // context
    PreemptDisable, PreemptEnable, IrqEnter, IrqExit,
    // pressure and teardown
    Exhaust, FragmentAll, FreeAll,
}

/// <summary>
/// One generated step. <see cref="Slot"/> picks a live (or freed) object by index modulo the count
/// at run time, so that removing earlier steps while shrinking keeps later ones meaningful;
/// <see cref="Size"/> is a byte size (or an order for pages); <see cref="Arg"/> is extra data
/// (offsets, lengths, which kind of target).
/// </summary>
public sealed record VmOp(VmOpKind Kind, long Size = 0, int Slot = 0, int Arg = 0)
{
    public override string ToString() => Kind switch
    {
        VmOpKind.Vmalloc or VmOpKind.Vzalloc or VmOpKind.Kmalloc => $"{Kind}({Size})",
        VmOpKind.PageAlloc => $"PageAlloc(order {Size}, flags #{Arg % 4})",
        VmOpKind.Ioremap => $"Ioremap({Size} bytes, arg {Arg})",
        _ => $"{Kind}(slot {Slot}, arg {Arg})",
    };
}
