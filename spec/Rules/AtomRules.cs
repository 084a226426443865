using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>ATOM: atomic_t. Inventory: shared/RULES.md.</summary>
public static class AtomRules
{
    /// <summary>The ATOM rules, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        new()
        {
            Id = "ATOM-1",
            Family = RuleFamily.ATOM,
            Statement = "The atomic_t operations (read, set, add, sub, inc, dec and their _return, _and_test and add_negative "
                + "forms) produce their documented results, and each takes effect indivisibly even when many threads use the "
                + "same counter.",
            Source = "seed 002; include/linux/atomic.h, Documentation/atomic_t.txt",
            Status = RuleStatus.Pending,
            Check = "Pending: atomic_t belongs to a later issue (vmalloc/MMU/user mappings slice). Planned check: a table of "
                + "single-thread results (each _return gives the new value, _and_test is true exactly when the result is 0, "
                + "add_negative exactly when it is below 0), then T threads running K mixed increments, decrements and adds on "
                + "one counter end at the exact expected total, with every inc_return value seen exactly once.",
            Decision = "atomic_t is a 32-bit signed counter that wraps in two's complement on overflow (Documentation/atomic_t.txt: "
                + "the kernel builds with -fno-strict-overflow). The seed's garbled prototypes are read as include/linux/atomic.h "
                + "declares them, e.g. atomic_inc_return(v), atomic_dec_and_test(v), atomic_sub_and_test(i, v). The suite checks "
                + "values and indivisibility only, not memory ordering.",
            Requires = [Capability.AtomicT],
        },
    ];
}
