using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

public class ContextAndHighmemTests
{
    private static ReferenceKernel Boot2G() => new(Profiles.X86_32.WithMemory(2UL << 30));

    [Fact]
    public void Context_InterruptImpliesAtomic_SpinlockIsAtomicOnly()
    {
        var mm = Boot2G();
        mm.PreemptDisable();
        Assert.True(mm.InAtomic);
        Assert.False(mm.InInterrupt);
        mm.IrqEnter();
        Assert.True(mm.InInterrupt);
        mm.IrqExit();
        mm.PreemptEnable();
        Assert.False(mm.InAtomic);
        Assert.Equal("GFP-5", Assert.Throws<KernelBugException>(mm.PreemptEnable).RuleId);
        Assert.Equal("GFP-5", Assert.Throws<KernelBugException>(mm.IrqExit).RuleId);
    }

    [Theory]
    [InlineData(Gfp.Kernel)]
    [InlineData(Gfp.Kernel | GfpFlags.Dma)]
    [InlineData(Gfp.HighUser)]
    public void SleepingAllocation_InInterrupt_ReportsGfp1AndAllocatesNothing(GfpFlags flags)
    {
        var mm = Boot2G();
        long before = mm.FreeBlocks(Zone.Normal, 10);
        mm.IrqEnter();
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.AllocPages(flags, 0)).RuleId);
        Assert.Equal(before, mm.FreeBlocks(Zone.Normal, 10));
        Assert.False(mm.AllocPages(Gfp.Atomic | (flags & GfpFlags.Dma), 0).IsNull);
    }

    [Fact]
    public void HighmemPage_HasNoAddressUntilKmap_NestedKmapSharesAddress()
    {
        var mm = Boot2G();
        var page = mm.AllocPages(Gfp.HighUser, 0);
        Assert.Equal(Zone.HighMem, mm.PageZone(page));
        Assert.Equal(0UL, mm.PageAddress(page));
        ulong a = mm.Kmap(page);
        Assert.Equal(a, mm.Kmap(page));
        Assert.Equal(a, mm.PageAddress(page));
        mm.Write(a, [0x42]);
        mm.Kunmap(page);
        mm.Kunmap(page);
        Assert.Equal(0UL, mm.PageAddress(page));
        Assert.Equal("ZONE-4", Assert.Throws<KernelBugException>(() => mm.Kunmap(page)).RuleId);
        ulong atomic = mm.KmapAtomic(page);
        var b = new byte[1];
        mm.Read(atomic, b);
        Assert.Equal(0x42, b[0]);
        mm.KunmapAtomic(atomic);
        Assert.Throws<KernelPageFaultException>(() => mm.Read(atomic, b));
    }

    [Fact]
    public void Kmap_InAtomicContext_ReportsGfp1_KmapAtomicWorks()
    {
        var mm = Boot2G();
        var page = mm.AllocPages(Gfp.HighUser, 0);
        mm.PreemptDisable();
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.Kmap(page)).RuleId);
        ulong a = mm.KmapAtomic(page);
        Assert.NotEqual(0UL, a);
        Assert.Equal("ZONE-4", Assert.Throws<KernelBugException>(() => mm.KunmapAtomic(a + 4096)).RuleId);
        mm.KunmapAtomic(a);
    }

    [Fact]
    public void GetFreePages_WithHighmemFlag_StillReturnsLowMemory()
    {
        var mm = Boot2G();
        for (int i = 0; i < 100; i++)
        {
            ulong a = mm.GetFreePages(Gfp.HighUser, 0);
            Assert.True(mm.VirtToPhys(a) < 896UL << 20);
        }
    }

    [Fact]
    public void FreeingAKmappedPage_IsRefused()
    {
        var mm = Boot2G();
        var page = mm.AllocPages(Gfp.HighUser, 0);
        mm.Kmap(page);
        Assert.Equal("ZONE-4", Assert.Throws<KernelBugException>(() => mm.FreePagesOf(page, 0)).RuleId);
        mm.Kunmap(page);
        mm.FreePagesOf(page, 0);
    }
}
