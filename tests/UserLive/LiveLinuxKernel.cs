using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.UserLive;

/// <summary>
/// The Linux kernel of this machine as an <see cref="IUserMemory"/>: every call is a request to
/// examples/live-linux (one JSON line each way), whose simulated processes are real child processes
/// doing the real mmap/munmap/mprotect/fork and catching SIGSEGV/SIGBUS. This is a test harness
/// that speaks the helper's own user-space lines directly; putting the user operations on the
/// suite's wire protocol is separate work (docs/protocol.md). Declares only
/// <see cref="Capability.UserMemory"/>: swap, driver mmap and the kernel's user copies are not
/// something a user program can show.
/// </summary>
public sealed class LiveLinuxKernel : IMemoryManager, IUserMemory
{
    private readonly Process _process;
    private readonly StreamWriter _in;
    private readonly StreamReader _out;
    private readonly StringBuilder _stderr = new();
    private long _id;
    private bool _disposed;

    public LiveLinuxKernel(string program, Profile profile)
    {
        Profile = profile;
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"{program} did not start");
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _in = _process.StandardInput;
        _in.AutoFlush = false;
        _out = _process.StandardOutput;
        var hello = Send($"\"op\":\"hello\",\"protocol\":1,\"profile\":{{\"name\":\"{profile.Name}\"}}");
        if (!hello.GetProperty("ok").GetBoolean())
            throw new InvalidOperationException($"live-linux refused {profile.Label}: {hello}");
        Name = hello.GetProperty("name").GetString() ?? "linux-live";
    }

    /// <summary>What the helper calls itself in its hello answer.</summary>
    public string Name { get; }
    public Profile Profile { get; }
    public IReadOnlySet<Capability> Capabilities { get; } = new HashSet<Capability> { Capability.UserMemory };

    // ---- Processes ------------------------------------------------------------------------------

    public int CreateProcess() => (int)Value("\"op\":\"createProcess\"").GetInt64();
    public int Fork(int pid) => (int)Value($"\"op\":\"fork\",\"pid\":{pid}").GetInt64();
    public void Exit(int pid) => Value($"\"op\":\"exit\",\"pid\":{pid}");
    public long PageFaults(int pid) => Value($"\"op\":\"pageFaults\",\"pid\":{pid}").GetInt64();

    // ---- Files and devices ----------------------------------------------------------------------

    public int CreateFile(long size) => (int)Value($"\"op\":\"createFile\",\"size\":{size}").GetInt64();

    public int ReadFile(int file, long offset, Span<byte> destination)
    {
        var bytes = Convert.FromHexString(Value($"\"op\":\"readFile\",\"file\":{file},\"offset\":{offset},\"len\":{destination.Length}").GetString()!);
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    public void WriteFile(int file, long offset, ReadOnlySpan<byte> source) =>
        Value($"\"op\":\"writeFile\",\"file\":{file},\"offset\":{offset},\"data\":\"{Convert.ToHexString(source)}\"");

    public int Open(int pid, int file, OpenMode mode) => (int)Value($"\"op\":\"open\",\"pid\":{pid},\"file\":{file},\"mode\":{(int)mode}").GetInt64();
    public int OpenDevice(int pid, int device) => (int)Value($"\"op\":\"openDevice\",\"pid\":{pid},\"device\":{device}").GetInt64();
    public int Close(int pid, int fd) => (int)Value($"\"op\":\"close\",\"pid\":{pid},\"fd\":{fd}").GetInt64();

    // ---- Mappings -------------------------------------------------------------------------------

    public long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset) =>
        Value($"\"op\":\"mmap\",\"pid\":{pid},\"addr\":{Hex(addr)},\"length\":{Hex(length)},\"prot\":{(int)prot},\"flags\":{(int)flags},\"fd\":{fd},\"offset\":{offset}").GetInt64();

    public int Munmap(int pid, ulong addr, ulong length) =>
        (int)Value($"\"op\":\"munmap\",\"pid\":{pid},\"addr\":{Hex(addr)},\"length\":{Hex(length)}").GetInt64();

    public int Mprotect(int pid, ulong addr, ulong length, Prot prot) =>
        (int)Value($"\"op\":\"mprotect\",\"pid\":{pid},\"addr\":{Hex(addr)},\"length\":{Hex(length)},\"prot\":{(int)prot}").GetInt64();

    // ---- Loads and stores -----------------------------------------------------------------------

    public UserFault UserRead(int pid, ulong addr, Span<byte> destination)
    {
        var v = Value($"\"op\":\"userRead\",\"pid\":{pid},\"addr\":{Hex(addr)},\"len\":{destination.Length}");
        var fault = Fault(v.GetProperty("fault").GetString());
        if (fault == UserFault.None) Convert.FromHexString(v.GetProperty("data").GetString()!).CopyTo(destination);
        return fault;
    }

    public UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source) =>
        Fault(Value($"\"op\":\"userWrite\",\"pid\":{pid},\"addr\":{Hex(addr)},\"data\":\"{Convert.ToHexString(source)}\"").GetString());

    private static UserFault Fault(string? name) => name switch
    {
        "none" => UserFault.None,
        "maperr" => UserFault.MapError,
        "accerr" => UserFault.AccessError,
        "bus" => UserFault.Bus,
        "oom" => UserFault.OutOfMemory,
        _ => throw new InvalidOperationException($"live-linux answered an unknown fault kind '{name}'"),
    };

    // ---- The line protocol ----------------------------------------------------------------------

    /// <summary>Addresses and lengths as quoted hex (the helper reads them with strtoull): exact for every 64-bit value.</summary>
    private static string Hex(ulong v) => "\"0x" + v.ToString("x", CultureInfo.InvariantCulture) + "\"";

    /// <summary>The answer's value; an error answer becomes the contract's typed error (the helper's "invalid" is bad input).</summary>
    private JsonElement Value(string fields)
    {
        var answer = Send(fields);
        if (answer.GetProperty("ok").GetBoolean()) return answer.GetProperty("value");
        var error = answer.GetProperty("error");
        string kind = error.GetProperty("kind").GetString() ?? "?", message = error.GetProperty("message").GetString() ?? "";
        if (kind == "invalid")
            throw new InvalidArgumentException(error.TryGetProperty("parameter", out var p) ? p.GetString() ?? "?" : "?", message);
        throw new InvalidOperationException($"live-linux: {kind}: {message}");
    }

    private JsonElement Send(string fields)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long id = ++_id;
        _in.Write($"{{\"id\":{id},{fields}}}\n");
        _in.Flush();
        string? line = _out.ReadLine();
        if (line is null)
        {
            _process.WaitForExit(2000);
            string err;
            lock (_stderr) err = _stderr.ToString();
            throw new InvalidOperationException($"live-linux closed its output (exit {(_process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "none")}); stderr: {err}");
        }
        var doc = JsonDocument.Parse(line).RootElement.Clone();
        if (doc.GetProperty("id").GetInt64() != id) throw new InvalidOperationException($"live-linux answered request {doc.GetProperty("id")} to request {id}: {line}");
        return doc;
    }

    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            Send("\"op\":\"shutdown\"");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) { }
        _disposed = true;
        try { _in.Close(); } catch (IOException) { }
        // Its processes exit when their sockets close. Should the helper hang, end it (our own child, by its PID).
        if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

/// <summary>Boots a fresh helper per <see cref="Create"/>; only the x86-64 profile (the machine's own) is supported.</summary>
public sealed class LiveLinuxFactory(string program) : IImplementationFactory
{
    public string Name => "linux-live (examples/live-linux)";
    public IMemoryManager? Create(Profile profile) => profile.Name == Profiles.X86_64.Name ? new LiveLinuxKernel(program, profile) : null;
}
