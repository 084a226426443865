using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>UACC: copies between user and kernel space. Inventory: shared/RULES.md.</summary>
public static class UaccRules
{
    private static readonly Capability[] Copies = [Capability.UserMemory, Capability.UserCopy, Capability.PageAllocator];

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
            Status = RuleStatus.Encoded,
            Check = "Copies of generated ranges (up to three pages, pages swapped out or copy-on-write included) return 0 and "
                + "move every byte when every page can be reached; a copy of n bytes that runs into a page it cannot reach after "
                + "d bytes returns r with n - d <= r <= n, and its first n - r bytes arrived intact (read back through the "
                + "process, or from the kernel buffer); copy_from_user zeroes the kernel bytes it did not fill.",
            Decision = "The model stops exactly at the first byte of the bad page, but Linux only guarantees that nothing past "
                + "the reported point was copied, so the suite requires the bound and a correct prefix, never an exact r. "
                + "copy_from_user zero-fills the destination's uncopied tail (include/linux/uaccess.h), which the suite checks; "
                + "after copy_to_user the user bytes between the reported point and the bad page are unspecified and no longer "
                + "checked. A copy whose first page cannot be reached is UACC-3's.",
            Requires = Copies,
        },
        new()
        {
            Id = "UACC-2",
            Family = RuleFamily.UACC,
            Statement = "get_user and put_user transfer a single value and return 0 on success or -EFAULT on failure.",
            Source = "seed 002; arch/x86/include/asm/uaccess.h",
            Status = RuleStatus.Encoded,
            Check = "For 1-, 2-, 4- and (on 64-bit) 8-byte values at readable (writable) addresses, including values that straddle "
                + "two pages of a mapping, get_user (put_user) returns 0 and moves the little-endian value; at addresses it "
                + "cannot reach it returns exactly -EFAULT, and get_user sets the value to 0.",
            Decision = "On failure get_user also sets the destination variable to zero, as the kernel documents for get_user; the "
                + "suite checks it. That a bad address fails at all is UACC-3's.",
            Requires = Copies,
        },
        new()
        {
            Id = "UACC-3",
            Family = RuleFamily.UACC,
            Statement = "An access through a supposed user pointer fails with -EFAULT when the pointer targets kernel addresses, "
                + "an unmapped user page or a user page whose protection forbids the access, and the kernel never dereferences "
                + "such a pointer itself.",
            Source = "seed 002",
            Status = RuleStatus.Encoded,
            Check = "get_user / put_user and the copy routines with kernel addresses, unmapped user addresses, PROT_NONE pages or "
                + "(for stores) pages without PROT_WRITE fail (-EFAULT, or the full count for the copy routines); the kernel memory "
                + "at such an address is neither read into the destination nor modified, and a refused put_user leaves the user "
                + "page as it was.",
            Decision = "A range that starts in user space but reaches TASK_SIZE is rejected as a whole before any byte moves "
                + "(access_ok checks the entire range), so the copy routines return the full count.",
            Parameters = ["TaskSize"],
            Requires = Copies,
        },
    ];
}
