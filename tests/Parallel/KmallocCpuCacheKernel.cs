using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// kmalloc with a per-CPU object cache in front of a wrapped <see cref="ReferenceKernel"/>'s (as SLAB's
/// array_cache): freed small objects wait in a per-class array and are handed out again first. The
/// page allocator is the wrapped kernel's. Declares PageAllocator, Kmalloc and Smp (its cached objects
/// count as active in slabinfo, so it does not offer the slab statistics). Locked, it is correct;
/// with <paramref name="sharedUnlocked"/> it is the broken variant: the "per-CPU" arrays are shared by
/// every CPU and changed without a lock, so two CPUs can pop the same object.
/// </summary>
public sealed class KmallocCpuCacheKernel(Profile profile, bool sharedUnlocked) : IMemoryManager, IPageAllocator, IKernelMemory, IKmalloc
{
    private const int Limit = 16;
    private const long Largest = 256;
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability> { Capability.PageAllocator, Capability.Kmalloc, Capability.Smp };

    private readonly ReferenceKernel _inner = new(profile);
    private readonly int[] _classes = profile.KmallocClasses.Where(c => c <= Largest).ToArray();
    private readonly ulong[][] _cache = profile.KmallocClasses.Where(c => c <= Largest).Select(_ => new ulong[Limit]).ToArray();
    private readonly int[] _count = new int[profile.KmallocClasses.Count(c => c <= Largest)];
    private readonly Lock _lock = new();
    /// <summary>Small objects handed out by this layer (to tell a valid kfree from a double one).</summary>
    private readonly HashSet<ulong> _mine = [];

    public Profile Profile { get; } = profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public void Dispose() => _inner.Dispose();

    private int ClassOf(long size)
    {
        for (int i = 0; i < _classes.Length; i++) if (_classes[i] >= size) return i;
        return -1;
    }

    private T Locked<T>(Func<T> f)
    {
        if (sharedUnlocked) return f();
        lock (_lock) return f();
    }

    public ulong Kmalloc(long size, GfpFlags gfp)
    {
        int cls = size > 0 && gfp is Gfp.Kernel or Gfp.Atomic ? ClassOf(size) : -1;
        if (cls < 0) return _inner.Kmalloc(size, gfp);
        ulong p = Locked(() =>
        {
            if (_count[cls] == 0) return 0UL;
            int top = --_count[cls];
            ulong o = _cache[cls][top];
            _mine.Add(o);
            return o;
        });
        if (p != 0) return p;
        p = _inner.Kmalloc(_classes[cls], gfp);
        if (p != 0) Locked(() => _mine.Add(p));
        return p;
    }

    public ulong Kzalloc(long size, GfpFlags gfp)
    {
        ulong p = Kmalloc(size, gfp);
        if (p != 0 && size > 0) _inner.Write(p, new byte[size]);
        return p;
    }

    public void Kfree(ulong p)
    {
        if (p == 0) return;
        bool cached = Locked(() =>
        {
            if (!_mine.Remove(p)) return false;
            int cls = ClassOf(_inner.Ksize(p));
            if (cls < 0 || _count[cls] == Limit) return false;
            _cache[cls][_count[cls]++] = p;
            return true;
        });
        if (!cached)
        {
            if (Locked(() => _cache.Where((c, i) => c.AsSpan(0, _count[i]).Contains(p)).Any()))
                throw new KernelBugException("KMAL-6", $"kfree(0x{p:x}): double free (the object is in the per-CPU cache)");
            _inner.Kfree(p);
        }
    }

    public ulong Krealloc(ulong p, long size, GfpFlags gfp)
    {
        ulong q = _inner.Krealloc(p, size, gfp);
        if (q != p && q != 0) Locked(() => _mine.Remove(p));
        return q;
    }

    public long Ksize(ulong p) => _inner.Ksize(p);

    public void DrainCaches()
    {
        var all = Locked(() =>
        {
            var objects = new List<ulong>();
            for (int c = 0; c < _count.Length; c++) { objects.AddRange(_cache[c].AsSpan(0, _count[c]).ToArray()); _count[c] = 0; }
            return objects;
        });
        foreach (var p in all) _inner.Kfree(p);
        _inner.DrainCaches();
    }

    public ulong GetFreePages(GfpFlags gfp, int order) => _inner.GetFreePages(gfp, order);
    public ulong GetZeroedPage(GfpFlags gfp) => _inner.GetZeroedPage(gfp);
    public PageHandle AllocPages(GfpFlags gfp, int order) => _inner.AllocPages(gfp, order);
    public void FreePages(ulong addr, int order) => _inner.FreePages(addr, order);
    public void FreePagesOf(PageHandle page, int order) => _inner.FreePagesOf(page, order);
    public ulong PageToPfn(PageHandle page) => _inner.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => _inner.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => _inner.PageAddress(page);
    public Zone PageZone(PageHandle page) => _inner.PageZone(page);
    public ulong VirtToPhys(ulong addr) => _inner.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => _inner.FreeBlocks(zone, order);
    public void Read(ulong addr, Span<byte> destination) => _inner.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => _inner.Write(addr, source);
}

public sealed class KmallocCpuCacheFactory(bool sharedUnlocked = false) : IImplementationFactory
{
    public string Name => sharedUnlocked ? "kmalloc-cpu-cache/SharedWithoutLock" : "kmalloc-cpu-cache";
    public IMemoryManager? Create(Profile profile) => new KmallocCpuCacheKernel(profile, sharedUnlocked);
}
