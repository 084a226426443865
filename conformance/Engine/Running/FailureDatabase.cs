using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Running;

/// <summary>
/// The failing-seed database, like Hypothesis' example database: a JSON file that remembers
/// every property (implementation, profile, RAM size, family and the settings it ran with) that
/// failed. The next run re-runs those first, with their saved seeds (<see cref="SuiteOptions.Reruns"/>),
/// so a failure found once keeps being checked even when the run seed changes; an entry is
/// dropped as soon as its property runs and passes.
/// <para>
/// An entry belongs to an <see cref="ImplementationIdentity"/>: the label and a hash of the program,
/// so two programs with the same file name never share saved failures (a rebuilt program at the
/// same path is the same implementation under development and keeps them).
/// </para>
/// <para>
/// The file is input like any other and may be hostile. A missing file is an empty database. A file
/// this version does not understand (unreadable, not JSON, larger than <see cref="MaxFileBytes"/>,
/// an unknown <c>version</c>, no <c>entries</c> array) is neither used nor ever changed or deleted:
/// <see cref="Warning"/> says why. A single entry that is unusable (null, wrong types, settings
/// outside <see cref="RunLimits"/>, an unknown profile) is skipped, reported, and written back as it
/// was; unknown fields of usable entries survive a save. At most <see cref="MaxRerunsPerRun"/> saved
/// failures are re-run per run (the most recently failed first) and at most <see cref="MaxEntries"/>
/// are kept.
/// </para>
/// <para>
/// Several runs may share one file: <see cref="Save"/> takes a lock file next to it
/// (<c>PATH.lock</c>), reads what is on disk now, applies this run's changes to it (additions,
/// refreshes and removals, in order) and replaces the file atomically, so no run loses another's
/// saved failures.
/// </para>
/// </summary>
public sealed class FailureDatabase
{
    public const string DefaultPath = ".kmm-conformance/failures.json";
    /// <summary>The version this runner writes.</summary>
    public const int Version = 2;
    /// <summary>Versions this runner reads (1: entries keyed by the implementation's name only).</summary>
    public static readonly IReadOnlyList<int> ReadableVersions = [1, 2];
    /// <summary>Larger files are not read (nor written): this runner writes at most <see cref="MaxEntries"/> entries, well below this size.</summary>
    public const long MaxFileBytes = 4L << 20;
    /// <summary>A file whose entries array is longer is not read (nor written).</summary>
    public const int MaxArrayLength = 10 * MaxEntries;
    /// <summary>Usable entries kept; a save drops the least recently failed beyond this.</summary>
    public const int MaxEntries = 1000;
    /// <summary>Saved failures re-run by one run, the most recently failed first.</summary>
    public const int MaxRerunsPerRun = 64;
    /// <summary>Longest text field of an entry (names, labels, rule IDs).</summary>
    public const int MaxTextLength = 256;
    /// <summary>How long <see cref="Save"/> waits for another run to release the file.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        MaxDepth = 32,
    };

    private List<SavedFailure> _entries;
    /// <summary>This run's changes, applied again to the file as it is at <see cref="Save"/> time.</summary>
    private readonly List<Change> _changes = [];

    private FailureDatabase(string path, ParsedFile file)
    {
        Path = path;
        _entries = file.Entries;
        Understood = file.Understood;
        Warning = file.Warning;
    }

    public string Path { get; }
    /// <summary>Usable saved failing properties, most recently failed first.</summary>
    public IReadOnlyList<SavedFailure> Entries => _entries;
    /// <summary>What was wrong with the file, when anything was (the run goes on either way).</summary>
    public string? Warning { get; private set; }
    /// <summary>False when the file is not a failure database this runner understands: it is then never written or deleted.</summary>
    public bool Understood { get; private set; }

    public static FailureDatabase Empty(string path) => new(path, ParsedFile.Empty);

    public static FailureDatabase Load(string path) => new(path, Parse(path));

    /// <summary>The saved failing properties of <paramref name="implementation"/> (matched by label and program), at most <see cref="MaxRerunsPerRun"/>, to pass as <see cref="SuiteOptions.Reruns"/>.</summary>
    public IReadOnlyList<PropertyKey> RerunsFor(ImplementationIdentity implementation) =>
        _entries.Where(implementation.Matches).Select(e => e.Key).Distinct().Take(MaxRerunsPerRun).ToList();

    /// <summary>As <see cref="RerunsFor(ImplementationIdentity)"/>, by label alone.</summary>
    public IReadOnlyList<PropertyKey> RerunsFor(string implementation) => RerunsFor(new ImplementationIdentity(implementation));

    /// <summary>As <see cref="Record(SuiteResult, ImplementationIdentity, DateTimeOffset?)"/>, by the result's implementation label alone.</summary>
    public FailureDatabaseChange Record(SuiteResult result, DateTimeOffset? now = null) =>
        Record(result, new ImplementationIdentity(result.Implementation), now);

    /// <summary>
    /// Folds a run into the database: every property that failed is added (or its entry
    /// refreshed), every saved property that ran and passed is removed. Properties that did not
    /// run (filtered out) keep their entries. Nothing is written until <see cref="Save"/>.
    /// </summary>
    public FailureDatabaseChange Record(SuiteResult result, ImplementationIdentity implementation, DateTimeOffset? now = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        int added = 0, removed = 0, kept = 0, front = 0;
        foreach (var run in result.Properties)
        {
            int index = _entries.FindIndex(e => e.Key == run.Key && implementation.Matches(e));
            if (run.Failures.Count == 0)
            {
                _changes.Add(new Change(run.Key, implementation, null));
                if (index >= 0) { _entries.RemoveAll(e => e.Key == run.Key && implementation.Matches(e)); removed++; }
                continue;
            }
            var rules = run.Failures.Select(f => f.RuleId).Distinct().ToList();
            var entry = SavedFailure.From(implementation, run.Key, rules, at);
            if (index >= 0)
            {
                entry = _entries[index] with { Rules = rules, LastFailed = at, Program = implementation.Program, Location = implementation.Location, Implementation = implementation.Label };
                _entries.RemoveAt(index);
                kept++;
            }
            else added++;
            _entries.Insert(front++, entry);
            _changes.Add(new Change(run.Key, implementation, entry));
        }
        return new FailureDatabaseChange(added, removed, kept);
    }

    /// <summary>
    /// Writes this run's changes into the file as it is now (under the lock, atomically: a
    /// temporary file renamed over it); a database left with no entry at all deletes the file.
    /// Returns false, with <see cref="Warning"/> set, when the file is not one this runner
    /// understands: it is then left exactly as it is. Errors: <see cref="IOException"/> when another
    /// run holds the lock for longer than <see cref="LockTimeout"/> or the folder cannot be written.
    /// </summary>
    public bool Save()
    {
        if (!Understood) return false;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using (AcquireLock())
        {
            var current = Parse(Path);
            if (!current.Understood)
            {
                Understood = false;
                Warning = current.Warning;
                return false;
            }
            var entries = current.Entries;
            int front = 0;
            foreach (var change in _changes) front = change.ApplyTo(entries, front);
            if (entries.Count > MaxEntries) entries.RemoveRange(MaxEntries, entries.Count - MaxEntries);

            if (entries.Count == 0 && current.Foreign.Count == 0)
            {
                if (File.Exists(Path)) File.Delete(Path);
            }
            else
            {
                var temp = $"{Path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
                try
                {
                    using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                    {
                        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                        {
                            writer.WriteStartObject();
                            writer.WriteNumber("version", Version);
                            writer.WriteString("note", "kmm-conformance failing-seed database: properties re-run first by the next run; delete freely");
                            writer.WriteStartArray("entries");
                            foreach (var entry in entries) JsonSerializer.Serialize(writer, entry, Json);
                            // Verbatim: the text as it was read (it may hold escapes a writer would refuse, such as a lone surrogate).
                            foreach (var element in current.Foreign) writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                            writer.WriteEndArray();
                            writer.WriteEndObject();
                        }
                        stream.WriteByte((byte)'\n');
                    }
                    File.Move(temp, Path, overwrite: true);
                }
                finally
                {
                    if (File.Exists(temp)) File.Delete(temp);
                }
            }
            _entries = entries;
            _changes.Clear();
            return true;
        }
    }

    private FileStream AcquireLock()
    {
        string lockPath = Path + ".lock";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock (flock on Unix) for as long as the stream is open.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < LockTimeout)
            {
                Thread.Sleep(Random.Shared.Next(5, 40));
            }
            catch (IOException e)
            {
                throw new IOException($"another run has held {lockPath} for {LockTimeout.TotalSeconds:F0} s; this run's changes were not saved", e);
            }
        }
    }

    // ---- Reading ---------------------------------------------------------------------------

    private sealed record ParsedFile(bool Understood, List<SavedFailure> Entries, List<JsonElement> Foreign, string? Warning)
    {
        public static ParsedFile Empty => new(true, [], [], null);
        public static ParsedFile NotUnderstood(string path, string why) =>
            new(false, [], [], $"failure database {path}: {why}; it is neither used nor changed by this run (delete it, or pass --db OTHER-PATH or --no-db)");
    }

    private static ParsedFile Parse(string path)
    {
        JsonDocument document;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return ParsedFile.Empty;
            // Devices, pipes and /proc files report length 0: never opened (a pipe would block, a device never ends).
            if (info.Length == 0) return ParsedFile.NotUnderstood(path, "empty or not a regular file");
            if (info.Length > MaxFileBytes)
                return ParsedFile.NotUnderstood(path, $"larger than {MaxFileBytes >> 20} MiB ({info.Length:N0} bytes)");
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            return ParsedFile.NotUnderstood(path, $"could not read it ({e.Message})");
        }

        using var _ = document;
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            return ParsedFile.NotUnderstood(path, "not a failure database (not a JSON object)");
        if (!root.TryGetProperty("version", out var versionElement) || versionElement.ValueKind != JsonValueKind.Number
            || !versionElement.TryGetInt32(out int version))
            return ParsedFile.NotUnderstood(path, "no numeric version");
        if (!ReadableVersions.Contains(version))
            return ParsedFile.NotUnderstood(path, $"version {version}, which this kmm-conformance does not read (it reads {string.Join(", ", ReadableVersions)})");
        if (!root.TryGetProperty("entries", out var array) || array.ValueKind != JsonValueKind.Array)
            return ParsedFile.NotUnderstood(path, "no entries array");
        if (array.GetArrayLength() > MaxArrayLength)
            return ParsedFile.NotUnderstood(path, $"{array.GetArrayLength():N0} entries, more than the {MaxArrayLength:N0} this kmm-conformance reads");

        var entries = new List<SavedFailure>();
        var foreign = new List<JsonElement>();
        var problems = new List<string>();
        int index = 0, dropped = 0;
        foreach (var node in array.EnumerateArray())
        {
            index++;
            if (TryRead(node, out var entry, out var problem))
            {
                if (entries.Count < MaxEntries) entries.Add(entry); else dropped++;
            }
            else
            {
                foreign.Add(node.Clone());
                if (problems.Count < 3) problems.Add($"entry {index}: {problem}");
            }
        }
        string? warning = null;
        if (foreign.Count > 0)
            warning = $"{(foreign.Count == 1 ? "1 entry" : $"{foreign.Count} entries")} of the failure database {path} cannot be used and {(foreign.Count == 1 ? "is" : "are")} kept in the file as {(foreign.Count == 1 ? "it is" : "they are")} ({string.Join("; ", problems)}{(foreign.Count > problems.Count ? "; ..." : "")})";
        if (dropped > 0)
            warning = (warning is null ? "" : warning + "; ") + $"the failure database {path} holds {entries.Count + dropped:N0} entries: the first {MaxEntries:N0} (the most recently failed) are used and kept, the other {dropped:N0} are dropped at the next save";
        return new ParsedFile(true, entries, foreign, warning);
    }

    private static bool TryRead(JsonElement node, out SavedFailure entry, out string problem)
    {
        entry = null!;
        if (node.ValueKind != JsonValueKind.Object)
        {
            problem = node.ValueKind == JsonValueKind.Null ? "null" : $"a JSON {node.ValueKind.ToString().ToLowerInvariant()}, not an object";
            return false;
        }
        SavedFailure? read;
        try { read = node.Deserialize<SavedFailure>(Json); }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or FormatException or ArgumentException)
        {
            problem = Shorten(e.Message);
            return false;
        }
        if (read is null) { problem = "empty"; return false; }
        problem = read.Problem() ?? "";
        if (problem.Length > 0) return false;
        try { JsonSerializer.SerializeToUtf8Bytes(read, Json); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException)
        {
            problem = $"cannot be written back ({Shorten(e.Message)})";
            return false;
        }
        entry = read;
        return true;
    }

    private static string Shorten(string s) => s.Length <= 160 ? s : s[..157] + "...";

    /// <summary>One change of a run: the property's entries of this implementation are removed, then <see cref="Entry"/> (when failing) goes in front.</summary>
    private sealed record Change(PropertyKey Key, ImplementationIdentity Implementation, SavedFailure? Entry)
    {
        public int ApplyTo(List<SavedFailure> entries, int front)
        {
            var previous = entries.FirstOrDefault(e => e.Key == Key && Implementation.Matches(e));
            int removedInFront = entries.Take(front).Count(e => e.Key == Key && Implementation.Matches(e));
            entries.RemoveAll(e => e.Key == Key && Implementation.Matches(e));
            front -= removedInFront;
            if (Entry is null) return front;
            var first = new[] { previous?.FirstFailed, Entry.FirstFailed }.Where(d => d is not null).Min();
            entries.Insert(front, Entry with { FirstFailed = first, Extra = Entry.Extra ?? previous?.Extra });
            return front + 1;
        }
    }
}

/// <summary>What one <see cref="FailureDatabase.Record(SuiteResult, ImplementationIdentity, DateTimeOffset?)"/> changed.</summary>
public sealed record FailureDatabaseChange(int Added, int Removed, int StillFailing)
{
    public bool Changed => Added + Removed + StillFailing > 0;
}

/// <summary>One saved failing property. Seeds are strings in the file: they are 64-bit.</summary>
public sealed record SavedFailure
{
    /// <summary>The implementation's label (<c>--name</c>, else the program's file name, else the factory's name).</summary>
    public required string Implementation { get; init; }
    /// <summary>Hash of the program (<see cref="ImplementationIdentity.Program"/>); absent in version 1 files.</summary>
    public string? Program { get; init; }
    /// <summary>Where the program was (<see cref="ImplementationIdentity.Location"/>); absent in version 1 files.</summary>
    public string? Location { get; init; }
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
    /// <summary>Fields this version does not know (written by a newer one), kept as they were.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }

    [JsonIgnore]
    public PropertyKey Key => new(Profile, Memory, Family,
        new RunSettings { Seed = Seed, Sequences = Sequences, MaxSteps = MaxSteps, MaxFailuresPerProperty = MaxFailuresPerProperty });

    /// <summary>Why this entry cannot be re-run (a missing or oversized field, settings outside <see cref="RunLimits"/>, a RAM size the profile cannot boot), or null.</summary>
    internal string? Problem()
    {
        static bool Text(string? s, int max = FailureDatabase.MaxTextLength) => !string.IsNullOrWhiteSpace(s) && s.Length <= max && !s.Any(char.IsControl);
        if (!Text(Implementation)) return "no usable implementation label";
        if (Program is not null && !Text(Program)) return "an unusable program hash";
        if (Location is not null && Location.Length > 4096) return "an oversized location";
        if (!Text(Family, 64)) return "no usable family";
        if (Label is not null && !Text(Label)) return "an unusable label";
        if (Rules is null || Rules.Count > 200 || Rules.Any(r => !Text(r, 64))) return "unusable rules";
        var profile = Profiles.All.FirstOrDefault(p => p.Name == Profile);
        if (profile is null) return $"profile '{(Text(Profile, 64) ? Profile : "?")}' is unknown to this kmm-conformance";
        if (RunLimits.CheckMemory(profile, Memory) is { } memory) return memory;
        return RunLimits.Check(Key.Settings);
    }

    public static SavedFailure From(string implementation, PropertyKey key, IReadOnlyList<string> rules, DateTimeOffset at) =>
        From(new ImplementationIdentity(implementation), key, rules, at);

    public static SavedFailure From(ImplementationIdentity implementation, PropertyKey key, IReadOnlyList<string> rules, DateTimeOffset at) => new()
    {
        Implementation = implementation.Label,
        Program = implementation.Program,
        Location = implementation.Location,
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
