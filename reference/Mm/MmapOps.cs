using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// mmap, munmap and mprotect (mm/mmap.c, mm/vma.c, mm/mprotect.c), with Linux's argument checks
/// and errno values, which the live kernel confirmed (the decisions beside MMAP-1..10).
/// </summary>
internal sealed class MmapOps(UserVm vm, PageRanges ranges, DriverMapOps driver)
{
    /// <summary>mmap_min_addr: the lowest address mmap picks by itself (64 KiB, Linux's default).</summary>
    public const ulong MmapMinAddr = 0x10000;
    /// <summary>The gap below TASK_SIZE kept for the stack: mmap_base = TASK_SIZE - 128 MiB (mm/util.c MIN_GAP).</summary>
    public const ulong StackGap = 128UL << 20;

    /// <summary>
    /// file_mmap_ok: pages [pgoff, pgoff + len) lie below the largest offset of the file: MAX_LFS_FILESIZE for a
    /// regular file (LLONG_MAX on 64-bit, ULONG_MAX pages on 32-bit), ULONG_MAX for a character device.
    /// </summary>
    private bool FileRangeOk(OpenFile file, ulong pgoff, ulong len)
    {
        ulong max = file.Device is not null ? ulong.MaxValue
            : vm.Profile.WordSize == 8 ? long.MaxValue : (ulong)uint.MaxValue << vm.PageShift;
        return len <= max && pgoff <= (max - len) >> vm.PageShift;
    }

    /// <summary>do_mmap. Returns the address, or a negated errno with nothing changed.</summary>
    public long Mmap(Task task, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset)
    {
        var mm = task.Mm;
        // MMAP-2: the offset is a page multiple (the syscall checks it before anything else).
        if ((offset & (vm.PageSize - 1)) != 0) return -Errno.EINVAL;
        bool anonymous = (flags & MapFlags.Anonymous) != 0;
        OpenFile? file = null;
        if (!anonymous && (file = task.Get(fd)) is null) return -Errno.EBADF;
        // MMAP-1: only a length of 0 is invalid; any other is rounded up to whole pages.
        if (length == 0) return -Errno.EINVAL;
        ulong len = vm.PageAlign(length);
        if (len == 0) return -Errno.ENOMEM;
        // An offset whose page number plus the length wraps around (the offset is the syscall's unsigned long).
        ulong pgoff = (ulong)offset >> vm.PageShift, pages = len >> vm.PageShift;
        if (pgoff + pages < pgoff) return -Errno.EOVERFLOW;

        // MMAP-4: MAP_FIXED exactly at addr or fail; otherwise addr is a hint.
        bool fixedAddr = (flags & MapFlags.Fixed) != 0;
        long start = GetUnmappedArea(mm, addr, len, fixedAddr);
        if (start < 0) return start;

        // MMAP-2: a file range must end within the largest offset the file can have (file_mmap_ok): a negative
        // offset, or one whose range passes MAX_LFS_FILESIZE, is -EOVERFLOW. Anonymous mappings ignore the
        // offset (the live kernel maps a page-aligned negative one).
        if (file is not null && !FileRangeOk(file, pgoff, len)) return -Errno.EOVERFLOW;

        // MMAP-3: exactly one of MAP_SHARED and MAP_PRIVATE (both: MAP_SHARED_VALIDATE where the profile has it, files only).
        bool shared;
        switch (flags & MapFlags.SharedValidate)
        {
            case MapFlags.Shared: shared = true; break;
            case MapFlags.Private: shared = false; break;
            case MapFlags.SharedValidate when !anonymous && vm.Profile.MapSharedValidate: shared = true; break;
            default: return -Errno.EINVAL;
        }
        bool mayWrite = true;
        if (file is not null)
        {
            // The descriptor's mode must allow the mapping: readable always, writable for a shared writable one.
            if (shared && (prot & Prot.Write) != 0 && !file.CanWrite) return -Errno.EACCES;
            if (!file.CanRead) return -Errno.EACCES;
            // MMAP-10: a device whose driver has no mmap method cannot be mapped.
            if (file.Device is { HasMmap: false }) return -Errno.ENODEV;
            mayWrite = !shared || file.CanWrite;
        }

        ulong end = (ulong)start + len;
        // MMAP-4: MAP_FIXED replaces whatever the range held.
        if (fixedAddr) Unmap(mm, (ulong)start, end);
        var vma = new Vma
        {
            Start = (ulong)start, End = end, Prot = prot, Shared = shared, MayWrite = mayWrite,
            Backing = anonymous ? (shared ? VmaBacking.File : VmaBacking.Anonymous) : file!.Device is not null ? VmaBacking.Device : VmaBacking.File,
            // MMAP-5: MAP_SHARED | MAP_ANONYMOUS is backed by a shmem object of its own (shmem_zero_setup).
            File = anonymous ? (shared ? ShmemFile.CreateAnonymous(vm, (long)len) : null) : file!.File,
            Device = anonymous ? null : file!.Device,
            PgOff = anonymous ? 0 : (long)pgoff,
        };
        Insert(mm, vma);
        if (vma.Device is { } device)
        {
            // DRV-1: the driver's mmap method gets the vma and fills its page tables; its error is mmap's.
            int error = device.Mmap(driver, mm, vma);
            if (error != 0)
            {
                ranges.Zap(mm, vma.Start, vma.End);
                Remove(mm, vma);
                return error;
            }
        }
        return start;
    }

    /// <summary>get_unmapped_area: the start of a free range of len bytes, or a negated errno.</summary>
    public long GetUnmappedArea(MmStruct mm, ulong addr, ulong len, bool fixedAddr)
    {
        ulong task = vm.TaskSize;
        if (len > task) return -Errno.ENOMEM;
        if (fixedAddr)
        {
            // ADDR-9: a fixed range must lie wholly below TASK_SIZE.
            if (addr > task - len) return -Errno.ENOMEM;
            if (!vm.IsAligned(addr)) return -Errno.EINVAL;
            return (long)addr;
        }
        // MMAP-4: a hint is honoured when the range there is free (rounded down to a page).
        if (addr != 0)
        {
            ulong hint = addr & vm.PageMask;
            if (hint >= MmapMinAddr && hint <= task - len && mm.IsFree(hint, hint + len)) return (long)hint;
        }
        ulong found = vm.Policy.Layout == MmapLayout.TopDown
            ? TopDown(mm, len, task > StackGap * 2 ? task - StackGap : task) ?? BottomUp(mm, len, MmapMinAddr) ?? 0
            : BottomUp(mm, len, task / 3 & vm.PageMask) ?? TopDown(mm, len, task) ?? 0;
        return found == 0 ? -Errno.ENOMEM : (long)found;
    }

    /// <summary>The highest free range of len bytes ending at or below <paramref name="ceiling"/>.</summary>
    private ulong? TopDown(MmStruct mm, ulong len, ulong ceiling)
    {
        ulong hi = ceiling;
        for (int i = mm.Vmas.Count - 1; i >= -1; i--)
        {
            ulong lo = i >= 0 ? mm.Vmas[i].End : MmapMinAddr;
            if (i >= 0 && mm.Vmas[i].Start >= hi) continue;
            if (hi >= lo && hi - lo >= len) return hi - len;
            if (i >= 0) hi = Math.Min(hi, mm.Vmas[i].Start);
        }
        return null;
    }

    /// <summary>The lowest free range of len bytes starting at or above <paramref name="floor"/>.</summary>
    private ulong? BottomUp(MmStruct mm, ulong len, ulong floor)
    {
        ulong lo = Math.Max(floor, MmapMinAddr);
        foreach (var vma in mm.Vmas)
        {
            if (vma.End <= lo) continue;
            if (vma.Start >= lo && vma.Start - lo >= len) return lo;
            lo = Math.Max(lo, vma.End);
        }
        return lo <= vm.TaskSize && vm.TaskSize - lo >= len ? lo : null;
    }

    /// <summary>munmap. Returns 0 or -EINVAL.</summary>
    public int Munmap(MmStruct mm, ulong addr, ulong length)
    {
        // MMAP-8: an unaligned start, or a range leaving user space, is refused.
        if (!vm.IsAligned(addr) || addr > vm.TaskSize || length > vm.TaskSize - addr) return -Errno.EINVAL;
        ulong len = vm.PageAlign(length);
        if (len == 0) return -Errno.EINVAL;
        Unmap(mm, addr, addr + len);
        return 0;
    }

    /// <summary>do_vmi_munmap: removes [start, end) from every mapping it touches, splitting those it cuts (MMAP-8).</summary>
    public void Unmap(MmStruct mm, ulong start, ulong end)
    {
        foreach (var vma in mm.Overlapping(start, end))
        {
            ulong from = Math.Max(start, vma.Start), to = Math.Min(end, vma.End);
            ranges.Zap(mm, from, to);
            // MMAP-8: a partial munmap leaves the parts outside the range mapped, as mappings of their own
            // (added before the old one goes, so that a shmem object never drops to no mapping meanwhile).
            if (vma.Start < from) Insert(mm, vma.Slice(vma.Start, from, vm.PageShift));
            if (to < vma.End) Insert(mm, vma.Slice(to, vma.End, vm.PageShift));
            Remove(mm, vma);
        }
    }

    /// <summary>mprotect. Returns 0 or a negated errno; a refused call changes nothing.</summary>
    public int Mprotect(MmStruct mm, ulong addr, ulong length, Prot prot)
    {
        if (!vm.IsAligned(addr)) return -Errno.EINVAL;
        if (length == 0) return 0;
        ulong len = vm.PageAlign(length), end = addr + len;
        if (len == 0 || end <= addr) return -Errno.ENOMEM;
        if ((prot & ~(Prot.Read | Prot.Write | Prot.Exec)) != 0) return -Errno.EINVAL;
        // Every page of the range must be mapped; the reference checks the whole range first, so a
        // refused call changes nothing (Linux may have changed the mappings before the hole).
        var vmas = mm.Overlapping(addr, end);
        ulong covered = addr;
        foreach (var vma in vmas)
        {
            if (vma.Start > covered) return -Errno.ENOMEM;
            covered = vma.End;
        }
        if (covered < end) return -Errno.ENOMEM;
        // PROT_WRITE on a shared mapping of a descriptor opened read-only (no VM_MAYWRITE).
        if ((prot & Prot.Write) != 0 && vmas.Any(v => !v.MayWrite)) return -Errno.EACCES;
        foreach (var vma in vmas)
        {
            ulong from = Math.Max(addr, vma.Start), to = Math.Min(end, vma.End);
            // MMAP-6: the part inside the range becomes a mapping of its own with the new protection.
            if (vma.Start < from) Insert(mm, vma.Slice(vma.Start, from, vm.PageShift));
            var middle = vma.Slice(from, to, vm.PageShift);
            middle.Prot = prot;
            Insert(mm, middle);
            if (to < vma.End) Insert(mm, vma.Slice(to, vma.End, vm.PageShift));
            Remove(mm, vma);
            ranges.ChangeProtection(mm, middle, from, to);
        }
        return 0;
    }

    /// <summary>Adds a mapping; it holds a reference on its shmem object.</summary>
    public void Insert(MmStruct mm, Vma vma)
    {
        mm.Insert(vma);
        if (vma.File is { } file) file.Mappings++;
    }

    /// <summary>Removes a mapping; an anonymous shmem object whose last mapping goes gives its frames back.</summary>
    public void Remove(MmStruct mm, Vma vma)
    {
        mm.Remove(vma);
        if (vma.File is { } file && --file.Mappings == 0 && file.Anonymous) file.Release();
    }
}
