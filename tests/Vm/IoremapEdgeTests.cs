using KernelMm.Reference;
using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// ioremap and iounmap at their edges (DRV-5, GFP-1): the first frame above RAM, a one-byte range,
/// exactly the pages asked for, the kernel image's frames at the top of the physical address space,
/// unwritten device memory, the context checks, and a table page that is already there. One 64 MiB
/// x86-32 machine per test and a few calls: these run once per mutant that covers them.
/// </summary>
public class IoremapEdgeTests
{
    private static ReferenceKernel Boot() => new(Profiles.X86_32.WithMemory(64UL << 20));

    [Fact]
    public void TheFirstFrameAboveRam_IsDeviceMemory_ThatReadsZeroUntilWritten()
    {
        using var k = Boot();
        ulong ramEnd = k.Profile.PhysicalMemory;
        ulong io = k.Ioremap(ramEnd, 4096);
        Assert.NotEqual(0UL, io);
        Assert.Equal(Translation.Mapped(ramEnd + 8), k.Translate(io + 8, Access.KernelRead));

        var buffer = Enumerable.Repeat((byte)0xaa, 16).ToArray();
        k.Read(io + 8, buffer);
        Assert.Equal(new byte[16], buffer); // never written: zeros, whatever the buffer held
        k.Write(io + 8, [1, 2, 3]);
        var back = new byte[3];
        k.Read(io + 8, back);
        Assert.Equal(new byte[] { 1, 2, 3 }, back);
        k.Iounmap(io);
    }

    [Fact]
    public void ExactlyThePagesTheRangeTouches_AreMapped_EvenForOneByte()
    {
        using var k = Boot();
        ulong bar = k.Profile.PhysicalMemory + (64UL << 12);
        ulong two = k.Ioremap(bar, 2 * 4096);
        Assert.Equal(Translation.Mapped(bar + 4096), k.Translate(two + 4096, Access.KernelRead));
        Assert.Equal(TranslationFault.NotPresent, k.Translate(two + 2 * 4096, Access.KernelRead).Fault);

        ulong one = k.Ioremap(bar + 0x10, 1);
        Assert.NotEqual(0UL, one);
        Assert.Equal(Translation.Mapped(bar + 0x10), k.Translate(one, Access.KernelRead));
        Assert.Equal(TranslationFault.NotPresent, k.Translate(one - 0x10 + 4096, Access.KernelRead).Fault);

        ulong many = k.Ioremap(bar, 64 * 4096); // 64 pages need one table page, not 64 x 1024
        Assert.NotEqual(0UL, many);
        k.Iounmap(two);
        k.Iounmap(one);
        k.Iounmap(many);
    }

    [Fact]
    public void TheKernelImagesFrames_AtTheTopOfPhysicalMemory_AreNotDeviceMemory()
    {
        using var k = Boot();
        ulong maxPfn = new PageTableFormat(k.Profile).MaxPfn;
        ulong imageFirst = maxPfn - KernelPageTables.ImageFrames + 1;
        ulong page = 4096;

        Assert.Equal(0UL, k.Ioremap(imageFirst * page, 4096));       // its first frame
        Assert.Equal(0UL, k.Ioremap(maxPfn * page, 4096));           // its last frame, the highest there is
        Assert.Equal(0UL, k.Ioremap((imageFirst - 1) * page, 8192)); // a range that ends on its first frame
        ulong below = k.Ioremap((imageFirst - 1) * page, 4096);      // the frame just below it
        Assert.NotEqual(0UL, below);
        k.Iounmap(below);
    }

    [Fact]
    public void ANegativeSize_IsInvalidArgument()
    {
        using var k = Boot();
        Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => k.Ioremap(k.Profile.PhysicalMemory, -1)).Parameter);
    }

    [Fact]
    public void IoremapAndIounmap_MaySleep_ButIounmapOfNullDoesNothing()
    {
        using var k = Boot();
        ulong ramEnd = k.Profile.PhysicalMemory;
        ulong io = k.Ioremap(ramEnd, 4096);
        k.PreemptDisable();
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => k.Ioremap(ramEnd, 4096)).RuleId);
        Assert.Equal("GFP-1", Assert.Throws<KernelBugException>(() => k.Iounmap(io)).RuleId);
        k.Iounmap(0);
        k.PreemptEnable();
        k.Iounmap(0);
        k.Iounmap(io);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(io, Access.KernelRead).Fault);
    }

    [Fact]
    public void WithNoFreePageLeft_ARangeWhoseTableIsThereAlready_IsStillMapped()
    {
        using var k = Boot();
        ulong ramEnd = k.Profile.PhysicalMemory;
        ulong first = k.Ioremap(ramEnd, 4096); // makes the window's first table page
        while (!k.AllocPages(Gfp.Atomic, 0).IsNull) { }
        Assert.Equal(0L, Zones.All.Sum(z => Enumerable.Range(0, k.Profile.MaxOrder + 1).Sum(o => k.FreeBlocks(z, o) << o)));

        ulong second = k.Ioremap(ramEnd + 4096, 4096); // lands in the same table

        Assert.NotEqual(0UL, second);
        Assert.Equal(Translation.Mapped(ramEnd + 4096), k.Translate(second, Access.KernelRead));
        k.Iounmap(second);
        k.Iounmap(first);
    }
    [Fact]
    public void ARangeWhoseSecondTablePageCannotBeHad_IsUndoneCompletely()
    {
        using var k = Boot();
        var p = k.Profile;
        ulong page = (ulong)p.PageSize, ramEnd = p.PhysicalMemory;
        long Free() => Zones.All.Sum(z => Enumerable.Range(0, p.MaxOrder + 1).Sum(o => k.FreeBlocks(z, o) << o));
        // 1023 pages and their guard page fill the window's first page table (VMALLOC_START is 4 MiB aligned here),
        // so the next area starts on a table boundary.
        ulong first = k.Ioremap(ramEnd, 1023 * (long)page);
        Assert.Equal(p.VmallocStart, first);
        var held = new List<PageHandle>();
        for (var h = k.AllocPages(Gfp.Atomic, 0); !h.IsNull; h = k.AllocPages(Gfp.Atomic, 0)) held.Add(h);
        // Leave the reserve plus one page: GFP_KERNEL may take exactly one page table.
        long reserve = k.ZoneInfo().Zones.Max(z => z.Min);
        foreach (var h in held.Take((int)reserve + 1)) k.FreePagesOf(h, 0);
        held.RemoveRange(0, (int)reserve + 1);
        long tables = k.PageTablePages, free = Free();

        // 1100 pages need a second table after the first 1024: none is left, so everything is undone.
        Assert.Equal(0UL, k.Ioremap(ramEnd + 4096 * page, 1100 * (long)page));

        Assert.Equal(free, Free());                 // the table page taken for the first 1024 went back
        Assert.Equal(tables, k.PageTablePages);
        ulong start = first + 1024 * page;
        Assert.Equal(TranslationFault.NotPresent, k.Translate(start, Access.KernelRead).Fault);
        Assert.Equal(TranslationFault.NotPresent, k.Translate(start + 1023 * page, Access.KernelRead).Fault);
        foreach (var h in held) k.FreePagesOf(h, 0);
        Assert.Equal(start, k.Ioremap(ramEnd + 4096 * page, 1100 * (long)page)); // the range was given back too
    }
}
