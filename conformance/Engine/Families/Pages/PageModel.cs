using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>One allocation the suite holds, as the model sees it.</summary>
internal sealed class LiveBlock
{
    public required string Name { get; init; }
    /// <summary>Kernel address from __get_free_pages; 0 for an alloc_pages block.</summary>
    public required ulong Addr { get; init; }
    /// <summary>Descriptor of the first page.</summary>
    public required PageHandle Page { get; init; }
    public required ulong Pfn { get; init; }
    public required int Order { get; init; }
    public required Zone Zone { get; init; }
    public required bool ViaDescriptor { get; init; }
    /// <summary>Bytes written, in order: later writes overwrite earlier ones.</summary>
    public List<(int Offset, byte[] Data)> Writes { get; } = new();
    public int KmapCount { get; set; }
    public ulong KmapAddr { get; set; }
    public bool IsHighmem => Zone == Zone.HighMem;
}

/// <summary>
/// What the suite knows independently of the implementation: its live and freed allocations,
/// which frames they own, the context depth, and the free counts seen at boot.
/// </summary>
internal sealed class PageModel
{
    private ulong[] _owned;
    private int _names;

    /// <summary>The ownership bitmap of the last model on this thread, cleared and reused by the next of the same size (16 KB per sequence at 512M).</summary>
    [ThreadStatic] private static ulong[]? _spare;

    public PageModel(Profile profile)
    {
        Profile = profile;
        long words = (long)((profile.TotalPages + 63) / 64);
        if (_spare is { } spare && spare.Length == words)
        {
            _spare = null;
            Array.Clear(spare);
            _owned = spare;
        }
        else _owned = new ulong[words];
    }

    /// <summary>The sequence is over: the bitmap may serve the next model on this thread. The model must not be used after this.</summary>
    public void Recycle()
    {
        _spare = _owned;
        _owned = [];
    }

    public Profile Profile { get; }
    public List<LiveBlock> Live { get; } = new();
    public List<LiveBlock> Freed { get; } = new();
    public long[] BootFree { get; } = new long[Zones.Count];
    public long[] BootMaxBlocks { get; } = new long[Zones.Count];

    public string NextName() => $"p{++_names}";

    public bool InRam(ulong pfn, int order) => pfn < Profile.TotalPages && pfn + (1UL << order) <= Profile.TotalPages;

    /// <summary>The live block owning any frame of [pfn, pfn + 2^order), or null.</summary>
    public LiveBlock? Overlapping(ulong pfn, int order)
    {
        ulong end = pfn + (1UL << order);
        for (ulong f = pfn; f < end;)
        {
            if (f % 64 == 0 && end - f >= 64)
            {
                if (_owned[f / 64] != 0) return OwnerOf(f, 64);
                f += 64;
                continue;
            }
            if ((_owned[f / 64] & (1UL << (int)(f % 64))) != 0) return OwnerOf(f, 1);
            f++;
        }
        return null;
    }

    public bool IsOwned(ulong pfn) => pfn < Profile.TotalPages && (_owned[pfn / 64] & (1UL << (int)(pfn % 64))) != 0;

    private LiveBlock? OwnerOf(ulong pfn, int span) =>
        Live.FirstOrDefault(b => b.Pfn < pfn + (ulong)span && pfn < b.Pfn + (1UL << b.Order));

    public void Claim(LiveBlock block) => Mark(block.Pfn, block.Order, true);
    public void Release(LiveBlock block) => Mark(block.Pfn, block.Order, false);

    private void Mark(ulong pfn, int order, bool set)
    {
        ulong end = pfn + (1UL << order);
        for (ulong f = pfn; f < end;)
        {
            if (f % 64 == 0 && end - f >= 64)
            {
                _owned[f / 64] = set ? ulong.MaxValue : 0;
                f += 64;
                continue;
            }
            if (set) _owned[f / 64] |= 1UL << (int)(f % 64);
            else _owned[f / 64] &= ~(1UL << (int)(f % 64));
            f++;
        }
    }

    public LiveBlock? PickLive(int slot) => Live.Count == 0 ? null : Live[slot % Live.Count];
}
