using System.Reflection;
using System.Text.Json;

namespace KernelMm.Tests.Mutation;

/// <summary>
/// The mutation-run configurations stay runnable without running Stryker (which takes minutes and is
/// kept out of CI, docs/mutation.md): they parse, name projects that exist, the per-area configs
/// together mutate every file of the reference exactly once, and every test filter names tests that
/// exist (a renamed test class would otherwise silently drop out of the mutation run).
/// </summary>
public class StrykerConfigTests
{
    private static readonly string[] Areas = ["physical", "heap", "vm", "user"];

    [Fact]
    public void Every_config_parses_and_names_a_project_that_exists()
    {
        foreach (var (path, config) in Configs())
        {
            var project = config.GetProperty("project").GetString()!;
            string dir = Path.GetDirectoryName(path)!;
            Assert.True(Directory.EnumerateFiles(dir, project, SearchOption.AllDirectories).Any(), $"{path}: project {project} not found under {dir}");
            if (config.TryGetProperty("solution", out var sln))
                Assert.True(File.Exists(Path.Combine(dir, sln.GetString()!)), $"{path}: solution {sln} not found");
            Assert.True(config.TryGetProperty("coverage-analysis", out _), $"{path}: coverage-analysis is not set");
        }
        var tools = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root(), "dotnet-tools.json"))).RootElement;
        Assert.Equal("5.1.0", tools.GetProperty("tools").GetProperty("dotnet-stryker").GetProperty("version").GetString());
    }

    [Fact]
    public void The_area_configs_mutate_every_reference_file_exactly_once()
    {
        string reference = Path.Combine(Root(), "reference");
        var files = Directory.EnumerateFiles(reference, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(reference, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("obj/") && !f.StartsWith("bin/") && f != "InternalsVisibleTo.cs")
            .ToList();
        var owners = files.ToDictionary(f => f, _ => new List<string>());
        foreach (var area in Areas)
        {
            var config = Config(Path.Combine(Root(), $"stryker-config.{area}.json"));
            foreach (var glob in config.GetProperty("mutate").EnumerateArray().Select(g => g.GetString()!))
            {
                Assert.StartsWith("**/", glob);
                var matched = files.Where(f => ("/" + f).EndsWith("/" + glob["**/".Length..])).ToList();
                Assert.True(matched.Count == 1, $"{area}: '{glob}' matches {matched.Count} reference files");
                owners[matched[0]].Add(area);
            }
        }
        var wrong = owners.Where(o => o.Value.Count != 1).Select(o => $"{o.Key}: {(o.Value.Count == 0 ? "no area" : string.Join(", ", o.Value))}").ToList();
        Assert.True(wrong.Count == 0, "every reference file belongs to exactly one area config:\n" + string.Join("\n", wrong));
        var whole = Config(Path.Combine(Root(), "stryker-config.json"));
        Assert.Equal(["**/*.cs"], whole.GetProperty("mutate").EnumerateArray().Select(g => g.GetString()));
    }

    [Fact]
    public void Every_config_leaves_messages_unmutated_in_the_same_way()
    {
        // docs/mutation.md: exception constructors and string literals (the reference's strings are
        // error-message text and caller names) are not mutated. An area run must judge the same mutants
        // as the whole run, or their scores are not comparable.
        static string[] List(JsonElement config, string key) =>
            config.GetProperty(key).EnumerateArray().Select(m => m.GetString()!).ToArray();
        var whole = Config(Path.Combine(Root(), "stryker-config.json"));
        Assert.Equal(["*Exception.ctor"], List(whole, "ignore-methods"));
        Assert.Equal(["string"], List(whole, "ignore-mutations"));
        foreach (var area in Areas)
        {
            var config = Config(Path.Combine(Root(), $"stryker-config.{area}.json"));
            Assert.Equal(List(whole, "ignore-methods"), List(config, "ignore-methods"));
            Assert.Equal(List(whole, "ignore-mutations"), List(config, "ignore-mutations"));
        }
    }

    [Fact]
    public void Every_test_filter_term_selects_tests_that_exist()
    {
        var tests = typeof(StrykerConfigTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any())
                .Select(m => $"{t.FullName}.{m.Name}"))
            .ToList();
        var wholeRun = MutationProjectTests(tests);
        foreach (var file in Areas.Select(a => $"stryker-config.{a}.json"))
        {
            foreach (var term in Terms(Config(Path.Combine(Root(), file))))
            {
                var selected = tests.Where(t => t.Contains(term, StringComparison.Ordinal)).ToList();
                Assert.True(selected.Count > 0, $"{file}: filter term '{term}' selects no test");
                // the whole run's test project (mutation/) compiles every test an area's filter selects
                var missing = selected.Where(t => !wholeRun.Contains(t)).ToList();
                Assert.True(missing.Count == 0, $"{file}: '{term}' selects tests the whole run's project does not compile: {string.Join(", ", missing.Take(5))}");
            }
        }
    }

    [Fact]
    public void The_whole_run_uses_the_mtp_runner_over_the_mutation_project()
    {
        var whole = Config(Path.Combine(Root(), "stryker-config.json"));
        Assert.Equal("mtp", whole.GetProperty("test-runner").GetString());
        Assert.False(whole.TryGetProperty("test-case-filter", out _), "the whole run's selection is the mutation project itself");
        Assert.Contains("mutation/KernelMm.Mutation.Tests.csproj", File.ReadAllText(Path.Combine(Root(), "Conformance.sln")).Replace('\\', '/'));
        // stopOnFail: a killed mutant costs its first failing test, not the whole selection
        var runner = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root(), "mutation", "xunit.runner.json"))).RootElement;
        Assert.True(runner.GetProperty("stopOnFail").GetBoolean());
    }

    /// <summary>The tests (type.method) of this assembly whose source files the mutation project links.</summary>
    private static HashSet<string> MutationProjectTests(List<string> tests)
    {
        string dir = Path.Combine(Root(), "mutation");
        var project = System.Xml.Linq.XDocument.Load(Path.Combine(dir, "KernelMm.Mutation.Tests.csproj"));
        var files = project.Descendants("Compile").SelectMany(c => c.Attribute("Include")!.Value.Split(';'))
            .SelectMany(glob =>
            {
                string path = Path.GetFullPath(Path.Combine(dir, Path.GetDirectoryName(glob)!));
                string pattern = Path.GetFileName(glob);
                Assert.True(Directory.Exists(path), $"mutation project: {glob} names no folder");
                var matched = Directory.EnumerateFiles(path, pattern).ToList();
                Assert.True(matched.Count > 0, $"mutation project: {glob} matches no file");
                return matched;
            })
            .ToList();
        // type full names declared in the linked files (file-scoped namespace + class name)
        var types = new HashSet<string>();
        foreach (var f in files)
        {
            string text = File.ReadAllText(f);
            var ns = System.Text.RegularExpressions.Regex.Match(text, @"^namespace ([\w.]+);", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, @"\bclass (\w+)"))
                types.Add($"{ns}.{m.Groups[1].Value}");
        }
        return tests.Where(t => types.Contains(t[..t.LastIndexOf('.')])).ToHashSet();
    }

    private static IEnumerable<string> Terms(JsonElement config) =>
        config.GetProperty("test-case-filter").GetString()!.Split('|').Select(t =>
        {
            Assert.StartsWith("FullyQualifiedName~", t);
            return t["FullyQualifiedName~".Length..];
        });

    private static IEnumerable<(string Path, JsonElement Config)> Configs()
    {
        foreach (var f in Directory.EnumerateFiles(Root(), "stryker-config*.json"))
            yield return (f, Config(f));
        var sample = Path.Combine(Root(), "examples", "ThirdPartySample", "stryker-config.json");
        yield return (sample, Config(sample));
    }

    private static JsonElement Config(string path) =>
        JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("stryker-config");

    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
