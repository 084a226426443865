using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>The reference buddy allocator, observed through the contract (names: Method_Condition_Result).</summary>
public class PageAllocatorTests
{
    private static ReferenceKernel Boot(ulong memory = 64UL << 20, Profile? profile = null) =>
        new((profile ?? Profiles.X86_32).WithMemory(memory));

    private static long FreePages(IPageAllocator pages, Zone zone, int maxOrder) =>
        Enumerable.Range(0, maxOrder + 1).Sum(o => pages.FreeBlocks(zone, o) << o);

    [Fact]
    public void Boot_64M_ZonesHoldOnlyTheirMaxOrderBlocks()
    {
        var mm = Boot();
        Assert.Equal(4, mm.FreeBlocks(Zone.Dma, 10));          // 16 MiB / 4 MiB
        Assert.Equal(12, mm.FreeBlocks(Zone.Normal, 10));      // 48 MiB / 4 MiB
        Assert.Equal(0, FreePages(mm, Zone.HighMem, 10));      // empty HIGHMEM below 896 MiB
        for (int o = 0; o < 10; o++) Assert.Equal(0, mm.FreeBlocks(Zone.Normal, o));
    }

    [Fact]
    public void Boot_2G_HighmemStartsAt896M()
    {
        var mm = Boot(2UL << 30);
        Assert.Equal((2048 - 896) / 4, mm.FreeBlocks(Zone.HighMem, 10));
        Assert.Equal(Zone.HighMem, mm.PageZone(mm.PfnToPage((896UL << 20) >> 12)));
        Assert.Equal(Zone.Normal, mm.PageZone(mm.PfnToPage(((896UL << 20) >> 12) - 1)));
    }

    [Fact]
    public void GetFreePages_Order3_SplitsOneBlockAndIsNaturallyAligned()
    {
        var mm = Boot();
        ulong addr = mm.GetFreePages(Gfp.Kernel, 3);
        ulong pfn = mm.VirtToPhys(addr) >> 12;
        Assert.Equal(0UL, pfn % 8);
        Assert.Equal(11, mm.FreeBlocks(Zone.Normal, 10));
        // expand() leaves one free block at each order from 3 to 9.
        for (int o = 3; o < 10; o++) Assert.Equal(1, mm.FreeBlocks(Zone.Normal, o));
    }

    [Fact]
    public void FreePages_AllBuddiesBack_CoalescesToMaxOrder()
    {
        var mm = Boot();
        var blocks = Enumerable.Range(0, 64).Select(_ => mm.GetFreePages(Gfp.Kernel, 2)).ToList();
        Assert.DoesNotContain(0UL, blocks);
        foreach (var b in blocks.AsEnumerable().Reverse()) mm.FreePages(b, 2);
        Assert.Equal(12, mm.FreeBlocks(Zone.Normal, 10));
    }

    [Fact]
    public void Order0_FreedPagesWaitOnPerCpuListUntilDrained()
    {
        var mm = Boot();
        ulong a = mm.GetFreePages(Gfp.Kernel, 0);
        mm.FreePages(a, 0);
        Assert.True(mm.FreeBlocks(Zone.Normal, 0) > 0, "per-CPU pages are reported as order-0 blocks");
        mm.DrainCaches();
        Assert.Equal(12, mm.FreeBlocks(Zone.Normal, 10));
        Assert.Equal(0, mm.FreeBlocks(Zone.Normal, 0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void FreePages_WrongOrder_ReportsPage4AndKeepsState(int delta)
    {
        var mm = Boot();
        ulong a = mm.GetFreePages(Gfp.Kernel, 2);
        long before = FreePages(mm, Zone.Normal, 10);
        var bug = Assert.Throws<KernelBugException>(() => mm.FreePages(a, 2 + delta));
        Assert.Equal("PAGE-4", bug.RuleId);
        Assert.Equal(before, FreePages(mm, Zone.Normal, 10));
        mm.FreePages(a, 2); // still live, frees correctly
        Assert.Equal(before + 4, FreePages(mm, Zone.Normal, 10));
    }

    [Fact]
    public void FreePages_Twice_ReportsPage4()
    {
        var mm = Boot();
        ulong a = mm.GetFreePages(Gfp.Kernel, 1);
        mm.FreePages(a, 1);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(a, 1)).RuleId);
    }

    [Fact]
    public void FreePages_InteriorOrUnalignedOrNull_IsRefusedOrIgnored()
    {
        var mm = Boot();
        ulong a = mm.GetFreePages(Gfp.Kernel, 2);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(a + 4096, 0)).RuleId);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(a + 12, 2)).RuleId);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(0x1000, 0)).RuleId);
        mm.FreePages(0, 3); // free_pages(0) is a no-op
        mm.FreePagesOf(PageHandle.Null, 0);
    }

    [Fact]
    public void Order_AboveMaxIsNull_NegativeIsInvalid()
    {
        var mm = Boot(profile: Profiles.Linux2_4);
        Assert.Equal(0UL, mm.GetFreePages(Gfp.Kernel, 10));
        Assert.NotEqual(0UL, mm.GetFreePages(Gfp.Kernel, 9));
        Assert.Throws<InvalidArgumentException>(() => mm.GetFreePages(Gfp.Kernel, -1));
    }

    [Fact]
    public void GfpBuffer_OnlyExistsOn24()
    {
        Assert.Throws<InvalidArgumentException>(() => Boot().GetFreePages(Gfp.Buffer, 0));
        Assert.NotEqual(0UL, Boot(profile: Profiles.Linux2_4).GetFreePages(Gfp.Buffer, 0));
    }

    [Fact]
    public void Dma_StaysBelow16M_AndFailsWhenZoneIsFull()
    {
        var mm = Boot();
        int taken = 0;
        while (mm.GetFreePages(Gfp.Atomic | GfpFlags.Dma, 0) is var a && a != 0)
        {
            Assert.True(mm.VirtToPhys(a) < 16UL << 20);
            taken++;
        }
        Assert.Equal(4096, taken); // the atomic request may use the whole zone, reserve included
    }

    [Fact]
    public void Reserve_KernelStopsAboveIt_AtomicGoesBelow()
    {
        var mm = Boot();
        var low = new[] { Zone.Normal, Zone.Dma };
        while (mm.GetFreePages(Gfp.Kernel, 0) != 0) { }
        long free = low.Sum(z => FreePages(mm, z, 10));
        Assert.True(free >= mm.Profile.EmergencyReservePages);
        Assert.Equal(0UL, mm.GetFreePages(Gfp.NoWait, 0));
        Assert.NotEqual(0UL, mm.GetFreePages(Gfp.Atomic, 0));
    }

    [Fact]
    public void Kernel_ReclaimsPageCacheAndSleeps_AtomicDoesNot()
    {
        var mm = Boot();
        int cached = mm.FillPageCache(100_000);
        Assert.True(cached > 10_000);
        while (mm.GetFreePages(Gfp.Atomic, 0) != 0) { }
        Assert.Equal(0UL, mm.GetFreePages(Gfp.Atomic, 0));
        long sleeps = mm.Sleeps;
        Assert.NotEqual(0UL, mm.GetFreePages(Gfp.Kernel, 0));
        Assert.True(mm.Sleeps > sleeps);
        Assert.True(mm.ReclaimablePages(Zone.Normal) + mm.ReclaimablePages(Zone.Dma) < cached);
    }

    [Fact]
    public void GetZeroedPage_ClearsWhatAPreviousOwnerWrote()
    {
        var mm = Boot();
        ulong a = mm.GetFreePages(Gfp.Kernel, 0);
        mm.Write(a + 100, [1, 2, 3]);
        mm.FreePages(a, 0);
        ulong z = mm.GetZeroedPage(Gfp.Kernel);
        Assert.Equal(a, z); // the per-CPU list hands the hot page back
        var bytes = new byte[4096];
        mm.Read(z, bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Write_CrossingIntoUnmappedMemory_FaultsAndWritesNothing()
    {
        var mm = Boot();
        ulong end = mm.Profile.PageOffset + (64UL << 20);
        Assert.Throws<KernelPageFaultException>(() => mm.Write(end - 2, [9, 9, 9, 9]));
        var last = new byte[2];
        mm.Read(end - 2, last);
        Assert.Equal(new byte[2], last);
    }

    [Fact]
    public void Translation_64Bit8K_KeepsOffsetAndUsesPageShift13()
    {
        var mm = Boot(profile: Profiles.Bit64_8K);
        ulong a = mm.GetFreePages(Gfp.Kernel, 0);
        ulong pa = mm.VirtToPhys(a);
        Assert.Equal(pa + 0x194, mm.VirtToPhys(a + 0x194));
        Assert.Equal(pa >> 13, mm.PageToPfn(mm.PfnToPage(pa >> 13)));
        Assert.Equal(0UL, pa % 0x2000);
    }
}
