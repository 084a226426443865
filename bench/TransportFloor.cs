using System.Diagnostics;
using System.Globalization;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// <c>--transport [--program PATH] [--seconds N]</c>: the protocol's own floor on this machine: requests to the
/// echo program (bench/echo), which does no work, one at a time (a round trip each) and pipelined in
/// bursts of 8, 64 and 512 requests per write, with the runner's read spin on and off.
/// </summary>
internal static class TransportFloor
{
    public static int Run(string[] args)
    {
        string program = Program.Option(args, "--program") ?? BuildEcho();
        double seconds = double.Parse(Program.Option(args, "--seconds") ?? "1", CultureInfo.InvariantCulture);
        Console.WriteLine($"transport floor: {program}, {Environment.ProcessorCount} logical CPU(s)");
        Console.WriteLine($"{"spin",-6} {"burst",6} {"requests/s",14} {"us/request",11} {"us/round trip",14} {"runner CPU us/req",18} {"program CPU us/req",19} {"CPU us/round trip",18}");
        foreach (var spin in new[] { TimeSpan.FromMicroseconds(50), TimeSpan.Zero })
            foreach (int burst in new[] { 1, 8, 64, 512 })
            {
                var (perSecond, perTrip, cpu, programCpu) = Measure(program, burst, spin, seconds);
                Console.WriteLine($"{(spin > TimeSpan.Zero ? "50us" : "off"),-6} {burst,6} {perSecond,14:N0} {1e6 / perSecond,11:0.00} {perTrip,14:0.00} {cpu,18:0.00} {programCpu,19:0.00} {(cpu + programCpu) * burst,18:0.00}");
            }
        return 0;
    }

    /// <summary>
    /// CPU time a process has run so far, from /proc/PID/schedstat (nanoseconds on the CPU; Linux), or
    /// null. Unlike getrusage of waited-for children, it can be read while the program runs.
    /// </summary>
    internal static TimeSpan? ProcessCpu(int pid)
    {
        try
        {
            var first = File.ReadAllText($"/proc/{pid}/schedstat").Split(' ')[0];
            return TimeSpan.FromTicks(long.Parse(first, CultureInfo.InvariantCulture) / 100);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    internal static (double PerSecond, double MicrosPerTrip, double CpuMicrosPerRequest, double ProgramCpuMicrosPerRequest) Measure(string program, int burst, TimeSpan spin, double seconds)
    {
        var options = new ProcessFactoryOptions { ReadSpin = spin };
        using var p = ImplementationProcess.Start(program, [], options, new ProcessFactoryStatistics(), "echo");
        p.Hello(Profiles.X86_32.WithMemory(64UL << 20), TimeSpan.FromSeconds(10), null);
        var ids = new long[burst];
        void Trip()
        {
            for (int i = 0; i < burst; i++)
            {
                ids[i] = p.Begin("freeBlocks"u8);
                p.Writer.Ascii("zone"u8, "Normal"u8);
                p.Writer.Number("order"u8, 3);
                p.End();
            }
            p.Send(TimeSpan.FromSeconds(5));
            for (int i = 0; i < burst; i++) p.Receive(ids[i]);
        }
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 0.3;) Trip();
        long trips = 0;
        var programCpu = ProcessCpu(p.Pid);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds) { Trip(); trips++; }
        double elapsed = clock.Elapsed.TotalSeconds;
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        double programMicros = ProcessCpu(p.Pid) is { } after && programCpu is { } before ? (after - before).TotalMicroseconds : double.NaN;
        double requests = trips * burst;
        return (requests / elapsed, elapsed * 1e6 / trips, cpu.TotalMicroseconds / requests, programMicros / requests);
    }

    /// <summary>Compiles bench/echo/echo.c with gcc -O2 into the temp directory.</summary>
    internal static string BuildEcho()
    {
        string source = Path.Combine(FindRoot(), "bench", "echo", "echo.c");
        string output = Path.Combine(Path.GetTempPath(), $"kmm-echo-{Environment.ProcessId}");
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true };
        foreach (var a in new[] { "-O2", "-std=c11", "-o", output, source }) psi.ArgumentList.Add(a);
        using var gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed:\n{errors}");
        return output;
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root (Conformance.sln) not found");
    }
}
