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
