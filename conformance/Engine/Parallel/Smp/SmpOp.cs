using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Parallel.Smp;

/// <summary>What one step of SMP allocation traffic does.</summary>
public enum SmpOpKind
{
    /// <summary>Prefix only: kmem_cache_create(size, align) for the branches to use (cache index = creation order).</summary>
    CreateCache,
    GetFreePages,
    AllocPages,
    /// <summary>Frees one of this CPU's page blocks (free_pages / __free_pages), after checking its bytes.</summary>
    FreePages,
    Kmalloc,
    Kzalloc,
    /// <summary>Frees one of this CPU's kmalloc blocks, after checking its bytes.</summary>
    Kfree,
    CacheAlloc,
    /// <summary>Frees one of this CPU's objects of a cache, after checking its bytes.</summary>
    CacheFree,
    /// <summary>Checks the bytes of every block this CPU holds.</summary>
    Verify,
}

/// <summary>One step of SMP traffic. Frees pick among the CPU's own live blocks by <see cref="Slot"/>.</summary>
public readonly record struct SmpOp(SmpOpKind Kind, GfpFlags Gfp = Gfp.Kernel, int Order = 0, int Size = 0, int Slot = 0, int Cache = 0, int Align = 0)
{
    public override string ToString() => Kind switch
    {
        SmpOpKind.CreateCache => $"kmem_cache_create(\"smp{Cache}\", {Size}, {Align}, 0, NULL)",
        SmpOpKind.GetFreePages => $"__get_free_pages({Spec.Contract.Gfp.Describe(Gfp)}, {Order})",
        SmpOpKind.AllocPages => $"alloc_pages({Spec.Contract.Gfp.Describe(Gfp)}, {Order})",
        SmpOpKind.Kmalloc => $"kmalloc({Size}, {Spec.Contract.Gfp.Describe(Gfp)})",
        SmpOpKind.Kzalloc => $"kzalloc({Size}, {Spec.Contract.Gfp.Describe(Gfp)})",
        SmpOpKind.CacheAlloc => $"kmem_cache_alloc(smp{Cache}, {Spec.Contract.Gfp.Describe(Gfp)})",
        SmpOpKind.FreePages => $"free one page block (slot {Slot})",
        SmpOpKind.Kfree => $"kfree one block (slot {Slot})",
        SmpOpKind.CacheFree => $"kmem_cache_free one object (slot {Slot})",
        _ => "check the bytes of every block held",
    };

    public bool Allocates => Kind is SmpOpKind.GetFreePages or SmpOpKind.AllocPages or SmpOpKind.Kmalloc or SmpOpKind.Kzalloc or SmpOpKind.CacheAlloc;
}
