using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>ISwap: the swap device behind anonymous user pages (Mm/SwapDevice, Mm/Swapper).</summary>
public sealed partial class ReferenceKernel : ISwap
{
    public long SwapTotalPages => User.Vm.Swap.Total;

    public long SwapFreePages => User.Vm.Swap.Free;

    public int SwapOut(int pages)
    {
        Alive();
        if (pages < 0) throw new InvalidArgumentException("pages", $"negative page count {pages}");
        // GFP-1: reclaim may sleep.
        _sched.MightSleep("swap out (shrink_anon_list)");
        int done = User.Swapper.SwapOut(pages, zones: null);
        if (done > 0) _sched.Sleep();
        return done;
    }

    /// <summary>Anonymous pages reclaim could write out: those mapped once (pages shared copy-on-write after fork stay resident).</summary>
    public long AnonPages(Zone zone)
    {
        Alive();
        CheckZone(zone, "anon pages");
        long n = 0;
        foreach (var page in User.Vm.Anon.Lru)
            if (page.MapCount == 1 && _pages.ZoneOf(page.Pfn).Id == zone) n++;
        return n;
    }
}
