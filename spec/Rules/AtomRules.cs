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
            Status = RuleStatus.Encoded,
            Check = "Parallel mode (family 'atomic'): generated programs (a quarter of --sequences per property, each run 3 times on a fresh "
                + "machine; a prefix run by one CPU, then 2 to 4 branches started together "
                + "on a barrier, one per CPU, with pauses the harness injects between steps) call all fourteen operations on up to 3 counters; "
                + "every call's result is recorded with tickets taken before the call and after the return, each counter is read after the "
                + "join, and each counter's history must be linearizable against the sequential model: some order of the calls, consistent with "
                + "real time, in which each _return gives the new value, each _and_test is true exactly when the new value is 0, add_negative "
                + "exactly when it is below 0, and atomic_read the value. A lost update, a test of the old value or a wrong sign has no such "
                + "order. A failure is shrunk (branches and steps removed, each candidate re-run up to 24 times) and drawn per CPU.",
            Decision = "atomic_t is a 32-bit signed counter that wraps in two's complement on overflow (Documentation/atomic_t.txt: "
                + "the kernel builds with -fno-strict-overflow). The seed's garbled prototypes are read as include/linux/atomic.h "
                + "declares them, e.g. atomic_inc_return(v), atomic_dec_and_test(v), atomic_sub_and_test(i, v). The suite checks "
                + "values and indivisibility (linearizability), not memory ordering: the documents say nothing about barriers. Counters are "
                + "0 at boot; an implementation offers at least one (the contract's AtomicCounters). Indivisibility can only be shown by calls "
                + "that really overlap, so the check runs in-process, or out of process on protocol 5's CPU lanes (docs/protocol.md, \"CPU lanes\": "
                + "results judged with the runner's own instants, the program's own times used only as evidence that its lanes ran together); "
                + "a process implementation of an older protocol is n/a. A race that did not happen is a miss, never a pass of a weaker check: the verdict says "
                + "how many parallel runs were judged. A history whose search exceeds its budget gets no verdict rather than a false alarm.",
            Requires = [Capability.AtomicT],
        },
    ];
}
