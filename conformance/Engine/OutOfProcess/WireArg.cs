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

    private WireArg(long number, string? text = null, byte[]? bytes = null, bool isNull = false)
    {
        Number = number;
        Text = text;
        Bytes = bytes;
        IsNull = isNull;
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

    /// <summary>Writes the argument as the field's wire type.</summary>
    internal void WriteTo(RequestWriter w, WireField field)
    {
        var key = field.Utf8Name;
        switch (field.Type)
        {
            case WireType.Integer or WireType.Gfp or WireType.SlabFlags: w.Number(key, Number); break;
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
            default: throw new InvalidOperationException($"field {field.Name}: {field.Type} is not a request field type");
        }
    }
}
