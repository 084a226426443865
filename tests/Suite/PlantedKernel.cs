using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Suite;

/// <summary>
/// The reference booted with a profile record that carries a planted wrong value, reporting the
/// profile it was asked for: whatever it derives from the shared data is wrong, while everything
/// it says about itself looks right. The suite must notice from its own derivation.
/// </summary>
internal sealed class PlantedKernel(Profile asked, Profile planted) : IMemoryManager, IPageAllocator, IKernelMemory,
    IExecutionContext, IHighmem, IReclaim, IKmalloc, ISlab, IVmalloc, IKernelPageTables, ITlb
{
    private readonly ReferenceKernel _k = new(planted);

    public Profile Profile => asked;
    // The reference's capabilities that this wrapper forwards (it offers no atomic_t and promises no Smp).
    public IReadOnlySet<Capability> Capabilities =>
        _k.Capabilities.Where(c => c != Capability.Smp && KernelMm.Spec.Contract.Capabilities.InterfaceFor(c) is { } t && t.IsInstanceOfType(this)).ToHashSet();
    public void Dispose() => _k.Dispose();

    public ulong GetFreePages(GfpFlags gfp, int order) => _k.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _k.GetZeroedPage(gfp);
    public void FreePages(ulong addr, int order) => _k.FreePages(addr, order);
    public PageHandle AllocPages(GfpFlags gfp, int order) => _k.AllocPages(gfp, order);
    public void FreePagesOf(PageHandle page, int order) => _k.FreePagesOf(page, order);
    public ulong PageToPfn(PageHandle page) => _k.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _k.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => _k.PageAddress(page);
    public Zone PageZone(PageHandle page) => _k.PageZone(page);
    public ulong VirtToPhys(ulong addr) => _k.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => _k.FreeBlocks(zone, order);
    public void DrainCaches() => _k.DrainCaches();
    public ZoneInfo? ZoneInfo() => _k.ZoneInfo();
    public void Read(ulong addr, Span<byte> destination) => _k.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => _k.Write(addr, source);
    public void PreemptDisable() => _k.PreemptDisable();
    public void PreemptEnable() => _k.PreemptEnable();
    public void IrqEnter() => _k.IrqEnter();
    public void IrqExit() => _k.IrqExit();
    public bool InInterrupt => _k.InInterrupt;
    public bool InAtomic => _k.InAtomic;
    public long Sleeps => _k.Sleeps;
    public ulong Kmap(PageHandle page) => _k.Kmap(page);
    public void Kunmap(PageHandle page) => _k.Kunmap(page);
    public ulong KmapAtomic(PageHandle page) => _k.KmapAtomic(page);
    public void KunmapAtomic(ulong addr) => _k.KunmapAtomic(addr);
    public int FillPageCache(int pages) => _k.FillPageCache(pages);
    public long ReclaimablePages(Zone zone) => _k.ReclaimablePages(zone);
    public void DropPageCache() => _k.DropPageCache();
    public ulong Kmalloc(long size, GfpFlags gfp) => _k.Kmalloc(size, gfp);
    public ulong Kzalloc(long size, GfpFlags gfp) => _k.Kzalloc(size, gfp);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => _k.Krealloc(p, size, gfp);
    public void Kfree(ulong p) => _k.Kfree(p);
    public long Ksize(ulong p) => _k.Ksize(p);
    public KmallocInfo? KmallocInfo() => _k.KmallocInfo();
    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill) => _k.KmemCacheCreate(name, size, align, flags, ctorFill);
    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp) => _k.KmemCacheAlloc(cache, gfp);
    public void KmemCacheFree(SlabCacheHandle cache, ulong obj) => _k.KmemCacheFree(cache, obj);
    public long KmemCacheShrink(SlabCacheHandle cache) => _k.KmemCacheShrink(cache);
    public int KmemCacheDestroy(SlabCacheHandle cache) => _k.KmemCacheDestroy(cache);
    public IReadOnlyList<SlabInfo> SlabInfo() => _k.SlabInfo();
    public long ReapCaches() => _k.ReapCaches();
    public ulong Vmalloc(long size) => _k.Vmalloc(size);
    public ulong Vzalloc(long size) => _k.Vzalloc(size);
    public void Vfree(ulong addr) => _k.Vfree(addr);
    public ulong VmallocToPfn(ulong addr) => _k.VmallocToPfn(addr);
    public bool IsVmallocAddr(ulong addr) => _k.IsVmallocAddr(addr);
    public Translation Translate(ulong addr, Access access) => _k.Translate(addr, access);
    public ulong Ioremap(ulong physAddr, long size) => _k.Ioremap(physAddr, size);
    public void Iounmap(ulong addr) => _k.Iounmap(addr);
    public long PageTablePages => _k.PageTablePages;
    public Translation TlbTranslate(ulong addr, Access access) => _k.TlbTranslate(addr, access);
    public long TlbHits => _k.TlbHits;
    public long TlbMisses => _k.TlbMisses;
    public int TlbEntries => _k.TlbEntries;
    public void FlushTlbKernelRange(ulong start, ulong end) => _k.FlushTlbKernelRange(start, end);
    public void FlushTlbAll() => _k.FlushTlbAll();
}

/// <summary>Boots <see cref="PlantedKernel"/>s: the profile asked for, with one value changed by <paramref name="plant"/>.</summary>
internal sealed class PlantedFactory(string name, Func<Profile, Profile> plant) : IImplementationFactory
{
    public string Name => $"reference/planted {name}";
    public IMemoryManager? Create(Profile profile) => new PlantedKernel(profile, plant(profile));
}
