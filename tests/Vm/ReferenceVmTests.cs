using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>The reference's kernel virtual memory through the contract: vmalloc, ioremap, kmap windows, TLB.</summary>
public class ReferenceVmTests
{
    private const ulong MiB = 1 << 20;

    private static ReferenceKernel Boot(Profile profile, ulong memory) => new(profile.WithMemory(memory));

    private static long Free(IPageAllocator pages, Profile p) =>
        Zones.All.Sum(z => Enumerable.Range(0, p.MaxOrder + 1).Sum(o => pages.FreeBlocks(z, o) << o));

    [Theory]
    [InlineData("x86-32", 64)]
    [InlineData("x86-32", 2048)]
    [InlineData("linux-2.4", 512)]
    [InlineData("64-bit-8k", 64)]
    [InlineData("linux-6", 1024)]
    public void Vmalloc_MapsEveryPage_InTheWindow_AndVfreeGivesEverythingBack(string profileName, int memoryMiB)
    {
        using var k = Boot(Profiles.Get(profileName), (ulong)memoryMiB * MiB);
        var p = k.Profile;
        int page = p.PageSize;
        long boot = Free(k, p);
        long size = 3L * page + 1;

        ulong a = k.Vmalloc(size);

        Assert.NotEqual(0UL, a);
        Assert.True(a >= p.VmallocStart && a + 4UL * (ulong)page <= p.VmallocEnd, $"0x{a:x}");
        Assert.Equal(0UL, a % (ulong)page);
        Assert.True(k.IsVmallocAddr(a) && k.IsVmallocAddr(a + (ulong)size - 1) && !k.IsVmallocAddr(p.PageOffset));
        var pfns = Enumerable.Range(0, 4).Select(i => k.VmallocToPfn(a + (ulong)(i * page) + 5)).ToList();
        Assert.Equal(4, pfns.Distinct().Count());
        for (int i = 0; i < 4; i++)
            Assert.Equal(Translation.Mapped(pfns[i] * (ulong)page + 0x10), k.Translate(a + (ulong)(i * page) + 0x10, Access.KernelWrite));
        Assert.Equal(boot - 4 - k.PageTablePages, Free(k, p));

        var data = Enumerable.Range(0, 3 * page).Select(i => (byte)(i * 7)).ToArray();
        k.Write(a + (ulong)page / 2, data); // across three page boundaries
        var back = new byte[data.Length];
        k.Read(a + (ulong)page / 2, back);
        Assert.Equal(data, back);
        var last = new byte[1];
        k.Read(a + (ulong)size - 1, last); // the last, partly used page is mapped

        k.Vfree(a);
        Assert.Equal(boot, Free(k, p));    // frames and the page tables that emptied
        Assert.Equal(0, k.PageTablePages);
        Assert.Throws<KernelPageFaultException>(() => k.Read(a, last));
        Assert.Equal(TranslationFault.NotPresent, k.Translate(a, Access.KernelRead).Fault);
        Assert.Equal(TranslationFault.NotPresent, k.TlbTranslate(a + (ulong)page, Access.KernelRead).Fault);
    }

    [Fact]
    public void Vmalloc_UsesHighmemFrames_WhenThereAreSome()
    {
        using var k = Boot(Profiles.X86_32, 2048 * MiB);
        ulong a = k.Vmalloc(16 * 4096);
        var zones = Enumerable.Range(0, 16).Select(i => k.PageZone(k.PfnToPage(k.VmallocToPfn(a + (ulong)i * 4096)))).ToHashSet();
        Assert.Contains(Zone.HighMem, zones);
    }

    [Fact]
    public void Vmalloc_ServesMoreThanTheLargestBlock_AfterFragmentation()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        var taken = new List<ulong>();
        for (ulong a; (a = k.GetFreePages(Gfp.Atomic, 0)) != 0;) taken.Add(a);
        for (int i = 0; i < taken.Count; i += 2) k.FreePages(taken[i], 0);
        k.DrainCaches();
        for (int o = 1; o <= k.Profile.MaxOrder; o++)
            Assert.Equal(0, Zones.All.Sum(z => k.FreeBlocks(z, o)));

        ulong big = k.Vmalloc((1L << k.Profile.MaxOrder) * 4096 + 4096);

        Assert.NotEqual(0UL, big);
        k.Write(big + (1UL << 22), [1, 2, 3]);
    }

    [Fact]
    public void Vmalloc_InAtomicContext_IsReportedAndTakesNothing()
    {
        using var k = Boot(Profiles.Linux6, 64 * MiB);
        long free = Free(k, k.Profile);
        k.PreemptDisable();
        Assert.Equal("VMAL-3", Assert.Throws<KernelBugException>(() => k.Vmalloc(100)).RuleId);
        k.PreemptEnable();
        k.IrqEnter();
        Assert.Equal("VMAL-3", Assert.Throws<KernelBugException>(() => k.Vzalloc(100)).RuleId);
        k.IrqExit();
        Assert.Equal(free, Free(k, k.Profile));
    }

    [Fact]
    public void Vmalloc_EdgeSizes()
    {
        using var k = Boot(Profiles.X86_32, 2048 * MiB);
        Assert.Equal(0UL, k.Vmalloc(0));
        Assert.Throws<InvalidArgumentException>(() => k.Vmalloc(-1));
        Assert.Equal(0UL, k.Vmalloc(3L << 30));                                            // above RAM
        Assert.Equal(0UL, k.Vmalloc((long)(k.Profile.VmallocEnd - k.Profile.VmallocStart))); // no room with the guard page
        ulong z = k.Vzalloc(5000);
        var bytes = new byte[5000];
        k.Read(z, bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Areas_AreSeparatedByAnUnmappedGuardPage()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        ulong a = k.Vmalloc(4096), b = k.Vmalloc(4096);
        Assert.Equal(a + 2 * 4096UL, b);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(a + 4096, Access.KernelRead).Fault);
    }

    [Fact]
    public void Vfree_ReportsEverythingThatIsNotALiveArea()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        ulong a = k.Vmalloc(3 * 4096), km = k.Kmalloc(64, Gfp.Kernel), pg = k.GetFreePages(Gfp.Kernel, 0);
        ulong io = k.Ioremap(k.Profile.PhysicalMemory, 4096);
        k.Vfree(0);
        foreach (ulong bad in new[] { a + 4096, a + 1, km, pg, io })
            Assert.Equal("VMAL-6", Assert.Throws<KernelBugException>(() => k.Vfree(bad)).RuleId);
        k.Vfree(a);
        Assert.Equal("VMAL-6", Assert.Throws<KernelBugException>(() => k.Vfree(a)).RuleId);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => k.Kfree(io)).RuleId);
    }

    [Fact]
    public void VmallocMemory_HasNoSinglePhysicalAddress_AndBelongsToVmallocAlone()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        ulong a = k.Vmalloc(2 * 4096);
        Assert.Equal("VMAL-5", Assert.Throws<KernelBugException>(() => k.VirtToPhys(a + 4097)).RuleId);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => k.Kfree(a)).RuleId);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => k.FreePages(a, 0)).RuleId);
        ulong alias = k.PageAddress(k.PfnToPage(k.VmallocToPfn(a)));
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => k.FreePages(alias, 0)).RuleId);
        Assert.Throws<InvalidArgumentException>(() => k.VmallocToPfn(a + 2 * 4096)); // the guard page
    }

    [Fact]
    public void Vfree_InInterrupt_IsDeferredOnLinux6_AndReportedElsewhere()
    {
        using (var k6 = Boot(Profiles.Linux6, 64 * MiB))
        {
            long boot = Free(k6, k6.Profile);
            ulong a = k6.Vmalloc(4096);
            k6.IrqEnter();
            k6.Vfree(a);                 // accepted: vfree_atomic
            Assert.True(k6.Translate(a, Access.KernelRead).Fault == TranslationFault.None);
            Assert.Equal("VMAL-6", Assert.Throws<KernelBugException>(() => k6.Vfree(a)).RuleId);
            k6.IrqExit();
            k6.DrainCaches();            // the deferred work has run
            Assert.Equal(TranslationFault.NotPresent, k6.Translate(a, Access.KernelRead).Fault);
            Assert.Equal(boot, Free(k6, k6.Profile));
        }
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        ulong b = k.Vmalloc(4096);
        k.IrqEnter();
        Assert.Equal("VMAL-3", Assert.Throws<KernelBugException>(() => k.Vfree(b)).RuleId);
        k.IrqExit();
        k.PreemptDisable();
        Assert.Equal("VMAL-3", Assert.Throws<KernelBugException>(() => k.Vfree(b)).RuleId);
        k.PreemptEnable();
        k.Vfree(b);
    }

    [Theory]
    [InlineData("x86-32", 64)]
    [InlineData("64-bit-8k", 2048)]
    public void Ioremap_MapsDeviceMemory_WithoutRam(string profileName, int memoryMiB)
    {
        using var k = Boot(Profiles.Get(profileName), (ulong)memoryMiB * MiB);
        var p = k.Profile;
        ulong page = (ulong)p.PageSize;
        long boot = Free(k, p);
        ulong bar = p.PhysicalMemory + 16 * page + 0x123;

        ulong io = k.Ioremap(bar, 3 * (long)page);

        Assert.NotEqual(0UL, io);
        Assert.Equal(0x123UL, io % page);
        Assert.True(io >= p.IoremapStart && io < p.IoremapEnd);
        Assert.Equal(Translation.Mapped(bar + 2 * page), k.Translate(io + 2 * page, Access.KernelWrite));
        Assert.Equal(boot - k.PageTablePages, Free(k, p)); // page tables only
        k.Write(io - 0x123 + page - 4, [9, 8, 7, 6, 5, 4, 3, 2]); // across the first page boundary
        ulong alias = k.Ioremap(bar - 0x123 + page, 8);
        var back = new byte[4];
        k.Read(alias, back);
        Assert.Equal(new byte[] { 5, 4, 3, 2 }, back);     // the same bus bytes through another mapping

        k.Iounmap(io);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(io, Access.KernelRead).Fault);
        Assert.Equal("DRV-5", Assert.Throws<KernelBugException>(() => k.Iounmap(io)).RuleId);
        k.Iounmap(alias);
        Assert.Equal(boot, Free(k, p));
        Assert.Equal(0UL, k.Ioremap(0, 4096));                 // RAM is not device memory
        Assert.Equal(0UL, k.Ioremap(p.PhysicalMemory - 1, 2)); // nor is a range reaching into it
        Assert.Equal(0UL, k.Ioremap(bar, 0));
    }

    [Fact]
    public void Kmap_MapsThroughThePkmapWindow_AndKunmapRemovesIt()
    {
        using var k = Boot(Profiles.X86_32, 1024 * MiB);
        var page = k.AllocPages(Gfp.HighUser, 0);
        ulong pfn = k.PageToPfn(page);
        Assert.Equal(Zone.HighMem, k.PageZone(page));

        ulong va = k.Kmap(page);

        Assert.True(va >= k.Profile.PkmapBase && va < k.Profile.PkmapBase + (ulong)k.Profile.PkmapSlots * 4096);
        Assert.Equal(Translation.Mapped(pfn * 4096 + 0x44), k.TlbTranslate(va + 0x44, Access.KernelRead));
        k.Kunmap(page);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(va, Access.KernelRead).Fault);
        Assert.Equal(TranslationFault.NotPresent, k.TlbTranslate(va, Access.KernelRead).Fault);
        ulong atomic = k.KmapAtomic(page);
        Assert.Equal(Translation.Mapped(pfn * 4096), k.Translate(atomic, Access.KernelRead));
        k.KunmapAtomic(atomic);
        Assert.NotEqual(TranslationFault.None, k.Translate(atomic, Access.KernelRead).Fault);
    }

    [Fact]
    public void Tlb_CountsHitsAndMisses_AndFlushes()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        ulong a = k.Vmalloc(4096);
        long hits = k.TlbHits, misses = k.TlbMisses;
        Assert.Equal(k.Translate(a, Access.KernelRead), k.TlbTranslate(a, Access.KernelRead));
        Assert.Equal(k.Translate(a, Access.KernelRead), k.TlbTranslate(a, Access.KernelRead));
        Assert.Equal((hits + 1, misses + 1), (k.TlbHits, k.TlbMisses));
        k.FlushTlbKernelRange(a, a + 4096);
        k.TlbTranslate(a, Access.KernelRead);
        Assert.Equal(misses + 2, k.TlbMisses);
        k.FlushTlbAll();
        k.TlbTranslate(a, Access.KernelRead);
        Assert.Equal(misses + 3, k.TlbMisses);
        Assert.Equal(64, k.TlbEntries);
        Assert.Equal(TranslationFault.UserAccessToKernel, k.TlbTranslate(a, Access.UserRead).Fault);
    }

    [Fact]
    public void Translate_FaultsOutsideEveryMapping()
    {
        using var k = Boot(Profiles.X86_32, 64 * MiB);
        var p = k.Profile;
        foreach (ulong va in new[] { p.PageOffset + p.LowMemoryEnd, p.VmallocStart - 1, p.VmallocStart, 0x1000UL })
        {
            Assert.Equal(TranslationFault.NotPresent, k.Translate(va, Access.KernelRead).Fault);
            Assert.Throws<KernelPageFaultException>(() => k.Read(va, new byte[1]));
        }
        Assert.Equal(Translation.Mapped(0x1234), k.Translate(p.PageOffset + 0x1234, Access.KernelRead));
    }
}
