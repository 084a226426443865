using System.Text;
using System.Text.RegularExpressions;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Reports;

/// <summary>
/// A ready-to-paste xunit regression test for one counterexample: boots the implementation on
/// the failing profile and RAM size, takes the contract interfaces the sequence uses, and replays
/// the shrunk sequence as C#. The check that failed is stated in a comment after the last step
/// (the suite's model decides it, not one assertion), so add the assertion the rule calls for there.
/// </summary>
public static partial class XunitSnippet
{
    public const string ReferenceFactory = "new ReferenceFactory()";

    /// <summary>The helper the sequence's writes call: the same bytes the suite wrote (a local function, so pasting twice cannot clash).</summary>
    public const string BytesHelper = "static byte[] Bytes(int seed, int n) { var b = new byte[n]; new Random(seed).NextBytes(b); return b; }";

    /// <summary>The usings a test file needs for <see cref="Render"/>'s output (plus the factory's namespace).</summary>
    public static readonly IReadOnlyList<string> Usings =
        ["System", "KernelMm.Spec.Contract", "KernelMm.Spec.Profiles", "Xunit"];

    /// <summary>
    /// One <c>[Fact]</c> method (with the <c>Bytes</c> helper as a local function when the sequence writes, so several can be
    /// pasted into one class). <paramref name="factory"/> is the C# expression that builds the
    /// implementation's <c>IImplementationFactory</c>.
    /// </summary>
    public static string Render(Counterexample ce, string factory = ReferenceFactory, string? replayCommand = null, string? ruleStatement = null, string indent = "")
    {
        var (name, memory) = ReportText.SplitLabel(ce.ProfileLabel);
        var body = ce.CSharp;
        var sb = new StringBuilder();
        void Line(string s = "") => sb.Append(s.Length == 0 ? "\n" : $"{indent}{s}\n");

        Line($"// {ce.RuleId} on {ce.ProfileLabel}, found by the conformance suite (family {ce.Family}, property seed {ce.Seed}; {ce.OriginalSteps} steps shrunk to {ce.ShrunkSteps}).");
        if (ruleStatement is not null) foreach (var l in Comment(ruleStatement)) Line($"// rule: {l}");
        if (replayCommand is not null) Line($"// replay: {replayCommand}");
        Line("[Fact]");
        Line($"public void {MethodName(ce)}()");
        Line("{");
        Line($"    var factory = {factory};");
        Line($"    using var mm = factory.Create(Profiles.Get({Literal(name)}).WithMemory({MemoryExpression(memory)}))");
        Line($"        ?? throw new InvalidOperationException(\"the implementation refused {Escape(ce.ProfileLabel)}\");");
        foreach (var (variable, iface) in Interfaces)
        {
            if (variable is "pages" or "mem" || Uses(body, $@"\b{variable}\.")) Line($"    var {variable} = ({iface})mm;");
            else if (Uses(body, $@"\b{variable}\?\.")) Line($"    var {variable} = mm as {iface};");
        }
        Line();
        for (int i = 0; i < body.Count; i++)
        {
            if (i == body.Count - 1) Line($"    // the check of {ce.RuleId} failed at or after this step:");
            Line($"    {body[i]}");
        }
        Line();
        foreach (var l in Comment(ce.Message)) Line($"    // observed: {l}");
        if (body.Count > 0 && body[^1].Contains("Assert."))
            Line($"    // The last step asserts what {ce.RuleId} requires: this test fails until the implementation keeps the rule.");
        else
            Line($"    // The suite's model judged {ce.RuleId} broken after the steps above: state that rule as an assertion here.");
        if (Uses(body, @"\bBytes\("))
        {
            Line();
            Line($"    {BytesHelper}");
        }
        Line("}");
        return sb.ToString();
    }

    /// <summary>A whole test file (usings, namespace, class) holding one test per counterexample: what <c>--replay</c> users paste as a new file.</summary>
    public static string RenderFile(IEnumerable<Counterexample> counterexamples, string factory = ReferenceFactory,
        string @namespace = "KernelMm.Tests.Regressions", string className = "ConformanceRegressions", IEnumerable<string>? extraUsings = null)
    {
        var sb = new StringBuilder();
        var usings = Usings.Concat(extraUsings ?? (factory == ReferenceFactory ? ["KernelMm.Reference"] : [])).Distinct();
        foreach (var u in usings) sb.Append($"using {u};\n");
        sb.Append($"\nnamespace {@namespace};\n\npublic class {className}\n{{\n");
        bool first = true;
        foreach (var ce in counterexamples)
        {
            if (!first) sb.Append('\n');
            first = false;
            sb.Append(Render(ce, factory, indent: "    "));
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>A C# identifier naming the failure: <c>PAGE_4_x86_32_512M_1a2b3c4d</c>.</summary>
    public static string MethodName(Counterexample ce) =>
        $"{Identifier(ce.RuleId)}_{Identifier(ce.ProfileLabel)}_{ce.Seed & 0xffff_ffff:x8}";

    private static readonly (string Variable, string Interface)[] Interfaces =
        [("pages", "IPageAllocator"), ("mem", "IKernelMemory"), ("ctx", "IExecutionContext"), ("hm", "IHighmem"), ("rc", "IReclaim"),
         ("um", "IUserMemory"), ("sw", "ISwap"), ("uc", "IUserCopy"), ("drv", "IDriverMmap")];

    private static bool Uses(IReadOnlyList<string> lines, string pattern) => lines.Any(l => !l.TrimStart().StartsWith("//") && Regex.IsMatch(l, pattern));

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

    private static IEnumerable<string> Comment(string text) =>
        text.Replace("\r", "").Split('\n').Select(l => l.TrimEnd());

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");

    private static string Literal(string s) => $"\"{Escape(s)}\"";

    [GeneratedRegex("[^A-Za-z0-9_]+")]
    private static partial Regex NonIdentifier();
}
