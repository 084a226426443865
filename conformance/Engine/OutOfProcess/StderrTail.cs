using System.Text;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The last lines of a program's standard error, read as raw bytes in bounded memory: at most
/// <see cref="MaxLines"/> lines of at most <see cref="MaxLineBytes"/> bytes are kept, so a program
/// that writes a 100 MB line (or never a newline at all) costs the runner a few KiB, not the line.
/// Bytes that are not UTF-8 show as U+FFFD. Thread-safe: one reader task feeds it, faults read it.
/// </summary>
internal sealed class StderrTail
{
    public const int MaxLines = 20;
    public const int MaxLineBytes = 300;
    private const int MaxChars = 2000;

    private readonly Queue<string> _lines = new();
    private readonly byte[] _current = new byte[MaxLineBytes];
    private int _currentLength;
    private long _dropped;
    private int _chars;
    private readonly ManualResetEventSlim _closed = new();

    /// <summary>Total bytes received (for tests and statistics).</summary>
    public long Bytes { get; private set; }

    /// <summary>Reads <paramref name="stream"/> to its end on the thread pool.</summary>
    public void Start(Stream stream) => _ = Task.Run(async () =>
    {
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0) Feed(buffer.AsSpan(0, n));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
        finally
        {
            lock (_lines) FlushLine();
            _closed.Set();
        }
    });

    public void Feed(ReadOnlySpan<byte> data)
    {
        lock (_lines)
        {
            Bytes += data.Length;
            while (!data.IsEmpty)
            {
                int nl = data.IndexOf((byte)'\n');
                var part = nl < 0 ? data : data[..nl];
                int room = MaxLineBytes - _currentLength;
                int take = Math.Min(room, part.Length);
                part[..take].CopyTo(_current.AsSpan(_currentLength));
                _currentLength += take;
                _dropped += part.Length - take;
                if (nl < 0) break;
                FlushLine();
                data = data[(nl + 1)..];
            }
        }
    }

    private void FlushLine()
    {
        if (_currentLength == 0 && _dropped == 0) return;
        int length = _currentLength;
        while (length > 0 && _current[length - 1] == '\r') length--;
        string line = Encoding.UTF8.GetString(_current, 0, length);
        if (_dropped > 0) line += $"... ({_currentLength + _dropped} bytes)";
        _currentLength = 0;
        _dropped = 0;
        _lines.Enqueue(line);
        _chars += line.Length;
        while (_lines.Count > MaxLines || _chars > MaxChars && _lines.Count > 1) _chars -= _lines.Dequeue().Length;
    }

    /// <summary>
    /// The kept lines, the unfinished last one included. With <paramref name="lastWords"/>, first waits
    /// briefly for the pipe to close, so that a program that just died has its last words read (a
    /// descendant still holding the pipe open delays that, hence the bound).
    /// </summary>
    public string Text(bool lastWords = false)
    {
        if (lastWords) _closed.Wait(2000);
        lock (_lines)
        {
            var all = _lines.ToList();
            if (_currentLength > 0 || _dropped > 0)
                all.Add(Encoding.UTF8.GetString(_current, 0, _currentLength) + (_dropped > 0 ? $"... ({_currentLength + _dropped} bytes so far, no newline)" : ""));
            return string.Join("\n", all);
        }
    }
}
