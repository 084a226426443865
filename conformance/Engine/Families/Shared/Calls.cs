using KernelMm.Conformance.Checking;

namespace KernelMm.Conformance.Families.Shared;

/// <summary>How every family calls into an implementation and describes what came back.</summary>
internal static class Calls
{
    [ThreadStatic] private static int _depth;

    /// <summary>
    /// True while a call made through <see cref="Try"/> is running on this thread: whatever the
    /// implementation raises there is handed to the check that judges the call. Anything it raises
    /// outside <see cref="Try"/> (a query a check needs) is a failure of the call itself, which the
    /// contract boundary (<see cref="Running.CallRecorder"/>) charges to the next check.
    /// </summary>
    public static bool InsideTry => _depth > 0;

    /// <summary>
    /// Runs a contract call and returns what it raised, or null. The suite's own verdicts pass
    /// through. A fault of an out-of-process implementation (crash, hang, garbage) is returned like
    /// any other exception, so the trace shows it; the contract boundary has recorded it, and the
    /// next check the step makes charges it to that check's rule.
    /// </summary>
    public static Exception? Try(Action action)
    {
        _depth++;
        try { action(); return null; }
        catch (Exception e) when (e is not RuleViolation and not SequenceStopped) { return e; }
        finally { _depth--; }
    }

    public static string Describe(Exception? e) => e is null ? "no error" : $"{e.GetType().Name}: {e.Message}";
}
