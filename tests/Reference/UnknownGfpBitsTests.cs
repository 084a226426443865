using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reference;

/// <summary>
/// Issue 7, section 2: docs/protocol.md says any GFP bit but the documented ones must be refused.
/// The reference once accepted 0x200, 0x400 and 0x80000000 in every allocating call, and the suite
/// could not notice because both asked the same shared helper. Now every allocating call refuses
/// them with InvalidArgumentException and changes nothing.
/// </summary>
public class UnknownGfpBitsTests
{
    public static TheoryData<uint, string> Cases()
    {
        var data = new TheoryData<uint, string>();
        foreach (uint bit in new uint[] { 0x200, 0x400, 0x8000_0000 })
            foreach (var call in new[] { "get_free_pages", "get_zeroed_page", "alloc_pages", "kmalloc", "kzalloc", "krealloc", "kmem_cache_alloc" })
                data.Add(bit, call);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_allocating_call_refuses_a_bit_that_does_not_exist(uint bit, string call)
    {
        using var mm = new ReferenceKernel(Profiles.X86_32.WithMemory(64UL << 20));
        var cache = mm.KmemCacheCreate("c", 64, 0, SlabFlags.None, null);
        ulong old = mm.Kmalloc(40, Gfp.Kernel);
        long free = Zones.All.Sum(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Sum(o => mm.FreeBlocks(z, o) << o));
        var gfp = Gfp.Kernel | (GfpFlags)bit;
        Action act = call switch
        {
            "get_free_pages" => () => mm.GetFreePages(gfp, 0),
            "get_zeroed_page" => () => mm.GetZeroedPage(gfp),
            "alloc_pages" => () => mm.AllocPages(gfp, 1),
            "kmalloc" => () => mm.Kmalloc(100, gfp),
            "kzalloc" => () => mm.Kzalloc(100, gfp),
            "krealloc" => () => mm.Krealloc(old, 3000, gfp),
            _ => () => mm.KmemCacheAlloc(cache, gfp),
        };
        var e = Assert.Throws<InvalidArgumentException>(act);
        Assert.Equal("gfp", e.Parameter);
        Assert.Equal(free, Zones.All.Sum(z => Enumerable.Range(0, mm.Profile.MaxOrder + 1).Sum(o => mm.FreeBlocks(z, o) << o)));
        Assert.True(mm.Ksize(old) >= 40, "the object a refused krealloc was given must stay live");
    }

    [Fact]
    public void GfpBuffer_exists_on_linux_2_4_only()
    {
        using var x86 = new ReferenceKernel(Profiles.X86_32.WithMemory(64UL << 20));
        using var old = new ReferenceKernel(Profiles.Linux2_4.WithMemory(64UL << 20));
        Assert.Throws<InvalidArgumentException>(() => x86.GetFreePages(Gfp.Buffer, 0));
        Assert.NotEqual(0UL, old.GetFreePages(Gfp.Buffer, 0));
    }
}
