using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// Builds request lines (docs/protocol.md) straight into a byte buffer: no intermediate strings on
/// the hot path. 64-bit quantities are written as "0x..." strings, small integers as numbers.
/// </summary>
internal sealed class RequestWriter
{
    private byte[] _buf = new byte[4096];
    public int Length { get; private set; }
    public byte[] Buffer => _buf;

    public void Clear() => Length = 0;

    private Span<byte> Room(int n)
    {
        if (Length + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + n));
        return _buf.AsSpan(Length);
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Room(bytes.Length));
        Length += bytes.Length;
    }

    private void Key(ReadOnlySpan<byte> key)
    {
        var s = Room(key.Length + 4);
        s[0] = (byte)',';
        s[1] = (byte)'"';
        key.CopyTo(s[2..]);
        s[2 + key.Length] = (byte)'"';
        s[3 + key.Length] = (byte)':';
        Length += key.Length + 4;
    }

    /// <summary>Starts <c>{"id":N,"op":"name"</c>.</summary>
    public void Begin(long id, ReadOnlySpan<byte> op)
    {
        Raw("{\"id\":"u8);
        Utf8Formatter.TryFormat(id, Room(20), out int n);
        Length += n;
        Raw(",\"op\":\""u8);
        Raw(op);
        Raw("\""u8);
    }

    public void Number(ReadOnlySpan<byte> key, long value)
    {
        Key(key);
        Utf8Formatter.TryFormat(value, Room(20), out int n);
        Length += n;
    }

    public void Hex(ReadOnlySpan<byte> key, ulong value)
    {
        Key(key);
        var s = Room(20);
        s[0] = (byte)'"';
        s[1] = (byte)'0';
        s[2] = (byte)'x';
        Utf8Formatter.TryFormat(value, s[3..], out int n, new System.Buffers.StandardFormat('x'));
        s[3 + n] = (byte)'"';
        Length += n + 4;
    }

    /// <summary>
    /// A reference to the answer of an earlier request: <c>"key":{"answer":N}</c> (feature "references"),
    /// or that value plus <paramref name="add"/>: <c>{"answer":N,"add":K}</c> (feature "offsets").
    /// </summary>
    public void Reference(ReadOnlySpan<byte> key, long id, long add = 0)
    {
        Key(key);
        Raw("{\"answer\":"u8);
        Utf8Formatter.TryFormat(id, Room(20), out int n);
        Length += n;
        if (add != 0)
        {
            Raw(",\"add\":"u8);
            Utf8Formatter.TryFormat(add, Room(20), out n);
            Length += n;
        }
        Raw("}"u8);
    }

    public void Bool(ReadOnlySpan<byte> key, bool value)
    {
        Key(key);
        Raw(value ? "true"u8 : "false"u8);
    }

    public void Null(ReadOnlySpan<byte> key)
    {
        Key(key);
        Raw("null"u8);
    }

    public void String(ReadOnlySpan<byte> key, string value)
    {
        Key(key);
        Raw(JsonSerializer.SerializeToUtf8Bytes(value));
    }

    /// <summary>A string known to need no escaping (zone names).</summary>
    public void Ascii(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Key(key);
        Raw("\""u8);
        Raw(value);
        Raw("\""u8);
    }

    public static ReadOnlySpan<byte> ZoneName(Spec.Contract.Zone zone) => zone switch
    {
        Spec.Contract.Zone.Dma => "DMA"u8,
        Spec.Contract.Zone.Normal => "Normal"u8,
        _ => "HighMem"u8,
    };

    public static ReadOnlySpan<byte> AccessName(Spec.Contract.Access access) => access switch
    {
        Spec.Contract.Access.KernelRead => "KernelRead"u8,
        Spec.Contract.Access.KernelWrite => "KernelWrite"u8,
        Spec.Contract.Access.UserRead => "UserRead"u8,
        _ => "UserWrite"u8,
    };

    /// <summary>Bytes as one lowercase hex string, two digits per byte.</summary>
    public void HexBytes(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        Key(key);
        var s = Room(data.Length * 2 + 2);
        s[0] = (byte)'"';
        for (int i = 0; i < data.Length; i++)
        {
            s[1 + 2 * i] = Digits[data[i] >> 4];
            s[2 + 2 * i] = Digits[data[i] & 0xf];
        }
        s[1 + 2 * data.Length] = (byte)'"';
        Length += data.Length * 2 + 2;
    }

    /// <summary>A raw JSON value (already encoded).</summary>
    public void Json(ReadOnlySpan<byte> key, ReadOnlySpan<byte> json)
    {
        Key(key);
        Raw(json);
    }

    public void End() => Raw("}\n"u8);

    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;
}

/// <summary>
/// One parsed response line. The value is kept as a byte range of the line and decoded on demand;
/// everything else the adapter needs (id, ok, error fields, hello fields) is parsed eagerly.
/// Valid until the next line is read.
/// </summary>
internal sealed class Response
{
    public long Id;
    public bool Ok;
    public byte[] Line = [];
    public int LineStart, LineLength;
    public int ValueStart, ValueEnd;
    public JsonTokenType ValueType;
    public string? ErrorKind, ErrorRule, ErrorMessage, ErrorParameter, ErrorAddress;
    /// <summary>An answer to a lane request (protocol 5): "ns":[t0,t1], the program's CLOCK_MONOTONIC around the call.</summary>
    public bool HasNs;
    public long Ns0, Ns1;
    // Hello answer
    public long? Protocol;
    /// <summary>Hello's "cpus" (protocol 5: lanes the program runs at once); <see cref="CpusText"/> is set when it is not an integer.</summary>
    public long? Cpus;
    public string? CpusText;
    public string? Name;
    public List<string>? Capabilities, Features;

    public ReadOnlySpan<byte> Value => Line.AsSpan(ValueStart, ValueEnd - ValueStart);
    public bool HasValue => ValueType != JsonTokenType.None;

    /// <summary>Parses one line; returns an error description, or null when the line is a well-formed response object.</summary>
    public string? Parse(byte[] buffer, int start, int length)
    {
        Line = buffer;
        LineStart = start;
        LineLength = length;
        Id = -1;
        Ok = false;
        ValueType = JsonTokenType.None;
        ValueStart = ValueEnd = 0;
        ErrorKind = ErrorRule = ErrorMessage = ErrorParameter = ErrorAddress = null;
        Protocol = null;
        Cpus = null;
        CpusText = null;
        HasNs = false;
        Name = null;
        Capabilities = Features = null;
        bool sawOk = false, sawId = false;
        var line = buffer.AsSpan(start, length);
        if (TryParseCommon(line, start)) return null;
        if (!System.Text.Unicode.Utf8.IsValid(line))
        {
            int at = FirstInvalidUtf8(line);
            return $"not valid UTF-8 (byte 0x{line[at]:x2} at offset {at})";
        }
        try
        {
            var reader = new Utf8JsonReader(buffer.AsSpan(start, length), new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "not a JSON object";
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out Id)) return "\"id\" is not an integer";
                    sawId = true;
                }
                else if (reader.ValueTextEquals("ok"u8))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False)) return "\"ok\" is not true or false";
                    Ok = reader.TokenType == JsonTokenType.True;
                    sawOk = true;
                }
                else if (reader.ValueTextEquals("value"u8))
                {
                    reader.Read();
                    ValueType = reader.TokenType;
                    ValueStart = start + (int)reader.TokenStartIndex;
                    reader.Skip();
                    ValueEnd = start + (int)reader.BytesConsumed;
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject) return "\"error\" is not an object";
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        string name = reader.GetString()!;
                        reader.Read();
                        string? text = reader.TokenType switch
                        {
                            JsonTokenType.String => reader.GetString(),
                            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                            JsonTokenType.Null => null,
                            _ => null,
                        };
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
                        switch (name)
                        {
                            case "kind": ErrorKind = text; break;
                            case "rule": ErrorRule = text; break;
                            case "message": ErrorMessage = text; break;
                            case "parameter": ErrorParameter = text; break;
                            case "address": ErrorAddress = text; break;
                        }
                    }
                }
                else if (reader.ValueTextEquals("protocol"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long p)) Protocol = p;
                    else return "\"protocol\" is not an integer";
                }
                else if (reader.ValueTextEquals("ns"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return "\"ns\" is not an array [t0,t1] of two integers";
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out Ns0)) return "\"ns\" is not an array [t0,t1] of two integers";
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out Ns1)) return "\"ns\" is not an array [t0,t1] of two integers";
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.EndArray) return "\"ns\" is not an array [t0,t1] of two integers";
                    if (Ns1 < Ns0) return $"\"ns\" ends before it starts ([{Ns0},{Ns1}])";
                    HasNs = true;
                }
                else if (reader.ValueTextEquals("cpus"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long c)) Cpus = c;
                    else
                    {
                        CpusText = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? reader.TokenType.ToString() : Encoding.UTF8.GetString(reader.ValueSpan);
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) Name = reader.GetString();
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("capabilities"u8) || reader.ValueTextEquals("features"u8))
                {
                    bool caps = reader.ValueTextEquals("capabilities"u8);
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) return caps ? "\"capabilities\" is not an array" : "\"features\" is not an array";
                    var list = new List<string>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.String) return "capabilities and features must be strings";
                        list.Add(reader.GetString()!);
                    }
                    if (caps) Capabilities = list; else Features = list;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) return "malformed object";
            if (reader.Read()) return "text after the response object";
        }
        catch (JsonException e)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString on an escape that is not valid UTF-16 (a lone surrogate).
            return $"a string is not valid Unicode ({e.Message})";
        }
        if (!sawId) return "no \"id\"";
        if (!sawOk) return "no \"ok\"";
        if (!Ok && ErrorKind is null) return "\"ok\":false without an \"error\" object with a \"kind\"";
        return null;
    }

    /// <summary>
    /// The fast path for the answer nearly every line is, written exactly as the kits write it:
    /// <c>{"id":N,"ok":true}</c> or <c>{"id":N,"ok":true,"value":V}</c> with V null, true, false, an
    /// integer, or a string of ASCII letters and digits ("0x1f00", hex bytes, "Normal"). It accepts
    /// nothing the full parser would reject and decodes what it accepts the same way; every other line
    /// (errors, hello, objects and arrays, whitespace, escapes, other key orders) goes to the full parser.
    /// </summary>
    private bool TryParseCommon(ReadOnlySpan<byte> line, int start)
    {
        ReadOnlySpan<byte> head = "{\"id\":"u8, ok = ",\"ok\":true"u8, value = ",\"value\":"u8;
        if (line.Length < head.Length + 1 + ok.Length + 1 || !line.StartsWith(head) || line[^1] != (byte)'}') return false;
        int i = head.Length;
        int digits = IntegerLength(line[i..], allowMinus: false);
        if (digits is 0 or > 18) return false;
        long id = 0;
        foreach (byte d in line.Slice(i, digits)) id = id * 10 + (d - '0');
        i += digits;
        if (!line[i..].StartsWith(ok)) return false;
        i += ok.Length;
        if (i == line.Length - 1)
        {
            Id = id;
            Ok = true;
            return true;
        }
        if (!line[i..].StartsWith(value)) return false;
        i += value.Length;
        var v = line[i..^1];
        JsonTokenType type;
        if (v.SequenceEqual("null"u8)) type = JsonTokenType.Null;
        else if (v.SequenceEqual("true"u8)) type = JsonTokenType.True;
        else if (v.SequenceEqual("false"u8)) type = JsonTokenType.False;
        else if (v.Length >= 2 && v[0] == '"' && v[^1] == '"')
        {
            foreach (byte c in v[1..^1])
                if (!char.IsAsciiLetterOrDigit((char)c)) return false;
            type = JsonTokenType.String;
        }
        else if (v.Length > 0 && IntegerLength(v, allowMinus: true) == v.Length) type = JsonTokenType.Number;
        else return false;
        Id = id;
        Ok = true;
        ValueType = type;
        ValueStart = start + i;
        ValueEnd = start + line.Length - 1;
        return true;
    }

    /// <summary>Length of the JSON integer at the start of <paramref name="s"/> ("0" or no leading zero, at most 19 digits), 0 for none.</summary>
    private static int IntegerLength(ReadOnlySpan<byte> s, bool allowMinus)
    {
        int i = allowMinus && s.Length > 0 && s[0] == '-' ? 1 : 0;
        int first = i;
        while (i < s.Length && i - first < 20 && char.IsAsciiDigit((char)s[i])) i++;
        int n = i - first;
        if (n == 0 || n > 19 || (n > 1 && s[first] == '0')) return 0;
        return i;
    }

    /// <summary>Offset of the first byte that does not start or continue a valid UTF-8 sequence (for messages).</summary>
    internal static int FirstInvalidUtf8(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(s[i..], out _, out int consumed);
            if (status != System.Buffers.OperationStatus.Done) return i;
            i += consumed;
        }
        return Math.Max(0, s.Length - 1);
    }

    /// <summary>A copy that stays valid after the next line is read (a lane answer handed to the thread that awaits it).</summary>
    public Response Detach()
    {
        var bytes = Line.AsSpan(LineStart, LineLength).ToArray();
        var copy = new Response();
        copy.Parse(bytes, 0, bytes.Length);
        return copy;
    }

    /// <summary>The value's JSON text, for messages.</summary>
    public string ValueText() => Encoding.UTF8.GetString(Value);

    // ---- Value decoding: each returns false when the value has the wrong type ---------------

    /// <summary>An address, pfn or handle: "0x..." or decimal string, or a JSON integer; null is 0 (NULL).</summary>
    public bool TryU64(out ulong value)
    {
        value = 0;
        switch (ValueType)
        {
            case JsonTokenType.Null: return true;
            case JsonTokenType.Number: return Utf8Parser.TryParse(Value, out value, out int n) && n == Value.Length;
            case JsonTokenType.String: return TryParseU64(Value[1..^1], out value);
            default: return false;
        }
    }

    /// <summary>A count: JSON integer, or a decimal/"0x" string.</summary>
    public bool TryI64(out long value)
    {
        value = 0;
        switch (ValueType)
        {
            case JsonTokenType.Number: return Utf8Parser.TryParse(Value, out value, out int n) && n == Value.Length;
            case JsonTokenType.String:
                if (TryParseU64(Value[1..^1], out ulong u) && u <= long.MaxValue) { value = (long)u; return true; }
                return false;
            default: return false;
        }
    }

    public bool TryBool(out bool value)
    {
        value = ValueType == JsonTokenType.True;
        return ValueType is JsonTokenType.True or JsonTokenType.False;
    }

    /// <summary>Hex-encoded bytes of exactly the destination's length.</summary>
    public bool TryHexBytes(Span<byte> destination)
    {
        if (ValueType != JsonTokenType.String) return false;
        var hex = Value[1..^1];
        if (hex.Length != destination.Length * 2) return false;
        for (int i = 0; i < destination.Length; i++)
        {
            int hi = HexDigit(hex[2 * i]), lo = HexDigit(hex[2 * i + 1]);
            if ((hi | lo) < 0) return false;
            destination[i] = (byte)(hi << 4 | lo);
        }
        return true;
    }

    public bool TryZone(out Spec.Contract.Zone zone)
    {
        zone = default;
        if (ValueType == JsonTokenType.Number && TryI64(out long n) && n is >= 0 and <= 2) { zone = (Spec.Contract.Zone)n; return true; }
        if (ValueType != JsonTokenType.String) return false;
        var s = Value[1..^1];
        if (Ascii.EqualsIgnoreCase(s, "DMA"u8)) zone = Spec.Contract.Zone.Dma;
        else if (Ascii.EqualsIgnoreCase(s, "Normal"u8)) zone = Spec.Contract.Zone.Normal;
        else if (Ascii.EqualsIgnoreCase(s, "HighMem"u8)) zone = Spec.Contract.Zone.HighMem;
        else return false;
        return true;
    }

    /// <summary>A translation: the physical address ("0x..." string), or a fault's name ("NotPresent", "Protection", "UserAccessToKernel").</summary>
    public bool TryTranslation(out Spec.Contract.Translation translation)
    {
        translation = default;
        if (ValueType != JsonTokenType.String) return false;
        var s = Value[1..^1];
        if (s.SequenceEqual("NotPresent"u8)) translation = Spec.Contract.Translation.Faulted(Spec.Contract.TranslationFault.NotPresent);
        else if (s.SequenceEqual("Protection"u8)) translation = Spec.Contract.Translation.Faulted(Spec.Contract.TranslationFault.Protection);
        else if (s.SequenceEqual("UserAccessToKernel"u8)) translation = Spec.Contract.Translation.Faulted(Spec.Contract.TranslationFault.UserAccessToKernel);
        else if (s.Length > 2 && s[0] == '0' && (s[1] | 0x20) == 'x' && TryParseU64(s, out ulong pa)) translation = Spec.Contract.Translation.Mapped(pa);
        else return false;
        return true;
    }

    public static bool TryParseU64(ReadOnlySpan<byte> s, out ulong value)
    {
        value = 0;
        if (s.Length > 2 && s[0] == '0' && (s[1] | 0x20) == 'x')
        {
            s = s[2..];
            if (s.Length is 0 or > 16) return false;
            foreach (byte c in s)
            {
                int d = HexDigit(c);
                if (d < 0) return false;
                value = value << 4 | (uint)d;
            }
            return true;
        }
        return s.Length > 0 && Utf8Parser.TryParse(s, out value, out int n) && n == s.Length;
    }

    public static bool TryParseU64(string? s, out ulong value)
    {
        value = 0;
        return s is not null && TryParseU64(Encoding.UTF8.GetBytes(s), out value);
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>The line as text for messages, cut to <paramref name="max"/> characters.</summary>
    public string Text(int max = 200) => Clip(Encoding.UTF8.GetString(Line, LineStart, LineLength), max);

    public static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + $"... ({s.Length} characters)";
}
