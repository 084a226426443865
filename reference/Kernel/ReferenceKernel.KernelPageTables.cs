using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference;

/// <summary>
/// IKernelPageTables: the kernel's page tables (Mm/KernelPageTables, Mm/PageTable), ioremap
/// (Mm/Ioremap), and the translation every kernel memory access goes through.
/// </summary>
public sealed partial class ReferenceKernel : IKernelPageTables
{
    private static readonly Zone[] LowZones = [Zone.Normal, Zone.Dma];

    /// <summary>init_mm, made on first use (Smp: by one CPU only, as the slab layer).</summary>
    private KernelPageTables Kpt => Volatile.Read(ref _kpt) ?? MakeKpt();

    private KernelPageTables MakeKpt()
    {
        lock (_lazyInit) return _kpt ??= new KernelPageTables(Profile, _layout, TableFrames, _tlbEntries, _tlbWays);
    }

    /// <summary>Page-table pages from the page allocator, shared by every page table of this machine (PageTables in /proc/meminfo).</summary>
    private PageAllocatorTableFrames TableFrames => _tableFrames ??= new PageAllocatorTableFrames(_map, _pages, _memory,
        () => AllocPagesPfn(Gfp.Kernel | GfpFlags.Zero, 0, "pte_alloc_kernel"));
    private PageAllocatorTableFrames? _tableFrames;

    private VmapAreas VmapAreas => _vmapAreas ??= new VmapAreas(_layout.VmallocStart, _layout.VmallocEnd, _layout.PageShift);
    private Mm.Ioremap Ioremaps => _ioremap ??= new Mm.Ioremap(_layout, VmapAreas, () => Kpt, _sched, _map.Frames,
        () => Spec.Contract.Zones.All.Sum(z => _pages.Zones[(int)z].FreePages));
    private DeviceMemory Device => _device ??= new DeviceMemory(_pageSize);

    public Translation Translate(ulong addr, Access access)
    {
        Alive();
        CheckAccess(access, "translate");
        return Kpt.Mmu.Walk(addr, access);
    }

    /// <summary>An access the contract defines; anything else (an out-of-range enum value) is -EINVAL.</summary>
    private static void CheckAccess(Access access, string caller)
    {
        if ((uint)access > (uint)Access.UserWrite) throw new InvalidArgumentException("access", $"{caller}: {(int)access} is not an access");
    }

    public ulong Ioremap(ulong physAddr, long size)
    {
        Alive();
        return Ioremaps.Map(physAddr, size);
    }

    public void Iounmap(ulong addr)
    {
        Alive();
        Ioremaps.Unmap(addr);
    }

    public long PageTablePages
    {
        get
        {
            Alive();
            return _tableFrames?.InUse ?? 0;
        }
    }

    /// <summary>The PKMAP and atomic-kmap windows' entries, in the kernel's tables (through the MMU, so the TLB stays coherent).</summary>
    private sealed class KmapTables(ReferenceKernel kernel) : IKmapPageTable
    {
        public void Map(ulong va, int pfn)
        {
            // The windows' page tables are made at boot, so this never needs a table page.
            if (!kernel.Kpt.Mmu.MapKernel(va, (ulong)pfn, PteFlags.Kernel))
                throw new InvalidOperationException($"the kmap window at 0x{va:x} has no page table");
        }

        public void Unmap(ulong va) => kernel.Kpt.Mmu.UnmapKernel(va);
    }
}
