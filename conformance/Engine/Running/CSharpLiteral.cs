using System.Globalization;
using System.Reflection;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Running;

/// <summary>
/// Values as C# source that compiles: numbers with their suffix, enums by member name (flags
/// joined with |), handles as <c>new PageHandle(0x...UL)</c>, and records (a family's steps) as a
/// constructor call that names every argument after the first one left at its default. Used for
/// the steps of a printed regression test and for the call that failed in a counterexample.
/// </summary>
public static class CSharpLiteral
{
    /// <summary>
    /// <paramref name="value"/> as a C# expression of type <paramref name="type"/>. Type names are
    /// simple names: the caller supplies the usings (<see cref="Namespaces"/>).
    /// </summary>
    public static string Of(object? value, Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null) return underlying.IsValueType && underlying == type ? $"default({Name(type)})" : "null";
        return value switch
        {
            GfpFlags gfp => Families.Pages.CSharp.Flags(gfp),
            bool b => b ? "true" : "false",
            string s => Quote(s),
            char c => c == '\'' ? "'\\''" : c == '\\' ? "'\\\\'" : $"'{c}'",
            Enum e => EnumValue(e),
            byte n => $"(byte){n}",
            int n => n.ToString(CultureInfo.InvariantCulture),
            uint n => $"{n}U",
            long n => n == long.MinValue ? "long.MinValue" : $"{n}L",
            ulong n => n < 4096 ? $"{n}UL" : $"0x{n:x}UL",
            short n => $"(short){n}",
            ushort n => $"(ushort){n}",
            double d => d.ToString("R", CultureInfo.InvariantCulture) + "d",
            _ when SingleValueHandle(value.GetType()) is { } handle => $"new {Name(value.GetType())}({Of(handle.GetValue(value), handle.PropertyType)})",
            _ => Construction(value),
        };
    }

    /// <summary>The namespaces a literal of <paramref name="value"/> needs (its type's, and its constructor arguments').</summary>
    public static IEnumerable<string> Namespaces(object? value)
    {
        if (value is null) yield break;
        var type = value.GetType();
        if (type.IsPrimitive || value is string) yield break;
        if (type.Namespace is { } ns) yield return ns;
        if (value is Enum) yield break;
        if (SingleValueHandle(type) is not null) yield break;
        if (PositionalConstructor(type) is not { } ctor) yield break;
        foreach (var p in ctor.GetParameters())
            foreach (var n in Namespaces(Property(type, p)?.GetValue(value)))
                yield return n;
    }

    /// <summary>"Kernel.Mm.Foo" → "Foo"; nested types as Outer.Inner; generic types are not expected here.</summary>
    public static string Name(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return Name(inner) + "?";
        if (type == typeof(int)) return "int";
        if (type == typeof(long)) return "long";
        if (type == typeof(ulong)) return "ulong";
        if (type == typeof(byte)) return "byte";
        if (type == typeof(bool)) return "bool";
        if (type == typeof(string)) return "string";
        return type.IsNested ? $"{Name(type.DeclaringType!)}.{type.Name}" : type.Name;
    }

    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (char c in s)
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || char.IsSurrogate(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return sb.Append('"').ToString();
    }

    private static string EnumValue(Enum e)
    {
        var type = e.GetType();
        string name = Name(type);
        if (Enum.IsDefined(type, e)) return $"{name}.{e}";
        if (type.IsDefined(typeof(FlagsAttribute), false))
        {
            ulong rest = Convert.ToUInt64(e, CultureInfo.InvariantCulture);
            var parts = new List<string>();
            foreach (var member in Enum.GetValues(type).Cast<Enum>().OrderByDescending(m => Convert.ToUInt64(m, CultureInfo.InvariantCulture)))
            {
                ulong bits = Convert.ToUInt64(member, CultureInfo.InvariantCulture);
                if (bits != 0 && (rest & bits) == bits) { parts.Add($"{name}.{member}"); rest &= ~bits; }
            }
            if (rest == 0 && parts.Count > 0) return string.Join(" | ", parts);
        }
        return $"({name}){Convert.ToUInt64(e, CultureInfo.InvariantCulture)}";
    }

    /// <summary>A handle such as <see cref="PageHandle"/>: a value type whose only constructor takes one number, kept in a property of the same name.</summary>
    private static PropertyInfo? SingleValueHandle(Type type)
    {
        if (!type.IsValueType) return null;
        var ctors = type.GetConstructors();
        if (ctors.Length != 1 || ctors[0].GetParameters() is not [var p] || !p.ParameterType.IsPrimitive) return null;
        return Property(type, p);
    }

    /// <summary>A record-like value: the public constructor whose parameters all match readable properties, the longest.</summary>
    private static ConstructorInfo? PositionalConstructor(Type type) =>
        type.GetConstructors()
            .Where(c => c.GetParameters().Length > 0 && c.GetParameters().All(p => Property(type, p) is not null))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();

    private static PropertyInfo? Property(Type type, ParameterInfo p) =>
        type.GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) is { CanRead: true } prop
        && prop.PropertyType == p.ParameterType ? prop : null;

    private static string Construction(object value)
    {
        var type = value.GetType();
        var ctor = PositionalConstructor(type)
            ?? throw new NotSupportedException($"{type.FullName} cannot be written as C#: it has no constructor whose parameters are its properties");
        var args = new List<string>();
        bool named = false;
        foreach (var p in ctor.GetParameters())
        {
            object? v = Property(type, p)!.GetValue(value);
            string text = Of(v, p.ParameterType);
            if (p.HasDefaultValue && text == Of(Default(p), p.ParameterType)) { named = true; continue; }
            args.Add(named ? $"{p.Name}: {text}" : text);
        }
        return $"new {Name(type)}({string.Join(", ", args)})";
    }

    private static object? Default(ParameterInfo p)
    {
        var t = Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
        return p.DefaultValue is { } d && t.IsEnum ? Enum.ToObject(t, d) : p.DefaultValue;
    }
}
