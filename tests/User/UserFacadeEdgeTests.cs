using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// Edges of the reference's user-space contract members that the generated user campaigns rarely reach,
/// found by the whole-reference mutation run (docs/mutation.md): swap_out's arguments, context and sleep,
/// a disposed machine refusing before it looks at arguments, file writes up to the end of the file,
/// user accesses of zero bytes and across a page, a kernel buffer of a user copy with an unmapped page
/// in its middle, 8-byte get_user on a 64-bit profile, and what a driver's mmap method maps (DRV-1..4).
/// </summary>
public class UserFacadeEdgeTests : UserKernelTests
{
    private byte[] UserBytes(int pid, ulong addr, int n)
    {
        var buf = new byte[n];
        Assert.Equal(UserFault.None, _k.UserRead(pid, addr, buf));
        return buf;
    }

    [Fact]
    public void SwapOut_SleepsOnlyWhenItWritesPages_RefusesANegativeCount_AndMaySleepOnlyOutsideAtomicContext()
    {
        long sleeps = _k.Sleeps;
        Assert.Equal(0, _k.SwapOut(0));
        Assert.Equal(0, _k.SwapOut(10));                      // no user page exists yet: nothing written, no sleep
        Assert.Equal(sleeps, _k.Sleeps);
        Assert.Equal("pages", Assert.Throws<InvalidArgumentException>(() => _k.SwapOut(-1)).Parameter);
        Assert.Equal("zone", Assert.Throws<InvalidArgumentException>(() => _k.AnonPages((Zone)Zones.Count)).Parameter);

        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 4 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        for (int i = 0; i < 4; i++) Assert.Equal(UserFault.None, _k.UserWrite(p, a + (ulong)(i * Page), [(byte)(i + 1)]));
        long swapFree = _k.SwapFreePages;
        _k.PreemptDisable();
        var bug = Assert.Throws<KernelBugException>(() => _k.SwapOut(2));
        Assert.Equal("GFP-1", bug.RuleId);
        _k.PreemptEnable();
        Assert.Equal(swapFree, _k.SwapFreePages);              // refused before any page moved
        Assert.Equal(sleeps, _k.Sleeps);
        Assert.Equal(2, _k.SwapOut(2));
        Assert.True(_k.Sleeps > sleeps, "swap_out wrote pages out without sleeping");
        Assert.Equal(swapFree - 2, _k.SwapFreePages);
    }

    [Fact]
    public void ADisposedMachine_RefusesUserCalls_BeforeLookingAtTheirArguments()
    {
        var k = new ReferenceKernel(Profiles.X86_32.WithMemory(16UL << 20));
        int file = k.CreateFile(Page);
        k.Dispose();
        Assert.Throws<ObjectDisposedException>(() => k.SwapOut(-1));
        Assert.Throws<ObjectDisposedException>(() => k.AnonPages((Zone)Zones.Count));
        Assert.Throws<ObjectDisposedException>(() => k.ReadFile(file, -1, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => k.RegisterRemapDevice(ulong.MaxValue, 0, -1));
    }

    [Fact]
    public void WriteFile_ReachesExactlyTheEndOfTheFile_AndNoByteFurther()
    {
        int file = _k.CreateFile(100);
        _k.WriteFile(file, 98, [1, 2]);
        _k.WriteFile(file, 100, []);
        _k.WriteFile(file, 0, [9]);
        foreach (var (offset, length) in new (long, int)[] { (98, 3), (101, 0), (-1, 0), (-1, 1), (50, 51), (0, 101) })
            Assert.Equal("offset", Assert.Throws<InvalidArgumentException>(() => _k.WriteFile(file, offset, new byte[length])).Parameter);
        var back = new byte[100];
        Assert.Equal(100, _k.ReadFile(file, 0, back));
        Assert.Equal(9, back[0]);
        Assert.Equal(new byte[96], back[1..97]);
        Assert.Equal(new byte[] { 0, 1, 2 }, back[97..]);
    }

    [Fact]
    public void AUserAccess_OfNoBytesIsNothing_AndOneAcrossAPageBoundaryIsRefused()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(UserFault.None, _k.UserRead(p, a + Page, Span<byte>.Empty));
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + 2 * Page, ReadOnlySpan<byte>.Empty));   // unmapped, but nothing to access
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + Page - 4, [1, 2, 3, 4]));              // up to the page's last byte
        Assert.Equal("addr", Assert.Throws<InvalidArgumentException>(() => _k.UserRead(p, a + Page - 2, new byte[4])).Parameter);
        Assert.Equal("addr", Assert.Throws<InvalidArgumentException>(() => _k.UserWrite(p, a + Page - 3, new byte[4])).Parameter);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, UserBytes(p, a + Page - 4, 4));
        Assert.Equal(0, UserBytes(p, a + Page, 1)[0]);
    }

    [Fact]
    public void AKernelBufferWithAHoleInItsMiddle_IsRefusedBeforeAnyByteMoves_AndAnEmptyOneIsNotProbed()
    {
        // Two one-page vmalloc areas, each followed by its unmapped guard page.
        ulong x = _k.Vmalloc(Page), y = _k.Vmalloc(Page);
        ulong lo = Math.Min(x, y), hi = Math.Max(x, y);
        var one = new byte[1];
        Assert.ThrowsAny<KernelApiException>(() => _k.Read(lo + Page, one));   // the guard of the lower area
        Assert.ThrowsAny<KernelApiException>(() => _k.Read(lo - 1, one));      // nothing mapped just below it either
        _k.Write(lo + Page - 8, Enumerable.Repeat((byte)0x77, 8).ToArray());
        _k.Write(hi, Enumerable.Repeat((byte)0x77, 8).ToArray());
        // [lo + Page - 8, hi + 8): first and last bytes mapped, the guard page between them not.
        ulong from = lo + Page - 8;
        long n = (long)(hi + 8 - from);
        int pages = (int)((n + 2 * Page - 1) / Page) + 1;
        int p = _k.CreateProcess();
        ulong u = (ulong)_k.Mmap(p, Window, (ulong)pages * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong to = u + Page - 8;                                                  // the first user chunk is the buffer's first 8 bytes
        Assert.ThrowsAny<KernelApiException>(() => _k.CopyToUser(p, to, from, n));
        Assert.Equal(new byte[8], UserBytes(p, to, 8));
        // A buffer at the very start of a mapping, up to its last byte or empty: nothing outside it is probed.
        Assert.Equal(0, _k.CopyToUser(p, u, lo, Page));
        Assert.Equal(0, _k.CopyToUser(p, u, lo, 0));
        Assert.Equal(0, _k.CopyFromUser(p, lo, u, 0));
        _k.Vfree(x);
        _k.Vfree(y);
    }

    [Fact]
    public void On64Bit_GetAndPutUserTakeEightBytes_AndAFileMappingReachesLlongMax()
    {
        using var k = new ReferenceKernel(Profiles.X86_64.WithMemory(64UL << 20));
        int p = k.CreateProcess();
        ulong a = (ulong)k.Mmap(p, k.Profile.UserWindowStart, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(0, k.PutUser(p, a + 8, 8, 0x0102030405060708));
        Assert.Equal(0, k.GetUser(p, a + 8, 8, out ulong v));
        Assert.Equal(0x0102030405060708UL, v);
        foreach (int size in new[] { 3, 5, 6, 7, 16 })
            Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => k.GetUser(p, a, size, out _)).Parameter);
        // MAX_LFS_FILESIZE is LLONG_MAX on 64-bit: the last whole page below it may be mapped, the next may not.
        int fd = k.Open(p, k.CreateFile(Page), OpenMode.ReadWrite);
        long last = (long.MaxValue / Page - 1) * Page;
        Assert.True(k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, fd, last) > 0);
        Assert.Equal(-Errno.EOVERFLOW, k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, fd, last + Page));
    }

    [Fact]
    public void ARemapDriver_MapsWhatItsSizeCovers_RefusesMoreThanTheVma_AndReachesTheLastFrameOfRam()
    {
        int p = _k.CreateProcess();
        ulong buf = _k.GetFreePages(Gfp.Kernel, 2);
        _k.Write(buf, [0x41]);
        ulong pfn = _k.VirtToPhys(buf) >> 12;
        // remap size larger than the vma: -EINVAL, and the failed mmap leaves nothing mapped.
        int big = _k.RegisterRemapDevice(pfn, 4, 3 * Page);
        ulong at = Window + 16 * Page;
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, at, 2 * Page, Rw, MapFlags.Shared, _k.OpenDevice(p, big), 0));
        Assert.Equal(UserFault.MapError, _k.UserRead(p, at, new byte[1]));
        // remap size smaller than the vma: the first page is the driver's, the second has no page (SIGBUS).
        int small = _k.RegisterRemapDevice(pfn, 4, Page);
        long s = _k.Mmap(p, 0, 2 * Page, Rw, MapFlags.Shared, _k.OpenDevice(p, small), 0);
        Assert.True(s > 0, $"mmap returned {s}");
        long faults = _k.PageFaults(p);
        Assert.Equal(0x41, UserBytes(p, (ulong)s, 1)[0]);
        Assert.Equal(UserFault.None, _k.UserWrite(p, (ulong)s + 1, [0x42]));
        Assert.Equal(faults, _k.PageFaults(p));                                 // the driver's entries are present and writable
        var back = new byte[2];
        _k.Read(buf, back);
        Assert.Equal(new byte[] { 0x41, 0x42 }, back);
        Assert.Equal(UserFault.Bus, _k.UserRead(p, (ulong)s + Page, new byte[1]));
        // The last frames of RAM may be mapped whole.
        ulong frames = (ulong)_k.Profile.TotalPages;
        int top = _k.RegisterRemapDevice(frames - 2, 2, 0);
        Assert.True(_k.Mmap(p, 0, 2 * Page, Prot.Read, MapFlags.Shared, _k.OpenDevice(p, top), 0) > 0);
    }

    [Fact]
    public void APageListDriversPages_AreMappedWritable_AndAStreamDeviceWithMapFixed_LeavesTheOldMapping()
    {
        int p = _k.CreateProcess();
        var pages = Enumerable.Range(0, 2).Select(_ => _k.AllocPages(Gfp.Kernel, 0)).ToList();
        int list = _k.RegisterPageListDevice(pages);
        long l = _k.Mmap(p, 0, 2 * Page, Rw, MapFlags.Shared, _k.OpenDevice(p, list), 0);
        Assert.True(l > 0);
        long faults = _k.PageFaults(p);
        Assert.Equal(UserFault.None, _k.UserWrite(p, (ulong)l + Page + 3, [0x5c]));
        Assert.Equal(faults, _k.PageFaults(p));
        var back = new byte[1];
        _k.Read(_k.PageAddress(pages[1]) + 3, back);
        Assert.Equal(0x5c, back[0]);

        // MMAP-10: a device without an mmap method is refused before MAP_FIXED unmaps anything.
        ulong a = (ulong)_k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(UserFault.None, _k.UserWrite(p, a, [0x33]));
        int tty = _k.OpenDevice(p, Devices.Serial);
        Assert.Equal(-Errno.ENODEV, _k.Mmap(p, a, Page, Prot.Read, MapFlags.Shared | MapFlags.Fixed, tty, 0));
        Assert.Equal(0x33, UserBytes(p, a, 1)[0]);
    }
}
