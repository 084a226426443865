using System.Text.RegularExpressions;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Variants;

namespace KernelMm.Tests.Reports;

/// <summary>
/// The printed regression test: a complete file (usings, class, one [Fact] per failure) that
/// replays the shrunk steps through the suite's checks. Whether it compiles and fails with the
/// rule is tested for real by <see cref="PrintedTestTests"/>; these tests pin its structure.
/// </summary>
public class XunitSnippetTests
{
    [Fact]
    public void Render_IsAFileThatReplaysTheStepsThroughTheRulesCheck()
    {
        var ce = ReportFixtures.Counterexample();
        var snippet = XunitSnippet.Render(ce, replayCommand: "kmm-conformance run --replay 7", ruleStatement: "free_pages must receive\nexactly the order");

        foreach (var u in new[] { "KernelMm.Conformance.Specification", "KernelMm.Spec.Profiles", "Xunit", "KernelMm.Reference", "KernelMm.Conformance.Families.Pages", "KernelMm.Spec.Contract" })
            Assert.Contains($"using {u};\n", snippet);
        Assert.Contains($"public class {XunitSnippet.MethodName(ce)}_Regression\n", snippet);
        Assert.Contains("    [Fact]", snippet);
        Assert.Matches(new Regex(@"^    public void [A-Za-z_][A-Za-z0-9_]*\(\)$", RegexOptions.Multiline), snippet);
        Assert.Contains("        var factory = new ReferenceFactory();", snippet);
        Assert.Contains("        var profile = Profiles.Get(\"x86-32\").WithMemory(512UL << 20);", snippet);
        Assert.Contains("        Replay.Sequence(factory, profile, \"pages\", steps).ShouldKeep(\"PAGE-4\");", snippet);
        Assert.Contains("    // replay: kmm-conformance run --replay 7", snippet);
        Assert.Contains("    // rule: exactly the order", snippet); // multi-line text stays inside comments

        // The steps, in order, as C# of the family's step type.
        Assert.Contains("        PageOp[] steps =", snippet);
        int at = 0;
        foreach (var step in ce.Steps)
        {
            int found = snippet.IndexOf($"            {step},\n", at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"missing or out of order: {step}");
            at = found + step.Length;
        }
        Assert.Equal("new PageOp(PageOpKind.GetFreePages, Order: 2)", ce.Steps[0]);
        // The kernel-style trace and the observed message are comments, not code.
        foreach (var line in ce.Trace) Assert.Contains(line, snippet);
        foreach (var l in snippet.Split('\n').Where(l => l.Contains(ReportFixtures.NastyMessage[..20]) || l.Contains("-> 0xc0400000")))
            Assert.StartsWith("//", l.TrimStart());
        AssertBracesBalance(snippet);
    }

    [Fact]
    public void Render_KeepsEveryLineBreakAnImplementationSaysInsideTheComment()
    {
        var ce = ReportFixtures.Counterexample(message: "line one\u2028}} class Broken {\u0085line three\rline four");
        var snippet = XunitSnippet.Render(ce);
        foreach (var l in snippet.Split(['\n', '\r', '\u2028', '\u2029', '\u0085']).Where(l => l.Contains("Broken") || l.Contains("line three") || l.Contains("line four")))
            Assert.StartsWith("//", l.TrimStart());
    }

    [Fact]
    public void Render_FlagsAFailureThatDidNotRepeat()
    {
        var ce = ReportFixtures.Counterexample() with { Reproducible = false };
        Assert.Contains("// NOT REPRODUCIBLE", XunitSnippet.Render(ce));
        Assert.DoesNotContain("NOT REPRODUCIBLE", XunitSnippet.Render(ReportFixtures.Counterexample()));
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
        Assert.Single(Regex.Matches(file, @"using KernelMm\.Reference;"));
        AssertBracesBalance(file);
    }

    // ---- The factory a printed test builds ---------------------------------------------------------

    [Fact]
    public void FactoryCode_OfTheReference_IsTheReferenceFactory()
    {
        Assert.Equal(FactoryCode.Reference, FactoryCode.For(new ReferenceFactory(), "reference"));
        Assert.Equal(FactoryCode.Reference, FactoryCode.For(null, "reference"));
    }

    [Fact]
    public void FactoryCode_OfAnotherFactory_BuildsThatFactory_NeverTheReference()
    {
        // An --impl-assembly run judges the assembly's own factory: its type, by its parameterless constructor.
        var plain = FactoryCode.For(new PlainFactory(), "plain");
        Assert.Equal("new PlainFactory()", plain.Expression);
        Assert.Equal(["KernelMm.Tests.Reports"], plain.Usings);

        // A variant is rebuilt with the constructor argument it exposes as a property.
        var variant = FactoryCode.For(new TreeFactory(Fault.NoCoalescing), "tree/NoCoalescing");
        Assert.Equal("new TreeFactory(Fault.NoCoalescing)", variant.Expression);
        Assert.Contains("KernelMm.Tests.Variants", variant.Usings);
        Assert.Equal("new TreeFactory()", FactoryCode.For(new TreeFactory(), "tree").Expression);

        // A program is rebuilt from its command line, and disposed.
        using var process = new ProcessFactory("/bin/cat --strict \"a b\"");
        var program = FactoryCode.For(process, process.Name);
        Assert.Equal($"new ProcessFactory({CSharpLiteral.Quote(process.CommandLine)})", program.Expression);
        Assert.Contains("a b", program.Expression);
        Assert.True(program.Disposable);
        var ce = ReportFixtures.Counterexample();
        Assert.Contains("        using var factory = new ProcessFactory(", XunitSnippet.Render(ce, program));
        Assert.Contains("using KernelMm.Conformance.OutOfProcess;", XunitSnippet.Render(ce, program));

        // A factory a test cannot build (not public) gets code that compiles and says so when run.
        var hidden = FactoryCode.For(new HiddenFactory(), "hidden");
        Assert.StartsWith("default(IImplementationFactory) ?? throw new NotImplementedException(", hidden.Expression);
        Assert.Contains("'hidden'", hidden.Expression);
    }

    [Fact]
    public void ReportOptions_WithoutAnExpression_DeriveTheFactoryFromTheResult()
    {
        var result = ReportFixtures.HandBuilt() with { Factory = new TreeFactory(Fault.OverlappingBlocks) };
        var json = JsonReport.Parse(JsonReport.Render(result));
        var xunit = json.Results.Single(r => r.Status == RuleOutcome.Failed).Counterexample!.Xunit!;
        Assert.Contains("var factory = new TreeFactory(Fault.OverlappingBlocks);", xunit);
        Assert.DoesNotContain("ReferenceFactory", xunit);
    }

    private sealed class HiddenFactory : IImplementationFactory
    {
        public string Name => "hidden";
        public IMemoryManager? Create(Profile profile) => null;
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
        Assert.Equal(stripped.Count(c => c == '['), stripped.Count(c => c == ']'));
    }
}

/// <summary>A factory as an --impl-assembly would have it: public, with a public parameterless constructor.</summary>
public sealed class PlainFactory : IImplementationFactory
{
    public string Name => "plain";
    public IMemoryManager? Create(Profile profile) => null;
}
