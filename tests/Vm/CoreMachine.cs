using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// The reference's memory subsystems without the kernel facade: mem_map, RAM and the buddy
/// allocator, plus page-table pages taken from it. For tests of the page-table and TLB core.
/// </summary>
internal sealed class CoreMachine : IDisposable
{
    private static readonly Zone[] LowZones = [Zone.Normal, Zone.Dma];

    public CoreMachine(Profile profile)
    {
        Profile = profile;
        int frames = checked((int)profile.TotalPages);
        Map = MemMap.Rent(frames);
        Memory = new PhysicalMemory(frames, profile.PageSize);
        Pages = new PageAlloc(profile, Map, Memory);
        Format = new PageTableFormat(profile);
        Frames = new PageAllocatorTableFrames(Map, Pages, Memory, () =>
        {
            int pfn = Pages.GetPageFromFreelist(LowZones, 0, mayUseReserve: true);
            if (pfn >= 0) Pages.Zero(pfn, 0);
            return pfn;
        });
    }

    public Profile Profile { get; }
    public MemMap Map { get; }
    public PhysicalMemory Memory { get; }
    public PageAlloc Pages { get; }
    public PageTableFormat Format { get; }
    public PageAllocatorTableFrames Frames { get; }

    public long FreePages => Zones.All.Sum(z => Enumerable.Range(0, Profile.MaxOrder + 1).Sum(o => Pages.FreeBlocks(z, o) << o));

    public PageTable NewTable(PteFlags tableFlags = PteFlags.UserTable) => PageTable.Create(Format, Frames, tableFlags)!;

    public void Dispose() => Map.Return();
}
