using System.Text.RegularExpressions;
using KernelMm.Conformance.Reports;

namespace KernelMm.Tests.Reports;

/// <summary>
/// The ready-to-paste xunit test. Microsoft.CodeAnalysis.CSharp is not a dependency of this test
/// project, so the snippet is not compiled here; these tests pin its structure (the brief's boot
/// line, the interface casts, the counterexample's lines in order, the Bytes helper, balanced braces).
/// </summary>
public class XunitSnippetTests
{
    [Fact]
    public void Render_BootsTheProfileCastsAndReplaysTheLinesInOrder()
    {
        var ce = ReportFixtures.Counterexample();
        var snippet = XunitSnippet.Render(ce, replayCommand: "kmm-conformance run --replay 7", ruleStatement: "free_pages must receive\nexactly the order");

        Assert.Contains("[Fact]", snippet);
        Assert.Matches(new Regex(@"^public void [A-Za-z_][A-Za-z0-9_]*\(\)$", RegexOptions.Multiline), snippet);
        Assert.Contains($"public void {XunitSnippet.MethodName(ce)}()", snippet);
        Assert.Contains("var factory = new ReferenceFactory();", snippet);
        Assert.Contains("using var mm = factory.Create(Profiles.Get(\"x86-32\").WithMemory(512UL << 20))", snippet);
        Assert.Contains("var pages = (IPageAllocator)mm;", snippet);
        Assert.Contains("var mem = (IKernelMemory)mm;", snippet);
        Assert.Contains("static byte[] Bytes(int seed, int n) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }", snippet);
        Assert.Contains("// replay: kmm-conformance run --replay 7", snippet);
        Assert.Contains("// rule: exactly the order", snippet); // multi-line text stays inside comments

        int at = 0;
        foreach (var line in ce.CSharp)
        {
            int found = snippet.IndexOf("    " + line + "\n", at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"missing or out of order: {line}");
            at = found + line.Length;
        }
        foreach (var l in snippet.Split('\n').Where(l => l.Contains(ReportFixtures.NastyMessage[..20])))
            Assert.StartsWith("//", l.TrimStart()); // the observed message is a comment, not code

        AssertBracesBalance(snippet);
    }

    [Fact]
    public void Render_CastsOnlyTheOptionalInterfacesTheSequenceUses()
    {
        var ce = ReportFixtures.Counterexample() with
        {
            CSharp = ["// boot x86-32/2G", "var p1 = pages.AllocPages(Gfp.HighUser, 0);", "var k_p1 = hm.Kmap(p1);", "ctx.PreemptDisable();", "rc?.DropPageCache(); pages.DrainCaches();"],
        };
        var snippet = XunitSnippet.Render(ce);
        Assert.Contains("var hm = (IHighmem)mm;", snippet);
        Assert.Contains("var ctx = (IExecutionContext)mm;", snippet);
        Assert.Contains("var rc = mm as IReclaim;", snippet);

        Assert.DoesNotContain("Bytes(", snippet); // no write, no helper (and no unused-function warning)
        Assert.Contains("state that rule as an assertion here", snippet);

        var plain = XunitSnippet.Render(ReportFixtures.Counterexample());
        Assert.DoesNotContain("IHighmem", plain);
        Assert.DoesNotContain("IReclaim", plain);
        Assert.Contains("this test fails until the implementation keeps the rule", plain); // its last line is an Assert.Throws
    }

    [Theory]
    [InlineData("x86-32/64M", "Profiles.Get(\"x86-32\").WithMemory(64UL << 20)")]
    [InlineData("64-bit-8k/2G", "Profiles.Get(\"64-bit-8k\").WithMemory(2UL << 30)")]
    [InlineData("linux-2.4/1G", "Profiles.Get(\"linux-2.4\").WithMemory(1UL << 30)")]
    public void Render_WritesTheMemoryAsAShift(string label, string expected)
    {
        var snippet = XunitSnippet.Render(ReportFixtures.Counterexample(label: label));
        Assert.Contains(expected, snippet);
        Assert.Matches(new Regex(@"public void PAGE_4_[A-Za-z0-9_]+_[0-9a-f]{8}\(\)"), snippet);
    }

    [Fact]
    public void RenderFile_IsACompleteTestFile()
    {
        var file = XunitSnippet.RenderFile([ReportFixtures.Counterexample(), ReportFixtures.Counterexample(rule: "PAGE-8", seed: 42)]);
        foreach (var u in XunitSnippet.Usings.Append("KernelMm.Reference")) Assert.Contains($"using {u};", file);
        Assert.Contains("namespace KernelMm.Tests.Regressions;", file);
        Assert.Contains("public class ConformanceRegressions", file);
        Assert.Equal(2, Regex.Matches(file, @"\[Fact\]").Count);
        // Bytes is a local function, so two tests in one class do not clash.
        Assert.Equal(2, Regex.Matches(file, @"static byte\[\] Bytes").Count);
        AssertBracesBalance(file);
    }

    private static void AssertBracesBalance(string code)
    {
        var stripped = Regex.Replace(code, @"//[^\n]*|""(\\.|[^""\\])*""", "");
        int depth = 0;
        foreach (char c in stripped)
        {
            if (c == '{') depth++;
            if (c == '}') depth--;
            Assert.True(depth >= 0, "a '}' closes nothing");
        }
        Assert.Equal(0, depth);
        Assert.Equal(stripped.Count(c => c == '('), stripped.Count(c => c == ')'));
    }
}
