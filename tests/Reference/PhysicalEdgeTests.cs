using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>
/// Edges of the reference's physical side that the broad tests and the generated campaigns never
/// reach: two kmaps at once (slot arithmetic), the first HIGHMEM frame, the last frame of RAM, the
/// page allocator's last resort (draining the per-CPU lists), the page-cache calls at 0, a machine
/// shut down twice, and the end of the vmalloc window. Small machines and a few calls each: these
/// run once per mutant that covers them (docs/mutation.md).
/// </summary>
public class PhysicalEdgeTests
{
    private const ulong MiB = 1UL << 20;

    private static ReferenceKernel Boot(ulong memory) => new(Profiles.X86_32.WithMemory(memory));

    private static long FreePages(ReferenceKernel mm) =>
        Zones.All.Sum(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Sum(o => mm.FreeBlocks(z, o) << o));

    private static byte ReadByte(ReferenceKernel mm, ulong addr)
    {
        var b = new byte[1];
        mm.Read(addr, b);
        return b[0];
    }

    // ---- kmap: one PKMAP slot per page, one atomic slot per nesting level (ZONE-4) ------------

    [Fact]
    public void TwoPersistentKmaps_TakeTwoSlotsOfThePkmapWindow_AndKunmapRemovesOnlyItsOwn()
    {
        using var mm = Boot(1024 * MiB);
        var p = mm.Profile;
        var a = mm.AllocPages(Gfp.HighUser, 0);
        var b = mm.AllocPages(Gfp.HighUser, 0);
        ulong pfnB = mm.PageToPfn(b);

        ulong va = mm.Kmap(a), vb = mm.Kmap(b);

        ulong windowEnd = p.PkmapBase + (ulong)p.PkmapSlots * (ulong)p.PageSize;
        Assert.All(new[] { va, vb }, v => Assert.True(v >= p.PkmapBase && v < windowEnd && v % (ulong)p.PageSize == 0, $"0x{v:x}"));
        Assert.NotEqual(va, vb);
        Assert.Equal(Translation.Mapped(pfnB * (ulong)p.PageSize), mm.Translate(vb, Access.KernelRead));
        mm.Write(va, [0x11]);
        mm.Write(vb, [0x22]);
        Assert.Equal(0x11, ReadByte(mm, va));
        Assert.Equal(0x22, ReadByte(mm, vb));

        mm.Kunmap(b);
        Assert.Equal(TranslationFault.NotPresent, mm.Translate(vb, Access.KernelRead).Fault);
        Assert.Equal(0x11, ReadByte(mm, va)); // a's mapping is untouched
        mm.Kunmap(a);
        Assert.Equal(TranslationFault.NotPresent, mm.Translate(va, Access.KernelRead).Fault);
    }

    [Fact]
    public void NestedAtomicKmaps_OfTwoHighmemPages_UseTwoSlotsAboveThePkmapWindow()
    {
        using var mm = Boot(1024 * MiB);
        var p = mm.Profile;
        var a = mm.AllocPages(Gfp.HighUser, 0);
        var b = mm.AllocPages(Gfp.HighUser, 0);
        ulong atomicBase = p.PkmapBase + (ulong)p.PkmapSlots * (ulong)p.PageSize;

        ulong va = mm.KmapAtomic(a), vb = mm.KmapAtomic(b);

        Assert.All(new[] { va, vb }, v => Assert.True(v >= atomicBase && v < atomicBase + 16UL * (ulong)p.PageSize, $"0x{v:x}"));
        Assert.NotEqual(va, vb);
        Assert.Equal(Translation.Mapped(mm.PageToPfn(a) * (ulong)p.PageSize), mm.Translate(va, Access.KernelRead));
        Assert.Equal(Translation.Mapped(mm.PageToPfn(b) * (ulong)p.PageSize), mm.Translate(vb, Access.KernelRead));
        mm.KunmapAtomic(vb);
        mm.KunmapAtomic(va);
    }

    [Fact]
    public void TheFirstHighmemFrame_HasNoAddress_TheLastLowFrameHasItsDirectOne()
    {
        using var mm = Boot(1024 * MiB);
        var p = mm.Profile;
        ulong lowPfnEnd = p.LowMemoryEnd / (ulong)p.PageSize;
        var firstHigh = mm.PfnToPage(lowPfnEnd);
        var lastLow = mm.PfnToPage(lowPfnEnd - 1);
        Assert.Equal(Zone.HighMem, mm.PageZone(firstHigh));
        Assert.Equal(0UL, mm.PageAddress(firstHigh));
        Assert.Equal(p.PageOffset + p.LowMemoryEnd - (ulong)p.PageSize, mm.PageAddress(lastLow));
    }

    [Fact]
    public void PfnToPage_OfTheFrameAfterRam_IsInvalidArgument()
    {
        using var mm = Boot(16 * MiB);
        ulong frames = mm.Profile.TotalPages;
        Assert.Equal(frames - 1, mm.PageToPfn(mm.PfnToPage(frames - 1)));
        Assert.Equal("pfn", Assert.Throws<InvalidArgumentException>(() => mm.PfnToPage(frames)).Parameter);
    }

    // ---- The page allocator's last resort: drain the per-CPU lists --------------------------

    [Fact]
    public void AHigherOrderRequest_GetsPagesThatWaitOnThePerCpuLists()
    {
        using var mm = Boot(16 * MiB);
        var pfns = new HashSet<ulong>();
        for (var h = mm.AllocPages(Gfp.Atomic, 0); !h.IsNull; h = mm.AllocPages(Gfp.Atomic, 0)) pfns.Add(mm.PageToPfn(h));
        Assert.True(mm.AllocPages(Gfp.Atomic, 1).IsNull);
        // Free 20 buddy pairs as single pages: they wait on the per-CPU list (below pcp->high), not merged.
        var pairs = pfns.Where(f => f % 2 == 0 && pfns.Contains(f + 1)).OrderBy(f => f).Take(20).ToList();
        Assert.Equal(20, pairs.Count);
        foreach (ulong f in pairs)
        {
            mm.FreePagesOf(mm.PfnToPage(f), 0);
            mm.FreePagesOf(mm.PfnToPage(f + 1), 0);
        }
        Assert.Equal(0, mm.FreeBlocks(Zone.Dma, 1));

        var block = mm.AllocPages(Gfp.Atomic, 1);

        Assert.False(block.IsNull);
        Assert.Contains(mm.PageToPfn(block), pairs);
    }

    // ---- The page cache (IReclaim) ---------------------------------------------------------------

    [Fact]
    public void FillPageCache_OfZeroPages_IsNothing_OfANegativeCount_IsInvalidArgument_AndDropEmptiesIt()
    {
        using var mm = Boot(16 * MiB);
        long free = FreePages(mm);
        Assert.Equal(0, mm.FillPageCache(0));
        Assert.Equal("pages", Assert.Throws<InvalidArgumentException>(() => mm.FillPageCache(-1)).Parameter);
        Assert.Equal(free, FreePages(mm));

        Assert.Equal(10, mm.FillPageCache(10));
        Assert.Equal(10, Zones.All.Sum(mm.ReclaimablePages));
        Assert.Equal(free - 10, FreePages(mm));
        mm.DropPageCache();
        Assert.Equal(0, Zones.All.Sum(mm.ReclaimablePages));
        Assert.Equal(free, FreePages(mm));
    }

    // ---- Shutting a machine down twice -----------------------------------------------------------

    [Fact]
    public void DisposingTwice_GivesItsPageMapBackOnce_SoTwoLaterMachinesDoNotShareIt()
    {
        const ulong size = 36 * MiB; // a size no other test boots, so the pool's maps of it are this test's
        var first = Boot(size);
        first.Dispose();
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.AllocPages(Gfp.Kernel, 0));

        using var b = Boot(size);
        var page = b.AllocPages(Gfp.Kernel, 0);
        using var c = Boot(size);
        var other = c.AllocPages(Gfp.Kernel, 0);
        b.FreePagesOf(page, 0); // b's map still says allocated: c's boot did not reset it
        c.FreePagesOf(other, 0);
    }

    // ---- The end of the direct mapping (ADDR-6, ADDR-10) ------------------------------------------

    [Fact]
    public void AnAccessThatRunsOffTheEndOfTheDirectMapping_IsAKernelPageFault_AndWritesNothing()
    {
        using var mm = Boot(64 * MiB);
        ulong end = mm.Profile.PageOffset + mm.Profile.LowMemoryEnd; // high_memory: the hole before VMALLOC_START follows
        mm.Write(end - 4, [1, 2, 3, 4]);
        Assert.Throws<KernelPageFaultException>(() => mm.Read(end - 2, new byte[4]));
        Assert.Throws<KernelPageFaultException>(() => mm.Write(end - 2, [9, 9, 9, 9]));
        var back = new byte[4];
        mm.Read(end - 4, back);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, back);
    }

    // ---- The vmalloc window's end (is_vmalloc_addr) ---------------------------------------------

    [Fact]
    public void IsVmallocAddr_IsTrueUpToTheLastByteOfTheWindow_AndFalseAtItsEnd()
    {
        using var mm = Boot(64 * MiB);
        var p = mm.Profile;
        Assert.True(mm.IsVmallocAddr(p.VmallocStart));
        Assert.True(mm.IsVmallocAddr(p.VmallocEnd - 1));
        Assert.False(mm.IsVmallocAddr(p.VmallocEnd));
        Assert.False(mm.IsVmallocAddr(p.VmallocStart - 1));
    }

    // ---- vmalloc does not clear (only vzalloc does) ----------------------------------------------

    [Fact]
    public void Vmalloc_LeavesTheOldBytesOfAReusedFrame()
    {
        using var mm = Boot(64 * MiB);
        ulong v = mm.Vmalloc(4096);
        ulong pfn = mm.VmallocToPfn(v);
        mm.Write(v, Enumerable.Repeat((byte)0xee, 4096).ToArray());
        mm.Vfree(v);
        ulong w = mm.Vmalloc(4096);
        Assert.Equal(pfn, mm.VmallocToPfn(w)); // the frame just freed came back
        Assert.Equal(0xee, ReadByte(mm, w + 100));
        ulong z = mm.Vzalloc(4096);
        Assert.Equal(0, ReadByte(mm, z + 100));
    }
}
