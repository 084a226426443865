using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>The TLB core (reference/Mm/Tlb.cs) and the MMU that keeps it coherent (reference/Mm/Mmu.cs).</summary>
public class TlbTests
{
    private const int Shift = 12;

    [Fact]
    public void Miss_ThenFill_ThenHit()
    {
        var tlb = new Tlb(16, 4, Shift);
        Assert.False(tlb.TryLookup(0x5000, 1, out _, out _));
        tlb.Fill(0x5000, 1, 42, PteFlags.Writable);
        Assert.True(tlb.TryLookup(0x5abc, 1, out ulong pfn, out var rights));
        Assert.Equal((42UL, PteFlags.Writable), (pfn, rights));
        Assert.Equal((1L, 1L), (tlb.Hits, tlb.Misses));
    }

    [Fact]
    public void Asids_AreIsolated_GlobalEntriesAreShared()
    {
        var tlb = new Tlb(16, 4, Shift);
        tlb.Fill(0x5000, 1, 10, PteFlags.User);
        tlb.Fill(0xC000_0000, Tlb.Global, 20, PteFlags.Writable);
        Assert.False(tlb.TryLookup(0x5000, 2, out _, out _));
        Assert.True(tlb.TryLookup(0xC000_0000, 2, out ulong pfn, out _));
        Assert.Equal(20UL, pfn);

        tlb.FlushAsid(1);
        Assert.False(tlb.TryLookup(0x5000, 1, out _, out _));
        Assert.True(tlb.TryLookup(0xC000_0000, 1, out _, out _));
    }

    [Fact]
    public void FlushPage_DropsOnlyThatPage()
    {
        var tlb = new Tlb(16, 4, Shift);
        tlb.Fill(0x5000, Tlb.Global, 1, PteFlags.None);
        tlb.Fill(0x6000, Tlb.Global, 2, PteFlags.None);
        tlb.FlushPage(0x5fff, Tlb.Global);
        Assert.False(tlb.TryLookup(0x5000, Tlb.Global, out _, out _));
        Assert.True(tlb.TryLookup(0x6000, Tlb.Global, out _, out _));
    }

    [Theory]
    [InlineData(2)]   // page by page
    [InlineData(100)] // longer than the TLB: a scan
    public void FlushKernelRange_DropsEveryGlobalPageInTheRange(int pages)
    {
        var tlb = new Tlb(16, 4, Shift);
        for (ulong i = 0; i < 20; i++) tlb.Fill(0x10_0000 + (i << Shift), Tlb.Global, i, PteFlags.None);
        tlb.Fill(0x10_0000, 3, 99, PteFlags.User); // a user entry at the same address stays
        tlb.FlushKernelRange(0x10_0000, 0x10_0000 + ((ulong)pages << Shift));
        for (ulong i = 0; i < (ulong)Math.Min(pages, 20); i++)
            Assert.False(tlb.TryLookup(0x10_0000 + (i << Shift), Tlb.Global, out _, out _), $"page {i}");
        Assert.True(tlb.TryLookup(0x10_0000, 3, out ulong pfn, out _));
        Assert.Equal(99UL, pfn);
    }

    [Fact]
    public void IsBounded_ByItsCapacity()
    {
        var tlb = new Tlb(8, 2, Shift);
        for (ulong i = 0; i < 64; i++) tlb.Fill(i << Shift, Tlb.Global, i, PteFlags.None);
        int hits = 0;
        for (ulong i = 0; i < 64; i++) if (tlb.TryLookup(i << Shift, Tlb.Global, out ulong pfn, out _)) { hits++; Assert.Equal(i, pfn); }
        Assert.Equal(8, hits);
        Assert.Equal(8, tlb.Capacity);
        Assert.Throws<ArgumentException>(() => new Tlb(12, 4, Shift));
    }

    [Fact]
    public void Mmu_NeverAnswersAStaleTranslation_AfterUnmapOrRemap()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64UL << 20));
        var kernel = m.NewTable(PteFlags.KernelTable);
        var mmu = new Mmu(kernel, new Tlb(16, 4, Shift), Profiles.X86_32.PageOffset);
        ulong va = 0xE000_0000;
        Assert.True(mmu.MapKernel(va, 7, PteFlags.Kernel));
        Assert.Equal(Translation.Mapped(0x7010), mmu.Translate(va + 0x10, Access.KernelRead)); // miss, fill
        Assert.Equal(Translation.Mapped(0x7010), mmu.Translate(va + 0x10, Access.KernelRead)); // hit
        Assert.Equal(1, mmu.Tlb.Hits);

        Assert.True(mmu.MapKernel(va, 8, PteFlags.Kernel));                                      // remap
        Assert.Equal(Translation.Mapped(0x8010), mmu.Translate(va + 0x10, Access.KernelRead));
        Assert.NotEqual(0UL, mmu.UnmapKernel(va));                                              // unmap
        Assert.Equal(TranslationFault.NotPresent, mmu.Translate(va + 0x10, Access.KernelRead).Fault);
        Assert.Equal(mmu.Walk(va, Access.KernelRead), mmu.Translate(va, Access.KernelRead));

        Assert.True(mmu.MapKernel(va, 9, PteFlags.Kernel));
        mmu.Translate(va, Access.KernelRead);
        Assert.Equal(0, mmu.UnmapKernelRange(va, va + 0x1000, freeTables: false));
        Assert.Equal(TranslationFault.NotPresent, mmu.Translate(va, Access.KernelRead).Fault);
    }

    [Fact]
    public void Mmu_SplitsUserAndKernelHalves_AndTagsUserEntriesByAsid()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64UL << 20));
        var kernel = m.NewTable(PteFlags.KernelTable);
        var mmu = new Mmu(kernel, new Tlb(16, 4, Shift), Profiles.X86_32.PageOffset);
        var x = new AddressSpace(m.NewTable(), 1);
        var y = new AddressSpace(m.NewTable(), 2);
        mmu.MapUser(x, 0x1000, 11, PteFlags.UserReadWrite);
        mmu.MapUser(y, 0x1000, 22, PteFlags.UserReadOnly);
        mmu.MapKernel(0xD000_0000, 33, PteFlags.Kernel);

        mmu.Current = x;
        Assert.Equal(Translation.Mapped(11UL << 12), mmu.Translate(0x1000, Access.UserWrite));
        Assert.Equal(TranslationFault.UserAccessToKernel, mmu.Translate(0xD000_0000, Access.UserRead).Fault);
        Assert.Equal(Translation.Mapped(33UL << 12), mmu.Translate(0xD000_0000, Access.KernelRead));
        mmu.Current = y; // no flush: the ASID tells them apart
        Assert.Equal(Translation.Mapped(22UL << 12), mmu.Translate(0x1000, Access.UserRead));
        Assert.Equal(TranslationFault.Protection, mmu.Translate(0x1000, Access.UserWrite).Fault);
        Assert.Equal(Translation.Mapped(33UL << 12), mmu.Translate(0xD000_0000, Access.KernelRead)); // global hit
        mmu.Current = null;
        Assert.Equal(TranslationFault.NotPresent, mmu.Translate(0x1000, Access.KernelRead).Fault);

        long before = m.Frames.InUse;
        mmu.DestroyUser(x);
        Assert.Equal(before - 2, m.Frames.InUse);
        mmu.Current = y;
        Assert.Equal(Translation.Mapped(22UL << 12), mmu.Translate(0x1000, Access.UserRead));
    }
}
