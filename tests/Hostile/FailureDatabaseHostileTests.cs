using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KernelMm.Conformance.Running;
using KernelMm.Tests.Reports;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// A failure database file that is hostile, huge, from another version, or written by two runs at
/// once: loading never throws, what is used is bounded, what is not understood is never deleted or
/// overwritten, and concurrent runs keep each other's saved failures.
/// </summary>
public sealed class FailureDatabaseHostileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-db-hostile-").FullName;
    private string DbPath => Path.Combine(_dir, "failures.json");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static string Entry(string implementation = "reference", string profile = "x86-32", ulong memory = 64UL << 20,
        string family = "pages", string seed = "5", long sequences = 3, long maxSteps = 8, long? maxFailures = null) =>
        $$"""{"implementation":"{{implementation}}","profile":"{{profile}}","memory":{{memory}},"family":"{{family}}","seed":"{{seed}}","sequences":{{sequences}},"maxSteps":{{maxSteps}}{{(maxFailures is { } m ? $",\"maxFailuresPerProperty\":{m}" : "")}}}""";

    private static string File1(params string[] entries) => $$"""{"version":1,"entries":[{{string.Join(",", entries)}}]}""";

    private void Write(string text) => File.WriteAllText(DbPath, text);

    private static PropertyKey Key(ulong seed = 5, int sequences = 3, int maxSteps = 8) =>
        new("x86-32", 64UL << 20, "pages", new RunSettings { Seed = seed, Sequences = sequences, MaxSteps = maxSteps });

    private static SuiteResult Result(params (PropertyKey Key, string[] Rules)[] runs) =>
        ReportFixtures.HandBuilt(properties: runs.Select(r =>
            new PropertyRun(r.Key, false, r.Rules.Select(rule => ReportFixtures.Counterexample(rule: rule, label: r.Key.Label)).ToList(), 10, r.Key.Settings.Sequences)).ToList())
        with { Implementation = "reference" };

    [Fact]
    public void NullEntry_DoesNotCrash_IsReported_AndIsKeptInTheFile()
    {
        Write(File1("null", Entry()));
        var db = FailureDatabase.Load(DbPath);
        Assert.Equal([Key()], db.RerunsFor("reference"));
        Assert.Contains("1 entry", db.Warning);

        db.Record(Result((Key(seed: 6), ["PAGE-4"])), At);
        db.Save();
        var entries = JsonNode.Parse(File.ReadAllText(DbPath))!["entries"]!.AsArray();
        Assert.Equal(3, entries.Count);
        Assert.Contains(entries, e => e is null);
    }

    public static TheoryData<string, string> OutOfBounds => new()
    {
        { "maxSteps near int.MaxValue", Entry(maxSteps: int.MaxValue - 1) },
        { "sequences near int.MaxValue", Entry(sequences: int.MaxValue) },
        { "failures per property", Entry(maxFailures: int.MaxValue) },
        { "negative sequences", Entry(sequences: -3) },
        { "memory beyond any profile", Entry(memory: 1UL << 62) },
        { "memory not a multiple of the largest block", Entry(memory: 102UL << 20) },
        { "maxSteps beyond int", Entry(maxSteps: 1L << 40) },
        { "a seed that is not a number", Entry(seed: "five") },
        { "a huge implementation name", Entry(implementation: new string('x', 100_000)) },
    };

    [Theory]
    [MemberData(nameof(OutOfBounds))]
    public void EntryOutsideTheLimits_IsNeverRerun_AndIsReported(string what, string entry)
    {
        Write(File1(entry));
        var db = FailureDatabase.Load(DbPath);
        Assert.True(db.RerunsFor("reference").Count == 0, $"{what}: an entry outside the limits would be re-run");
        Assert.Empty(db.RerunsFor(new string('x', 100_000)));
        Assert.NotNull(db.Warning);
    }

    /// <summary>Seen: a 200,000-entry file never finished. It is now refused at once and left as it is.</summary>
    [Fact]
    public void FileOf200000Entries_IsNotRead_AndLeftAsItIs()
    {
        var text = new StringBuilder("{\"version\":1,\"entries\":[");
        for (int i = 0; i < 200_000; i++) text.Append(i == 0 ? "" : ",").Append(Entry(seed: i.ToString()));
        Write(text.Append("]}").ToString());
        long length = new FileInfo(DbPath).Length;

        var db = FailureDatabase.Load(DbPath);
        Assert.Empty(db.RerunsFor("reference"));
        Assert.Contains("neither used nor changed", db.Warning);
        db.Record(Result((Key(seed: 0), []), (Key(seed: 200_001), ["PAGE-4"])), At);
        Assert.False(db.Save());
        Assert.Equal(length, new FileInfo(DbPath).Length);
    }

    [Fact]
    public void ManySmallEntries_UnderTheSizeLimit_AreNotRead()
    {
        Write("{\"version\":1,\"entries\":[" + string.Join(",", Enumerable.Repeat("0", FailureDatabase.MaxArrayLength + 1)) + "]}");
        var db = FailureDatabase.Load(DbPath);
        Assert.False(db.Understood);
        Assert.Contains("more than", db.Warning);
    }

    [Fact]
    public void MoreUsableEntriesThanKept_RerunsABoundedNumber_AndASaveKeepsTheMostRecent()
    {
        int count = FailureDatabase.MaxEntries * 3;
        Write(File1([.. Enumerable.Range(0, count).Select(i => Entry(seed: i.ToString()))]));

        var db = FailureDatabase.Load(DbPath);
        var reruns = db.RerunsFor("reference");
        Assert.Equal(FailureDatabase.MaxRerunsPerRun, reruns.Count);
        Assert.Equal(Key(seed: 0), reruns[0]); // the front of the file: the most recently failed
        Assert.Contains("dropped at the next save", db.Warning);

        db.Record(Result((Key(seed: 1), []), (Key(seed: 999_999), ["PAGE-4"])), At);
        Assert.True(db.Save());
        var saved = FailureDatabase.Load(DbPath);
        Assert.Equal(FailureDatabase.MaxEntries, saved.Entries.Count);
        Assert.Equal(Key(seed: 999_999), saved.Entries[0].Key);
        Assert.DoesNotContain(saved.Entries, e => e.Key == Key(seed: 1));
        Assert.Equal(Key(seed: 0), saved.Entries[1].Key);
    }

    [Theory]
    [InlineData("""{"version":99,"entries":[ENTRY]}""", "version 99")]
    [InlineData("""{"version":"1","entries":[ENTRY]}""", "version")]
    [InlineData("""{"entries":[ENTRY]}""", "version")]
    [InlineData("""{"version":1,"entries":{"a":ENTRY}}""", "entries")]
    [InlineData("""[ENTRY]""", "not a failure database")]
    [InlineData("""{ not json ENTRY""", "could not read")]
    [InlineData("""{"version":1,"entries":[ENTRY]""", "could not read")]
    public void FileNotUnderstood_IsNeitherUsedNorChanged(string template, string warning)
    {
        string text = template.Replace("ENTRY", Entry());
        Write(text);
        var db = FailureDatabase.Load(DbPath);
        Assert.Empty(db.RerunsFor("reference"));
        Assert.Contains(warning, db.Warning);

        // The saved property passes and another fails: a database that understood the file would
        // delete the first entry and add the second. This one must leave the file alone.
        db.Record(Result((Key(), []), (Key(seed: 9), ["PAGE-4"])), At);
        db.Save();
        Assert.Equal(text, File.ReadAllText(DbPath));
    }

    [Fact]
    public void UnknownVersion_EvenWithAllEntriesPassing_IsNotDeleted()
    {
        string text = """{"version":2000,"entries":[ENTRY],"future":{"x":1}}""".Replace("ENTRY", Entry());
        Write(text);
        var db = FailureDatabase.Load(DbPath);
        db.Record(Result((Key(), [])), At);
        db.Save();
        Assert.True(File.Exists(DbPath), "a file of an unknown version was deleted");
        Assert.Equal(text, File.ReadAllText(DbPath));
    }

    [Fact]
    public void FileLargerThanTheLimit_IsNotRead_AndNotOverwritten()
    {
        using (var f = new FileStream(DbPath, FileMode.Create)) f.SetLength(FailureDatabase.MaxFileBytes + 1);
        var db = FailureDatabase.Load(DbPath);
        Assert.Contains("larger than", db.Warning);
        db.Record(Result((Key(seed: 9), ["PAGE-4"])), At);
        db.Save();
        Assert.Equal(FailureDatabase.MaxFileBytes + 1, new FileInfo(DbPath).Length);
    }

    [Fact]
    public void EntryWithWrongTypes_IsSkipped_OthersStillLoad()
    {
        Write(File1("""{"implementation":7,"profile":[],"memory":"lots","seed":{},"sequences":true}""", "42", "\"text\"", Entry()));
        var db = FailureDatabase.Load(DbPath);
        Assert.Equal([Key()], db.RerunsFor("reference"));
        Assert.Contains("3 entries", db.Warning);
    }

    [Fact]
    public void UnknownFieldsOfAnEntry_SurviveASave()
    {
        Write(File1(Entry().TrimEnd('}') + ""","fromTheFuture":{"a":[1,2]}}"""));
        var db = FailureDatabase.Load(DbPath);
        db.Record(Result((Key(), ["PAGE-4"])), At); // refresh it
        db.Save();
        var entry = JsonNode.Parse(File.ReadAllText(DbPath))!["entries"]![0]!;
        Assert.Equal(2, entry["fromTheFuture"]!["a"]!.AsArray().Count);
        Assert.Equal("PAGE-4", entry["rules"]![0]!.GetValue<string>());
    }

    /// <summary>
    /// Seen: two runs in the same folder, the last writer wins and the other's saved failures are
    /// lost, 10 times out of 10. Here eight runs load the same database, each records its own
    /// failure, and all save at once: every failure must be in the file afterwards.
    /// </summary>
    [Fact]
    public void ConcurrentWriters_KeepEveryRunsFailures()
    {
        const int writers = 8;
        // One entry that every writer sees passing (removed) and one that none of them ran (kept).
        var passing = Key(seed: 1000);
        var untouched = new PropertyKey("linux-2.4", 64UL << 20, "pages", Key().Settings);
        var seed = FailureDatabase.Load(DbPath);
        seed.Record(Result((passing, ["PAGE-4"]), (untouched, ["PAGE-8"])), At);
        seed.Save();

        var loaded = Enumerable.Range(0, writers).Select(_ => FailureDatabase.Load(DbPath)).ToList();
        using var start = new Barrier(writers);
        var errors = new List<Exception>();
        var threads = Enumerable.Range(0, writers).Select(i => new Thread(() =>
        {
            try
            {
                loaded[i].Record(Result((Key(seed: (ulong)i), ["PAGE-4"]), (passing, [])), At.AddSeconds(i));
                start.SignalAndWait();
                loaded[i].Save();
            }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);

        var merged = FailureDatabase.Load(DbPath);
        Assert.Null(merged.Warning);
        var keys = merged.Entries.Select(e => e.Key).ToHashSet();
        for (int i = 0; i < writers; i++) Assert.Contains(Key(seed: (ulong)i), keys);
        Assert.Contains(untouched, keys);
        Assert.DoesNotContain(passing, keys);
        Assert.Equal(writers + 1, merged.Entries.Count);
    }

    /// <summary>
    /// Seen: two students' programs named "buddy" shared saved failures, and one's run deleted the
    /// other's as "now passing". Saved failures belong to the label and a hash of the program.
    /// </summary>
    [Fact]
    public void TwoProgramsWithTheSameName_NeverShareSavedFailures()
    {
        string alice = Path.Combine(_dir, "alice", "buddy"), bob = Path.Combine(_dir, "bob", "buddy");
        Directory.CreateDirectory(Path.GetDirectoryName(alice)!);
        Directory.CreateDirectory(Path.GetDirectoryName(bob)!);
        File.WriteAllText(alice, "alice's allocator");
        File.WriteAllText(bob, "bob's allocator");
        var aliceId = ImplementationIdentity.Of("buddy", alice, [alice], [alice]);
        var bobId = ImplementationIdentity.Of("buddy", bob, [bob], [bob]);
        Assert.NotEqual(aliceId.Program, bobId.Program);

        var db = FailureDatabase.Load(DbPath);
        db.Record(Result((Key(seed: 1), ["PAGE-4"])) with { Implementation = "buddy" }, aliceId, At);
        db.Save();

        db = FailureDatabase.Load(DbPath);
        Assert.Empty(db.RerunsFor(bobId));
        Assert.Equal([Key(seed: 1)], db.RerunsFor(aliceId));
        // Bob passes the same property: Alice's saved failure stays.
        db.Record(Result((Key(seed: 1), [])) with { Implementation = "buddy" }, bobId, At);
        db.Save();
        Assert.Equal([Key(seed: 1)], FailureDatabase.Load(DbPath).RerunsFor(aliceId));
    }

    [Fact]
    public void ARebuiltProgramAtTheSameLocation_KeepsItsSavedFailures_UntilTheyPass()
    {
        string program = Path.Combine(_dir, "buddy");
        File.WriteAllText(program, "version 1");
        var before = ImplementationIdentity.Of("buddy", program, [program], [program]);
        var db = FailureDatabase.Load(DbPath);
        db.Record(Result((Key(seed: 1), ["PAGE-4"])), before, At);
        db.Save();

        File.WriteAllText(program, "version 2, fixed");
        var after = ImplementationIdentity.Of("buddy", program, [program], [program]);
        Assert.NotEqual(before.Program, after.Program);
        db = FailureDatabase.Load(DbPath);
        Assert.Equal([Key(seed: 1)], db.RerunsFor(after));
        db.Record(Result((Key(seed: 1), [])), after, At);
        db.Save();
        Assert.False(File.Exists(DbPath));
    }

    [Fact]
    public void TheSameProgramUnderAnotherLabel_IsAnotherImplementation()
    {
        string program = Path.Combine(_dir, "buddy");
        File.WriteAllText(program, "shared binary");
        var db = FailureDatabase.Load(DbPath);
        db.Record(Result((Key(seed: 1), ["PAGE-4"])), ImplementationIdentity.Of("alice", program, [program], [program]), At);
        Assert.Empty(db.RerunsFor(ImplementationIdentity.Of("bob", program, [program], [program])));
    }
}
