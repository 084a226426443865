using System.Reflection;
using System.Runtime.ExceptionServices;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Contract;

namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// Calls the contract member a <see cref="WireOperation"/> declares, with the request's fields as its
/// parameters (converted to the parameter types here). Built once per operation from the table.
/// </summary>
internal sealed class Invoker
{
    private readonly Func<object, object?[], object?> _call;

    private Invoker(Func<object, object?[], object?> call) => _call = call;

    public object? Invoke(IMemoryManager mm, object?[] args)
    {
        try { return _call(mm, args); }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    public static Invoker For(WireOperation op)
    {
        // The two members that take spans (which reflection cannot pass): bytes in, bytes out.
        if (op == Operations.Read)
            return new((mm, a) =>
            {
                var bytes = new byte[checked((int)(long)a[1]!)];
                ((IKernelMemory)mm).Read((ulong)a[0]!, bytes);
                return bytes;
            });
        if (op == Operations.Write)
            return new((mm, a) => { ((IKernelMemory)mm).Write((ulong)a[0]!, (byte[])a[1]!); return null; });

        if (op.Interface.GetProperty(op.Member) is { } property)
            return new((mm, _) => property.GetValue(mm));
        var method = op.Interface.GetMethod(op.Member) ?? throw new InvalidOperationException($"{op.ContractName} not found");
        var parameters = method.GetParameters();
        return new((mm, a) =>
        {
            var converted = new object?[parameters.Length];
            for (int i = 0; i < parameters.Length; i++) converted[i] = Convert(a[i], parameters[i].ParameterType, op.Fields[i].Name);
            return method.Invoke(mm, converted);
        });
    }

    /// <summary>A field's value (long, ulong, enum, string, byte?, byte[]) as the parameter's type.</summary>
    private static object? Convert(object? value, Type type, string field)
    {
        if (type == typeof(ulong)) return value is long l ? (ulong)l : value;
        if (type == typeof(long)) return value is ulong u ? (long)u : value;
        if (type == typeof(int))
        {
            long v = value is ulong u ? (long)u : (long)value!;
            if (v is < int.MinValue or > int.MaxValue) throw new InvalidArgumentException(field, $"{field} {v} is out of range");
            return (int)v;
        }
        if (type == typeof(GfpFlags)) return Mask<GfpFlags>(value, field);
        if (type == typeof(SlabFlags)) return Mask<SlabFlags>(value, field);
        if (type == typeof(PageHandle)) return new PageHandle(value is long l2 ? (ulong)l2 : (ulong)value!);
        if (type == typeof(SlabCacheHandle)) return new SlabCacheHandle(value is long l3 ? (ulong)l3 : (ulong)value!);
        return value;
    }

    private static T Mask<T>(object? value, string field) where T : struct, Enum
    {
        long v = value is ulong u ? (long)u : (long)value!;
        if (v is < 0 or > uint.MaxValue) throw new InvalidArgumentException(field, $"{field} {v} is not a 32-bit mask");
        return (T)Enum.ToObject(typeof(T), (uint)v);
    }
}
