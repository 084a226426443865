using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.User;

/// <summary>
/// The frame range a remap_pfn_range device is registered with must lie wholly in RAM: the edges of
/// that check (an empty range, the last frame, one frame past it, a length that wraps), which the
/// generated user campaigns never reach (found by the whole-reference mutation run, docs/mutation.md).
/// </summary>
public class DriverMmapArgumentTests
{
    [Fact]
    public void RemapDevice_TakesExactlyTheRangesThatLieInRam()
    {
        using var k = new ReferenceKernel(Profiles.X86_32.WithMemory(64UL << 20));
        ulong frames = (ulong)k.Profile.TotalPages;
        // Inside RAM, up to and including the last frame: accepted, each a new device.
        int last = k.RegisterRemapDevice(frames - 1, 1, 0);
        int lastTwo = k.RegisterRemapDevice(frames - 2, 2, 0);
        int first = k.RegisterRemapDevice(0, 1, 0);
        Assert.Equal(3, new[] { last, lastTwo, first }.Distinct().Count());
        // Empty, past the end, reaching one frame past the end, wrapping: refused.
        foreach (var (pfn, pages) in new (ulong, long)[]
                 {
                     (0, 0), (0, -1), (frames, 1), (frames + 1, 1), (frames - 2, 3), (frames - 1, 2),
                     (1, (long)frames), (ulong.MaxValue, 1), (1, long.MaxValue), (frames - 1, long.MaxValue),
                 })
        {
            var e = Assert.Throws<InvalidArgumentException>(() => k.RegisterRemapDevice(pfn, pages, 0));
            Assert.Equal("pfn", e.Parameter);
        }
        Assert.Equal("remapSize", Assert.Throws<InvalidArgumentException>(() => k.RegisterRemapDevice(0, 1, -1)).Parameter);
    }
}
