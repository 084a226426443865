using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>IKmalloc: kmalloc on the general caches (Mm/Kmalloc).</summary>
public sealed partial class ReferenceKernel : IKmalloc
{
    public ulong Kmalloc(long size, GfpFlags gfp)
    {
        Alive();
        return KmallocCaches.Alloc(size, gfp);
    }

    public ulong Kzalloc(long size, GfpFlags gfp)
    {
        Alive();
        return KmallocCaches.Alloc(size, gfp | GfpFlags.Zero);
    }

    public ulong Krealloc(ulong p, long size, GfpFlags gfp)
    {
        Alive();
        return KmallocCaches.Realloc(p, size, gfp);
    }

    public void Kfree(ulong p)
    {
        Alive();
        KmallocCaches.Free(p);
    }

    public long Ksize(ulong p)
    {
        Alive();
        return KmallocCaches.Ksize(p);
    }

    /// <summary>The profile's class table and kmalloc(0); krealloc moves whenever the class changes, so no in-place promise.</summary>
    public KmallocInfo KmallocInfo()
    {
        Alive();
        return KmallocCaches.Info();
    }
}
