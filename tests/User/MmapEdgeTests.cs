using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// Edges of mmap, munmap and mprotect that the generated user campaigns rarely reach, found by the
/// whole-reference mutation run (docs/mutation.md): where a mapping without MAP_FIXED goes (the hint,
/// the top-down search, exact fits, no fit), the largest file offset a mapping may reach (file_mmap_ok),
/// the descriptor's mode against the mapping's protection (VM_MAYWRITE), the lifetime of a shared
/// anonymous object across splits and fork, and ranges that wrap or reach TASK_SIZE.
/// Expectations are the documented behaviour (MMAP-2..8, ADDR-9) and, for placement, the reference's
/// own declared choice (<see cref="UserSpacePolicy.Default"/>: top-down below the stack gap).
/// </summary>
public class MmapEdgeTests : IDisposable
{
    private const int Page = 4096;
    private const ulong MmapMinAddr = 0x10000, StackGap = 128UL << 20;
    private static readonly Prot Rw = Prot.Read | Prot.Write;
    private static readonly MapFlags PrivAnon = MapFlags.Private | MapFlags.Anonymous;
    private readonly ReferenceKernel _k = new(Profiles.X86_32.WithMemory(64UL << 20));
    private ulong Window => _k.Profile.UserWindowStart;
    private ulong TaskSize => _k.Profile.TaskSize;

    public void Dispose() => _k.Dispose();

    private long FreePages() => Zones.All.Sum(z => Enumerable.Range(0, _k.Profile.MaxOrder + 1).Sum(o => _k.FreeBlocks(z, o) << o));

    private long Fixed(int pid, ulong addr, ulong length, Prot prot = Prot.Read | Prot.Write) =>
        _k.Mmap(pid, addr, length, prot, PrivAnon | MapFlags.Fixed, -1, 0);

    [Fact]
    public void WithoutAHint_TheFirstMappingEndsAtTheStackGap_AndARequestNothingCanHold_IsENOMEM()
    {
        int p = _k.CreateProcess();
        Assert.Equal((long)(TaskSize - StackGap - 2 * Page), _k.Mmap(p, 0, 2 * Page, Rw, PrivAnon, -1, 0));
        Assert.Equal(-Errno.ENOMEM, _k.Mmap(p, 0, TaskSize - Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void TopDown_TakesAHoleThatFitsExactly_AndReachesTheHoleBelowTheLowestMapping()
    {
        int p = _k.CreateProcess();
        ulong ceiling = TaskSize - StackGap;
        Assert.True(Fixed(p, ceiling - Page, Page) > 0);
        Assert.True(Fixed(p, ceiling - 3 * Page, Page) > 0);
        // The hole [ceiling - 2 pages, ceiling - 1 page) holds one page exactly: the highest hole that fits.
        Assert.Equal((long)(ceiling - 2 * Page), _k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0));

        // Everything from 3 pages above mmap_min_addr up to the ceiling is mapped: the only hole below is the lowest one.
        int q = _k.CreateProcess();
        ulong low = MmapMinAddr + 3 * Page;
        Assert.Equal((long)low, Fixed(q, low, ceiling - low, Prot.None));
        Assert.Equal((long)(low - 2 * Page), _k.Mmap(q, 0, 2 * Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void AHint_IsHonouredWhereTheRangeIsFree_RoundedDown_BetweenMmapMinAddrAndTaskSize()
    {
        int p = _k.CreateProcess();
        Assert.Equal((long)Window, _k.Mmap(p, Window + 5, Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)MmapMinAddr, _k.Mmap(p, MmapMinAddr, Page, Rw, PrivAnon, -1, 0));
        Assert.NotEqual((long)(MmapMinAddr - Page), _k.Mmap(p, MmapMinAddr - Page, Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)(TaskSize - Page), _k.Mmap(p, TaskSize - Page, Page, Rw, PrivAnon, -1, 0));
        long above = _k.Mmap(p, TaskSize, Page, Rw, PrivAnon, -1, 0);
        Assert.True(above > 0 && (ulong)above < TaskSize, $"mmap at a hint of TASK_SIZE returned 0x{above:x}");

        // A mapping at [w + 10, w + 11) pages: a hinted range touching it on either side is free, one overlapping it is not.
        ulong w = Window;
        Assert.True(Fixed(p, w + 10 * Page, Page) > 0);
        Assert.NotEqual((long)(w + 9 * Page), _k.Mmap(p, w + 9 * Page, 2 * Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)(w + 9 * Page), _k.Mmap(p, w + 9 * Page, Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)(w + 11 * Page), _k.Mmap(p, w + 11 * Page, Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void AFileMapping_MayReachTheLargestFileOffset_OnAPageOfItsOwn_AndNoFurther()
    {
        // x86-32: MAX_LFS_FILESIZE is ULONG_MAX pages, so the last page a mapping may use is page 0xFFFFFFFE.
        int p = _k.CreateProcess();
        int fd = _k.Open(p, _k.CreateFile(Page), OpenMode.ReadWrite);
        const long lastPage = 0xFFFF_FFFEL * Page;
        Assert.True(_k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, fd, lastPage) > 0);
        Assert.Equal(-Errno.EOVERFLOW, _k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, fd, lastPage + Page));
        Assert.Equal(-Errno.EOVERFLOW, _k.Mmap(p, 0, 2 * Page, Prot.Read, MapFlags.Shared, fd, lastPage));
        // An anonymous mapping ignores the offset: a length past TASK_SIZE is ENOMEM, whatever the offset.
        Assert.Equal(-Errno.ENOMEM, _k.Mmap(p, 0, 0xFFFF_FFFF_FFFF_F000, Rw, PrivAnon, -1, -Page));
    }

    [Fact]
    public void TheDescriptorsMode_LimitsSharedWritableMappingsOnly_NowAndUnderMprotect()
    {
        int p = _k.CreateProcess();
        int ro = _k.Open(p, _k.CreateFile(2 * Page), OpenMode.ReadOnly);
        // Private writable: allowed, and mprotect may make it writable again (VM_MAYWRITE).
        long priv = _k.Mmap(p, 0, Page, Rw, MapFlags.Private, ro, 0);
        Assert.True(priv > 0);
        Assert.Equal(0, _k.Mprotect(p, (ulong)priv, Page, Prot.Read));
        Assert.Equal(0, _k.Mprotect(p, (ulong)priv, Page, Rw));
        // Shared read-only: allowed, stays read-only; PROT_WRITE is refused (EACCES), a read-only mprotect is not.
        ulong a = Window;
        Assert.Equal((long)a, Fixed(p, a, Page));
        Assert.Equal((long)(a + Page), _k.Mmap(p, a + Page, Page, Prot.Read, MapFlags.Shared | MapFlags.Fixed, ro, 0));
        Assert.Equal((long)(a + 2 * Page), Fixed(p, a + 2 * Page, Page));
        Assert.Equal(0, _k.Mprotect(p, a + Page, Page, Prot.Read));
        Assert.Equal(-Errno.EACCES, _k.Mprotect(p, a + Page, Page, Rw));
        // A range holding both kinds is refused whole, and nothing changes.
        Assert.Equal(-Errno.EACCES, _k.Mprotect(p, a, 2 * Page, Rw));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a, [1]));
        Assert.Equal(UserFault.AccessError, _k.UserWrite(p, a + Page, [1]));
        // The mappings just below and just above the read-only one may be made writable on their own.
        Assert.Equal(0, _k.Mprotect(p, a, Page, Rw));
        Assert.Equal(0, _k.Mprotect(p, a + 2 * Page, Page, Rw));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + 2 * Page, [2]));
    }

    [Fact]
    public void ASharedAnonymousObject_LivesUntilItsLastMappingGoes_ThroughForkSplitsAndMprotect()
    {
        int p = _k.CreateProcess();
        ulong a = Window;
        // Page tables for the range first, so that the frames counted below are the object's pages only.
        Assert.Equal((long)a, Fixed(p, a, 2 * Page));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a, [1]));
        Assert.Equal(0, _k.Munmap(p, a, 2 * Page));
        _k.DrainCaches();
        long before = FreePages();

        Assert.Equal((long)a, _k.Mmap(p, a, 2 * Page, Rw, MapFlags.Shared | MapFlags.Anonymous | MapFlags.Fixed, -1, 0));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a, [0x11]));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + Page, [0x22]));
        int child = _k.Fork(p);
        Assert.True(child > 0);
        _k.Exit(child);
        Assert.Equal(0, _k.Munmap(p, a, Page));                           // the head of the mapping
        Assert.Equal(0, _k.Mprotect(p, a + Page, Page, Prot.Read));       // all of what is left
        var b = new byte[1];
        Assert.Equal(UserFault.None, _k.UserRead(p, a + Page, b));
        Assert.Equal(0x22, b[0]);
        _k.DrainCaches();
        Assert.True(FreePages() < before, "the object's pages went while a mapping of it was left");
        Assert.Equal(0, _k.Munmap(p, a + Page, Page));                    // the last mapping
        _k.DrainCaches();
        Assert.Equal(before, FreePages());
    }

    [Fact]
    public void ASharedAnonymousMapping_IgnoresTheOffset()
    {
        int p = _k.CreateProcess();
        long a = _k.Mmap(p, 0, Page, Rw, MapFlags.Shared | MapFlags.Anonymous, -1, 2 * Page);
        Assert.True(a > 0);
        Assert.Equal(UserFault.None, _k.UserWrite(p, (ulong)a + 7, [0x5a]));
        var b = new byte[1];
        Assert.Equal(UserFault.None, _k.UserRead(p, (ulong)a + 7, b));
        Assert.Equal(0x5a, b[0]);
    }

    [Fact]
    public void RangesThatWrapOrReachTaskSize_AreRefused_AndTheLastPageBelowTaskSizeCanBeUnmapped()
    {
        int p = _k.CreateProcess();
        Assert.Equal((long)Window, Fixed(p, Window, Page));
        Assert.Equal(-Errno.ENOMEM, _k.Mprotect(p, Window, ulong.MaxValue - Page + 1, Prot.Read));   // end wraps around
        Assert.Equal(UserFault.None, _k.UserWrite(p, Window, [1]));
        Assert.Equal(-Errno.EINVAL, _k.Munmap(p, Window, TaskSize));                   // reaches past TASK_SIZE
        Assert.Equal(UserFault.None, _k.UserWrite(p, Window, [2]));
        Assert.Equal((long)(TaskSize - Page), Fixed(p, TaskSize - Page, Page));
        Assert.Equal(0, _k.Munmap(p, TaskSize - Page, Page));                          // ends exactly at TASK_SIZE
        Assert.Equal(UserFault.MapError, _k.UserRead(p, TaskSize - Page, new byte[1]));
    }
}
