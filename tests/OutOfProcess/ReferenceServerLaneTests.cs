using System.Diagnostics;
using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using KernelMm.Tests.Parallel;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>
/// Protocol 5's CPU lanes (docs/protocol.md, "CPU lanes") against examples/reference-server, which runs a thread
/// per lane: the correct server passes ATOM-1 and the smp family over the wire with earned verdicts; the racy
/// atomic_t variant is caught as exactly ATOM-1; a program that breaks the lane rules (no "ns", one lane's answers
/// out of order, no or a bad "cpus") is reported as a protocol violation naming it; a protocol-4 server is judged
/// as before, atomic and smp n/a.
/// </summary>
[Collection(ParallelModeCollection.Name)]
public class ReferenceServerLaneTests(ITestOutputHelper output)
{
    /// <summary>How long a bounded search may look (it stops at the first success: seconds unless the machine is very busy).</summary>
    private static readonly TimeSpan Cap = AtomicFamilyTests.RaceCap;

    private static SuiteOptions Lanes(string families, ulong seed, int sequences) => new()
    {
        Profiles = [Profiles.X86_32],
        MemorySizes = [64UL << 20],
        Families = families.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(),
        Settings = new RunSettings { Seed = seed, Sequences = sequences },
    };

    private static string Rows(SuiteResult r) =>
        string.Join("; ", r.Results.Where(x => x.Outcome != RuleOutcome.NotApplicable).Select(x => $"{x.Rule.Id} {x.Outcome} ({x.Checks} checks)"));

    [Fact]
    public void CorrectServer_PassesAtomicAndSmp_OverProtocol5Lanes_WithEarnedVerdicts()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command());
        // A property's passes are earned only once the server's lanes were seen running together in it (their own "ns"
        // times); on a very busy machine that may take more than one small property: seeds 1, 2, ... until ATOM-1 (the
        // atomic family) and PAGE-1 (the smp family's allocations on the lanes) have each passed. No property may fail.
        var clock = Stopwatch.StartNew();
        bool atomic = false, smp = false;
        for (ulong seed = 1; !(atomic && smp) && clock.Elapsed < Cap; seed++)
        {
            var result = SuiteRunner.Run(factory, Lanes((atomic ? "" : "atomic,") + (smp ? "" : "smp"), seed, 8));
            output.WriteLine($"seed {seed}: {Rows(result)}; {factory.Statistics}");
            Assert.True(!result.Failures.Any(), NativePrograms.Describe(result));
            Assert.DoesNotContain(result.Results, r => r.Outcome is RuleOutcome.Failed or RuleOutcome.Blocked);
            atomic |= result.Results.Any(r => r.Rule.Id == "ATOM-1" && r.Outcome == RuleOutcome.Passed);
            smp |= result.Results.Any(r => r.Rule.Id == "PAGE-1" && r.Outcome == RuleOutcome.Passed);
        }
        Assert.True(atomic && smp, $"no earned pass in {clock.Elapsed.TotalSeconds:F0} s (atomic: {atomic}, smp: {smp}): the server's lanes were never seen running together");
        Assert.Equal(5, factory.ProtocolVersion);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void RacyAtomicServer_IsCaughtOverTheLanes_AsExactlyATOM_1()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--fault", "racy-atomic"));
        var clock = Stopwatch.StartNew();
        SuiteResult? failed = null;
        int tries = 0;
        while (failed is null && clock.Elapsed < Cap)
        {
            var result = SuiteRunner.Run(factory, Lanes("atomic", (ulong)++tries, 4));
            if (result.FailedRuleIds.Count > 0) failed = result;
        }
        Assert.True(failed is not null, $"the racy server was not caught in {tries} properties ({clock.Elapsed.TotalSeconds:F0} s)");
        Assert.Equal(["ATOM-1"], failed!.FailedRuleIds);
        var ce = failed.Failures.Single().Counterexample!;
        output.WriteLine($"caught after {tries} properties: {ce.Message}");
        Assert.Matches("conservation: |distinct returns: |last reference: |couldn't linearise", ce.Message);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    /// <summary>Runs <paramref name="call"/> on CPU 0 of a pool (so on lane 0); what it raised.</summary>
    private static Exception? OnCpu0(Action call)
    {
        using var pool = new CpuPool(2);
        Exception? raised = null;
        Assert.True(pool.Run(1, _ =>
        {
            try { call(); }
            catch (Exception e) { raised = e; }
        }, TimeSpan.FromSeconds(60)));
        return raised;
    }

    [Fact]
    public void LaneAnswerWithoutNs_IsAProtocolViolation()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--fault", "no-ns"));
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var atomic = (IAtomicT)mm;
        atomic.AtomicSet(0, 5); // a barrier request: no "cpu", no "ns" needed
        var e = Assert.IsType<ProtocolViolationException>(OnCpu0(() => atomic.AtomicIncReturn(0)));
        output.WriteLine(e.Message);
        Assert.Contains("has no \"ns\"", e.Message);
        Assert.Contains("\"cpu\":0", e.Message);
    }

    [Fact]
    public void LaneAnswersOutOfTheLanesOrder_AreAProtocolViolation()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--fault", "lane-order"));
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var lanes = (ICpuLanes)mm;
        Assert.Equal(4, lanes.Lanes);
        var ops = Enumerable.Repeat(new AtomicOp(AtomicOpKind.IncReturn, 0), 16).ToList();
        var e = Assert.IsType<ProtocolViolationException>(OnCpu0(() => lanes.RunAtomic(ops, (_, _) => { })));
        output.WriteLine(e.Message);
        Assert.Contains("in that lane's request order", e.Message);
    }

    /// <summary>A lane program in a few lines of Python that misbehaves on its first lane request.</summary>
    private const string Hostile = """
        import json, sys, time
        for line in sys.stdin:
            r = json.loads(line)
            if r["op"] == "hello":
                print(json.dumps({"id": r["id"], "ok": True, "protocol": 5, "cpus": 2, "capabilities": ["AtomicT"]}))
            elif "cpu" in r and sys.argv[1] == "wrong-id":
                print(json.dumps({"id": r["id"] + 1000, "ok": True, "value": 1, "ns": [1, 2]}))
            elif "cpu" in r:
                sys.exit(3)
            else:
                print(json.dumps({"id": r["id"], "ok": True, "value": 1}))
            sys.stdout.flush()
        """;

    [Theory]
    [InlineData("wrong-id", typeof(ProtocolViolationException), "which is no lane request awaiting its answer")]
    [InlineData("exit", typeof(ImplementationCrashedException), "exited with code 3")]
    public void ALaneProgramThatAnswersAnUnknownIdOrDies_IsReported_NotAHang(string how, Type expected, string says)
    {
        using var factory = new ProcessFactory(["python3", "-c", Hostile, how]);
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var atomic = (IAtomicT)mm;
        Assert.Equal(1, atomic.AtomicCounters); // a barrier: answered as before
        var e = OnCpu0(() => atomic.AtomicIncReturn(0));
        Assert.IsType(expected, e);
        output.WriteLine(e!.Message);
        Assert.Contains(says, e.Message);
    }

    [Theory]
    [InlineData("0", "no \"cpus\"")]
    [InlineData("1", "\"cpus\":1")]
    [InlineData("9", "\"cpus\":9")]
    public void MissingOrBadCpus_IsABootFailureNamingIt(string cpus, string named)
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--cpus", cpus));
        using var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!;
        var e = Assert.IsType<ProtocolViolationException>(Record.Exception(() => ((IPageAllocator)mm).GetFreePages(Gfp.Kernel, 0)));
        output.WriteLine(e.Message);
        Assert.Contains(named, e.Message);
        Assert.Contains("AtomicT and Smp", e.Message);
        Assert.Contains("boot failed", e.Message);
    }

    [Fact]
    public void ServerSpeakingProtocol4_IsJudgedAsBefore_AtomicAndSmpNotApplicable()
    {
        using var factory = new ProcessFactory(ReferenceServerTests.Command("--protocol", "4"));
        using (var mm = factory.Create(Profiles.X86_32.WithMemory(64UL << 20))!)
        {
            Assert.Equal(4, factory.ProtocolVersion);
            Assert.DoesNotContain(Capability.AtomicT, mm.Capabilities);
            Assert.DoesNotContain(Capability.Smp, mm.Capabilities);
            Assert.Null(mm as ICpuLanes is { Lanes: > 0 } ? mm : null);
        }
        var result = SuiteRunner.Run(factory, Lanes("atomic,smp", 1, 4));
        var atom = result.Results.Single(r => r.Rule.Id == "ATOM-1");
        Assert.Equal(RuleOutcome.NotApplicable, atom.Outcome);
        Assert.Contains("not declared: AtomicT", atom.Reason);
        Assert.Contains("CPU lanes", atom.Reason);
        Assert.Equal(0, result.Sequences);
        Assert.Empty(result.Failures);
    }
}
