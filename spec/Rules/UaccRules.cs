using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>UACC: copies between user and kernel space. Inventory: shared/RULES.md.</summary>
public static class UaccRules
{
    private const string Pending = "Pending: user copies belong to a later issue (vmalloc/MMU/user mappings slice). Planned check: ";

    private static readonly Capability[] Mmu = [Capability.Mmu];

    /// <summary>The UACC rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "UACC-1",
            Family = RuleFamily.UACC,
            Statement = "copy_from_user and copy_to_user report how many bytes they could not copy, zero meaning full success, "
                + "and a copy that reaches an invalid user page stops there.",
            Source = "seed 002; include/linux/uaccess.h",
            Status = RuleStatus.Pending,
            Check = Pending + "copies entirely within valid pages return 0 and move every byte; a copy of n bytes running into an "
                + "unmapped page returns r with n - r no larger than the distance to that page, and the first n - r bytes arrive "
                + "intact.",
            Decision = "The model stops exactly at the first byte of the bad page, but Linux only guarantees that nothing past "
                + "the reported point was copied, so the suite requires the bound and a correct prefix, never an exact r. "
                + "copy_from_user zero-fills the destination's uncopied tail (include/linux/uaccess.h), which the suite checks; "
                + "after copy_to_user the rest of the user buffer is unspecified.",
            Requires = Mmu,
        },
        new()
        {
            Id = "UACC-2",
            Family = RuleFamily.UACC,
            Statement = "get_user and put_user transfer a single value and return 0 on success or -EFAULT on failure.",
            Source = "seed 002; arch/x86/include/asm/uaccess.h",
            Status = RuleStatus.Pending,
            Check = Pending + "for 1-, 2-, 4- and (on 64-bit) 8-byte values at valid addresses both return 0 and move the value; "
                + "at invalid addresses both return -EFAULT and change no user memory.",
            Decision = "On failure get_user also sets the destination variable to zero, as the kernel documents for get_user; the "
                + "suite checks it.",
            Requires = Mmu,
        },
        new()
        {
            Id = "UACC-3",
            Family = RuleFamily.UACC,
            Statement = "An access through a supposed user pointer fails with -EFAULT when the pointer targets kernel addresses, "
                + "an unmapped user page or a user page whose protection forbids the access, and the kernel never dereferences "
                + "such a pointer itself.",
            Source = "seed 002",
            Status = RuleStatus.Pending,
            Check = Pending + "copies and get_user / put_user with addresses at or above PAGE_OFFSET, with unmapped addresses, or "
                + "writing into read-only pages fail (-EFAULT, or the full count for the copy routines) and the kernel memory at "
                + "such an address is neither read into user space nor modified.",
            Decision = "A range that starts in user space but reaches PAGE_OFFSET is rejected as a whole before any byte moves "
                + "(access_ok checks the entire range), so copy routines return the full count.",
            Parameters = ["PageOffset"],
            Requires = Mmu,
        },
    ];
}
