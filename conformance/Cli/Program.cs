using System.Diagnostics;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;

namespace KernelMm.Conformance.Cli;

/// <summary>kmm-conformance's entry point: see <see cref="KmmConformance"/>.</summary>
public static class Program
{
    public static int Main(string[] args) => KmmConformance.Invoke(args, Console.Out, Console.Error);
}

/// <summary>
/// The live progress line on stderr (<see cref="ConsoleReport.ProgressLine"/>): properties done of
/// total, family, profile/RAM, and the run's totals so far in the summary line's units (sequences,
/// checked operations, failed rules counted rule x profile), elapsed time. On a terminal one line is redrawn in place with carriage returns
/// (ticking every half second while a long property runs) and a failing property leaves a
/// permanent line; redirected, it writes one plain line per finished property.
/// </summary>
internal sealed class ProgressDisplay : IDisposable
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private readonly Timer? _timer;
    private SuiteProgress? _last;
    private int _width;
    private int _failures;
    private bool _finished;

    public ProgressDisplay(TextWriter output, bool interactive)
    {
        _out = output;
        _interactive = interactive;
        if (interactive) _timer = new Timer(_ => Tick(), null, 500, 500);
    }

    public void Report(SuiteProgress p)
    {
        lock (_lock)
        {
            if (_finished) return;
            _last = p;
            bool newFailures = p.Finished && p.Failures > _failures;
            string what = $"{p.Family} on {p.ProfileLabel}{(p.Rerun ? " (saved failure)" : "")}";
            if (!_interactive)
            {
                if (p.Finished)
                    _out.WriteLine($"  {ConsoleReport.ProgressLine(p, _clock.Elapsed)}");
            }
            else
            {
                if (newFailures) { Clear(); _out.WriteLine($"  ! {what}: {p.Failures - _failures} more failed (rule x profile)"); }
                Draw();
            }
            if (p.Finished) _failures = p.Failures;
        }
    }

    public void Finish()
    {
        lock (_lock)
        {
            if (_finished) return;
            _finished = true;
            _timer?.Dispose();
            if (_interactive) Clear();
            _out.Flush();
        }
    }

    public void Dispose() => Finish();

    private void Tick()
    {
        lock (_lock) { if (!_finished && _last is not null) Draw(); }
    }

    private void Draw()
    {
        var p = _last!;
        string line = ConsoleReport.ProgressLine(p, _clock.Elapsed);
        int max = Math.Max(20, ConsoleWidth() - 1);
        if (line.Length > max) line = line[..(max - 1)] + "…";
        _out.Write("\r" + line.PadRight(_width));
        _width = line.Length;
        _out.Flush();
    }

    private void Clear()
    {
        if (_width == 0) return;
        _out.Write("\r" + new string(' ', _width) + "\r");
        _width = 0;
    }

    private static int ConsoleWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 100; }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { return 100; }
    }
}
