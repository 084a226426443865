using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// One running implementation program: its pipes, the request/answer framing of docs/protocol.md,
/// and containment. Every failure of the program (exit, signal, hang, garbage, wrong id, memory
/// growth) becomes an <see cref="ImplementationFaultException"/>, after which the process is dead
/// (killed if it was not) and <see cref="Fault"/> stays set.
/// </summary>
internal sealed class ImplementationProcess : IDisposable
{
    private static readonly ConcurrentDictionary<ImplementationProcess, byte> Live = new();

    /// <summary>Kept alive for the life of the runner: a collected registration is unregistered.</summary>
    private static readonly System.Runtime.InteropServices.PosixSignalRegistration[] TerminationSignals;

    static ImplementationProcess()
    {
        // A runner that exits (or is interrupted) must not leave programs behind, hung ones included.
        // ProcessExit alone is not enough: a runner stopped by SIGTERM (the grader's time limit, a CI
        // job cancelled) left its programs running, each in its own process group. The signal
        // handlers kill them first and leave the signal's default action (termination) in place.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        TerminationSignals = OperatingSystem.IsWindows() ? [] :
        [
            .. new[] { System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGINT,
                       System.Runtime.InteropServices.PosixSignal.SIGHUP, System.Runtime.InteropServices.PosixSignal.SIGQUIT }
                .Select(signal => System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, _ => KillAll())),
        ];
    }

    private static void KillAll()
    {
        foreach (var p in Live.Keys) p.Kill();
    }

    private readonly Process _process;
    private readonly PipeChannel _channel;
    private readonly ProcessFactoryOptions _options;
    private readonly ProcessFactoryStatistics _stats;
    private readonly string _label;
    private readonly StderrTail _stderr = new();
    /// <summary>The program's process group (its own, when started through setsid), once known; 0 before.</summary>
    private int _group;
    /// <summary>The program exited while a process it started still held its standard output.</summary>
    private bool _orphanedPipe;
    /// <summary>Set when the runner killed the program (so a death by signal was or was not the runner's doing).</summary>
    private bool _killedByRunner;

    private long _nextId = 1;
    /// <summary>Requests written into the buffer since the last send (counted at the send).</summary>
    private long _pendingRequests;
    /// <summary>The operation of the first request since the last send, when counted (<see cref="ProcessFactoryOptions.CountRoundTripsByOperation"/>).</summary>
    private string? _firstOperation;
    private long _deadline;
    private TimeSpan _timeout;
    private bool _closing;
    private long _instanceDeadline = long.MaxValue;
    private long _sinceMemoryCheck;
    private string? _killReason;
    private long _killResident, _killLimit;

    private byte[] _in = new byte[1 << 16];
    private int _inStart, _inEnd;
    private readonly Response _response = new();

    // Recent requests: copies of their bytes (clipped), oldest overwritten first.
    private readonly byte[][] _history;
    private readonly int[] _historyLength;
    private readonly long[] _historyId;
    private int _historyNext;
    private int _requestStart;
    private const int HistoryClip = 400;
    /// <summary>Sends between two resident-memory checks.</summary>
    private const int MemoryCheckInterval = 32;
    /// <summary>A read waits at most this long before the memory is checked again.</summary>
    private static readonly long MemoryCheckSlice = Stopwatch.Frequency / 10;

    public RequestWriter Writer { get; } = new();
    public ImplementationFaultException? Fault { get; private set; }
    public int Pid { get; }
    /// <summary>Resident-memory limit in bytes; 0 or less: none.</summary>
    public long MemoryLimit { get; set; }
    public bool Usable => Fault is null && !HasExited;

    private bool HasExited
    {
        get
        {
            try { return _process.HasExited; }
            catch (InvalidOperationException) { return true; }
        }
    }

    private ImplementationProcess(Process process, ProcessFactoryOptions options, ProcessFactoryStatistics stats, string label)
    {
        _process = process;
        _options = options;
        _stats = stats;
        Pid = process.Id;
        _label = $"{label} (pid {Pid})";
        int n = Math.Max(1, options.HistoryLength);
        _history = new byte[n][];
        _historyLength = new int[n];
        _historyId = new long[n];
        for (int i = 0; i < n; i++) _history[i] = new byte[HistoryClip];
        _channel = PipeChannel.For(process.StandardInput.BaseStream, process.StandardOutput.BaseStream, options.ReadSpin, options.PortablePipes);
        Live.TryAdd(this, 0);
    }

    /// <summary>
    /// Starts the program. On Linux it runs in a process group of its own (through setsid(1), which
    /// execs it without forking), so that the runner can stop it together with every process it
    /// started, even one that outlived its parent while holding the pipes. Errors: <see cref="ImplementationStartException"/>.
    /// </summary>
    public static ImplementationProcess Start(string fileName, IReadOnlyList<string> arguments, ProcessFactoryOptions options,
        ProcessFactoryStatistics stats, string label)
    {
        string? setsid = options.OwnProcessGroup ? ProcessGroups.Launcher : null;
        if (setsid is not null && ProcessGroups.NotExecutable(fileName) is { } why)
            throw new ImplementationStartException($"could not start the implementation '{fileName}': {why}");
        var psi = new ProcessStartInfo(setsid ?? fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        if (setsid is not null) psi.ArgumentList.Add(fileName);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (options.Environment is { } env)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start()) throw new InvalidOperationException("Process.Start returned false");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            process.Dispose();
            throw new ImplementationStartException($"could not start the implementation '{fileName}': {e.Message}", e);
        }
        stats.Started();
        var p = new ImplementationProcess(process, options, stats, label);
        if (setsid is not null) p._group = -1; // its own group, confirmed once it answers (see NoteGroup)
        p._stderr.Start(process.StandardError.BaseStream);
        return p;
    }

    private string StderrTail(bool lastWords = false) => _stderr.Text(lastWords);

    /// <summary>Bytes the program wrote to standard error so far.</summary>
    public long StandardErrorBytes => _stderr.Bytes;

    /// <summary>Records the program's process group once setsid has made it a group leader (it has answered, so it runs).</summary>
    private void NoteGroup()
    {
        if (_group != -1) return;
        int group = ProcessGroups.GroupOf(Pid);
        if (group == Pid) _group = group;
    }

    // ---- Requests ------------------------------------------------------------------------

    /// <summary>Starts a request; returns its id. Write fields with <see cref="Writer"/>, then <see cref="End"/>.</summary>
    public long Begin(ReadOnlySpan<byte> op)
    {
        long id = _nextId++;
        _requestStart = Writer.Length;
        if (_pendingRequests == 0 && _options.CountRoundTripsByOperation) _firstOperation = Encoding.UTF8.GetString(op);
        Writer.Begin(id, op);
        return id;
    }

    public void End()
    {
        Writer.End();
        int len = Math.Min(Writer.Length - _requestStart - 1, HistoryClip);
        Writer.Buffer.AsSpan(_requestStart, len).CopyTo(_history[_historyNext]);
        _historyLength[_historyNext] = len;
        _historyId[_historyNext] = _nextId - 1;
        _historyNext = (_historyNext + 1) % _history.Length;
        _pendingRequests++;
    }

    /// <summary>Writes every request begun since the last send; answers are then due within <paramref name="timeout"/>.</summary>
    public void Send(TimeSpan timeout)
    {
        if (Fault is not null) throw Fault;
        long now = Stopwatch.GetTimestamp();
        if (now > _instanceDeadline)
            throw Fail(new ImplementationTimeoutException(
                $"the booted instance of {_label} ran longer than the per-instance limit of {_options.InstanceTimeout?.TotalSeconds:0.#} s; the process was killed",
                _options.InstanceTimeout ?? TimeSpan.Zero, RecentRequests(), StderrTail()));
        _timeout = timeout;
        _deadline = now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        // Memory is checked at fixed points of the request stream (so that a leak is found at the
        // same request on a replay) and while an answer is slow to come (see Receive).
        if (++_sinceMemoryCheck >= MemoryCheckInterval) { _sinceMemoryCheck = 0; CheckMemory(); }
        _stats.Exchanged(_pendingRequests);
        if (_firstOperation is not null) _stats.Exchanged(_firstOperation);
        _pendingRequests = 0;
        int length = Writer.Length;
        Writer.Clear();
        bool written;
        try
        {
            written = _channel.Write(Writer.Buffer, 0, length, _deadline);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            throw Died(_nextId - 1, "receiving");
        }
        if (!written)
            throw Fail(new ImplementationTimeoutException(
                $"{_label} stopped reading its standard input: request {Describe(_nextId - 1)} could not be written within {timeout.TotalMilliseconds:0} ms; the process was killed",
                timeout, RecentRequests(), StderrTail()));
    }

    /// <summary>Reads the next answer, which must carry <paramref name="expectedId"/>. Valid until the next call.</summary>
    public Response Receive(long expectedId)
    {
        var r = ReceiveAny(expectedId);
        if (r.Id != expectedId)
            throw Violation($"the answer carries id {r.Id}, but the answer to request {Describe(expectedId)} was due " +
                            $"(answers must come in request order, once each: out of order, stale or duplicated); the line was: {r.Text()}");
        return r;
    }

    /// <summary>
    /// Reads the next answer, whatever its id (lane answers come in any order across lanes: the caller routes it);
    /// <paramref name="awaited"/> names the request waited for in messages. Valid until the next call.
    /// </summary>
    public Response ReceiveAny(long awaited)
    {
        long expectedId = awaited;
        if (Fault is not null) throw Fault;
        while (true)
        {
            int nl = _in.AsSpan(_inStart, _inEnd - _inStart).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int start = _inStart, length = nl;
                _inStart += nl + 1;
                while (length > 0 && _in[start + length - 1] is (byte)'\r' or (byte)' ' or (byte)'\t') length--;
                if (_in.AsSpan(start, length).Trim(" \t"u8).IsEmpty) continue; // blank lines are tolerated
                string? error = _response.Parse(_in, start, length);
                if (error is not null)
                    throw Violation($"the answer to request {Describe(expectedId)} is malformed: {error}; the line was: {_response.Text()}");
                if (_group == -1) NoteGroup();
                return _response;
            }
            if (_inStart == _inEnd) _inStart = _inEnd = 0;
            else if (_inStart > 0 && _inEnd == _in.Length)
            {
                Buffer.BlockCopy(_in, _inStart, _in, 0, _inEnd - _inStart);
                _inEnd -= _inStart;
                _inStart = 0;
            }
            if (_inEnd == _in.Length)
            {
                if (_in.Length >= _options.MaxLineBytes)
                    throw Violation($"the answer to request {Describe(expectedId)} is a line longer than {_options.MaxLineBytes} bytes " +
                                    $"(it starts: {Response.Clip(Encoding.UTF8.GetString(_in, 0, 120), 120)})");
                Array.Resize(ref _in, Math.Min(_in.Length * 2, _options.MaxLineBytes));
            }
            int n;
            try
            {
                while (true)
                {
                    // Wait in slices, checking the memory between them: a leak during a slow answer is caught too.
                    long slice = Math.Min(_deadline, Stopwatch.GetTimestamp() + MemoryCheckSlice);
                    n = _channel.Read(_in, _inEnd, _in.Length - _inEnd, slice);
                    if (n >= 0 || slice >= _deadline) break;
                    CheckMemory();
                    if (_killReason is not null) { n = 0; break; }
                    // The program is gone but its output is still open: a process it started holds it.
                    if (HasExited) { _orphanedPipe = true; n = 0; break; }
                }
            }
            catch (IOException)
            {
                n = 0;
            }
            if (n == 0) throw Died(expectedId, "answering");
            if (n < 0)
                throw Fail(new ImplementationTimeoutException(
                    $"{_label} did not answer request {Describe(expectedId)} within {_timeout.TotalMilliseconds:0} ms (hung or far too slow); the process was killed",
                    _timeout, RecentRequests(), StderrTail()));
            _inEnd += n;
        }
    }

    /// <summary>Turns a protocol breach into a fault: kills the process and returns the exception to throw.</summary>
    public ProtocolViolationException Violation(string detail) =>
        (ProtocolViolationException)Fail(new ProtocolViolationException($"protocol violation by {_label}: {detail}", RecentRequests(), StderrTail()));

    // ---- Boot ----------------------------------------------------------------------------

    /// <summary>
    /// Sends "hello" for <paramref name="profile"/> and returns the answer (ok or a refusal). The
    /// request offers every protocol version the runner speaks: "protocol" is the oldest (what a
    /// protocol-1 program reads), "versions" lists them all; the program answers with the one it speaks.
    /// </summary>
    public Response Hello(Profile profile, TimeSpan timeout, TimeSpan? instanceTimeout)
    {
        _instanceDeadline = long.MaxValue;
        long id = Begin("hello"u8);
        Writer.Number("protocol"u8, Protocol.Oldest);
        Writer.Json("versions"u8, Protocol.VersionsJson);
        Writer.Json("profile"u8, HelloProfile.Json(profile));
        End();
        Send(timeout);
        var r = Receive(id);
        _instanceDeadline = instanceTimeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        return r;
    }

    // ---- Containment ---------------------------------------------------------------------

    private void CheckMemory()
    {
        long limit = MemoryLimit;
        if (!OperatingSystem.IsLinux() || limit <= 0 || _killReason is not null || Fault is not null) return;
        long resident = ResidentBytes();
        if (resident <= limit) return;
        _killResident = resident;
        _killLimit = limit;
        _killReason = $"its resident memory reached {resident / 1048576.0:0.0} MiB, above the limit of {limit / 1048576.0:0.#} MiB (a leak?), so the runner killed it";
        Kill();
    }

    /// <summary>RSS from /proc/PID/statm ("size resident ..." in pages), re-read through one open handle.</summary>
    private long ResidentBytes()
    {
        try
        {
            _statm ??= File.OpenHandle($"/proc/{Pid}/statm");
            Span<byte> text = stackalloc byte[128];
            int n = RandomAccess.Read(_statm, text, 0);
            var fields = text[..n];
            int space = fields.IndexOf((byte)' ');
            if (space < 0) return 0;
            fields = fields[(space + 1)..];
            int end = fields.IndexOfAny((byte)' ', (byte)'\n');
            return System.Buffers.Text.Utf8Parser.TryParse(end < 0 ? fields : fields[..end], out long pages, out _)
                ? pages * Environment.SystemPageSize : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _statm;

    /// <summary>The program's end of a pipe is gone: find out how it died and build the fault.</summary>
    private ImplementationFaultException Died(long id, string doing)
    {
        if (_killReason is { } reason)
            return Fail(new ImplementationMemoryLimitException(
                $"{_label} exceeded its memory limit: {reason}, while {doing} request {Describe(id)}",
                _killResident, _killLimit, RecentRequests(), StderrTail()));
        bool exited;
        try { exited = _process.WaitForExit(5000); } // a dead program is reaped at once on a quiet machine; at load 50 it once took over a second
        catch (Exception e) when (e is InvalidOperationException or SystemException) { exited = true; }
        string how = exited ? DescribeExit() : "closed its standard output but kept running (killed)";
        if (_orphanedPipe) how += ", leaving a process it started holding its standard output (its process group was killed)";
        // Its process group goes too: nothing it started may outlive it.
        KillGroup();
        string stderr = StderrTail(lastWords: true);
        string lastWords = stderr.Length == 0 ? "" : $"; its standard error ends: \"{Response.Clip(string.Join(" | ", stderr.Split('\n').TakeLast(3)), 360)}\"";
        int? code = exited ? SafeExitCode() : null;
        return Fail(new ImplementationCrashedException(
            $"{_label} crashed: it {how} while {doing} request {Describe(id)}{lastWords}",
            code, RecentRequests(), stderr)
        {
            Signal = Signals.Of(code),
            SignalSentByRunner = _killedByRunner,
        });
    }

    private int? SafeExitCode()
    {
        try { return _process.ExitCode; }
        catch (InvalidOperationException) { return null; }
    }

    private string DescribeExit()
    {
        if (SafeExitCode() is not { } code) return "exited";
        if (Signals.Of(code) is { } sig)
            return $"was killed by signal {sig} ({Signals.Name(sig)}){(_killedByRunner ? "" : ", which the runner did not send")} (exit status {code})";
        return $"exited with code {code}";
    }

    private ImplementationFaultException Fail(ImplementationFaultException fault)
    {
        Fault ??= fault;
        if (!_closing)
        {
            _stats.Faulted();
            _stats.LastFault = fault;
        }
        Kill();
        return fault;
    }

    /// <summary>The request with this id as JSON (from the history), for messages.</summary>
    internal string Describe(long id)
    {
        for (int i = 0; i < _history.Length; i++)
            if (_historyId[i] == id && _historyLength[i] > 0)
                return $"{id} {Encoding.UTF8.GetString(_history[i], 0, _historyLength[i])}";
        return id.ToString();
    }

    public IReadOnlyList<string> RecentRequests()
    {
        var list = new List<string>();
        for (int k = 0; k < _history.Length; k++)
        {
            int i = (_historyNext + k) % _history.Length;
            if (_historyLength[i] > 0) list.Add(Encoding.UTF8.GetString(_history[i], 0, _historyLength[i]));
        }
        return list;
    }

    public void Kill()
    {
        _killedByRunner = true;
        KillGroup();
        try
        {
            if (!_process.HasExited && !ProcessTree.TryKill(Pid)) _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception or NotSupportedException or SystemException) { }
    }

    /// <summary>SIGKILL to the program's own process group (every process it started that did not leave it).</summary>
    private void KillGroup()
    {
        if (_group == -1) NoteGroup();
        if (_group > 0) ProcessGroups.Kill(_group);
    }

    /// <summary>Asks a healthy program to exit ("shutdown"), then kills whatever is left, and releases everything.</summary>
    public void Dispose()
    {
        if (!Live.TryRemove(this, out _)) return;
        _closing = true;
        if (Usable)
        {
            try
            {
                long id = Begin("shutdown"u8);
                End();
                Send(TimeSpan.FromMilliseconds(500));
                Receive(id);
                _process.WaitForExit(500);
            }
            catch (ImplementationFaultException) { }
        }
        Kill();
        try { _process.WaitForExit(1000); } catch (SystemException) { }
        KillGroup(); // what it left behind, even after a clean exit
        _statm?.Dispose();
        _channel.Dispose();
        try { _process.Dispose(); } catch (Exception e) when (e is IOException or SystemException) { }
    }

    public override string ToString() => _label;
}

/// <summary>Protocol versions (docs/protocol.md).</summary>
public static class Protocol
{
    /// <summary>The oldest version the runner speaks: what it puts in hello's "protocol" field.</summary>
    public const int Oldest = 1;

    /// <summary>The newest version the runner speaks (the highest <see cref="WireOperation.Since"/>).</summary>
    public static int Latest { get; } = Operations.LatestVersion;

    /// <summary>Every version the runner speaks, oldest first.</summary>
    public static IReadOnlyList<int> Versions { get; } = Enumerable.Range(Oldest, Latest - Oldest + 1).ToArray();

    internal static byte[] VersionsJson { get; } = System.Text.Encoding.UTF8.GetBytes($"[{string.Join(",", Versions)}]");
}
