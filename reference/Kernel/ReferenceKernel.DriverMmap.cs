using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>IDriverMmap: character devices whose mmap method uses remap_pfn_range or vm_insert_page (Mm/CharDevice, Mm/DriverMapOps).</summary>
public sealed partial class ReferenceKernel : IDriverMmap
{
    public int RegisterRemapDevice(ulong pfn, long pages, long remapSize)
    {
        Alive();
        if (pages <= 0 || pfn >= (ulong)_map.Frames || (ulong)pages > (ulong)_map.Frames - pfn)
            throw new InvalidArgumentException("pfn", $"frames [0x{pfn:x}, +{pages}) are not RAM");
        if (remapSize < 0) throw new InvalidArgumentException("remapSize", $"negative size {remapSize}");
        return User.RegisterDevice(id => new RemapPfnDevice(id, pfn, pages, remapSize));
    }

    public int RegisterPageListDevice(IReadOnlyList<PageHandle> pages)
    {
        Alive();
        if (pages is null) throw new InvalidArgumentException("pages", "no page list");
        var pfns = new List<int>(pages.Count);
        foreach (var page in pages) pfns.Add(PfnOf(page));
        return User.RegisterDevice(id => new PageListDevice(id, pfns));
    }

    public DriverVma? LastMmap(int device) =>
        (User.DeviceOf(device) ?? throw new InvalidArgumentException("device", $"no device {device}")).LastVma;
}
