using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>MMAP: user-space mappings (mmap, munmap). Inventory: shared/RULES.md.</summary>
public static class MmapRules
{
    private const string Pending = "Pending: user mappings belong to a later issue (vmalloc/MMU/user mappings slice). Planned check: ";

    private static readonly Capability[] Mmu = [Capability.Mmu];

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
            Status = RuleStatus.Pending,
            Check = Pending + "mmap of n bytes returns a page-aligned address and makes exactly ceil(n / PAGE_SIZE) pages "
                + "accessible: the tail of the last page past n can be touched (zeros for anonymous memory) and the page after it "
                + "is unmapped; a length of 0 fails with -EINVAL.",
            Parameters = ["PageSize"],
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-2",
            Family = RuleFamily.MMAP,
            Statement = "The file offset given to mmap has to be a multiple of PAGE_SIZE.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "an offset that is not a multiple of PageSize fails with -EINVAL and maps nothing; a page-multiple "
                + "offset maps the file starting at that offset.",
            Parameters = ["PageSize"],
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-3",
            Family = RuleFamily.MMAP,
            Statement = "An mmap call must choose exactly one of MAP_SHARED and MAP_PRIVATE.",
            Source = "seed 002; include/uapi/linux/mman.h",
            Status = RuleStatus.Pending,
            Check = Pending + "mmap with neither flag fails with -EINVAL and maps nothing; the 'both' case follows the decision "
                + "below.",
            Decision = "Giving both bits is rejected with -EINVAL on the document profiles. On linux-6 the two bits together "
                + "form MAP_SHARED_VALIDATE (since 4.15, include/uapi/linux/mman.h), a shared mapping whose flags are checked "
                + "strictly, so there the combination is accepted as a shared mapping.",
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-4",
            Family = RuleFamily.MMAP,
            Statement = "With addr 0 the kernel picks the address, a non-zero addr without MAP_FIXED is only a hint, and with "
                + "MAP_FIXED the mapping is placed exactly at addr or the call fails.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "addr 0 and a hint both yield a page-aligned address in user space (below PAGE_OFFSET), the hint "
                + "being allowed but never required to be honoured; MAP_FIXED with a free aligned addr returns exactly addr; "
                + "MAP_FIXED with an unaligned addr, or a range reaching PAGE_OFFSET, fails with -EINVAL.",
            Decision = "MAP_FIXED over an existing mapping replaces the overlapped part, as Linux does, rather than failing; "
                + "MAP_FIXED_NOREPLACE is out of scope.",
            Parameters = ["PageSize", "PageOffset"],
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-5",
            Family = RuleFamily.MMAP,
            Statement = "MAP_ANONYMOUS maps memory backed by no file that starts out zero-filled, and a MAP_SHARED | "
                + "MAP_ANONYMOUS region stays shared between a parent and its children after fork.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "fresh anonymous pages read 0; after fork a child's write to a shared anonymous region is seen by "
                + "the parent and vice versa, while writes to a private anonymous region stay in the writing process.",
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-6",
            Family = RuleFamily.MMAP,
            Statement = "A mapping's protection is built from PROT_READ, PROT_WRITE and PROT_EXEC or is PROT_NONE, and an access "
                + "the protection forbids faults.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "any access to a PROT_NONE page and a write to a page without PROT_WRITE fault and leave memory "
                + "unchanged; accesses the protection grants succeed.",
            Decision = "The suite checks only that PROT_NONE forbids every access and that a missing PROT_WRITE forbids writes. "
                + "It never demands a fault for a read of a write-only page or an instruction fetch from a readable page, "
                + "because x86 cannot express write-only pages and has no execute protection without NX.",
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-7",
            Family = RuleFamily.MMAP,
            Statement = "Writes through a MAP_SHARED mapping are seen by every other mapping of the same object and end up in the "
                + "file, whereas MAP_PRIVATE copies a page on its first write, so its changes stay invisible to others and never "
                + "reach the file.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "two shared mappings of one file see each other's writes and the file holds them after munmap; a "
                + "write through a private mapping changes only that mapping's view, leaving other mappings and the file as "
                + "they were.",
            Decision = "Whether a private mapping sees later changes to the file on pages it has not written yet is left "
                + "unspecified (POSIX leaves it open; Linux shows them until the first write), so the suite does not check it.",
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-8",
            Family = RuleFamily.MMAP,
            Statement = "munmap removes a range of mappings so that later accesses to it fault, and unmapping the middle of a "
                + "mapping leaves two separate mappings behind.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "after munmap every access to the range faults; unmapping middle pages leaves the outer parts mapped "
                + "with their contents; an unaligned start fails with -EINVAL; unmapping a range with nothing mapped succeeds.",
            Parameters = ["PageSize"],
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-9",
            Family = RuleFamily.MMAP,
            Statement = "A mapping stays valid after the file descriptor used to create it has been closed.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "close the descriptor right after mmap; the mapping keeps working for reads and writes, and a "
                + "shared mapping's writes still reach the file.",
            Requires = Mmu,
        },
        new()
        {
            Id = "MMAP-10",
            Family = RuleFamily.MMAP,
            Statement = "Not every device can be mapped: stream devices such as serial ports offer no mmap.",
            Source = "seeds 000, 002",
            Status = RuleStatus.Pending,
            Check = Pending + "mmap of a device whose driver has no mmap method fails with -ENODEV and creates no mapping.",
            Requires = Mmu,
        },
    ];
}
