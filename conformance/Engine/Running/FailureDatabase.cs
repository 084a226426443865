using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KernelMm.Conformance.Running;

/// <summary>
/// The failing-seed database, like Hypothesis' example database: a JSON file that remembers
/// every property (implementation, profile, RAM size, family and the settings it ran with) that
/// failed. The next run re-runs those first, with their saved seeds (<see cref="SuiteOptions.Reruns"/>),
/// so a failure found once keeps being checked even when the run seed changes; an entry is
/// dropped as soon as its property runs and passes. A missing file is an empty database; an
/// unreadable one is reported in <see cref="Warning"/> and treated as empty (and overwritten on save).
/// </summary>
public sealed class FailureDatabase
{
    public const string DefaultPath = ".kmm-conformance/failures.json";
    private const int Version = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly List<SavedFailure> _entries;

    private FailureDatabase(string path, List<SavedFailure> entries, string? warning)
    {
        Path = path;
        _entries = entries;
        Warning = warning;
    }

    public string Path { get; }
    /// <summary>Saved failing properties, most recently failed first.</summary>
    public IReadOnlyList<SavedFailure> Entries => _entries;
    /// <summary>Why the file could not be read, when it could not.</summary>
    public string? Warning { get; }

    public static FailureDatabase Empty(string path) => new(path, new(), null);

    public static FailureDatabase Load(string path)
    {
        if (!File.Exists(path)) return Empty(path);
        try
        {
            var file = JsonSerializer.Deserialize<FileDocument>(File.ReadAllText(path), Json);
            var entries = (file?.Entries ?? []).Where(e => e.IsValid).ToList();
            return new FailureDatabase(path, entries, null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return new FailureDatabase(path, new(), $"could not read the failure database {path} ({e.Message}); starting with an empty one");
        }
    }

    /// <summary>The saved failing properties of <paramref name="implementation"/>, to pass as <see cref="SuiteOptions.Reruns"/>.</summary>
    public IReadOnlyList<PropertyKey> RerunsFor(string implementation) =>
        _entries.Where(e => e.Implementation == implementation).Select(e => e.Key).Distinct().ToList();

    /// <summary>
    /// Folds a run into the database: every property that failed is added (or its entry
    /// refreshed), every saved property that ran and passed is removed. Properties that did not
    /// run (filtered out) keep their entries.
    /// </summary>
    public FailureDatabaseChange Record(SuiteResult result, DateTimeOffset? now = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        int added = 0, removed = 0, kept = 0, front = 0;
        foreach (var run in result.Properties)
        {
            int index = _entries.FindIndex(e => e.Implementation == result.Implementation && e.Key == run.Key);
            if (run.Failures.Count == 0)
            {
                if (index >= 0) { _entries.RemoveAt(index); removed++; }
                continue;
            }
            var rules = run.Failures.Select(f => f.RuleId).Distinct().ToList();
            if (index >= 0)
            {
                var entry = _entries[index];
                _entries.RemoveAt(index);
                _entries.Insert(front++, entry with { Rules = rules, LastFailed = at });
                kept++;
            }
            else
            {
                _entries.Insert(front++, SavedFailure.From(result.Implementation, run.Key, rules, at));
                added++;
            }
        }
        return new FailureDatabaseChange(added, removed, kept);
    }

    /// <summary>Writes the file (atomically: a temporary file renamed over it); an empty database deletes it.</summary>
    public void Save()
    {
        if (_entries.Count == 0)
        {
            if (File.Exists(Path)) File.Delete(Path);
            return;
        }
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var text = JsonSerializer.Serialize(new FileDocument { Version = Version, Entries = _entries }, Json) + "\n";
        var temp = Path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, Path, overwrite: true);
    }

    private sealed record FileDocument
    {
        public int Version { get; init; }
        public string Note { get; init; } = "kmm-conformance failing-seed database: properties re-run first by the next run; delete freely";
        public List<SavedFailure> Entries { get; init; } = [];
    }
}

/// <summary>What one <see cref="FailureDatabase.Record"/> changed.</summary>
public sealed record FailureDatabaseChange(int Added, int Removed, int StillFailing)
{
    public bool Changed => Added + Removed + StillFailing > 0;
}

/// <summary>One saved failing property. Seeds are strings in the file: they are 64-bit.</summary>
public sealed record SavedFailure
{
    public required string Implementation { get; init; }
    public required string Profile { get; init; }
    public required ulong Memory { get; init; }
    /// <summary>Profile and RAM size as reports print it, e.g. x86-32/512M (for people reading the file).</summary>
    public string? Label { get; init; }
    public required string Family { get; init; }
    /// <summary>The run seed (what <c>--seed</c>/<c>--replay</c> take).</summary>
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public required ulong Seed { get; init; }
    public required int Sequences { get; init; }
    public required int MaxSteps { get; init; }
    public int MaxFailuresPerProperty { get; init; } = new RunSettings().MaxFailuresPerProperty;
    /// <summary>The property's own seed derived from the run seed (informational).</summary>
    [JsonNumberHandling(JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString)]
    public ulong PropertySeed { get; init; }
    public IReadOnlyList<string> Rules { get; init; } = [];
    public DateTimeOffset? FirstFailed { get; init; }
    public DateTimeOffset? LastFailed { get; init; }

    [JsonIgnore]
    public PropertyKey Key => new(Profile, Memory, Family,
        new RunSettings { Seed = Seed, Sequences = Sequences, MaxSteps = MaxSteps, MaxFailuresPerProperty = MaxFailuresPerProperty });

    [JsonIgnore]
    internal bool IsValid => !string.IsNullOrEmpty(Implementation) && !string.IsNullOrEmpty(Profile) && !string.IsNullOrEmpty(Family)
                             && Memory > 0 && Sequences > 0 && MaxSteps > 0 && MaxFailuresPerProperty > 0;

    public static SavedFailure From(string implementation, PropertyKey key, IReadOnlyList<string> rules, DateTimeOffset at) => new()
    {
        Implementation = implementation,
        Profile = key.Profile,
        Memory = key.Memory,
        Label = key.Label,
        Family = key.Family,
        Seed = key.Settings.Seed,
        Sequences = key.Settings.Sequences,
        MaxSteps = key.Settings.MaxSteps,
        MaxFailuresPerProperty = key.Settings.MaxFailuresPerProperty,
        PropertySeed = PropertyRunner.DeriveSeed(key.Settings.Seed, $"{key.Family}/{key.Label}"),
        Rules = rules,
        FirstFailed = at,
        LastFailed = at,
    };
}
