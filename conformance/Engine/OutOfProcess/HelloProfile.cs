using System.Reflection;
using System.Text.Json;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The "profile" object of a hello request: every public value of <see cref="Profile"/> (declared
/// and derived), named in camelCase, so that a profile parameter added to the spec reaches the
/// programs without touching the protocol code (docs/protocol.md lists them; a test keeps that list
/// complete). 64-bit quantities (ulong) are "0x..." strings, other numbers JSON integers; plus
/// "label", the derived "zones" spans and the general caches' names "kmallocCacheNames".
/// </summary>
public static class HelloProfile
{
    /// <summary>Profile members that are not sent: prose.</summary>
    private static readonly HashSet<string> Skipped = [nameof(Profile.Source)];

    /// <summary>ulong members that are counts, not addresses: JSON integers (as protocol 1 sent totalPages).</summary>
    private static readonly HashSet<string> Counts = [nameof(Profile.TotalPages), nameof(Profile.MaxOrderPages)];

    /// <summary>One field of the profile object: JSON name, and the wire type of its value ("list" for an integer array).</summary>
    public sealed record Field(string Name, string Type, string Meaning);

    private static IEnumerable<PropertyInfo> Properties() =>
        typeof(Profile).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && !Skipped.Contains(p.Name))
            .OrderBy(p => p.MetadataToken);

    public static string JsonName(string member) => char.ToLowerInvariant(member[0]) + member[1..];

    /// <summary>The fields every hello profile carries, in order (for the documentation and the kits).</summary>
    public static IReadOnlyList<Field> Fields()
    {
        var fields = Properties().Select(p => new Field(JsonName(p.Name), Counts.Contains(p.Name) ? "integer" : TypeOf(p.PropertyType), "")).ToList();
        fields.Add(new Field("kmallocCacheNames", "list of strings", ""));
        fields.Add(new Field("zones", "object", ""));
        return fields;
    }

    private static string TypeOf(Type t) =>
        t == typeof(ulong) || t == typeof(ulong?) ? "address"
        : t == typeof(bool) ? "boolean"
        : t == typeof(string) ? "string"
        : t == typeof(int) || t == typeof(long) || t == typeof(byte) || t == typeof(int?) || t == typeof(long?) || t == typeof(byte?) ? "integer"
        : typeof(IEnumerable<int>).IsAssignableFrom(t) || typeof(IEnumerable<long>).IsAssignableFrom(t) ? "list of integers"
        : "json";

    /// <summary>The profile as the hello message carries it.</summary>
    public static byte[] Json(Profile p)
    {
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var prop in Properties())
            {
                string name = JsonName(prop.Name);
                object? value = prop.GetValue(p);
                switch (value)
                {
                    case null: w.WriteNull(name); break;
                    case ulong u when Counts.Contains(prop.Name): w.WriteNumber(name, u); break;
                    case ulong u: w.WriteString(name, $"0x{u:x}"); break;
                    case bool b: w.WriteBoolean(name, b); break;
                    case string s: w.WriteString(name, s); break;
                    case int i: w.WriteNumber(name, i); break;
                    case long l: w.WriteNumber(name, l); break;
                    case byte by: w.WriteNumber(name, by); break;
                    case IEnumerable<int> ints:
                        w.WriteStartArray(name);
                        foreach (int i in ints) w.WriteNumberValue(i);
                        w.WriteEndArray();
                        break;
                    case IEnumerable<long> longs:
                        w.WriteStartArray(name);
                        foreach (long l in longs) w.WriteNumberValue(l);
                        w.WriteEndArray();
                        break;
                    default:
                        w.WritePropertyName(name);
                        JsonSerializer.Serialize(w, value, value.GetType());
                        break;
                }
            }
            w.WriteStartArray("kmallocCacheNames");
            foreach (int c in p.KmallocClasses) w.WriteStringValue(p.KmallocCacheName(c));
            w.WriteEndArray();
            w.WriteStartObject("zones");
            foreach (var z in Zones.All)
            {
                var (start, end) = p.ZoneSpan(z);
                w.WriteStartObject(z.KernelName());
                w.WriteString("start", $"0x{start:x}");
                w.WriteString("end", $"0x{end:x}");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
