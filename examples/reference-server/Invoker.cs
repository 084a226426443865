using System.Linq.Expressions;
using System.Reflection;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Contract;

namespace KernelMm.Examples.ReferenceServer;

/// <summary>What a contract call gave back: its return value, the bytes it wrote into its span, and its out value.</summary>
internal readonly record struct Invocation(object? Value, byte[]? Buffer = null, ulong Out = 0);

/// <summary>
/// Calls the contract member a <see cref="WireOperation"/> declares, with the request's fields as its
/// parameters (converted to the parameter types here). Built once per operation from the table, as a
/// compiled expression, so that members taking spans or out parameters need no line of their own: a
/// <c>Span&lt;byte&gt;</c> parameter gets a buffer of the field's length (the field that carries it, e.g.
/// "len"), a <c>ReadOnlySpan&lt;byte&gt;</c> the field's bytes, and an <c>out ulong</c> a variable; the
/// buffer and the out value come back in the <see cref="Invocation"/>.
/// </summary>
internal sealed class Invoker
{
    private readonly Func<object, object?[], Invocation> _call;

    private Invoker(Func<object, object?[], Invocation> call) => _call = call;

    public Invocation Invoke(IMemoryManager mm, object?[] args) => _call(mm, args);

    private static readonly MethodInfo ConvertMethod = typeof(Invoker).GetMethod(nameof(Convert), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo BufferMethod = typeof(Invoker).GetMethod(nameof(NewBuffer), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly ConstructorInfo InvocationNew = typeof(Invocation).GetConstructor([typeof(object), typeof(byte[]), typeof(ulong)])!;

    public static Invoker For(WireOperation op)
    {
        var method = op.Interface.GetProperty(op.Member)?.GetMethod ?? op.Interface.GetMethod(op.Member)
            ?? throw new InvalidOperationException($"{op.ContractName} not found");
        var target = Expression.Parameter(typeof(object), "mm");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var buffer = Expression.Variable(typeof(byte[]), "buffer");
        var outValue = Expression.Variable(typeof(ulong), "outValue");
        var body = new List<Expression> { Expression.Assign(buffer, Expression.Constant(null, typeof(byte[]))) };
        var parameters = new List<Expression>();
        foreach (var p in method.GetParameters())
        {
            if (p.IsOut) { parameters.Add(outValue); continue; }
            int field = op.Fields.ToList().FindIndex(f => f.ContractParameter == p.Name);
            if (field < 0) throw new InvalidOperationException($"{op.Name}: no field carries parameter {p.Name}");
            var value = Expression.ArrayIndex(args, Expression.Constant(field));
            var name = Expression.Constant(op.Fields[field].Name);
            if (p.ParameterType == typeof(Span<byte>))
            {
                body.Add(Expression.Assign(buffer, Expression.Call(BufferMethod, value, name)));
                parameters.Add(Expression.New(typeof(Span<byte>).GetConstructor([typeof(byte[])])!, buffer));
            }
            else if (p.ParameterType == typeof(ReadOnlySpan<byte>))
                parameters.Add(Expression.New(typeof(ReadOnlySpan<byte>).GetConstructor([typeof(byte[])])!, Expression.Convert(value, typeof(byte[]))));
            else
                parameters.Add(Expression.Convert(Expression.Call(ConvertMethod, value, Expression.Constant(p.ParameterType), name), p.ParameterType));
        }
        var call = Expression.Call(Expression.Convert(target, op.Interface), method, parameters);
        var result = Expression.Variable(typeof(object), "result");
        body.Add(method.ReturnType == typeof(void)
            ? Expression.Block(call, Expression.Assign(result, Expression.Constant(null)))
            : Expression.Assign(result, Expression.Convert(call, typeof(object))));
        body.Add(Expression.New(InvocationNew, result, buffer, outValue));
        var lambda = Expression.Lambda<Func<object, object?[], Invocation>>(Expression.Block([buffer, outValue, result], body), target, args);
        return new(lambda.Compile());
    }

    /// <summary>The buffer a span parameter fills: as many bytes as the field says.</summary>
    private static byte[] NewBuffer(object? length, string field)
    {
        long n = length is ulong u ? (long)u : (long)length!;
        if (n is < 0 or > 16 << 20) throw new InvalidArgumentException(field, $"{field} {n} is out of range");
        return new byte[n];
    }

    /// <summary>A field's value (long, ulong, enum, string, byte?, byte[], ulong[]) as the parameter's type.</summary>
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
        if (type == typeof(Prot)) return Mask<Prot>(value, field);
        if (type == typeof(MapFlags)) return Mask<MapFlags>(value, field);
        if (type == typeof(OpenMode))
        {
            long v = value is ulong u ? (long)u : (long)value!;
            if (v is < int.MinValue or > int.MaxValue) throw new InvalidArgumentException(field, $"{field} {v} is out of range");
            return (OpenMode)(int)v;
        }
        if (type == typeof(PageHandle)) return new PageHandle(value is long l2 ? (ulong)l2 : (ulong)value!);
        if (type == typeof(SlabCacheHandle)) return new SlabCacheHandle(value is long l3 ? (ulong)l3 : (ulong)value!);
        if (type == typeof(IReadOnlyList<PageHandle>)) return ((ulong[])value!).Select(v => new PageHandle(v)).ToList();
        return value;
    }

    private static T Mask<T>(object? value, string field) where T : struct, Enum
    {
        long v = value is ulong u ? (long)u : (long)value!;
        if (v is < 0 or > uint.MaxValue) throw new InvalidArgumentException(field, $"{field} {v} is not a 32-bit mask");
        return (T)Enum.ToObject(typeof(T), (uint)v);
    }
}
