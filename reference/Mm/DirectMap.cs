using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The kernel's linear mapping of low memory (ADDR-10): VA = PA + PAGE_OFFSET for RAM below
/// min(RAM, HIGHMEM start). __va, __pa, virt_to_pfn.
/// </summary>
internal sealed class DirectMap(Profile profile)
{
    public readonly ulong PageOffset = profile.PageOffset;
    public readonly ulong LowEnd = profile.LowMemoryEnd;
    public readonly int PageShift = profile.PageShift;
    public readonly int LowPfnEnd = (int)(profile.LowMemoryEnd >> profile.PageShift);

    public bool IsLowPfn(int pfn) => pfn < LowPfnEnd;

    /// <summary>__va(pfn &lt;&lt; PAGE_SHIFT).</summary>
    public ulong PfnToVirt(int pfn) => PageOffset + ((ulong)pfn << PageShift);

    /// <summary>Whether addr lies in the direct mapping of existing low memory.</summary>
    public bool Contains(ulong addr) => addr >= PageOffset && addr - PageOffset < LowEnd;

    /// <summary>__pa(addr); only valid when <see cref="Contains"/>.</summary>
    public ulong VirtToPhys(ulong addr) => addr - PageOffset;
}
