using System.Reflection;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// Makes Stryker's mtp runner cheap for code that runs hot. Stryker 5.1.0 injects a
/// <c>Stryker.MutantControl</c> class into the mutated assembly, and every mutation point calls its
/// <c>IsActive(id)</c>. Under the mtp runner (one warm test server reused for every mutant) that
/// method reads the active mutant's id from a memory-mapped file on EVERY call, so the host notices
/// when the runner switches mutants. On the reference, whose hot paths pass through thousands of
/// mutation points per operation, that read made the test selection 3.8 times slower than the same
/// mutated assembly with the id cached (36 s against 9.4 s, docs/mutation.md).
///
/// The runner writes the new id to the file before it asks for a test run, and a test run never
/// changes mutants. So reading the file once at the start of a run (the mutation project's assembly
/// fixture does this, before any test class is constructed) gives the same answer as reading it on
/// every call: this copies the id into <c>MutantControl.ActiveMutant</c> and clears its cached file
/// path, which makes <c>IsActive</c> compare against the field.
///
/// Only the shape of Stryker's injected class is relied on (two private fields and two public
/// ones). If it changes, <see cref="Apply"/> changes nothing and says why: the run is then only
/// slower, never wrong.
/// </summary>
public static class ActiveMutantSwitch
{
    /// <summary>The environment variable through which Stryker's mtp runner names the mutant-id file.</summary>
    public const string MutantFileVariable = "STRYKER_MUTANT_FILE";

    /// <summary>
    /// The injected class: <c>MutantControl</c> in a namespace Stryker names per run
    /// (<c>Stryker</c> and a random suffix), or null in an assembly Stryker did not mutate.
    /// </summary>
    public static Type? FindMutantControl(Assembly mutated) =>
        mutated.GetTypes().FirstOrDefault(t =>
            t.Name == "MutantControl" && t.Namespace?.StartsWith("Stryker", StringComparison.Ordinal) == true);

    /// <summary>
    /// Reads the active mutant from <paramref name="mutantFile"/> and caches it in
    /// <paramref name="mutantControl"/>. Returns what was done, for the log.
    /// </summary>
    public static string Apply(Type? mutantControl, string? mutantFile)
    {
        if (string.IsNullOrEmpty(mutantFile))
            return $"not under Stryker's mtp runner ({MutantFileVariable} unset): nothing to do";
        if (mutantControl is null)
            return "no Stryker.MutantControl in the mutated assembly: nothing to do";

        const BindingFlags Static = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var active = mutantControl.GetField("ActiveMutant", Static);
        var capture = mutantControl.GetField("CaptureCoverage", Static);
        var path = mutantControl.GetField("_cachedMutantFilePath", Static);
        var pathCached = mutantControl.GetField("_mutantFilePathCached", Static);
        if (active?.FieldType != typeof(int) || capture?.FieldType != typeof(bool)
            || path?.FieldType != typeof(string) || pathCached?.FieldType != typeof(bool))
            return "Stryker.MutantControl has another shape than Stryker 5.1.0's: left as it is (slower, still correct)";

        // Coverage capture: IsActive records coverage and never reads the file; leave it alone.
        if ((bool)capture.GetValue(null)!)
            return "coverage capture: nothing to do";

        int id;
        try
        {
            using var file = new FileStream(mutantFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> bytes = stackalloc byte[4];
            file.ReadExactly(bytes);
            id = BitConverter.ToInt32(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read {mutantFile} ({e.Message}): left as it is";
        }

        active.SetValue(null, id);
        path.SetValue(null, string.Empty);
        pathCached.SetValue(null, true);
        return $"active mutant {id} cached for this run";
    }
}
