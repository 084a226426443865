using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Tests.User;

/// <summary>
/// The reference's declared user-space choices (<see cref="UserSpacePolicy"/>) pinned where the generated
/// campaigns cannot (they must pass any legal choice): where mmap places a mapping top-down and bottom-up,
/// what an eager-copy fork gives parent and child, and which pages newest-first reclaim writes out. Also
/// get_user/put_user on read-only, straddling and copy-on-write pages, and fork's swap slots (one per
/// swapped-out page, the first slot included). Found by the whole-reference mutation run 9 (docs/mutation.md).
/// </summary>
public class UserPolicyChoiceTests : UserKernelTests
{
    private const ulong StackGap = 128UL << 20;   // mm/util.c MIN_GAP: mmap_base = TASK_SIZE - 128 MiB
    private const ulong MmapMinAddr = 0x10000;

    private ulong TaskSize => _k.Profile.TaskSize;

    private ReferenceKernel KernelWith(UserSpacePolicy policy) =>
        new(_k.Profile) { UserPolicy = policy };

    private static byte ReadByte(ReferenceKernel k, int pid, ulong addr)
    {
        var b = new byte[1];
        Assert.Equal(UserFault.None, k.UserRead(pid, addr, b));
        return b[0];
    }

    private static void Store(ReferenceKernel k, int pid, ulong addr, byte value) =>
        Assert.Equal(UserFault.None, k.UserWrite(pid, addr, [value]));

    [Fact]
    public void TopDownPlacement_PutsTheFirstMappingJustBelowTheStackGap_AndTheNextBelowIt()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0);
        Assert.Equal(TaskSize - StackGap - Page, a);
        Assert.Equal(a - 2 * Page, (ulong)_k.Mmap(p, 0, 2 * Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void TopDownPlacement_WithNoRoomBelowTheStackGap_FallsBackToTheLowestHoleAboveIt()
    {
        int p = _k.CreateProcess();
        ulong gapStart = TaskSize - StackGap;
        Assert.Equal((long)MmapMinAddr, _k.Mmap(p, MmapMinAddr, gapStart - MmapMinAddr, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Assert.Equal((long)gapStart, _k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void BottomUpPlacement_StartsAtATaskSizeThird_AndTakesTheLowestHoleThatFits()
    {
        using var k = KernelWith(UserSpacePolicy.Default with { Layout = MmapLayout.BottomUp });
        int p = k.CreateProcess();
        ulong b = (TaskSize / 3) & ~(ulong)(Page - 1);
        // A mapping below the base is passed over.
        Assert.Equal((long)Window, k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Assert.Equal((long)b, k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)(b + Page), k.Mmap(p, 0, 2 * Page, Rw, PrivAnon, -1, 0));
        // A one-page hole at the base: too small for two pages, exactly right for one.
        Assert.Equal(0, k.Munmap(p, b, Page));
        Assert.Equal((long)(b + 3 * Page), k.Mmap(p, 0, 2 * Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)b, k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0));
        Assert.Equal((long)(b + 5 * Page), k.Mmap(p, 0, Page, Rw, PrivAnon, -1, 0));
    }

    [Fact]
    public void EagerForkCopy_GivesTheChildItsOwnCopies_AndLeavesTheParentsPagesWritable()
    {
        using var k = KernelWith(UserSpacePolicy.Default with { EagerForkCopy = true });
        int p = k.CreateProcess();
        ulong anon = (ulong)k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        int file = k.CreateFile(Page);
        k.WriteFile(file, 0, [7]);
        int fd = k.Open(p, file, OpenMode.ReadWrite);
        ulong priv = (ulong)k.Mmap(p, Window + 4 * Page, Page, Rw, MapFlags.Private | MapFlags.Fixed, fd, 0);
        ulong shared = (ulong)k.Mmap(p, Window + 6 * Page, Page, Rw, MapFlags.Shared | MapFlags.Fixed, fd, 0);
        Store(k, p, anon, 1);
        Store(k, p, anon + Page, 2);
        Assert.Equal(7, ReadByte(k, p, priv));                                  // a page-cache page, not yet copied
        Assert.Equal(7, ReadByte(k, p, shared));
        int child = k.Fork(p);
        Assert.True(child > 0);
        Assert.Equal(1, ReadByte(k, child, anon));                              // copied with the contents
        Assert.Equal(2, ReadByte(k, child, anon + Page));
        // Parent's anonymous pages stay its own and writable: no fault, and the child keeps the old value.
        long n = k.PageFaults(p);
        Store(k, p, anon, 9);
        Store(k, p, anon + Page, 9);
        Assert.Equal(n, k.PageFaults(p));
        Assert.Equal(1, ReadByte(k, child, anon));
        Assert.Equal(2, ReadByte(k, child, anon + Page));
        // The child's copies are writable too, and its stores stay its own.
        long c = k.PageFaults(child);
        Store(k, child, anon, 5);
        Assert.Equal(c, k.PageFaults(child));
        Assert.Equal(9, ReadByte(k, p, anon));
        // The private file page and the shared one still show the file, in both processes.
        k.WriteFile(file, 0, [8]);
        Assert.Equal(8, ReadByte(k, child, priv));
        Assert.Equal(8, ReadByte(k, child, shared));
        Assert.Equal(8, ReadByte(k, p, priv));
    }

    [Fact]
    public void GetUser_ReadsAReadOnlyMapping()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(0, _k.PutUser(p, a, 4, 0x01020304));
        Assert.Equal(0, _k.Mprotect(p, a, Page, Prot.Read));
        Assert.Equal(0, _k.GetUser(p, a, 4, out ulong v));
        Assert.Equal(0x01020304UL, v);
    }

    [Fact]
    public void PutUser_ToAReadOnlyPage_OrStraddlingIntoOne_FaultsAndStoresNothing()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Store(_k, p, a + Page - 2, 0x55);
        Store(_k, p, a + Page, 0x66);
        Assert.Equal(0, _k.Mprotect(p, a + Page, Page, Prot.Read));
        Assert.Equal(-Errno.EFAULT, _k.PutUser(p, a + Page, 4, 0xAABBCCDD));
        Assert.Equal(0x66, ReadByte(_k, p, a + Page));
        Assert.Equal(-Errno.EFAULT, _k.PutUser(p, a + Page - 2, 4, 0xAABBCCDD));
        Assert.Equal(0x55, ReadByte(_k, p, a + Page - 2));
        Assert.Equal(0x66, ReadByte(_k, p, a + Page));
    }

    [Fact]
    public void PutUser_OnACopyOnWritePage_CopiesIt_SoTheChildKeepsItsValue()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Assert.Equal(0, _k.PutUser(p, a, 4, 0x11111111));
        int child = _k.Fork(p);
        Assert.Equal(0, _k.PutUser(p, a, 4, 0x22222222));
        Assert.Equal(0, _k.GetUser(child, a, 4, out ulong v));
        Assert.Equal(0x11111111UL, v);
        Assert.Equal(0, _k.GetUser(p, a, 4, out v));
        Assert.Equal(0x22222222UL, v);
    }

    [Fact]
    public void NewestFirstSwapVictims_WriteOutTheMostRecentlyFaultedPagesFirst()
    {
        using var k = KernelWith(UserSpacePolicy.Default with { SwapVictims = SwapVictimOrder.NewestFirst });
        int p = k.CreateProcess();
        ulong a = (ulong)k.Mmap(p, Window, 3 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        for (int i = 0; i < 3; i++) Store(k, p, a + (ulong)(i * Page), (byte)(0x70 + i));
        Assert.Equal(2, k.SwapOut(2));
        long n = k.PageFaults(p);
        Assert.Equal(0x70, ReadByte(k, p, a));                                  // the oldest: still resident
        Assert.Equal(n, k.PageFaults(p));
        Assert.Equal(0x72, ReadByte(k, p, a + 2 * Page));                       // the two newest: back from swap
        Assert.Equal(0x71, ReadByte(k, p, a + Page));
        Assert.Equal(n + 2, k.PageFaults(p));
    }

    [Fact]
    public void Fork_GivesTheChildASlotOfItsOwnForEverySwappedOutPage_OnceEach_EvenTheFirstSlot()
    {
        int p = _k.CreateProcess();
        ulong a = (ulong)_k.Mmap(p, Window, 2 * Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        ulong b = (ulong)_k.Mmap(p, Window + 4 * Page, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0);
        Store(_k, p, a, 0x41);
        Store(_k, p, a + Page, 0x42);
        Assert.Equal((long)(Window + 8 * Page), _k.Mmap(p, Window + 8 * Page, Page, Rw, PrivAnon | MapFlags.Fixed, -1, 0));
        Store(_k, p, b, 0x43);
        Assert.Equal(3, _k.SwapOut(3));
        Assert.Equal(0x41, ReadByte(_k, p, a));                                 // the first slot is free again
        long swapFree = _k.SwapFreePages;
        int child = _k.Fork(p);
        Assert.True(child > 0);
        Assert.Equal(swapFree - 2, _k.SwapFreePages);                           // one slot of its own per swapped page
        Assert.Equal(0x42, ReadByte(_k, child, a + Page));
        Assert.Equal(0x43, ReadByte(_k, child, b));
        Assert.Equal(0x41, ReadByte(_k, child, a));
    }
}
