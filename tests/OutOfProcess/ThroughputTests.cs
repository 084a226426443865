using System.Diagnostics;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Checked operations per second: the C buddy through the protocol against the in-process reference,
/// on the same settings. Printed, not asserted (the machine's load decides); the report's numbers
/// come from a Release build of the same comparison.
/// </summary>
[Collection("OutOfProcess")]
public class ThroughputTests(NativePrograms programs, ITestOutputHelper output)
{
    [Fact]
    public void CheckedOperationsPerSecond_CBuddyOutOfProcess_VersusReferenceInProcess()
    {
        var options = NativePrograms.Options(512UL << 20);
        SuiteRunner.Run(new ReferenceFactory(), options); // warm-up (JIT)
        var reference = SuiteRunner.Run(new ReferenceFactory(), options);

        using var factory = new ProcessFactory([programs.Buddy]);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var c = SuiteRunner.Run(factory, options);
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var s = factory.Statistics;

        output.WriteLine($"reference, in process:  {reference.Operations,6} checked ops in {reference.Elapsed.TotalSeconds:0.000} s = {reference.Operations / reference.Elapsed.TotalSeconds,9:N0} ops/s");
        output.WriteLine($"c-buddy, out of process: {c.Operations,6} checked ops in {c.Elapsed.TotalSeconds:0.000} s = {c.Operations / c.Elapsed.TotalSeconds,9:N0} ops/s");
        output.WriteLine($"  {s}; {(double)s.Requests / c.Operations:0.00} requests and {(double)s.Exchanges / c.Operations:0.00} round trips per checked op, " +
                         $"{c.Elapsed.TotalMicroseconds / s.Exchanges:0.0} us per round trip (runner CPU {cpu.TotalMicroseconds / s.Exchanges:0.0} us)");
        Assert.Empty(reference.Failures);
        Assert.Empty(c.Failures);
        Assert.True(c.Operations > 1000);
    }
}
