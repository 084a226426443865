using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Parallel.Atomic;

/// <summary>The fourteen atomic_t operations of ATOM-1.</summary>
public enum AtomicOpKind
{
    Read, Set, Add, Sub, Inc, Dec, AddReturn, SubReturn, IncReturn, DecReturn, SubAndTest, DecAndTest, IncAndTest, AddNegative,
}

/// <summary>One atomic_t call: which operation, on which counter, with which amount (atomic_set's value for Set).</summary>
public readonly record struct AtomicOp(AtomicOpKind Kind, int Counter, int Arg = 0)
{
    /// <summary>What the call returns: a value, a truth value, or nothing.</summary>
    public AtomicResultKind ResultKind => Kind switch
    {
        AtomicOpKind.Read or AtomicOpKind.AddReturn or AtomicOpKind.SubReturn or AtomicOpKind.IncReturn or AtomicOpKind.DecReturn => AtomicResultKind.Value,
        AtomicOpKind.SubAndTest or AtomicOpKind.DecAndTest or AtomicOpKind.IncAndTest or AtomicOpKind.AddNegative => AtomicResultKind.Truth,
        _ => AtomicResultKind.None,
    };

    /// <summary>Kernel spelling: atomic_add(3, &amp;v0).</summary>
    public override string ToString() => Kind switch
    {
        AtomicOpKind.Read => $"atomic_read(&v{Counter})",
        AtomicOpKind.Set => $"atomic_set(&v{Counter}, {Arg})",
        AtomicOpKind.Inc or AtomicOpKind.Dec or AtomicOpKind.IncReturn or AtomicOpKind.DecReturn or AtomicOpKind.DecAndTest or AtomicOpKind.IncAndTest
            => $"{KernelName}(&v{Counter})",
        _ => $"{KernelName}({Arg}, &v{Counter})",
    };

    public string KernelName => Kind switch
    {
        AtomicOpKind.Read => "atomic_read",
        AtomicOpKind.Set => "atomic_set",
        AtomicOpKind.Add => "atomic_add",
        AtomicOpKind.Sub => "atomic_sub",
        AtomicOpKind.Inc => "atomic_inc",
        AtomicOpKind.Dec => "atomic_dec",
        AtomicOpKind.AddReturn => "atomic_add_return",
        AtomicOpKind.SubReturn => "atomic_sub_return",
        AtomicOpKind.IncReturn => "atomic_inc_return",
        AtomicOpKind.DecReturn => "atomic_dec_return",
        AtomicOpKind.SubAndTest => "atomic_sub_and_test",
        AtomicOpKind.DecAndTest => "atomic_dec_and_test",
        AtomicOpKind.IncAndTest => "atomic_inc_and_test",
        _ => "atomic_add_negative",
    };

    /// <summary>The call on the contract; truth values come back as 0/1, nothing as <see cref="AtomicModel.Void"/>.</summary>
    public long Apply(IAtomicT a)
    {
        switch (Kind)
        {
            case AtomicOpKind.Read: return a.AtomicRead(Counter);
            case AtomicOpKind.Set: a.AtomicSet(Counter, Arg); return AtomicModel.Void;
            case AtomicOpKind.Add: a.AtomicAdd(Arg, Counter); return AtomicModel.Void;
            case AtomicOpKind.Sub: a.AtomicSub(Arg, Counter); return AtomicModel.Void;
            case AtomicOpKind.Inc: a.AtomicInc(Counter); return AtomicModel.Void;
            case AtomicOpKind.Dec: a.AtomicDec(Counter); return AtomicModel.Void;
            case AtomicOpKind.AddReturn: return a.AtomicAddReturn(Arg, Counter);
            case AtomicOpKind.SubReturn: return a.AtomicSubReturn(Arg, Counter);
            case AtomicOpKind.IncReturn: return a.AtomicIncReturn(Counter);
            case AtomicOpKind.DecReturn: return a.AtomicDecReturn(Counter);
            case AtomicOpKind.SubAndTest: return a.AtomicSubAndTest(Arg, Counter) ? 1 : 0;
            case AtomicOpKind.DecAndTest: return a.AtomicDecAndTest(Counter) ? 1 : 0;
            case AtomicOpKind.IncAndTest: return a.AtomicIncAndTest(Counter) ? 1 : 0;
            default: return a.AtomicAddNegative(Arg, Counter) ? 1 : 0;
        }
    }

    /// <summary>The call as C# on a variable <c>atomic</c> of type IAtomicT.</summary>
    public string CSharp => Kind switch
    {
        AtomicOpKind.Read => $"atomic.AtomicRead({Counter})",
        AtomicOpKind.Set => $"atomic.AtomicSet({Counter}, {Arg})",
        AtomicOpKind.Inc or AtomicOpKind.Dec or AtomicOpKind.IncReturn or AtomicOpKind.DecReturn or AtomicOpKind.DecAndTest or AtomicOpKind.IncAndTest
            => $"atomic.Atomic{Kind}({Counter})",
        _ => $"atomic.Atomic{Kind}({Arg}, {Counter})",
    };

    /// <summary>A result as the report prints it.</summary>
    public string Show(long result) => ResultKind switch
    {
        AtomicResultKind.None => "",
        AtomicResultKind.Truth => result switch { 0 => "false", 1 => "true", _ => $"?{result}" },
        _ => result.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

public enum AtomicResultKind { None, Value, Truth }

/// <summary>
/// The sequential specification of one atomic_t counter (ATOM-1, from include/linux/atomic.h): a
/// 32-bit value that wraps in two's complement; _return gives the new value, _and_test whether the new
/// value is 0, add_negative whether it is below 0. The suite's own arithmetic, written apart from any
/// implementation.
/// </summary>
public sealed class AtomicModel : ISequentialModel<int, AtomicOp, long>
{
    /// <summary>The result of a call that returns nothing.</summary>
    public const long Void = long.MinValue;

    public static readonly AtomicModel Instance = new();

    /// <summary>The counter after <paramref name="op"/> from <paramref name="value"/>, and what the call returns.</summary>
    public static (int Next, long Result) Apply(int value, AtomicOp op)
    {
        int i = op.Arg;
        int next = op.Kind switch
        {
            AtomicOpKind.Read => value,
            AtomicOpKind.Set => i,
            AtomicOpKind.Add or AtomicOpKind.AddReturn or AtomicOpKind.AddNegative => unchecked(value + i),
            AtomicOpKind.Sub or AtomicOpKind.SubReturn or AtomicOpKind.SubAndTest => unchecked(value - i),
            AtomicOpKind.Inc or AtomicOpKind.IncReturn or AtomicOpKind.IncAndTest => unchecked(value + 1),
            _ => unchecked(value - 1),
        };
        long result = op.Kind switch
        {
            AtomicOpKind.Read => value,
            AtomicOpKind.AddReturn or AtomicOpKind.SubReturn or AtomicOpKind.IncReturn or AtomicOpKind.DecReturn => next,
            AtomicOpKind.SubAndTest or AtomicOpKind.DecAndTest or AtomicOpKind.IncAndTest => next == 0 ? 1 : 0,
            AtomicOpKind.AddNegative => next < 0 ? 1 : 0,
            _ => Void,
        };
        return (next, result);
    }

    public bool Step(int state, AtomicOp op, long result, out int next)
    {
        (next, long expected) = Apply(state, op);
        return expected == result;
    }
}
