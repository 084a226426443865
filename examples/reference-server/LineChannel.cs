using System.Buffers;

namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// Newline-framed requests in, answers out. Answers are buffered and written when the next read would
/// block (no whole request left in the input buffer), so a pipelined burst costs one write.
/// </summary>
internal sealed class LineChannel(Stream input, Stream output)
{
    private byte[] _in = new byte[1 << 16];
    private int _start, _end;
    private readonly ArrayBufferWriter<byte> _out = new(1 << 16);

    public IBufferWriter<byte> Output => _out;

    /// <summary>The next request line (without its newline), or null at end of input.</summary>
    public ReadOnlyMemory<byte>? ReadLine()
    {
        while (true)
        {
            int nl = Array.IndexOf(_in, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                var line = new ReadOnlyMemory<byte>(_in, _start, nl - _start);
                _start = nl + 1;
                return line;
            }
            Flush();
            if (_start > 0)
            {
                Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _in.Length) Array.Resize(ref _in, _in.Length * 2);
            int n = input.Read(_in, _end, _in.Length - _end);
            if (n == 0)
            {
                if (_end > _start) { var last = new ReadOnlyMemory<byte>(_in, _start, _end - _start); _start = _end; return last; }
                return null;
            }
            _end += n;
        }
    }

    /// <summary>Guards the answers' buffer: lane threads write their answers while the reading thread reads on.</summary>
    private readonly object _lock = new();

    /// <summary>Writes one answer line from a lane's thread (and sends everything buffered when <paramref name="flush"/>).</summary>
    public void WriteLine(ReadOnlySpan<byte> answer, bool flush)
    {
        lock (_lock)
        {
            _out.Write(answer);
            _out.Write("\n"u8);
            if (flush) FlushLocked();
        }
    }

    public void Flush()
    {
        lock (_lock) FlushLocked();
    }

    private void FlushLocked()
    {
        if (_out.WrittenCount == 0) return;
        output.Write(_out.WrittenSpan);
        output.Flush();
        _out.ResetWrittenCount();
    }
}
