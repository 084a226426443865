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
    /// <summary>
    /// What the first <see cref="Shadowed"/> bytes must read: the suite fills them when the object is
    /// handed out (as a caller using its memory would) and records every later write here, so that a
    /// byte anyone else changes is seen on the next check (KMAL-7), and a freed object goes back
    /// holding the suite's bytes, not zeros or poison (so a missing kzalloc or re-poison shows: KMAL-4, SLAB-8).
    /// </summary>
    public byte[] Shadow { get; set; } = [];
    public int Shadowed => Shadow.Length;
    /// <summary>Writes beyond the shadowed bytes (large objects), in order: later writes overwrite earlier ones.</summary>
    public List<(long Offset, byte[] Data)> Writes { get; } = new();
    public ulong End => Addr + (ulong)Usable;
}

internal sealed class HeapModel
{
    /// <summary>How many leading bytes of an object the suite fills and shadows.</summary>
    public const int ShadowCap = 4096;
    private int _names;
    private int _fills;
    public List<HeapObject> Live { get; } = new();
    public List<HeapObject> Freed { get; } = new();
    public List<CacheModel> Caches { get; } = new();
    public long[] BootFree { get; } = new long[Zones.Count];
    public bool AnyLeak { get; set; }

    public string NextName(string prefix) => $"{prefix}{++_names}";

    /// <summary>A seed for the next fill, deterministic within a sequence.</summary>
    public int NextFillSeed() => 0x5EED + ++_fills;

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
