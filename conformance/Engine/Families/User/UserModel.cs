using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.User;

/// <summary>What backs a mapping, as the model sees it.</summary>
internal enum MapKind { AnonPrivate, FilePrivate, FileShared, Shm, Device }

/// <summary>How a mapping came to be: the rule an unexpected fault in it is attributed to.</summary>
internal enum MapOrigin { Mmap, FixedReplace, MunmapSplit, MprotectSplit, Fork, Device }

/// <summary>
/// A shared object several mappings may show: a file, the shmem object of a MAP_SHARED |
/// MAP_ANONYMOUS mapping, or a driver's memory. Its pages' contents are known exactly (absent =
/// zero) except those a copy left unspecified.
/// </summary>
internal sealed class ObjModel
{
    public required string Name { get; init; }
    public required MapKind Kind { get; init; }
    /// <summary>The implementation's file or device number (0 for a shmem object).</summary>
    public int Id { get; init; }
    /// <summary>i_size in bytes (files); the memory's size for a device or shmem object.</summary>
    public required long Size { get; init; }
    public Dictionary<long, byte[]> Pages { get; } = new();
    /// <summary>The model version at which each page last changed.</summary>
    public Dictionary<long, long> Changed { get; } = new();
    /// <summary>Pages whose contents a copy left unspecified: never checked again.</summary>
    public HashSet<long> Uncertain { get; } = new();
    /// <summary>Device memory: the kernel address of each page (DRV-4).</summary>
    public List<ulong> KernelAddresses { get; } = new();
    /// <summary>Device: a remap_pfn_range device (DRV-2) rather than a page list (DRV-3).</summary>
    public bool Remap { get; init; }
    /// <summary>Device: the remap size its mmap method passes (0: the vma's size).</summary>
    public long RemapSize { get; init; }

    public long PageCount(int pageSize) => (Size + pageSize - 1) / pageSize;
}

/// <summary>One mapping of one process, as the model knows it.</summary>
internal sealed class MapModel
{
    public required string Var { get; init; }
    /// <summary>The address <see cref="Var"/> holds (mmap's result), for printed repros: pieces of a split mapping keep it.</summary>
    public required ulong VarBase { get; init; }
    public required ulong Start { get; set; }
    public required ulong End { get; set; }
    public required Prot Prot { get; set; }
    /// <summary>False after a refused mprotect that may have changed part of the range (POSIX allows it).</summary>
    public bool ProtKnown { get; set; } = true;
    public required MapKind Kind { get; init; }
    public ObjModel? Obj { get; init; }
    /// <summary>Page offset of Start in the object.</summary>
    public long PgOff { get; set; }
    /// <summary>Model version when the mapping was made: a private file page changed after it may show either contents.</summary>
    public long Version { get; init; }
    /// <summary>Private mappings copied by fork share a lineage: a store in one must never show in another (ADDR-4).</summary>
    public int Lineage { get; init; }
    public MapOrigin Origin { get; set; }
    /// <summary>The descriptor it was made through has been closed since (MMAP-9).</summary>
    public bool FdClosed { get; set; }
    public (int Pid, int Fd) Source { get; init; }
    /// <summary>The descriptor allowed writing (a shared mapping of a read-only descriptor cannot become writable).</summary>
    public bool MayWrite { get; init; } = true;
    /// <summary>Some page was accessed since the mapping was made (ADDR-6 checks the first touch).</summary>
    public bool Touched { get; set; }
    /// <summary>Device mappings: pages from Start the driver mapped (the rest raise SIGBUS).</summary>
    public long Populated { get; init; } = long.MaxValue;
    /// <summary>Wholly inside the user window: the suite may touch its neighbourhood.</summary>
    public bool InWindow { get; init; }

    public bool Shared => Kind is MapKind.FileShared or MapKind.Shm or MapKind.Device;

    public MapModel Slice(ulong start, ulong end, int pageShift, MapOrigin origin) => new()
    {
        Var = Var, VarBase = VarBase, Start = start, End = end, Prot = Prot, ProtKnown = ProtKnown, Kind = Kind, Obj = Obj,
        PgOff = PgOff + (long)((start - Start) >> pageShift), Version = Version, Lineage = Lineage, Origin = origin,
        FdClosed = FdClosed, Source = Source, MayWrite = MayWrite, Touched = Touched,
        Populated = Populated == long.MaxValue ? long.MaxValue : Populated - (long)((start - Start) >> pageShift),
        InWindow = InWindow,
    };

    public override string ToString() => $"{Var} [0x{Start:x}-0x{End:x}) {Prot} {Kind}";
}

/// <summary>A descriptor the model knows a process holds.</summary>
internal sealed record FdModel(int Fd, ObjModel? Obj, bool Serial, OpenMode Mode)
{
    public bool CanRead => Mode != OpenMode.WriteOnly;
    public bool CanWrite => Mode != OpenMode.ReadOnly;
}

/// <summary>One process: its mappings in address order, descriptors, and the contents of its private pages.</summary>
internal sealed class ProcModel
{
    public required int Pid { get; init; }
    public required string Var { get; init; }
    public List<MapModel> Maps { get; } = new();
    public Dictionary<int, FdModel> Fds { get; } = new();
    /// <summary>Private pages written (or copied by fork), by virtual page number; absent pages read from the backing.</summary>
    public Dictionary<ulong, byte[]> Private { get; } = new();
    /// <summary>Private pages the process has accessed (read or written): resident somewhere, so they may be swapped.</summary>
    public HashSet<ulong> Accessed { get; } = new();
    /// <summary>Private pages whose contents are not fully known (never checked again while mapped).</summary>
    public HashSet<ulong> Uncertain { get; } = new();
    /// <summary>Forked, or a fork's child: other processes may share its private pages copy-on-write.</summary>
    public bool Related { get; set; }
    /// <summary>Ranges munmap removed with nothing mapped there since (a fault there is MMAP-8's).</summary>
    public List<(ulong Start, ulong End)> Unmapped { get; } = new();

    public bool WasUnmapped(ulong va) => Unmapped.Any(r => va >= r.Start && va < r.End);

    /// <summary>Removes [start, end) from <see cref="Unmapped"/> (something is mapped there now).</summary>
    public void Remapped(ulong start, ulong end)
    {
        for (int i = Unmapped.Count - 1; i >= 0; i--)
        {
            var (s, e) = Unmapped[i];
            if (e <= start || s >= end) continue;
            Unmapped.RemoveAt(i);
            if (s < start) Unmapped.Add((s, start));
            if (end < e) Unmapped.Add((end, e));
        }
    }

    public MapModel? Find(ulong va)
    {
        foreach (var m in Maps) if (va >= m.Start && va < m.End) return m;
        return null;
    }

    public bool IsFree(ulong start, ulong end) => Maps.All(m => m.End <= start || m.Start >= end);

    public ulong MappedBytes => Maps.Aggregate(0UL, (sum, m) => sum + (m.End - m.Start));

    public void Add(MapModel map)
    {
        int i = Maps.FindIndex(m => m.Start > map.Start);
        if (i < 0) Maps.Add(map); else Maps.Insert(i, map);
    }
}

/// <summary>A kernel allocation the suite holds to show it is never swapped (SWAP-2): its address, physical address and bytes.</summary>
internal sealed record KernelBlock(string Var, ulong Addr, ulong Phys, byte[] Data, bool Kmalloc);

/// <summary>Everything the model knows about the machine's user side.</summary>
internal sealed class UserModel
{
    private int _names, _lineages;

    public List<ProcModel> Procs { get; } = new();
    public List<ObjModel> Files { get; } = new();
    public List<ObjModel> Devices { get; } = new();
    public List<KernelBlock> KernelBlocks { get; } = new();
    /// <summary>Bumped on every change of a shared object's page.</summary>
    public long Version { get; set; }

    public string Name(string prefix) => $"{prefix}{++_names}";
    public int NewLineage() => ++_lineages;

    public ProcModel? PickProc(int slot) => Procs.Count == 0 ? null : Procs[slot % Procs.Count];

    /// <summary>Every (process, mapping) that shows page <paramref name="index"/> of <paramref name="obj"/>, with the address it shows it at.</summary>
    public IEnumerable<(ProcModel Proc, MapModel Map, ulong Va)> Views(ObjModel obj, long index, int pageShift)
    {
        foreach (var p in Procs)
            foreach (var m in p.Maps)
            {
                if (m.Obj != obj) continue;
                long first = m.PgOff, count = (long)((m.End - m.Start) >> pageShift);
                if (index >= first && index < first + count) yield return (p, m, m.Start + ((ulong)(index - first) << pageShift));
            }
    }
}
