using System.Diagnostics;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Hostile input through the program entry point (issue 7 §3): what a program writes on its pipes
/// or does to its processes ends in a typed fault, bounded runner memory and no process left behind.
/// </summary>
[Collection("OutOfProcess")]
public class HostileProgramTests(NativePrograms programs, ITestOutputHelper output)
{
    private static readonly Profile X86_64M = Profiles.X86_32.WithMemory(64UL << 20);

    [Fact]
    public void InvalidUtf8_InTheHelloName_IsAProtocolViolation_AndTheRunGoesOn()
    {
        using var factory = new ProcessFactory(programs.Misbehaving("bad-utf8", "--op", "hello"));
        var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Sequences = 3, MaxSteps = 5 } });
        var failure = Assert.Single(result.Failures);
        Assert.Contains("boot failed", failure.Counterexample!.Message);
        Assert.Contains("not valid UTF-8 (byte 0xff", failure.Counterexample.Message);
        Assert.IsType<ProtocolViolationException>(factory.Statistics.LastFault);
    }

    [Fact]
    public void InvalidUtf8_InAnErrorMessage_MidRun_IsAProtocolViolation()
    {
        // Answers that carry a "message" (every error) get the byte 0xff in it.
        using var factory = new ProcessFactory(programs.Misbehaving("bad-utf8", "--op", "freePages"));
        using var mm = factory.Create(X86_64M)!;
        var pages = (IPageAllocator)mm;
        var e = Assert.Throws<ProtocolViolationException>(() => pages.FreePages(0xc0001000, 0));
        Assert.Contains("not valid UTF-8", e.Message);
        Assert.Throws<ProtocolViolationException>(() => pages.GetFreePages(Gfp.Kernel, 0)); // the instance stays faulted
    }

    [Fact]
    public void StderrTail_KeepsTheHeadOfAHugeLine_AndCountsTheRest()
    {
        var tail = new StderrTail();
        var chunk = new byte[1 << 16];
        Array.Fill(chunk, (byte)'x');
        for (int i = 0; i < 100; i++) tail.Feed(chunk);
        string unfinished = tail.Text();
        Assert.Contains($"... ({100 << 16} bytes so far, no newline)", unfinished);
        Assert.True(unfinished.Length < 400, unfinished.Length.ToString());
        tail.Feed("\nlast words\n"u8);
        tail.Feed([0xff, 0xfe, (byte)'\n']);
        var lines = tail.Text().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.EndsWith($"... ({100 << 16} bytes)", lines[0]);
        Assert.Equal("last words", lines[1]);
        Assert.Equal("\uFFFD\uFFFD", lines[2]);
        for (int i = 0; i < 100; i++) tail.Feed("line\n"u8);
        Assert.Equal(StderrTail.MaxLines, tail.Text().Split('\n').Length);
    }

    [Fact]
    public void ForkedChildHoldingThePipes_IsKilledWithItsProcessGroup()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), $"kmm-orphan-{Guid.NewGuid():N}");
        int child = 0;
        try
        {
            using var factory = new ProcessFactory(programs.Misbehaving("fork-child", "--op", "getZeroedPage", "--pid-file", pidFile));
            using var mm = factory.Create(X86_64M)!;
            var e = Assert.Throws<ImplementationCrashedException>(() => ((IPageAllocator)mm).GetZeroedPage(Gfp.Kernel));
            output.WriteLine(e.Details());
            Assert.Contains("exited with code 4", e.Message);
            Assert.Contains("leaving a process it started holding its standard output", e.Message);
            Assert.Contains("leaving a child behind", e.StandardErrorTail);
            child = int.Parse(File.ReadAllText(pidFile).Trim());
            // The child outlived its parent and was re-parented, out of the runner's process tree: only its
            // process group still ties it to the program, and that is what the runner killed.
            Assert.True(WaitGone(child), $"the child {child} is still running");
        }
        finally
        {
            File.Delete(pidFile);
            if (child > 0 && !WaitGone(child, 0)) Process.GetProcessById(child).Kill(); // only if the test failed: our own child, by pid
        }
    }

    /// <summary>Whether the process is gone (or a zombie nobody reaped yet) within the wait.</summary>
    private static bool WaitGone(int pid, int milliseconds = 3000)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            try
            {
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return true; }
            Thread.Sleep(20);
        } while (clock.ElapsedMilliseconds < milliseconds);
        return false;
    }

    [Theory]
    [InlineData(15, "SIGTERM")]
    [InlineData(9, "SIGKILL")]
    [InlineData(6, "SIGABRT")]
    public void DeathBySignal_TheRunnerDidNotSend_SaysSo_WithTheLastStderrLines(int signal, string name)
    {
        using var factory = new ProcessFactory(programs.Misbehaving("signal", "--signal", signal.ToString(), "--op", "freePages"));
        using var mm = factory.Create(X86_64M)!;
        var pages = (IPageAllocator)mm;
        ulong addr = pages.GetFreePages(Gfp.Kernel, 0);
        var e = Assert.Throws<ImplementationCrashedException>(() => pages.FreePages(addr, 0));
        output.WriteLine(e.Details());
        Assert.Contains($"was killed by signal {signal} ({name}), which the runner did not send", e.Message);
        Assert.Contains($"dying from signal {signal}", e.Message);
        Assert.Equal(signal, e.Signal);
        Assert.False(e.SignalSentByRunner);
        Assert.Equal(128 + signal, e.ExitCode);
    }

    [Fact]
    public void DeathBySignal_InASuiteRun_KeepsTheSignalInTheReport()
    {
        using var factory = new ProcessFactory(programs.Misbehaving("signal", "--signal", "15", "--op", "freePages", "--after", "2"));
        var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Sequences = 6, MaxSteps = 30 } });
        var failure = Assert.Single(result.Failures);
        Assert.Contains("killed by signal 15 (SIGTERM), which the runner did not send", failure.Counterexample!.Message);
        Assert.Contains("dying from signal 15", failure.Counterexample.Message);
    }

    [Fact]
    public void AHungProgram_IsKilledByTheRunner_AndTheReportDoesNotBlameAnotherSender()
    {
        using var factory = new ProcessFactory(programs.Misbehaving("hang", "--op", "irqEnter"),
            new ProcessFactoryOptions { OperationTimeout = TimeSpan.FromMilliseconds(300) });
        using var mm = factory.Create(X86_64M)!;
        var e = Assert.Throws<ImplementationTimeoutException>(() => ((IExecutionContext)mm).IrqEnter());
        Assert.DoesNotContain("did not send", e.Message);
    }
}

/// <summary>The stderr flood measures the test process's allocations, so it runs alone.</summary>
[Collection("OutOfProcessAlone")]
public class StderrFloodTests(NativePrograms programs, ITestOutputHelper output)
{
    private static readonly Profile X86_64M = Profiles.X86_32.WithMemory(64UL << 20);

    [Fact]
    public void OneHugeStderrLine_CostsTheRunnerBoundedMemory()
    {
        // 100 MB on standard error as one line, then normal answers: the runner keeps a few KiB of it.
        const long flood = 100L << 20;
        // The answer comes after the flood, so its time is the pipe's: generous, as this test is about memory, not speed
        // (at load ~50 the default 2 s once ran out).
        using var factory = new ProcessFactory(programs.Misbehaving("stderr-flood", "--op", "getFreePages", "--bytes", flood.ToString()),
            new ProcessFactoryOptions { OperationTimeout = TimeSpan.FromSeconds(60) });
        using var mm = factory.Create(X86_64M)!;
        var pages = (IPageAllocator)mm;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        ulong addr = pages.GetFreePages(Gfp.Kernel, 0);
        Assert.NotEqual(0UL, addr);
        var process = ((RemoteMachine)mm).Process!;
        var clock = Stopwatch.StartNew();
        while (process.StandardErrorBytes < flood && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        output.WriteLine($"{process.StandardErrorBytes} bytes of stderr read, {allocated / 1048576.0:0.0} MiB allocated meanwhile");
        Assert.Equal(flood, process.StandardErrorBytes);
        Assert.True(allocated < 32L << 20, $"the runner allocated {allocated / 1048576.0:0.0} MiB while a 100 MB stderr line went by");
        pages.FreePages(addr, 0);
        Assert.Equal(0, factory.Statistics.Faults);
    }
}
