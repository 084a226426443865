using System.Globalization;
using System.Text.RegularExpressions;
using KernelMm.Conformance.Running;
using static KernelMm.Conformance.Text.Suggestions;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Cli.Options;

/// <summary>
/// Parsers for every option value of the command line: each returns the value or a sentence saying
/// what is wrong and what would be right. Pure functions (no I/O except where a path is checked),
/// so the command line refuses a bad value before any work starts, and tests can feed them garbage.
/// </summary>
public static partial class Values
{
    /// <summary>A result: the value, or why the text is not one.</summary>
    public readonly record struct Parsed<T>(T? Value, string? Error)
    {
        public bool Ok => Error is null;
        public static implicit operator Parsed<T>(T value) => new(value, null);
        public static Parsed<T> Fail(string error) => new(default, error);
    }

    /// <summary>A whole number in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static Parsed<int> Count(string text, string option, int min, int max)
    {
        text = text.Trim();
        if (!IsDigits(text, allowMinus: true))
            return Parsed<int>.Fail($"{option} takes a whole number from {min:N0} to {max:N0}, not '{Show(text)}'");
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) || n < min || n > max)
            return Parsed<int>.Fail($"{option} {Show(text)} is outside {min:N0}..{max:N0}");
        return (int)n;
    }

    /// <summary>A 64-bit seed: a whole number from 0 to 2^64-1, as every replay command prints it.</summary>
    public static Parsed<ulong> Seed(string text, string option)
    {
        text = text.Trim();
        return IsDigits(text, allowMinus: false) && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)
            ? n
            : Parsed<ulong>.Fail($"{option} takes a whole number from 0 to {ulong.MaxValue}, not '{Show(text)}'");
    }

    /// <summary>
    /// One RAM size: a whole number of bytes with an optional binary unit K, M, G or T (KiB, MB ...
    /// mean the same), e.g. 64M, 512MiB, 2G. Overflow is an error, never a wrap.
    /// </summary>
    public static Parsed<ulong> Size(string text, string option)
    {
        var m = SizePattern().Match(text.Trim());
        if (!m.Success) return Parsed<ulong>.Fail($"{option}: '{Show(text)}' is not a memory size (examples: 64M, 512M, 1G, 2G)");
        int shift = char.ToUpperInvariant(m.Groups[2].Value.FirstOrDefault()) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (!ulong.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n) || n > ulong.MaxValue >> shift)
            return Parsed<ulong>.Fail($"{option}: {Show(text)} is too large (the largest RAM any profile takes is {Profile.FormatSize(RunLimits.MaxMemory64)})");
        if (n == 0) return Parsed<ulong>.Fail($"{option}: a memory size must be above 0");
        return n << shift;
    }

    [GeneratedRegex(@"^(\d{1,25})\s*(([KMGTkmgt])(i?[Bb])?)?$")]
    private static partial Regex SizePattern();

    /// <summary>Comma-separated RAM sizes (at most <see cref="RunLimits.MaxMemorySizes"/>, duplicates dropped).</summary>
    public static Parsed<IReadOnlyList<ulong>> Sizes(IEnumerable<string> texts, string option)
    {
        var sizes = new List<ulong>();
        foreach (var item in Items(texts))
        {
            if (item.Length == 0) return Parsed<IReadOnlyList<ulong>>.Fail($"{option}: an empty size in the list (write e.g. 64M,1G)");
            var size = Size(item, option);
            if (!size.Ok) return Parsed<IReadOnlyList<ulong>>.Fail(size.Error!);
            if (!sizes.Contains(size.Value)) sizes.Add(size.Value);
        }
        if (sizes.Count > RunLimits.MaxMemorySizes)
            return Parsed<IReadOnlyList<ulong>>.Fail($"{option}: {sizes.Count} sizes; at most {RunLimits.MaxMemorySizes} in one run");
        return sizes;
    }

    /// <summary>
    /// A duration: 250ms, 2s, 1.5s, 1m, or a plain number of seconds; within
    /// <paramref name="min"/>..<paramref name="max"/>.
    /// </summary>
    public static Parsed<TimeSpan> Duration(string text, string option, TimeSpan min, TimeSpan max)
    {
        var m = DurationPattern().Match(text.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n))
            return Parsed<TimeSpan>.Fail($"{option} takes a duration such as 500ms, 2s or 1m, not '{Show(text)}'");
        double ms = m.Groups[2].Value.ToLowerInvariant() switch { "ms" => n, "m" or "min" => n * 60_000, "h" => n * 3_600_000, _ => n * 1000 };
        if (double.IsNaN(ms) || ms < min.TotalMilliseconds || ms > max.TotalMilliseconds)
            return Parsed<TimeSpan>.Fail($"{option} {Show(text)} is outside {Format(min)}..{Format(max)}");
        return TimeSpan.FromMilliseconds(ms);
    }

    [GeneratedRegex(@"^(\d{1,9}(?:\.\d{1,6})?)\s*(ms|s|m|min|h)?$", RegexOptions.IgnoreCase)]
    private static partial Regex DurationPattern();

    public static string Format(TimeSpan t) =>
        t.TotalMilliseconds < 1000 ? $"{t.TotalMilliseconds:0.###}ms" : t.TotalSeconds < 60 ? $"{t.TotalSeconds:0.###}s" : $"{t.TotalMinutes:0.###}m";

    /// <summary>Profiles by name (case-insensitive, comma-separated or repeated), in the order given, duplicates dropped.</summary>
    public static Parsed<IReadOnlyList<Profile>> ProfileList(IEnumerable<string> texts, string option)
    {
        var list = new List<Profile>();
        foreach (var item in Items(texts))
        {
            var profile = Profiles.Named.FirstOrDefault(p => string.Equals(p.Name, item, StringComparison.OrdinalIgnoreCase));
            if (profile is null)
                return Parsed<IReadOnlyList<Profile>>.Fail($"{option}: no profile '{Show(item)}'{Suggest(item, Profiles.Named.Select(p => p.Name))}; known: {string.Join(", ", Profiles.Named.Select(p => p.Name))}");
            if (!list.Contains(profile)) list.Add(profile);
        }
        return list;
    }

    /// <summary>Names from a fixed set (families), case-insensitive, comma-separated or repeated.</summary>
    public static Parsed<IReadOnlySet<string>> NameSet(IEnumerable<string> texts, string option, string what, IReadOnlyList<string> known)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in Items(texts))
        {
            var name = known.FirstOrDefault(k => string.Equals(k, item, StringComparison.OrdinalIgnoreCase));
            if (name is null) return Parsed<IReadOnlySet<string>>.Fail($"{option}: no {what} '{Show(item)}'{Suggest(item, known)}; known: {string.Join(", ", known)}");
            set.Add(name);
        }
        return set;
    }

    /// <summary>Rule IDs of the catalogue (case-insensitive: page-4 is PAGE-4).</summary>
    public static Parsed<IReadOnlySet<string>> RuleSet(IEnumerable<string> texts, string option)
    {
        var ids = RuleCatalogue.All.Select(r => r.Id).ToList();
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in Items(texts))
        {
            var id = ids.FirstOrDefault(k => string.Equals(k, item, StringComparison.OrdinalIgnoreCase));
            if (id is null) return Parsed<IReadOnlySet<string>>.Fail($"{option}: no rule '{Show(item)}' in the catalogue{Suggest(item, ids)} (the rules command lists them)");
            set.Add(id);
        }
        return set;
    }

    /// <summary>An implementation label for reports: 1 to 100 printable characters.</summary>
    public static Parsed<string> Label(string text, string option)
    {
        var name = text.Trim();
        if (name.Length == 0) return Parsed<string>.Fail($"{option} needs a non-empty label");
        if (name.Length > 100) return Parsed<string>.Fail($"{option}: a label of {name.Length} characters; at most 100");
        if (name.Any(char.IsControl)) return Parsed<string>.Fail($"{option}: the label holds control characters");
        return name;
    }

    /// <summary>
    /// A file to write (a report or the failure database): a usable path that is not a directory,
    /// under a folder that exists or can be created (no file in the way).
    /// </summary>
    public static Parsed<string> OutputPath(string text, string option)
    {
        if (string.IsNullOrWhiteSpace(text)) return Parsed<string>.Fail($"{option} needs a file path");
        string full;
        try { full = Path.GetFullPath(text); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return Parsed<string>.Fail($"{option}: '{Show(text)}' is not a usable path");
        }
        if (text.Contains('\0')) return Parsed<string>.Fail($"{option}: '{Show(text)}' is not a usable path");
        if (Directory.Exists(full) || text.EndsWith('/') || text.EndsWith(Path.DirectorySeparatorChar))
            return Parsed<string>.Fail($"{option} needs a file path; '{Show(text)}' is a directory");
        for (var dir = Path.GetDirectoryName(full); !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir)) break;
            if (File.Exists(dir)) return Parsed<string>.Fail($"{option}: '{Show(text)}' cannot be created: '{dir}' is a file");
        }
        return text;
    }

    /// <summary>Splits repeated and comma-separated option values into trimmed items.</summary>
    public static IEnumerable<string> Items(IEnumerable<string> texts) => texts.SelectMany(t => t.Split(',')).Select(s => s.Trim());

    private static bool IsDigits(string s, bool allowMinus)
    {
        int start = allowMinus && s.StartsWith('-') ? 1 : 0;
        return s.Length > start && s.Length <= 40 && s.Skip(start).All(char.IsAsciiDigit);
    }

    /// <summary>User text as quoted in a message: control characters escaped, long text cut.</summary>
    public static string Show(string text)
    {
        var s = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length <= 60 ? s : s[..57] + "...";
    }
}
