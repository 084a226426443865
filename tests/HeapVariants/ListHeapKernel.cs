using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// A second, independently written heap: the slab caches and the kmalloc family are implemented
/// here, on top of a wrapped <see cref="ReferenceKernel"/>'s public page allocator and kernel memory;
/// the page allocator, memory access, execution context, highmem and reclaim are the wrapped kernel's.
/// Its legal choices differ from the reference's: objects come from the oldest slab with room,
/// highest free slot first (freed slots are reused by address, not by recency); a slab is the
/// smallest block that holds four objects; a new cache gets its first slab at once; kmalloc objects
/// are handed out full of garbage; krealloc stays in place whenever the block is large enough;
/// book-keeping is in dictionaries. An optional <see cref="HeapFault"/> breaks exactly one behaviour.
/// </summary>
public sealed class ListHeapKernel : IMemoryManager, IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim,
    ISlab, IKmalloc
{
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.ExecutionContext, Capability.Highmem, Capability.Reclaim,
        Capability.Kmalloc, Capability.SlabCache,
    };

    private readonly ReferenceKernel _inner;
    private readonly HeapFault _fault;
    // Made on first use, so that booting (even 2 GiB) costs only the wrapped kernel's boot.
    private ListSlabLayer? _slabLayer;
    private ListKmalloc? _kmallocLayer;

    public ListHeapKernel(Profile profile, HeapFault fault = HeapFault.None)
    {
        _inner = new ReferenceKernel(profile);
        _fault = fault;
    }

    public Profile Profile => _inner.Profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public HeapFault Fault => _fault;
    public void Dispose() => _inner.Dispose();

    private ListSlabLayer Slabs => _slabLayer ??= new ListSlabLayer(Profile, _inner, _inner, _fault);
    private ListKmalloc KmallocLayer => _kmallocLayer ??= new ListKmalloc(Slabs, _inner, _fault, () => _inner.InAtomic);

    /// <summary>GFP-1: calls that may sleep are reported in atomic context, before they change anything.</summary>
    private void MightSleep(string call)
    {
        if (_inner.InAtomic)
            throw new KernelBugException("GFP-1", $"sleeping function called from invalid context: {call}");
    }

    // ---- Page allocator (the wrapped kernel's, guarded against freeing slab memory) ---------------------

    public ulong GetFreePages(GfpFlags gfp, int order) => _inner.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _inner.GetZeroedPage(gfp);
    public PageHandle AllocPages(GfpFlags gfp, int order) => _inner.AllocPages(gfp, order);

    public void FreePages(ulong addr, int order)
    {
        GuardHeapPage(addr, $"free_pages(0x{addr:x}, {order})");
        _inner.FreePages(addr, order);
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        ulong addr = 0;
        try { if (!page.IsNull) addr = _inner.PageAddress(page); }
        catch (InvalidArgumentException) { } // not a page descriptor: the wrapped kernel reports it
        if (addr != 0) GuardHeapPage(addr, $"__free_pages({page}, {order})");
        _inner.FreePagesOf(page, order);
    }

    /// <summary>PAGE-4: pages this heap holds (slabs, large kmalloc blocks) are not the caller's to free.</summary>
    private void GuardHeapPage(ulong addr, string call)
    {
        if (_slabLayer?.OwnsPage(addr) == true || _kmallocLayer?.OwnsBlock(addr) == true)
            throw new KernelBugException("PAGE-4", $"{call}: the page belongs to the slab allocator (a slab or a kmalloc block)");
    }

    public ulong PageToPfn(PageHandle page) => _inner.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _inner.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => _inner.PageAddress(page);
    public Zone PageZone(PageHandle page) => _inner.PageZone(page);
    public ulong VirtToPhys(ulong addr) => _inner.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => _inner.FreeBlocks(zone, order);

    /// <summary>Every wholly free slab of this heap's caches back first, then the wrapped kernel's own caches.</summary>
    public void DrainCaches()
    {
        _slabLayer?.ShrinkAll();
        _inner.DrainCaches();
    }

    // ---- Memory, context, highmem, reclaim (the wrapped kernel's) ----------------------------------------

    public void Read(ulong addr, Span<byte> destination) => _inner.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => _inner.Write(addr, source);

    public void PreemptDisable() => _inner.PreemptDisable();
    public void PreemptEnable() => _inner.PreemptEnable();
    public void IrqEnter() => _inner.IrqEnter();
    public void IrqExit() => _inner.IrqExit();
    public bool InInterrupt => _inner.InInterrupt;
    public bool InAtomic => _inner.InAtomic;
    public long Sleeps => _inner.Sleeps;

    public ulong Kmap(PageHandle page) => _inner.Kmap(page);
    public void Kunmap(PageHandle page) => _inner.Kunmap(page);
    public ulong KmapAtomic(PageHandle page) => _inner.KmapAtomic(page);
    public void KunmapAtomic(ulong addr) => _inner.KunmapAtomic(addr);

    public int FillPageCache(int pages) => _inner.FillPageCache(pages);
    public long ReclaimablePages(Zone zone) => _inner.ReclaimablePages(zone);
    public void DropPageCache() => _inner.DropPageCache();

    // ---- Slab caches -----------------------------------------------------------------------------------

    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill)
    {
        MightSleep($"kmem_cache_create({name})");
        return Slabs.Create(name, size, align, flags, ctorFill);
    }

    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp)
    {
        var c = Slabs.CacheOf(cache, "kmem_cache_alloc");
        if (!Profile.Knows(gfp)) throw new InvalidArgumentException("gfp", $"kmem_cache_alloc: {Gfp.Describe(gfp)} does not exist on {Profile.Name}");
        if (Gfp.AllowsBlocking(gfp)) MightSleep($"kmem_cache_alloc({c.Name}, {Gfp.Describe(gfp)})");
        if (_fault == HeapFault.CacheAllocReturnsLiveObject && Slabs.IsLiveIn(c, c.LastHandedOut)) return c.LastHandedOut;
        ulong obj = Slabs.Alloc(c, gfp);
        if (obj == 0) return 0;
        if ((gfp & GfpFlags.Zero) != 0) Slabs.Fill(obj, c.Size, 0);
        if (_fault == HeapFault.ConstructorAtEveryAlloc && c.Ctor is { } fill)
        {
            Slabs.Fill(obj, c.Size, fill);
            c.ConstructorCalls++;
        }
        return obj;
    }

    public void KmemCacheFree(SlabCacheHandle cache, ulong obj)
    {
        var c = Slabs.CacheOf(cache, "kmem_cache_free");
        if (obj == 0) return;
        if (!Slabs.Locate(obj, out var slab, out int index) || index < 0)
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): not an object of any cache");
        if (slab.Free.Contains(index))
            throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): double free (object of {slab.Cache.Name})");
        if (slab.Cache != c)
        {
            if (_fault != HeapFault.WrongCacheFreeAccepted)
                throw new KernelBugException("SLAB-4", $"kmem_cache_free({c.Name}, 0x{obj:x}): the object belongs to {slab.Cache.Name}");
            Slabs.Free(slab, index);
            if (slab.Cache.IsGeneral) KmallocLayer.Forget(obj);
            return;
        }
        Slabs.Free(slab, index);
        if (_fault == HeapFault.FreeNotCounted) c.UncountedFrees++;
    }

    public long KmemCacheShrink(SlabCacheHandle cache)
    {
        var c = Slabs.CacheOf(cache, "kmem_cache_shrink");
        return _fault == HeapFault.ShrinkFreesNothing ? 0 : Slabs.Shrink(c);
    }

    public int KmemCacheDestroy(SlabCacheHandle cache)
    {
        MightSleep("kmem_cache_destroy");
        return cache.IsNull ? 0 : Slabs.Destroy(Slabs.CacheOf(cache, "kmem_cache_destroy"));
    }

    public IReadOnlyList<SlabInfo> SlabInfo()
    {
        KmallocLayer.CreateAll();
        return Slabs.Info();
    }

    public long ReapCaches() => _slabLayer?.Reap() ?? 0;

    // ---- kmalloc ---------------------------------------------------------------------------------------

    public ulong Kmalloc(long size, GfpFlags gfp) => KmallocLayer.Alloc(size, gfp);
    public ulong Kzalloc(long size, GfpFlags gfp) => KmallocLayer.Alloc(size, gfp | GfpFlags.Zero);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => KmallocLayer.Realloc(p, size, gfp);
    public void Kfree(ulong p) => KmallocLayer.Free(p);
    public long Ksize(ulong p) => KmallocLayer.Ksize(p);
}
