using System.Text.Json;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The value of a "slabInfo" answer: an array of objects, one per cache, each with "name" (a
/// string) and the integer fields activeObjects, totalObjects, objectSize, laidOutSize,
/// objectsPerSlab, pagesPerSlab, slabs and constructorCalls (unknown fields are ignored).
/// </summary>
internal static class SlabInfoParser
{
    private static readonly string[] Numbers =
        ["activeObjects", "totalObjects", "objectSize", "laidOutSize", "objectsPerSlab", "pagesPerSlab", "slabs", "constructorCalls"];

    /// <summary>Longest list accepted (a program listing millions of caches is broken, and would cost the runner that much memory).</summary>
    public const int MaxCaches = 100_000;

    /// <summary>Returns a description of what is wrong, or null with the lines.</summary>
    public static string? Parse(ReadOnlySpan<byte> json, out IReadOnlyList<SlabInfo> lines)
    {
        var list = new List<SlabInfo>();
        lines = list;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return "not an array";
            var values = new long[Numbers.Length];
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (list.Count >= MaxCaches) return $"more than {MaxCaches} caches";
                if (reader.TokenType != JsonTokenType.StartObject) return $"entry {list.Count} is not an object";
                string? name = null;
                int seen = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("name"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String) return $"entry {list.Count}: \"name\" is not a string";
                        name = reader.GetString();
                        continue;
                    }
                    int field = -1;
                    for (int i = 0; i < Numbers.Length; i++)
                        if (reader.ValueTextEquals(Numbers[i])) { field = i; break; }
                    reader.Read();
                    if (field < 0) { reader.Skip(); continue; }
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out values[field]))
                        return $"entry {list.Count}: \"{Numbers[field]}\" is not an integer";
                    seen |= 1 << field;
                }
                if (name is null) return $"entry {list.Count} has no \"name\"";
                if (seen != (1 << Numbers.Length) - 1)
                    return $"entry {list.Count} ({name}) lacks {string.Join(", ", Numbers.Where((_, i) => (seen & 1 << i) == 0).Select(n => $"\"{n}\""))}";
                list.Add(new SlabInfo
                {
                    Name = name,
                    ActiveObjects = values[0],
                    TotalObjects = values[1],
                    ObjectSize = values[2],
                    LaidOutSize = values[3],
                    ObjectsPerSlab = values[4],
                    PagesPerSlab = values[5],
                    Slabs = values[6],
                    ConstructorCalls = values[7],
                });
            }
            if (reader.TokenType != JsonTokenType.EndArray) return "unterminated array";
        }
        catch (JsonException e)
        {
            return $"not valid JSON ({e.Message.Split(" LineNumber")[0]})";
        }
        catch (InvalidOperationException e)
        {
            return $"not valid JSON ({e.Message})";
        }
        return null;
    }
}
