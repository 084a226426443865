using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>
/// The reference implementation: one simulated machine booted with a profile. It only wires the
/// contract to the subsystems in Mm/ (one file per kernel concept) and checks arguments; the
/// allocators themselves live there. Each capability's wiring is its own file,
/// ReferenceKernel.&lt;Capability&gt;.cs; this one holds the machine's parts and its lifetime.
/// </summary>
public sealed partial class ReferenceKernel : IMemoryManager
{
    private static readonly IReadOnlySet<Capability> Supported = new HashSet<Capability>
    {
        Capability.PageAllocator, Capability.ExecutionContext, Capability.Highmem, Capability.Reclaim,
        Capability.Kmalloc, Capability.SlabCache, Capability.Vmalloc, Capability.KernelPageTables, Capability.Tlb,
        Capability.AtomicT, Capability.Smp,
        Capability.UserMemory, Capability.Swap, Capability.UserCopy, Capability.DriverMmap,
    };

    private readonly MemMap _map;
    private readonly PhysicalMemory _memory;
    private readonly PageAlloc _pages;
    private readonly Sched _sched = new();
    private readonly DirectMap _direct;
    private readonly Highmem _highmem;
    private readonly Vmscan _vmscan;
    private readonly GfpMask _gfp;
    private readonly int _pageSize;
    private readonly int _maxOrder;
    // The slab layer is made on first use: most booted machines never touch it. Smp: two CPUs
    // touching it first at once must still get one slab layer, hence the lock on the slow path.
    private SlabCommon? _slab;
    private Mm.Kmalloc? _kmalloc;
    private readonly Lock _lazyInit = new();
    // Stryker disable once NullCoalescing : double-checked lazy initialisation: MakeSlabs returns the existing layer itself (??= under the lock), so skipping the lock-free read changes only speed
    private SlabCommon Slabs => Volatile.Read(ref _slab) ?? MakeSlabs();
    // Stryker disable once NullCoalescing : double-checked lazy initialisation: MakeKmalloc returns the existing caches itself (??= under the lock)
    private Mm.Kmalloc KmallocCaches => Volatile.Read(ref _kmalloc) ?? MakeKmalloc();

    private SlabCommon MakeSlabs()
    {
        // Stryker disable once Assignment : reached with the field set only when two CPUs race on first use (the getter reads it first); no deterministic test can order that race
        lock (_lazyInit) return _slab ??= new SlabCommon(Profile, _map, _memory, _pages, _direct, AllocPagesPfn);
    }

    private Mm.Kmalloc MakeKmalloc()
    {
        var slabs = Slabs;
        // Stryker disable once Assignment : reached with the field set only when two CPUs race on first use (the getter reads it first); no deterministic test can order that race
        lock (_lazyInit) return _kmalloc ??= new Mm.Kmalloc(slabs, _sched, _gfp);
    }

    // Kernel virtual memory (ReferenceKernel.Vmalloc.cs, .KernelPageTables.cs, .Tlb.cs): the kernel's
    // page tables, TLB and MMU are set up on first use (under _lazyInit, as the slab layer); their boot
    // tables sit in the kernel image, not in the page allocator's RAM, so doing it late changes no free count.
    private readonly KernelLayout _layout;
    private readonly int _tlbEntries;
    private readonly int _tlbWays;
    private KernelPageTables? _kpt;
    private VmapAreas? _vmapAreas;
    private Mm.Vmalloc? _vmalloc;
    private Mm.Ioremap? _ioremap;
    private DeviceMemory? _device;

    /// <summary>Boots a machine with a 64-entry, 4-way TLB.</summary>
    public ReferenceKernel(Profile profile) : this(profile, tlbEntries: 64, tlbWays: 4) { }

    /// <summary>Boots a machine whose TLB holds <paramref name="tlbEntries"/> translations in <paramref name="tlbWays"/>-way sets (powers of two).</summary>
    public ReferenceKernel(Profile profile, int tlbEntries, int tlbWays)
    {
        _layout = new KernelLayout(profile);
        _tlbEntries = tlbEntries;
        _tlbWays = tlbWays;
        _ = new Tlb(tlbEntries, tlbWays, profile.PageShift); // refuse a bad geometry at boot, not at first use
        Profile = profile;
        int frames = checked((int)profile.TotalPages);
        _pageSize = profile.PageSize;
        _maxOrder = profile.MaxOrder;
        _map = MemMap.Rent(frames);
        _memory = new PhysicalMemory(frames, profile.PageSize);
        _pages = new PageAlloc(profile, _map, _memory);
        _direct = new DirectMap(profile);
        _highmem = new Highmem(profile, new KmapTables(this));
        _vmscan = new Vmscan(_pages, _map, _sched);
        _gfp = new GfpMask(profile);
    }

    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities => Supported;
    /// <summary>
    /// Shuts the machine down; its page map is recycled for the next machine of the same size, so
    /// every contract call afterwards raises <see cref="ObjectDisposedException"/> instead of
    /// reaching into a map that another machine now owns.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _map.Return();
    }

    private bool _disposed;

    /// <summary>The first statement of every contract member: a disposed machine fails loudly.</summary>
    private void Alive() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>A zone the contract defines; anything else (an out-of-range enum value) is -EINVAL.</summary>
    private static void CheckZone(Zone zone, string caller)
    {
        if ((uint)zone >= Zones.Count) throw new InvalidArgumentException("zone", $"{caller}: {(int)zone} is not a zone");
    }
}
