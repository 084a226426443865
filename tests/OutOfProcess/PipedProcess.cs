using System.Diagnostics;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>Starts a protocol program by hand (for tests that write raw request lines), with stdin, stdout and stderr piped.</summary>
internal static class PipedProcess
{
    public static Process Start(string[] command)
    {
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1)) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }
}
