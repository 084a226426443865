using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.Running;
using KernelMm.Tests.Reports;

namespace KernelMm.Tests.Hostile;

/// <summary>
/// Generated garbage as the failure database: valid files with fields replaced by random JSON
/// values, truncated files, random bytes. Loading never throws; what is used stays within the
/// limits; a file not understood is never changed; a file understood keeps every entry it could
/// not use and gains this run's failure.
/// </summary>
public sealed class FailureDatabaseFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kmm-db-fuzz-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly string[] Fields =
        ["implementation", "program", "location", "profile", "memory", "label", "family", "seed", "sequences", "maxSteps",
         "maxFailuresPerProperty", "propertySeed", "rules", "firstFailed", "lastFailed"];

    private static Gen<string> JsonValue(int depth) => depth <= 0
        ? Gen.Elements("null", "true", "false", "0", "-1", "1", "2147483647", "2147483648", "-9223372036854775808",
            "18446744073709551615", "1e308", "0.5", "\"\"", "\"x86-32\"", "\"pages\"", "\"reference\"", "\"5\"", "\"-5\"",
            "\"\\u0000\"", "\"\\ud800\"", "\"" + new string('a', 300) + "\"", "\"2026-01-01T00:00:00Z\"", "\"not a date\"")
        : Gen.OneOf(
            JsonValue(0),
            JsonValue(depth - 1).ArrayOf().Select(a => "[" + string.Join(",", a.Take(4)) + "]"),
            Gen.Elements(Fields).Zip(JsonValue(depth - 1)).ArrayOf().Select(kv => "{" + string.Join(",", kv.Take(4).Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}"));

    private static string ValidEntry(int i) =>
        $$"""{"implementation":"reference","profile":"x86-32","memory":67108864,"family":"pages","seed":"{{i}}","sequences":3,"maxSteps":8,"rules":["PAGE-4"]}""";

    /// <summary>An entry: valid, valid with one field replaced or removed, or any JSON value.</summary>
    private static Gen<string> EntryText() =>
        from i in Gen.Choose(0, 50)
        from kind in Gen.Choose(0, 3)
        from field in Gen.Elements(Fields)
        from value in JsonValue(2)
        select kind switch
        {
            0 => ValidEntry(i),
            1 => ReplaceField(ValidEntry(i), field, value),
            2 => ReplaceField(ValidEntry(i), field, null),
            _ => value,
        };

    private static string ReplaceField(string entry, string field, string? value)
    {
        var fields = JsonDocument.Parse(entry).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());
        if (value is null) fields.Remove(field); else fields[field] = value;
        return "{" + string.Join(",", fields.Select(p => $"\"{p.Key}\":{p.Value}")) + "}";
    }

    private static Gen<byte[]> FileBytes() =>
        from entries in EntryText().ArrayOf()
        from version in Gen.Elements("1", "2", "3", "0", "\"1\"", "null", "1.0", "-1")
        from damage in Gen.Choose(0, 5)
        from cut in Gen.Choose(0, 10_000)
        from noise in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
        let text = $$"""{"version":{{version}},"entries":[{{string.Join(",", entries.Take(12))}}]}"""
        let bytes = Encoding.UTF8.GetBytes(text)
        select damage switch
        {
            0 => bytes[..(cut % (bytes.Length + 1))],                     // truncated
            1 => noise,                                                 // random bytes
            2 => [.. bytes, .. noise],                                  // trailing garbage
            _ => bytes,                                                 // well-formed JSON, any content
        };

    [Fact]
    public void GarbageFiles_NeverThrow_StayBounded_AndLoseNothing()
    {
        int run = 0;
        var property = Prop.ForAll(FileBytes().ToArbitrary(), bytes =>
        {
            string path = Path.Combine(_dir, $"db{run++}.json");
            File.WriteAllBytes(path, bytes);
            var db = FailureDatabase.Load(path);
            int loadedUsable = db.Entries.Count;

            foreach (var entry in db.Entries)
            {
                Assert.Null(RunLimits.Check(entry.Key.Settings));
                Assert.True(entry.Implementation.Length <= FailureDatabase.MaxTextLength);
            }
            Assert.True(db.RerunsFor("reference").Count <= FailureDatabase.MaxRerunsPerRun);

            var failing = new PropertyKey("x86-32", 64UL << 20, "pages", new RunSettings { Seed = 77777, Sequences = 2, MaxSteps = 5 });
            var passing = db.Entries.FirstOrDefault()?.Key;
            var runs = new List<PropertyRun> { new(failing, false, [ReportFixtures.Counterexample(rule: "PAGE-8", label: failing.Label)], 1, 2) };
            if (passing is not null) runs.Add(new PropertyRun(passing, false, [], 1, 2));
            db.Record(ReportFixtures.HandBuilt(properties: runs) with { Implementation = "reference" });

            bool saved = db.Save();
            if (!db.Understood)
            {
                Assert.False(saved);
                Assert.Equal(bytes, File.ReadAllBytes(path));
                return;
            }
            Assert.True(saved);
            var again = FailureDatabase.Load(path);
            Assert.True(again.Understood, again.Warning);
            Assert.Contains(again.Entries, e => e.Key == failing);
            Assert.Equal(ArrayLength(bytes) - loadedUsable, ArrayLength(File.ReadAllBytes(path)) - again.Entries.Count);
        });
        property.Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(424242UL, 0x9E3779B97F4A7C15UL));
    }

    /// <summary>Length of the entries array of a well-formed file.</summary>
    private static int ArrayLength(byte[] bytes) => JsonDocument.Parse(bytes).RootElement.GetProperty("entries").GetArrayLength();
}
