namespace KernelMm.Spec.Contract;

/// <summary>
/// atomic_t (include/linux/atomic.h, Documentation/atomic_t.txt): <see cref="AtomicCounters"/> counters,
/// each a 32-bit signed integer that wraps in two's complement, all 0 at boot. Every operation takes
/// effect indivisibly, even when several threads (CPUs) use the same counter at once (ATOM-1); the
/// suite checks that by running them in parallel and asking whether some sequential order consistent
/// with real time explains every result. Arguments follow the kernel's order: the amount
/// <c>i</c> first, the counter <c>v</c> last (atomic_add(i, v)); <c>v</c> is the counter's index.
/// Errors: <see cref="InvalidArgumentException"/> for an index outside [0, <see cref="AtomicCounters"/>);
/// the refused call changes nothing.
/// </summary>
public interface IAtomicT
{
    /// <summary>How many counters the machine offers (at least 1; the suite uses up to 3).</summary>
    int AtomicCounters { get; }

    /// <summary>atomic_read(v): the current value.</summary>
    int AtomicRead(int v);
    /// <summary>atomic_set(v, i).</summary>
    void AtomicSet(int v, int i);
    /// <summary>atomic_add(i, v).</summary>
    void AtomicAdd(int i, int v);
    /// <summary>atomic_sub(i, v).</summary>
    void AtomicSub(int i, int v);
    /// <summary>atomic_inc(v).</summary>
    void AtomicInc(int v);
    /// <summary>atomic_dec(v).</summary>
    void AtomicDec(int v);
    /// <summary>atomic_add_return(i, v): the new value.</summary>
    int AtomicAddReturn(int i, int v);
    /// <summary>atomic_sub_return(i, v): the new value.</summary>
    int AtomicSubReturn(int i, int v);
    /// <summary>atomic_inc_return(v): the new value.</summary>
    int AtomicIncReturn(int v);
    /// <summary>atomic_dec_return(v): the new value.</summary>
    int AtomicDecReturn(int v);
    /// <summary>atomic_sub_and_test(i, v): subtracts; true when the new value is 0.</summary>
    bool AtomicSubAndTest(int i, int v);
    /// <summary>atomic_dec_and_test(v): decrements; true when the new value is 0.</summary>
    bool AtomicDecAndTest(int v);
    /// <summary>atomic_inc_and_test(v): increments; true when the new value is 0.</summary>
    bool AtomicIncAndTest(int v);
    /// <summary>atomic_add_negative(i, v): adds; true when the new value is below 0.</summary>
    bool AtomicAddNegative(int i, int v);
}
