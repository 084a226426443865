using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>init_mm as booted (reference/Mm/KernelPageTables.cs): the direct mapping, the boot tables, the layout.</summary>
public class KernelPageTablesTests
{
    public static TheoryData<string, ulong> EveryProfileAndSize()
    {
        var data = new TheoryData<string, ulong>();
        foreach (var p in Profiles.All)
            foreach (var m in Profiles.StandardMemorySizes) data.Add(p.Name, m);
        data.Add("linux-2.4", 66UL << 20); // a direct mapping that ends inside a large page
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryProfileAndSize))]
    public void DirectMapping_IsPaPlusPageOffset_ForLowMemoryOnly_AndTakesNoRam(string profileName, ulong memory)
    {
        var profile = Profiles.Get(profileName).WithMemory(memory);
        using var m = new CoreMachine(profile);
        long free = m.FreePages;
        var kpt = new KernelPageTables(profile, new KernelLayout(profile), m.Frames, 64, 4);

        Assert.Equal(free, m.FreePages); // boot tables live in the kernel image, not in the page allocator's RAM
        Assert.Equal(0, kpt.PageTablePages);
        ulong low = profile.LowMemoryEnd, page = (ulong)profile.PageSize;
        foreach (ulong pa in new ulong[] { 0, page + 7, low / 2 + 3, low - page, low - 1 })
            Assert.Equal(Translation.Mapped(pa), kpt.Mmu.Walk(profile.PageOffset + pa, Access.KernelWrite));
        Assert.Equal(TranslationFault.NotPresent, kpt.Mmu.Walk(profile.PageOffset + low, Access.KernelRead).Fault);
        Assert.Equal(TranslationFault.UserAccessToKernel, kpt.Mmu.Walk(profile.PageOffset, Access.UserRead).Fault);
        Assert.Equal(TranslationFault.NotPresent, kpt.Mmu.Walk(kpt.Layout.VmallocStart, Access.KernelRead).Fault);
        Assert.Equal(profile.VmallocStart, kpt.Layout.VmallocStart);
        Assert.True(kpt.Image.Contains((ulong)kpt.Table.Root));
        Assert.True(kpt.Image.FirstPfn > (int)profile.TotalPages, "the image sits outside RAM");
    }

    [Fact]
    public void PkmapWindow_HasItsTablesFromBoot()
    {
        var profile = Profiles.X86_32.WithMemory(1UL << 30);
        using var m = new CoreMachine(profile);
        var kpt = new KernelPageTables(profile, new KernelLayout(profile), m.Frames, 64, 4);
        long free = m.FreePages;
        Assert.True(kpt.Mmu.MapKernel(profile.PkmapBase + 5 * 4096UL, 0x3_0000, PteFlags.Kernel));
        Assert.True(kpt.Mmu.MapKernel(kpt.Layout.AtomicKmapBase, 0x3_0001, PteFlags.Kernel));
        Assert.Equal(free, m.FreePages);
        Assert.Equal(Translation.Mapped(0x3_0000_123UL), kpt.Mmu.Translate(profile.PkmapBase + 5 * 4096UL + 0x123, Access.KernelRead));
    }

    [Fact]
    public void VmallocTables_ComeFromThePageAllocator_AndGoBackWhenEmpty()
    {
        var profile = Profiles.Bit64_8K.WithMemory(64UL << 20);
        using var m = new CoreMachine(profile);
        var kpt = new KernelPageTables(profile, new KernelLayout(profile), m.Frames, 64, 4);
        long free = m.FreePages;
        ulong va = kpt.Layout.VmallocStart;
        Assert.True(kpt.Mmu.MapKernel(va, 77, PteFlags.Kernel));
        Assert.Equal(2, kpt.PageTablePages); // a pmd table and a pte table
        Assert.Equal(free - 2, m.FreePages);
        Assert.Equal(2, kpt.Mmu.UnmapKernelRange(va, va + 8192, freeTables: true));
        Assert.Equal((0L, free), (kpt.PageTablePages, m.FreePages));
    }
}
