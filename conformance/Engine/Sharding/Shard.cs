using System.Globalization;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Sharding;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (1-based) of a run: the properties of the run
/// (family x profile x RAM size, in the order <see cref="SuiteRunner"/> runs them) are dealt round
/// robin, the k-th (from 0) to shard <c>k mod Count + 1</c>. Every shard of a run takes the same
/// settings, so each property gives the same sequences, shrinks to the same counterexample and
/// replays with the same command as in the whole run; <see cref="ResultMerge"/> folds the shards'
/// results into the whole run's result. This is how a campaign too large for one machine runs on a
/// CI job matrix: one job per shard (<c>run --shard i/n --json shard-i.json</c>), then <c>merge</c>.
/// </summary>
public sealed record Shard
{
    /// <summary>Most shards of one run.</summary>
    public const int MaxCount = 1000;

    public Shard(int index, int count)
    {
        if (count < 1 || count > MaxCount) throw new ArgumentOutOfRangeException(nameof(count), count, $"a run has 1 to {MaxCount} shards");
        if (index < 1 || index > count) throw new ArgumentOutOfRangeException(nameof(index), index, $"shard index 1 to {count}");
        Index = index;
        Count = count;
    }

    /// <summary>This shard's number, 1 to <see cref="Count"/>.</summary>
    public int Index { get; }
    /// <summary>How many shards the run is split into.</summary>
    public int Count { get; }

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>"2/4" into shard 2 of 4, or why the text is not a shard.</summary>
    public static Shard? Parse(string text, out string? error)
    {
        error = null;
        var parts = text.Trim().Split('/');
        if (parts.Length != 2 || !Whole(parts[0], out int index) || !Whole(parts[1], out int count))
        {
            error = $"'{text}' is not a shard: write I/N, e.g. 2/4 for the second of four shards";
            return null;
        }
        if (count < 1 || count > MaxCount) { error = $"{text}: a run has 1 to {MaxCount} shards, not {parts[1]}"; return null; }
        if (index < 1 || index > count) { error = $"{text}: the shard number goes from 1 to {count}"; return null; }
        return new Shard(index, count);
    }

    private static bool Whole(string s, out int n)
    {
        n = 0;
        return s.Length is > 0 and <= 6 && s.All(char.IsAsciiDigit) && int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n);
    }

    /// <summary>The properties of a run in the order <see cref="SuiteRunner"/> runs them: profiles, then RAM sizes, then families.</summary>
    public static IReadOnlyList<(string Profile, ulong Memory, string Family)> Plan(IEnumerable<Profile> profiles, IEnumerable<ulong> memorySizes, IReadOnlySet<string> families)
    {
        var selected = SuiteRunner.Families.Where(f => families.Count == 0 || families.Contains(f.Name)).Select(f => f.Name).ToList();
        var sizes = memorySizes.ToList();
        return [.. from p in profiles from m in sizes from f in selected select (p.Name, m, f)];
    }

    /// <summary>Whether the property at <paramref name="planIndex"/> (from 0) belongs to this shard.</summary>
    public bool Takes(int planIndex) => planIndex % Count == Index - 1;

    /// <summary>Why a run of this plan cannot be split into <paramref name="count"/> shards (more shards than properties), or null.</summary>
    public static string? CheckCount(int count, int properties) =>
        count > properties
            ? $"{count} shards for a run of {properties} propert{(properties == 1 ? "y" : "ies")} (family x profile x RAM size): at most one shard per property"
            : null;

    /// <summary>
    /// The options of this shard: the same run, limited to this shard's properties (saved failures
    /// re-run first go with their property's shard).
    /// </summary>
    public SuiteOptions Apply(SuiteOptions options)
    {
        var plan = Plan(options.Profiles, options.MemorySizes, options.Families);
        var mine = new HashSet<(string, ulong, string)>(plan.Where((_, i) => Takes(i)));
        bool Mine(PropertyKey key) => mine.Contains((key.Profile, key.Memory, key.Family));
        return options with { Include = Mine, Reruns = options.Reruns.Where(Mine).ToList() };
    }
}
