using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// Regular files, swap and process lifetime at edges the generated user campaigns rarely reach, found by
/// the whole-reference mutation run (docs/mutation.md): a file's frames (one per page, taken at creation),
/// reads and writes across a file's pages and at its end, an empty file, the swap victim order the
/// reference declares (<see cref="SwapVictimOrder.OldestFirst"/>), a swapped-in page giving its slot
/// back exactly once, swap_out of no pages, the swap device's declared size, and a process gone after exit.
/// </summary>
public class FileAndSwapEdgeTests : UserKernelTests
{
    [Fact]
    public void AFile_TakesAFramePerPage_AndReadsAndWritesAcrossItsPagesUpToItsEnd()
    {
        _k.DrainCaches();
        long before = FreePages();
        int exact = _k.CreateFile(2 * Page);
        _k.DrainCaches();
        Assert.Equal(2, before - FreePages());
        int file = _k.CreateFile(2 * Page + 1);
        _k.DrainCaches();
        Assert.Equal(5, before - FreePages());
        Assert.True(exact > 0);

        var data = Enumerable.Range(0, 300).Select(i => (byte)(i % 251 + 1)).ToArray();
        _k.WriteFile(file, Page - 100, data);                                   // across the first page boundary
        _k.WriteFile(file, 2 * Page, [0xEE]);                                   // the last byte, alone on its page
        var back = new byte[310];
        Assert.Equal(310, _k.ReadFile(file, Page - 105, back));
        Assert.Equal(new byte[5], back[..5]);
        Assert.Equal(data, back[5..305]);
        Assert.Equal(new byte[5], back[305..]);
        var tail = new byte[8];
        Assert.Equal(2, _k.ReadFile(file, 2 * Page - 1, tail));                 // stops at the end of the file
        Assert.Equal(new byte[] { 0, 0xEE, 0, 0, 0, 0, 0, 0 }, tail);
        Assert.Equal(0, _k.ReadFile(file, 2 * Page + 1, tail));                 // at the end: nothing
        Assert.Equal(0, _k.ReadFile(file, 3 * Page, tail));

        int empty = _k.CreateFile(0);
        Assert.True(empty > 0);
        Assert.Equal(0, _k.ReadFile(empty, 0, tail));
    }

    [Fact]
    public void SwapOut_TakesTheOldestPageFirst_AndASwappedInPageGivesItsSlotBackOnce()
    {
        Assert.Equal(Math.Min((long)_k.Profile.TotalPages / 4, (64L << 20) / Page), _k.SwapTotalPages);   // a quarter of RAM, at most 64 MiB
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 3 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        for (int i = 0; i < 3; i++) Assert.Equal(UserFault.None, _k.UserWrite(p, a + (ulong)(i * Page), [(byte)(0x60 + i)]));
        long swapFree = _k.SwapFreePages;
        Assert.Equal(0, _k.SwapOut(0));
        Assert.Equal(swapFree, _k.SwapFreePages);
        Assert.Equal(1, _k.SwapOut(1));
        long faults = _k.PageFaults(p);
        var b = new byte[1];
        Assert.Equal(UserFault.None, _k.UserRead(p, a + 2 * Page, b));          // the newest: still resident
        Assert.Equal(UserFault.None, _k.UserRead(p, a + Page, b));
        Assert.Equal(faults, _k.PageFaults(p));
        Assert.Equal(UserFault.None, _k.UserRead(p, a, b));                     // the oldest: read back from swap
        Assert.Equal(0x60, b[0]);
        Assert.Equal(faults + 1, _k.PageFaults(p));
        Assert.Equal(swapFree, _k.SwapFreePages);
        Assert.Equal(0, _k.Munmap(p, a, 3 * Page));
        Assert.Equal(swapFree, _k.SwapFreePages);

        _k.Exit(p);
        Assert.Equal("pid", Assert.Throws<InvalidArgumentException>(() => _k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0)).Parameter);
    }
}
