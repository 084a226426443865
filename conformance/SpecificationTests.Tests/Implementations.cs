using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>Wraps a page allocator and swallows every PAGE-4 report: double frees and wrong-order frees pass silently.</summary>
public sealed class SilentBadFreeFactory(IImplementationFactory inner) : IImplementationFactory
{
    public string Name => $"{inner.Name}/silent-bad-free";
    public IMemoryManager? Create(Profile profile) => inner.Create(profile) is { } mm ? new SilentBadFree(mm) : null;

    private sealed class SilentBadFree(IMemoryManager inner) : IMemoryManager, IPageAllocator, IKernelMemory
    {
        private IPageAllocator Pages => (IPageAllocator)inner;
        private IKernelMemory Memory => (IKernelMemory)inner;
        public Profile Profile => inner.Profile;
        public IReadOnlySet<Capability> Capabilities { get; } = new HashSet<Capability> { Capability.PageAllocator };
        public void Dispose() => inner.Dispose();
        public ulong GetFreePages(GfpFlags gfp, int order) => Pages.GetFreePages(gfp, order);
        public ulong GetZeroedPage(GfpFlags gfp) => Pages.GetZeroedPage(gfp);
        public PageHandle AllocPages(GfpFlags gfp, int order) => Pages.AllocPages(gfp, order);
        public void FreePages(ulong addr, int order) { try { Pages.FreePages(addr, order); } catch (KernelBugException) { } }
        public void FreePagesOf(PageHandle page, int order) { try { Pages.FreePagesOf(page, order); } catch (KernelBugException) { } }
        public ulong PageToPfn(PageHandle page) => Pages.PageToPfn(page);
        public PageHandle PfnToPage(ulong pfn) => Pages.PfnToPage(pfn);
        public ulong PageAddress(PageHandle page) => Pages.PageAddress(page);
        public Zone PageZone(PageHandle page) => Pages.PageZone(page);
        public ulong VirtToPhys(ulong addr) => Pages.VirtToPhys(addr);
        public long FreeBlocks(Zone zone, int order) => Pages.FreeBlocks(zone, order);
        public void DrainCaches() => Pages.DrainCaches();
        public void Read(ulong addr, Span<byte> destination) => Memory.Read(addr, destination);
        public void Write(ulong addr, ReadOnlySpan<byte> source) => Memory.Write(addr, source);
    }
}

/// <summary>An implementation that declares the given capabilities and implements none of their interfaces.</summary>
public sealed class DeclaringOnlyFactory(params Capability[] declared) : IImplementationFactory
{
    public string Name => $"declares-{string.Join("+", declared)}";
    public IMemoryManager? Create(Profile profile) => new Stub(profile, declared.ToHashSet());

    private sealed class Stub(Profile profile, IReadOnlySet<Capability> declared) : IMemoryManager
    {
        public Profile Profile => profile;
        public IReadOnlySet<Capability> Capabilities => declared;
        public void Dispose() { }
    }
}

/// <summary>An implementation that supports no profile at all.</summary>
public sealed class RefusingFactory : IImplementationFactory
{
    public string Name => "refuses-everything";
    public IMemoryManager? Create(Profile profile) => null;
}

/// <summary>An implementation of atomic_t only (the reference's counters): every allocator family is n/a for it.</summary>
public sealed class AtomicOnlyFactory : IImplementationFactory
{
    public string Name => "atomic-only";
    public IMemoryManager? Create(Profile profile) => new AtomicOnly(new KernelMm.Reference.ReferenceKernel(profile));

    private sealed class AtomicOnly(KernelMm.Reference.ReferenceKernel inner) : IMemoryManager, IAtomicT
    {
        public Profile Profile => inner.Profile;
        public IReadOnlySet<Capability> Capabilities { get; } = new HashSet<Capability> { Capability.AtomicT };
        public void Dispose() => inner.Dispose();
        public int AtomicCounters => inner.AtomicCounters;
        public int AtomicRead(int v) => inner.AtomicRead(v);
        public void AtomicSet(int v, int i) => inner.AtomicSet(v, i);
        public void AtomicAdd(int i, int v) => inner.AtomicAdd(i, v);
        public void AtomicSub(int i, int v) => inner.AtomicSub(i, v);
        public void AtomicInc(int v) => inner.AtomicInc(v);
        public void AtomicDec(int v) => inner.AtomicDec(v);
        public int AtomicAddReturn(int i, int v) => inner.AtomicAddReturn(i, v);
        public int AtomicSubReturn(int i, int v) => inner.AtomicSubReturn(i, v);
        public int AtomicIncReturn(int v) => inner.AtomicIncReturn(v);
        public int AtomicDecReturn(int v) => inner.AtomicDecReturn(v);
        public bool AtomicSubAndTest(int i, int v) => inner.AtomicSubAndTest(i, v);
        public bool AtomicDecAndTest(int v) => inner.AtomicDecAndTest(v);
        public bool AtomicIncAndTest(int v) => inner.AtomicIncAndTest(v);
        public bool AtomicAddNegative(int i, int v) => inner.AtomicAddNegative(i, v);
    }
}
