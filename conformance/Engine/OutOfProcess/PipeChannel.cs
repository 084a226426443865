using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>The two pipes to a child process, with deadlines on every read and write.</summary>
internal abstract class PipeChannel : IDisposable
{
    /// <summary>Reads at least one byte; 0 at end of file; -1 when the deadline (Stopwatch ticks) passed first.</summary>
    public abstract int Read(byte[] buffer, int offset, int count, long deadline);

    /// <summary>Writes everything; false when the deadline passed first. Throws <see cref="EndOfStreamException"/> when the reader is gone.</summary>
    public abstract bool Write(byte[] buffer, int offset, int count, long deadline);

    public abstract void Dispose();

    protected static int RemainingMs(long deadline)
    {
        long ticks = deadline - Stopwatch.GetTimestamp();
        if (ticks <= 0) return 0;
        return (int)Math.Min(int.MaxValue, (ticks * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
    }

    /// <summary>The fastest channel for the process's redirected streams: poll/read/write on the raw descriptors on Linux, streams elsewhere.</summary>
    public static PipeChannel For(Stream toChild, Stream fromChild, TimeSpan spin, bool portable = false)
    {
        if (!portable && OperatingSystem.IsLinux() && Descriptor(toChild) is { } wfd && Descriptor(fromChild) is { } rfd)
            return new UnixPipeChannel(rfd, wfd, (long)(spin.TotalSeconds * Stopwatch.Frequency));
        return new StreamPipeChannel(toChild, fromChild);
    }

    private static int? Descriptor(Stream s) => s switch
    {
        PipeStream p => (int)p.SafePipeHandle.DangerousGetHandle(),
        FileStream f => (int)f.SafeFileHandle.DangerousGetHandle(),
        _ => null,
    };
}

/// <summary>
/// Linux: read(2)/write(2) on the descriptors the Process object owns (it stays alive, and closes
/// them, after us), poll(2) for the deadlines. Our end of the answer pipe is non-blocking: a read
/// first tries to take what is there (one system call when the answer is already in), spins
/// briefly while nothing is, then sleeps in poll until the deadline. The spin saves the scheduler
/// wake-up on fast exchanges.
/// </summary>
internal sealed class UnixPipeChannel : PipeChannel
{
    private const short PollIn = 0x1, PollOut = 0x4, PollErr = 0x8, PollHup = 0x10, PollNval = 0x20;
    private const int EIntr = 4, EAgain = 11, EPipe = 32;
    private const int FGetFl = 3, FSetFl = 4, ONonBlock = 0x800;
    private readonly int readFd, writeFd;
    private readonly long spinTicks;
    private readonly bool _nonBlocking, _writeNonBlocking;

    public UnixPipeChannel(int readFd, int writeFd, long spinTicks)
    {
        this.readFd = readFd;
        this.writeFd = writeFd;
        this.spinTicks = spinTicks;
        int flags = fcntl(readFd, FGetFl, 0);
        _nonBlocking = flags >= 0 && fcntl(readFd, FSetFl, flags | ONonBlock) == 0;
        flags = fcntl(writeFd, FGetFl, 0);
        _writeNonBlocking = flags >= 0 && fcntl(writeFd, FSetFl, flags | ONonBlock) == 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int poll(ref PollFd fds, nuint nfds, int timeout);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern nint read(int fd, ref byte buf, nint count);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern nint write(int fd, ref byte buf, nint count);

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);

    public override int Read(byte[] buffer, int offset, int count, long deadline)
    {
        long spinUntil = Stopwatch.GetTimestamp() + spinTicks;
        // Without a spin, wait first: right after a send the answer is not there yet, and a read would only say so.
        bool waitFirst = spinTicks == 0;
        while (true)
        {
            if (_nonBlocking && !waitFirst)
            {
                nint n = read(readFd, ref buffer[offset], count);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr) continue;
                if (errno != EAgain) throw new IOException($"read from the program's standard output failed (errno {errno})");
            }
            var pfd = new PollFd { Fd = readFd, Events = PollIn };
            bool spinning = Stopwatch.GetTimestamp() < spinUntil;
            int rc = poll(ref pfd, 1, spinning ? 0 : RemainingMs(deadline));
            if (rc < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr) continue;
                throw new IOException($"poll on the program's standard output failed (errno {errno})");
            }
            if (rc == 0)
            {
                if (spinning) { Thread.SpinWait(20); continue; }
                if (Stopwatch.GetTimestamp() >= deadline) return -1;
                continue;
            }
            if ((pfd.Revents & PollNval) != 0) return 0;
            waitFirst = false;
            if (!_nonBlocking)
            {
                nint n = read(readFd, ref buffer[offset], count);
                if (n >= 0) return (int)n;
                int errno = Marshal.GetLastPInvokeError();
                if (errno is EIntr or EAgain) continue;
                throw new IOException($"read from the program's standard output failed (errno {errno})");
            }
        }
    }

    public override bool Write(byte[] buffer, int offset, int count, long deadline)
    {
        // Non-blocking: write at once, and wait in poll only when the pipe is full.
        while (count > 0 && _writeNonBlocking)
        {
            nint n = write(writeFd, ref buffer[offset], count);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr) continue;
                if (errno == EAgain) break;
                if (errno == EPipe) throw new EndOfStreamException("the program closed its standard input");
                throw new IOException($"write to the program's standard input failed (errno {errno})");
            }
            offset += (int)n;
            count -= (int)n;
        }
        while (count > 0)
        {
            var pfd = new PollFd { Fd = writeFd, Events = PollOut };
            int rc = poll(ref pfd, 1, RemainingMs(deadline));
            if (rc < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr) continue;
                throw new IOException($"poll on the program's standard input failed (errno {errno})");
            }
            if (rc == 0)
            {
                if (Stopwatch.GetTimestamp() >= deadline) return false;
                continue;
            }
            if ((pfd.Revents & PollOut) == 0 && (pfd.Revents & (PollErr | PollHup | PollNval)) != 0)
                throw new EndOfStreamException("the program closed its standard input");
            // A pipe that polls writable takes at least one page without blocking.
            nint n = write(writeFd, ref buffer[offset], Math.Min(count, 4096));
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is EIntr or EAgain) continue;
                if (errno == EPipe) throw new EndOfStreamException("the program closed its standard input");
                throw new IOException($"write to the program's standard input failed (errno {errno})");
            }
            offset += (int)n;
            count -= (int)n;
        }
        return true;
    }

    public override void Dispose() { }
}

/// <summary>Portable fallback: stream reads and writes with timed waits (a timed-out one is abandoned; the process is killed anyway).</summary>
internal sealed class StreamPipeChannel(Stream toChild, Stream fromChild) : PipeChannel
{
    private Task<int>? _pending;
    private (byte[] Buffer, int Offset) _pendingTarget;

    public override int Read(byte[] buffer, int offset, int count, long deadline)
    {
        if (_pending is null || _pendingTarget != (buffer, offset))
        {
            _pendingTarget = (buffer, offset);
            _pending = fromChild.ReadAsync(buffer, offset, count);
        }
        try
        {
            if (!_pending.Wait(RemainingMs(deadline))) return -1;
            return _pending.Result;
        }
        catch (AggregateException e) { throw new IOException("read from the program's standard output failed", e.InnerException); }
        finally
        {
            if (_pending.IsCompleted) _pending = null;
        }
    }

    public override bool Write(byte[] buffer, int offset, int count, long deadline)
    {
        var data = buffer.AsMemory(offset, count).ToArray();
        var task = Task.Run(() =>
        {
            toChild.Write(data);
            toChild.Flush();
        });
        try
        {
            return task.Wait(RemainingMs(deadline));
        }
        catch (AggregateException e) { throw new EndOfStreamException("the program closed its standard input", e.InnerException); }
    }

    public override void Dispose() { }
}
