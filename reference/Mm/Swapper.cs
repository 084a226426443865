using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// Swapping of anonymous user pages (mm/vmscan.c shrink_anon_list and mm/swap_state.c, reduced):
/// reclaim writes resident anonymous pages to the swap device and frees their frames; the next
/// access reads them back into a new frame (SWAP-1). Only anonymous pages mapped once are chosen;
/// kernel memory, page tables, file and shmem pages and driver pages are never on this list (SWAP-2).
/// </summary>
internal sealed class Swapper(UserVm vm)
{
    /// <summary>
    /// Set while an operation walks page tables it must not see change under it (fork): reclaim
    /// triggered by its own allocations then leaves user pages alone.
    /// </summary>
    public bool Suspended { get; set; }

    /// <summary>
    /// Writes up to <paramref name="max"/> anonymous pages whose frames lie in <paramref name="zones"/>
    /// (any zone when null) out to swap, in the policy's LRU order. Returns how many frames were freed.
    /// </summary>
    public int SwapOut(int max, IReadOnlyList<Zone>? zones)
    {
        if (Suspended || max <= 0) return 0;
        var victims = new List<AnonPage>();
        bool newestFirst = vm.Policy.SwapVictims == SwapVictimOrder.NewestFirst;
        for (var node = newestFirst ? vm.Anon.Lru.Last : vm.Anon.Lru.First; node is not null && victims.Count < max;
             node = newestFirst ? node.Previous : node.Next)
        {
            var page = node.Value;
            if (page.MapCount != 1) continue;
            if (zones is not null && !zones.Contains(vm.Pages.ZoneOf(page.Pfn).Id)) continue;
            victims.Add(page);
        }
        int done = 0;
        // Stryker disable once Conditional,Equality : a stack or a heap buffer of the same size: no test can tell them apart
        Span<byte> data = vm.PageSize <= 8192 ? stackalloc byte[vm.PageSize] : new byte[vm.PageSize];
        foreach (var page in victims)
        {
            vm.Memory.Read(page.Pfn, 0, data);
            int slot = vm.Swap.Store(data);
            if (slot < 0) break;
            var (mm, va) = page.Rmap[0];
            // try_to_unmap: the entry goes (and its TLB entry with it); the swap entry takes its place.
            vm.Mmu.UnmapUser(mm.Space, va);
            mm.SwapEntries[va >> vm.PageShift] = slot;
            vm.Anon.Remove(page);
            vm.FreeFrame(page.Pfn);
            done++;
        }
        return done;
    }

    /// <summary>do_swap_page: reads the page back into a new frame, maps it, frees the slot (SWAP-1).</summary>
    public UserFault SwapIn(MmStruct mm, Vma vma, ulong page, int slot)
    {
        int pfn = vm.AllocFrame();
        if (pfn < 0) return UserFault.OutOfMemory;
        // Stryker disable once Conditional,Equality : a stack or a heap buffer of the same size: no test can tell them apart
        Span<byte> data = vm.PageSize <= 8192 ? stackalloc byte[vm.PageSize] : new byte[vm.PageSize];
        vm.Swap.Load(slot, data);
        vm.Memory.Write(pfn, 0, data);
        if (!vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable: true)))
        {
            vm.FreeFrame(pfn);
            return UserFault.OutOfMemory;
        }
        vm.Anon.Add(pfn, mm, page);
        mm.SwapEntries.Remove(page >> vm.PageShift);
        vm.Swap.Release(slot);
        return UserFault.None;
    }
}
