using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The user side of the page-fault handler (mm/memory.c: handle_mm_fault and its cases), and the
/// user-mode accesses that reach it: an access the MMU refuses comes here, is checked against the
/// mapping (no vma: SEGV_MAPERR; a protection that forbids it: SEGV_ACCERR), and a legal one is
/// resolved (ADDR-6): a fresh anonymous page (zero-filled, MMAP-5), a file page (shared: the file's
/// own frame, MMAP-7), a copy-on-write copy, or a page read back from swap (SWAP-1).
/// </summary>
internal sealed class PageFaults(UserVm vm, Swapper swapper)
{
    /// <summary>
    /// A user-mode access of the page holding <paramref name="va"/> by <paramref name="mm"/>'s code:
    /// through the MMU (TLB, then the tables), faulting the page in when needed. On success
    /// <paramref name="pa"/> is the physical address of va.
    /// </summary>
    public UserFault Access(MmStruct mm, ulong va, bool write, out ulong pa)
    {
        var access = write ? Spec.Contract.Access.UserWrite : Spec.Contract.Access.UserRead;
        vm.Mmu.Current = mm.Space;
        var t = vm.Mmu.Translate(va, access);
        if (t.Fault == TranslationFault.None) { pa = t.PhysicalAddress; return UserFault.None; }
        pa = 0;
        // ADDR-9: user mode never reaches an address at or above TASK_SIZE, mapped or not.
        if (va >= vm.TaskSize) return UserFault.MapError;
        var fault = Handle(mm, va, write);
        if (fault != UserFault.None) return fault;
        vm.Mmu.Current = mm.Space;
        t = vm.Mmu.Translate(va, access);
        if (t.Fault != TranslationFault.None) throw new InvalidOperationException($"the fault at 0x{va:x} was resolved but the page still translates as {t}");
        pa = t.PhysicalAddress;
        return UserFault.None;
    }

    /// <summary>handle_mm_fault for a user address below TASK_SIZE.</summary>
    public UserFault Handle(MmStruct mm, ulong va, bool write)
    {
        ulong page = va & vm.PageMask;
        var vma = mm.Find(va);
        // ADDR-6, MMAP-8: no mapping covers the address: the fault is an error for the process.
        if (vma is null) { mm.MinorFaults++; return UserFault.MapError; }
        // MMAP-6: the mapping's protection is checked on every access.
        if (!vma.Allows(write)) { mm.MinorFaults++; return UserFault.AccessError; }
        var walk = mm.Table.Walk(page);
        if (walk.Present) { mm.MinorFaults++; return write ? DoWpPage(mm, vma, page, (int)walk.Pfn) : Refresh(mm, vma, page, (int)walk.Pfn); }
        // SWAP-1: a page written out to swap comes back on its next access.
        if (mm.SwapEntries.TryGetValue(page >> vm.PageShift, out int slot))
        {
            mm.MajorFaults++;
            return swapper.SwapIn(mm, vma, page, slot);
        }
        mm.MinorFaults++;
        return vma.Backing switch
        {
            // A device page the driver did not map: SIGBUS, as for a VM_PFNMAP area without a fault handler.
            VmaBacking.Device => UserFault.Bus,
            VmaBacking.File => FilePage(mm, vma, page, write),
            _ => AnonymousPage(mm, vma, page),
        };
    }

    /// <summary>do_anonymous_page: a zero-filled page of its own (MMAP-5).</summary>
    private UserFault AnonymousPage(MmStruct mm, Vma vma, ulong page)
    {
        int pfn = vm.AllocFrame();
        if (pfn < 0) return UserFault.OutOfMemory;
        vm.ZeroFrame(pfn);
        return MapAnon(mm, vma, page, pfn);
    }

    /// <summary>do_read_fault / do_shared_fault / do_cow_fault for a page of a file or shmem object.</summary>
    private UserFault FilePage(MmStruct mm, Vma vma, ulong page, bool write)
    {
        var file = vma.File!;
        long index = vma.PageIndex(page, vm.PageShift);
        // A page wholly past the end of the file: SIGBUS.
        if (index >= file.PageCount) return UserFault.Bus;
        int pfn = file.PageFrame(index);
        if (pfn < 0) return UserFault.OutOfMemory;
        // MMAP-7: a shared mapping maps the file's own frame, so every mapping and the file see a store.
        if (vma.Shared)
            return vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable: true)) ? UserFault.None : UserFault.OutOfMemory;
        // MMAP-7: a private mapping copies the page on its first store and never writes it back.
        if (write) return CopyOnWrite(mm, vma, page, pfn);
        return vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable: false)) ? UserFault.None : UserFault.OutOfMemory;
    }

    /// <summary>do_wp_page: a store to a write-protected entry of a writable mapping.</summary>
    private UserFault DoWpPage(MmStruct mm, Vma vma, ulong page, int pfn)
    {
        var anon = vm.Anon.Get(pfn);
        bool exclusive = vma.Shared || vma.Backing == VmaBacking.Device || anon is { MapCount: 1 };
        // wp_page_reuse: nobody else maps the page: it simply becomes writable.
        if (exclusive)
            return vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable: true)) ? UserFault.None : UserFault.OutOfMemory;
        return CopyOnWrite(mm, vma, page, pfn);
    }

    /// <summary>A present entry faulted on a read: its rights are stale against the vma (cannot happen after mprotect's update, kept for safety).</summary>
    private UserFault Refresh(MmStruct mm, Vma vma, ulong page, int pfn)
    {
        var anon = vm.Anon.Get(pfn);
        bool writable = vma.Shared || vma.Backing == VmaBacking.Device || anon is { MapCount: 1 };
        return vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable)) ? UserFault.None : UserFault.OutOfMemory;
    }

    /// <summary>wp_page_copy: a private copy of frame <paramref name="from"/> replaces this mapping of it (ADDR-4, MMAP-7).</summary>
    private UserFault CopyOnWrite(MmStruct mm, Vma vma, ulong page, int from)
    {
        int pfn = vm.AllocFrame();
        if (pfn < 0) return UserFault.OutOfMemory;
        vm.CopyFrame(from, pfn);
        if (vm.Anon.Get(from) is { } old) old.Rmap.Remove((mm, page));
        return MapAnon(mm, vma, page, pfn);
    }

    /// <summary>Maps a new anonymous page of <paramref name="mm"/> (page_add_new_anon_rmap + set_pte_at), writable when the mapping is.</summary>
    public UserFault MapAnon(MmStruct mm, Vma vma, ulong page, int pfn)
    {
        if (!vm.Mmu.MapUser(mm.Space, page, (ulong)pfn, PteRights.For(vma.Prot, writable: true)))
        {
            vm.FreeFrame(pfn);
            return UserFault.OutOfMemory;
        }
        vm.Anon.Add(pfn, mm, page);
        return UserFault.None;
    }
}
