using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// Edges of the reference's user space that the generated user campaigns rarely reach, found by the
/// whole-reference mutation run (docs/mutation.md): copies that start inside a page and cross pages,
/// values straddling a page boundary, the TASK_SIZE end of access_ok, a split of a file mapping whose
/// page offset is not zero, and the write fault that reuses a page no longer shared after fork.
/// Every expectation is the documented behaviour (UACC-1..3, MMAP-5..7, ADDR-4), on the default profile.
/// </summary>
public class UserCopyEdgeTests : UserKernelTests
{
    /// <summary>A pattern no two nearby offsets share, so a copy shifted by any amount shows.</summary>
    private static byte[] Pattern(int n, int salt) => Enumerable.Range(0, n).Select(i => (byte)((i * 7 + salt) % 251 + 1)).ToArray();

    /// <summary>User memory read a page at a time (a user access never crosses a page).</summary>
    private byte[] UserBytes(int pid, ulong addr, int n)
    {
        var buf = new byte[n];
        for (int done = 0; done < n;)
        {
            ulong at = addr + (ulong)done;
            int len = Math.Min(n - done, Page - (int)(at % Page));
            Assert.Equal(UserFault.None, _k.UserRead(pid, at, buf.AsSpan(done, len)));
            done += len;
        }
        return buf;
    }

    private void UserStore(int pid, ulong addr, byte[] data)
    {
        for (int done = 0; done < data.Length;)
        {
            ulong at = addr + (ulong)done;
            int len = Math.Min(data.Length - done, Page - (int)(at % Page));
            Assert.Equal(UserFault.None, _k.UserWrite(pid, at, data.AsSpan(done, len)));
            done += len;
        }
    }

    private byte[] KernelBytes(ulong addr, int n)
    {
        var buf = new byte[n];
        _k.Read(addr, buf);
        return buf;
    }

    [Fact]
    public void CopyToUser_FromInsideAPage_AcrossThreePages_MovesEveryByteToItsPlace()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 4 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong k = _k.GetFreePages(Gfp.Kernel, 2);
        var data = Pattern(4 * Page, 3);
        _k.Write(k, data);
        const int start = Page - 96, n = 2 * Page + 200; // starts 96 bytes before a page end, ends inside the fourth page
        Assert.Equal(0, _k.CopyToUser(p, a + start, k + 10, n));
        Assert.Equal(data.AsSpan(10, n).ToArray(), UserBytes(p, a + start, n));
        Assert.Equal(new byte[start], UserBytes(p, a, start));                        // nothing before
        Assert.Equal(new byte[64], UserBytes(p, a + start + (ulong)n, 64));          // nothing after
    }

    [Fact]
    public void CopyFromUser_FromInsideAPage_AcrossThreePages_FillsTheKernelBufferInOrder()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 4 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        var data = Pattern(4 * Page, 5);
        UserStore(p, a, data);
        ulong k = _k.GetFreePages(Gfp.Kernel, 2);
        _k.Write(k, Enumerable.Repeat((byte)0xEE, 4 * Page).ToArray());
        const int start = Page + 333, n = 2 * Page + 17;
        Assert.Equal(0, _k.CopyFromUser(p, k + 5, a + start, n));
        Assert.Equal(data.AsSpan(start, n).ToArray(), KernelBytes(k + 5, n));
        Assert.Equal(Enumerable.Repeat((byte)0xEE, 5).ToArray(), KernelBytes(k, 5));
        Assert.Equal(Enumerable.Repeat((byte)0xEE, 32).ToArray(), KernelBytes(k + 5 + (ulong)n, 32));
    }

    [Fact]
    public void CopyFromUser_StoppingInsideTheRange_CopiesThePagesBefore_AndZeroesTheRest()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0); // the third page is not mapped
        var data = Pattern(2 * Page, 9);
        UserStore(p, a, data);
        ulong k = _k.GetFreePages(Gfp.Kernel, 2);
        _k.Write(k, Enumerable.Repeat((byte)0xEE, 4 * Page).ToArray());
        const int start = 1000, n = 2 * Page;                 // 2 * Page - 1000 bytes are reachable
        Assert.Equal(1000, _k.CopyFromUser(p, k + 3, a + start, n));
        Assert.Equal(data.AsSpan(start).ToArray(), KernelBytes(k + 3, 2 * Page - start));
        Assert.Equal(new byte[1000], KernelBytes(k + 3 + (ulong)(2 * Page - start), 1000));
        Assert.Equal(0xEE, KernelBytes(k + 3 + (ulong)n, 1)[0]);
        Assert.Equal(1000, _k.CopyToUser(p, a + start, k + 3, n));
        Assert.Equal(data.AsSpan(start).ToArray(), UserBytes(p, a + start, 2 * Page - start));
    }

    [Fact]
    public void GetAndPutUser_OfAValueStraddlingTwoPages_ReadAndStoreBothHalves()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        foreach (int offset in new[] { 1, 2, 3 })
        {
            ulong at = a + Page - (ulong)offset;                 // `offset` bytes in the first page, the rest in the second
            Assert.Equal(0, _k.PutUser(p, at, 4, 0x11223344));
            Assert.Equal(new byte[] { 0x44, 0x33, 0x22, 0x11 }, UserBytes(p, at, 4));
            Assert.Equal(0, _k.GetUser(p, at, 4, out ulong v));
            Assert.Equal(0x11223344UL, v);
            Assert.Equal(0, _k.GetUser(p, at, 2, out v));
            Assert.Equal(0x3344UL, v);
        }
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + Page - 8, [1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(0, _k.GetUser(p, a + Page - 1, 2, out ulong w));
        Assert.Equal(0x1108UL, w); // 8, the last byte of page one, and 0x11, the first of page two (the last put_user above)
    }

    [Fact]
    public void GetAndPutUser_StraddlingIntoAnUnmappedPage_FaultAndStoreNothing()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0); // the next page is not mapped
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + Page - 2, [0xAB, 0xCD]));
        Assert.Equal(-Errno.EFAULT, _k.PutUser(p, a + Page - 2, 4, 0x11223344));
        Assert.Equal(new byte[] { 0xAB, 0xCD }, UserBytes(p, a + Page - 2, 2));
        Assert.Equal(-Errno.EFAULT, _k.GetUser(p, a + Page - 2, 4, out ulong v));
        Assert.Equal(0UL, v);
        Assert.Equal(0, _k.GetUser(p, a + Page - 2, 2, out v));
        Assert.Equal(0xCDABUL, v);
    }

    [Fact]
    public void AccessOk_AllowsARangeEndingExactlyAtTaskSize_AndRefusesOneByteMoreWhole()
    {
        int p = _k.CreateProcess();
        ulong top = _k.Profile.TaskSize;
        Assert.Equal((long)(top - Page), _k.Mmap(p, top - Page, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        ulong k = _k.GetFreePages(Gfp.Kernel, 0);
        var data = Pattern(64, 11);
        _k.Write(k, data);
        // [top - 16, top) lies wholly below TASK_SIZE: copied.
        Assert.Equal(0, _k.CopyToUser(p, top - 16, k, 16));
        Assert.Equal(data.AsSpan(0, 16).ToArray(), UserBytes(p, top - 16, 16));
        // One byte more reaches TASK_SIZE: refused whole (UACC-3), not copied up to the boundary.
        Assert.Equal(17, _k.CopyToUser(p, top - 16, k + 20, 17));
        Assert.Equal(data.AsSpan(0, 16).ToArray(), UserBytes(p, top - 16, 16));
        Assert.Equal(17, _k.CopyFromUser(p, k + 40, top - 16, 17));
        Assert.Equal(new byte[17], KernelBytes(k + 40, 17));
        Assert.Equal(0, _k.CopyFromUser(p, k + 40, top - 16, 16));
        Assert.Equal(data.AsSpan(0, 16).ToArray(), KernelBytes(k + 40, 16));
        // get_user and put_user: the same boundary.
        Assert.Equal(0, _k.PutUser(p, top - 4, 4, 0xA1B2C3D4));
        Assert.Equal(0, _k.GetUser(p, top - 4, 4, out ulong v));
        Assert.Equal(0xA1B2C3D4UL, v);
        Assert.Equal(-Errno.EFAULT, _k.PutUser(p, top - 2, 4, 0x01020304));
        Assert.Equal(new byte[] { 0xB2, 0xA1 }, UserBytes(p, top - 2, 2));
        Assert.Equal(-Errno.EFAULT, _k.GetUser(p, top - 2, 4, out v));
        Assert.Equal(0UL, v);
        // A range whose end wraps around the address space is refused, not taken as short.
        Assert.Equal(32, _k.CopyToUser(p, ulong.MaxValue - 15, k, 32));
        Assert.Equal(-Errno.EFAULT, _k.GetUser(p, ulong.MaxValue - 1, 4, out v));
    }

    [Fact]
    public void SplitOfAFileMappingAtANonZeroOffset_KeepsEveryPageOnItsFilePage()
    {
        int p = _k.CreateProcess();
        int file = _k.CreateFile(8 * Page);
        for (int i = 0; i < 8; i++) _k.WriteFile(file, (long)i * Page, [(byte)(0x10 + i), (byte)(0x20 + i)]);
        int fd = _k.Open(p, file, OpenMode.ReadWrite);
        // Pages 2..6 of the file at a; no page is touched before the splits, so each fault uses the split vma's vm_pgoff.
        ulong a = (ulong)_k.Mmap(p, Window, 5 * Page, Rw, MapFlags.Shared | MapFlags.Fixed, fd, 2 * Page);
        Assert.Equal(0, _k.Mprotect(p, a + Page, Page, Prot.Read));       // [a, a+1) [a+1, a+2) [a+2, a+5)
        Assert.Equal(0, _k.Munmap(p, a + 3 * Page, Page));                 // [a+2, a+3) [a+4, a+5)
        Assert.Equal(new byte[] { 0x12, 0x22 }, UserBytes(p, a, 2));
        Assert.Equal(new byte[] { 0x13, 0x23 }, UserBytes(p, a + Page, 2));
        Assert.Equal(new byte[] { 0x14, 0x24 }, UserBytes(p, a + 2 * Page, 2));
        Assert.Equal(UserFault.MapError, _k.UserRead(p, a + 3 * Page, new byte[1]));
        Assert.Equal(new byte[] { 0x16, 0x26 }, UserBytes(p, a + 4 * Page, 2));
        // A store through the last piece reaches file page 6 (MMAP-7), and no other.
        Assert.Equal(UserFault.None, _k.UserWrite(p, a + 4 * Page + 2, [0x77]));
        var page6 = new byte[3];
        Assert.Equal(3, _k.ReadFile(file, 6L * Page, page6));
        Assert.Equal(new byte[] { 0x16, 0x26, 0x77 }, page6);
        var page5 = new byte[3];
        Assert.Equal(3, _k.ReadFile(file, 5L * Page, page5));
        Assert.Equal(new byte[] { 0x15, 0x25, 0 }, page5);
    }

    [Fact]
    public void WriteAfterTheForkedCopyExits_ReusesThePage_TakingNoFrame()
    {
        int parent = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(parent, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(UserFault.None, _k.UserWrite(parent, a, [1, 2, 3]));
        int child = _k.Fork(parent);
        Assert.True(child > 0);
        _k.Exit(child);
        _k.DrainCaches();
        long before = FreePages();
        // The page is write-protected since the fork but mapped once again: the store makes it writable in place (wp_page_reuse).
        Assert.Equal(UserFault.None, _k.UserWrite(parent, a + 1, [9]));
        _k.DrainCaches();
        Assert.Equal(before, FreePages());
        Assert.Equal(new byte[] { 1, 9, 3 }, UserBytes(parent, a, 3));
    }
    [Fact]
    public void TheKernelSideAndTheSizes_AreCheckedBeforeAnyByteMoves()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        UserStore(p, a, Pattern(64, 13));
        ulong area = _k.Vmalloc(Page);                    // one mapped page; the next page is the guard
        _k.Write(area, Pattern(Page, 17));
        // A kernel buffer running past its mapping is the kernel's own bug: raised before any byte moves.
        Assert.ThrowsAny<KernelApiException>(() => _k.CopyToUser(p, a, area + Page - 8, 16));
        Assert.Equal(Pattern(64, 13), UserBytes(p, a, 64));
        Assert.ThrowsAny<KernelApiException>(() => _k.CopyFromUser(p, area + Page - 8, a, 16));
        Assert.Equal(Pattern(Page, 17), KernelBytes(area, Page));
        // The whole buffer, up to its last byte, is fine.
        Assert.Equal(0, _k.CopyToUser(p, a, area + Page - 16, 16));
        Assert.Equal(Pattern(Page, 17).AsSpan(Page - 16).ToArray(), UserBytes(p, a, 16));
        // Nothing to copy: no kernel byte is probed, not even one before the buffer.
        Assert.Equal(0, _k.CopyToUser(p, a, area + Page, 0));
        Assert.Equal(0, _k.CopyFromUser(p, area + Page, a, 0));
        Assert.Equal("n", Assert.Throws<InvalidArgumentException>(() => _k.CopyToUser(p, a, area, -1)).Parameter);
        Assert.Equal("n", Assert.Throws<InvalidArgumentException>(() => _k.CopyFromUser(p, area, a, -1)).Parameter);
        // get_user and put_user take 1, 2, 4 (and 8 on a 64-bit profile) bytes: x86-32 has no 8.
        foreach (int size in new[] { 0, 3, 5, 8, -1 })
        {
            Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => _k.GetUser(p, a, size, out _)).Parameter);
            Assert.Equal("size", Assert.Throws<InvalidArgumentException>(() => _k.PutUser(p, a, size, 0)).Parameter);
        }
        Assert.Equal(Pattern(64, 13).AsSpan(16).ToArray(), UserBytes(p, a + 16, 48)); // the refused calls stored nothing
        _k.Vfree(area);
    }
}
