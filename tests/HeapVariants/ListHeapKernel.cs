using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// A second, independently written heap: the slab caches and the kmalloc family are implemented
/// here, on top of a wrapped kernel's public page allocator and kernel memory (a <see cref="ReferenceKernel"/>
/// unless another is given, e.g. a Linux-watermark <see cref="Variants.TreeKernel"/>); the page
/// allocator, memory access, execution context, highmem and reclaim are the wrapped kernel's.
/// The kmalloc choices the documents leave open come from <see cref="HeapChoices"/> and are declared.
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

    private readonly IMemoryManager _inner;
    private readonly IPageAllocator _pages;
    private readonly IKernelMemory _memory;
    private readonly IExecutionContext _ctx;
    private readonly IHighmem _highmem;
    private readonly IReclaim _reclaim;
    private readonly HeapFault _fault;
    private readonly HeapChoices _choices;
    /// <summary>The GFP bits this heap accepts: the eight modifiers, GFP_BUFFER's bit on 2.4 (its own reading).</summary>
    private readonly GfpFlags _validGfp;
    // Made on first use, so that booting (even 2 GiB) costs only the wrapped kernel's boot.
    private ListSlabLayer? _slabLayer;
    private ListKmalloc? _kmallocLayer;

    public ListHeapKernel(Profile profile, HeapFault fault = HeapFault.None, HeapChoices? choices = null, IMemoryManager? pages = null)
    {
        _inner = pages ?? new ReferenceKernel(profile);
        _pages = (IPageAllocator)_inner;
        _memory = (IKernelMemory)_inner;
        _ctx = (IExecutionContext)_inner;
        _highmem = (IHighmem)_inner;
        _reclaim = (IReclaim)_inner;
        _fault = fault;
        _choices = choices ?? HeapChoices.ProfileDefault(profile);
        _validGfp = (GfpFlags)0xFF | (profile.HasGfpBuffer ? GfpFlags.Buffer2_4 : 0);
    }

    public Profile Profile => _inner.Profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public HeapFault Fault => _fault;
    public void Dispose() => _inner.Dispose();

    private ListSlabLayer Slabs => _slabLayer ??= new ListSlabLayer(Profile, _pages, _memory, _fault);
    private ListKmalloc KmallocLayer => _kmallocLayer ??= new ListKmalloc(Slabs, _pages, _fault, _choices, _validGfp, () => _ctx.InAtomic);

    /// <summary>GFP-1: calls that may sleep are reported in atomic context, before they change anything.</summary>
    private void MightSleep(string call)
    {
        if (_ctx.InAtomic)
            throw new KernelBugException("GFP-1", $"sleeping function called from invalid context: {call}");
    }

    // ---- Page allocator (the wrapped kernel's, guarded against freeing slab memory) ---------------------

    public ulong GetFreePages(GfpFlags gfp, int order) => _pages.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _pages.GetZeroedPage(gfp);
    public PageHandle AllocPages(GfpFlags gfp, int order) => _pages.AllocPages(gfp, order);

    public void FreePages(ulong addr, int order)
    {
        GuardHeapPage(addr, $"free_pages(0x{addr:x}, {order})");
        _pages.FreePages(addr, order);
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        ulong addr = 0;
        try { if (!page.IsNull) addr = _pages.PageAddress(page); }
        catch (InvalidArgumentException) { } // not a page descriptor: the wrapped kernel reports it
        if (addr != 0) GuardHeapPage(addr, $"__free_pages({page}, {order})");
        _pages.FreePagesOf(page, order);
    }

    /// <summary>PAGE-4: pages this heap holds (slabs, large kmalloc blocks) are not the caller's to free.</summary>
    private void GuardHeapPage(ulong addr, string call)
    {
        if (_slabLayer?.OwnsPage(addr) == true || _kmallocLayer?.OwnsBlock(addr) == true)
            throw new KernelBugException("PAGE-4", $"{call}: the page belongs to the slab allocator (a slab or a kmalloc block)");
    }

    public ulong PageToPfn(PageHandle page) => _pages.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _pages.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => _pages.PageAddress(page);
    public Zone PageZone(PageHandle page) => _pages.PageZone(page);
    public ulong VirtToPhys(ulong addr) => _pages.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => _pages.FreeBlocks(zone, order);

    /// <summary>Every wholly free slab of this heap's caches back first, then the wrapped kernel's own caches.</summary>
    /// <summary>/proc/zoneinfo: the wrapped page allocator's.</summary>
    public ZoneInfo? ZoneInfo() => _pages.ZoneInfo();

    public void DrainCaches()
    {
        _slabLayer?.ShrinkAll();
        _pages.DrainCaches();
    }

    // ---- Memory, context, highmem, reclaim (the wrapped kernel's) ----------------------------------------

    public void Read(ulong addr, Span<byte> destination) => _memory.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => _memory.Write(addr, source);

    public void PreemptDisable() => _ctx.PreemptDisable();
    public void PreemptEnable() => _ctx.PreemptEnable();
    public void IrqEnter() => _ctx.IrqEnter();
    public void IrqExit() => _ctx.IrqExit();
    public bool InInterrupt => _ctx.InInterrupt;
    public bool InAtomic => _ctx.InAtomic;
    public long Sleeps => _ctx.Sleeps;

    public ulong Kmap(PageHandle page) => _highmem.Kmap(page);
    public void Kunmap(PageHandle page) => _highmem.Kunmap(page);
    public ulong KmapAtomic(PageHandle page) => _highmem.KmapAtomic(page);
    public void KunmapAtomic(ulong addr) => _highmem.KunmapAtomic(addr);

    public int FillPageCache(int pages) => _reclaim.FillPageCache(pages);
    public long ReclaimablePages(Zone zone) => _reclaim.ReclaimablePages(zone);
    public void DropPageCache() => _reclaim.DropPageCache();

    // ---- Slab caches -----------------------------------------------------------------------------------

    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill)
    {
        MightSleep($"kmem_cache_create({name})");
        return Slabs.Create(name, size, align, flags, ctorFill);
    }

    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp)
    {
        var c = Slabs.CacheOf(cache, "kmem_cache_alloc");
        if ((gfp & ~_validGfp) != 0) throw new InvalidArgumentException("gfp", $"kmem_cache_alloc: {Gfp.Describe(gfp)} has bits that do not exist on {Profile.Name}");
        if ((gfp & GfpFlags.DirectReclaim) != 0) MightSleep($"kmem_cache_alloc({c.Name}, {Gfp.Describe(gfp)})");
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
    public ulong Kzalloc(long size, GfpFlags gfp) => KmallocLayer.Alloc(size, gfp, zero: true);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => KmallocLayer.Realloc(p, size, gfp);
    public void Kfree(ulong p) => KmallocLayer.Free(p);
    public long Ksize(ulong p) => KmallocLayer.Ksize(p);
    public KmallocInfo KmallocInfo() => _choices.Declare();
}
