using System.Text.Json;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The answer values protocol 4 adds for the user family (docs/protocol.md, "User space"): a user fault's
/// name, a user load (<c>{"fault":"None","data":"hex"}</c>), the bytes a copy delivered (a hex string of at
/// most the asked length), a result with an out value (<c>{"result":0,"value":"0x2a"}</c>) and a driver's vma
/// (an object or null). Each parser takes the value's JSON text and returns a description of what is wrong,
/// or null with the decoded value; none throws, whatever the bytes (tests/OutOfProcess/UserAnswerParserTests).
/// </summary>
internal static class UserAnswerParser
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 4 };

    /// <summary>The fault names, in the order of <see cref="UserFault"/>'s values.</summary>
    public static readonly string[] FaultNames = ["None", "MapError", "AccessError", "Bus", "OutOfMemory"];

    private const string Faults = "\"None\", \"MapError\", \"AccessError\", \"Bus\" or \"OutOfMemory\"";

    /// <summary>"None", "MapError", "AccessError", "Bus" or "OutOfMemory" (a JSON string, exactly).</summary>
    public static string? Fault(ReadOnlySpan<byte> json, out UserFault fault)
    {
        return Parse<UserFault>(json, FaultToken, out fault);
    }

    private static string? FaultToken(ref Utf8JsonReader reader, out UserFault fault)
    {
        fault = UserFault.None;
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return $"a fault must be {Faults}";
        for (int i = 0; i < FaultNames.Length; i++)
            if (reader.ValueTextEquals(FaultNames[i])) { fault = (UserFault)i; return null; }
        return $"unknown fault; a fault must be {Faults}";
    }

    /// <summary>
    /// <c>{"fault":"None","data":"hex"}</c> with exactly <paramref name="destination"/>.Length bytes, or another
    /// fault with "data" absent or null (the destination is then left as it is).
    /// </summary>
    public static string? UserLoad(ReadOnlySpan<byte> json, Span<byte> destination, out UserFault fault)
    {
        fault = UserFault.None;
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "not an object";
            bool sawFault = false, sawData = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("fault"u8))
                {
                    if (sawFault) return "\"fault\" twice";
                    reader.Read();
                    if (FaultToken(ref reader, out fault) is { } problem) return problem;
                    sawFault = true;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    if (sawData) return "\"data\" twice";
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return "\"data\" is not a hex string";
                    if (reader.ValueSpan.Length != destination.Length * 2)
                        return $"\"data\" has {reader.ValueSpan.Length} hex digits, {destination.Length * 2} expected ({destination.Length} bytes)";
                    if (!Hex(reader.ValueSpan, destination)) return "\"data\" is not a hex string";
                    sawData = true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) return "malformed object";
            if (!sawFault) return "no \"fault\"";
            if (fault == UserFault.None && !sawData) return "\"fault\":\"None\" without \"data\"";
            if (fault != UserFault.None && sawData) return $"\"fault\":\"{FaultNames[(int)fault]}\" with \"data\" (a faulting load reads nothing)";
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
    }

    /// <summary>A hex string of 0 to <paramref name="destination"/>.Length bytes, copied to its start; <paramref name="count"/> is how many.</summary>
    public static string? CopiedBytes(ReadOnlySpan<byte> json, Span<byte> destination, out int count)
    {
        count = 0;
        if (json.Length < 2 || json[0] != '"' || json[^1] != '"') return "not a hex string";
        var hex = json[1..^1];
        if (hex.Length % 2 != 0) return $"an odd number of hex digits ({hex.Length})";
        if (hex.Length / 2 > destination.Length) return $"{hex.Length / 2} bytes, more than the {destination.Length} asked";
        if (!Hex(hex, destination[..(hex.Length / 2)])) return "not a hex string";
        count = hex.Length / 2;
        return null;
    }

    /// <summary><c>{"result":N,"value":"0x…"}</c>: value required when result is 0, else absent, null or anything numeric (taken as 0).</summary>
    public static string? ResultWithValue(ReadOnlySpan<byte> json, out long result, out ulong value)
    {
        result = 0;
        value = 0;
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "not an object";
            bool sawResult = false, sawValue = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("result"u8))
                {
                    if (sawResult) return "\"result\" twice";
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out result)) return "\"result\" is not an integer";
                    sawResult = true;
                }
                else if (reader.ValueTextEquals("value"u8))
                {
                    if (sawValue) return "\"value\" twice";
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue;
                    if (U64(ref reader, out value) is { } problem) return "\"value\" " + problem;
                    sawValue = true;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject) return "malformed object";
            if (!sawResult) return "no \"result\"";
            if (result == 0 && !sawValue) return "\"result\":0 without \"value\"";
            if (result != 0) value = 0;
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
    }

    private static readonly string[] VmaFields = ["vmStart", "vmEnd", "vmPgoff", "vmPageProt", "shared"];

    /// <summary>null, or <c>{"vmStart":"0x…","vmEnd":"0x…","vmPgoff":"0x…","vmPageProt":N,"shared":B}</c>, every field required.</summary>
    public static string? Vma(ReadOnlySpan<byte> json, out DriverVma? vma)
    {
        vma = null;
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read()) return "no value";
            if (reader.TokenType == JsonTokenType.Null) return reader.Read() ? "text after null" : null;
            if (reader.TokenType != JsonTokenType.StartObject) return "neither an object nor null";
            ulong start = 0, end = 0, pgoff = 0;
            long prot = 0;
            bool shared = false;
            int seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int field = -1;
                for (int i = 0; i < VmaFields.Length; i++)
                    if (reader.ValueTextEquals(VmaFields[i])) { field = i; break; }
                reader.Read();
                if (field < 0) { reader.Skip(); continue; }
                if ((seen & 1 << field) != 0) return $"\"{VmaFields[field]}\" twice";
                seen |= 1 << field;
                string? problem = field switch
                {
                    0 => U64(ref reader, out start),
                    1 => U64(ref reader, out end),
                    2 => U64(ref reader, out pgoff),
                    3 => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out prot) && prot is >= 0 and <= int.MaxValue ? null : "is not a PROT_ mask (a JSON integer)",
                    _ => reader.TokenType is JsonTokenType.True or JsonTokenType.False ? null : "is not true or false",
                };
                if (problem is not null) return $"\"{VmaFields[field]}\" {problem}";
                if (field == 4) shared = reader.TokenType == JsonTokenType.True;
            }
            if (reader.TokenType != JsonTokenType.EndObject) return "malformed object";
            if (seen != (1 << VmaFields.Length) - 1)
                return "lacks " + string.Join(", ", VmaFields.Where((_, i) => (seen & 1 << i) == 0).Select(n => $"\"{n}\""));
            vma = new DriverVma(start, end, pgoff, (Prot)prot, shared);
            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
    }

    /// <summary>Runs a one-token parser over a whole value (nothing may follow it).</summary>
    private delegate string? TokenParser<T>(ref Utf8JsonReader reader, out T value);

    private static string? Parse<T>(ReadOnlySpan<byte> json, TokenParser<T> parse, out T value)
    {
        value = default!;
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read()) return "no value";
            if (parse(ref reader, out value) is { } problem) return problem;
            return reader.Read() ? "text after the value" : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
    }

    /// <summary>A 64-bit quantity: a "0x…" or decimal string, or a non-negative JSON integer.</summary>
    private static string? U64(ref Utf8JsonReader reader, out ulong value)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.Number) return reader.TryGetUInt64(out value) ? null : "is not a 64-bit unsigned integer";
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && Response.TryParseU64(reader.ValueSpan, out value)) return null;
        return "is not a \"0x…\" string";
    }

    private static bool Hex(ReadOnlySpan<byte> hex, Span<byte> destination)
    {
        if (hex.Length != destination.Length * 2) return false;
        for (int i = 0; i < destination.Length; i++)
        {
            int hi = Digit(hex[2 * i]), lo = Digit(hex[2 * i + 1]);
            if ((hi | lo) < 0) return false;
            destination[i] = (byte)(hi << 4 | lo);
        }
        return true;
    }

    private static int Digit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
