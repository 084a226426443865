using System.Text;
using System.Text.RegularExpressions;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// A ready-to-paste xunit regression test for one counterexample, as a complete file that compiles
/// as printed: the usings, a class, and a <c>[Fact]</c> that replays the shrunk steps through the
/// suite's own checks (<c>Replay.Sequence(...).ShouldKeep(rule)</c> from the specification-test
/// package) on the failing profile and RAM size. Run against the implementation that failed, it
/// fails with the same rule; once the implementation keeps the rule, it passes. The steps as the
/// suite ran them (kernel style) and what was observed are comments above the test.
/// </summary>
public static partial class XunitSnippet
{
    /// <summary>The reference's factory expression (see <see cref="FactoryCode.Reference"/>).</summary>
    public const string ReferenceFactory = "new ReferenceFactory()";

    /// <summary>The usings every printed test needs, besides its steps' and its factory's.</summary>
    public static readonly IReadOnlyList<string> Usings = ["KernelMm.Conformance.Specification", "KernelMm.Spec.Profiles", "Xunit"];

    /// <summary>
    /// A complete test file holding one <c>[Fact]</c> for <paramref name="ce"/>. <paramref name="factory"/>
    /// is the C# expression that builds the implementation's factory (default: the reference's).
    /// </summary>
    public static string Render(Counterexample ce, string factory = ReferenceFactory, string? replayCommand = null, string? ruleStatement = null, string indent = "") =>
        Render(ce, FactoryCode.Of(factory), replayCommand, ruleStatement, indent);

    /// <inheritdoc cref="Render(Counterexample, string, string?, string?, string)"/>
    public static string Render(Counterexample ce, FactoryCode factory, string? replayCommand = null, string? ruleStatement = null, string indent = "") =>
        File([ce], factory, $"{MethodName(ce)}_Regression", indent, replayCommand, ruleStatement);

    /// <summary>A whole test file (usings, namespace, class) holding one test per counterexample: what <c>--replay</c> users paste as a new file.</summary>
    public static string RenderFile(IEnumerable<Counterexample> counterexamples, string factory = ReferenceFactory,
        string @namespace = "KernelMm.Tests.Regressions", string className = "ConformanceRegressions", IEnumerable<string>? extraUsings = null) =>
        RenderFile(counterexamples, FactoryCode.Of(factory) is var code && extraUsings is not null ? code with { Usings = [.. code.Usings, .. extraUsings] } : code,
            @namespace, className);

    /// <inheritdoc cref="RenderFile(IEnumerable{Counterexample}, string, string, string, IEnumerable{string}?)"/>
    public static string RenderFile(IEnumerable<Counterexample> counterexamples, FactoryCode factory,
        string @namespace = "KernelMm.Tests.Regressions", string className = "ConformanceRegressions") =>
        File(counterexamples.ToList(), factory, className, "", null, null, @namespace);

    private static string File(IReadOnlyList<Counterexample> counterexamples, FactoryCode factory, string className, string indent,
        string? replayCommand, string? ruleStatement, string? @namespace = null)
    {
        var sb = new StringBuilder();
        void Line(string s = "") => sb.Append(s.Length == 0 ? "\n" : $"{indent}{s}\n");
        var usings = Usings.Concat(factory.Usings).Concat(counterexamples.SelectMany(c => c.StepNamespaces))
            .Where(u => u.Length > 0).Distinct().Order(StringComparer.Ordinal);
        foreach (var u in usings) Line($"using {u};");
        Line();
        if (@namespace is not null) { Line($"namespace {@namespace};"); Line(); }
        Line($"public class {Identifier(className)}");
        Line("{");
        for (int i = 0; i < counterexamples.Count; i++)
        {
            if (i > 0) Line();
            Test(sb, counterexamples[i], factory, indent + "    ", replayCommand, ruleStatement);
        }
        Line("}");
        return sb.ToString();
    }

    private static void Test(StringBuilder sb, Counterexample ce, FactoryCode factory, string indent, string? replayCommand, string? ruleStatement)
    {
        void Line(string s = "") => sb.Append(s.Length == 0 ? "\n" : $"{indent}{s}\n");
        var (name, memory) = ReportText.SplitLabel(ce.ProfileLabel);

        Line($"// {ce.RuleId} on {ce.ProfileLabel}, found by the conformance suite (family {ce.Family}, property seed {ce.Seed}; {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}).");
        if (ruleStatement is not null) foreach (var l in Comment(ruleStatement)) Line($"// rule: {l}");
        foreach (var l in Comment(ce.Message)) Line($"// observed: {l}");
        if (!ce.Reproducible)
            Line("// NOT REPRODUCIBLE: this failure did not happen again when the suite replayed the steps, so this test may pass while the implementation is still broken.");
        if (replayCommand is not null) Line($"// replay: {replayCommand}");
        Line("// the steps, as the suite ran them:");
        for (int i = 0; i < ce.Trace.Count; i++) foreach (var l in Comment(ce.Trace[i])) Line($"//   {i + 1,3}. {l}");
        Line("[Fact]");
        Line($"public void {MethodName(ce)}()");
        Line("{");
        if (ce.Steps.Count == 0 && ce.ShrunkSteps > 0)
        {
            Line($"    Assert.Fail({CSharpLiteral.Quote($"the steps of family '{ce.Family}' cannot be written as C#; replay {ce.RuleId} with the command above")});");
        }
        else
        {
            Line($"    {ce.StepType}[] steps =");
            Line("    [");
            foreach (var step in ce.Steps) Line($"        {step},");
            Line("    ];");
            Line($"    {(factory.Disposable ? "using " : "")}var factory = {factory.Expression};");
            Line($"    var profile = Profiles.Get({CSharpLiteral.Quote(name)}).WithMemory({MemoryExpression(memory)});");
            Line($"    Replay.Sequence(factory, profile, {CSharpLiteral.Quote(ce.Family)}, steps).ShouldKeep({CSharpLiteral.Quote(ce.RuleId)});");
        }
        Line("}");
    }

    /// <summary>A C# identifier naming the failure: <c>PAGE_4_x86_32_512M_1a2b3c4d</c>.</summary>
    public static string MethodName(Counterexample ce) =>
        $"{Identifier(ce.RuleId)}_{Identifier(ce.ProfileLabel)}_{ce.Seed & 0xffff_ffff:x8}";

    private static string Identifier(string s)
    {
        var id = NonIdentifier().Replace(s, "_").Trim('_');
        return id.Length == 0 || char.IsDigit(id[0]) ? "_" + id : id;
    }

    /// <summary>"512M" as a C# expression: 512UL &lt;&lt; 20.</summary>
    public static string MemoryExpression(string size)
    {
        if (size.Length == 0) return "0UL";
        char unit = char.ToUpperInvariant(size[^1]);
        string digits = char.IsDigit(unit) ? size : size[..^1];
        int shift = unit switch { 'G' => 30, 'M' => 20, 'K' => 10, _ => 0 };
        return shift == 0 ? $"{digits}UL" : $"{digits}UL << {shift}";
    }

    /// <summary>Lines for // comments: split at every character C# ends a line with, so nothing an implementation said can leave the comment.</summary>
    private static IEnumerable<string> Comment(string text) =>
        text.Replace("\r\n", "\n").Split(['\n', '\r', '\u2028', '\u2029', '\u0085']).Select(l => l.TrimEnd());

    [GeneratedRegex("[^A-Za-z0-9_]+")]
    private static partial Regex NonIdentifier();
}
