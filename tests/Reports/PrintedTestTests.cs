using System.Diagnostics;
using System.Text;
using System.Xml.Linq;
using KernelMm.Conformance.Reports;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.HeapVariants;
using KernelMm.Tests.Suite;
using KernelMm.Tests.Variants;
using KernelMm.Tests.VmVariants;
using Xunit.Abstractions;

namespace KernelMm.Tests.Reports;

/// <summary>
/// A repro that reproduces (issue 7 §4): for a broken variant of each sequential family (pages, heap, vm), the regression test
/// the reports print is pasted, as printed, into a scratch xunit project that references the
/// built assemblies, built with <c>dotnet test</c>, and run. It must compile (no implicit usings),
/// fail with the rule against the broken variant, and pass when its factory line builds the
/// reference instead. One scratch project for all three families keeps the cost to one build.
/// </summary>
[Trait("Category", "Scratch")]
public sealed class PrintedTestTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);
    private static readonly XNamespace Trx = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

    private sealed record Printed(string Rule, string Family, string Class, string Text);

    [Fact]
    public void The_printed_test_compiles_fails_with_the_rule_and_passes_on_the_reference()
    {
        var printed = new List<Printed>
        {
            Print(new TreeFactory(Fault.WrongOrderFreeAccepted), "pages", "PAGE-4"),
            Print(new ListHeapFactory(HeapFault.DoubleKfreeAccepted), "heap", "KMAL-6"),
            Print(new HashedVmFactory(VmFault.DoubleVfreeSilent), "vm", "VMAL-6"),
        };

        var work = Directory.CreateTempSubdirectory("kmm-printed-test-").FullName;
        bool keep = true;
        try
        {
            var files = new Dictionary<string, string>();
            foreach (var p in printed)
            {
                files[$"{p.Class}.cs"] = p.Text;
                // The same printed test with its factory line building the reference.
                var factoryLine = p.Text.Split('\n').Single(l => l.TrimStart().StartsWith("var factory = ", StringComparison.Ordinal));
                files[$"{p.Class}_OnTheReference.cs"] = p.Text
                    .Replace(factoryLine, factoryLine[..factoryLine.IndexOf("var factory = ", StringComparison.Ordinal)] + "var factory = new KernelMm.Reference.ReferenceFactory();")
                    .Replace($"public class {p.Class}", $"public class {p.Class}_OnTheReference");
            }
            foreach (var (name, text) in files) File.WriteAllText(Path.Combine(work, name), text);
            File.WriteAllText(Path.Combine(work, "Scratch.csproj"), ProjectFile());

            var results = Path.Combine(work, "results");
            var clock = Stopwatch.StartNew();
            var (exit, log) = Dotnet(work, $"test Scratch.csproj --results-directory \"{results}\" --logger \"trx;LogFileName=scratch.trx\"");
            output.WriteLine($"scratch project: dotnet test took {clock.Elapsed.TotalSeconds:F1} s (exit {exit})");
            var trx = Path.Combine(results, "scratch.trx");
            Assert.True(File.Exists(trx), $"the printed tests did not build or run (exit {exit}):\n{log}\n--- printed ---\n{string.Join("\n", files.Values)}");

            var outcomes = Outcomes(trx);
            foreach (var p in printed)
            {
                var broken = Assert.Single(outcomes, o => o.Class == p.Class);
                Assert.True(broken.Outcome == "Failed", $"{p.Class} against the broken variant: {broken.Outcome}\n{broken.Message}");
                Assert.StartsWith($"{typeof(KernelMm.Conformance.Specification.RuleFailedException).FullName} : {p.Rule}: ", broken.Message);
                var reference = Assert.Single(outcomes, o => o.Class == $"{p.Class}_OnTheReference");
                Assert.True(reference.Outcome == "Passed", $"{p.Class} against the reference: {reference.Outcome}\n{reference.Message}");
            }
            keep = false;
        }
        finally
        {
            if (keep) output.WriteLine($"kept {work} for inspection");
            else TryDelete(work);
        }
    }

    /// <summary>Runs the suite on one broken variant and returns the test its reports print for the rule, with the factory the reports derive.</summary>
    private Printed Print(IImplementationFactory factory, string family, string rule)
    {
        var result = SuiteRunner.Run(factory, new SuiteOptions
        {
            Profiles = [Profiles.X86_32],
            MemorySizes = [64UL << 20],
            Families = new HashSet<string> { family },
            Settings = new RunSettings { Seed = SuiteRuns.Seed, Sequences = 60, MaxSteps = 60 },
        });
        var row = result.Results.SingleOrDefault(r => r.Rule.Id == rule && r.Outcome == RuleOutcome.Failed);
        Assert.True(row is not null, $"{factory.Name} did not fail {rule}\n{SuiteRuns.Explain(result)}");
        // Exactly what the JSON report carries (and the console prints with --replay, and the HTML shows).
        var text = JsonReport.Build(result, new ReportOptions()).Results.Single(r => r.Id == rule && r.Counterexample is not null).Counterexample!.Xunit!;
        output.WriteLine(text);
        Assert.DoesNotContain("ReferenceFactory", text);
        return new Printed(rule, family, $"{XunitSnippet.MethodName(row.Counterexample!)}_Regression", text);
    }

    /// <summary>An xunit project with no implicit usings, referencing the assemblies this test project was built with.</summary>
    private static string ProjectFile()
    {
        string bin = AppContext.BaseDirectory;
        var references = new StringBuilder();
        foreach (var assembly in new[] { "KernelMm.Spec", "KernelMm.Conformance", "KernelMm.Reference", "KernelMm.Conformance.Specification.Tests", "KernelMm.Tests" })
            references.Append($"    <Reference Include=\"{assembly}\"><HintPath>{Path.Combine(bin, assembly + ".dll")}</HintPath></Reference>\n");
        return $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
                <IsPackable>false</IsPackable>
                <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.11.0" />
                <PackageReference Include="xunit" Version="2.9.3" />
                <PackageReference Include="xunit.runner.visualstudio" Version="4.0.1" />
                <PackageReference Include="FsCheck" Version="3.6.0" />
              </ItemGroup>
              <ItemGroup>
            {references}  </ItemGroup>
            </Project>
            """;
    }

    private sealed record TestOutcome(string Class, string Outcome, string Message);

    private static List<TestOutcome> Outcomes(string trxPath)
    {
        var trx = XDocument.Load(trxPath);
        var classes = trx.Descendants(Trx + "UnitTest").ToDictionary(
            e => e.Attribute("id")!.Value,
            e => e.Element(Trx + "TestMethod")!.Attribute("className")!.Value);
        return trx.Descendants(Trx + "UnitTestResult").Select(e => new TestOutcome(
            classes[e.Attribute("testId")!.Value].Split('.')[^1],
            e.Attribute("outcome")!.Value,
            string.Concat(e.Descendants(Trx + "Message").Select(m => m.Value)))).ToList();
    }

    /// <summary>Runs the dotnet CLI without build servers or node reuse (nothing outlives the test); returns its exit code and output.</summary>
    private static (int Exit, string Output) Dotnet(string workingDirectory, string arguments)
    {
        var start = Shared.IsolatedCommand.Start("dotnet", workingDirectory);
        start.Arguments = arguments + " -nodeReuse:false -p:UseSharedCompilation=false";
        return Shared.IsolatedCommand.Run(start, StepTimeout);
    }

    private static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
