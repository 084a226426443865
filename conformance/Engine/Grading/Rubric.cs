using System.Globalization;
using System.Text;
using System.Text.Json;
using KernelMm.Conformance.Running;
using static KernelMm.Conformance.Text.Suggestions;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Grading;

/// <summary>What a rule scores on a profile where the implementation does not declare what it needs (n/a).</summary>
public enum NotApplicablePolicy
{
    /// <summary>Not counted: the submission is scored on the rules that apply to it (the default).</summary>
    Exclude,
    /// <summary>Counted as not passed: a rubric that requires a capability (say kmalloc) gives no credit without it.</summary>
    Zero,
}

/// <summary>A rubric file that cannot be used: every problem, one sentence each.</summary>
public sealed class RubricException(string source, IReadOnlyList<string> problems)
    : Exception($"{source}: {string.Join("; ", problems)}")
{
    /// <summary>Each problem found in the file.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>
/// How a submission is scored: a weight per rule, per catalogue family (PAGE, SLAB, ...) or per
/// suite family (pages, heap, ...), the most specific one winning, a weight per profile for partial
/// credit, and what n/a counts for. The default rubric weighs every applicable rule equally and every
/// profile equally. Names are checked against the catalogue and the suite's families of this
/// version, so a typo is an error, not a silent zero; nothing about today's families is built in.
/// </summary>
/// <remarks>
/// <para>A rubric file is JSON (comments and trailing commas allowed):</para>
/// <code>
/// {
///   "title": "Lab 3: the buddy allocator",
///   "points": 100,
///   "weights": { "PAGE": 2, "PAGE-8": 5, "GFP": 1, "heap": 0 },
///   "defaultWeight": 1,
///   "profiles": { "x86-32": 2, "linux-6": 1 },
///   "notApplicable": "exclude"
/// }
/// </code>
/// <para>A rule's credit is the weighted share of the profiles where it passed (partial credit by
/// profile). Only "passed" earns credit: failed, not exercised, blocked and any other outcome earn
/// none (a blocked rule is neither passed nor failed, but it has no check that held, so it earns
/// nothing until the rule that blocks it is fixed: see <see cref="Scoring"/>). Pending rules have no check and are never counted. The score is <see cref="Points"/> times
/// the weighted mean of the counted rules' credits.</para>
/// </remarks>
public sealed record Rubric
{
    /// <summary>Largest rubric file read.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Shown with the score.</summary>
    public string Title { get; init; } = "default rubric: every applicable rule weighs the same";
    /// <summary>The file it came from, or null for the default.</summary>
    public string? Source { get; init; }
    /// <summary>What a full score is worth.</summary>
    public double Points { get; init; } = 100;
    /// <summary>The weight of a rule no entry of <see cref="Weights"/> names.</summary>
    public double DefaultWeight { get; init; } = 1;
    /// <summary>Weights by rule ID, catalogue family or suite family (canonical spelling).</summary>
    public IReadOnlyDictionary<string, double> Weights { get; init; } = new Dictionary<string, double>();
    /// <summary>Weights by profile name; a profile not listed weighs 1.</summary>
    public IReadOnlyDictionary<string, double> ProfileWeights { get; init; } = new Dictionary<string, double>();
    /// <summary>What n/a counts for.</summary>
    public NotApplicablePolicy NotApplicable { get; init; } = NotApplicablePolicy.Exclude;

    /// <summary>The default rubric.</summary>
    public static Rubric Default { get; } = new();

    /// <summary>
    /// A rule's weight: its own entry, else its catalogue family's (e.g. "PAGE"), else the entry of
    /// the suite family that checks it (e.g. "pages"), else <see cref="DefaultWeight"/>.
    /// </summary>
    public double WeightOf(string ruleId, string? catalogueFamily)
    {
        if (Weights.TryGetValue(ruleId, out double w)) return w;
        if (catalogueFamily is not null && Weights.TryGetValue(catalogueFamily, out w)) return w;
        if (SuiteFamilyOf(ruleId) is { } family && Weights.TryGetValue(family, out w)) return w;
        return DefaultWeight;
    }

    /// <summary>A profile's weight (1 when not listed).</summary>
    public double ProfileWeight(string profile) => ProfileWeights.TryGetValue(profile, out double w) ? w : 1;

    /// <summary>The suite family whose checks cover the rule (the first in run order), or null.</summary>
    public static string? SuiteFamilyOf(string ruleId) => SuiteRunner.Families.FirstOrDefault(f => f.RuleIds.Contains(ruleId))?.Name;

    /// <summary>The rubric as printed with every score, so that a student can see why.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append($"rubric: {Title}{(Source is null ? "" : $" ({Source})")}; {Number(Points)} points\n");
        var weights = Weights.OrderBy(w => Specificity(w.Key)).ThenBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => $"{w.Key} {Number(w.Value)}").Append($"any other rule {Number(DefaultWeight)}");
        sb.Append($"  rule weights (the most specific entry wins: rule, then catalogue family, then suite family): {string.Join(", ", weights)}\n");
        var profiles = ProfileWeights.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {Number(p.Value)}").Append("any other profile 1");
        sb.Append($"  profile weights (partial credit: a rule earns the weighted share of the profiles where it passed): {string.Join(", ", profiles)}\n");
        sb.Append("  only 'pass' earns credit (FAIL, UNEXERCISED, BLOCKED earn none: a blocked rule has no verdict until the rule blocking it is fixed); pending rules have no check and do not count; ");
        sb.Append(NotApplicable == NotApplicablePolicy.Exclude
            ? "n/a (not declared) does not count: the score is over the rules that apply to the submission\n"
            : "n/a (not declared) counts as not passed\n");
        sb.Append($"  score = {Number(Points)} x (sum of weight x credit) / (sum of the weights of the counted rules)\n");
        return sb.ToString();
    }

    private static int Specificity(string key) => RuleCatalogue.Contains(key) ? 0 : Enum.TryParse<RuleFamily>(key, out _) ? 1 : 2;

    internal static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>Reads a rubric file. Errors: <see cref="RubricException"/> listing every problem.</summary>
    public static Rubric Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new RubricException(path, ["no such file"]);
        if (info.Length > MaxBytes) throw new RubricException(path, [$"{info.Length:N0} bytes; a rubric is at most {MaxBytes:N0}"]);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses rubric JSON. Errors: <see cref="RubricException"/> listing every problem.</summary>
    public static Rubric Parse(string json, string source = "rubric")
    {
        var problems = new List<string>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new RubricException(source, [$"not JSON ({e.Message})"]);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new RubricException(source, ["a rubric is a JSON object, e.g. { \"weights\": { \"PAGE\": 2 } }"]);
            var rubric = new Rubric { Title = $"rubric {Path.GetFileName(source)}", Source = source };
            var known = new[] { "title", "points", "weights", "defaultWeight", "profiles", "notApplicable" };
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "title":
                        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()) || value.GetString()!.Length > 200 || value.GetString()!.Any(char.IsControl))
                            problems.Add("\"title\" is a line of text of at most 200 characters");
                        else rubric = rubric with { Title = value.GetString()!.Trim() };
                        break;
                    case "points":
                        if (Weight(value, "\"points\"", problems, positive: true) is { } points) rubric = rubric with { Points = points };
                        break;
                    case "defaultWeight":
                        if (Weight(value, "\"defaultWeight\"", problems) is { } dw) rubric = rubric with { DefaultWeight = dw };
                        break;
                    case "weights":
                        rubric = rubric with { Weights = Entries(value, "\"weights\"", problems, CanonicalWeightKey) };
                        break;
                    case "profiles":
                        rubric = rubric with { ProfileWeights = Entries(value, "\"profiles\"", problems, CanonicalProfile) };
                        break;
                    case "notApplicable":
                        if (value.ValueKind == JsonValueKind.String && value.GetString() is "exclude" or "zero")
                            rubric = rubric with { NotApplicable = value.GetString() == "zero" ? NotApplicablePolicy.Zero : NotApplicablePolicy.Exclude };
                        else problems.Add("\"notApplicable\" is \"exclude\" (n/a rules do not count) or \"zero\" (they count as not passed)");
                        break;
                    default:
                        problems.Add($"unknown entry \"{property.Name}\"{Suggest(property.Name, known)}; a rubric has {string.Join(", ", known.Select(k => $"\"{k}\""))}");
                        break;
                }
            }
            if (problems.Count > 0) throw new RubricException(source, problems);
            return rubric;
        }
    }

    private static double? Weight(JsonElement value, string what, List<string> problems, bool positive = false)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double w) || double.IsNaN(w) || double.IsInfinity(w) || w < 0 || w > 1e6 || (positive && w == 0))
        {
            problems.Add($"{what} is a number from {(positive ? "above 0" : "0")} to 1000000, not {Show(value)}");
            return null;
        }
        return w;
    }

    private static Dictionary<string, double> Entries(JsonElement value, string what, List<string> problems, Func<string, (string? Key, string? Error)> canonical)
    {
        var entries = new Dictionary<string, double>(StringComparer.Ordinal);
        if (value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{what} is an object of names and numbers, e.g. {{ \"PAGE\": 2 }}");
            return entries;
        }
        foreach (var entry in value.EnumerateObject())
        {
            var (key, error) = canonical(entry.Name);
            if (key is null) { problems.Add($"{what}: {error}"); continue; }
            if (Weight(entry.Value, $"{what} \"{entry.Name}\"", problems) is not { } w) continue;
            if (!entries.TryAdd(key, w)) problems.Add($"{what} names {key} twice");
        }
        return entries;
    }

    /// <summary>A weight key as the catalogue and the suite spell it: a rule ID, a catalogue family or a suite family.</summary>
    public static (string? Key, string? Error) CanonicalWeightKey(string name)
    {
        var candidates = RuleCatalogue.All.Select(r => r.Id)
            .Concat(Enum.GetNames<RuleFamily>())
            .Concat(SuiteRunner.Families.Select(f => f.Name))
            .Distinct(StringComparer.Ordinal).ToList();
        if (candidates.Contains(name, StringComparer.Ordinal)) return (name, null);
        var folded = candidates.Where(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (folded.Count == 1) return (folded[0], null);
        return (null, $"\"{Show(name)}\" is neither a rule ID, a catalogue family ({string.Join(", ", Enum.GetNames<RuleFamily>())}) nor a suite family ({string.Join(", ", SuiteRunner.Families.Select(f => f.Name))}){Suggest(name, candidates)}");
    }

    private static (string? Key, string? Error) CanonicalProfile(string name)
    {
        var names = Spec.Profiles.Profiles.All.Select(p => p.Name).ToList();
        var found = names.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return found is not null ? (found, null) : (null, $"no profile \"{Show(name)}\"{Suggest(name, names)}; known: {string.Join(", ", names)}");
    }

    private static string Show(JsonElement value) => value.ValueKind == JsonValueKind.String ? $"\"{Show(value.GetString()!)}\"" : Show(value.GetRawText());

    private static string Show(string text)
    {
        var s = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length <= 60 ? s : s[..57] + "...";
    }
}
