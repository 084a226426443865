using System.Diagnostics;
using KernelMm.Conformance.Parallel;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// Whether this machine shows races right now: two of the harness's CPUs increment one plain int
/// without synchronisation and look for a lost update, for at most two seconds. On a two-core machine
/// shared with heavy builds (load averages of 30 and more were seen here) two threads are rarely on
/// cores at the same time, and then no race can show, in the suite or anywhere. The racy teeth tests
/// assert "caught, or the machine could not show this kind of race at all", so they fail when the suite
/// misses races the machine demonstrably shows, and say so when it shows none.
/// </summary>
internal static class MachineParallelism
{
    private static readonly Lazy<(bool Shows, int Runs, double Seconds)> Probe = new(Measure);

    public static bool ShowsRaces => Probe.Value.Shows;

    public static string Describe() =>
        $"a calibration race (two CPUs, plain increments) {(Probe.Value.Shows ? "showed" : "did not show")} a lost update in {Probe.Value.Runs} runs ({Probe.Value.Seconds:F1} s)";

    private static (bool, int, double) Measure()
    {
        using var pool = new CpuPool(2);
        var clock = Stopwatch.StartNew();
        int runs = 0;
        while (clock.Elapsed.TotalSeconds < 2)
        {
            runs++;
            var counter = new int[1];
            pool.Run(2, _ =>
            {
                for (int i = 0; i < 2000; i++) { int seen = counter[0]; counter[0] = seen + 1; }
            }, TimeSpan.FromSeconds(5));
            if (counter[0] != 4000) return (true, runs, clock.Elapsed.TotalSeconds);
        }
        return (false, runs, clock.Elapsed.TotalSeconds);
    }
}
