using System.Text;

namespace KernelMm.Conformance.Checking;

/// <summary>
/// The record of one executed sequence, written only when a failure is being explained: one
/// kernel-style line per step (what was called and what came back) and the same step as C#.
/// </summary>
public sealed class Trace
{
    private readonly List<string> _kernel = new();
    private readonly List<string> _csharp = new();

    public bool Enabled { get; init; }

    /// <summary>True once a call has failed as a call: that call is the last step, later lines are not recorded.</summary>
    public bool Frozen { get; private set; }

    public void Step(string kernelLine, string csharpLine)
    {
        if (!Enabled || Frozen) return;
        _kernel.Add(kernelLine);
        _csharp.Add(csharpLine);
    }

    /// <summary>Records the call that failed as the last step; nothing after it is recorded.</summary>
    public void Last(string kernelLine, string csharpLine)
    {
        Step(kernelLine, csharpLine);
        Frozen = true;
    }

    public IReadOnlyList<string> KernelLines => _kernel;
    public IReadOnlyList<string> CSharpLines => _csharp;

    public string Render()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _kernel.Count; i++) sb.Append($"  {i + 1,3}. {_kernel[i]}\n");
        return sb.ToString();
    }
}
