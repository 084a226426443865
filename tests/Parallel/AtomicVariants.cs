using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Parallel;

/// <summary>The deliberate atomic_t faults (one per behaviour ATOM-1 covers), or none.</summary>
public enum AtomicFault
{
    None,
    /// <summary>atomic_add as a plain read, add, write: two CPUs adding at once lose an update.</summary>
    NonAtomicAdd,
    /// <summary>atomic_dec_and_test reads the counter, tests it against 1, then decrements: right alone, wrong when two CPUs drop the last references together.</summary>
    DecAndTestBeforeDecrement,
    /// <summary>atomic_add_negative tests "below or equal to 0": wrong whenever the sum is exactly 0 (a sequential bug).</summary>
    AddNegativeWrongSign,
}

/// <summary>
/// A second, independently written atomic_t: lock-free, every update a compare-and-swap loop on a
/// plain int array (the reference uses Interlocked.Add/Increment), offering 3 counters (the reference
/// 8). It declares only AtomicT, so every other family is n/a. With an <see cref="AtomicFault"/> it
/// breaks exactly one behaviour.
/// </summary>
public sealed class CasAtomicKernel(Profile profile, AtomicFault fault = AtomicFault.None) : IMemoryManager, IAtomicT
{
    private static readonly IReadOnlySet<Capability> Declared = new HashSet<Capability> { Capability.AtomicT };
    private readonly int[] _v = new int[3];

    public Profile Profile { get; } = profile;
    public IReadOnlySet<Capability> Capabilities => Declared;
    public void Dispose() { }

    public int AtomicCounters => _v.Length;

    private ref int Cell(int v) =>
        ref (uint)v < (uint)_v.Length ? ref _v[v] : ref Throw(v);

    private static ref int Throw(int v) => throw new InvalidArgumentException("v", $"no counter {v}");

    /// <summary>The one primitive: a CAS loop applying <paramref name="delta"/>; returns the new value.</summary>
    private int Update(int v, int delta)
    {
        ref int cell = ref Cell(v);
        while (true)
        {
            int seen = Volatile.Read(ref cell);
            int next = unchecked(seen + delta);
            if (Interlocked.CompareExchange(ref cell, next, seen) == seen) return next;
        }
    }

    public int AtomicRead(int v) => Volatile.Read(ref Cell(v));
    public void AtomicSet(int v, int i) => Interlocked.Exchange(ref Cell(v), i);

    public void AtomicAdd(int i, int v)
    {
        if (fault == AtomicFault.NonAtomicAdd)
        {
            ref int cell = ref Cell(v);
            int seen = cell;
            cell = unchecked(seen + i);
            return;
        }
        Update(v, i);
    }

    public void AtomicSub(int i, int v) => Update(v, unchecked(-i));
    public void AtomicInc(int v) => Update(v, 1);
    public void AtomicDec(int v) => Update(v, -1);
    public int AtomicAddReturn(int i, int v) => Update(v, i);
    public int AtomicSubReturn(int i, int v) => Update(v, unchecked(-i));
    public int AtomicIncReturn(int v) => Update(v, 1);
    public int AtomicDecReturn(int v) => Update(v, -1);
    public bool AtomicSubAndTest(int i, int v) => Update(v, unchecked(-i)) == 0;

    public bool AtomicDecAndTest(int v)
    {
        if (fault == AtomicFault.DecAndTestBeforeDecrement)
        {
            bool last = Volatile.Read(ref Cell(v)) == 1;
            Update(v, -1);
            return last;
        }
        return Update(v, -1) == 0;
    }

    public bool AtomicIncAndTest(int v) => Update(v, 1) == 0;

    public bool AtomicAddNegative(int i, int v) =>
        fault == AtomicFault.AddNegativeWrongSign ? Update(v, i) <= 0 : Update(v, i) < 0;
}

public sealed class CasAtomicFactory(AtomicFault fault = AtomicFault.None) : IImplementationFactory
{
    public AtomicFault Fault { get; } = fault;
    public string Name => Fault == AtomicFault.None ? "cas-atomic" : $"cas-atomic/{Fault}";
    public IMemoryManager? Create(Profile profile) => new CasAtomicKernel(profile, Fault);
}
