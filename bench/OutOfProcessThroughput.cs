using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;

namespace KernelMm.Benchmarks;

/// <summary>
/// <c>--oop [--sequences N] [--concurrency C,...] [--repeat R] [--spin US] [--profile NAME] [--memory 64M,...] [--family F,...] [--no-reference] [--trips]</c>:
/// checked operations per second of the conformance suite against the C example (examples/c-buddy,
/// built with gcc -O2) through the protocol, beside the in-process reference on the same run and the
/// transport floor (bench/echo). Reports wall time, the runner's CPU and the programs' CPU (the
/// machine is shared: CPU time is the steadier figure), requests and round trips per checked operation.
/// </summary>
internal static class OutOfProcessThroughput
{
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicros, SystemSeconds, SystemMicros;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc.so.6", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    /// <summary>CPU time of the runner's terminated, waited-for children.</summary>
    private static TimeSpan ChildrenCpu()
    {
        if (!OperatingSystem.IsLinux() || getrusage(-1, out var u) != 0) return TimeSpan.Zero;
        return TimeSpan.FromMicroseconds((u.UserSeconds + u.SystemSeconds) * 1e6 + u.UserMicros + u.SystemMicros);
    }

    public static int Run(string[] args)
    {
        int sequences = int.Parse(Program.Option(args, "--sequences") ?? "100", CultureInfo.InvariantCulture);
        var concurrency = (Program.Option(args, "--concurrency") ?? $"1,{Environment.ProcessorCount * 2}").Split(',').Select(int.Parse).ToArray();
        double spin = double.Parse(Program.Option(args, "--spin") ?? "-1", CultureInfo.InvariantCulture);
        var options = new SuiteOptions
        {
            Profiles = Program.Option(args, "--profile") is { } p ? [Profiles.Get(p)] : Profiles.All,
            MemorySizes = Program.Option(args, "--memory") is { } m ? m.Split(',').Select(ParseSize).ToArray() : Profiles.StandardMemorySizes,
            Families = Program.Option(args, "--family") is { } f ? new HashSet<string>(f.Split(',')) : new HashSet<string>(),
            Settings = new RunSettings { Seed = 1, Sequences = sequences },
        };
        string buddy = BuildBuddy();
        Console.WriteLine($"out-of-process throughput: {Environment.ProcessorCount} logical CPU(s), load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}, " +
                          $"{options.Profiles.Count} profile(s) x {options.MemorySizes.Count} size(s), {sequences} sequences");

        // In process, for comparison (after a warm-up run for the JIT).
        if (!args.Contains("--no-reference")) InProcess(options, sequences);

        int repeat = int.Parse(Program.Option(args, "--repeat") ?? "1", CultureInfo.InvariantCulture);
        foreach (int c in concurrency.SelectMany(c => Enumerable.Repeat(c, repeat)))
        {
            var po = new ProcessFactoryOptions { MaxConcurrency = c, CountRoundTripsByOperation = args.Contains("--trips") };
            if (spin >= 0) po = po with { ReadSpin = TimeSpan.FromMicroseconds(spin) };
            var runnerCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var childCpu = ChildrenCpu();
            SuiteResult result;
            ProcessFactoryStatistics stats;
            using (var factory = new ProcessFactory([buddy], po))
            {
                result = SuiteRunner.Run(factory, options);
                stats = factory.Statistics;
            }
            runnerCpu = Process.GetCurrentProcess().TotalProcessorTime - runnerCpu;
            childCpu = ChildrenCpu() - childCpu;
            Report($"c-buddy, {c} program(s) at once", result, runnerCpu, childCpu, stats);
            if (result.Failures.Any()) Console.WriteLine($"  FAILURES: {string.Join(", ", result.FailedRuleIds)}");
            if (args.Contains("--trips"))
                Console.WriteLine("  round trips per op by first request: " + string.Join(", ", stats.RoundTripsByFirstOperation
                    .OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value / (double)result.Operations:0.000}")));
        }
        return 0;
    }

    private static void InProcess(SuiteOptions options, int sequences)
    {
        SuiteRunner.Run(new ReferenceFactory(), options with { Settings = options.Settings with { Sequences = Math.Max(5, sequences / 10) } });
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var reference = SuiteRunner.Run(new ReferenceFactory(), options);
        var referenceCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        Report("reference, in process", reference, referenceCpu, TimeSpan.Zero, null);
    }

    private static void Report(string what, SuiteResult r, TimeSpan runnerCpu, TimeSpan childCpu, ProcessFactoryStatistics? s)
    {
        double ops = r.Operations, wall = r.Elapsed.TotalSeconds;
        double cpu = (runnerCpu + childCpu).TotalSeconds;
        Console.WriteLine($"{what,-34} {ops,9:N0} ops  {wall,7:0.00} s  {ops / wall,9:N0} ops/s   CPU runner {runnerCpu.TotalSeconds:0.00} s + program {childCpu.TotalSeconds:0.00} s " +
                          $"= {ops / cpu,9:N0} ops per CPU-second" +
                          (s is null ? "" : $"   {s.Requests / ops:0.00} requests, {s.Exchanges / ops:0.00} round trips per op"));
        // The figure that survives a shared machine: CPU per checked operation, and what it projects for
        // a quiet machine whose every core runs either the runner or a program (enough programs at once).
        Console.WriteLine($"{"",-34} CPU per op: runner {runnerCpu.TotalMicroseconds / ops:0.0} us + program {childCpu.TotalMicroseconds / ops:0.0} us = {cpu * 1e6 / ops:0.0} us; " +
                          $"projected on {Environment.ProcessorCount} quiet core(s): {Environment.ProcessorCount * ops / cpu:N0} ops/s");
    }

    private static ulong ParseSize(string s) =>
        s.EndsWith('G') ? ulong.Parse(s[..^1]) << 30 : s.EndsWith('M') ? ulong.Parse(s[..^1]) << 20 : ulong.Parse(s);

    /// <summary>Compiles examples/c-buddy on the C kit with gcc -O2 into the temp directory.</summary>
    internal static string BuildBuddy()
    {
        string root = TransportFloor.FindRoot();
        string output = Path.Combine(Path.GetTempPath(), $"kmm-buddy-{Environment.ProcessId}");
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true };
        foreach (var a in new[] { "-O2", "-std=c11", $"-I{Path.Combine(root, "kits", "c")}", "-o", output,
                     Path.Combine(root, "examples", "c-buddy", "buddy.c"), Path.Combine(root, "examples", "c-buddy", "slab.c"), Path.Combine(root, "examples", "c-buddy", "atomic.c"), Path.Combine(root, "kits", "c", "kmm.c"), "-pthread" })
            psi.ArgumentList.Add(a);
        using var gcc = Process.Start(psi)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc failed:\n{errors}");
        return output;
    }
}
