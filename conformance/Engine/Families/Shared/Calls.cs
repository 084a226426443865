using KernelMm.Conformance.Checking;

namespace KernelMm.Conformance.Families.Shared;

/// <summary>How every family calls into an implementation and describes what came back.</summary>
internal static class Calls
{
    /// <summary>
    /// Runs a contract call and returns what it raised, or null. The suite's own verdicts and an
    /// out-of-process fault pass through: those end the sequence instead of being judged per call.
    /// </summary>
    public static Exception? Try(Action action)
    {
        try { action(); return null; }
        catch (Exception e) when (e is not RuleViolation and not MaskedDivergence and not OutOfProcess.ImplementationFaultException) { return e; }
    }

    public static string Describe(Exception? e) => e is null ? "no error" : $"{e.GetType().Name}: {e.Message}";
}
