using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>
/// MMAP: user-space mappings (mmap, munmap, mprotect). Inventory: shared/RULES.md. Checked by the
/// user family; where the documents are silent, the live Linux kernel of the machine was the
/// tie-breaker (probes of Linux 6.18 on x86-64, and the suite's run against it: examples/live-linux).
/// </summary>
public static class MmapRules
{
    private static readonly Capability[] User = [Capability.UserMemory];

    /// <summary>The MMAP rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "MMAP-1",
            Family = RuleFamily.MMAP,
            Statement = "User mappings are made of whole pages: a mapping starts on a page boundary and its length is rounded "
                + "up to a multiple of PAGE_SIZE.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "After mmap of n bytes, the last byte of the last page (past n) can be read (zero for anonymous memory), and, "
                + "for a mapping placed in the user window, the page after it faults; mmap of length 0 fails with -EINVAL and maps "
                + "nothing. A file mapping's pages wholly past the end of the file raise SIGBUS, the bytes past the end in its "
                + "last page read zero.",
            Decision = "Only a length of 0 is invalid (-EINVAL); a length that overflows when rounded up fails with -ENOMEM (Linux "
                + "6.18 on x86-64). The 'page after it is unmapped' part is checked only inside the profile's user window, where "
                + "the suite knows nothing else is mapped (a real process has libraries next to the kernel's choices). Pages of a "
                + "file mapping wholly past the end of the file raise SIGBUS (BUS_ADRERR), as Linux does; the suite attributes a "
                + "wrong outcome there to this rule, the extent of a mapping against its object.",
            Parameters = ["PageSize", "UserWindowStart", "UserWindowSize"],
            Requires = User,
        },
        new()
        {
            Id = "MMAP-2",
            Family = RuleFamily.MMAP,
            Statement = "The file offset given to mmap has to be a multiple of PAGE_SIZE.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "mmap with an offset that is not a multiple of PAGE_SIZE fails with -EINVAL and maps nothing; a page-multiple "
                + "offset maps the file from that page on (page i of the mapping shows file page offset/PAGE_SIZE + i, checked "
                + "through MMAP-7's reads); on 64-bit profiles a file mapping whose range does not end below the largest file offset "
                + "(a negative offset, or one ending past MAX_LFS_FILESIZE) fails with -EOVERFLOW (or -EINVAL).",
            Decision = "The offset is checked first, also with MAP_ANONYMOUS (x86-64's mmap system call tests it before anything "
                + "else, and the live kernel returns -EINVAL for it). Beyond alignment an anonymous mapping ignores its offset: the "
                + "live kernel (6.18, x86-64) maps MAP_PRIVATE|MAP_ANONYMOUS with offset -8192, so the suite demands nothing there "
                + "(an earlier draft demanded -EOVERFLOW; the live-kernel run of tests/UserLive refuted it). A file range must end "
                + "below the file's largest offset (mm/mmap.c file_mmap_ok: MAX_LFS_FILESIZE for a regular file), else -EOVERFLOW, "
                + "as the live kernel answers for a negative offset and for one ending past 2^63; the suite accepts -EINVAL too "
                + "and sends neither on 32-bit profiles, where the 32-bit off_t makes them other offsets. An offset past the end "
                + "of the file is accepted; accesses there raise SIGBUS (MMAP-1).",
            Parameters = ["PageSize"],
            Requires = User,
        },
        new()
        {
            Id = "MMAP-3",
            Family = RuleFamily.MMAP,
            Statement = "An mmap call must choose exactly one of MAP_SHARED and MAP_PRIVATE.",
            Source = "seed 002; include/uapi/linux/mman.h",
            Status = RuleStatus.Encoded,
            Check = "mmap with neither flag fails with -EINVAL and maps nothing; with both bits it fails with -EINVAL, except on a "
                + "profile with MapSharedValidate where a file mapping with both bits is a working shared mapping.",
            Decision = "Giving both bits is rejected with -EINVAL on the document profiles. On linux-6 and x86-64 the two bits "
                + "together form MAP_SHARED_VALIDATE (since 4.15), a shared mapping whose flags are checked strictly: accepted for "
                + "a file, and -EINVAL with MAP_ANONYMOUS (the anonymous branch of do_mmap knows only MAP_SHARED and MAP_PRIVATE; "
                + "the live kernel confirms both).",
            Parameters = ["MapSharedValidate"],
            Requires = User,
        },
        new()
        {
            Id = "MMAP-4",
            Family = RuleFamily.MMAP,
            Statement = "With addr 0 the kernel picks the address, a non-zero addr without MAP_FIXED is only a hint, and with "
                + "MAP_FIXED the mapping is placed exactly at addr or the call fails.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "addr 0 and a hint both yield a page-aligned, non-zero address whose range lies below TASK_SIZE and overlaps "
                + "no mapping the process has; MAP_FIXED returns exactly addr and replaces what the range held (the old contents "
                + "are gone, what is left of cut mappings stays); MAP_FIXED with an unaligned addr fails with -EINVAL and maps "
                + "nothing. A legal mapping never fails, except with -ENOMEM for a kernel-placed one once half of user space is "
                + "mapped.",
            Decision = "Where a non-fixed mapping goes, and whether a hint is honoured, is never demanded (Linux honours a free, "
                + "page-rounded hint; the reference's second configuration places bottom-up). MAP_FIXED over an existing mapping "
                + "replaces the overlapped part, as Linux does; MAP_FIXED_NOREPLACE is out of scope. A MAP_FIXED range reaching "
                + "TASK_SIZE fails with -ENOMEM (ADDR-9).",
            Parameters = ["PageSize", "TaskSize", "UserWindowStart", "UserWindowSize"],
            Requires = User,
        },
        new()
        {
            Id = "MMAP-5",
            Family = RuleFamily.MMAP,
            Statement = "MAP_ANONYMOUS maps memory backed by no file that starts out zero-filled, and a MAP_SHARED | "
                + "MAP_ANONYMOUS region stays shared between a parent and its children after fork.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "Every byte of an anonymous page nothing has written reads 0; after fork a store by any process to a shared "
                + "anonymous region is read by every other process that has it, at once, while a store to a private anonymous "
                + "region stays in the writing process (ADDR-4).",
            Requires = User,
        },
        new()
        {
            Id = "MMAP-6",
            Family = RuleFamily.MMAP,
            Statement = "A mapping's protection is built from PROT_READ, PROT_WRITE and PROT_EXEC or is PROT_NONE, and an access "
                + "the protection forbids faults.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "Every access to a PROT_NONE page and every store to a page without PROT_WRITE raises SIGSEGV (SEGV_ACCERR) "
                + "and changes nothing; accesses the protection grants complete; after mprotect the new protection holds for the "
                + "very next access, on exactly the pages of the range (splitting the mapping). mprotect with an unaligned start "
                + "or an unknown bit fails with -EINVAL, over unmapped pages with -ENOMEM, and PROT_WRITE on a MAP_SHARED mapping "
                + "of a read-only descriptor with -EACCES; mmap refuses that combination, and any mapping of a write-only "
                + "descriptor, with -EACCES.",
            Decision = "The suite checks only that PROT_NONE forbids every access and that a missing PROT_WRITE forbids stores. "
                + "It never demands a fault for a load from a write-only page or from an exec-only page (on x86 both are readable: "
                + "the live kernel shows it). mprotect of length 0 succeeds. A refused mprotect over a hole (-ENOMEM) or a "
                + "read-only descriptor (-EACCES) may have changed the pages before the failure point (Linux does, POSIX allows "
                + "it); the suite then takes their protection as unknown (either outcome accepted) until they are remapped.",
            Requires = User,
        },
        new()
        {
            Id = "MMAP-7",
            Family = RuleFamily.MMAP,
            Statement = "Writes through a MAP_SHARED mapping are seen by every other mapping of the same object and end up in the "
                + "file, whereas MAP_PRIVATE copies a page on its first write, so its changes stay invisible to others and never "
                + "reach the file.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "After a store through a MAP_SHARED mapping of a file, pread of the file and every other mapping of the page, "
                + "in any process, show it at once, and a pwrite shows in every shared mapping; after a store through a "
                + "MAP_PRIVATE mapping the file, its shared mappings and the private copies other processes hold are unchanged "
                + "while the writer sees its store.",
            Decision = "Whether a private mapping sees later changes to the file on pages it has not written yet is left "
                + "unspecified (POSIX leaves it open; Linux shows them until the first write), so the suite does not check such a "
                + "page once the file page has changed, not even after the process writes it (its other bytes may be either).",
            Requires = User,
        },
        new()
        {
            Id = "MMAP-8",
            Family = RuleFamily.MMAP,
            Statement = "munmap removes a range of mappings so that later accesses to it fault, and unmapping the middle of a "
                + "mapping leaves two separate mappings behind.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "A page read just before munmap (so a TLB may hold it) raises SIGSEGV (SEGV_MAPERR) right after it; the "
                + "parts of a mapping outside the range stay mapped with their contents; munmap of a range with nothing mapped "
                + "returns 0; an unaligned start or a length of 0 fails with -EINVAL.",
            Decision = "No stale translation may survive munmap (ADDR-8's user side, checked here). A range leaving user space "
                + "is -EINVAL (ADDR-9).",
            Parameters = ["PageSize"],
            Requires = User,
        },
        new()
        {
            Id = "MMAP-9",
            Family = RuleFamily.MMAP,
            Statement = "A mapping stays valid after the file descriptor used to create it has been closed.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "After close of the descriptor a mapping was made through, every access to the mapping behaves as before "
                + "(stores through a shared one still reach the file and its other mappings); close returns 0 for an open "
                + "descriptor and -EBADF for one that is not; mmap through a descriptor that is not open fails with -EBADF.",
            Requires = User,
        },
        new()
        {
            Id = "MMAP-10",
            Family = RuleFamily.MMAP,
            Statement = "Not every device can be mapped: stream devices such as serial ports offer no mmap.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Encoded,
            Check = "mmap of the serial port (a stream device whose driver has no mmap method) fails with -ENODEV and maps nothing.",
            Decision = "The live kernel shows the serial port with a pseudo-terminal (/dev/ptmx): its tty driver has no mmap "
                + "method, as /dev/null, pipes and directories do not, and mmap of each gives -ENODEV.",
            Requires = User,
        },
    ];
}
