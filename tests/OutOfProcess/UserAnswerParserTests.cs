using System.Text;
using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Contract;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The parsers of protocol 4's answer values (UserAnswerParser: user fault, user load, copied bytes,
/// result with value, vma): what they accept and what they refuse, and generated garbage (random bytes,
/// valid values mutated, random JSON of every shape) that never makes one throw. Deterministic (fixed seed).
/// </summary>
public class UserAnswerParserTests
{
    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void ValidValues_Decode()
    {
        Assert.Null(UserAnswerParser.Fault(U("\"AccessError\""), out var fault));
        Assert.Equal(UserFault.AccessError, fault);

        var four = new byte[4];
        Assert.Null(UserAnswerParser.UserLoad(U("""{"fault":"None","data":"2a00ff01"}"""), four, out fault));
        Assert.Equal(UserFault.None, fault);
        Assert.Equal(new byte[] { 0x2a, 0, 0xff, 1 }, four);
        Assert.Null(UserAnswerParser.UserLoad(U("""{"data":null,"fault":"Bus"}"""), four, out fault));
        Assert.Equal(UserFault.Bus, fault);

        var buffer = new byte[8];
        Assert.Null(UserAnswerParser.CopiedBytes(U("\"0102AB\""), buffer, out int count));
        Assert.Equal(3, count);
        Assert.Equal(new byte[] { 1, 2, 0xab }, buffer[..3]);
        Assert.Null(UserAnswerParser.CopiedBytes(U("\"\""), buffer, out count));
        Assert.Equal(0, count);

        Assert.Null(UserAnswerParser.ResultWithValue(U("""{"result":0,"value":"0xffffffffffffffff"}"""), out long result, out ulong value));
        Assert.Equal((0L, ulong.MaxValue), (result, value));
        Assert.Null(UserAnswerParser.ResultWithValue(U("""{"result":-14,"value":"0x99"}"""), out result, out value));
        Assert.Equal((-14L, 0UL), (result, value));
        Assert.Null(UserAnswerParser.ResultWithValue(U("""{"result":-14}"""), out result, out value));

        Assert.Null(UserAnswerParser.Vma(U("null"), out var vma));
        Assert.Null(vma);
        Assert.Null(UserAnswerParser.Vma(U("""{"vmStart":"0x40000000","vmEnd":"0x40002000","vmPgoff":1,"vmPageProt":3,"shared":true,"extra":[1]}"""), out vma));
        Assert.Equal(new DriverVma(0x40000000, 0x40002000, 1, Prot.Read | Prot.Write, true), vma);
    }

    [Theory]
    [InlineData("fault", "\"none\"", "unknown fault")]
    [InlineData("fault", "\"MapError\" 1", "not valid JSON")]
    [InlineData("fault", "3", "a fault must be")]
    [InlineData("fault", "\"Map\\u0045rror\"", "a fault must be")]
    [InlineData("load", """{"fault":"None"}""", "without \"data\"")]
    [InlineData("load", """{"fault":"None","data":"00"}""", "2 hex digits, 8 expected")]
    [InlineData("load", """{"fault":"MapError","data":"00000000"}""", "a faulting load reads nothing")]
    [InlineData("load", """{"fault":"None","data":"0000zz00"}""", "not a hex string")]
    [InlineData("load", """{"fault":"None","fault":"None","data":"00000000"}""", "\"fault\" twice")]
    [InlineData("load", """{"data":"00000000"}""", "no \"fault\"")]
    [InlineData("load", "\"00000000\"", "not an object")]
    [InlineData("copied", "\"000\"", "odd number")]
    [InlineData("copied", "\"000000000000000000\"", "more than the 8 asked")]
    [InlineData("copied", "12", "not a hex string")]
    [InlineData("result", """{"value":"0x1"}""", "no \"result\"")]
    [InlineData("result", """{"result":0}""", "without \"value\"")]
    [InlineData("result", """{"result":0.5,"value":"0x1"}""", "not an integer")]
    [InlineData("result", """{"result":0,"value":"0x10000000000000000"}""", "\"value\" is not")]
    [InlineData("result", """{"result":0,"value":-1}""", "\"value\" is not")]
    [InlineData("vma", """{"vmStart":"0x0","vmEnd":"0x1000","vmPgoff":"0x0","vmPageProt":3}""", "lacks \"shared\"")]
    [InlineData("vma", """{"vmStart":"0x0","vmEnd":"0x1000","vmPgoff":"0x0","vmPageProt":-1,"shared":true}""", "\"vmPageProt\" is not")]
    [InlineData("vma", """{"vmStart":"x","vmEnd":"0x1000","vmPgoff":"0x0","vmPageProt":3,"shared":true}""", "\"vmStart\" is not")]
    [InlineData("vma", """{"vmStart":"0x0","vmStart":"0x0"}""", "\"vmStart\" twice")]
    [InlineData("vma", "[]", "neither an object nor null")]
    public void MalformedValues_AreDescribed_NotThrown(string type, string json, string expected)
    {
        string? problem = Parse(type, U(json));
        Assert.NotNull(problem);
        Assert.Contains(expected, problem);
    }

    private static string? Parse(string type, byte[] json) => type switch
    {
        "fault" => UserAnswerParser.Fault(json, out _),
        "load" => UserAnswerParser.UserLoad(json, new byte[4], out _),
        "copied" => UserAnswerParser.CopiedBytes(json, new byte[8], out _),
        "result" => UserAnswerParser.ResultWithValue(json, out _, out _),
        _ => UserAnswerParser.Vma(json, out _),
    };

    private static readonly string[] Valid =
    [
        "\"OutOfMemory\"",
        """{"fault":"None","data":"2a00ff01"}""",
        """{"fault":"MapError"}""",
        "\"deadbeef\"",
        """{"result":0,"value":"0x2a"}""",
        """{"vmStart":"0x40000000","vmEnd":"0x40002000","vmPgoff":"0x1","vmPageProt":3,"shared":true}""",
        "null",
    ];

    private static readonly string[] Pieces =
    [
        "\\ud800", "\\u0000", "\"", "{", "[", "]]]]", "99999999999999999999999", "-1", "1e308", "null", "true", "\\", "\u00ff", "0x",
        "\"fault\":", "\"data\":", "\"result\":", "\"value\":", "\"vmStart\":", "\"shared\":", ",", ":", "[[[[[[[[[[", "\"0xffffffffffffffffff\"",
    ];

    private static Gen<byte[]> Mutated =>
        from template in Gen.Elements(Valid)
        from edits in Gen.Choose(1, 5)
        from seeds in Gen.Choose(0, int.MaxValue).ArrayOf(edits * 3)
        select Mutate(U(template), seeds);

    private static byte[] Mutate(byte[] value, int[] seeds)
    {
        var bytes = value.ToList();
        for (int i = 0; i + 2 < seeds.Length; i += 3)
        {
            if (bytes.Count == 0) break;
            int at = seeds[i + 1] % bytes.Count;
            switch (seeds[i] % 4)
            {
                case 0: bytes[at] = (byte)(seeds[i + 2] % 256); break;
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                default: bytes.InsertRange(at, U(Pieces[seeds[i + 2] % Pieces.Length])); break;
            }
        }
        return bytes.ToArray();
    }

    private static Gen<string> Json(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, from n in Gen.Choose(0, 4) from items in Json(depth - 1).ArrayOf(n) select $"[{string.Join(",", items)}]"),
            (2, from n in Gen.Choose(0, 5)
                from keys in Gen.Elements("fault", "data", "result", "value", "vmStart", "vmEnd", "vmPgoff", "vmPageProt", "shared", "x").ArrayOf(n)
                from values in Json(depth - 1).ArrayOf(n)
                select "{" + string.Join(",", keys.Zip(values, (k, v) => $"\"{k}\":{v}")) + "}"));

    private static Gen<string> Scalar => Gen.OneOf(
        Gen.Choose(int.MinValue, int.MaxValue).Select(i => i.ToString()),
        Gen.Elements("null", "true", "false", "1.5", "-0", "1e400", "18446744073709551616", "\"\"", "\"0x\"", "\"0x40000000\"", "\"None\"",
                     "\"MapError\"", "\"\\ud800\"", "\"abc\\\"def\"", "\"2a00ff01\"", "\"zz\""));

    private static Gen<byte[]> Garbage => Gen.Frequency(
        (1, from n in Gen.Choose(0, 80) from b in Gen.Choose(0, 255).Select(x => (byte)x).ArrayOf(n) select b),
        (3, Mutated),
        (3, from d in Gen.Choose(0, 4) from j in Json(d) select U(j)));

    [Fact]
    public void GeneratedGarbage_NeverMakesAParserThrow()
    {
        Prop.ForAll(Garbage.ToArbitrary(), value =>
        {
            try
            {
                foreach (var type in new[] { "fault", "load", "copied", "result", "vma" }) _ = Parse(type, value);
                _ = UserAnswerParser.UserLoad(value, [], out _);
                _ = UserAnswerParser.CopiedBytes(value, [], out _);
                return true;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"{e.GetType().Name} on input: {Convert.ToHexString(value)} ({Encoding.UTF8.GetString(value)})", e);
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(3000).WithReplay(20261129, 0x9E3779B97F4A7C15UL));
    }
}
