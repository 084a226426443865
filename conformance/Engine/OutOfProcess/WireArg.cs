using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// One argument of a contract call on its way to a request field; the field's <see cref="WireType"/>
/// decides how it is written. Conversions exist for every contract parameter type.
/// </summary>
public readonly struct WireArg
{
    public readonly long Number;
    public readonly string? Text;
    public readonly byte[]? Bytes;
    public readonly bool IsNull;
    /// <summary>A list of 64-bit values (<see cref="WireType.Addresses"/>).</summary>
    public readonly ulong[]? List;

    private WireArg(long number, string? text = null, byte[]? bytes = null, bool isNull = false, ulong[]? list = null)
    {
        Number = number;
        Text = text;
        Bytes = bytes;
        IsNull = isNull;
        List = list;
    }

    public static implicit operator WireArg(long v) => new(v);
    public static implicit operator WireArg(ulong v) => new((long)v);
    public static implicit operator WireArg(int v) => new(v);
    public static implicit operator WireArg(GfpFlags v) => new((uint)v);
    public static implicit operator WireArg(SlabFlags v) => new((uint)v);
    public static implicit operator WireArg(Zone v) => new((int)v);
    public static implicit operator WireArg(Access v) => new((int)v);
    public static implicit operator WireArg(PageHandle v) => new((long)v.Value);
    public static implicit operator WireArg(SlabCacheHandle v) => new((long)v.Value);
    public static implicit operator WireArg(string? v) => new(0, v, isNull: v is null);
    public static implicit operator WireArg(byte? v) => new(v ?? 0, isNull: v is null);
    public static implicit operator WireArg(byte[] v) => new(v.Length, bytes: v);
    public static implicit operator WireArg(Prot v) => new((int)v);
    public static implicit operator WireArg(MapFlags v) => new((int)v);
    public static implicit operator WireArg(OpenMode v) => new((int)v);
    public static implicit operator WireArg(ulong[] v) => new(v.Length, list: v);

    /// <summary>Page handles as an <see cref="WireType.Addresses"/> field.</summary>
    public static WireArg Handles(IReadOnlyList<PageHandle> pages)
    {
        var list = new ulong[pages.Count];
        for (int i = 0; i < list.Length; i++) list[i] = pages[i].Value;
        return list;
    }

    /// <summary>Writes the argument as the field's wire type.</summary>
    internal void WriteTo(RequestWriter w, WireField field)
    {
        var key = field.Utf8Name;
        switch (field.Type)
        {
            case WireType.Integer or WireType.Gfp or WireType.SlabFlags or WireType.Prot or WireType.MapFlags or WireType.OpenMode: w.Number(key, Number); break;
            case WireType.Address: w.Hex(key, (ulong)Number); break;
            case WireType.Zone:
                // An undefined zone goes as its number, which the program must refuse ("invalid").
                if ((ulong)Number < (ulong)Zones.Count) w.Ascii(key, RequestWriter.ZoneName((Zone)Number));
                else w.Number(key, Number);
                break;
            case WireType.Access:
                // An undefined access goes as its number, which the program must refuse ("invalid").
                if (Enum.IsDefined((Access)Number)) w.Ascii(key, RequestWriter.AccessName((Access)Number));
                else w.Number(key, Number);
                break;
            case WireType.Boolean: w.Bool(key, Number != 0); break;
            case WireType.Text: if (Text is null) w.Null(key); else w.String(key, Text); break;
            case WireType.Bytes: w.HexBytes(key, Bytes ?? []); break;
            case WireType.OptionalByte: if (IsNull) w.Null(key); else w.Number(key, Number); break;
            case WireType.Addresses: w.Json(key, HexList(List ?? [])); break;
            default: throw new InvalidOperationException($"field {field.Name}: {field.Type} is not a request field type");
        }
    }

    /// <summary>["0x..",...]: one "0x" string per value.</summary>
    private static byte[] HexList(ulong[] values)
    {
        var sb = new System.Text.StringBuilder(values.Length * 12 + 2).Append('[');
        for (int i = 0; i < values.Length; i++) sb.Append(i == 0 ? "" : ",").Append("\"0x").Append(values[i].ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append('"');
        return System.Text.Encoding.ASCII.GetBytes(sb.Append(']').ToString());
    }
}
