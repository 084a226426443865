using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Profiles;

/// <summary>
/// A named platform parameter set. Values that differ between kernels or architectures live
/// here, never as constants in checks. Immutable; <see cref="WithMemory"/> varies the RAM size.
/// Data only: the derived values below are arithmetic on the parameters (sizes, spans) for
/// implementations and the protocol's hello. No predicate that decides what is legal lives here:
/// the reference and the suite each derive those from the parameters themselves, so that one bug
/// cannot blind both (issue 7, section 2). Values the documents leave to the implementation
/// (reserves, class table, kmalloc(0)) are defaults, declared by implementations through
/// <see cref="Contract.ZoneInfo"/> and <see cref="Contract.KmallocInfo"/>.
/// </summary>
public sealed record Profile
{
    /// <summary>Profile name, e.g. "x86-32".</summary>
    public required string Name { get; init; }
    /// <summary>Where the values come from.</summary>
    public required string Source { get; init; }

    /// <summary>PAGE_SIZE in bytes (ADDR-1).</summary>
    public required int PageSize { get; init; }
    /// <summary>PAGE_OFFSET: start of the kernel's direct mapping (ADDR-9, ADDR-10).</summary>
    public required ulong PageOffset { get; init; }
    /// <summary>MAX_DMA_ADDRESS: end of ZONE_DMA (ZONE-1, ZONE-2).</summary>
    public required ulong DmaLimit { get; init; }
    /// <summary>
    /// Start of ZONE_HIGHMEM (896 MiB on x86-32), or null on a platform that direct-maps all RAM.
    /// Also the end of the direct mapping (ADDR-10).
    /// </summary>
    public required ulong? HighmemStart { get; init; }
    /// <summary>
    /// Largest legal allocation order, inclusive (today's MAX_PAGE_ORDER; the older MAX_ORDER was
    /// this plus one and exclusive). PAGE-2.
    /// </summary>
    public required int MaxOrder { get; init; }
    /// <summary>Physical memory size in bytes. The suite varies it.</summary>
    public required ulong PhysicalMemory { get; init; }
    /// <summary>Whether GFP_BUFFER exists (linux-2.4).</summary>
    public bool HasGfpBuffer { get; init; }
    /// <summary>Whether SLAB_NO_REAP exists (linux-2.4).</summary>
    public bool HasSlabNoReap { get; init; }

    /// <summary>KMALLOC_MAX_SIZE: the largest kmalloc request that can succeed (KMAL-3).</summary>
    public required long KmallocMaxSize { get; init; }
    /// <summary>Default kmalloc size classes served by general caches, ascending, as the reference has them (KMAL-2; <see cref="Contract.KmallocInfo.Default"/>).</summary>
    public required IReadOnlyList<int> KmallocClasses { get; init; }
    /// <summary>Largest slab object size (SLAB-1).</summary>
    public required long SlabObjectMax { get; init; }
    /// <summary>Cache line size for SLAB_HWCACHE_ALIGN (SLAB-7).</summary>
    public required int CacheLine { get; init; }
    /// <summary>Poison byte for free objects (SLAB-8).</summary>
    public byte PoisonFree { get; init; } = 0xa5;
    /// <summary>Last byte of a poisoned free object, or null when it is PoisonFree too (linux-6: POISON_END 0xa5).</summary>
    public byte? PoisonEnd { get; init; }
    /// <summary>Red-zone value while the object is free / allocated (SLAB-9); linux-6 0xbb / 0xcc.</summary>
    public byte RedZoneInactive { get; init; } = 0x5a;
    /// <summary>Red-zone value while the object is allocated (SLAB-9); see <see cref="RedZoneInactive"/>.</summary>
    public byte RedZoneActive { get; init; } = 0x5b;
    /// <summary>Red-zone width in bytes on each side of an object: one word (SLAB-9).</summary>
    public required int WordSize { get; init; }
    /// <summary>The largest size served by a general kmalloc cache; larger requests up to KmallocMaxSize come from the page allocator (KMAL-2).</summary>
    public long KmallocCacheMax => KmallocClasses[^1];
    /// <summary>Default: kmalloc(0) returns ZERO_SIZE_PTR (16) instead of NULL (linux-6; KMAL-1; <see cref="Contract.KmallocInfo.Default"/>).</summary>
    public bool KmallocZeroReturnsZeroSizePtr { get; init; }
    /// <summary>kfree accepts objects of private caches (linux-6; KMAL-6).</summary>
    public bool KfreeAcceptsCacheObjects { get; init; }
    /// <summary>kmem_cache_destroy with live objects reports busy and leaks the cache instead of simply failing (linux-6; SLAB-6).</summary>
    public bool DestroyBusyLeaksCache { get; init; }
    /// <summary>Name prefix of the general kmalloc caches: "size-" (document profiles) or "kmalloc-" (linux-6); KMAL-8.</summary>
    public string KmallocCachePrefix { get; init; } = "size-";

    /// <summary>The /proc/slabinfo name of the general cache of one kmalloc class (KMAL-8): "size-64", "kmalloc-96", "kmalloc-8k".</summary>
    public string KmallocCacheName(long classSize) =>
        KmallocCachePrefix == "kmalloc-" && classSize >= 1024 && classSize % 1024 == 0
            ? $"kmalloc-{classSize / 1024}k"
            : $"{KmallocCachePrefix}{classSize}";

    /// <summary>ZERO_SIZE_PTR: the address kmalloc(0) returns where the profile says so.</summary>
    public const ulong ZeroSizePtr = 16;

    // ---- Kernel virtual address-space layout and page-table format (ADDR-2/3, VMAL-2, ZONE-4, DRV-5) ----

    /// <summary>
    /// Gap between the end of the direct mapping and VMALLOC_START (VMALLOC_OFFSET): a hole that
    /// catches accesses running off the end of the direct mapping (ADDR-6).
    /// </summary>
    public required ulong VmallocOffset { get; init; }
    /// <summary>VMALLOC_END: the first address above the vmalloc window (VMAL-2).</summary>
    public required ulong VmallocEnd { get; init; }
    /// <summary>Start of the persistent kmap window (PKMAP_BASE), on profiles with HIGHMEM (ZONE-4).</summary>
    public ulong PkmapBase { get; init; }
    /// <summary>LAST_PKMAP: number of persistent kmap slots, one page each, from <see cref="PkmapBase"/> up.</summary>
    public int PkmapSlots { get; init; }
    /// <summary>
    /// Index bits of each page-table level, top level first: x86-32 [10, 10] (page directory, page
    /// table: the 10/10/12 split), 64-bit-8k [10, 10, 10] (pgd, pmd, pte over 13 offset bits, as
    /// Alpha). A table of a level holds 2^bits entries.
    /// </summary>
    public required IReadOnlyList<int> PageTableLevelBits { get; init; }
    /// <summary>Bytes of one page-table entry: 4 on x86-32 (a table is one 4 KiB page), 8 on 64-bit-8k (one 8 KiB page).</summary>
    public required int PageTableEntryBytes { get; init; }
    /// <summary>Width of a physical address a page-table entry can name (32 on x86-32 without PAE).</summary>
    public required int PhysicalAddressBits { get; init; }
    /// <summary>
    /// vfree called in interrupt context is accepted and its unmapping deferred to a work item
    /// (linux-6: vfree hands such calls to vfree_atomic) instead of being reported (VMAL-3).
    /// </summary>
    public bool VfreeDefersInInterrupt { get; init; }

    // ---- User address space (ADDR-9, MMAP, DRV) -----------------------------------------------

    /// <summary>
    /// TASK_SIZE: user space is [0, TaskSize). On the 32-bit profiles it is PAGE_OFFSET (the 3/1 GiB
    /// split of ADDR-9); a 64-bit profile sets its own (x86-64: 0x7ffffffff000, one guard page
    /// below 2^47; 64-bit-8k: the lower half of its 43-bit address space). Data: every profile states it.
    /// </summary>
    public required ulong TaskSize { get; init; }

    /// <summary>
    /// Start of the user window: the part of user space where the suite places MAP_FIXED mappings
    /// and hints. An implementation keeps its own mappings (a live process's text, stack and
    /// libraries) outside it; non-fixed mappings may land anywhere in user space. Page aligned.
    /// </summary>
    public required ulong UserWindowStart { get; init; }

    /// <summary>Size of the user window in bytes.</summary>
    public required ulong UserWindowSize { get; init; }

    /// <summary>
    /// MAP_SHARED | MAP_PRIVATE together form MAP_SHARED_VALIDATE (Linux 4.15 and later): accepted as a
    /// shared mapping of a file, refused (-EINVAL) with MAP_ANONYMOUS. Without it both bits are -EINVAL (MMAP-3).
    /// </summary>
    public bool MapSharedValidate { get; init; }

    /// <summary>
    /// remap_pfn_range rounds a size that is not a page multiple up to whole pages (today's
    /// mm/memory.c: PAGE_ALIGN(size)); without it such a size is refused with -EINVAL, the documents'
    /// precondition (DRV-2).
    /// </summary>
    public bool RemapPfnRangeRoundsSize { get; init; }


    // ---- Derived values --------------------------------------------------------------------

    /// <summary>log2(PAGE_SIZE): the number of offset bits in an address (ADDR-2).</summary>
    public int PageShift => System.Numerics.BitOperations.Log2((uint)PageSize);
    /// <summary>Number of physical frames.</summary>
    public ulong TotalPages => PhysicalMemory / (ulong)PageSize;
    /// <summary>Pages in a max-order block.</summary>
    public ulong MaxOrderPages => 1UL << MaxOrder;
    /// <summary>End of low memory (the direct-mapped RAM): min(RAM, HighmemStart).</summary>
    public ulong LowMemoryEnd => HighmemStart is { } h ? Math.Min(h, PhysicalMemory) : PhysicalMemory;
    /// <summary>VMALLOC_START: just above the direct mapping plus VMALLOC_OFFSET (VMAL-2).</summary>
    public ulong VmallocStart => PageOffset + LowMemoryEnd + VmallocOffset;
    /// <summary>
    /// Start of the window ioremap takes its addresses from (DRV-5): on every profile the vmalloc
    /// window, as Linux's ioremap allocates a vm area there (get_vm_area_caller with VM_IOREMAP).
    /// </summary>
    public ulong IoremapStart => VmallocStart;
    /// <summary>End of the ioremap window (exclusive); see <see cref="IoremapStart"/>.</summary>
    public ulong IoremapEnd => VmallocEnd;
    /// <summary>
    /// Bits of a virtual address the MMU translates: the offset bits plus every level's index bits
    /// (32 on x86-32, 43 on 64-bit-8k). On a 64-bit profile the bits above them repeat the top one
    /// (sign extension), so the kernel's half of the address space is the top 2^(bits-1) bytes.
    /// </summary>
    public int VirtualAddressBits => PageShift + PageTableLevelBits.Sum();
    /// <summary>
    /// Default emergency reserve in pages, as the reference keeps it (<see cref="Contract.ZoneInfo.Default"/>):
    /// a request without __GFP_HIGH leaves at least this many free pages in the zones it may use
    /// together (GFP-3). Project choice: 1/256 of RAM, at least 16 pages.
    /// </summary>
    public long EmergencyReservePages => Math.Max(16L, (long)(TotalPages / 256));
    /// <summary>Whether the profile has a HIGHMEM zone at this memory size.</summary>
    public bool HasHighmem => HighmemStart is { } h && PhysicalMemory > h;

    /// <summary>The physical byte range [start, end) of a zone at this memory size; empty when start == end.</summary>
    public (ulong Start, ulong End) ZoneSpan(Zone zone)
    {
        ulong dmaEnd = Math.Min(DmaLimit, PhysicalMemory);
        ulong lowEnd = LowMemoryEnd;
        return zone switch
        {
            Zone.Dma => (0, dmaEnd),
            Zone.Normal => (dmaEnd, Math.Max(dmaEnd, lowEnd)),
            Zone.HighMem => (lowEnd, PhysicalMemory),
            _ => throw new ArgumentOutOfRangeException(nameof(zone)),
        };
    }

    /// <summary>The same profile with another physical memory size (a multiple of the max-order block).</summary>
    public Profile WithMemory(ulong bytes)
    {
        ulong block = (ulong)PageSize << MaxOrder;
        if (bytes == 0 || bytes % block != 0)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"memory size must be a positive multiple of {block} bytes");
        return this with { PhysicalMemory = bytes };
    }

    /// <summary>e.g. "x86-32/512M".</summary>
    public string Label => $"{Name}/{FormatSize(PhysicalMemory)}";

    /// <summary>A byte count as the command line writes RAM sizes: 64M, 2G, 512K, or plain bytes.</summary>
    public static string FormatSize(ulong bytes) =>
        bytes % (1UL << 30) == 0 ? $"{bytes >> 30}G"
        : bytes % (1UL << 20) == 0 ? $"{bytes >> 20}M"
        : bytes % 1024 == 0 ? $"{bytes >> 10}K" : $"{bytes}";

    /// <summary>The <see cref="Label"/>, e.g. "x86-32/64M".</summary>
    public override string ToString() => Label;
}
