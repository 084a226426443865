using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using KernelMm.Conformance.Specification;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>
/// The package as an outsider gets it: the library (already built, as this project references it)
/// is packed into a temporary feed with a fresh prerelease version, so that no stale copy in the
/// NuGet cache is used, and a copy of examples/ThirdPartySample restores the package from that
/// feed and runs. One pack and one test run, well under a minute on an idle machine.
/// </summary>
[Trait("Category", "Package")]
public sealed class PackageTests
{
    private const string PackageId = "KernelMm.Conformance.Specification.Tests";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    [Fact]
    public void Packed_package_passes_the_third_party_sample_with_one_test_per_rule()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("kmm-package-test-").FullName;
        string suffix = $"test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string version = $"0.1.0-{suffix}";
        bool keep = true;
        try
        {
            var sample = Path.Combine(work, "sample");
            CopySources(Path.Combine(root, "examples/ThirdPartySample"), sample);
            var feed = Path.Combine(work, "feed");

            // 1. dotnet pack, as PACKAGE.md says, of the build this test project already made
            //    (--no-build: nothing is compiled again, and the working tree's outputs stay as they are).
            Dotnet(work, $"pack \"{Path.Combine(root, "conformance/SpecificationTests")}\" --no-build -c {Configuration} -o \"{feed}\" --version-suffix {suffix}");
            var nupkg = Path.Combine(feed, $"{PackageId}.{version}.nupkg");
            Assert.True(File.Exists(nupkg), $"dotnet pack did not produce {nupkg}; the feed has: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");
            CheckPackageLayout(nupkg);

            // 2. dotnet test on the sample, restoring the package from the feed.
            File.WriteAllText(Path.Combine(sample, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="kmm-package-test" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            var results = Path.Combine(work, "results");
            var output = Dotnet(sample, $"test -p:KmmSpecTestsVersion={version} --results-directory \"{results}\" " +
                                        "--logger \"trx;LogFileName=sample.trx\" --logger \"junit;LogFilePath=" + Path.Combine(results, "sample.junit.xml") + "\"");
            CheckTrx(Path.Combine(results, "sample.trx"), output);
            CheckJunit(Path.Combine(results, "sample.junit.xml"));
            keep = false;
        }
        finally
        {
            if (!keep) TryDelete(work);
            else Console.Error.WriteLine($"package test: kept {work} for inspection");
            TryDelete(Path.Combine(GlobalPackagesFolder(), PackageId.ToLowerInvariant(), version));
        }
    }

    /// <summary>The bundled assemblies are in lib/net10.0 and only xunit and FsCheck are dependencies.</summary>
    private static void CheckPackageLayout(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var assembly in new[] { PackageId, "KernelMm.Spec", "KernelMm.Conformance" })
        {
            Assert.Contains($"lib/net10.0/{assembly}.dll", entries);
            Assert.Contains($"lib/net10.0/{assembly}.pdb", entries);
        }
        Assert.Contains("lib/net10.0/KernelMm.Conformance.Specification.Tests.xml", entries);
        Assert.Contains("PACKAGE.md", entries);
        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspecEntry.Open();
        var nuspec = XDocument.Load(stream);
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => $"{e.Attribute("id")!.Value} {e.Attribute("version")!.Value}").ToHashSet();
        Assert.Equal(new HashSet<string> { "xunit 2.9.3", "FsCheck 3.6.0" }, dependencies);
    }

    /// <summary>Every rule of the page family is its own test in the TRX, named by its ID, with the expected outcome.</summary>
    private static void CheckTrx(string trxPath, string output)
    {
        Assert.True(File.Exists(trxPath), $"no TRX at {trxPath}; dotnet test said:\n{output}");
        var trx = XDocument.Load(trxPath);
        var definitions = trx.Descendants(Trx + "UnitTest").ToDictionary(
            e => e.Attribute("id")!.Value,
            e => e.Element(Trx + "TestMethod")!.Attribute("className")!.Value);
        var results = trx.Descendants(Trx + "UnitTestResult").Select(e => new
        {
            Name = e.Attribute("testName")!.Value,
            Outcome = e.Attribute("outcome")!.Value,
            Class = definitions[e.Attribute("testId")!.Value],
            Text = string.Concat(e.Descendants(Trx + "Message").Select(m => m.Value)) + string.Concat(e.Descendants(Trx + "StdOut").Select(m => m.Value)),
        }).ToList();

        var family = SpecificationFamily.Of(typeof(PageAllocatorSpecificationTests))!;
        var ruleResults = results.Where(r => r.Class.EndsWith("SamplePageAllocatorTests", StringComparison.Ordinal)).ToList();
        Assert.Equal(family.Rules.Count, ruleResults.Count);
        var declared = new HashSet<Capability> { Capability.PageAllocator };
        foreach (var rule in family.Rules)
        {
            var result = Assert.Single(ruleResults, r => r.Name.StartsWith($"KeepsRule({rule.Id}): ", StringComparison.Ordinal));
            Assert.Equal($"KeepsRule({rule.Id}): {rule.Statement}", result.Name);
            bool applicable = rule.Requires.All(declared.Contains);
            if (applicable)
            {
                Assert.True(result.Outcome == "Passed", $"{rule.Id} is {result.Outcome}: {result.Text}");
                Assert.Contains($"{rule.Id} passed: x86-32 ", result.Text);
            }
            else
            {
                Assert.True(result.Outcome == "NotExecuted", $"{rule.Id} needs {string.Join(", ", rule.Requires)} and should be skipped, is {result.Outcome}: {result.Text}");
                Assert.Contains("n/a: 'sample-buddy' does not declare ", result.Text);
            }
        }
        var compliance = Assert.Single(results, r => r.Class.EndsWith("SampleComplianceTests", StringComparison.Ordinal));
        Assert.Equal("Passed", compliance.Outcome);
        var counters = trx.Descendants(Trx + "Counters").Single();
        Assert.Equal("0", counters.Attribute("failed")!.Value);
    }

    /// <summary>JUnit XML lists the same per-rule tests, skips included.</summary>
    private static void CheckJunit(string junitPath)
    {
        Assert.True(File.Exists(junitPath), $"no JUnit XML at {junitPath}");
        var cases = XDocument.Load(junitPath).Descendants("testcase")
            .Where(c => c.Attribute("classname")!.Value.EndsWith("SamplePageAllocatorTests", StringComparison.Ordinal)).ToList();
        var family = SpecificationFamily.Of(typeof(PageAllocatorSpecificationTests))!;
        Assert.Equal(family.Rules.Count, cases.Count);
        foreach (var rule in family.Rules)
            Assert.Single(cases, c => c.Attribute("name")!.Value == $"KeepsRule({rule.Id}): {rule.Statement}");
        Assert.NotNull(cases.Single(c => c.Attribute("name")!.Value.StartsWith("KeepsRule(ZONE-4)", StringComparison.Ordinal)).Element("skipped"));
    }

    // ---- Plumbing ------------------------------------------------------------------------------

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Conformance.sln above {AppContext.BaseDirectory}");
    }

    private static void CopySources(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.EnumerateDirectories(from))
        {
            string name = Path.GetFileName(dir);
            if (name is "bin" or "obj" or "TestResults" || name.StartsWith('.')) continue;
            CopySources(dir, Path.Combine(to, name));
        }
    }

    /// <summary>Runs the dotnet CLI as from a fresh shell (tests/Shared/IsolatedCommand: no build servers or node reuse, so that nothing outlives the test); returns its output.</summary>
    private static string Dotnet(string workingDirectory, string arguments)
    {
        var start = KernelMm.Tests.Shared.IsolatedCommand.Start("dotnet", workingDirectory);
        start.Arguments = arguments + " -nodeReuse:false -p:UseSharedCompilation=false";
        var clock = Stopwatch.StartNew();
        var (exit, output) = KernelMm.Tests.Shared.IsolatedCommand.Run(start, StepTimeout);
        Console.Error.WriteLine($"package test: dotnet {arguments.Split(' ')[0]} took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(exit == 0, $"dotnet {arguments} exited {exit}:\n{output}");
        return output;
    }

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
