using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Reference.Mm;

/// <summary>
/// What every part of the user-memory code shares: the machine's frames and MMU, the anonymous
/// pages, the swap device, the placement policy, and the frame allocator user memory draws on
/// (alloc_page(GFP_HIGHUSER), which may reclaim and swap). One per booted machine.
/// </summary>
internal sealed class UserVm
{
    private readonly Func<int> _allocFrame;

    /// <param name="allocFrame">Takes one frame for user memory the way a page fault does (GFP_HIGHUSER: HIGHMEM allowed, may sleep and reclaim), or returns -1.</param>
    public UserVm(Profile profile, MemMap map, PhysicalMemory memory, PageAlloc pages, Mmu mmu, UserSpacePolicy policy, Func<int> allocFrame)
    {
        Profile = profile;
        PageSize = profile.PageSize;
        PageShift = profile.PageShift;
        Map = map;
        Memory = memory;
        Pages = pages;
        Mmu = mmu;
        Policy = policy;
        _allocFrame = allocFrame;
        TaskSize = profile.TaskSize;
        Anon = new AnonPages();
        // A swap device of a quarter of RAM, at most 64 MiB of pages: bounded, and small enough to fill.
        Swap = new SwapDevice((int)Math.Min(profile.TotalPages / 4, (64UL << 20) >> profile.PageShift), profile.PageSize);
    }

    public Profile Profile { get; }
    public int PageSize { get; }
    public int PageShift { get; }
    public MemMap Map { get; }
    public PhysicalMemory Memory { get; }
    public PageAlloc Pages { get; }
    public Mmu Mmu { get; }
    public UserSpacePolicy Policy { get; }
    /// <summary>TASK_SIZE: user space is [0, TaskSize).</summary>
    public ulong TaskSize { get; }
    public AnonPages Anon { get; }
    public SwapDevice Swap { get; }

    public ulong PageMask => ~((ulong)PageSize - 1);
    public bool IsAligned(ulong va) => (va & ((ulong)PageSize - 1)) == 0;
    /// <summary>PAGE_ALIGN: rounds up to a page multiple; 0 when it overflows (a length within a page of 2^64 wraps to below one page, which the mask makes 0).</summary>
    public ulong PageAlign(ulong length) => (length + (ulong)PageSize - 1) & PageMask;

    /// <summary>A frame for user memory, marked <see cref="PageState.User"/>, contents unspecified; -1 when none is left even after reclaim.</summary>
    public int AllocFrame()
    {
        int pfn = _allocFrame();
        if (pfn >= 0) Map.State[pfn] = PageState.User;
        return pfn;
    }

    /// <summary>Gives a user frame back to the page allocator.</summary>
    public void FreeFrame(int pfn) => Pages.Free(pfn, 0);

    /// <summary>copy_user_highpage: the whole of frame <paramref name="from"/> into frame <paramref name="to"/>.</summary>
    public void CopyFrame(int from, int to)
    {
        // Stryker disable once Conditional,Equality : a stack or a heap buffer of the same size: no test can tell them apart
        Span<byte> page = PageSize <= 8192 ? stackalloc byte[PageSize] : new byte[PageSize];
        Memory.Read(from, 0, page);
        Memory.Write(to, 0, page);
    }

    /// <summary>clear_user_highpage.</summary>
    public void ZeroFrame(int pfn) => Memory.Clear(pfn, 1);
}
