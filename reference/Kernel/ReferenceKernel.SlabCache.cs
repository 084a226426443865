using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>ISlab: kmem_cache_* on the SLUB-style slab layer (Mm/SlabCommon, Mm/Slub).</summary>
public sealed partial class ReferenceKernel : ISlab
{
    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill)
    {
        Alive();
        if (size < 0) throw new InvalidArgumentException("size", $"kmem_cache_create: negative size {size}");
        if (align < 0 || (align & (align - 1)) != 0)
            throw new InvalidArgumentException("align", $"kmem_cache_create: align {align} is not 0 or a power of two");
        // GFP-1: kmem_cache_create takes slab_mutex and may sleep.
        _sched.MightSleep($"kmem_cache_create({name})");
        return Slabs.Create(name, size, align, flags, ctorFill);
    }

    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp)
    {
        Alive();
        var c = Slabs.CacheOf(cache, "kmem_cache_alloc");
        _gfp.Check(gfp, "kmem_cache_alloc");
        if (GfpMask.AllowsBlocking(gfp) && _sched.InAtomic) _sched.MightSleep($"kmem_cache_alloc({c.Name}, {Gfp.Describe(gfp)})");
        ulong obj = c.Alloc(gfp, c.ObjectSize);
        if (obj != 0 && (gfp & GfpFlags.Zero) != 0) Slabs.Fill(obj, c.ObjectSize, 0);
        return obj;
    }

    public void KmemCacheFree(SlabCacheHandle cache, ulong obj)
    {
        Alive();
        var c = Slabs.CacheOf(cache, "kmem_cache_free");
        if (obj == 0) return;
        // SLAB-4: the exact start of a live object of this very cache, else refused with nothing changed.
        var slab = _slab!.SlabOf(obj);
        if (slab is null)
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): not a slab object");
        int index = slab.Cache.IndexOf(slab, obj);
        if (index < 0)
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): not the start of an object of {slab.Cache.Name}");
        if (slab.Cache != c)
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): object belongs to cache {slab.Cache.Name}");
        if (slab.Allocated[index] == 0)
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): double free");
        c.Free(slab, index);
    }

    public long KmemCacheShrink(SlabCacheHandle cache)
    {
        Alive();
        return Slabs.CacheOf(cache, "kmem_cache_shrink").Shrink();
    }

    public int KmemCacheDestroy(SlabCacheHandle cache)
    {
        Alive();
        // GFP-1: kmem_cache_destroy takes slab_mutex and may sleep.
        _sched.MightSleep("kmem_cache_destroy");
        return Slabs.Destroy(cache);
    }

    public IReadOnlyList<SlabInfo> SlabInfo()
    {
        Alive();
        KmallocCaches.CreateAllGeneral();
        return Slabs.Info();
    }

    public long ReapCaches()
    {
        Alive();
        return _slab?.Reap() ?? 0;
    }
}
