using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Heap;

/// <summary>What the heap family knows of one cache it created.</summary>
internal sealed class CacheModel
{
    public required string Name { get; init; }
    public required SlabCacheHandle Handle { get; init; }
    public required long Size { get; init; }
    public required long Align { get; init; }
    public required SlabFlags Flags { get; init; }
    public required byte? Ctor { get; init; }
    public int Live { get; set; }
    /// <summary>Addresses this cache has handed out: only a never-seen object must show the constructor's bytes.</summary>
    public HashSet<ulong> Seen { get; } = new();
    /// <summary>linux-6: destroyed with live objects, so leaked; a later destroy need not succeed.</summary>
    public bool Leaked { get; set; }
    public bool Has(SlabFlags flag) => (Flags & flag) != 0;
}

/// <summary>A live block the heap family holds: a kmalloc object, a cache object, or pages.</summary>
internal sealed class HeapObject
{
    public required string Name { get; init; }
    public required ulong Addr { get; init; }
    /// <summary>Bytes the caller asked for: the range the suite writes and reads.</summary>
    public required long Requested { get; init; }
    /// <summary>Bytes the caller may use: ksize, the cache's size, or the pages.</summary>
    public required long Usable { get; init; }
    public CacheModel? Cache { get; init; }
    /// <summary>Order of a page-allocator block, or -1.</summary>
    public int PageOrder { get; init; } = -1;
    public bool IsKmalloc => Cache is null && PageOrder < 0;
    public List<(long Offset, byte[] Data)> Writes { get; } = new();
    public ulong End => Addr + (ulong)Usable;
}

internal sealed class HeapModel
{
    private int _names;
    public List<HeapObject> Live { get; } = new();
    public List<HeapObject> Freed { get; } = new();
    public List<CacheModel> Caches { get; } = new();
    public long[] BootFree { get; } = new long[Zones.Count];
    public bool AnyLeak { get; set; }

    public string NextName(string prefix) => $"{prefix}{++_names}";

    /// <summary>The live object sharing a byte with [addr, end), or null.</summary>
    public HeapObject? Overlapping(ulong addr, ulong end, HeapObject? except = null)
    {
        foreach (var o in Live)
            if (o != except && o.Addr < end && addr < o.End) return o;
        return null;
    }

    public HeapObject? Pick(int slot, Func<HeapObject, bool> where)
    {
        for (int i = 0; i < Live.Count; i++)
        {
            var o = Live[(slot + i) % Live.Count];
            if (where(o)) return o;
        }
        return null;
    }

    public void Retire(HeapObject o)
    {
        Live.Remove(o);
        Freed.Add(o);
        if (Freed.Count > 16) Freed.RemoveAt(0);
    }
}
