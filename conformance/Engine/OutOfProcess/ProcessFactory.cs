using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>Counters of one <see cref="ProcessFactory"/>, for throughput analysis and tests (thread-safe).</summary>
public sealed class ProcessFactoryStatistics
{
    private long _started, _boots, _refusals, _requests, _exchanges, _faults;
    private volatile ImplementationFaultException? _lastFault;

    /// <summary>Processes started (the first one and every restart after a fault).</summary>
    public long ProcessesStarted => Interlocked.Read(ref _started);
    /// <summary>Successful "hello" handshakes (one per booted instance).</summary>
    public long Boots => Interlocked.Read(ref _boots);
    /// <summary>Profiles the program refused.</summary>
    public long Refusals => Interlocked.Read(ref _refusals);
    /// <summary>Request lines written.</summary>
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>Writes of one or more pipelined requests, each followed by reading their answers (round trips).</summary>
    public long Exchanges => Interlocked.Read(ref _exchanges);
    /// <summary>Implementation faults (crash, timeout, protocol violation, memory limit, failed start).</summary>
    public long Faults => Interlocked.Read(ref _faults);
    /// <summary>The latest fault, if any.</summary>
    public ImplementationFaultException? LastFault { get => _lastFault; internal set => _lastFault = value; }

    internal void Started() => Interlocked.Increment(ref _started);
    internal void Booted() => Interlocked.Increment(ref _boots);
    internal void Refused() => Interlocked.Increment(ref _refusals);
    internal void Faulted() => Interlocked.Increment(ref _faults);
    /// <summary>One write of <paramref name="requests"/> pipelined requests.</summary>
    internal void Exchanged(long requests)
    {
        Interlocked.Increment(ref _exchanges);
        Interlocked.Add(ref _requests, requests);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _byFirst = new();

    /// <summary>
    /// Round trips by the operation of their first request ("allocPages", "read", "snapshot"): what each
    /// round trip was for. Counted only with <see cref="ProcessFactoryOptions.CountRoundTripsByOperation"/>.
    /// </summary>
    public IReadOnlyDictionary<string, long> RoundTripsByFirstOperation =>
        new Dictionary<string, long>(_byFirst);

    internal void Exchanged(string firstOperation) =>
        _byFirst.AddOrUpdate(firstOperation, 1, static (_, n) => n + 1);

    public override string ToString() =>
        $"{ProcessesStarted} process(es), {Boots} boot(s), {Requests} requests in {Exchanges} round trips, {Faults} fault(s)";
}

/// <summary>
/// Runs an implementation in another process, in any language, through the newline-delimited JSON
/// protocol of docs/protocol.md on its standard input and output. One process is kept and reset
/// with a new "hello" for every boot (<see cref="ProcessFactoryOptions.ReuseProcess"/>); a process
/// that crashes, hangs, breaks the protocol or outgrows its memory limit is killed, the call that
/// found it raises an <see cref="ImplementationFaultException"/> (the suite reports a failure of the
/// rule being checked), and the next boot starts a fresh process. Dispose the factory to stop it.
/// </summary>
public sealed class ProcessFactory : IConcurrentFactory, IDisposable
{
    /// <summary>
    /// What a program that has never booted is taken to declare: everything the protocol carries. Its
    /// boot fault then fails every family the run selects (a user-space program that cannot start is not
    /// passed because its family was taken to be n/a), and no capability is assumed to be the one every
    /// program has: a program may declare any set (UserMemory alone, say).
    /// </summary>
    private static readonly IReadOnlySet<Capability> Unknown = Operations.Carried(Protocol.Latest);

    private readonly string _fileName;
    private readonly IReadOnlyList<string> _arguments;
    private readonly ProcessFactoryOptions _options;
    private readonly string _defaultName;
    private readonly Stack<ImplementationProcess> _idle = new();
    private readonly HashSet<string> _accepted = new();
    private readonly Dictionary<string, string> _refusals = new();
    private readonly object _lock = new();
    private string? _declaredName;
    private int? _protocol;
    private IReadOnlySet<Capability>? _lastCapabilities;
    /// <summary>Boot failures in a row and the last one: per profile label once any boot has succeeded, else for the whole program ("").</summary>
    private readonly Dictionary<string, (int InARow, ImplementationFaultException Last)> _bootFailures = new();
    private bool _everBooted;
    private bool _disposed;

    /// <summary>
    /// <paramref name="commandLine"/> is split like a POSIX shell would split words (quotes and
    /// backslashes; no variables, globs or pipes: use <c>sh -c '...'</c> for those). Errors:
    /// <see cref="ArgumentException"/> for an empty command or an executable that cannot be found.
    /// </summary>
    public ProcessFactory(string commandLine, ProcessFactoryOptions? options = null)
        : this(SplitOrThrow(commandLine), options)
    {
    }

    /// <summary>The program and its arguments, already split.</summary>
    public ProcessFactory(IReadOnlyList<string> command, ProcessFactoryOptions? options = null)
    {
        if (command.Count == 0 || string.IsNullOrWhiteSpace(command[0])) throw new ArgumentException("the implementation command is empty");
        _options = options ?? new ProcessFactoryOptions();
        if (_options.OperationTimeout <= TimeSpan.Zero || _options.BootTimeout <= TimeSpan.Zero)
            throw new ArgumentException("timeouts must be positive");
        if (_options.WorkingDirectory is { } wd && !Directory.Exists(wd))
            throw new ArgumentException($"the implementation's working directory '{wd}' does not exist");
        _fileName = Resolve(command[0]);
        _arguments = command.Skip(1).ToArray();
        _defaultName = Path.GetFileName(command[0]);
        CommandLine = string.Join(" ", command.Select(CommandLineWords.Quote));
    }

    /// <summary>The command as it is run, for reports and replay instructions.</summary>
    public string CommandLine { get; }

    /// <summary>
    /// The name in reports: <see cref="ProcessFactoryOptions.Name"/>, else the executable's file name.
    /// Stable from construction on (a failure database is keyed by it), unlike <see cref="DeclaredName"/>.
    /// </summary>
    public string Name => _options.Name ?? _defaultName;

    /// <summary>The "name" of the program's first accepted hello answer, once it has booted.</summary>
    public string? DeclaredName => _declaredName;

    /// <summary>The protocol version the program answered hello with, once it has booted.</summary>
    public int? ProtocolVersion => _protocol;

    public ProcessFactoryStatistics Statistics { get; } = new();

    /// <summary>Instances (so programs) in use at once: <see cref="ProcessFactoryOptions.MaxConcurrency"/>.</summary>
    public int MaxConcurrency => Math.Max(1, _options.MaxConcurrency);

    /// <summary>Why the program refused a profile (by label, e.g. "x86-32/64M"), from its hello answer.</summary>
    public IReadOnlyDictionary<string, string> Refusals => _refusals;

    public IMemoryManager? Create(Profile profile)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string breaker;
        lock (_lock)
        {
            breaker = _everBooted ? profile.Label : "";
            if (_bootFailures.TryGetValue(breaker, out var failed) && failed.InARow >= Math.Max(1, _options.MaxConsecutiveBootFailures))
                return Faulted(profile, failed.Last);
        }
        ImplementationProcess? p = null;
        try
        {
            p = TakeIdle() ?? ImplementationProcess.Start(_fileName, _arguments, _options, Statistics, _defaultName);
            p.MemoryLimit = _options.MemoryLimitBytes ?? (1L << 30) + 2L * (long)Math.Min(profile.PhysicalMemory, long.MaxValue / 4);
            var hello = p.Hello(profile, _options.BootTimeout, _options.InstanceTimeout);
            lock (_lock) return Accept(p, profile, hello);
        }
        catch (ImplementationFaultException fault)
        {
            p?.Dispose();
            lock (_lock)
            {
                Statistics.LastFault = fault;
                if (fault is ImplementationStartException) Statistics.Faulted();
                int inARow = (_bootFailures.TryGetValue(breaker, out var before) ? before.InARow : 0) + 1;
                string message = fault is ImplementationStartException ? fault.Message : $"boot failed: {fault.Message}";
                if (inARow >= Math.Max(1, _options.MaxConsecutiveBootFailures))
                    message += _everBooted
                        ? $" ({inARow} boots of {profile.Label} in a row failed: the runner stops booting it for this run)"
                        : $" ({inARow} boots in a row failed: the runner stops restarting the program for this run)";
                var boot = Rephrase(fault, message);
                _bootFailures[breaker] = (inARow, boot);
                return Faulted(profile, boot);
            }
        }
    }

    /// <summary>Checks a hello answer and boots the instance, or records the refusal (null). Under the lock.</summary>
    private RemoteMachine? Accept(ImplementationProcess p, Profile profile, Response hello)
    {
        if (!hello.Ok)
        {
            string why = hello.ErrorMessage ?? hello.ErrorKind ?? "refused";
            if (_accepted.Contains(profile.Label))
                throw p.Violation($"the program refused profile {profile.Label} ({why}) after accepting it earlier");
            _refusals[profile.Label] = why;
            Statistics.Refused();
            Return(p);
            return null;
        }
        if (hello.Protocol is not { } version || !Protocol.Versions.Contains((int)version))
            throw p.Violation($"the hello answer must say which protocol version it speaks, one of {string.Join(", ", Protocol.Versions)} " +
                              $"(\"protocol\":{Protocol.Latest}), it says {hello.Protocol?.ToString() ?? "nothing"}");
        if (_protocol is { } earlier && earlier != version)
            throw p.Violation($"the hello answer says protocol {version}, an earlier one said {earlier}");
        _protocol = (int)version;
        var carried = Operations.Carried((int)version);
        if (hello.Capabilities is null) throw p.Violation("the hello answer has no \"capabilities\" array");
        var caps = new HashSet<Capability>();
        foreach (var name in hello.Capabilities)
        {
            if (!Enum.TryParse(name, ignoreCase: false, out Capability c) || !Enum.IsDefined(c) || char.IsDigit(name[0]))
                throw p.Violation($"the hello answer declares an unknown capability \"{name}\" (known: {string.Join(", ", Enum.GetNames<Capability>())})");
            if (!carried.Contains(c))
                throw p.Violation($"the hello answer declares {c}, which protocol {version} does not carry " +
                                  $"(it carries {string.Join(", ", carried)}{(Operations.Carried(Protocol.Latest).Contains(c) ? $"; protocol {Protocol.Latest} carries {c}" : "")})");
            caps.Add(c);
        }
        int lanes = Lanes(p, (int)version, caps, hello);
        var features = (hello.Features ?? []).ToHashSet();
        _declaredName ??= string.IsNullOrWhiteSpace(hello.Name) ? null : hello.Name;
        _lastCapabilities = caps;
        _accepted.Add(profile.Label);
        _everBooted = true;
        _bootFailures.Remove(profile.Label);
        _bootFailures.Remove("");
        Statistics.Booted();
        return new RemoteMachine(this, p, profile, caps, features, _options, lanes: lanes);
    }

    /// <summary>Lanes the program runs at once (hello's "cpus", protocol 5), when it declared a capability judged on lanes; else 0.</summary>
    private static int Lanes(ImplementationProcess p, int version, HashSet<Capability> caps, Response hello)
    {
        var onLanes = caps.Where(Operations.OnLanes.Contains).Order().ToList();
        if (onLanes.Count == 0) return 0;
        string which = string.Join(" and ", onLanes);
        if (version < Operations.LanesSince)
            throw p.Violation($"the hello answer declares {which}, which are judged on CPU lanes: protocol {Operations.LanesSince} or later, not {version}");
        if (hello.Cpus is not { } cpus)
            throw p.Violation(hello.CpusText is { } text
                ? $"the hello answer declares {which}, so \"cpus\" must be an integer from {MinLanes} to {MaxLanes} (the lanes it runs at once), not {Response.Clip(text, 40)}"
                : $"the hello answer declares {which} but no \"cpus\": a program judged on CPU lanes must say how many it runs at once ({MinLanes} to {MaxLanes})");
        if (cpus is < MinLanes or > MaxLanes)
            throw p.Violation($"the hello answer says \"cpus\":{cpus}; a program declaring {which} runs {MinLanes} to {MaxLanes} CPU lanes at once");
        return (int)cpus;
    }

    /// <summary>The fewest and most CPU lanes a program may declare (docs/protocol.md, "CPU lanes").</summary>
    public const int MinLanes = 2, MaxLanes = 8;

    /// <summary>A machine whose every call raises the boot fault, so that the suite reports it instead of stopping.</summary>
    private RemoteMachine Faulted(Profile profile, ImplementationFaultException fault) =>
        new(this, null, profile, _lastCapabilities ?? Unknown, new HashSet<string>(), _options, fault);

    private static ImplementationFaultException Rephrase(ImplementationFaultException f, string m) =>
        f switch
        {
            ImplementationCrashedException c => new ImplementationCrashedException(m, c.ExitCode, f.RecentRequests, f.StandardErrorTail, f)
            {
                Signal = c.Signal,
                SignalSentByRunner = c.SignalSentByRunner,
            },
            ImplementationTimeoutException t => new ImplementationTimeoutException(m, t.Limit, f.RecentRequests, f.StandardErrorTail),
            ImplementationMemoryLimitException l => new ImplementationMemoryLimitException(m, l.ResidentBytes, l.LimitBytes, f.RecentRequests, f.StandardErrorTail),
            ImplementationStartException => new ImplementationStartException(m, f.InnerException),
            _ => new ProtocolViolationException(m, f.RecentRequests, f.StandardErrorTail, f),
        };

    private ImplementationProcess? TakeIdle()
    {
        lock (_lock)
        {
            while (_idle.Count > 0)
            {
                var p = _idle.Pop();
                if (p.Usable) return p;
                p.Dispose();
            }
        }
        return null;
    }

    /// <summary>A booted instance is done with its process: keep it for the next boot if healthy, else stop it.</summary>
    internal void Return(ImplementationProcess p)
    {
        if (_options.ReuseProcess && p.Usable && !_disposed)
        {
            lock (_lock)
            {
                if (_idle.Count < Math.Max(2, MaxConcurrency))
                {
                    _idle.Push(p);
                    return;
                }
            }
        }
        p.Dispose();
    }

    /// <summary>Stops every idle process ("shutdown", then kill).</summary>
    public void Dispose()
    {
        _disposed = true;
        lock (_lock)
        {
            while (_idle.Count > 0) _idle.Pop().Dispose();
        }
    }

    private static IReadOnlyList<string> SplitOrThrow(string commandLine)
    {
        var words = CommandLineWords.Split(commandLine);
        if (words.Count == 0) throw new ArgumentException("the implementation command is empty");
        return words;
    }

    /// <summary>The executable as a full path: a name with a slash is taken relative to the current directory, a bare name is looked up on PATH.</summary>
    private static string Resolve(string file)
    {
        if (OperatingSystem.IsWindows()) return file;
        if (file.Contains('/'))
        {
            string full = Path.GetFullPath(file);
            if (!File.Exists(full)) throw new ArgumentException($"the implementation program '{file}' does not exist");
            return full;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, file);
            if (File.Exists(candidate)) return candidate;
        }
        throw new ArgumentException($"the implementation program '{file}' was not found on PATH");
    }
}
