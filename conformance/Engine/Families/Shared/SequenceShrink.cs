namespace KernelMm.Conformance.Families.Shared;

/// <summary>
/// The shrinking order every one-thread family uses for its generated sequences: first remove
/// chunks (halves, quarters, ... single steps), so a failure sheds the steps it does not need
/// quickly; then simplify one step at a time with the family's own <c>simplify</c> (smaller order,
/// slot 0, fewer pages, ...). Candidates are yielded lazily, best first, as FsCheck expects.
/// </summary>
public static class SequenceShrink
{
    /// <summary>Every shorter and then every one-step-simpler candidate of <paramref name="ops"/>.</summary>
    public static IEnumerable<T[]> Candidates<T>(T[] ops, Func<T, IEnumerable<T>> simplify)
    {
        for (int chunk = ops.Length / 2; chunk >= 1; chunk /= 2)
            for (int start = 0; start + chunk <= ops.Length; start += chunk)
                yield return [.. ops[..start], .. ops[(start + chunk)..]];
        for (int i = 0; i < ops.Length; i++)
            foreach (var simpler in simplify(ops[i]))
            {
                var copy = (T[])ops.Clone();
                copy[i] = simpler;
                yield return copy;
            }
    }
}
