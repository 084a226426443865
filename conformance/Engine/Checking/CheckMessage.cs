using System.Runtime.CompilerServices;

namespace KernelMm.Conformance.Checking;

/// <summary>
/// The message of a check, written as an interpolated string (<c>_s.That("PAGE-1", ok, $"...")</c>)
/// and formatted only when the check fails: while it holds, no hole is evaluated and nothing is
/// allocated (a <c>Func&lt;string&gt;</c> cost a delegate, and a closure of the caller's locals, on
/// every check). Same laziness as <see cref="System.Diagnostics.Debug.Assert(bool, ref System.Diagnostics.Debug.AssertInterpolatedStringHandler)"/>.
/// </summary>
[InterpolatedStringHandler]
public ref struct CheckMessage
{
    private DefaultInterpolatedStringHandler _text;
    private readonly bool _active;

    public CheckMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        _active = shouldAppend = !condition;
        _text = _active ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _text.AppendLiteral(value);
    public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);
    public void AppendFormatted<T>(T value, string? format) => _text.AppendFormatted(value, format);
    public void AppendFormatted<T>(T value, int alignment) => _text.AppendFormatted(value, alignment);
    public void AppendFormatted<T>(T value, int alignment, string? format) => _text.AppendFormatted(value, alignment, format);
    public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);
    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    /// <summary>The formatted message (empty for a check that held).</summary>
    internal string Text() => _active ? _text.ToStringAndClear() : "";
}
