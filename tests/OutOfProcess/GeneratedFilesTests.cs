using KernelMm.Conformance.OutOfProcess;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// The files generated from the operation table (conformance/Engine/OutOfProcess/Operations.cs) are
/// in step with it: the operation table of docs/protocol.md, the C kit's kmm_generated.h and the
/// Python kit's table. With KMM_REGENERATE=1 in the environment the test rewrites them instead
/// (docs/protocol.md, "Adding an operation").
/// </summary>
public class GeneratedFilesTests
{
    private static readonly bool Regenerate = Environment.GetEnvironmentVariable("KMM_REGENERATE") == "1";

    private static void Check(string relative, Func<string, string> generate)
    {
        string path = Path.Combine(NativePrograms.FindRoot(), relative);
        string committed = File.Exists(path) ? File.ReadAllText(path) : "";
        string expected = generate(committed);
        if (Regenerate && expected != committed) File.WriteAllText(path, expected);
        else Assert.True(expected == committed,
            $"{relative} is not in step with Operations.cs: run `KMM_REGENERATE=1 dotnet test tests --filter GeneratedFiles` and commit the result");
    }

    [Fact]
    public void ProtocolDocument_OperationTable_IsGenerated() =>
        Check("docs/protocol.md", doc => WireCodegen.Splice(doc, WireCodegen.BeginMarker, WireCodegen.EndMarker, WireCodegen.MarkdownTable()));

    [Fact]
    public void CKit_GeneratedHeader_IsGenerated() =>
        Check("kits/c/kmm_generated.h", _ => WireCodegen.CHeader());

    [Fact]
    public void PythonKit_OperationTable_IsGenerated() =>
        Check("kits/python/kmm.py", py => WireCodegen.Splice(py, WireCodegen.PythonBegin, WireCodegen.PythonEnd, WireCodegen.PythonTable()));
}
