using System.Text.Json;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The value of a "snapshot" answer: {"free":[[..],[..],[..]],"reclaimable":[..],"sleeps":n,
/// "inInterrupt":b,"inAtomic":b} (docs/protocol.md). Unknown fields are ignored.
/// </summary>
internal static class SnapshotParser
{
    /// <summary>Fills the arrays; returns a description of what is wrong, or null.</summary>
    public static string? Parse(ReadOnlySpan<byte> json, int orders, bool reclaim, bool ctx, long[] free, long[] reclaimable,
        out long sleeps, out bool inInterrupt, out bool inAtomic)
    {
        sleeps = 0;
        inInterrupt = inAtomic = false;
        bool sawFree = false, sawReclaim = false, sawSleeps = false, sawIrq = false, sawAtomic = false;
        string? problem = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "not an object";
            while (problem is null && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("free"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { problem = "\"free\" is not an array"; break; }
                    for (int z = 0; z < Zones.Count && problem is null; z++)
                    {
                        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) { problem = $"\"free\" must hold {Zones.Count} arrays (DMA, Normal, HighMem)"; break; }
                        for (int o = 0; o < orders; o++)
                        {
                            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out free[z * orders + o]))
                            { problem = $"\"free\"[{z}] must hold {orders} integers (orders 0..{orders - 1})"; break; }
                        }
                        if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"free\"[{z}] must hold exactly {orders} integers (orders 0..{orders - 1})";
                    }
                    if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"free\" must hold exactly {Zones.Count} arrays";
                    sawFree = true;
                }
                else if (reader.ValueTextEquals("reclaimable"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { problem = "\"reclaimable\" is not an array"; break; }
                    for (int z = 0; z < Zones.Count; z++)
                        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out reclaimable[z]))
                        { problem = $"\"reclaimable\" must hold {Zones.Count} integers"; break; }
                    if (problem is null && (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)) problem = $"\"reclaimable\" must hold exactly {Zones.Count} integers";
                    sawReclaim = true;
                }
                else if (reader.ValueTextEquals("sleeps"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out sleeps)) problem = "\"sleeps\" is not an integer";
                    sawSleeps = true;
                }
                else if (reader.ValueTextEquals("inInterrupt"u8) || reader.ValueTextEquals("inAtomic"u8))
                {
                    bool irq = reader.ValueTextEquals("inInterrupt"u8);
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False)) { problem = "\"inInterrupt\" and \"inAtomic\" must be true or false"; break; }
                    if (irq) { inInterrupt = reader.TokenType == JsonTokenType.True; sawIrq = true; }
                    else { inAtomic = reader.TokenType == JsonTokenType.True; sawAtomic = true; }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException e)
        {
            problem = e.Message.Split(" LineNumber")[0];
        }
        catch (InvalidOperationException e)
        {
            problem = e.Message;
        }
        problem ??= !sawFree ? "no \"free\""
            : reclaim && !sawReclaim ? "no \"reclaimable\" (the program declares Reclaim)"
            : ctx && !(sawSleeps && sawIrq && sawAtomic) ? "no \"sleeps\", \"inInterrupt\" or \"inAtomic\" (the program declares ExecutionContext)"
            : null;
        if (!reclaim) Array.Clear(reclaimable);
        return problem;
    }
}
