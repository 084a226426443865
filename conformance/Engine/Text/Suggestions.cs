namespace KernelMm.Conformance.Text;

/// <summary>
/// "Did you mean" for names a user typed: the closest known name by edit distance, offered only
/// when it is close enough to be a typo. Shared by the command line's option values and the
/// grader's rubric file, which refuse unknown names with the same sentence shape.
/// </summary>
public static class Suggestions
{
    /// <summary>" (did you mean X?)" for the closest known name, when one is close; "" otherwise.</summary>
    public static string Suggest(string text, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, d: Distance(text.ToLowerInvariant(), k.ToLowerInvariant()))).OrderBy(p => p.d).FirstOrDefault();
        return best.k is not null && best.d <= Math.Max(2, best.k.Length / 3) ? $" (did you mean {best.k}?)" : "";
    }

    /// <summary>Levenshtein distance; names longer than 64 characters are never close (bounded work on hostile input).</summary>
    public static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64) return int.MaxValue;
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = up;
            }
        }
        return row[b.Length];
    }
}
