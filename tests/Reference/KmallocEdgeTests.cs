using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>
/// Edges of the reference kmalloc family that the broad tests (KmallocTests) and the generated
/// campaigns never reach: a check that a fresh slab would repeat, the largest class exactly,
/// in-place krealloc bookkeeping, and what a moving krealloc may touch. Each test boots one small
/// machine and does a few calls (they run once per mutant that covers them: docs/mutation.md).
/// </summary>
public class KmallocEdgeTests
{
    private static ReferenceKernel Boot(Profile profile, ulong memory = 64UL << 20) => new(profile.WithMemory(memory));

    private static long Active(ReferenceKernel mm, string name) => mm.SlabInfo().Single(i => i.Name == name).ActiveObjects;

    private static byte[] ReadBytes(ReferenceKernel mm, ulong addr, int length)
    {
        var bytes = new byte[length];
        mm.Read(addr, bytes);
        return bytes;
    }

    private static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    // ---- GFP-7 on the paths that take no new page ---------------------------------------------

    [Fact]
    public void AnUndefinedGfpBit_IsRefused_EvenWhenTheCacheHasARoomyObjectAlready()
    {
        // The first object of a class takes a slab from the page allocator, which checks the mask
        // too; the second comes from that slab, so only kmalloc's own check can refuse it.
        using var mm = Boot(Profiles.X86_32);
        ulong first = mm.Kmalloc(100, Gfp.Kernel);
        var cache = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        var bad = Gfp.Kernel | (GfpFlags)0x200;

        Assert.Equal("gfp", Assert.Throws<InvalidArgumentException>(() => mm.Kmalloc(100, bad)).Parameter);
        Assert.Equal("gfp", Assert.Throws<InvalidArgumentException>(() => mm.KmemCacheAlloc(cache, bad)).Parameter);
        Assert.Equal("gfp", Assert.Throws<InvalidArgumentException>(() => mm.Krealloc(first, 120, bad)).Parameter); // same class: in place
        Assert.Equal(1, Active(mm, "size-128"));
        Assert.Equal(1, Active(mm, "c"));
        mm.Kfree(first);
        mm.KmemCacheFree(cache, obj);
    }

    // ---- The largest class and the large blocks (KMAL-2) ------------------------------------

    [Fact]
    public void Linux6_TheLargestClassExactly_ComesFromItsCache_AndKreallocToItStaysInPlace()
    {
        using var mm = Boot(Profiles.Linux6);
        ulong p = mm.Kmalloc(8192, Gfp.Kernel);
        Assert.Equal(1, Active(mm, "kmalloc-8k"));
        ulong q = mm.Kmalloc(8000, Gfp.Kernel);
        Assert.Equal(q, mm.Krealloc(q, 8192, Gfp.Kernel)); // the same cache: the same pointer
        Assert.Equal(2, Active(mm, "kmalloc-8k"));
        mm.Kfree(p);
        mm.Kfree(q);
    }

    [Fact]
    public void X86_TheLargestClassExactly_ComesFromItsCache_NotFromThePageAllocator()
    {
        using var mm = Boot(Profiles.X86_32);
        var before = mm.SlabInfo().ToDictionary(i => i.Name, i => i.ActiveObjects);
        ulong p = mm.Kmalloc(4L << 20, Gfp.Kernel); // the size-4194304 class, above the direct table
        var after = mm.SlabInfo().ToDictionary(i => i.Name, i => i.ActiveObjects);
        Assert.Equal(["size-4194304"], after.Where(kv => kv.Value != before[kv.Key]).Select(kv => kv.Key));
        mm.Kfree(p);
    }

    [Fact]
    public void Linux6_KreallocWithGfpDma_MovesALargeBlockThatLiesAbove16M()
    {
        using var mm = Boot(Profiles.Linux6);
        ulong p = mm.Kmalloc(9000, Gfp.Kernel); // order 2, from ZONE_NORMAL
        Assert.True(mm.VirtToPhys(p) >= 16UL << 20);
        ulong q = mm.Krealloc(p, 9000, Gfp.Kernel | GfpFlags.Dma);
        Assert.NotEqual(p, q);
        Assert.True(mm.VirtToPhys(q) + 9000 <= 16UL << 20);
        mm.Kfree(q);
    }

    [Fact]
    public void Linux6_APointerInsideALargeBlock_IsNotKmallocMemory()
    {
        using var mm = Boot(Profiles.Linux6);
        ulong p = mm.Kmalloc(20000, Gfp.Kernel);
        foreach (ulong inside in new[] { p + 2, p + 8, p + 4096 })
        {
            Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(inside)).RuleId);
            Assert.Throws<InvalidArgumentException>(() => mm.Ksize(inside));
        }
        Assert.Equal(32768, mm.Ksize(p)); // still live
        ulong pages = mm.GetFreePages(Gfp.Kernel, 0);
        Assert.Throws<InvalidArgumentException>(() => mm.Ksize(pages)); // page-allocator memory
        mm.Kfree(p);
        Assert.Throws<InvalidArgumentException>(() => mm.Ksize(p));    // freed
    }

    // ---- ksize (KMAL-6) ------------------------------------------------------------------------

    [Fact]
    public void Ksize_OfAnInteriorOrFreedSlabObject_IsInvalidArgument()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(100, Gfp.Kernel);
        ulong keep = mm.Kmalloc(100, Gfp.Kernel);
        Assert.Throws<InvalidArgumentException>(() => mm.Ksize(p + 8));
        mm.Kfree(p);
        Assert.Throws<InvalidArgumentException>(() => mm.Ksize(p));
        Assert.Equal(128, mm.Ksize(keep));
        mm.Kfree(keep);
    }

    // ---- krealloc (KMAL-5) ---------------------------------------------------------------------

    [Fact]
    public void Krealloc_ANegativeSize_IsInvalidArgument_BeforeTheContextCheck()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(100, Gfp.Kernel);
        mm.PreemptDisable();
        Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => mm.Krealloc(p, -5, Gfp.Kernel)).Parameter);
        mm.PreemptEnable();
        Assert.Equal(128, mm.Ksize(p));
    }

    [Fact]
    public void Krealloc_WithGfpAtomic_InAtomicContext_IsNoBug()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(100, Gfp.Kernel);
        mm.PreemptDisable();
        ulong q = mm.Krealloc(p, 120, Gfp.Atomic);  // in place
        ulong r = mm.Krealloc(q, 3000, Gfp.Atomic); // moves
        mm.PreemptEnable();
        Assert.Equal(p, q);
        Assert.Equal(4096, mm.Ksize(r));
        mm.Kfree(r);
    }

    [Fact]
    public void Krealloc_GrowingInPlaceWithoutGfpZero_KeepsTheBytesBeyondTheOldSize()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(40, Gfp.Kernel);
        mm.Write(p, Fill(64, 0xaa));
        Assert.Equal(p, mm.Krealloc(p, 60, Gfp.Kernel));
        Assert.Equal(Fill(64, 0xaa), ReadBytes(mm, p, 64));
        mm.Kfree(p);
    }

    [Fact]
    public void Krealloc_GrowingInPlaceWithGfpZero_ZeroesOnlyUpToTheNewSize()
    {
        using var mm = Boot(Profiles.X86_32);
        var objects = Enumerable.Range(0, 4).Select(_ => mm.Kmalloc(64, Gfp.Kernel)).ToList();
        foreach (var o in objects) mm.Write(o, Fill(64, 0x55));
        ulong p = objects.First(o => objects.Contains(o + 64)); // a live object right after it
        mm.Kfree(p);
        Assert.Equal(p, mm.Kmalloc(40, Gfp.Kernel));
        mm.Write(p, Fill(64, 0xaa));
        Assert.Equal(p, mm.Krealloc(p, 60, Gfp.Kernel | GfpFlags.Zero));
        Assert.Equal(Fill(40, 0xaa), ReadBytes(mm, p, 40));
        Assert.Equal(Fill(20, 0), ReadBytes(mm, p + 40, 20));
        Assert.Equal(Fill(4, 0xaa), ReadBytes(mm, p + 60, 4));
        foreach (var o in objects.Where(o => o != p)) Assert.Equal(Fill(64, 0x55), ReadBytes(mm, o, 64)); // the neighbours
    }

    [Fact]
    public void Krealloc_InPlace_RecordsTheNewRequestedSize_ForTheNextMove()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(40, Gfp.Kernel);
        mm.Write(p, Fill(40, 0x11));
        Assert.Equal(p, mm.Krealloc(p, 60, Gfp.Kernel));
        mm.Write(p + 40, Fill(20, 0x22));
        ulong q = mm.Krealloc(p, 500, Gfp.Kernel); // moves: the first 60 bytes go along
        Assert.NotEqual(p, q);
        Assert.Equal(Fill(40, 0x11).Concat(Fill(20, 0x22)), ReadBytes(mm, q, 60));
        mm.Kfree(q);
    }

    [Fact]
    public void Krealloc_ShrinkingThatMoves_CopiesOnlyTheNewSize()
    {
        using var mm = Boot(Profiles.X86_32);
        var neighbours = Enumerable.Range(0, 16).Select(_ => mm.Kmalloc(128, Gfp.Kernel)).ToList();
        foreach (var o in neighbours) mm.Write(o, Fill(128, 0x33));
        ulong big = mm.Kmalloc(1000, Gfp.Kernel);
        mm.Write(big, Fill(1000, 0x77));
        ulong hole = neighbours[4];
        mm.Kfree(hole);
        ulong q = mm.Krealloc(big, 100, Gfp.Kernel);
        Assert.Equal(hole, q); // the free object of size-128, amid live ones
        Assert.Equal(Fill(100, 0x77), ReadBytes(mm, q, 100));
        foreach (var o in neighbours.Where(o => o != hole)) Assert.Equal(Fill(128, 0x33), ReadBytes(mm, o, 128));
    }

    [Fact]
    public void Linux6_KreallocOfAPrivateCacheObject_ChecksItsRedZonesFirst()
    {
        using var mm = Boot(Profiles.Linux6);
        var cache = mm.KmemCacheCreate("rz", 64, 0, SlabFlags.RedZone, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        mm.Write(obj + 64, [0]); // one byte past the object: into its red zone
        Assert.Equal("SLAB-9", Assert.Throws<KernelBugException>(() => mm.Krealloc(obj, 100, Gfp.Kernel)).RuleId);
        Assert.Equal(1, Active(mm, "rz"));
        Assert.Equal(0, Active(mm, "kmalloc-128"));
    }

    // ---- kmalloc does not clear (only kzalloc and __GFP_ZERO do) ---------------------------------

    [Fact]
    public void Kmalloc_WithoutGfpZero_LeavesAReusedObjectsBytesAsTheyWere()
    {
        using var mm = Boot(Profiles.X86_32);
        ulong p = mm.Kmalloc(100, Gfp.Kernel);
        mm.Write(p, Fill(100, 0xc3));
        mm.Kfree(p);
        ulong q = mm.Kmalloc(100, Gfp.Kernel);
        Assert.Equal(p, q);
        Assert.Equal(Fill(64, 0xc3), ReadBytes(mm, q + 32, 64)); // the free pointer may sit at the start
        mm.Kfree(q);
    }

    // ---- Profiles whose classes are not multiples of 8 ----------------------------------------

    [Fact]
    public void AProfileWhoseSmallestClassIsNotAMultipleOf8_StillRoundsUpToTheNextClass()
    {
        var profile = Profiles.X86_32 with { KmallocClasses = [12, 100, 1000, 4096] };
        using var mm = Boot(profile);
        foreach (var (size, cls) in new[] { (1L, 12L), (12L, 12L), (13L, 100L), (97L, 100L), (101L, 1000L), (4096L, 4096L) })
        {
            ulong p = mm.Kmalloc(size, Gfp.Kernel);
            Assert.Equal(cls, mm.Ksize(p));
            mm.Kfree(p);
        }
    }
}
