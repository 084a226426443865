using System.Diagnostics;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// What pipelining buys, counted rather than timed: round trips per checked operation against the C
/// example, with protocol 2's references and the suite's announced queries, against protocol 1's
/// way (every query its own round trip). Checked operations per second are printed, not asserted
/// (the machine's load decides them); bench --oop measures them (bench/README.md).
/// </summary>
[Collection("OutOfProcess")]
public class ThroughputTests(NativePrograms programs, ITestOutputHelper output)
{
    [Fact]
    public void RoundTripsPerCheckedOperation_StayNearOne()
    {
        var options = NativePrograms.Options(512UL << 20) with { Settings = new RunSettings { Seed = 1, Sequences = 15, MaxSteps = 40 } };
        SuiteRunner.Run(new ReferenceFactory(), options); // warm-up (JIT)
        var reference = SuiteRunner.Run(new ReferenceFactory(), options);
        output.WriteLine($"reference, in process:     {reference.Operations,6} checked ops in {reference.Elapsed.TotalSeconds:0.000} s = {reference.Operations / reference.Elapsed.TotalSeconds,9:N0} ops/s");

        (SuiteResult Result, ProcessFactoryStatistics Stats) Run(string what, ProcessFactoryOptions o)
        {
            using var factory = new ProcessFactory([programs.Buddy], o);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var r = SuiteRunner.Run(factory, options);
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var s = factory.Statistics;
            output.WriteLine($"{what,-26} {r.Operations,6} checked ops in {r.Elapsed.TotalSeconds:0.000} s = {r.Operations / r.Elapsed.TotalSeconds,9:N0} ops/s; " +
                             $"{(double)s.Requests / r.Operations:0.00} requests and {(double)s.Exchanges / r.Operations:0.00} round trips per op (runner CPU {cpu.TotalMicroseconds / r.Operations:0.0} us per op)");
            Assert.Empty(r.Failures);
            return (r, s);
        }
        var pipelined = Run("c-buddy, protocol 2:", new ProcessFactoryOptions { CountRoundTripsByOperation = true });
        var single = Run("c-buddy, no references:", new ProcessFactoryOptions { UseReferences = false });

        // Same program, same sequences, same checks: only the round trips differ.
        Assert.Equal(single.Result.Operations, pipelined.Result.Operations);
        double perOp = (double)pipelined.Stats.Exchanges / pipelined.Result.Operations;
        double before = (double)single.Stats.Exchanges / single.Result.Operations;
        Assert.True(perOp < 1.35, $"{perOp:0.00} round trips per checked operation");
        Assert.True(perOp < before * 0.6, $"references: {perOp:0.00} round trips per op, without: {before:0.00}");

        // What each round trip was for (bench --oop --trips): every one counted once, by its first request.
        var byFirst = pipelined.Stats.RoundTripsByFirstOperation;
        output.WriteLine("round trips per op by first request: " + string.Join(", ", byFirst.OrderByDescending(kv => kv.Value)
            .Select(kv => $"{kv.Key} {(double)kv.Value / pipelined.Result.Operations:0.000}")));
        Assert.Equal(pipelined.Stats.Exchanges, byFirst.Values.Sum());
        Assert.True(byFirst["hello"] >= pipelined.Stats.Boots, $"{byFirst["hello"]} hello round trips, {pipelined.Stats.Boots} boots");
        Assert.Contains("allocPages", byFirst.Keys);
        Assert.Empty(single.Stats.RoundTripsByFirstOperation); // not counted unless asked
    }
}
