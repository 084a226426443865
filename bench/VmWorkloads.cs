using KernelMm.Conformance.Families.Vm;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// Kernel virtual memory workloads on the reference, through the contract (IKernelPageTables, ITlb,
/// IVmalloc), shared by <see cref="VmBenchmarks"/> and <c>--quick</c>.
/// </summary>
public static class VmWorkloads
{
    /// <summary>Pages of the area the translation workloads cycle over: few enough to stay in the 64-entry TLB.</summary>
    public const int Pages = 16;

    /// <summary>A booted kernel with one vmalloc area of <see cref="Pages"/> pages, and the address of each page (plus an in-page offset).</summary>
    public sealed class Area : IDisposable
    {
        public Area(Profile profile)
        {
            Kernel = new ReferenceKernel(profile);
            Start = Kernel.Vmalloc((long)Pages * profile.PageSize);
            Addresses = Enumerable.Range(0, Pages).Select(i => Start + (ulong)(i * profile.PageSize) + 0x18).ToArray();
            foreach (var a in Addresses) Kernel.TlbTranslate(a, Access.KernelRead); // fill the TLB
        }

        public ReferenceKernel Kernel { get; }
        public ulong Start { get; }
        public ulong[] Addresses { get; }
        public void Dispose() => Kernel.Dispose();
    }

    /// <summary>(j) translations through the TLB, every one a hit (the area's pages stay cached). Returns a checksum.</summary>
    public static ulong TlbHits(Area area, int translations)
    {
        ITlb tlb = area.Kernel;
        var addrs = area.Addresses;
        ulong sum = 0;
        for (int i = 0; i < translations; i++) sum += tlb.TlbTranslate(addrs[i & (Pages - 1)], Access.KernelRead).PhysicalAddress;
        return sum;
    }

    /// <summary>(k) page-table walks (IKernelPageTables.Translate: no TLB). Returns a checksum.</summary>
    public static ulong Walks(Area area, int walks)
    {
        IKernelPageTables kpt = area.Kernel;
        var addrs = area.Addresses;
        ulong sum = 0;
        for (int i = 0; i < walks; i++) sum += kpt.Translate(addrs[i & (Pages - 1)], Access.KernelRead).PhysicalAddress;
        return sum;
    }

    /// <summary>(l) vmalloc(64 KiB) + vfree, <paramref name="pairs"/> times on one kernel. Returns a checksum.</summary>
    public static ulong VmallocPairs(ReferenceKernel k, int pairs)
    {
        IVmalloc vm = k;
        ulong sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            ulong a = vm.Vmalloc(64 * 1024);
            vm.Vfree(a);
            sum += a;
        }
        return sum;
    }

    /// <summary>(m) one in-process property run of the vm family on x86-32/512M; returns checked operations.</summary>
    public static FamilyOutcome RunVmFamily(RunSettings settings) =>
        PropertyRunner.Run(new VmFamily(), new ReferenceFactory(), Workloads.Profile, settings, new HashSet<string>());
}
