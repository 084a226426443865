using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>The reference kmalloc family, observed through the contract.</summary>
public class KmallocTests
{
    private static ReferenceKernel Boot(Profile? profile = null, ulong memory = 64UL << 20) =>
        new((profile ?? Profiles.X86_32).WithMemory(memory));

    private static Profile P(string name) => Profiles.Get(name);

    private static long FreePages(ReferenceKernel mm) =>
        Zones.All.Sum(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Sum(o => mm.FreeBlocks(z, o) << o));

    private static long Active(ReferenceKernel mm, string name) => mm.SlabInfo().Single(i => i.Name == name).ActiveObjects;

    private static byte[] ReadBytes(ReferenceKernel mm, ulong addr, int length)
    {
        var bytes = new byte[length];
        mm.Read(addr, bytes);
        return bytes;
    }

    private static byte[] Pattern(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed)).ToArray();

    // ---- Size classes and limits (KMAL-1, KMAL-2, KMAL-3) ----------------------------------

    [Theory]
    [InlineData("x86-32", 1, 32)]
    [InlineData("x86-32", 32, 32)]
    [InlineData("x86-32", 33, 64)]
    [InlineData("x86-32", 100, 128)]
    [InlineData("x86-32", 4097, 8192)]
    [InlineData("x86-32", (4 << 20) - 1, 4 << 20)]
    [InlineData("linux-2.4", 65537, 131072)]
    [InlineData("64-bit-8k", 1, 32)]
    [InlineData("64-bit-8k", (8 << 20) - 5, 8 << 20)]
    [InlineData("linux-6", 1, 8)]
    [InlineData("linux-6", 9, 16)]
    [InlineData("linux-6", 65, 96)]
    [InlineData("linux-6", 96, 96)]
    [InlineData("linux-6", 97, 128)]
    [InlineData("linux-6", 129, 192)]
    [InlineData("linux-6", 193, 256)]
    [InlineData("linux-6", 8192, 8192)]
    [InlineData("linux-6", 8193, 16384)]     // page allocator, order 2
    [InlineData("linux-6", 12289, 16384)]
    [InlineData("linux-6", 16385, 32768)]
    [InlineData("linux-6", 4 << 20, 4 << 20)]
    public void Ksize_IsTheSmallestClassNotBelowTheRequest(string profile, long size, long expected)
    {
        var mm = Boot(P(profile));
        ulong p = mm.Kmalloc(size, Gfp.Kernel);
        Assert.NotEqual(0UL, p);
        Assert.Equal(expected, mm.Ksize(p));
        // Physically contiguous, direct-mapped low memory.
        Assert.Equal(mm.Profile.PageOffset + mm.VirtToPhys(p), p);
        Assert.True(mm.VirtToPhys(p) + (ulong)size <= mm.Profile.LowMemoryEnd);
        mm.Kfree(p);
    }

    [Theory]
    [InlineData("x86-32", 4L << 20)]
    [InlineData("linux-2.4", 128L << 10)]
    [InlineData("64-bit-8k", 8L << 20)]
    [InlineData("linux-6", 4L << 20)]
    public void Kmalloc_AboveTheMaximum_IsNullAndChangesNothing(string profile, long max)
    {
        var mm = Boot(P(profile));
        long free = FreePages(mm);
        Assert.Equal(0UL, mm.Kmalloc(max + 1, Gfp.Kernel));
        Assert.Equal(0UL, mm.Kmalloc(max + 1, Gfp.Atomic));
        Assert.Equal(0UL, mm.Kzalloc(1L << 40, Gfp.Kernel));
        Assert.Equal(free, FreePages(mm));
        ulong p = mm.Kmalloc(max, Gfp.Kernel);
        Assert.NotEqual(0UL, p);
        Assert.Equal(max, mm.Ksize(p));
    }

    [Fact]
    public void Linux6_AboveTheLargestCache_ComesFromThePageAllocator()
    {
        var mm = Boot(Profiles.Linux6);
        var before = mm.SlabInfo();
        long free = FreePages(mm);
        ulong p = mm.Kmalloc(8193, Gfp.Kernel);
        Assert.Equal(0UL, p % 16384); // an order-2 block, naturally aligned
        Assert.Equal(free - 4, FreePages(mm));
        Assert.Equal(before, mm.SlabInfo()); // in no cache (KMAL-8)
        // The block is the slab layer's: free_pages refuses it, kfree gives it back.
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(p, 2)).RuleId);
        mm.Kfree(p);
        Assert.Equal(free, FreePages(mm));
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(p)).RuleId);
    }

    [Fact]
    public void Kmalloc_IsCountedInExactlyItsClassCache()
    {
        var mm = Boot(Profiles.Linux6);
        var before = mm.SlabInfo().ToDictionary(i => i.Name, i => i.ActiveObjects);
        ulong p = mm.Kmalloc(1000, Gfp.Kernel);
        var after = mm.SlabInfo().ToDictionary(i => i.Name, i => i.ActiveObjects);
        Assert.Equal(["kmalloc-1k"], after.Where(kv => kv.Value != before[kv.Key]).Select(kv => kv.Key));
        Assert.Equal(1, after["kmalloc-1k"]);
        mm.Kfree(p);
        Assert.Equal(0, Active(mm, "kmalloc-1k"));
    }

    [Theory]
    [InlineData("x86-32", "size-64(DMA)")]
    [InlineData("linux-6", "dma-kmalloc-64")]
    public void GfpDma_UsesTheDmaTwinCacheBelow16M(string profile, string cache)
    {
        var mm = Boot(P(profile), 512UL << 20);
        var ps = Enumerable.Range(0, 500).Select(_ => mm.Kmalloc(60, Gfp.Kernel | GfpFlags.Dma)).ToList();
        Assert.All(ps, p => Assert.True(mm.VirtToPhys(p) + 60 <= 16UL << 20));
        Assert.Equal(500, Active(mm, cache));
    }

    [Fact]
    public void Kmalloc_StripsHighmem()
    {
        var mm = Boot(memory: 2UL << 30);
        for (int i = 0; i < 2000; i++)
        {
            ulong p = mm.Kmalloc(4096, Gfp.HighUser);
            Assert.True(mm.VirtToPhys(p) < 896UL << 20);
        }
        ulong big = mm.Kmalloc(1L << 20, Gfp.HighUser);
        Assert.True(mm.VirtToPhys(big) + (1UL << 20) <= 896UL << 20);
    }

    [Fact]
    public void Kmalloc_Exhaustion_ReturnsNull()
    {
        var mm = Boot();
        int n = 0;
        while (mm.Kmalloc(1L << 20, Gfp.Atomic) != 0) n++;
        Assert.InRange(n, 50, 64);
        Assert.Equal(0UL, mm.Kmalloc(1L << 20, Gfp.Kernel));
    }

    // ---- Zero size (KMAL-1) ----------------------------------------------------------------

    [Theory]
    [InlineData("x86-32", 0UL)]
    [InlineData("linux-2.4", 0UL)]
    [InlineData("64-bit-8k", 0UL)]
    [InlineData("linux-6", 16UL)]
    public void KmallocZero_IsNullOrZeroSizePtr(string profile, ulong expected)
    {
        var mm = Boot(P(profile));
        var before = mm.SlabInfo();
        ulong p = mm.Kmalloc(0, Gfp.Kernel);
        Assert.Equal(expected, p);
        Assert.Equal(0, mm.Ksize(p));
        mm.Kfree(p);
        mm.Kfree(0);
        mm.Kfree(Profile.ZeroSizePtr);
        Assert.Equal(before, mm.SlabInfo());
    }

    [Fact]
    public void BadInput_IsInvalidArgument()
    {
        var mm = Boot();
        Assert.Throws<InvalidArgumentException>(() => mm.Kmalloc(-1, Gfp.Kernel));
        Assert.Throws<InvalidArgumentException>(() => mm.Kzalloc(long.MinValue, Gfp.Kernel));
        Assert.Throws<InvalidArgumentException>(() => mm.Kmalloc(64, Gfp.Buffer)); // GFP_BUFFER is 2.4 only
        Assert.NotEqual(0UL, Boot(Profiles.Linux2_4).Kmalloc(64, Gfp.Buffer));
        ulong p = mm.Kmalloc(64, Gfp.Kernel);
        Assert.Throws<InvalidArgumentException>(() => mm.Krealloc(p, -5, Gfp.Kernel));
        Assert.Equal(64, mm.Ksize(p));
    }

    // ---- Context (GFP-1, GFP-2) ------------------------------------------------------------

    [Theory]
    [InlineData(100L)]
    [InlineData(1L << 20)]
    [InlineData(9000L)]
    public void GfpKernel_InAtomicContext_IsGfp1AndChangesNothing(long size)
    {
        foreach (var profile in new[] { Profiles.X86_32, Profiles.Linux6 })
        {
            var mm = Boot(profile);
            mm.Kfree(mm.Kmalloc(size, Gfp.Kernel)); // an object is free in the cache: still reported
            var before = mm.SlabInfo();
            long free = FreePages(mm);
            mm.PreemptDisable();
            Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.Kmalloc(size, Gfp.Kernel)).RuleId);
            Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.Kzalloc(size, Gfp.Kernel | GfpFlags.Dma)).RuleId);
            Assert.Equal(before, mm.SlabInfo());
            Assert.Equal(free, FreePages(mm));
            long sleeps = mm.Sleeps;
            ulong p = mm.Kmalloc(size, Gfp.Atomic);
            Assert.NotEqual(0UL, p);
            Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.Krealloc(p, size * 3, Gfp.Kernel)).RuleId);
            mm.Kfree(p); // kfree never sleeps
            Assert.Equal(sleeps, mm.Sleeps);
            mm.PreemptEnable();
        }
    }

    // ---- kzalloc (KMAL-4) ------------------------------------------------------------------

    [Theory]
    [InlineData("x86-32", 100)]
    [InlineData("linux-6", 100)]
    [InlineData("linux-6", 20000)]
    public void Kzalloc_ZeroesTheRequestedBytesOfADirtyBlock(string profile, int size)
    {
        var mm = Boot(P(profile));
        ulong dirty = mm.Kmalloc(size, Gfp.Kernel);
        mm.Write(dirty, Enumerable.Repeat((byte)0xff, size).ToArray());
        mm.Kfree(dirty);
        ulong z = mm.Kzalloc(size, Gfp.Kernel);
        Assert.Equal(dirty, z); // the same block came back
        Assert.All(ReadBytes(mm, z, size), b => Assert.Equal(0, b));
    }

    // ---- krealloc (KMAL-5) -----------------------------------------------------------------

    [Theory]
    [InlineData("x86-32", 100, 1000)]
    [InlineData("x86-32", 1000, 100)]
    [InlineData("x86-32", 100, 120)]     // same class: same pointer
    [InlineData("linux-6", 70, 90)]      // both in kmalloc-96
    [InlineData("linux-6", 90, 100)]     // 96 -> 128
    [InlineData("linux-6", 5000, 50000)] // cache -> page allocator
    [InlineData("linux-6", 50000, 40000)] // same order: same pointer
    [InlineData("linux-6", 50000, 60)]   // page allocator -> cache
    public void Krealloc_KeepsTheRequestedPrefix(string profile, int from, int to)
    {
        var mm = Boot(P(profile));
        ulong p = mm.Kmalloc(from, Gfp.Kernel);
        var data = Pattern(from, 3);
        mm.Write(p, data);
        long oldClass = mm.Ksize(p);
        ulong q = mm.Krealloc(p, to, Gfp.Kernel);
        Assert.NotEqual(0UL, q);
        Assert.True(mm.Ksize(q) >= to);
        Assert.Equal(data.Take(Math.Min(from, to)), ReadBytes(mm, q, Math.Min(from, to)));
        if (mm.Ksize(q) == oldClass) Assert.Equal(p, q);
        else Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(p)).RuleId); // the old block is gone
        mm.Kfree(q);
    }

    [Fact]
    public void Krealloc_GrowInPlaceWithGfpZero_ZeroesTheNewBytes()
    {
        var mm = Boot();
        ulong p = mm.Kmalloc(40, Gfp.Kernel);
        mm.Write(p, Enumerable.Repeat((byte)0xaa, 64).ToArray());
        ulong q = mm.Krealloc(p, 60, Gfp.Kernel | GfpFlags.Zero);
        Assert.Equal(p, q);
        Assert.All(ReadBytes(mm, q, 40), b => Assert.Equal(0xaa, b));
        Assert.All(ReadBytes(mm, q + 40, 20), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Krealloc_NullIsKmalloc_SizeZeroFrees()
    {
        var mm = Boot();
        ulong p = mm.Krealloc(0, 50, Gfp.Kernel);
        Assert.Equal(64, mm.Ksize(p));
        Assert.Equal(1, Active(mm, "size-64"));
        Assert.Equal(0UL, mm.Krealloc(p, 0, Gfp.Kernel));
        Assert.Equal(0, Active(mm, "size-64"));

        var six = Boot(Profiles.Linux6);
        ulong s = six.Krealloc(Profile.ZeroSizePtr, 50, Gfp.Kernel);
        Assert.Equal(64, six.Ksize(s));
        Assert.Equal(Profile.ZeroSizePtr, six.Krealloc(s, 0, Gfp.Kernel));
        Assert.Equal(0, Active(six, "kmalloc-64"));
    }

    [Fact]
    public void Krealloc_Failure_ReturnsNullAndKeepsTheOldBlock()
    {
        var mm = Boot();
        ulong p = mm.Kmalloc(100, Gfp.Kernel);
        var data = Pattern(100, 9);
        mm.Write(p, data);
        Assert.Equal(0UL, mm.Krealloc(p, (4L << 20) + 1, Gfp.Kernel)); // above the maximum
        // Out of memory: fill low memory with 1 MiB blocks, then ask for 2 MiB.
        while (mm.Kmalloc(1L << 20, Gfp.Atomic) != 0) { }
        Assert.Equal(0UL, mm.Krealloc(p, 2L << 20, Gfp.Atomic));
        Assert.Equal(128, mm.Ksize(p));
        Assert.Equal(data, ReadBytes(mm, p, 100));
        Assert.Equal(1, Active(mm, "size-128"));
        mm.Kfree(p);
    }

    // ---- kfree misuse (KMAL-6) -------------------------------------------------------------

    [Fact]
    public void Kfree_Twice_IsKmal6AndChangesNothing()
    {
        var mm = Boot();
        ulong p = mm.Kmalloc(64, Gfp.Kernel);
        ulong other = mm.Kmalloc(64, Gfp.Kernel);
        mm.Kfree(p);
        var before = mm.SlabInfo();
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(p)).RuleId);
        Assert.Equal(before, mm.SlabInfo());
        Assert.Equal(p, mm.Kmalloc(64, Gfp.Kernel)); // the free list was not disturbed
        mm.Kfree(other);
    }

    [Fact]
    public void Kfree_InteriorPointer_IsKmal6AndTheBlockStaysLive()
    {
        var mm = Boot();
        ulong p = mm.Kmalloc(200, Gfp.Kernel);
        foreach (ulong bad in new[] { p + 1, p + 100, p + 255 })
            Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(bad)).RuleId);
        Assert.Equal(1, Active(mm, "size-256"));
        mm.Kfree(p);
        Assert.Equal(0, Active(mm, "size-256"));
    }

    [Fact]
    public void Kfree_PageAllocatorOrForeignMemory_IsKmal6()
    {
        var mm = Boot();
        ulong page = mm.GetFreePages(Gfp.Kernel, 2);
        long free = FreePages(mm);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(page)).RuleId);
        Assert.Equal(free, FreePages(mm));
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(mm.Profile.VmallocStart + 0x1000)).RuleId);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(0x0804_8000)).RuleId);
        mm.FreePages(page, 2); // still the page allocator's
        Assert.Equal(free + 4, FreePages(mm));
    }

    [Fact]
    public void Kfree_OfAReleasedSlabsObject_IsKmal6()
    {
        var mm = Boot();
        ulong p = mm.Kmalloc(2000, Gfp.Kernel);
        mm.Kfree(p);
        mm.DrainCaches(); // the slab goes back to the page allocator
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => mm.Kfree(p)).RuleId);
    }

    [Fact]
    public void Kfree_PrivateCacheObject_OnlyLinux6Accepts()
    {
        var doc = Boot();
        var c = doc.KmemCacheCreate("mine", 64, 0, SlabFlags.None, null);
        ulong o = doc.KmemCacheAlloc(c, Gfp.Kernel);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => doc.Kfree(o)).RuleId);
        Assert.Equal(1, Active(doc, "mine"));
        doc.KmemCacheFree(c, o);

        var six = Boot(Profiles.Linux6);
        var c6 = six.KmemCacheCreate("mine", 64, 0, SlabFlags.None, null);
        ulong o6 = six.KmemCacheAlloc(c6, Gfp.Kernel);
        six.Kfree(o6);
        Assert.Equal(0, Active(six, "mine"));
        Assert.Equal(0, Active(six, "kmalloc-64"));
        Assert.Equal(o6, six.KmemCacheAlloc(c6, Gfp.Kernel)); // back in its own cache
        // krealloc of it moves to a kmalloc cache and frees into "mine".
        six.Write(o6, Pattern(64, 1));
        ulong moved = six.Krealloc(o6, 100, Gfp.Kernel);
        Assert.Equal(Pattern(64, 1), ReadBytes(six, moved, 64));
        Assert.Equal(0, Active(six, "mine"));
        Assert.Equal(1, Active(six, "kmalloc-128"));
    }

    [Fact]
    public void KmemCacheFree_OfAKmallocObject_IsSlab4()
    {
        var mm = Boot(Profiles.Linux6);
        var c = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        ulong p = mm.Kmalloc(64, Gfp.Kernel);
        Assert.Equal("SLAB-4", Assert.Throws<KernelBugException>(() => mm.KmemCacheFree(c, p)).RuleId);
        Assert.Equal(1, Active(mm, "kmalloc-64"));
    }

    // ---- Free counts (PAGE-8, ADDR-11) -------------------------------------------------------

    [Theory]
    [InlineData("x86-32")]
    [InlineData("linux-2.4")]
    [InlineData("64-bit-8k")]
    [InlineData("linux-6")]
    public void AfterEverythingIsFreedAndDrained_FreeCountsAreBootValues(string profile)
    {
        var mm = Boot(P(profile), 1UL << 30);
        var boot = Zones.All.Select(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Select(o => mm.FreeBlocks(z, o)).ToArray()).ToArray();
        var rng = new Random(42);
        var live = new List<ulong>();
        for (int i = 0; i < 3000; i++)
        {
            if (live.Count > 0 && rng.Next(3) == 0)
            {
                int k = rng.Next(live.Count);
                mm.Kfree(live[k]);
                live.RemoveAt(k);
                continue;
            }
            long size = rng.Next(4) == 0 ? rng.Next(1, 100_000) : rng.Next(1, 3000);
            var gfp = rng.Next(4) == 0 ? Gfp.Atomic | GfpFlags.Dma : Gfp.Kernel;
            if (live.Count > 0 && rng.Next(5) == 0)
            {
                ulong q = mm.Krealloc(live[^1], size, gfp);
                if (q != 0) live[^1] = q; // on failure the old block stays live
            }
            else if (mm.Kmalloc(size, gfp) is var p && p != 0) live.Add(p);
        }
        foreach (var p in live) mm.Kfree(p);
        mm.DrainCaches();
        var after = Zones.All.Select(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Select(o => mm.FreeBlocks(z, o)).ToArray()).ToArray();
        Assert.Equal(boot, after);
    }
}
