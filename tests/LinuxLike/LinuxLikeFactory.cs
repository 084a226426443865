using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.HeapVariants;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.LinuxLike;

/// <summary>
/// A second correct implementation that keeps Linux's own choices where the documents leave them
/// open (issue 7, section 5), assembled from the two independently written variants:
/// <list type="bullet">
/// <item>pages: <see cref="TreeKernel"/> with per-zone min watermarks as /proc/zoneinfo shows them,
/// GFP_ATOMIC allowed below min but never to the last pages, and lowmem_reserve protecting the
/// lower zones from fallback (<see cref="LinuxWatermarks"/>);</item>
/// <item>heap: <see cref="ListHeapKernel"/> with SLUB's class table from 8 bytes (8, 16, 32, 64, 96,
/// 128, 192, 256, ... two pages), kmalloc(0) per profile (ZERO_SIZE_PTR on linux-6, a smallest-class
/// object elsewhere) and krealloc in place whenever the object is big enough, whatever the flags
/// (<see cref="HeapChoices.Slub"/>).</item>
/// </list>
/// It declares all of it through the contract, and must pass the suite clean on every profile.
/// </summary>
public sealed class LinuxLikeFactory(HeapFault heapFault = HeapFault.None, Fault pageFault = Fault.None) : IImplementationFactory
{
    public string Name => "linux-like" + (heapFault != HeapFault.None ? $"/{heapFault}" : pageFault != Fault.None ? $"/{pageFault}" : "");

    public IMemoryManager? Create(Profile profile) =>
        new ListHeapKernel(profile, heapFault, HeapChoices.Slub(profile), new TreeKernel(profile, pageFault, linuxWatermarks: true));
}
