using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.HeapVariants;

namespace KernelMm.Tests.HeapSuite;

/// <summary>
/// Direct checks of <see cref="ListHeapKernel"/> for what the heap family does not reach
/// (krealloc(NULL, n), freeing slab pages with free_pages, the drain) and for its own legal choices.
/// </summary>
public class ListHeapKernelTests
{
    private static readonly Profile Small = Profiles.X86_32.WithMemory(64UL << 20);

    private static long TotalFree(ListHeapKernel k) =>
        Zones.All.Sum(z => Enumerable.Range(0, k.Profile.MaxOrder + 1).Sum(o => k.FreeBlocks(z, o) << o));

    [Fact]
    public void Krealloc_of_NULL_is_kmalloc()
    {
        using var k = new ListHeapKernel(Small);
        ulong p = k.Krealloc(0, 100, Gfp.Kernel);
        Assert.NotEqual(0UL, p);
        Assert.Equal(128, k.Ksize(p));
        k.Kfree(p);
    }

    [Fact]
    public void Krealloc_keeps_the_prefix_in_place_or_moved()
    {
        using var k = new ListHeapKernel(Small);
        ulong p = k.Kmalloc(40, Gfp.Kernel);
        k.Write(p, Enumerable.Range(1, 40).Select(i => (byte)i).ToArray());
        ulong same = k.Krealloc(p, 60, Gfp.Kernel); // still fits the 64-byte class: stays
        Assert.Equal(p, same);
        ulong moved = k.Krealloc(same, 5000, Gfp.Kernel);
        var back = new byte[40];
        k.Read(moved, back);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (byte)i).ToArray(), back);
        Assert.Equal(0UL, k.Krealloc(moved, 0, Gfp.Kernel)); // frees; NULL on x86-32
    }

    [Fact]
    public void Free_pages_of_slab_memory_is_refused()
    {
        using var k = new ListHeapKernel(Small);
        ulong p = k.Kmalloc(64, Gfp.Kernel);
        ulong page = p & ~(ulong)(Small.PageSize - 1);
        long before = TotalFree(k);
        var bug = Assert.Throws<KernelBugException>(() => k.FreePages(page, 0));
        Assert.Equal("PAGE-4", bug.RuleId);
        Assert.Equal(before, TotalFree(k));
        k.Kfree(p);
    }

    [Fact]
    public void Drain_gives_back_every_empty_slab_of_the_general_caches()
    {
        using var k = new ListHeapKernel(Small);
        long boot = TotalFree(k);
        var objects = Enumerable.Range(1, 50).Select(i => k.Kmalloc(i * 37, Gfp.Kernel)).ToList();
        Assert.True(TotalFree(k) < boot);
        objects.ForEach(k.Kfree);
        k.DrainCaches();
        Assert.Equal(boot, TotalFree(k));
    }

    [Fact]
    public void Objects_come_highest_address_first_and_a_freed_slot_is_reused()
    {
        using var k = new ListHeapKernel(Small);
        var cache = k.KmemCacheCreate("t", 100, 0, SlabFlags.None, null);
        ulong a = k.KmemCacheAlloc(cache, Gfp.Kernel), b = k.KmemCacheAlloc(cache, Gfp.Kernel);
        Assert.True(b < a);
        k.KmemCacheFree(cache, a);
        Assert.Equal(a, k.KmemCacheAlloc(cache, Gfp.Kernel));
    }

    [Fact]
    public void Kmalloc_hands_out_garbage_and_kzalloc_zeroes_the_requested_bytes()
    {
        using var k = new ListHeapKernel(Small);
        var bytes = new byte[200];
        ulong p = k.Kmalloc(200, Gfp.Kernel);
        k.Read(p, bytes);
        Assert.Contains(bytes, b => b != 0);
        k.Kfree(p);
        ulong z = k.Kzalloc(200, Gfp.Kernel);
        Assert.Equal(p, z); // the same slot again, zeroed this time
        k.Read(z, bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Zero_size_and_cache_objects_follow_the_profile()
    {
        using var doc = new ListHeapKernel(Small);
        Assert.Equal(0UL, doc.Kmalloc(0, Gfp.Kernel));
        var c = doc.KmemCacheCreate("c", 32, 0, SlabFlags.None, null);
        ulong o = doc.KmemCacheAlloc(c, Gfp.Kernel);
        Assert.Equal("KMAL-6", Assert.Throws<KernelBugException>(() => doc.Kfree(o)).RuleId);

        using var six = new ListHeapKernel(Profiles.Linux6.WithMemory(64UL << 20));
        Assert.Equal(Profile.ZeroSizePtr, six.Kmalloc(0, Gfp.Kernel));
        six.Kfree(Profile.ZeroSizePtr);
        var c6 = six.KmemCacheCreate("c", 32, 0, SlabFlags.None, null);
        ulong o6 = six.KmemCacheAlloc(c6, Gfp.Kernel);
        six.Kfree(o6);
        Assert.Equal(0, six.SlabInfo().Single(i => i.Name == "c").ActiveObjects);
    }

    [Fact]
    public void A_two_gigabyte_boot_makes_no_cache()
    {
        using var k = new ListHeapKernel(Profiles.X86_32.WithMemory(2UL << 30));
        Assert.Equal(0, k.ReapCaches());
        k.DrainCaches();
    }
}
