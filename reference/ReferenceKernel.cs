using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>
/// The reference implementation: one simulated machine booted with a profile. It only wires the
/// contract to the subsystems in Mm/ (one file per kernel concept) and checks arguments; the
/// allocators themselves live there.
/// </summary>
public sealed class ReferenceKernel : IMemoryManager, IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim,
    ISlab, IKmalloc
{
    private static readonly IReadOnlySet<Capability> Supported = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.ExecutionContext, Capability.Highmem, Capability.Reclaim,
        Capability.Kmalloc, Capability.SlabCache,
    };

    private readonly MemMap _map;
    private readonly PhysicalMemory _memory;
    private readonly PageAlloc _pages;
    private readonly Sched _sched = new();
    private readonly DirectMap _direct;
    private readonly Highmem _highmem;
    private readonly Vmscan _vmscan;
    private readonly int _pageSize;
    private readonly int _maxOrder;
    // The slab layer is made on first use: most booted machines never touch it.
    private SlabCommon? _slab;
    private Mm.Kmalloc? _kmalloc;
    private SlabCommon Slabs => _slab ??= new SlabCommon(Profile, _map, _memory, _pages, _direct, AllocPagesPfn);
    private Mm.Kmalloc KmallocCaches => _kmalloc ??= new Mm.Kmalloc(Slabs, _sched);

    public ReferenceKernel(Profile profile)
    {
        Profile = profile;
        int frames = checked((int)profile.TotalPages);
        _pageSize = profile.PageSize;
        _maxOrder = profile.MaxOrder;
        _map = MemMap.Rent(frames);
        _memory = new PhysicalMemory(frames, profile.PageSize);
        _pages = new PageAlloc(profile, _map, _memory);
        _direct = new DirectMap(profile);
        _highmem = new Highmem(profile);
        _vmscan = new Vmscan(_pages, _map, _sched);
    }

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities => Supported;
    /// <summary>Shuts the machine down; its page map is recycled, so the instance must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _map.Return();
    }

    private bool _disposed;

    // ---- Page allocator ------------------------------------------------------------------

    public ulong GetFreePages(GfpFlags gfp, int order)
    {
        // ZONE-3: an address-returning call strips __GFP_HIGHMEM, as __get_free_pages does.
        int pfn = AllocPagesPfn(gfp & ~GfpFlags.HighMem, order, "__get_free_pages");
        return pfn < 0 ? 0 : _direct.PfnToVirt(pfn);
    }

    public ulong GetZeroedPage(GfpFlags gfp) => GetFreePages(gfp | GfpFlags.Zero, 0);

    public PageHandle AllocPages(GfpFlags gfp, int order)
    {
        int pfn = AllocPagesPfn(gfp, order, "alloc_pages");
        return pfn < 0 ? PageHandle.Null : Handle(pfn);
    }

    /// <summary>__alloc_pages: checks, fast path, then the slow path (reclaim, drain) for what allows it.</summary>
    private int AllocPagesPfn(GfpFlags gfp, int order, string caller)
    {
        if (order < 0) throw new InvalidArgumentException("order", $"{caller}: negative order {order}");
        if (!Profile.Knows(gfp)) throw new InvalidArgumentException("gfp", $"{caller}: {Gfp.Describe(gfp)} does not exist on {Profile.Name}");
        // PAGE-2: an order above the maximum fails before anything else (WARN and NULL in the kernel).
        if (order > _maxOrder) return -1;
        bool mayBlock = Gfp.AllowsBlocking(gfp);
        // GFP-1: might_sleep_if(gfpflags_allow_blocking(gfp)).
        if (mayBlock && _sched.InAtomic) _sched.MightSleep($"{caller}({Gfp.Describe(gfp)}, order {order})");

        var zones = Gfp.AllowedZones(gfp);
        bool reserve = Gfp.MayUseReserve(gfp);
        int pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        if (pfn < 0 && mayBlock)
        {
            // GFP-4: a sleeping request reclaims until it succeeds or nothing reclaimable is left.
            while (pfn < 0 && _vmscan.Reclaim(zones) > 0)
                pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        }
        if (pfn < 0)
        {
            // Last resort: per-CPU pages back to the buddy lists, where they may coalesce.
            _pages.DrainPcp();
            pfn = _pages.GetPageFromFreelist(zones, order, reserve);
        }
        if (pfn >= 0 && (gfp & GfpFlags.Zero) != 0) _pages.Zero(pfn, order);
        return pfn;
    }

    public void FreePages(ulong addr, int order)
    {
        if (addr == 0) return;
        // PAGE-4: only the exact address and order of a live allocation may be freed.
        if (!_direct.Contains(addr) || (addr & (ulong)(_pageSize - 1)) != 0)
            throw new KernelBugException("PAGE-4", $"free_pages(0x{addr:x}, {order}): not the address of a page allocation");
        FreeChecked((int)(_direct.VirtToPhys(addr) >> _direct.PageShift), order, "free_pages");
    }

    public void FreePagesOf(PageHandle page, int order)
    {
        if (page.IsNull) return;
        if (!TryPfn(page, out int pfn))
            throw new KernelBugException("PAGE-4", $"__free_pages({page}, {order}): not a page descriptor");
        FreeChecked(pfn, order, "__free_pages");
    }

    private void FreeChecked(int pfn, int order, string caller)
    {
        var state = _map.State[pfn];
        if (state != PageState.Allocated)
            throw new KernelBugException("PAGE-4", state switch
            {
                PageState.Buddy or PageState.PerCpu => $"{caller}: double free of pfn 0x{pfn:x}",
                PageState.Slab => $"{caller}: pfn 0x{pfn:x} belongs to the slab allocator (a slab or a kmalloc block)",
                _ => $"{caller}: pfn 0x{pfn:x} is not the first page of an allocation (state {state})",
            });
        if (_map.Order[pfn] != order)
            throw new KernelBugException("PAGE-4", $"{caller}: pfn 0x{pfn:x} freed with order {order}, allocated with order {_map.Order[pfn]}");
        if (!_direct.IsLowPfn(pfn) && _highmem.IsMapped(pfn))
            throw new KernelBugException("ZONE-4", $"{caller}: pfn 0x{pfn:x} is still kmapped");
        _pages.Free(pfn, order);
    }

    public ulong PageToPfn(PageHandle page) => (ulong)PfnOf(page);

    public PageHandle PfnToPage(ulong pfn) =>
        pfn < (ulong)_map.Frames ? Handle((int)pfn) : throw new InvalidArgumentException("pfn", $"pfn 0x{pfn:x} is beyond RAM");

    public ulong PageAddress(PageHandle page)
    {
        int pfn = PfnOf(page);
        return _direct.IsLowPfn(pfn) ? _direct.PfnToVirt(pfn) : _highmem.AddressOf(pfn);
    }

    public Zone PageZone(PageHandle page) => _pages.ZoneOf(PfnOf(page)).Id;

    public ulong VirtToPhys(ulong addr) =>
        _direct.Contains(addr) ? _direct.VirtToPhys(addr)
        : throw new InvalidArgumentException("addr", $"virt_to_phys(0x{addr:x}): not a direct-mapped address");

    public long FreeBlocks(Zone zone, int order) => _pages.FreeBlocks(zone, order);

    public void DrainCaches()
    {
        // Empty slabs first (their order-0 pages land on the per-CPU lists), then the per-CPU lists.
        _slab?.ShrinkAll();
        _pages.DrainPcp();
    }

    private static PageHandle Handle(int pfn) => new((ulong)pfn + 1);

    private bool TryPfn(PageHandle page, out int pfn)
    {
        pfn = (int)Math.Min(page.Value - 1, int.MaxValue);
        return !page.IsNull && page.Value <= (ulong)_map.Frames;
    }

    private int PfnOf(PageHandle page) =>
        TryPfn(page, out int pfn) ? pfn : throw new InvalidArgumentException("page", $"{page} is not a page descriptor");

    // ---- Kernel memory -------------------------------------------------------------------

    public void Read(ulong addr, Span<byte> destination)
    {
        CheckMapped(addr, destination.Length);
        for (int done = 0; done < destination.Length;)
        {
            TryTranslate(addr + (ulong)done, out int pfn, out int offset);
            int len = Math.Min(destination.Length - done, _pageSize - offset);
            _memory.Read(pfn, offset, destination.Slice(done, len));
            done += len;
        }
    }

    public void Write(ulong addr, ReadOnlySpan<byte> source)
    {
        // The whole range is checked first, so a faulting write changes nothing.
        CheckMapped(addr, source.Length);
        for (int done = 0; done < source.Length;)
        {
            TryTranslate(addr + (ulong)done, out int pfn, out int offset);
            int len = Math.Min(source.Length - done, _pageSize - offset);
            _memory.Write(pfn, offset, source.Slice(done, len));
            done += len;
        }
    }

    private void CheckMapped(ulong addr, int length)
    {
        for (int done = 0; done < length;)
        {
            ulong at = addr + (ulong)done;
            if (!TryTranslate(at, out _, out int offset))
                throw new KernelPageFaultException(at, "no kernel mapping");
            done += _pageSize - offset;
        }
    }

    private bool TryTranslate(ulong addr, out int pfn, out int offset)
    {
        if (_direct.Contains(addr))
        {
            ulong pa = _direct.VirtToPhys(addr);
            pfn = (int)(pa >> _direct.PageShift);
            offset = (int)(pa & (ulong)(_pageSize - 1));
            return true;
        }
        return _highmem.TryTranslate(addr, out pfn, out offset);
    }

    // ---- Execution context ---------------------------------------------------------------

    public void PreemptDisable() => _sched.PreemptDisable();
    public void PreemptEnable() => _sched.PreemptEnable();
    public void IrqEnter() => _sched.IrqEnter();
    public void IrqExit() => _sched.IrqExit();
    public bool InInterrupt => _sched.InInterrupt;
    public bool InAtomic => _sched.InAtomic;
    public long Sleeps => _sched.Sleeps;

    // ---- Highmem -------------------------------------------------------------------------

    public ulong Kmap(PageHandle page)
    {
        int pfn = PfnOf(page);
        // ZONE-4 decision: kmap may sleep (waiting for a free slot), so it is reported in atomic context.
        _sched.MightSleep("kmap");
        if (_direct.IsLowPfn(pfn)) return _direct.PfnToVirt(pfn);
        ulong addr = _highmem.Map(pfn);
        if (addr == 0) throw new KernelBugException("ZONE-4", "kmap: every PKMAP slot is in use (the kernel would sleep forever here)");
        return addr;
    }

    public void Kunmap(PageHandle page)
    {
        int pfn = PfnOf(page);
        if (_direct.IsLowPfn(pfn)) return;
        _highmem.Unmap(pfn);
    }

    public ulong KmapAtomic(PageHandle page)
    {
        int pfn = PfnOf(page);
        return _highmem.MapAtomic(pfn, _direct.IsLowPfn(pfn) ? _direct.PfnToVirt(pfn) : 0);
    }

    public void KunmapAtomic(ulong addr) => _highmem.UnmapAtomic(addr);

    // ---- Reclaim -------------------------------------------------------------------------

    public int FillPageCache(int pages) =>
        pages >= 0 ? _vmscan.Fill(pages) : throw new InvalidArgumentException("pages", "negative page count");

    public long ReclaimablePages(Zone zone) => _vmscan.Reclaimable(zone);

    public void DropPageCache() => _vmscan.DropAll();

    // ---- Slab caches ---------------------------------------------------------------------

    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"kmem_cache_create: negative size {size}");
        if (align < 0 || (align & (align - 1)) != 0)
            throw new InvalidArgumentException("align", $"kmem_cache_create: align {align} is not 0 or a power of two");
        // GFP-1: kmem_cache_create takes slab_mutex and may sleep.
        _sched.MightSleep($"kmem_cache_create({name})");
        return Slabs.Create(name, size, align, flags, ctorFill);
    }

    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp)
    {
        var c = Slabs.CacheOf(cache, "kmem_cache_alloc");
        if (!Profile.Knows(gfp)) throw new InvalidArgumentException("gfp", $"kmem_cache_alloc: {Gfp.Describe(gfp)} does not exist on {Profile.Name}");
        if (Gfp.AllowsBlocking(gfp) && _sched.InAtomic) _sched.MightSleep($"kmem_cache_alloc({c.Name}, {Gfp.Describe(gfp)})");
        ulong obj = c.Alloc(gfp, c.ObjectSize);
        if (obj != 0 && (gfp & GfpFlags.Zero) != 0) Slabs.Fill(obj, c.ObjectSize, 0);
        return obj;
    }

    public void KmemCacheFree(SlabCacheHandle cache, ulong obj)
    {
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

    public long KmemCacheShrink(SlabCacheHandle cache) => Slabs.CacheOf(cache, "kmem_cache_shrink").Shrink();

    public int KmemCacheDestroy(SlabCacheHandle cache)
    {
        // GFP-1: kmem_cache_destroy takes slab_mutex and may sleep.
        _sched.MightSleep("kmem_cache_destroy");
        return Slabs.Destroy(cache);
    }

    public IReadOnlyList<SlabInfo> SlabInfo()
    {
        KmallocCaches.CreateAllGeneral();
        return Slabs.Info();
    }

    public long ReapCaches() => _slab?.Reap() ?? 0;

    // ---- kmalloc -------------------------------------------------------------------------

    public ulong Kmalloc(long size, GfpFlags gfp) => KmallocCaches.Alloc(size, gfp);

    public ulong Kzalloc(long size, GfpFlags gfp) => KmallocCaches.Alloc(size, gfp | GfpFlags.Zero);

    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => KmallocCaches.Realloc(p, size, gfp);

    public void Kfree(ulong p) => KmallocCaches.Free(p);

    public long Ksize(ulong p) => KmallocCaches.Ksize(p);
}

/// <summary>Boots <see cref="ReferenceKernel"/> instances; supports every profile.</summary>
public sealed class ReferenceFactory : IImplementationFactory
{
    public string Name => "reference";
    public IMemoryManager? Create(Profile profile) => new ReferenceKernel(profile);
}
