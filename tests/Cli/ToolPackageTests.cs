using System.Diagnostics;
using System.Text;

namespace KernelMm.Tests.Cli;

/// <summary>
/// kmm-conformance as a .NET tool, the way a user gets it: the CLI project (already built, as this
/// test project references it) is packed into a temporary feed with a fresh prerelease version,
/// installed with <c>dotnet tool install --tool-path</c> from that feed, and the installed command
/// answers --help and --version.
/// </summary>
[Trait("Category", "Package")]
public sealed class ToolPackageTests
{
    private const string PackageId = "KernelMm.Conformance.Tool";
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    public void PackedTool_Installs_AndAnswersHelpAndVersion()
    {
        string root = RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("kmm-tool-test-").FullName;
        string suffix = $"test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string version = $"0.1.0-{suffix}";
        bool keep = true;
        try
        {
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
            // The build this test project already made is packed as it is (nothing compiled again).
            Run("dotnet", work, "pack", Path.Combine(root, "conformance/Cli"), "--no-build", "-c", Configuration, "-o", feed, "--version-suffix", suffix,
                "-nodeReuse:false", "-p:UseSharedCompilation=false");
            Assert.True(File.Exists(Path.Combine(feed, $"{PackageId}.{version}.nupkg")), $"no package in {feed}: {string.Join(", ", Directory.GetFiles(feed).Select(Path.GetFileName))}");

            Run("dotnet", work, "tool", "install", "--tool-path", tools, "--add-source", feed, PackageId, "--version", version);
            string command = Path.Combine(tools, "kmm-conformance");

            var help = Run(command, work, "--help");
            Assert.Contains("Usage:", help);
            Assert.Contains("kmm-conformance [command] [options]", help);
            Assert.Contains("run", help);
            // The package was packed from this very build: the tool reports the build's version.
            string built = Conformance.Cli.KmmConformance.Version;
            Assert.Equal(built, Run(command, work, "--version").Trim());
            Assert.Contains("--impl-command", Run(command, work, "run", "--help"));
            keep = false;
        }
        finally
        {
            if (!keep) TryDelete(work);
            else Console.Error.WriteLine($"tool package test: kept {work} for inspection");
            TryDelete(Path.Combine(GlobalPackagesFolder(), PackageId.ToLowerInvariant(), version));
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Conformance.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a command without build servers, and without the outer `dotnet test`'s MSBuild variables; returns its output, failing on a non-zero exit.</summary>
    private static string Run(string program, string workingDirectory, params string[] arguments)
    {
        var start = Shared.IsolatedCommand.Start(program, workingDirectory);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        var (exit, output) = Shared.IsolatedCommand.Run(start, StepTimeout);
        Assert.True(exit == 0, $"{program} {string.Join(' ', arguments)} exited {exit}:\n{output}");
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
