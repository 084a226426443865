using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>IAtomicT: atomic_t counters (Mm/Atomic). Safe from any number of threads at once.</summary>
public sealed partial class ReferenceKernel : IAtomicT
{
    private readonly Mm.AtomicCounters _atomics = new(Mm.AtomicCounters.DefaultCount);

    public int AtomicCounters { get { Alive(); return _atomics.Count; } }

    public int AtomicRead(int v) => _atomics.Read(Counter(v, "atomic_read"));
    public void AtomicSet(int v, int i) => _atomics.Set(Counter(v, "atomic_set"), i);
    public void AtomicAdd(int i, int v) => _atomics.AddReturn(i, Counter(v, "atomic_add"));
    public void AtomicSub(int i, int v) => _atomics.SubReturn(i, Counter(v, "atomic_sub"));
    public void AtomicInc(int v) => _atomics.IncReturn(Counter(v, "atomic_inc"));
    public void AtomicDec(int v) => _atomics.DecReturn(Counter(v, "atomic_dec"));
    public int AtomicAddReturn(int i, int v) => _atomics.AddReturn(i, Counter(v, "atomic_add_return"));
    public int AtomicSubReturn(int i, int v) => _atomics.SubReturn(i, Counter(v, "atomic_sub_return"));
    public int AtomicIncReturn(int v) => _atomics.IncReturn(Counter(v, "atomic_inc_return"));
    public int AtomicDecReturn(int v) => _atomics.DecReturn(Counter(v, "atomic_dec_return"));
    public bool AtomicSubAndTest(int i, int v) => _atomics.SubAndTest(i, Counter(v, "atomic_sub_and_test"));
    public bool AtomicDecAndTest(int v) => _atomics.DecAndTest(Counter(v, "atomic_dec_and_test"));
    public bool AtomicIncAndTest(int v) => _atomics.IncAndTest(Counter(v, "atomic_inc_and_test"));
    public bool AtomicAddNegative(int i, int v) => _atomics.AddNegative(i, Counter(v, "atomic_add_negative"));

    /// <summary>Every member passes through here: a disposed machine refuses, an unknown counter is EINVAL.</summary>
    private int Counter(int v, string caller)
    {
        Alive();
        return (uint)v < (uint)_atomics.Count ? v
            : throw new InvalidArgumentException("v", $"{caller}: counter {v} does not exist (the machine has {_atomics.Count}: 0..{_atomics.Count - 1})");
    }
}
