using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>The reference's user space, scenario by scenario, on the default profile (64 MiB).</summary>
public class ReferenceUserTests : UserKernelTests
{
    private byte[] Read(int pid, ulong addr, int n)
    {
        var buf = new byte[n];
        Assert.Equal(UserFault.None, _k.UserRead(pid, addr, buf));
        return buf;
    }

    private void Write(int pid, ulong addr, params byte[] data) => Assert.Equal(UserFault.None, _k.UserWrite(pid, addr, data));

    [Fact]
    public void Mmap_RoundsLengthUp_ZeroFills_AndFaultsPastTheEnd()
    {
        int p = _k.CreateProcess();
        long a = _k.Mmap(p, 0, 1, Rw, PrivAnon, -1, 0);
        Assert.True(a > 0 && a % Page == 0, $"mmap returned {a}");
        Assert.Equal(new byte[16], Read(p, (ulong)a + Page - 16, 16));
        Assert.Equal(UserFault.MapError, _k.UserRead(p, (ulong)a + Page, new byte[1]));
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, 0, Rw, PrivAnon, -1, 0));
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, Page, Rw, MapFlags.Anonymous, -1, 0));
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, Page, Rw, MapFlags.SharedValidate | MapFlags.Anonymous, -1, 0));
    }

    [Fact]
    public void Fixed_PlacesExactly_ReplacesWhatWasThere_AndStopsAtTaskSize()
    {
        int p = _k.CreateProcess();
        Assert.Equal((long)Window, _k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Write(p, Window + Page, 7);
        Assert.Equal((long)Window + Page, _k.Mmap(p, Window + Page, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Assert.Equal(0, Read(p, Window + Page, 1)[0]);
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, Window + 1, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Assert.Equal(-Errno.ENOMEM, _k.Mmap(p, _k.Profile.TaskSize - Page, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        long hinted = _k.Mmap(p, Window, Page, Rw, PrivAnon, -1, 0);
        Assert.NotEqual((long)Window, hinted);
    }

    [Fact]
    public void Fork_KeepsPrivatePagesApart_AndSharedPagesShared()
    {
        int parent = _k.CreateProcess();
        ulong priv = (ulong)_k.Mmap(parent, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong shared = (ulong)_k.Mmap(parent, Window + 4 * Page, Page, Rw, MapFlags.Shared | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
        Write(parent, priv, 1);
        Write(parent, shared, 1);
        int child = _k.Fork(parent);
        Assert.True(child > 0);
        Write(child, priv, 2);
        Write(child, shared, 2);
        Assert.Equal(1, Read(parent, priv, 1)[0]);
        Assert.Equal(2, Read(parent, shared, 1)[0]);
        Write(parent, priv, 3);
        Assert.Equal(2, Read(child, priv, 1)[0]);
        Assert.Equal(3, Read(parent, priv, 1)[0]);
    }

    [Fact]
    public void FileMappings_SharedWritesReachTheFile_PrivateOnesNever_AndOutliveClose()
    {
        int p = _k.CreateProcess();
        int file = _k.CreateFile(Page + 100);
        int fd = _k.Open(p, file, OpenMode.ReadWrite);
        ulong s = (ulong)_k.Mmap(p, 0, 3 * Page, Rw, MapFlags.Shared, fd, 0);
        ulong q = (ulong)_k.Mmap(p, 0, Page, Rw, MapFlags.Private, fd, 0);
        Assert.Equal(0, _k.Close(p, fd));
        Write(p, s + 10, 0xaa);
        Write(p, q + 20, 0xbb);
        var bytes = new byte[32];
        _k.ReadFile(file, 0, bytes);
        Assert.Equal(0xaa, bytes[10]);
        Assert.Equal(0, bytes[20]);
        Assert.Equal(0xaa, Read(p, q + 10, 1)[0]);
        Assert.Equal(UserFault.Bus, _k.UserRead(p, s + 2 * Page, new byte[1]));
        Assert.Equal(-Errno.EBADF, _k.Close(p, fd));
        int ro = _k.Open(p, file, OpenMode.ReadOnly);
        Assert.Equal(-Errno.EACCES, _k.Mmap(p, 0, Page, Rw, MapFlags.Shared, ro, 0));
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, ro, 1));
        int tty = _k.OpenDevice(p, Devices.Serial);
        Assert.Equal(-Errno.ENODEV, _k.Mmap(p, 0, Page, Prot.Read, MapFlags.Shared, tty, 0));
    }

    [Fact]
    public void PartialMunmap_AndMprotect_SplitTheMapping()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 3 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Write(p, a, 1); Write(p, a + Page, 2); Write(p, a + 2 * Page, 3);
        Assert.Equal(0, _k.Mprotect(p, a + Page, Page, Prot.Read));
        Assert.Equal(UserFault.AccessError, _k.UserWrite(p, a + Page, [9]));
        Write(p, a + 2 * Page, 4);
        Assert.Equal(0, _k.Munmap(p, a + Page, Page));
        Assert.Equal(UserFault.MapError, _k.UserRead(p, a + Page, new byte[1]));
        Assert.Equal(1, Read(p, a, 1)[0]);
        Assert.Equal(4, Read(p, a + 2 * Page, 1)[0]);
        Assert.Equal(-Errno.ENOMEM, _k.Mprotect(p, a, 3 * Page, Prot.Read));
        Write(p, a, 5);
        Assert.Equal(-Errno.EINVAL, _k.Munmap(p, a + 1, Page));
        Assert.Equal(-Errno.EINVAL, _k.Mprotect(p, a, Page, (Prot)0x100));
        Assert.Equal(0, _k.Mprotect(p, a, Page, Prot.None));
        Assert.Equal(UserFault.AccessError, _k.UserRead(p, a, new byte[1]));
    }

    [Fact]
    public void SwappedPages_ComeBackIntact_AndExitReturnsEveryFrame()
    {
        _k.DrainCaches();
        long before = FreePages();
        long swapFree = _k.SwapFreePages;
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, 0, 64 * Page, Rw, PrivAnon, -1, 0);
        for (int i = 0; i < 64; i++) Write(p, a + (ulong)(i * Page) + 5, (byte)i, (byte)(i + 1));
        int child = _k.Fork(p);
        Write(child, a + 5, 0xee);
        int swapped = _k.SwapOut(1000);
        Assert.True(swapped > 0 && _k.SwapFreePages == swapFree - swapped, $"swapped {swapped}");
        for (int i = 0; i < 64; i++) Assert.Equal(new[] { (byte)i, (byte)(i + 1) }, Read(p, a + (ulong)(i * Page) + 5, 2));
        Assert.Equal(0xee, Read(child, a + 5, 1)[0]);
        _k.SwapOut(1000);
        _k.Exit(p);
        _k.Exit(child);
        _k.DrainCaches();
        Assert.Equal(before, FreePages());
        Assert.Equal(swapFree, _k.SwapFreePages);
    }

    [Fact]
    public void UserCopies_StopAtTheFirstBadPage_AndFaultOnKernelAddresses()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong k = _k.GetFreePages(Gfp.Kernel, 1);
        _k.Write(k, Enumerable.Repeat((byte)0x5a, 2 * Page).ToArray());
        Assert.Equal(0, _k.CopyToUser(p, a + 100, k, 200));
        Assert.Equal(0x5a, Read(p, a + 100, 1)[0]);
        Assert.Equal(100, _k.CopyToUser(p, a + 2 * Page - 100, k, 200));
        Assert.Equal(100, _k.CopyFromUser(p, k, a + 2 * Page - 100, 200));
        var tail = new byte[100];
        _k.Read(k + 100, tail);
        Assert.Equal(new byte[100], tail);
        Assert.Equal(-Errno.EFAULT, _k.GetUser(p, k, 4, out ulong v));
        Assert.Equal(0UL, v);
        Assert.Equal(0, _k.PutUser(p, a, 4, 0x01020304));
        Assert.Equal(0, _k.GetUser(p, a, 2, out v));
        Assert.Equal(0x0304UL, v);
        Assert.Equal(UserFault.MapError, _k.UserRead(p, k, new byte[1]));
        Assert.Equal(200, _k.CopyFromUser(p, k, _k.Profile.TaskSize - 100, 200));
    }

    [Fact]
    public void DriverMappings_ShareTheDriversFrames()
    {
        int p = _k.CreateProcess();
        ulong buf = _k.GetFreePages(Gfp.Kernel, 2);
        _k.Write(buf + Page, [0x11, 0x22]);
        ulong pfn = _k.VirtToPhys(buf) >> 12;
        int dev = _k.RegisterRemapDevice(pfn, 4, 0);
        int fd = _k.OpenDevice(p, dev);
        long u = _k.Mmap(p, 0, 2 * Page, Rw, MapFlags.Shared, fd, Page);
        Assert.True(u > 0);
        var vma = _k.LastMmap(dev)!;
        Assert.Equal(((ulong)u, (ulong)u + 2 * Page, 1UL), (vma.VmStart, vma.VmEnd, vma.VmPgoff));
        Assert.Equal(new byte[] { 0x11, 0x22 }, Read(p, (ulong)u, 2));
        Write(p, (ulong)u + 1, 0x99);
        var back = new byte[1];
        _k.Read(buf + Page + 1, back);
        Assert.Equal(0x99, back[0]);
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, 4 * Page, Rw, MapFlags.Shared, fd, Page));

        var pages = Enumerable.Range(0, 3).Select(_ => _k.AllocPages(Gfp.Kernel, 0)).ToList();
        _k.Write(_k.PageAddress(pages[2]), [0x33]);
        int list = _k.RegisterPageListDevice(pages);
        long l = _k.Mmap(p, 0, Page, Rw, MapFlags.Shared, _k.OpenDevice(p, list), 2 * Page);
        Assert.Equal(0x33, Read(p, (ulong)l, 1)[0]);
        int odd = _k.RegisterRemapDevice(pfn, 4, 2 * Page + 100);
        Assert.Equal(-Errno.EINVAL, _k.Mmap(p, 0, 3 * Page, Rw, MapFlags.Shared, _k.OpenDevice(p, odd), 0));
    }
}
