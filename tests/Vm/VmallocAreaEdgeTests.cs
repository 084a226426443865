using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// The reference's vmalloc window at its edges: first fit that reuses a freed hole of exactly the
/// size needed (pages plus the guard page), a range that fills the window to its last byte, a vmalloc
/// larger than free memory that gives back every frame and its range, the deferred vfree work of
/// linux-6 (run by the next vmalloc or vfree, never in atomic context, and only once), and the
/// VMAL-6 report that says what the address was. Small machines and a few calls each.
/// </summary>
public class VmallocAreaEdgeTests
{
    private const ulong Page = 4096;

    private static ReferenceKernel Boot(Profile profile, ulong memory) => new(profile.WithMemory(memory));

    private static long Free(ReferenceKernel k) =>
        Zones.All.Sum(z => Enumerable.Range(0, k.Profile.MaxOrder + 1).Sum(o => k.FreeBlocks(z, o) << o));

    private static string VfreeReport(ReferenceKernel k, ulong addr)
    {
        var bug = Assert.Throws<KernelBugException>(() => k.Vfree(addr));
        Assert.Equal("VMAL-6", bug.RuleId);
        return bug.Message;
    }

    [Fact]
    public void AFreedHole_OfExactlyPagesPlusGuard_IsReusedFirstFit()
    {
        using var k = Boot(Profiles.X86_32, 64UL << 20);
        ulong a = k.Vmalloc((long)Page), b = k.Vmalloc((long)Page);
        Assert.Equal(k.Profile.VmallocStart, a);
        Assert.Equal(a + 2 * Page, b);
        k.Vfree(a);
        Assert.Equal(a, k.Vmalloc((long)Page));      // the hole [a, b) holds one page and its guard, exactly
        Assert.Equal(b + 2 * Page, k.Vmalloc(2 * (long)Page)); // the next one goes after b's guard page
    }

    [Fact]
    public void ARange_ThatFillsTheWindowToItsEnd_FitsWithItsGuardPage()
    {
        // 1 GiB on x86-32: the window (VMALLOC_START above 896 MiB of low memory) is about 120 MiB.
        using var k = Boot(Profiles.X86_32, 1UL << 30);
        var p = k.Profile;
        ulong windowPages = (p.VmallocEnd - p.VmallocStart) / Page;
        ulong device = p.PhysicalMemory;
        Assert.Equal(0UL, k.Ioremap(device, (long)(windowPages * Page)));   // no room for its guard page
        ulong io = k.Ioremap(device, (long)((windowPages - 1) * Page));     // the last page of the window is its guard
        Assert.Equal(p.VmallocStart, io);
        Assert.Equal(0UL, k.Vmalloc((long)Page));
        k.Iounmap(io);
        Assert.Equal(p.VmallocStart, k.Vmalloc((long)Page));
    }

    [Fact]
    public void AVmallocLargerThanFreeMemory_ReturnsNull_AndGivesBackEveryFrameAndItsRange()
    {
        using var k = Boot(Profiles.X86_32, 64UL << 20);
        k.GetFreePages(Gfp.Kernel, 8);                // held, so that more than the free pages is still less than RAM
        long before = Free(k);
        Assert.Equal(0UL, k.Vmalloc((before + 16) * (long)Page)); // the frames run out
        Assert.Equal(before, Free(k));
        Assert.Equal(0, k.PageTablePages);
        Assert.Equal(k.Profile.VmallocStart, k.Vmalloc((long)Page)); // its range was released too
        k.Vfree(k.Profile.VmallocStart);
        Assert.Equal(before, Free(k));
    }

    [Fact]
    public void DeferredVfree_RunsAtTheNextVmalloc_SoItsRangeIsReused()
    {
        using var k = Boot(Profiles.Linux6, 64UL << 20);
        long boot = Free(k);
        ulong a = k.Vmalloc((long)Page);
        k.IrqEnter();
        k.Vfree(a);
        Assert.Contains("already being freed", VfreeReport(k, a));
        k.DrainCaches();                              // in interrupt context: the work waits
        Assert.Equal(TranslationFault.None, k.Translate(a, Access.KernelRead).Fault);
        k.IrqExit();
        Assert.Equal(a, k.Vmalloc((long)Page));      // the work ran first, then first fit found a's range
        k.Vfree(a);
        k.DrainCaches();
        Assert.Equal(boot, Free(k));                  // every frame once, none twice
    }

    [Fact]
    public void DeferredVfree_RunsAtTheNextVfree_InProcessContext()
    {
        using var k = Boot(Profiles.Linux6, 64UL << 20);
        long boot = Free(k);
        ulong a = k.Vmalloc((long)Page), b = k.Vmalloc((long)Page);
        k.IrqEnter();
        k.Vfree(a);
        k.IrqExit();
        k.Vfree(b);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(a, Access.KernelRead).Fault);
        Assert.Equal(boot, Free(k));
        k.DrainCaches();
        Assert.Equal(boot, Free(k));
    }

    [Fact]
    public void Vfree_SaysWhatTheBadAddressWas()
    {
        using var k = Boot(Profiles.X86_32, 64UL << 20);
        ulong a = k.Vmalloc(2 * (long)Page), b = k.Vmalloc((long)Page);
        Assert.Equal(a + 3 * Page, b);
        Assert.Contains("nonexistent vm area", VfreeReport(k, b + 2 * Page)); // just past b's guard page
        ulong io = k.Ioremap(k.Profile.PhysicalMemory, (long)Page);
        ulong km = k.Kmalloc(64, Gfp.Kernel);

        Assert.Contains($"not the start of the area at 0x{a:x}", VfreeReport(k, a + Page));
        Assert.Contains($"not the start of the area at 0x{a:x}", VfreeReport(k, a + 2 * Page)); // a's guard page
        Assert.Contains($"not the start of the area at 0x{b:x}", VfreeReport(k, b + 1));
        Assert.Contains($"not the start of the area at 0x{b:x}", VfreeReport(k, b + 2 * Page - 1));
        Assert.Contains("an ioremap area", VfreeReport(k, io));
        Assert.Contains("nonexistent vm area", VfreeReport(k, io + 4 * Page));
        Assert.Contains("not a vmalloc address", VfreeReport(k, km));
    }
}
