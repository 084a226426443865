using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelMm.Conformance.OutOfProcess;

namespace KernelMm.Tests.UserLive;

/// <summary>
/// examples/live-linux/live.c, on the C kit (kits/c/kmm.c), built once per test run with the
/// machine's C compiler (cc, else gcc, else clang) into the test output (ignored by git); nothing
/// binary is committed. When the machine
/// cannot run it (not Linux on x86-64 with 4 KiB pages, or no C compiler) <see cref="WhyNot"/> says
/// so and the live-kernel tests are skipped with that reason.
/// </summary>
public static class LiveLinuxProgram
{
    private static readonly Lazy<(string? Path, string? Error)> Built = new(Build);

    // Before WhyNot: static initialisers run in declaration order.
    private static string? Compiler { get; } = new[] { "cc", "gcc", "clang" }.FirstOrDefault(OnPath);

    /// <summary>Why the live kernel cannot be a test subject here, or null when it can.</summary>
    public static string? WhyNot { get; } = Check();

    /// <summary>The built helper; throws with the compiler's output when the build failed.</summary>
    public static string Path => Built.Value.Path ?? throw new InvalidOperationException(Built.Value.Error);

    /// <summary>
    /// The helper as the command line judges it (<c>--impl-command</c>): a <see cref="ProcessFactory"/>
    /// speaking the protocol. A generous timeout per answer: a fork on a loaded CI machine is slow, never wrong.
    /// </summary>
    public static ProcessFactory Factory() =>
        new([Path], new ProcessFactoryOptions { Name = "linux-live", OperationTimeout = TimeSpan.FromSeconds(20) });

    private static string? Check()
    {
        if (!OperatingSystem.IsLinux()) return "the live kernel is Linux's: this machine runs " + RuntimeInformation.OSDescription;
        if (RuntimeInformation.OSArchitecture != Architecture.X64) return $"live-linux judges the x86-64 profile; this machine is {RuntimeInformation.OSArchitecture}";
        if (Environment.SystemPageSize != 4096) return $"the x86-64 profile has 4 KiB pages; this kernel uses {Environment.SystemPageSize}-byte pages";
        if (Compiler is null) return "no C compiler (cc, gcc or clang) on PATH to build examples/live-linux/live.c";
        return null;
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(System.IO.Path.Combine(dir, name)));

    private static (string?, string?) Build()
    {
        string root = Root();
        string dir = System.IO.Path.Combine(AppContext.BaseDirectory, "live-linux", $"{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string output = System.IO.Path.Combine(dir, "live");
        var psi = new ProcessStartInfo(Compiler!) { RedirectStandardError = true, RedirectStandardOutput = true };
        string kit = System.IO.Path.Combine(root, "kits", "c");
        foreach (var a in new[] { "-O2", "-std=gnu11", "-Wall", "-Wextra", "-pthread", $"-I{kit}", "-o", output,
                                  System.IO.Path.Combine(root, "examples", "live-linux", "live.c"), System.IO.Path.Combine(kit, "kmm.c") })
            psi.ArgumentList.Add(a);
        using var cc = Process.Start(psi)!;
        string stdout = cc.StandardOutput.ReadToEndAsync().Result;
        string errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        if (cc.ExitCode != 0) return (null, $"{Compiler} failed on examples/live-linux/live.c:\n{stdout}{errors}");
        // A warning is a defect of the example (it is built with -Wall -Wextra on every CI machine).
        return errors.Length > 0 ? (null, $"{Compiler} warned on examples/live-linux/live.c:\n{errors}") : (output, null);
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Conformance.sln) not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that runs only where the live kernel can be a test subject (<see cref="LiveLinuxProgram.WhyNot"/>).</summary>
internal sealed class LiveKernelFactAttribute : FactAttribute
{
    public LiveKernelFactAttribute()
    {
        if (LiveLinuxProgram.WhyNot is { } reason) Skip = reason;
    }
}

/// <summary>The live-kernel tests run one at a time: each boots real processes.</summary>
[CollectionDefinition("LiveKernel", DisableParallelization = true)]
public sealed class LiveKernelCollection;
