using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

// TEMPORARY (branch `user`): the kernel's page tables and the page-table frames wired the way the
// kernel-VM slice (branch `kvm`, ReferenceKernel.KernelPageTables.cs) wires them, with the same
// member names, so that user space can be built before that slice lands on main. Delete this file
// when merging it: its ReferenceKernel.KernelPageTables.cs defines Kpt and TableFrames.
public sealed partial class ReferenceKernel
{
    private KernelPageTables? _kpt;

    /// <summary>init_mm, made on first use (its boot tables sit in the kernel image: no free count changes).</summary>
    private KernelPageTables Kpt => _kpt ??= new KernelPageTables(Profile, new KernelLayout(Profile), TableFrames, tlbEntries: 64, tlbWays: 4);

    /// <summary>Page-table pages from the page allocator, shared by every page table of this machine.</summary>
    private PageAllocatorTableFrames TableFrames => _tableFrames ??= new PageAllocatorTableFrames(_map, _pages, _memory,
        () => AllocPagesPfn(Gfp.Kernel | GfpFlags.Zero, 0, "pte_alloc"));
    private PageAllocatorTableFrames? _tableFrames;
}
