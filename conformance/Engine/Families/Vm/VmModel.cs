using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.Vm;

/// <summary>A vmalloc area the suite holds: what it asked for, the frames the implementation named, the bytes it wrote.</summary>
internal sealed class AreaModel
{
    public required string Name { get; init; }
    public required ulong Addr { get; init; }
    public required long Size { get; init; }
    /// <summary>ceil(size / PAGE_SIZE).</summary>
    public required int Pages { get; init; }
    /// <summary>vmalloc_to_pfn of each page, as seen when the area was made.</summary>
    public required ulong[] Pfns { get; init; }
    /// <summary>Pages the suite has read, written or translated: the ones its own accesses may have put in a TLB.</summary>
    public HashSet<int> Touched { get; } = new();
    /// <summary>Every byte written into the area, by offset (later writes overwrite earlier ones).</summary>
    public Dictionary<long, byte> Shadow { get; } = new();
    /// <summary>linux-6: vfree'd in interrupt context; its unmapping waits for the deferred work.</summary>
    public bool Deferred { get; set; }

    public void Record(long offset, ReadOnlySpan<byte> data, int pageShift)
    {
        for (int i = 0; i < data.Length; i++) Shadow[offset + i] = data[i];
        if (data.Length > 0) for (long p = offset >> pageShift; p <= (offset + data.Length - 1) >> pageShift; p++) Touched.Add((int)p);
    }

    /// <summary>
    /// The pages whose translations are checked after the area is freed: every page of a small area;
    /// of a large one, every page the suite touched, a stride sample and the last page.
    /// </summary>
    public IEnumerable<int> PagesToCheck(int maxAll = 256)
    {
        if (Pages <= maxAll) return Enumerable.Range(0, Pages);
        int stride = Pages / 128;
        return Touched.Concat(Enumerable.Range(0, 128).Select(i => i * stride)).Append(Pages - 1).Where(i => i < Pages).Distinct().Order();
    }
    public ulong End(int pageShift) => Addr + ((ulong)Pages << pageShift);
}

/// <summary>An ioremap mapping the suite holds.</summary>
internal sealed class IoModel
{
    public required string Name { get; init; }
    public required ulong Addr { get; init; }
    public required ulong Phys { get; init; }
    public required long Size { get; init; }
    /// <summary>Pages the mapping spans (from the page holding Phys to the one holding its last byte).</summary>
    public required int Pages { get; init; }
    public ulong PageStart(int pageShift) => Addr & ~((1UL << pageShift) - 1);
    public ulong End(int pageShift) => PageStart(pageShift) + ((ulong)Pages << pageShift);
}

/// <summary>A page-allocator block the suite holds (the traffic around vmalloc), with its kmaps.</summary>
internal sealed class BlockModel
{
    public required string Name { get; init; }
    /// <summary>Kernel address from __get_free_pages, or 0 for an alloc_pages block.</summary>
    public required ulong Addr { get; init; }
    public required PageHandle Page { get; init; }
    public required ulong Pfn { get; init; }
    public required int Order { get; init; }
    public required bool Highmem { get; init; }
    public int KmapCount { get; set; }
    public ulong KmapAddr { get; set; }
    /// <summary>Position in <see cref="VmModel.Blocks"/> (for removal in constant time).</summary>
    internal int Index { get; set; }
}

/// <summary>A kmalloc object the suite holds, with the frames it lies on.</summary>
internal sealed class ObjectModel
{
    public required string Name { get; init; }
    public required ulong Addr { get; init; }
    public required long Size { get; init; }
    public required ulong FirstPfn { get; init; }
    public required ulong LastPfn { get; init; }
}

/// <summary>
/// What the suite knows of kernel virtual memory, independently of the implementation: its live and
/// freed areas and mappings, the frames behind them, the traffic around them, and the counts at boot.
/// </summary>
internal sealed class VmModel(Profile profile)
{
    private int _names;
    private readonly HashSet<ulong> _areaFrames = new();
    /// <summary>One bit per frame: set when a live page block holds it.</summary>
    private readonly ulong[] _blockFrames = new ulong[(profile.TotalPages + 63) / 64];

    public Profile Profile { get; } = profile;
    public List<AreaModel> Areas { get; } = new();
    public List<AreaModel> Freed { get; } = new();
    /// <summary>Areas vfree'd in interrupt context (linux-6) whose deferred work may not have run yet.</summary>
    public List<AreaModel> Pending { get; } = new();
    public List<IoModel> Ioremaps { get; } = new();
    public List<IoModel> FreedIo { get; } = new();
    public List<BlockModel> Blocks { get; } = new();
    public List<ObjectModel> Objects { get; } = new();
    public long BootFree { get; set; }
    public long BootTables { get; set; }
    /// <summary>A deferred vfree is pending: free counts are not exact until the next drain.</summary>
    public bool Inexact { get; set; }

    public string NextName(string prefix) => $"{prefix}{++_names}";

    public bool IsAreaFrame(ulong pfn) => _areaFrames.Contains(pfn);
    public void ClaimFrames(AreaModel area) { foreach (var pfn in area.Pfns) _areaFrames.Add(pfn); }
    public void ReleaseFrames(AreaModel area) { foreach (var pfn in area.Pfns) _areaFrames.Remove(pfn); }

    /// <summary>The live block whose frames include <paramref name="pfn"/>, or null.</summary>
    public BlockModel? BlockOwning(ulong pfn) =>
        pfn < Profile.TotalPages && (_blockFrames[pfn / 64] & 1UL << (int)(pfn % 64)) != 0
            ? Blocks.FirstOrDefault(b => pfn >= b.Pfn && pfn < b.Pfn + (1UL << b.Order))
            : null;

    /// <summary>A frame of [pfn, pfn + 2^order) that backs a live area, or null.</summary>
    public ulong? AreaFrameIn(ulong pfn, int order)
    {
        ulong end = pfn + (1UL << order);
        if ((ulong)_areaFrames.Count < end - pfn)
        {
            foreach (ulong f in _areaFrames) if (f >= pfn && f < end) return f;
            return null;
        }
        for (ulong f = pfn; f < end; f++) if (_areaFrames.Contains(f)) return f;
        return null;
    }

    public void AddBlock(BlockModel block)
    {
        block.Index = Blocks.Count;
        Blocks.Add(block);
        MarkBlock(block, true);
    }

    /// <summary>Removes a block in constant time (the last block takes its place).</summary>
    public void RemoveBlock(BlockModel block)
    {
        int i = block.Index;
        var last = Blocks[^1];
        Blocks[i] = last;
        last.Index = i;
        Blocks.RemoveAt(Blocks.Count - 1);
        MarkBlock(block, false);
    }

    private void MarkBlock(BlockModel block, bool set)
    {
        ulong end = Math.Min(block.Pfn + (1UL << block.Order), Profile.TotalPages);
        for (ulong f = block.Pfn; f < end;)
        {
            if (f % 64 == 0 && end - f >= 64)
            {
                _blockFrames[f / 64] = set ? ulong.MaxValue : 0;
                f += 64;
                continue;
            }
            if (set) _blockFrames[f / 64] |= 1UL << (int)(f % 64);
            else _blockFrames[f / 64] &= ~(1UL << (int)(f % 64));
            f++;
        }
    }

    /// <summary>The live kmalloc object lying on frame <paramref name="pfn"/>, or null.</summary>
    public ObjectModel? ObjectOn(ulong pfn) => Objects.FirstOrDefault(o => pfn >= o.FirstPfn && pfn <= o.LastPfn);

    /// <summary>The live area or ioremap mapping sharing a virtual byte with [start, end), or null.</summary>
    public string? VirtualOverlap(ulong start, ulong end, int pageShift)
    {
        foreach (var a in Areas) if (a.Addr < end && start < a.End(pageShift)) return a.Name;
        foreach (var io in Ioremaps) if (io.PageStart(pageShift) < end && start < io.End(pageShift)) return io.Name;
        return null;
    }

    public void Retire(AreaModel area)
    {
        Areas.Remove(area);
        ReleaseFrames(area);
        Freed.Add(area);
        if (Freed.Count > 16) Freed.RemoveAt(0);
    }

    /// <summary>A vfree accepted but deferred: the area is gone for the caller, its unmapping comes later.</summary>
    public void Defer(AreaModel area)
    {
        Areas.Remove(area);
        ReleaseFrames(area);
        area.Deferred = true;
        Pending.Add(area);
        Inexact = true;
    }

    /// <summary>A drain ran the deferred work: the pending areas are unmapped now.</summary>
    public void Drained()
    {
        foreach (var area in Pending)
        {
            area.Deferred = false;
            Freed.Add(area);
        }
        Pending.Clear();
        while (Freed.Count > 16) Freed.RemoveAt(0);
        Inexact = false;
    }

    public void Retire(IoModel io)
    {
        Ioremaps.Remove(io);
        FreedIo.Add(io);
        if (FreedIo.Count > 16) FreedIo.RemoveAt(0);
    }

    public T? Pick<T>(List<T> list, int slot, Func<T, bool>? where = null) where T : class
    {
        for (int i = 0; i < list.Count; i++)
        {
            var item = list[(slot + i) % list.Count];
            if (where is null || where(item)) return item;
        }
        return null;
    }

    public int LiveKmaps => Blocks.Count(b => b.KmapCount > 0);
}
