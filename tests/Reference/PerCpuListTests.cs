using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Vm;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Tests.Reference;

/// <summary>
/// The page allocator's per-CPU lists (reference/Mm/PageAlloc.cs, mm/page_alloc.c's pcp): refilled
/// pcp->batch (16) pages at a time from the buddy lists, flushed by a batch of the oldest pages once
/// they hold more than pcp->high (64). Driven on the allocator alone (no kernel facade), so these
/// cost a few milliseconds.
/// </summary>
public class PerCpuListTests
{
    private static readonly Zone[] Dma = [Zone.Dma];

    [Fact]
    public void AnOrder0RequestOnAnEmptyList_TakesOneBatchFromTheBuddyLists()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(16UL << 20));
        var zone = m.Pages.Zones[(int)Zone.Dma];
        Assert.Equal(0, zone.PcpCount);
        int pfn = m.Pages.GetPageFromFreelist(Dma, 0, mayUseReserve: true);
        Assert.True(pfn >= 0);
        Assert.Equal(15, zone.PcpCount);
        Assert.Equal(PageState.Allocated, m.Map.State[pfn]);
        Assert.All(zone.PcpPages.Take(15), p => Assert.Equal(PageState.PerCpu, m.Map.State[p]));
    }

    [Fact]
    public void FreeingPastTheHighMark_FlushesTheOldestBatchToTheBuddyLists()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(16UL << 20));
        var zone = m.Pages.Zones[(int)Zone.Dma];
        var pages = Enumerable.Range(0, 65).Select(_ => m.Pages.GetPageFromFreelist(Dma, 0, mayUseReserve: true)).ToList();
        m.Pages.DrainPcp();
        Assert.Equal(0, zone.PcpCount);
        long free = zone.FreePages;

        foreach (int pfn in pages.Take(64)) m.Pages.Free(pfn, 0);
        Assert.Equal(64, zone.PcpCount); // at the mark: nothing flushed yet
        m.Pages.Free(pages[64], 0);

        Assert.Equal(64 + 1 - 16, zone.PcpCount);
        Assert.Equal(free + 65, zone.FreePages);
        Assert.All(pages.Take(16), p => Assert.NotEqual(PageState.PerCpu, m.Map.State[p]));  // the 16 freed first left
        Assert.All(pages.Skip(16), p => Assert.Equal(PageState.PerCpu, m.Map.State[p]));
        Assert.Equal(pages.Skip(16), zone.PcpPages.Take(zone.PcpCount)); // oldest at the bottom, in order
    }

    [Fact]
    public void ARequestWithoutReserveAccess_MayLeaveExactlyTheReserve()
    {
        using var k = new KernelMm.Reference.ReferenceKernel(Profiles.X86_32.WithMemory(16UL << 20));
        var held = new List<PageHandle>();
        for (var h = k.AllocPages(Gfp.Atomic, 0); !h.IsNull; h = k.AllocPages(Gfp.Atomic, 0)) held.Add(h);
        long reserve = k.ZoneInfo().Zones.Max(z => z.Min);
        foreach (var h in held.Take((int)reserve + 1)) k.FreePagesOf(h, 0);

        Assert.False(k.AllocPages(Gfp.Kernel, 0).IsNull); // leaves exactly the reserve (GFP-3)
        Assert.True(k.AllocPages(Gfp.Kernel, 0).IsNull);  // would go below it
        Assert.False(k.AllocPages(Gfp.Atomic, 0).IsNull); // __GFP_HIGH may
    }
    // ---- The buddy free lists when frame 0 is on them -----------------------------------------

    /// <summary>Every order-(MaxOrder-1) block of a 16 MiB DMA zone, allocated; B is the block size in frames.</summary>
    private static (CoreMachine M, int Order, int B) AllHalfMaxBlocksAllocated()
    {
        var m = new CoreMachine(Profiles.X86_32.WithMemory(16UL << 20));
        int order = m.Pages.MaxOrder - 1;
        var got = new List<int>();
        for (int pfn; (pfn = m.Pages.GetPageFromFreelist(Dma, order, mayUseReserve: true)) >= 0;) got.Add(pfn);
        Assert.Contains(0, got);
        return (m, order, 1 << order);
    }

    private static List<int> TakeAll(CoreMachine m, int order)
    {
        var got = new List<int>();
        for (int pfn; (pfn = m.Pages.GetPageFromFreelist(Dma, order, mayUseReserve: true)) >= 0;) got.Add(pfn);
        return got;
    }

    [Fact]
    public void AMergeThatTakesFrame0FromTheMiddleOfAList_KeepsTheBlocksListedBeforeIt()
    {
        var (m, order, b) = AllHalfMaxBlocksAllocated();
        using var _ = m;
        m.Pages.Free(0, order);     // list: [0]
        m.Pages.Free(4 * b, order); // list: [4B, 0] (its buddy 5B is allocated)
        m.Pages.Free(b, order);     // 0's buddy: 0 leaves the list from behind 4B, and the pair merges
        Assert.Equal([0, b, 4 * b], TakeAll(m, order).Order()); // nothing lost: 4B, and the merged pair split again
    }

    [Fact]
    public void AMergeThatTakesABlockListedBehindFrame0_KeepsFrame0Listed()
    {
        var (m, order, b) = AllHalfMaxBlocksAllocated();
        using var _ = m;
        m.Pages.Free(4 * b, order); // list: [4B]
        m.Pages.Free(0, order);     // list: [0, 4B]
        m.Pages.Free(5 * b, order); // 4B's buddy: 4B leaves the list from behind 0, and the pair merges
        Assert.Equal([0, 4 * b, 5 * b], TakeAll(m, order).Order());
    }
}
