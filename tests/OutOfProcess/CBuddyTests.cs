using KernelMm.Conformance.OutOfProcess;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.OutOfProcess;

/// <summary>The C buddy allocator of examples/c-buddy, judged by the suite through the protocol.</summary>
[Collection("OutOfProcess")]
public class CBuddyTests(NativePrograms programs, ITestOutputHelper output)
{
    [Fact]
    public void CBuddy_X86_32_64MAnd1G_PassesEveryPageRuleTheReferencePasses()
    {
        using var factory = new ProcessFactory([programs.Buddy]);
        var options = NativePrograms.Options(64UL << 20, 1UL << 30);
        var result = SuiteRunner.Run(factory, options);
        output.WriteLine($"{result.Operations} checked operations in {result.Elapsed.TotalSeconds:0.00} s; {factory.Statistics}");

        Assert.True(result.Failures.Count() == 0, NativePrograms.Describe(result));
        Assert.Equal("buddy", result.Implementation);
        Assert.Equal("c-buddy", factory.DeclaredName);
        Assert.Equal(0, factory.Statistics.Faults);
        // Every rule the reference passes on the same sequences, the C implementation passes too.
        var reference = SuiteRunner.Run(new ReferenceFactory(), options);
        var passedByReference = reference.Results.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => r.Rule.Id).ToHashSet();
        var passedByC = result.Results.Where(r => r.Outcome == RuleOutcome.Passed).Select(r => r.Rule.Id).ToHashSet();
        Assert.Empty(passedByReference.Except(passedByC));
        // One process per property running at once served every boot: reset by "hello", never restarted.
        Assert.InRange(factory.Statistics.ProcessesStarted, 1, 2);
        Assert.True(factory.Statistics.Boots > 60);
    }

    [Fact]
    public void CBuddy_WithoutSnapshotOrBulkQueries_StillPasses()
    {
        // The same program through the two slower paths: pipelined single queries, and one request per call.
        foreach (var opts in new[] { new ProcessFactoryOptions { UseSnapshotFeature = false }, new ProcessFactoryOptions { UseBulkQueries = false } })
        {
            using var factory = new ProcessFactory([programs.Buddy], opts);
            var result = SuiteRunner.Run(factory, NativePrograms.Options() with { Settings = new RunSettings { Seed = 2, Sequences = 10, MaxSteps = 30 } });
            Assert.True(result.Failures.Count() == 0, NativePrograms.Describe(result));
        }
    }

    [Fact]
    public void CBuddy_OtherProfiles_Pass()
    {
        using var factory = new ProcessFactory([programs.Buddy]);
        var result = SuiteRunner.Run(factory, NativePrograms.Options(64UL << 20) with
        {
            Profiles = [Profiles.Linux2_4, Profiles.Bit64_8K],
            Settings = new RunSettings { Seed = 3, Sequences = 10, MaxSteps = 30 },
        });
        Assert.True(result.Failures.Count() == 0, NativePrograms.Describe(result));
        Assert.True(result.Operations > 200, $"{result.Operations} operations");
        Assert.Equal(2, result.Profiles.Count);
        Assert.True(factory.Statistics.Boots >= 20);
    }

    [Fact]
    public void CBuddy_HeapFamily_PassesEveryKmallocAndSlabRule_OnEveryProfile()
    {
        // The kmalloc and slab layer of examples/c-buddy (slab.c) through protocol 2.
        using var factory = new ProcessFactory([programs.Buddy]);
        var options = NativePrograms.Options(64UL << 20) with
        {
            Profiles = Profiles.All,
            Families = new HashSet<string> { "heap" },
            Settings = new RunSettings { Seed = 1, Sequences = 40, MaxSteps = 40 },
        };
        var result = SuiteRunner.Run(factory, options);
        output.WriteLine($"{result.Operations} checked operations in {result.Elapsed.TotalSeconds:0.00} s; {factory.Statistics}");
        Assert.True(!result.Failures.Any(), NativePrograms.Describe(result));
        Assert.Equal(Protocol.Latest, factory.ProtocolVersion);
        Assert.Equal(0, factory.Statistics.Faults);
        // Every KMAL and SLAB rule the reference passes on the same sequences, the C program passes too
        // (the main job's full campaign reaches all of them; this one is cut for CI time).
        var reference = SuiteRunner.Run(new ReferenceFactory(), options);
        var heap = (SuiteResult r) => r.Results.Where(x => x.Outcome == RuleOutcome.Passed && (x.Rule.Id.StartsWith("KMAL-") || x.Rule.Id.StartsWith("SLAB-")))
            .Select(x => $"{x.Rule.Id} {x.Profile}").ToHashSet();
        var byReference = heap(reference);
        Assert.True(byReference.Count > 60, $"{byReference.Count} heap rule x profile passes by the reference");
        Assert.Empty(byReference.Except(heap(result)));
    }

    [Fact]
    public void BrokenRedZone_IsCaughtAsSlab9()
    {
        using var factory = new ProcessFactory([programs.BrokenRedZone]);
        // An overrun needs a red-zone cache with a live object: longer sequences than the other tests.
        var result = SuiteRunner.Run(factory, NativePrograms.Options(64UL << 20) with
        {
            Families = new HashSet<string> { "heap" },
            Settings = new RunSettings { Seed = 1, Sequences = 60, MaxSteps = 100 },
        });
        output.WriteLine(NativePrograms.Describe(result));
        Assert.Equal(["SLAB-9"], result.FailedRuleIds);
    }

    [Fact]
    public void BrokenCoalesce_IsCaughtAsPage8()
    {
        using var factory = new ProcessFactory([programs.BrokenCoalesce]);
        var result = SuiteRunner.Run(factory, NativePrograms.Options());
        output.WriteLine(NativePrograms.Describe(result));
        Assert.Contains("PAGE-8", result.FailedRuleIds);
        Assert.Equal(["PAGE-8"], result.FailedRuleIds);
        Assert.Contains("did not coalesce", result.Failures.Single().Counterexample!.Message);
        Assert.Equal(0, factory.Statistics.Faults);
    }

    [Fact]
    public void BrokenFreeOrder_IsCaughtAsPage4()
    {
        using var factory = new ProcessFactory([programs.BrokenFreeOrder]);
        var result = SuiteRunner.Run(factory, NativePrograms.Options());
        output.WriteLine(NativePrograms.Describe(result));
        Assert.Equal(["PAGE-4"], result.FailedRuleIds);
        Assert.Contains("must be reported as PAGE-4", result.Failures.Single().Counterexample!.Message);
    }
}
