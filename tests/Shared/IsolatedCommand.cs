using System.Diagnostics;
using System.Text;

namespace KernelMm.Tests.Shared;

/// <summary>
/// Runs a command from a test as if from a fresh shell: the outer `dotnet test`'s MSBuild, VSTest and
/// testing-platform variables are dropped, build servers and node reuse are off (nothing outlives the
/// test), and "dotnet" means the host running the tests.
/// </summary>
internal static class IsolatedCommand
{
    /// <summary>The start info for <paramref name="program"/> in <paramref name="workingDirectory"/>; add the arguments to it.</summary>
    public static ProcessStartInfo Start(string program, string workingDirectory)
    {
        if (program == "dotnet" && Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) program = host;
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in start.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase) || key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        return start;
    }

    /// <summary>Runs <paramref name="start"/>; returns its exit code and output (both streams), failing the test when it outlives <paramref name="timeout"/>.</summary>
    public static (int Exit, string Output) Run(ProcessStartInfo start, TimeSpan timeout)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string command = $"{start.FileName} {(start.ArgumentList.Count > 0 ? string.Join(' ', start.ArgumentList) : start.Arguments)}";
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Xunit.Assert.Fail($"{command} did not finish within {timeout.TotalMinutes} minutes:\n{output}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }
}
