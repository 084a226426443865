using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// Page faults, mprotect and fork around pages the generated user campaigns rarely combine, found by
/// the whole-reference mutation run (docs/mutation.md): the fault count (every fault once, resolved or
/// not, none for a page already mapped as the access needs), the rights an mprotect round trip gives
/// back (writable where the page is the process's own or shared, write-protected while copy-on-write),
/// fork of a process with swapped-out pages, and munmap of part of a swapped-out range.
/// Expectations are the documented behaviour (ADDR-4, ADDR-6, MMAP-6..8, SWAP-1) and the reference's
/// declared choice of lazy copy-on-write (<see cref="UserSpacePolicy.Default"/>).
/// </summary>
public class FaultAndForkEdgeTests : UserKernelTests
{
    private byte ReadByte(int pid, ulong addr)
    {
        var b = new byte[1];
        Assert.Equal(UserFault.None, _k.UserRead(pid, addr, b));
        return b[0];
    }

    private void Store(int pid, ulong addr, byte value) => Assert.Equal(UserFault.None, _k.UserWrite(pid, addr, [value]));

    [Fact]
    public void EveryFault_CountsOnce_ResolvedOrNot_AndAPageMappedAsNeeded_TakesNone()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal((long)(a + 4 * Page), _k.Mmap(p, a + 4 * Page, Page, Prot.Read, PrivAnon | MapFlags.Fixed, -1, 0));
        long n = _k.PageFaults(p);
        Store(p, a, 1);                                                         // first touch: one fault
        Assert.Equal(n + 1, _k.PageFaults(p));
        Store(p, a + 1, 2);
        Assert.Equal(1, ReadByte(p, a));                                        // mapped writable already: none
        Assert.Equal(n + 1, _k.PageFaults(p));
        Assert.Equal(UserFault.MapError, _k.UserRead(p, a + 2 * Page, new byte[1]));      // no mapping: one
        Assert.Equal(n + 2, _k.PageFaults(p));
        Assert.Equal(UserFault.AccessError, _k.UserWrite(p, a + 4 * Page, [1]));          // read-only mapping: one
        Assert.Equal(n + 3, _k.PageFaults(p));
        // After fork the page is write-protected in both: the parent's next store is one fault, then none.
        int child = _k.Fork(p);
        Store(p, a, 3);
        Assert.Equal(n + 4, _k.PageFaults(p));
        Store(p, a + 2, 4);
        Assert.Equal(n + 4, _k.PageFaults(p));
        Assert.Equal(1, ReadByte(child, a));
    }

    [Fact]
    public void AnMprotectRoundTrip_GivesWriteBack_ToOwnAndSharedPages_ButNotToACopyOnWritePage()
    {
        int p = _k.CreateProcess();
        ulong own = (ulong)_k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong cow = (ulong)_k.Mmap(p, Window + 2 * Page, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        int file = _k.CreateFile(Page);
        int fd = _k.Open(p, file, OpenMode.ReadWrite);
        ulong shared = (ulong)_k.Mmap(p, Window + 4 * Page, Page, Rw, MapFlags.Shared | MapFlags.Fixed, fd, 0);
        Store(p, own, 1);
        Store(p, cow, 1);
        Store(p, shared, 1);
        int child = _k.Fork(p);                                                 // cow is now shared copy-on-write
        Store(p, own, 2);                                                       // own: copied once, the parent's own again
        foreach (ulong at in new[] { own, cow, shared })
        {
            Assert.Equal(0, _k.Mprotect(p, at, Page, Prot.Read));
            Assert.Equal(0, _k.Mprotect(p, at, Page, Rw));
        }
        long n = _k.PageFaults(p);
        Store(p, own, 3);
        Store(p, shared, 3);
        Assert.Equal(n, _k.PageFaults(p));                                      // writable again: no fault
        Store(p, cow, 3);                                                       // still copy-on-write: a fault and a copy
        Assert.Equal(n + 1, _k.PageFaults(p));
        Assert.Equal(1, ReadByte(child, cow));
        Assert.Equal(3, ReadByte(child, shared));
        // Writes to a shared mapping after fork take no fault in either process.
        long c = _k.PageFaults(child);
        Store(child, shared, 4);
        Assert.Equal(c, _k.PageFaults(child));
        Assert.Equal(4, ReadByte(p, shared));
    }

    [Fact]
    public void ForkWithoutEagerCopy_SharesTheParentsPages_TakingNoFrameForThem()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 32 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        for (int i = 0; i < 32; i++) Store(p, a + (ulong)(i * Page), (byte)i);
        _k.DrainCaches();
        long before = FreePages();
        int child = _k.Fork(p);
        _k.DrainCaches();
        Assert.True(before - FreePages() < 32, $"fork took {before - FreePages()} frames for 32 copy-on-write pages");
        Assert.Equal(31, ReadByte(child, a + 31 * Page));
    }

    [Fact]
    public void Fork_GivesTheChildItsOwnCopyOfEverySwappedOutPage_AndExitGivesEverySlotBack()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong b = (ulong)_k.Mmap(p, Window + 4 * Page, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong s = (ulong)_k.Mmap(p, Window + 8 * Page, Page, Rw, MapFlags.Shared | MapFlags.Anonymous | MapFlags.Fixed, -1, 0);
        foreach (var (at, v) in new[] { (a, 0x11), (a + Page, 0x12), (b, 0x21), (b + Page, 0x22), (s, 0x31) }) Store(p, at, (byte)v);
        Assert.Equal(4, _k.SwapOut(100));                                       // the four private pages
        long swapFree = _k.SwapFreePages;
        int child = _k.Fork(p);
        Assert.Equal(swapFree - 4, _k.SwapFreePages);                           // a slot of its own for each
        foreach (var (at, v) in new[] { (a, 0x11), (a + Page, 0x12), (b, 0x21), (b + Page, 0x22), (s, 0x31) })
            Assert.Equal((byte)v, ReadByte(child, at));
        Store(child, a, 0x99);
        _k.Exit(child);
        Assert.Equal(swapFree, _k.SwapFreePages);
        Assert.Equal(0x11, ReadByte(p, a));                                     // the child's store never reached it
    }

    [Fact]
    public void MunmapOfPartOfASwappedOutRange_GivesBackExactlyItsSlots_AndATableThatEmptied()
    {
        int p = _k.CreateProcess();
        _k.DrainCaches();
        long before = FreePages();
        ulong region = Window + (64UL << 20);                                   // a page-table span no test maps before
        ulong a = (ulong)_k.Mmap(p, region, 4 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        for (int i = 0; i < 4; i++) Store(p, a + (ulong)(i * Page), (byte)(0x40 + i));
        long swapFree = _k.SwapFreePages;
        Assert.Equal(4, _k.SwapOut(100));
        Assert.Equal(0, _k.Munmap(p, a + Page, 2 * Page));
        Assert.Equal(swapFree - 2, _k.SwapFreePages);
        Assert.Equal(0x40, ReadByte(p, a));
        Assert.Equal(0x43, ReadByte(p, a + 3 * Page));
        // The unmapped middle, mapped again, is fresh zero memory, not the pages once swapped out there.
        Assert.Equal((long)(a + Page), _k.Mmap(p, a + Page, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Assert.Equal(0, ReadByte(p, a + Page));
        Assert.Equal(0, ReadByte(p, a + 2 * Page));
        Assert.Equal(0, _k.Munmap(p, a, 4 * Page));
        Assert.Equal(swapFree, _k.SwapFreePages);
        _k.DrainCaches();
        Assert.Equal(before, FreePages());                                      // the pages and the emptied page table
    }
}
