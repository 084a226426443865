using System.Text;
using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.OutOfProcess;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Generated garbage fed to every parser of answers (the response line, its value decoders, the
/// snapshot and slabinfo values): each returns a description of what is wrong or a value, and never
/// throws. Inputs: random bytes, valid answers with bytes flipped, inserted, deleted or cut, and
/// random JSON of every shape (deep nesting, huge numbers, escapes, lone surrogates, invalid UTF-8).
/// Deterministic (fixed seeds); a failure prints the input.
/// </summary>
public class AnswerParserFuzzTests
{
    private static readonly string[] Valid =
    [
        """{"id":7,"ok":true,"value":"0xc0001000"}""",
        """{"id":7,"ok":true,"value":null}""",
        """{"id":7,"ok":true,"value":12}""",
        """{"id":7,"ok":true,"value":"deadbeef00"}""",
        """{"id":7,"ok":true,"value":"Normal"}""",
        """{"id":7,"ok":false,"error":{"kind":"bug","rule":"PAGE-4","message":"double free"}}""",
        """{"id":7,"ok":false,"error":{"kind":"fault","address":"0x1000","message":"no mapping"}}""",
        """{"id":1,"ok":true,"protocol":2,"name":"c-buddy","capabilities":["PageAllocator","Kmalloc"],"features":["snapshot"]}""",
        """{"id":9,"ok":true,"value":{"free":[[0,1,2],[3,4,5],[6,7,8]],"reclaimable":[0,0,0],"sleeps":3,"inInterrupt":false,"inAtomic":true}}""",
        """{"id":9,"ok":true,"value":[{"name":"size-32","activeObjects":1,"totalObjects":128,"objectSize":32,"laidOutSize":32,"objectsPerSlab":128,"pagesPerSlab":1,"slabs":1,"constructorCalls":0}]}""",
    ];

    private static Gen<byte[]> RandomBytes =>
        from n in Gen.Choose(0, 120)
        from bytes in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(n)
        select bytes;

    private static Gen<byte[]> Mutated =>
        from template in Gen.Elements(Valid)
        from edits in Gen.Choose(1, 6)
        from seeds in Gen.Choose(0, int.MaxValue).ArrayOf(edits * 3)
        select Mutate(Encoding.UTF8.GetBytes(template), seeds);

    private static byte[] Mutate(byte[] line, int[] seeds)
    {
        var bytes = line.ToList();
        for (int i = 0; i + 2 < seeds.Length; i += 3)
        {
            if (bytes.Count == 0) break;
            int at = seeds[i + 1] % bytes.Count;
            byte b = (byte)(seeds[i + 2] % 256);
            switch (seeds[i] % 5)
            {
                case 0: bytes[at] = b; break;                          // flip
                case 1: bytes.Insert(at, b); break;                    // insert
                case 2: bytes.RemoveAt(at); break;                     // delete
                case 3: bytes.RemoveRange(at, bytes.Count - at); break; // cut
                default: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Pieces[seeds[i + 2] % Pieces.Length])); break;
            }
        }
        return bytes.ToArray();
    }

    private static readonly string[] Pieces =
    [
        "\\ud800", "\\u0000", "\"", "{", "[", "]]]]", "99999999999999999999999", "-1", "1e308", "null", "true", "\\", "\u00ff", "0x",
        "\"value\":", "\"id\":", ",", ":", "\"ok\":true", "[[[[[[[[[[[[[[[[[[[[", "\"0xffffffffffffffffff\"", "\"kind\":\"bug\"",
    ];

    private static Gen<string> Json(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, from n in Gen.Choose(0, 4) from items in Json(depth - 1).ArrayOf(n) select $"[{string.Join(",", items)}]"),
            (1, from n in Gen.Choose(0, 4)
                from keys in Gen.Elements("id", "ok", "value", "error", "kind", "rule", "message", "address", "parameter", "protocol", "name",
                                          "capabilities", "features", "free", "reclaimable", "sleeps", "inInterrupt", "inAtomic", "activeObjects", "x").ArrayOf(n)
                from values in Json(depth - 1).ArrayOf(n)
                select "{" + string.Join(",", keys.Zip(values, (k, v) => $"\"{k}\":{v}")) + "}"));

    private static Gen<string> Scalar => Gen.OneOf(
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => i.ToString()),
        Gen.Elements("null", "true", "false", "1.5", "-0", "1e400", "18446744073709551616", "\"\"", "\"0x\"", "\"0xc0001000\"", "\"DMA\"",
                     "\"\\ud800\"", "\"\\u00e9\"", "\"abc\\\"def\"", "\"ab\"", "\"zz\""));

    private static Gen<byte[]> RandomJson =>
        from depth in Gen.Choose(0, 5)
        from id in Gen.Choose(-2, 9)
        from body in Json(depth)
        from wrap in Gen.Elements(true, false)
        select Encoding.UTF8.GetBytes(wrap ? $"{{\"id\":{id},\"ok\":true,\"value\":{body}}}" : body);

    private static Gen<byte[]> Garbage => Gen.Frequency((1, RandomBytes), (3, Mutated), (3, RandomJson));

    /// <summary>Everything the runner may do with one answer line; returns normally or throws (a finding).</summary>
    private static void Exercise(byte[] line)
    {
        var r = new Response();
        string? error = r.Parse(line, 0, line.Length);
        _ = r.Text();
        if (error is not null) return;
        _ = r.TryU64(out _);
        _ = r.TryI64(out _);
        _ = r.TryBool(out _);
        _ = r.TryZone(out _);
        _ = r.TryHexBytes(new byte[5]);
        _ = r.TryHexBytes(new byte[0]);
        _ = r.ValueText();
        _ = Response.TryParseU64(r.ErrorAddress, out _);
        _ = SlabInfoParser.Parse(r.Value, out _);
        var free = new long[3 * 3];
        _ = SnapshotParser.Parse(r.Value, 3, true, true, free, new long[3], out _, out _, out _);
    }

    [Fact]
    public void GeneratedGarbage_NeverMakesAParserThrow()
    {
        Prop.ForAll(Garbage.ToArbitrary(), line =>
        {
            try { Exercise(line); return true; }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{e.GetType().Name} on input: {Convert.ToHexString(line)} ({Encoding.UTF8.GetString(line)})", e);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000).WithReplay(20250611, 0x9E3779B97F4A7C15UL));
    }

    /// <summary>
    /// Response.Parse takes a fast path for the common answer shape ({"id":N,"ok":true,"value":V}); a
    /// leading space sends the same line through the full JSON parser (it skips leading whitespace, the
    /// fast path does not take such a line). Both must agree on every line: accepted or not, id, ok, value.
    /// </summary>
    [Fact]
    public void FastPath_DecodesAsTheFullParser()
    {
        var common = from id in Gen.Choose(0, int.MaxValue)
                     from v in Gen.Elements("null", "true", "false", "0", "-0", "7", "-12", "0012", "123456789012345678901", "1.5", "1e3", "\"0x1f00\"",
                                            "\"deadbeef\"", "\"Normal\"", "\"\"", "\"a b\"", "\"a\\\"b\"", "\"0x\u0041\"", "", "nul", "\"open", "-")
                     from noValue in Gen.Elements(false, false, false, true)
                     from tail in Gen.Elements("}", "}", "}", "} ", "}}", ",}", ",\"x\":1}")
                     select Encoding.UTF8.GetBytes(noValue ? $"{{\"id\":{id},\"ok\":true{tail}" : $"{{\"id\":{id},\"ok\":true,\"value\":{v}{tail}");
        Prop.ForAll(Gen.Frequency((3, common), (2, Mutated), (1, RandomJson)).ToArbitrary(), line =>
        {
            var fast = new Response();
            string? fastError = fast.Parse(line, 0, line.Length);
            var spaced = new byte[line.Length + 1];
            spaced[0] = (byte)' ';
            line.CopyTo(spaced, 1);
            var full = new Response();
            string? fullError = full.Parse(spaced, 0, spaced.Length);
            string input = Encoding.UTF8.GetString(line);
            Assert.True((fastError is null) == (fullError is null), $"{input}: fast path says {fastError ?? "ok"}, full parser {fullError ?? "ok"}");
            if (fastError is not null) return true;
            Assert.Equal(full.Id, fast.Id);
            Assert.Equal(full.Ok, fast.Ok);
            Assert.Equal(full.ValueType, fast.ValueType);
            Assert.Equal(full.ErrorKind, fast.ErrorKind);
            Assert.True(full.Value.SequenceEqual(fast.Value), $"{input}: value {fast.ValueText()} vs {full.ValueText()}");
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000).WithReplay(20261129, 0x2545F4914F6CDD1DUL));
    }

    [Fact]
    public void ValidAnswers_StillParse()
    {
        foreach (var line in Valid)
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            var r = new Response();
            Assert.Null(r.Parse(bytes, 0, bytes.Length));
            Assert.Equal(line.Contains("\"id\":1,") ? 1 : line.Contains("\"id\":9") ? 9 : 7, r.Id);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x31, 0x2c, 0x22, 0x6f, 0x6b, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x2c, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d }, "not valid UTF-8 (byte 0xff at offset 26)")]
    [InlineData(new byte[] { 0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x31, 0x2c, 0x22, 0x6f, 0x6b, 0x22, 0x3a, 0x74, 0x72, 0x75, 0x65, 0x2c, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0x5c, 0x75, 0x64, 0x38, 0x30, 0x30, 0x22, 0x7d }, "not valid Unicode")]
    public void TheHelloNameOfIssue7_IsAnError_NotAnException(byte[] line, string expected)
    {
        // {"id":1,"ok":true,"name":"\377"} and {"id":1,"ok":true,"name":"\ud800"}
        var r = new Response();
        Assert.Contains(expected, r.Parse(line, 0, line.Length));
    }
}
