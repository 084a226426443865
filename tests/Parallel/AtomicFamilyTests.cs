using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// ATOM-1 has teeth: each broken atomic_t is reported as exactly ATOM-1 (the racy ones by the stress,
/// usually in the first property; the sequential one by the linearizability check, in the first property), and the
/// two correct ones are never flagged. The detection rates are bench/README.md's ("Parallel mode: stress").
/// </summary>
[Collection(ParallelModeCollection.Name)]
public class AtomicFamilyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>How long a racy variant's test may look (it stops at the first catch: about a second unless the machine is very busy).</summary>
    internal static readonly TimeSpan RaceCap = TimeSpan.FromSeconds(40);

    [Theory]
    [InlineData(AtomicFault.NonAtomicAdd)]
    [InlineData(AtomicFault.DecAndTestBeforeDecrement)]
    public void Racy_atomic_is_reported_as_exactly_ATOM_1(AtomicFault fault)
    {
        var (failed, tries, elapsed) = ParallelRuns.UntilCaught(new CasAtomicFactory(fault), "atomic", RaceCap);
        Assert.True(failed is not null, $"{fault} was not caught in {tries} properties ({elapsed.TotalSeconds:F0} s, each with a stress of up to 250 ms)");
        Assert.Equal(["ATOM-1"], failed!.FailedRuleIds);
        var ce = failed.Failures.Single().Counterexample!;
        // Caught by the stress (the usual case) or by a generated program: either names the broken behaviour.
        Assert.Matches(fault == AtomicFault.NonAtomicAdd ? "conservation: |distinct returns: |couldn't linearise" : "last reference: |couldn't linearise", ce.Message);
        Assert.NotEmpty(ce.Trace);
    }

    [Theory]
    [InlineData(AtomicFault.AddNegativeWrongSign, 1)]
    public void Sequential_fault_is_reported_as_exactly_ATOM_1_by_the_linearizability_check(AtomicFault fault, int attempts)
    {
        var (failed, tries) = ParallelRuns.UntilCaught(new CasAtomicFactory(fault), "atomic", attempts);
        Assert.True(failed is not null, $"{fault} was not caught in {tries} properties");
        Assert.Equal(["ATOM-1"], failed!.FailedRuleIds);
        var ce = failed.Failures.Single().Counterexample!;
        output.WriteLine(ce.Message);
        Assert.StartsWith("couldn't linearise the ", ce.Message);
        Assert.Contains("parallel run, ", ce.Message);
        Assert.NotEmpty(ce.Trace);
        Assert.Contains(ce.CSharp, l => l.Contains("System.Threading.Thread"));
    }

    [Fact]
    public void Sequential_fault_shrinks_to_a_few_steps_on_one_cpu_and_reproduces_every_time()
    {
        // A sequential fault needs no lucky interleaving: the prefix's zero crossings (one CPU) show it in every property.
        var (caught, _) = ParallelRuns.UntilCaught(new CasAtomicFactory(AtomicFault.AddNegativeWrongSign), "atomic", 1);
        var result = Assert.IsType<SuiteResult>(caught);
        var ce = Assert.Single(result.Failures).Counterexample!;
        output.WriteLine(ce.Message);
        // The shrinker has 4 s: on an idle machine that reaches 4 steps on one CPU; at load 50 it still makes progress.
        Assert.True(ce.ShrunkSteps < ce.OriginalSteps, $"{ce.OriginalSteps} steps not shrunk:\n{ParallelRuns.Explain(result)}");
        Assert.Matches(@"\d CPU\(s\); \d+ of 40 re-runs of the shrunk case failed", ce.Message);
        Assert.Contains("atomic_add_negative", ce.Message);
        Assert.Contains("returned true, but from v", ce.Message);
    }

    /// <summary>
    /// Why one seed is enough for a sequential fault: about half of the generated programs end their prefix (run by
    /// one CPU, so its results have a single order) with a call whose new value is exactly 0 or -1, and a quarter
    /// with atomic_add_negative to exactly 0. Before, only the Sign scenario's few prefix calls reached 0 by chance,
    /// and a property of seed 1 missed `&lt;= 0` whenever the branches' interleavings happened to explain it.
    /// </summary>
    [Fact]
    public void Every_property_has_sequential_calls_that_land_exactly_on_zero()
    {
        var family = new KernelMm.Conformance.Parallel.Atomic.AtomicFamily();
        var settings = new RunSettings { Seed = 1, Sequences = 120 };
        foreach (var profile in KernelMm.Spec.Profiles.Profiles.All)
        {
            ulong seed = PropertyRunner.DeriveSeed(settings.Seed, $"atomic/{profile.Label}");
            int programs = ParallelPropertyRunner.Programs(settings), addNegativeToZero = 0;
            for (int i = 0; i < programs; i++)
            {
                ulong programSeed = PropertyRunner.DeriveSeed(seed, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var program = family.Generate(new Random(unchecked((int)programSeed ^ (int)(programSeed >> 32))), profile, settings, new HashSet<Capability>());
                var values = new Dictionary<int, int>();
                foreach (var op in program.Prefix.Select(s => s.Op))
                {
                    var (next, _) = AtomicModel.Apply(values.GetValueOrDefault(op.Counter), op);
                    if (op.Kind == AtomicOpKind.AddNegative && next == 0) addNegativeToZero++;
                    values[op.Counter] = next;
                }
            }
            Assert.True(addNegativeToZero >= 3, $"{profile.Label}: {addNegativeToZero} sequential atomic_add_negative calls to exactly 0 in {programs} programs");
        }
    }

    [Fact]
    public void Reference_and_lock_free_atomics_pass()
    {
        foreach (var factory in new IImplementationFactory[] { new ReferenceFactory(), new CasAtomicFactory() })
        {
            var result = ParallelRuns.Run(factory, "atomic", 1);
            Assert.True(result.FailedRuleIds.Count == 0, ParallelRuns.Explain(result));
            var row = result.Results.Single(r => r.Rule.Id == "ATOM-1");
            Assert.Equal(RuleOutcome.Passed, row.Outcome);
            Assert.True(row.Checks > 0);
        }
    }

    [Fact]
    public void Lock_free_atomics_offer_fewer_counters_and_the_suite_adapts()
    {
        using var mm = new CasAtomicKernel(KernelMm.Spec.Profiles.Profiles.X86_32);
        Assert.Equal(3, mm.AtomicCounters);
        Assert.Throws<InvalidArgumentException>(() => mm.AtomicRead(3));
    }
}
