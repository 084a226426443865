using System.Diagnostics;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Families.Heap;
using KernelMm.Conformance.Families.Pages;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Programs that crash, hang, print garbage, answer out of order or leak (examples/misbehaving):
/// the run completes, the misbehaviour is reported as a rule failure whose message names it, the
/// process is restarted, and the rest of the suite keeps running and passing.
/// </summary>
[Collection("OutOfProcess")]
public class ContainmentTests(NativePrograms programs, ITestOutputHelper output)
{
    private static readonly ulong[] TwoSizes = [64UL << 20, 128UL << 20];

    /// <summary>Runs the suite on two properties (64M and 128M); checks the run is contained and returns it.</summary>
    private (SuiteResult Result, ProcessFactoryStatistics Stats) RunContained(string[] command, ProcessFactoryOptions options, params string[] expected) =>
        RunContained(command, options, othersPass: true, expected);

    /// <summary>As above; <paramref name="charged"/> are rules the misbehaving call's own check may be charged with (they need not pass).</summary>
    private (SuiteResult Result, ProcessFactoryStatistics Stats) RunContained(string[] command, ProcessFactoryOptions options, string[] charged, params string[] expected) =>
        RunContained(command, options, othersPass: true, expected, charged);

    private (SuiteResult Result, ProcessFactoryStatistics Stats) RunContained(string[] command, ProcessFactoryOptions options, bool othersPass, string[] expected, string[]? charged = null)
    {
        var properties = new List<string>();
        using var factory = new ProcessFactory(command, options);
        var clock = Stopwatch.StartNew();
        var result = SuiteRunner.Run(factory, NativePrograms.Options(TwoSizes) with { Progress = properties.Add });
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s; {factory.Statistics}");
        foreach (var p in properties) output.WriteLine(p);
        output.WriteLine(NativePrograms.Describe(result));

        // Reported as failures of rules, each message naming the misbehaviour.
        var failures = result.Failures.ToList();
        Assert.NotEmpty(failures);
        foreach (var f in failures)
            foreach (var word in expected)
                Assert.Contains(word, f.Counterexample!.Message);
        // Contained: faults were seen, the process was restarted, and both properties ran to the end.
        Assert.True(factory.Statistics.Faults > 0);
        Assert.True(factory.Statistics.ProcessesStarted > 1);
        Assert.Equal(2, properties.Count);
        // The rules the misbehaviour does not touch were still checked, and passed.
        if (othersPass)
            foreach (var rule in new[] { "ADDR-1", "PAGE-7", "ZONE-1", "ZONE-2" }.Except(charged ?? []))
                Assert.Equal(RuleOutcome.Passed, result.Results.Single(r => r.Rule.Id == rule).Outcome);
        return (result, factory.Statistics);
    }

    [Fact]
    public void Crash_MidRun_IsReportedWithTheSignal()
    {
        var (result, _) = RunContained(programs.Misbehaving("crash", "--op", "freePages", "--after", "3"), new(), "crashed", "SIGSEGV", "freePages");
        // Charged to the check of the call that crashed (the free's, PAGE-4), which is the last step.
        Assert.Equal(["PAGE-4"], result.FailedRuleIds.Order());
        var ce = result.Failures.Single().Counterexample!;
        Assert.StartsWith("free_pages", ce.Trace[^1]);
        Assert.Contains("SIGSEGV", ce.Trace[^1]);
        Assert.StartsWith("pages.FreePages", ce.CSharp[^1]);
    }

    [Fact]
    public void Exit_MidRun_IsReportedWithTheExitCodeAndLastWords()
    {
        RunContained(programs.Misbehaving("exit", "--op", "getZeroedPage", "--after", "1"), new(), "exited with code 3", "giving up");
    }

    [Fact]
    public void Hang_IsCutByTheOperationTimeout()
    {
        var (result, stats) = RunContained(programs.Misbehaving("hang", "--op", "irqEnter"),
            new ProcessFactoryOptions { OperationTimeout = TimeSpan.FromMilliseconds(250) }, "did not answer", "250 ms", "irqEnter");
        Assert.IsType<ImplementationTimeoutException>(stats.LastFault);
        // Charged to the check of the call that hung (irq_enter's, GFP-5), not to the primary rule.
        Assert.Equal(["GFP-5"], result.FailedRuleIds.Order());
        Assert.StartsWith("irq_enter()", result.Failures.Single().Counterexample!.Trace[^1]);
    }

    [Fact]
    public void Garbage_IsAProtocolViolation()
    {
        RunContained(programs.Misbehaving("garbage", "--op", "getZeroedPage"), new(), "protocol violation", "not valid JSON", "Segmentation fault (core dumped)");
    }

    [Fact]
    public void WrongId_IsAProtocolViolation()
    {
        string[] checksOfVirtToPhys = ["ADDR-1", "ADDR-2", "ADDR-10", "PAGE-5"];
        var (result, _) = RunContained(programs.Misbehaving("wrong-id", "--op", "virtToPhys", "--after", "2"), new(), checksOfVirtToPhys, "protocol violation", "out of order");
        AssertChargedToTheCallThatMetIt(result, "virtToPhys");
    }

    [Fact]
    public void StaleAnswer_IsAProtocolViolation()
    {
        var (result, _) = RunContained(programs.Misbehaving("stale", "--op", "pageZone", "--after", "1"), new(), ["ZONE-1"], "protocol violation", "carries id");
        AssertChargedToTheCallThatMetIt(result, "pageZone");
    }

    /// <summary>
    /// The runner pipelines the queries the checks will ask about an answer behind the call (protocol 2
    /// references), so a broken answer to one of them is met by the next call the sequence makes: usually
    /// that query itself, but a query about a NULL answer is never asked, and then it is the next call of
    /// any kind. Either way the failure is charged to the check of the call that met it, that call is the
    /// last step of the counterexample, and the message names the request whose answer broke.
    /// </summary>
    private static void AssertChargedToTheCallThatMetIt(SuiteResult result, string brokenOp)
    {
        var pageRules = new PageFamily().RuleIds.Concat(new HeapFamily().RuleIds).ToHashSet();
        Assert.NotEmpty(result.Failures);
        Assert.All(result.Failures, f =>
        {
            Assert.Contains(f.Rule.Id, pageRules);
            Assert.Contains("ProtocolViolationException", f.Counterexample!.Trace[^1]);
            Assert.Contains($"\"op\":\"{brokenOp}\"", f.Counterexample.Message);
        });
    }

    [Fact]
    public void SnapshotThatDisagreesWithSingleQueries_IsAProtocolViolation()
    {
        // Every boot lies, so every sequence fails at its first step: nothing else can pass.
        RunContained(programs.Misbehaving("lie", "--op", "snapshot"), new(), othersPass: false, ["protocol violation", "\"snapshot\" disagrees"]);
    }

    [Fact]
    public void Leak_IsKilledAtTheMemoryLimit()
    {
        // 64 KiB more for every request, given back at each hello: every sequence of more than about a
        // hundred requests crosses 8 MiB, at the same request on a replay (the runner checks the memory
        // at fixed points of the request stream).
        var (_, stats) = RunContained(programs.Misbehaving("leak", "--leak-kib", "64", "--per-boot"),
            new ProcessFactoryOptions { MemoryLimitBytes = 8L << 20 }, "exceeded its memory limit", "above the limit of 8 MiB");
        Assert.IsType<ImplementationMemoryLimitException>(stats.LastFault);
    }

    [Fact]
    public void PortablePipes_PassTheCBuddyAndContainAHang()
    {
        // The stream-based channel used where the Linux descriptors are not available.
        var portable = new ProcessFactoryOptions { PortablePipes = true, OperationTimeout = TimeSpan.FromMilliseconds(250) };
        using (var factory = new ProcessFactory([programs.Buddy], portable))
        {
            var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Seed = 4, Sequences = 10, MaxSteps = 30 } });
            Assert.True(result.Failures.Count() == 0, NativePrograms.Describe(result));
        }
        using (var factory = new ProcessFactory(programs.Misbehaving("hang", "--op", "preemptDisable"), portable))
        {
            using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
            var e = Assert.Throws<ImplementationTimeoutException>(() => ((IExecutionContext)mm).PreemptDisable());
            Assert.Contains("did not answer", e.Message);
            Assert.Throws<ImplementationTimeoutException>(() => ((IPageAllocator)mm).FreeBlocks(Zone.Dma, 0));
        }
    }

    // ---- Boot failures: reported, and the runner stops restarting after three in a row -------------

    [Fact]
    public void CrashAtEveryBoot_IsReportedOnceAndStopsRestarting()
    {
        using var factory = new ProcessFactory(programs.Misbehaving("crash", "--op", "hello"));
        var clock = Stopwatch.StartNew();
        // One property at a time, so that "three boots in a row" is exact (in parallel, the boots in flight when the third fails add up to one more each).
        var result = SuiteRunner.Run(factory, NativePrograms.Options(TwoSizes) with { Parallelism = 1 });
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s; {factory.Statistics}\n{NativePrograms.Describe(result)}");
        var failure = Assert.Single(result.Failures);
        Assert.Equal("PAGE-1", failure.Rule.Id);
        Assert.Contains("boot failed", failure.Counterexample!.Message);
        Assert.Contains("SIGSEGV", failure.Counterexample.Message);
        Assert.Equal(3, factory.Statistics.ProcessesStarted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void HangAtBoot_IsCutByTheBootTimeout()
    {
        using var factory = new ProcessFactory(programs.Misbehaving("hang", "--op", "hello"),
            new ProcessFactoryOptions { BootTimeout = TimeSpan.FromMilliseconds(300) });
        var result = SuiteRunner.Run(factory, NativePrograms.Options());
        var failure = Assert.Single(result.Failures);
        Assert.Contains("boot failed", failure.Counterexample!.Message);
        Assert.Contains("did not answer", failure.Counterexample.Message);
        Assert.Equal(3, factory.Statistics.ProcessesStarted);
    }

    [Fact]
    public void ProgramThatCannotStart_IsRefusedUpFront()
    {
        Assert.Throws<ArgumentException>(() => new ProcessFactory("/nonexistent/implementation --flag"));
        Assert.Throws<ArgumentException>(() => new ProcessFactory("no-such-program-on-path-kmm"));
        Assert.Throws<ArgumentException>(() => new ProcessFactory("  "));
    }

    [Fact]
    public void ProgramThatIsNotExecutable_FailsAtBootAndIsReported()
    {
        string file = Path.Combine(Path.GetTempPath(), $"kmm-not-executable-{Guid.NewGuid():N}");
        File.WriteAllText(file, "not a program");
        try
        {
            using var factory = new ProcessFactory([file]);
            var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Sequences = 3, MaxSteps = 5 } });
            var failure = Assert.Single(result.Failures);
            Assert.Contains("could not start", failure.Counterexample!.Message);
        }
        finally { File.Delete(file); }
    }
}
