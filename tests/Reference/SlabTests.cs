using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>The reference slab allocator (kmem_cache_*), observed through the contract.</summary>
public class SlabTests
{
    private static ReferenceKernel Boot(Profile? profile = null, ulong memory = 64UL << 20) =>
        new((profile ?? Profiles.X86_32).WithMemory(memory));

    private static Profile P(string name) => Profiles.Get(name);

    private static long FreePages(ReferenceKernel mm) =>
        Zones.All.Sum(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Sum(o => mm.FreeBlocks(z, o) << o));

    private static SlabInfo Info(ReferenceKernel mm, string name) => mm.SlabInfo().Single(i => i.Name == name);

    private static byte[] ReadBytes(ReferenceKernel mm, ulong addr, int length)
    {
        var bytes = new byte[length];
        mm.Read(addr, bytes);
        return bytes;
    }

    // ---- Creation (SLAB-1, SLAB-10, SLAB-13) ----------------------------------------------

    [Fact]
    public void Create_ReportsRequestedSizeAndIsListed()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("dentry", 100, 0, SlabFlags.None, null);
        Assert.False(cache.IsNull);
        var info = Info(mm, "dentry");
        Assert.Equal(100, info.ObjectSize);
        Assert.Equal(100, info.LaidOutSize); // rounded to the word (4) only
        Assert.Equal(0, info.Slabs);
        Assert.Equal(0, info.TotalObjects);
    }

    [Theory]
    [InlineData("x86-32", 4L << 20)]
    [InlineData("64-bit-8k", 8L << 20)]
    [InlineData("linux-6", 4L << 20)]
    [InlineData("linux-2.4", 2L << 20)] // the largest block (order 9), below the 1024-page document limit
    public void Create_AtTheLimitSucceeds_OneByteMoreIsNull(string profile, long limit)
    {
        var mm = Boot(P(profile));
        Assert.False(mm.KmemCacheCreate("big", limit, 0, SlabFlags.None, null).IsNull);
        Assert.True(mm.KmemCacheCreate("too-big", limit + 1, 0, SlabFlags.None, null).IsNull);
        Assert.DoesNotContain(mm.SlabInfo(), i => i.Name == "too-big");
    }

    [Fact]
    public void Create_24_BetweenMaxOrderBlockAndDocumentLimit_IsNull()
    {
        var mm = Boot(Profiles.Linux2_4);
        Assert.True(mm.KmemCacheCreate("3M", 3L << 20, 0, SlabFlags.None, null).IsNull);
        Assert.True(mm.KmemCacheCreate("4M", 4L << 20, 0, SlabFlags.None, null).IsNull);
        // A red zone makes the 2 MiB object one max-order block plus two words.
        Assert.True(mm.KmemCacheCreate("2M-rz", 2L << 20, 0, SlabFlags.RedZone, null).IsNull);
    }

    [Fact]
    public void Create_SizeZeroIsNull_NegativeIsInvalid()
    {
        var mm = Boot();
        Assert.True(mm.KmemCacheCreate("zero", 0, 0, SlabFlags.None, null).IsNull);
        Assert.Throws<InvalidArgumentException>(() => mm.KmemCacheCreate("neg", -1, 0, SlabFlags.None, null));
        Assert.Throws<InvalidArgumentException>(() => mm.KmemCacheCreate("odd-align", 8, 24, SlabFlags.None, null));
    }

    [Fact]
    public void Create_DuplicateNamesAreAllowed()
    {
        var mm = Boot();
        var a = mm.KmemCacheCreate("twin", 32, 0, SlabFlags.None, null);
        var b = mm.KmemCacheCreate("twin", 32, 0, SlabFlags.None, null);
        Assert.NotEqual(a, b);
        Assert.Equal(2, mm.SlabInfo().Count(i => i.Name == "twin"));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(5L << 20)]
    public void Create_Panic_FailureIsTypedPanicAndListsNothing(long size)
    {
        var mm = Boot();
        int before = mm.SlabInfo().Count;
        Assert.Throws<KernelPanicException>(() => mm.KmemCacheCreate("doomed", size, 0, SlabFlags.Panic, null));
        Assert.Equal(before, mm.SlabInfo().Count);
        Assert.False(mm.KmemCacheCreate("fine", 64, 0, SlabFlags.Panic, null).IsNull);
    }

    [Fact]
    public void Create_NoReap_OnlyKnownOn24()
    {
        Assert.True(Boot().KmemCacheCreate("nr", 64, 0, SlabFlags.NoReap, null).IsNull);
        Assert.True(Boot(Profiles.Linux6).KmemCacheCreate("nr", 64, 0, SlabFlags.NoReap, null).IsNull);
        Assert.Throws<KernelPanicException>(() => Boot().KmemCacheCreate("nr", 64, 0, SlabFlags.NoReap | SlabFlags.Panic, null));
        Assert.False(Boot(Profiles.Linux2_4).KmemCacheCreate("nr", 64, 0, SlabFlags.NoReap, null).IsNull);
    }

    [Fact]
    public void CreateAndDestroy_InAtomicContext_ReportGfp1()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        int listed = mm.SlabInfo().Count;
        mm.PreemptDisable();
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.KmemCacheCreate("d", 64, 0, SlabFlags.None, null)).RuleId);
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.KmemCacheDestroy(cache)).RuleId);
        mm.PreemptEnable();
        Assert.Equal(listed, mm.SlabInfo().Count);
        Assert.Equal(0, mm.KmemCacheDestroy(cache));
    }

    // ---- Layout and slab order (SLAB-7, SLAB-2) --------------------------------------------

    [Theory]
    [InlineData("x86-32", 20, 0, SlabFlags.HwcacheAlign, 32)]
    [InlineData("x86-32", 33, 0, SlabFlags.HwcacheAlign, 64)]
    [InlineData("x86-32", 9, 0, SlabFlags.HwcacheAlign, 16)]
    [InlineData("x86-32", 32, 0, SlabFlags.HwcacheAlign, 32)] // exactly half a cache line: halved
    [InlineData("x86-32", 16, 0, SlabFlags.HwcacheAlign, 16)]
    [InlineData("x86-32", 3, 0, SlabFlags.HwcacheAlign, 4)]
    [InlineData("64-bit-8k", 3, 0, SlabFlags.HwcacheAlign, 8)]
    [InlineData("x86-32", 100, 0, SlabFlags.HwcacheAlign, 64)]
    [InlineData("x86-32", 20, 128, SlabFlags.HwcacheAlign, 128)]
    [InlineData("x86-32", 1, 0, SlabFlags.None, 4)]
    [InlineData("64-bit-8k", 1, 0, SlabFlags.None, 8)]
    public void Objects_AreAlignedAsCalculateAlignment(string profile, long size, long align, SlabFlags flags, long expected)
    {
        var mm = Boot(P(profile));
        var cache = mm.KmemCacheCreate("al", size, align, flags, null);
        var objs = Enumerable.Range(0, 40).Select(_ => mm.KmemCacheAlloc(cache, Gfp.Kernel)).ToList();
        Assert.All(objs, o => Assert.Equal(0UL, o % (ulong)expected));
        var info = Info(mm, "al");
        Assert.Equal((size + expected - 1) / expected * expected, info.LaidOutSize);
        // Two objects of a slab sit one laid-out size apart.
        var sorted = objs.Order().ToList();
        Assert.Contains(sorted.Zip(sorted.Skip(1)), pair => pair.Second - pair.First == (ulong)info.LaidOutSize);
    }

    [Theory]
    [InlineData(64, 0, 64)]      // order 0: 64 objects
    [InlineData(1024, 1, 8)]     // at least 8 objects per slab
    [InlineData(2048, 2, 8)]
    [InlineData(8192, 3, 4)]     // order 3 cap (PAGE_ALLOC_COSTLY_ORDER)
    [InlineData(65536, 4, 1)]    // above the cap: one object per slab
    [InlineData(320, 0, 12)]     // leftover 256 = 1/16 of the slab exactly: accepted at 1/16
    [InlineData(384, 0, 10)]     // leftover 256 = 1/16 exactly
    [InlineData(344, 1, 23)]     // order 0 leaves 312 > 1/16; order 1 leaves 280 <= 512
    [InlineData(2192, 3, 14)]    // no order within the cap leaves at most 1/16; order 3 leaves 2080 <= 1/8
    public void SlabOrder_AimsForSeveralObjects(long size, int order, int perSlab)
    {
        var mm = Boot();
        mm.KmemCacheCreate("o", size, 0, SlabFlags.None, null);
        var info = Info(mm, "o");
        Assert.Equal(1L << order, info.PagesPerSlab);
        Assert.Equal(perSlab, info.ObjectsPerSlab);
    }

    [Fact]
    public void Alloc_ObjectsAreDisjointInsideSlabPagesAndKeepTheirContents()
    {
        var mm = Boot();
        var a = mm.KmemCacheCreate("a", 24, 0, SlabFlags.None, null);
        var b = mm.KmemCacheCreate("b", 200, 0, SlabFlags.HwcacheAlign, null);
        var live = new List<(ulong Addr, int Size, byte Tag)>();
        for (int i = 0; i < 300; i++)
        {
            bool first = i % 3 != 0;
            ulong obj = mm.KmemCacheAlloc(first ? a : b, Gfp.Kernel);
            Assert.NotEqual(0UL, obj);
            int size = first ? 24 : 200;
            byte tag = (byte)i;
            mm.Write(obj, Enumerable.Repeat(tag, size).ToArray());
            live.Add((obj, size, tag));
        }
        var sorted = live.OrderBy(l => l.Addr).ToList();
        for (int i = 1; i < sorted.Count; i++)
            Assert.True(sorted[i - 1].Addr + (ulong)sorted[i - 1].Size <= sorted[i].Addr, "objects overlap");
        foreach (var (addr, size, tag) in live)
            Assert.All(ReadBytes(mm, addr, size), x => Assert.Equal(tag, x));
    }

    // ---- Slab pages come from the page allocator ------------------------------------------

    [Fact]
    public void SlabPages_AreAllocatedPages_AndFreePagesRefusesThem()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("pages", 1024, 0, SlabFlags.None, null); // order-1 slabs
        long before = FreePages(mm);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.Equal(before - 2, FreePages(mm));
        ulong slabStart = obj & ~(ulong)(2 * 4096 - 1);
        Assert.Equal("PAGE-4", Assert.Throws<KernelBugException>(() => mm.FreePages(slabStart, 1)).RuleId);
        Assert.Equal(before - 2, FreePages(mm));
    }

    [Fact]
    public void Alloc_Exhaustion_ReturnsNull()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("huge", 1L << 20, 0, SlabFlags.None, null);
        int n = 0;
        while (mm.KmemCacheAlloc(cache, Gfp.Atomic) != 0) n++;
        Assert.InRange(n, 50, 64); // 64 MiB of RAM in 1 MiB objects
        Assert.Equal(0UL, mm.KmemCacheAlloc(cache, Gfp.Kernel));
    }

    [Fact]
    public void CacheDma_ObjectsLieBelow16M_AndNeverFallBack()
    {
        var mm = Boot(memory: 512UL << 20);
        var cache = mm.KmemCacheCreate("dma", 3000, 0, SlabFlags.CacheDma, null);
        var objs = new List<ulong>();
        while (mm.KmemCacheAlloc(cache, Gfp.Atomic) is var o && o != 0) objs.Add(o);
        Assert.True(objs.Count > 4000);
        Assert.All(objs, o => Assert.True(mm.VirtToPhys(o) + 3000 <= 16UL << 20));
        Assert.Equal(0, mm.FreeBlocks(Zone.Dma, 3)); // the zone is used up; Normal still has plenty
        Assert.True(mm.FreeBlocks(Zone.Normal, 10) > 0);
    }

    // ---- Constructor (SLAB-3) and poison (SLAB-8) -----------------------------------------

    [Fact]
    public void Constructor_RunsOncePerObjectWhenASlabIsMade()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("ctor", 100, 0, SlabFlags.Poison, 0x3c);
        ulong first = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        var info = Info(mm, "ctor");
        Assert.Equal(info.ObjectsPerSlab, info.ConstructorCalls);
        Assert.Equal(info.TotalObjects, info.ConstructorCalls);
        Assert.All(ReadBytes(mm, first, 100), b => Assert.Equal(0x3c, b)); // constructed, never poison
        var rest = Enumerable.Range(1, (int)info.ObjectsPerSlab - 1).Select(_ => mm.KmemCacheAlloc(cache, Gfp.Kernel)).ToList();
        Assert.Equal(info.ObjectsPerSlab, Info(mm, "ctor").ConstructorCalls);
        mm.KmemCacheFree(cache, first);
        Assert.Equal(first, mm.KmemCacheAlloc(cache, Gfp.Kernel));
        Assert.Equal(info.ObjectsPerSlab, Info(mm, "ctor").ConstructorCalls);
        mm.KmemCacheAlloc(cache, Gfp.Kernel); // a second slab
        info = Info(mm, "ctor");
        Assert.Equal(2, info.Slabs);
        Assert.Equal(info.TotalObjects, info.ConstructorCalls);
    }

    [Theory]
    [InlineData("x86-32")]
    [InlineData("linux-2.4")]
    [InlineData("64-bit-8k")]
    [InlineData("linux-6")]
    public void Poison_FreeAndNeverUsedObjectsHoldTheProfilePattern(string profile)
    {
        var mm = Boot(P(profile));
        var p = mm.Profile;
        var cache = mm.KmemCacheCreate("poison", 50, 0, SlabFlags.Poison, null);
        byte[] expected = Enumerable.Repeat(p.PoisonFree, 50).ToArray();
        if (p.PoisonEnd is { } end) expected[^1] = end;
        ulong a = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        ulong b = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.Equal(expected, ReadBytes(mm, b, 50));
        mm.Write(a, new byte[50]);
        mm.KmemCacheFree(cache, a);
        Assert.Equal(a, mm.KmemCacheAlloc(cache, Gfp.Kernel));
        Assert.Equal(expected, ReadBytes(mm, a, 50));
    }

    [Fact]
    public void Poison_Linux6_Is6bEndingInA5()
    {
        var mm = Boot(Profiles.Linux6);
        var cache = mm.KmemCacheCreate("p", 8, 0, SlabFlags.Poison, null);
        Assert.Equal(new byte[] { 0x6b, 0x6b, 0x6b, 0x6b, 0x6b, 0x6b, 0x6b, 0xa5 }, ReadBytes(mm, mm.KmemCacheAlloc(cache, Gfp.Kernel), 8));
        var doc = Boot();
        var c2 = doc.KmemCacheCreate("p", 8, 0, SlabFlags.Poison, null);
        Assert.All(ReadBytes(doc, doc.KmemCacheAlloc(c2, Gfp.Kernel), 8), b => Assert.Equal(0xa5, b));
    }

    [Fact]
    public void GfpZero_ClearsTheObject()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("z", 40, 0, SlabFlags.Poison, null);
        Assert.All(ReadBytes(mm, mm.KmemCacheAlloc(cache, Gfp.Kernel | GfpFlags.Zero), 40), b => Assert.Equal(0, b));
    }

    // ---- Red zones (SLAB-9) ----------------------------------------------------------------

    [Theory]
    [InlineData("x86-32", 30)]
    [InlineData("64-bit-8k", 30)]
    [InlineData("linux-6", 30)]
    [InlineData("linux-6", 32)]
    public void RedZone_OneByteOverrun_IsReportedAndTheObjectStaysAllocated(string profile, long size)
    {
        var mm = Boot(P(profile));
        var cache = mm.KmemCacheCreate("rz", size, 0, SlabFlags.RedZone, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        var saved = ReadBytes(mm, obj + (ulong)size, 1);
        mm.Write(obj + (ulong)size, [0x00]);
        var bug = Assert.Throws<KernelBugException>(() => mm.KmemCacheFree(cache, obj));
        Assert.Equal("SLAB-9", bug.RuleId);
        Assert.Contains("rz", bug.Bug);
        Assert.Contains($"0x{obj:x}", bug.Bug);
        Assert.Contains("after", bug.Bug);
        Assert.Contains($"offset {size}", bug.Bug);
        Assert.Equal(1, Info(mm, "rz").ActiveObjects);
        Assert.Equal(mm.Profile.RedZoneActive, saved[0]);
        // Repaired, it frees normally.
        mm.Write(obj + (ulong)size, saved);
        mm.KmemCacheFree(cache, obj);
        Assert.Equal(0, Info(mm, "rz").ActiveObjects);
    }

    [Fact]
    public void RedZone_WriteBeforeTheStart_IsReported()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("rz", 64, 0, SlabFlags.RedZone | SlabFlags.HwcacheAlign, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.Equal(0UL, obj % 64); // the left pad keeps the object aligned
        mm.Write(obj - 1, [0x11]);
        var bug = Assert.Throws<KernelBugException>(() => mm.KmemCacheFree(cache, obj));
        Assert.Equal("SLAB-9", bug.RuleId);
        Assert.Contains("before", bug.Bug);
        Assert.Contains("offset -1", bug.Bug);
        Assert.Equal(1, Info(mm, "rz").ActiveObjects);
    }

    [Fact]
    public void RedZone_InBoundsWritesFreeSilently_AndZonesFlipActiveInactive()
    {
        var mm = Boot(Profiles.Linux6);
        var cache = mm.KmemCacheCreate("rz", 16, 0, SlabFlags.RedZone, null);
        ulong a = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        ulong b = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.All(ReadBytes(mm, a - 4, 4), x => Assert.Equal(0xcc, x));
        mm.Write(a, Enumerable.Repeat((byte)0xee, 16).ToArray());
        mm.KmemCacheFree(cache, a);
        Assert.All(ReadBytes(mm, a + 16, 4), x => Assert.Equal(0xbb, x));
        Assert.All(ReadBytes(mm, b + 16, 4), x => Assert.Equal(0xcc, x));
    }

    [Fact]
    public void RedZone_Linux6Kfree_ChecksTheZonesToo()
    {
        var mm = Boot(Profiles.Linux6);
        var cache = mm.KmemCacheCreate("rz", 30, 0, SlabFlags.RedZone, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        mm.Write(obj + 30, [0x00]);
        Assert.Equal("SLAB-9", Assert.Throws<KernelBugException>(() => mm.Kfree(obj)).RuleId);
        Assert.Equal(1, Info(mm, "rz").ActiveObjects);
    }

    // ---- Free (SLAB-4) ---------------------------------------------------------------------

    [Fact]
    public void Free_WrongCacheDoubleFreeInteriorAndKmallocObject_AreSlab4WithNothingChanged()
    {
        var mm = Boot();
        var a = mm.KmemCacheCreate("a", 64, 0, SlabFlags.None, null);
        var b = mm.KmemCacheCreate("b", 64, 0, SlabFlags.None, null);
        ulong x = mm.KmemCacheAlloc(a, Gfp.Kernel);
        ulong y = mm.KmemCacheAlloc(a, Gfp.Kernel);
        mm.KmemCacheFree(a, y);
        ulong k = mm.Kmalloc(64, Gfp.Kernel);
        ulong page = mm.GetFreePages(Gfp.Kernel, 0);
        var before = mm.SlabInfo();
        long free = FreePages(mm);
        foreach (var (cache, obj) in new[] { (b, x), (a, y), (a, x + 8), (a, k), (a, page), (a, x + (1UL << 40)) })
            Assert.Equal("SLAB-4", Assert.Throws<KernelBugException>(() => mm.KmemCacheFree(cache, obj)).RuleId);
        Assert.Equal(before, mm.SlabInfo());
        Assert.Equal(free, FreePages(mm));
        mm.KmemCacheFree(a, x);
        Assert.Equal(0, Info(mm, "a").ActiveObjects);
    }

    [Fact]
    public void Handles_NullOrDestroyed_AreInvalid()
    {
        var mm = Boot();
        var c = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        Assert.Equal(0, mm.KmemCacheDestroy(c));
        Assert.Throws<InvalidArgumentException>(() => mm.KmemCacheAlloc(c, Gfp.Kernel));
        Assert.Throws<InvalidArgumentException>(() => mm.KmemCacheAlloc(SlabCacheHandle.Null, Gfp.Kernel));
        Assert.Equal(0, mm.KmemCacheDestroy(SlabCacheHandle.Null));
    }

    [Fact]
    public void Alloc_GfpKernelInAtomic_IsGfp1_AtomicWorks()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        mm.KmemCacheFree(cache, mm.KmemCacheAlloc(cache, Gfp.Kernel)); // a free object is waiting: still reported
        mm.IrqEnter();
        long free = FreePages(mm);
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => mm.KmemCacheAlloc(cache, Gfp.Kernel)).RuleId);
        Assert.Equal(0, Info(mm, "c").ActiveObjects);
        Assert.NotEqual(0UL, mm.KmemCacheAlloc(cache, Gfp.Atomic));
        Assert.Equal(free, FreePages(mm));
        long sleeps = mm.Sleeps;
        mm.IrqExit();
        Assert.Equal(sleeps, mm.Sleeps);
    }

    // ---- Shrink, destroy, reap, drain (SLAB-5, SLAB-6, SLAB-13, PAGE-8) ---------------------

    [Fact]
    public void Shrink_ReleasesOnlyWhollyFreeSlabs()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("s", 512, 0, SlabFlags.None, null); // 8 per order-0 slab
        var perSlab = (int)Info(mm, "s").ObjectsPerSlab;
        var objs = Enumerable.Range(0, perSlab * 3).Select(_ => mm.KmemCacheAlloc(cache, Gfp.Kernel)).ToList();
        // Free all of the first two slabs and half of the third.
        foreach (var o in objs.Take(perSlab * 2 + perSlab / 2)) mm.KmemCacheFree(cache, o);
        ulong keep = objs[^1];
        mm.Write(keep, [1, 2, 3]);
        long before = FreePages(mm);
        long released = mm.KmemCacheShrink(cache);
        Assert.Equal(2 * Info(mm, "s").PagesPerSlab, released);
        Assert.Equal(before + released, FreePages(mm));
        Assert.Equal(1, Info(mm, "s").Slabs);
        Assert.Equal(new byte[] { 1, 2, 3 }, ReadBytes(mm, keep, 3));
        Assert.Equal(0, mm.KmemCacheShrink(cache));
        Assert.NotEqual(0UL, mm.KmemCacheAlloc(cache, Gfp.Kernel)); // still usable
        // A freed object of a released slab is no object any more.
        Assert.Equal("SLAB-4", Assert.Throws<KernelBugException>(() => mm.KmemCacheFree(cache, objs[0])).RuleId);
    }

    [Theory]
    [InlineData("x86-32")]
    [InlineData("linux-2.4")]
    [InlineData("64-bit-8k")]
    public void Destroy_Busy_DocumentProfiles_ChangesNothingAndCanBeRetried(string profile)
    {
        var mm = Boot(P(profile));
        long boot = FreePages(mm);
        var cache = mm.KmemCacheCreate("d", 100, 0, SlabFlags.None, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        var before = mm.SlabInfo();
        Assert.Equal(-16, mm.KmemCacheDestroy(cache));
        Assert.Equal(before, mm.SlabInfo());
        Assert.NotEqual(0UL, mm.KmemCacheAlloc(cache, Gfp.Kernel) is var second ? second : 0);
        mm.KmemCacheFree(cache, obj);
        mm.KmemCacheFree(cache, second);
        Assert.Equal(0, mm.KmemCacheDestroy(cache));
        Assert.DoesNotContain(mm.SlabInfo(), i => i.Name == "d");
        mm.DrainCaches();
        Assert.Equal(boot, FreePages(mm));
    }

    [Fact]
    public void Destroy_Busy_Linux6_LeaksTheCacheWhichStaysUsable()
    {
        var mm = Boot(Profiles.Linux6);
        var cache = mm.KmemCacheCreate("d", 100, 0, SlabFlags.None, null);
        ulong obj = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.Equal(-16, mm.KmemCacheDestroy(cache));
        Assert.Contains(mm.SlabInfo(), i => i.Name == "d");
        ulong more = mm.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.NotEqual(0UL, more);
        mm.KmemCacheFree(cache, obj);
        mm.Kfree(more);
        Assert.Equal(-16, mm.KmemCacheDestroy(cache)); // leaked for good, as the kernel's refcount is gone
        Assert.Contains(mm.SlabInfo(), i => i.Name == "d");
    }

    [Fact]
    public void Destroy_Empty_ReleasesEveryPage()
    {
        var mm = Boot();
        long boot = FreePages(mm);
        var cache = mm.KmemCacheCreate("d", 2000, 0, SlabFlags.None, null);
        var objs = Enumerable.Range(0, 50).Select(_ => mm.KmemCacheAlloc(cache, Gfp.Kernel)).ToList();
        Assert.True(FreePages(mm) < boot);
        foreach (var o in objs) mm.KmemCacheFree(cache, o);
        Assert.Equal(0, mm.KmemCacheDestroy(cache));
        Assert.Equal(boot, FreePages(mm));
    }

    [Fact]
    public void Reap_Skips24NoReapCaches()
    {
        var mm = Boot(Profiles.Linux2_4);
        var keep = mm.KmemCacheCreate("keep", 256, 0, SlabFlags.NoReap, null);
        var reap = mm.KmemCacheCreate("reap", 256, 0, SlabFlags.None, null);
        mm.KmemCacheFree(keep, mm.KmemCacheAlloc(keep, Gfp.Kernel));
        // "reap": a first slab holding one live object, a second slab wholly free.
        var perSlab = (int)Info(mm, "reap").ObjectsPerSlab;
        ulong live = mm.KmemCacheAlloc(reap, Gfp.Kernel);
        var fill = Enumerable.Range(1, perSlab - 1).Select(_ => mm.KmemCacheAlloc(reap, Gfp.Kernel)).ToList();
        var second = Enumerable.Range(0, perSlab).Select(_ => mm.KmemCacheAlloc(reap, Gfp.Kernel)).ToList();
        Assert.Equal(2, Info(mm, "reap").Slabs);
        foreach (var o in fill.Concat(second)) mm.KmemCacheFree(reap, o);
        long before = FreePages(mm);
        long released = mm.ReapCaches();
        Assert.Equal(Info(mm, "reap").PagesPerSlab, released);
        Assert.Equal(before + released, FreePages(mm));
        Assert.Equal(1, Info(mm, "keep").Slabs);
        Assert.Equal(1, Info(mm, "reap").Slabs);
        Assert.Equal(1, Info(mm, "reap").ActiveObjects);
        mm.KmemCacheFree(reap, live);
        // An explicit shrink still empties the NO_REAP cache.
        Assert.Equal(Info(mm, "keep").PagesPerSlab, mm.KmemCacheShrink(keep));
    }

    [Fact]
    public void DrainCaches_AfterEverythingIsFreed_RestoresBootCounts()
    {
        var mm = Boot(memory: 512UL << 20);
        var boot = Zones.All.Select(z => Enumerable.Range(0, 11).Select(o => mm.FreeBlocks(z, o)).ToArray()).ToArray();
        var c = mm.KmemCacheCreate("c", 700, 0, SlabFlags.Poison | SlabFlags.RedZone, null);
        var d = mm.KmemCacheCreate("d", 100, 0, SlabFlags.CacheDma, 0x11);
        var objs = Enumerable.Range(0, 200).Select(i => (i % 2 == 0 ? c : d, mm.KmemCacheAlloc(i % 2 == 0 ? c : d, Gfp.Kernel))).ToList();
        var ks = Enumerable.Range(1, 300).Select(i => mm.Kmalloc(i * 37, i % 5 == 0 ? Gfp.Atomic | GfpFlags.Dma : Gfp.Kernel)).ToList();
        foreach (var (cache, o) in objs) mm.KmemCacheFree(cache, o);
        foreach (var k in ks) mm.Kfree(k);
        mm.DrainCaches();
        var after = Zones.All.Select(z => Enumerable.Range(0, 11).Select(o => mm.FreeBlocks(z, o)).ToArray()).ToArray();
        Assert.Equal(boot, after);
        Assert.All(mm.SlabInfo(), i => Assert.Equal(0, i.Slabs));
    }

    // ---- Statistics (SLAB-12) --------------------------------------------------------------

    [Fact]
    public void SlabInfo_CountsFollowAllocAndFree()
    {
        var mm = Boot();
        var cache = mm.KmemCacheCreate("stats", 300, 0, SlabFlags.HwcacheAlign, null);
        var objs = Enumerable.Range(0, 30).Select(_ => mm.KmemCacheAlloc(cache, Gfp.Kernel)).ToList();
        foreach (var o in objs.Take(12)) mm.KmemCacheFree(cache, o);
        var info = Info(mm, "stats");
        Assert.Equal(18, info.ActiveObjects);
        Assert.Equal(300, info.ObjectSize);
        Assert.Equal(320, info.LaidOutSize);
        Assert.Equal(info.Slabs * info.ObjectsPerSlab, info.TotalObjects);
        Assert.True(info.TotalObjects >= 30);
        Assert.Equal(0, info.ConstructorCalls);
    }

    [Fact]
    public void SlabInfo_ListsTheGeneralCachesOnABootedMachine()
    {
        var names = Boot().SlabInfo().Select(i => i.Name).ToHashSet();
        Assert.Contains("size-32", names);
        Assert.Contains("size-4194304", names);
        Assert.Contains("size-32(DMA)", names);
        var six = Boot(Profiles.Linux6).SlabInfo().Select(i => i.Name).ToHashSet();
        Assert.Contains("kmalloc-8", six);
        Assert.Contains("kmalloc-96", six);
        Assert.Contains("kmalloc-192", six);
        Assert.Contains("kmalloc-1k", six);
        Assert.Contains("kmalloc-8k", six);
        Assert.Contains("dma-kmalloc-64", six);
        Assert.DoesNotContain("kmalloc-16k", six);
    }
}
