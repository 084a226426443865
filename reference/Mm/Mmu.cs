using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// One address space as the MMU sees it (a process's mm): its page tables and its ASID. Kernel
/// addresses are not in <see cref="Table"/>: the MMU translates them through the kernel's tables.
/// </summary>
internal sealed class AddressSpace(PageTable table, int asid)
{
    /// <summary>The user half's page tables (mm->pgd).</summary>
    public PageTable Table { get; } = table;
    /// <summary>The TLB tag of this address space (0 and up; <see cref="Tlb.Global"/> is the kernel's).</summary>
    public int Asid { get; } = asid;
}

/// <summary>
/// The MMU of the simulated CPU: translation through the <see cref="Tlb"/>, then the page tables,
/// and the kernel's helpers that change a mapping and keep the TLB coherent with it (ADDR-8).
/// </summary>
/// <remarks>
/// <para>Two roots, as ARM's TTBR1/TTBR0 (or x86 with the kernel half shared by every pgd):
/// addresses at or above <see cref="UserLimit"/> (PAGE_OFFSET) are translated through the kernel's
/// tables, whose TLB entries are global; addresses below it through the current address space's
/// tables, whose entries carry its ASID. Switching address spaces therefore flushes nothing, and a
/// process's tables never need a copy of the kernel's entries.</para>
/// <para>Every helper that removes or replaces a mapping flushes that page from the TLB before it
/// returns, so no caller can see a stale translation; helpers that only add a mapping flush nothing
/// (a not-present entry is never cached).</para>
/// </remarks>
internal sealed class Mmu(PageTable kernel, Tlb tlb, ulong userLimit)
{
    private readonly int _pageShift = kernel.Format.PageShift;

    /// <summary>The kernel's page tables (swapper_pg_dir).</summary>
    public PageTable Kernel { get; } = kernel;
    public Tlb Tlb { get; } = tlb;
    /// <summary>The lowest kernel address (PAGE_OFFSET): below it, user space.</summary>
    public ulong UserLimit { get; } = userLimit;
    /// <summary>The address space of the task running now (switch_mm), or null for a kernel thread.</summary>
    public AddressSpace? Current { get; set; }

    // ---- Translation ------------------------------------------------------------------------

    /// <summary>The CPU's translation of <paramref name="va"/>: the TLB, else a walk that fills it when the entry is present.</summary>
    public Translation Translate(ulong va, Access access)
    {
        bool kernelHalf = va >= UserLimit;
        int asid = kernelHalf ? Tlb.Global : Current?.Asid ?? 0;
        if (Tlb.TryLookup(va, asid, out ulong pfn, out var rights))
        {
            // The hit path: the MMU's rights check on the cached entry.
            if (access.IsUser() && (rights & PteFlags.User) == 0) return Translation.Faulted(TranslationFault.UserAccessToKernel);
            if (access.IsWrite() && (rights & PteFlags.Writable) == 0) return Translation.Faulted(TranslationFault.Protection);
            return Translation.Mapped(pfn << _pageShift | (va & ((1UL << _pageShift) - 1)));
        }
        var table = kernelHalf ? Kernel : Current?.Table;
        var walk = table?.Walk(va) ?? PageWalk.NotPresent;
        if (walk.Present) Tlb.Fill(va, asid, walk.Pfn, walk.Rights);
        return walk.Check(va, access, _pageShift);
    }

    /// <summary>The walk alone, as the page-fault handler or a debugger reads the tables: no TLB.</summary>
    public Translation Walk(ulong va, Access access) => WalkOf(va).Check(va, access, _pageShift);

    /// <summary>The walk of <paramref name="va"/> in whichever tables cover it.</summary>
    public PageWalk WalkOf(ulong va)
    {
        var table = va >= UserLimit ? Kernel : Current?.Table;
        return table?.Walk(va) ?? PageWalk.NotPresent;
    }

    // ---- Kernel mappings (init_mm) ----------------------------------------------------------

    /// <summary>Maps one kernel page (set_pte_at on init_mm). A replaced mapping is flushed.</summary>
    public bool MapKernel(ulong va, ulong pfn, PteFlags flags)
    {
        bool replacing = Kernel.Walk(va).Present;
        if (!Kernel.Map(va, pfn, flags)) return false;
        if (replacing) Tlb.FlushPage(va, Tlb.Global);
        return true;
    }

    /// <summary>
    /// Maps one page of a kernel range known to be unmapped (a fresh vmalloc or ioremap range:
    /// its last user unmapped and flushed it), skipping the look for an entry to replace.
    /// </summary>
    public bool MapKernelFresh(ulong va, ulong pfn, PteFlags flags) => Kernel.Map(va, pfn, flags);

    /// <summary>Unmaps one kernel page and flushes it; returns the old entry (0 when none).</summary>
    public ulong UnmapKernel(ulong va)
    {
        ulong old = Kernel.Unmap(va);
        if (old != 0) Tlb.FlushPage(va, Tlb.Global);
        return old;
    }

    /// <summary>
    /// vunmap_range: unmaps every kernel page of [start, end), flushes the range
    /// (flush_tlb_kernel_range), and, when <paramref name="freeTables"/>, gives back the tables it
    /// emptied. Returns how many table frames went back.
    /// </summary>
    public int UnmapKernelRange(ulong start, ulong end, bool freeTables)
    {
        ulong page = 1UL << _pageShift;
        for (ulong va = start; va < end; va += page) Kernel.Unmap(va);
        Tlb.FlushKernelRange(start, end);
        return freeTables ? Kernel.FreeEmptyTables(start, end) : 0;
    }

    // ---- User mappings (a process's mm) -------------------------------------------------------

    /// <summary>Maps one user page in <paramref name="space"/>. A replaced mapping is flushed from that ASID.</summary>
    public bool MapUser(AddressSpace space, ulong va, ulong pfn, PteFlags flags)
    {
        bool replacing = space.Table.Walk(va).Present;
        if (!space.Table.Map(va, pfn, flags)) return false;
        if (replacing) Tlb.FlushPage(va, space.Asid);
        return true;
    }

    /// <summary>Unmaps one user page of <paramref name="space"/> and flushes it from that ASID; returns the old entry (0 when none).</summary>
    public ulong UnmapUser(AddressSpace space, ulong va)
    {
        ulong old = space.Table.Unmap(va);
        if (old != 0) Tlb.FlushPage(va, space.Asid);
        return old;
    }

    /// <summary>
    /// Tears an address space down (exit_mmap): flushes its ASID and gives back every table frame.
    /// The frames its leaves map are the caller's to release first (<see cref="PageTable.Leaves"/>).
    /// </summary>
    public void DestroyUser(AddressSpace space)
    {
        Tlb.FlushAsid(space.Asid);
        if (Current == space) Current = null;
        space.Table.Destroy();
    }
}
