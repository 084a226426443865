using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// The kmalloc family of <see cref="ListHeapKernel"/>: general caches per class of its
/// <see cref="HeapChoices"/> (and DMA twins), made on first use; requests above the largest class
/// straight from the page allocator. Fresh kmalloc objects are filled with garbage (kmalloc does not
/// zero); kzalloc and __GFP_ZERO zero exactly the requested bytes; krealloc stays in place whenever
/// the block already holds the new size (and, unless the choices say Linux's way, suits the flags' zone).
/// </summary>
internal sealed class ListKmalloc
{
    /// <summary>Objects up to this size get garbage in every byte; larger ones in their first and last 4 KiB.</summary>
    private const long WholeGarbage = 16 * 1024;

    private readonly ListSlabLayer _slabs;
    private readonly IPageAllocator _pages;
    private readonly Profile _p;
    private readonly HeapFault _fault;
    private readonly Func<bool> _inAtomic;
    private readonly HeapChoices _choices;
    private readonly long[] _classes;
    private readonly GfpFlags _validGfp;
    private readonly ListCache?[] _normal;
    private readonly ListCache?[] _dma;
    /// <summary>Live objects of the general caches: the size asked for.</summary>
    private readonly Dictionary<ulong, long> _requested = new();
    /// <summary>Live page-allocator blocks (above the largest class), by address.</summary>
    private readonly Dictionary<ulong, (int Order, long Requested)> _large = new();
    /// <summary>Every address kmalloc ever handed out (only <see cref="HeapFault.KzallocSkipsReused"/> looks).</summary>
    private readonly HashSet<ulong> _handedOut = new();

    public ListKmalloc(ListSlabLayer slabs, IPageAllocator pages, HeapFault fault, HeapChoices choices, GfpFlags validGfp, Func<bool> inAtomic)
    {
        _slabs = slabs;
        _pages = pages;
        _p = slabs.Profile;
        _fault = fault;
        _inAtomic = inAtomic;
        _choices = choices;
        _classes = [.. choices.Classes];
        _validGfp = validGfp;
        _normal = new ListCache?[_classes.Length];
        _dma = new ListCache?[_classes.Length];
    }

    private ulong ZeroResult => _choices.ZeroSize == KmallocZero.ZeroSizePtr ? Profile.ZeroSizePtr : 0;
    private long CacheMax => _classes[^1];
    private long Limit => _p.KmallocMaxSize + (_fault == HeapFault.LimitOffByOne ? 1 : 0);

    // ---- General caches ------------------------------------------------------------------------------

    private ListCache General(int cls, bool dma)
    {
        var caches = dma ? _dma : _normal;
        return caches[cls] ??= _slabs.CreateGeneral(Name(_classes[cls], dma), _classes[cls], dma);
    }

    /// <summary>KMAL-8: the profile's name for a class; DMA twins "size-N(DMA)" or "dma-kmalloc-N".</summary>
    private string Name(long size, bool dma)
    {
        var naming = _fault == HeapFault.GeneralCachesMisnamed
            ? _p with { KmallocCachePrefix = _p.KmallocCachePrefix == "size-" ? "kmalloc-" : "size-" }
            : _p;
        string name = naming.KmallocCacheName(size);
        return !dma ? name : naming.KmallocCachePrefix == "size-" ? $"{name}(DMA)" : $"dma-{name}";
    }

    /// <summary>Makes every general cache, so that slabinfo lists them all.</summary>
    public void CreateAll()
    {
        for (int i = 0; i < _normal.Length; i++) { General(i, false); General(i, true); }
    }

    private int ClassIndex(long size)
    {
        for (int i = 0; i < _classes.Length; i++) if (_classes[i] >= size) return i;
        throw new ArgumentOutOfRangeException(nameof(size));
    }

    private int PageOrder(long size)
    {
        int order = 0;
        while (((long)_p.PageSize << order) < size) order++;
        return order;
    }

    private static GfpFlags PageFlags(GfpFlags gfp, bool dma) =>
        (gfp & ~(GfpFlags.HighMem | GfpFlags.Zero | GfpFlags.Dma)) | (dma ? GfpFlags.Dma : GfpFlags.None);

    private void MightSleep(string call, GfpFlags gfp)
    {
        if ((gfp & GfpFlags.DirectReclaim) != 0 && _inAtomic())
            throw new KernelBugException("GFP-1", $"sleeping function called from invalid context: {call} with {Gfp.Describe(gfp)}");
    }

    public bool OwnsBlock(ulong addr) => _large.ContainsKey(addr);

    // ---- kmalloc / kzalloc ---------------------------------------------------------------------------

    /// <summary>kmalloc(size, gfp); <paramref name="zero"/> is kzalloc's own request to zero (besides __GFP_ZERO).</summary>
    public ulong Alloc(long size, GfpFlags gfp, bool fromKrealloc = false, bool zero = false)
    {
        if (size < 0) throw new InvalidArgumentException("size", $"kmalloc: negative size {size}");
        if ((gfp & ~_validGfp) != 0) throw new InvalidArgumentException("gfp", $"kmalloc: {Gfp.Describe(gfp)} has bits that do not exist on {_p.Name}");
        // KMAL-4 fault: kzalloc zeroes by itself, but __GFP_ZERO passed to kmalloc is dropped.
        if (_fault == HeapFault.KmallocIgnoresGfpZero) gfp &= ~GfpFlags.Zero;
        if (zero) gfp |= GfpFlags.Zero;
        if (size == 0 && _choices.ZeroSize != KmallocZero.SmallestObject) return ZeroResult;
        if (size > Limit) return 0;
        MightSleep($"kmalloc({size})", gfp);
        bool dma = (gfp & GfpFlags.Dma) != 0 && _fault != HeapFault.DmaKmallocFromNormal;
        ulong p;
        long usable;
        if (size <= CacheMax)
        {
            var cache = General(ClassIndex(size), dma);
            if (_fault == HeapFault.KmallocReturnsLiveObject && !fromKrealloc && _slabs.IsLiveIn(cache, cache.LastHandedOut))
                return cache.LastHandedOut;
            p = _slabs.Alloc(cache, gfp);
            if (p == 0) return 0;
            _requested[p] = size;
            usable = cache.Size;
        }
        else
        {
            int order = PageOrder(size);
            p = _pages.GetFreePages(PageFlags(gfp, dma), order);
            if (p == 0) return 0;
            _large[p] = (order, size);
            usable = (long)_p.PageSize << order;
        }

        if (usable <= WholeGarbage) _slabs.Garbage(p, usable);
        else
        {
            _slabs.Garbage(p, 4096);
            _slabs.Garbage(p + (ulong)(usable - 4096), 4096);
        }
        bool zeroed = (gfp & GfpFlags.Zero) != 0;
        if (zeroed && (_fault != HeapFault.KzallocSkipsReused || !_handedOut.Contains(p))) _slabs.Fill(p, size, 0);
        _handedOut.Add(p);
        return p;
    }

    // ---- kfree / ksize ---------------------------------------------------------------------------------

    public void Free(ulong p)
    {
        // ZERO_SIZE_PTR is nothing to free where kmalloc(0) returns it; elsewhere 0x10 is a pointer kmalloc never returned.
        if (p == 0 || (p == Profile.ZeroSizePtr && _choices.ZeroSize == KmallocZero.ZeroSizePtr)) return;
        if (_slabs.Locate(p, out var slab, out int index))
        {
            if (index < 0) throw new KernelBugException("KMAL-6", $"kfree(0x{p:x}): inside an object of {slab.Cache.Name}, not its start");
            if (slab.Free.Contains(index))
            {
                if (_fault == HeapFault.DoubleKfreeAccepted && slab.Cache.IsGeneral) return;
                throw new KernelBugException("KMAL-6", $"kfree(0x{p:x}): object of {slab.Cache.Name} is already free");
            }
            if (!slab.Cache.IsGeneral && !_p.KfreeAcceptsCacheObjects)
                throw new KernelBugException("KMAL-6", $"kfree(0x{p:x}): object of cache {slab.Cache.Name}; kmem_cache_free it");
            _slabs.Free(slab, index);
            _requested.Remove(p);
            return;
        }
        if (_large.TryGetValue(p, out var block))
        {
            _pages.FreePages(p, block.Order);
            _large.Remove(p);
            return;
        }
        throw new KernelBugException("KMAL-6", $"kfree(0x{p:x}): not a live kmalloc block (freed, interior, or another allocator's memory)");
    }

    /// <summary>Called when a general object is freed by another path (kmem_cache_free with a fault).</summary>
    public void Forget(ulong p) => _requested.Remove(p);

    public long Ksize(ulong p)
    {
        if (p == 0 || p == Profile.ZeroSizePtr) return 0;
        bool asked = _fault == HeapFault.KsizeNotRounded;
        if (_slabs.Locate(p, out var slab, out int index) && index >= 0 && !slab.Free.Contains(index)
            && (slab.Cache.IsGeneral || _p.KfreeAcceptsCacheObjects))
            return asked && _requested.TryGetValue(p, out long n) ? n : slab.Cache.Size;
        if (_large.TryGetValue(p, out var block)) return asked ? block.Requested : (long)_p.PageSize << block.Order;
        throw new InvalidArgumentException("p", $"ksize(0x{p:x}): not a live kmalloc block");
    }

    // ---- krealloc ------------------------------------------------------------------------------------

    public ulong Realloc(ulong p, long size, GfpFlags gfp)
    {
        if ((gfp & ~_validGfp) != 0) throw new InvalidArgumentException("gfp", $"krealloc: {Gfp.Describe(gfp)} has bits that do not exist on {_p.Name}");
        if (size < 0) throw new InvalidArgumentException("size", $"krealloc: negative size {size}");
        if (p == 0 || p == Profile.ZeroSizePtr) return Alloc(size, gfp);

        // Everything about the old block is checked before anything changes.
        long old, capacity;
        if (_slabs.Locate(p, out var slab, out int index))
        {
            if (index < 0 || slab.Free.Contains(index) || (!slab.Cache.IsGeneral && !_p.KfreeAcceptsCacheObjects))
                throw new KernelBugException("KMAL-6", $"krealloc(0x{p:x}): not a live kmalloc block");
            _slabs.CheckZones(slab.Cache, p);
            old = slab.Cache.IsGeneral ? _requested[p] : slab.Cache.Size;
            capacity = slab.Cache.IsGeneral ? slab.Cache.Size : 0; // a private cache's object always moves
        }
        else if (_large.TryGetValue(p, out var block))
        {
            old = block.Requested;
            capacity = (long)_p.PageSize << block.Order;
        }
        else throw new KernelBugException("KMAL-6", $"krealloc(0x{p:x}): not a live kmalloc block");

        if (size == 0)
        {
            Free(p);
            return ZeroResult;
        }
        if (size > Limit) return _fault == HeapFault.KreallocAboveLimitKeepsBlock ? p : 0;
        MightSleep($"krealloc({size})", gfp);

        bool dma = (gfp & GfpFlags.Dma) != 0 && _fault != HeapFault.DmaKmallocFromNormal;
        // Linux's way (KreallocInPlace): the same object whenever it is big enough, whatever the flags.
        bool fits = size <= capacity && (_choices.KreallocInPlace || !dma || _pages.VirtToPhys(p + (ulong)capacity - 1) < _p.DmaLimit);
        long keep = Math.Min(old, size);
        ulong q;
        if (fits)
        {
            if ((gfp & GfpFlags.Zero) != 0 && size > old) _slabs.Fill(p + (ulong)old, size - old, 0);
            if (_large.TryGetValue(p, out var block)) _large[p] = block with { Requested = size };
            else _requested[p] = size;
            q = p;
        }
        else
        {
            q = Alloc(size, gfp, fromKrealloc: true);
            if (q == 0) return 0;
            _slabs.Copy(q, p, keep);
            Free(p);
        }
        if (_fault == HeapFault.KreallocLosesLastByte) _slabs.FlipByte(q + (ulong)keep - 1);
        return q;
    }
}
