namespace KernelMm.Conformance.Parallel;

/// <summary>
/// The real-time record of one parallel run: every call with the ticket taken just before it started
/// and the ticket taken just after it returned. Tickets come from one shared counter incremented with
/// a full fence, so "A returned before B was called" in tickets means it really did: the order the
/// linearizability check must respect is never invented by clock skew between cores (a false alarm
/// is worse than a miss).
/// </summary>
public sealed class History
{
    private long _clock;

    /// <summary>A fresh ticket: strictly greater than every ticket taken before it, on any thread.</summary>
    public long Tick() => Interlocked.Increment(ref _clock);

    /// <summary>Tickets taken so far.</summary>
    public long Now => Volatile.Read(ref _clock);
}

/// <summary>
/// One call as the report draws it: which CPU made it (<see cref="Prefix"/> for the sequential prefix,
/// <see cref="AfterJoin"/> for what runs after the branches), its kernel-style text, what came back,
/// and its call and return tickets.
/// </summary>
public sealed record TimedCall(int Cpu, string Call, string Result, long Start, long End)
{
    public const int Prefix = -1;
    public const int AfterJoin = -2;
}
