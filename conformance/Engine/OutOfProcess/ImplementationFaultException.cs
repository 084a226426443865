using System.Text;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The out-of-process implementation itself failed (not a contract error it reported): it crashed,
/// hung, broke the protocol or outgrew its memory limit. The process is killed when this is raised;
/// the suite reports it as a failure of the rule being checked, and the next boot starts a fresh
/// process. Carries the last requests sent and the tail of the program's standard error.
/// </summary>
public abstract class ImplementationFaultException : Exception
{
    protected ImplementationFaultException(string message, IReadOnlyList<string> recentRequests, string standardErrorTail, Exception? inner = null)
        : base(message, inner)
    {
        RecentRequests = recentRequests;
        StandardErrorTail = standardErrorTail;
    }

    /// <summary>The last requests written to the program, oldest first (JSON lines, long ones truncated).</summary>
    public IReadOnlyList<string> RecentRequests { get; }

    /// <summary>The last lines the program wrote to its standard error (may be empty).</summary>
    public string StandardErrorTail { get; }

    /// <summary>The message, the recent requests and the standard-error tail, for logs.</summary>
    public string Details()
    {
        var sb = new StringBuilder(Message);
        if (RecentRequests.Count > 0)
        {
            sb.Append("\nlast requests sent:");
            foreach (var r in RecentRequests) sb.Append("\n  ").Append(r);
        }
        if (StandardErrorTail.Length > 0) sb.Append("\nstandard error (tail):\n").Append(StandardErrorTail);
        return sb.ToString();
    }

    public override string ToString() => $"{GetType().FullName}: {Details()}\n{StackTrace}";
}

/// <summary>The program exited, was killed by a signal, or closed its standard output.</summary>
public sealed class ImplementationCrashedException(string message, int? exitCode, IReadOnlyList<string> recentRequests, string standardErrorTail, Exception? inner = null)
    : ImplementationFaultException(message, recentRequests, standardErrorTail, inner)
{
    /// <summary>The exit status as .NET reports it (128 + N for a death by signal N), when known.</summary>
    public int? ExitCode { get; } = exitCode;

    /// <summary>The signal the program died from, when it died from one.</summary>
    public int? Signal { get; init; }

    /// <summary>Whether that signal came from the runner (a kill after a fault) rather than from elsewhere (the program itself, the OOM killer, a user).</summary>
    public bool SignalSentByRunner { get; init; }
}

/// <summary>The program did not answer within the per-operation, boot or per-instance time limit.</summary>
public sealed class ImplementationTimeoutException(string message, TimeSpan limit, IReadOnlyList<string> recentRequests, string standardErrorTail)
    : ImplementationFaultException(message, recentRequests, standardErrorTail)
{
    public TimeSpan Limit { get; } = limit;
}

/// <summary>
/// The program answered something the protocol does not allow: not JSON, the wrong id (out of
/// order, stale or duplicated), a missing or mistyped field, an unknown error kind, a bad handshake.
/// </summary>
public sealed class ProtocolViolationException(string message, IReadOnlyList<string> recentRequests, string standardErrorTail, Exception? inner = null)
    : ImplementationFaultException(message, recentRequests, standardErrorTail, inner)
{
}

/// <summary>The program's resident memory grew past the limit (a leak); the runner killed it.</summary>
public sealed class ImplementationMemoryLimitException(string message, long residentBytes, long limitBytes, IReadOnlyList<string> recentRequests, string standardErrorTail)
    : ImplementationFaultException(message, recentRequests, standardErrorTail)
{
    public long ResidentBytes { get; } = residentBytes;
    public long LimitBytes { get; } = limitBytes;
}

/// <summary>The program could not be started at all (missing file, not executable...).</summary>
public sealed class ImplementationStartException(string message, Exception? inner = null)
    : ImplementationFaultException(message, [], "", inner)
{
}
