using System.Text.Json;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Reports;

/// <summary>The failing-seed database: failures are added, re-run first with their own seed, and dropped once they pass.</summary>
public sealed class FailureDatabaseTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kmm-db-" + Guid.NewGuid().ToString("N"));
    private string DbPath => Path.Combine(_dir, "nested", "failures.json");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly RunSettings Saved = new() { Seed = 99, Sequences = 5, MaxSteps = 15 };
    private static readonly DateTimeOffset At = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static PropertyRun Run(PropertyKey key, params string[] failingRules) =>
        new(key, false, failingRules.Select(r => ReportFixtures.Counterexample(rule: r, label: key.Label)).ToList(), 100, key.Settings.Sequences);

    [Fact]
    public void Load_MissingFile_IsEmpty()
    {
        var db = FailureDatabase.Load(DbPath);
        Assert.Empty(db.Entries);
        Assert.Null(db.Warning);
    }

    [Fact]
    public void Record_AddsFailingProperties_AndSaveLoadRoundTrips()
    {
        var failing = new PropertyKey("x86-32", 512UL << 20, "pages", Saved);
        var passing = new PropertyKey("x86-32", 64UL << 20, "pages", Saved);
        var result = ReportFixtures.HandBuilt(properties: [Run(passing), Run(failing, "PAGE-4", "PAGE-8")]) with { Implementation = "reference" };

        var db = FailureDatabase.Load(DbPath);
        var change = db.Record(result, At);
        Assert.Equal(new FailureDatabaseChange(1, 0, 0), change);
        db.Save();

        var again = FailureDatabase.Load(DbPath);
        var entry = Assert.Single(again.Entries);
        Assert.Equal(failing, entry.Key);
        Assert.Equal(["PAGE-4", "PAGE-8"], entry.Rules);
        Assert.Equal("x86-32/512M", entry.Label);
        Assert.Equal(PropertyRunner.DeriveSeed(99, "pages/x86-32/512M"), entry.PropertySeed);
        Assert.Equal(At, entry.FirstFailed);
        Assert.Equal([failing], again.RerunsFor("reference"));
        Assert.Empty(again.RerunsFor("someone-else"));

        // Seeds are strings in the file (64-bit values do not survive JavaScript numbers).
        using var json = JsonDocument.Parse(File.ReadAllText(DbPath));
        Assert.Equal("99", json.RootElement.GetProperty("entries")[0].GetProperty("seed").GetString());
    }

    [Fact]
    public void Record_StillFailing_MovesToTheFrontAndKeepsFirstSeen()
    {
        var a = new PropertyKey("x86-32", 512UL << 20, "pages", Saved);
        var b = new PropertyKey("linux-2.4", 64UL << 20, "pages", Saved with { Seed = 3 });
        var db = FailureDatabase.Load(DbPath);
        db.Record(ReportFixtures.HandBuilt(properties: [Run(a, "PAGE-4"), Run(b, "ZONE-1")]), At);
        Assert.Equal([a, b], db.Entries.Select(e => e.Key));

        var later = At.AddDays(1);
        var change = db.Record(ReportFixtures.HandBuilt(properties: [Run(b, "ZONE-1", "ZONE-2")]), later);
        Assert.Equal(new FailureDatabaseChange(0, 0, 1), change);
        Assert.Equal([b, a], db.Entries.Select(e => e.Key));
        Assert.Equal(["ZONE-1", "ZONE-2"], db.Entries[0].Rules);
        Assert.Equal(At, db.Entries[0].FirstFailed);
        Assert.Equal(later, db.Entries[0].LastFailed);
    }

    [Fact]
    public void SuiteRunner_RerunsSavedFailuresFirst_WithTheirOwnSettings_AndPassingOnesAreRemoved()
    {
        // Saved: a property of this run's profile (re-run, passes on the reference, removed) and one of
        // a profile not selected (not run, kept).
        var saved = new PropertyKey("x86-32", 64UL << 20, "pages", Saved);
        var elsewhere = new PropertyKey("linux-2.4", 64UL << 20, "pages", Saved);
        var db = FailureDatabase.Load(DbPath);
        db.Record(ReportFixtures.HandBuilt(properties: [Run(saved, "PAGE-4"), Run(elsewhere, "PAGE-4")]) with { Implementation = "reference" }, At);
        db.Save();

        db = FailureDatabase.Load(DbPath);
        var progress = new List<SuiteProgress>();
        var result = SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20, 512UL << 20],
            Families = new HashSet<string> { "pages" },
            Settings = new RunSettings { Seed = 1, Sequences = 4, MaxSteps = 10 },
            Reruns = db.RerunsFor("reference"),
            OnProgress = progress.Add,
        });

        Assert.Equal(3, result.Properties.Count);
        Assert.Equal(saved, result.Properties[0].Key);
        Assert.True(result.Properties[0].Rerun);
        Assert.Equal(4 + 4 + 5, result.Sequences);
        Assert.All(result.Properties.Skip(1), p => Assert.False(p.Rerun));
        Assert.Equal([64UL << 20, 512UL << 20], result.Properties.Skip(1).Select(p => p.Key.Memory));

        // Progress: a start and a finish per property, counting up to the total.
        Assert.Equal(6, progress.Count);
        Assert.All(progress, p => Assert.Equal(3, p.Total));
        Assert.Equal([1, 2, 3], progress.Where(p => p.Finished).Select(p => p.Done));
        Assert.True(progress[0].Rerun);
        Assert.Equal(result.Operations, progress[^1].Operations);

        var change = db.Record(result, At);
        Assert.Equal(1, change.Removed);
        Assert.Equal([elsewhere], db.Entries.Select(e => e.Key));
        db.Save();
        Assert.Single(FailureDatabase.Load(DbPath).Entries);
    }

    [Fact]
    public void SuiteRunner_RerunWithTheRunsOwnSettings_RunsOnce()
    {
        var settings = new RunSettings { Seed = 5, Sequences = 3, MaxSteps = 8 };
        var result = SuiteRunner.Run(new ReferenceFactory(), new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { "pages" },
            Settings = settings,
            Reruns = [new PropertyKey("x86-32", 64UL << 20, "pages", settings)],
        });
        var only = Assert.Single(result.Properties);
        Assert.True(only.Rerun);
    }

    [Fact]
    public void Save_WhenEmpty_DeletesTheFile()
    {
        var key = new PropertyKey("x86-32", 64UL << 20, "pages", Saved);
        var db = FailureDatabase.Load(DbPath);
        db.Record(ReportFixtures.HandBuilt(properties: [Run(key, "PAGE-4")]), At);
        db.Save();
        Assert.True(File.Exists(DbPath));
        db.Record(ReportFixtures.HandBuilt(properties: [Run(key)]), At);
        db.Save();
        Assert.False(File.Exists(DbPath));
    }

    [Fact]
    public void Load_CorruptFile_WarnsAndStartsEmpty()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DbPath)!);
        File.WriteAllText(DbPath, "{ not json");
        var db = FailureDatabase.Load(DbPath);
        Assert.Empty(db.Entries);
        Assert.Contains("could not read", db.Warning);
    }
}
