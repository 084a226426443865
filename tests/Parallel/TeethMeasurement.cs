using System.Diagnostics;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// The measurement behind bench/README.md's "Parallel mode" figures, too long for CI (minutes): run
/// it with <c>KMM_MEASURE=1 dotnet test tests --filter TeethMeasurement</c>. For each broken variant
/// and each of 20 run seeds it walks the default run's properties (every profile and RAM size, 100
/// programs of 3 runs each, the same programs the CLI's default run makes for that seed) until one
/// reports the fault; then it runs each correct implementation for at least 200 parallel runs per
/// family and requires no report at all.
/// </summary>
public class TeethMeasurement(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("KMM_MEASURE") == "1";
    private const int Seeds = 20;

    public static TheoryData<string> Broken => new() { "atomic/NonAtomicAdd", "atomic/DecAndTestBeforeDecrement", "atomic/AddNegativeWrongSign", "smp/UnsynchronisedFreeList", "smp/KmallocCpuCacheWithoutLock" };

    private static (IImplementationFactory Factory, string Family) Variant(string name) => name switch
    {
        "atomic/NonAtomicAdd" => (new CasAtomicFactory(AtomicFault.NonAtomicAdd), "atomic"),
        "atomic/DecAndTestBeforeDecrement" => (new CasAtomicFactory(AtomicFault.DecAndTestBeforeDecrement), "atomic"),
        "atomic/AddNegativeWrongSign" => (new CasAtomicFactory(AtomicFault.AddNegativeWrongSign), "atomic"),
        "smp/UnsynchronisedFreeList" => (new PcpPagesFactory(sharedUnlocked: true), "smp"),
        _ => (new KmallocCpuCacheFactory(sharedUnlocked: true), "smp"),
    };

    [SkippableTheoryIfNotMeasuring]
    [MemberData(nameof(Broken))]
    public void Broken_variant_is_caught_within_the_default_run(string name)
    {
        var (factory, family) = Variant(name);
        int caught = 0;
        var properties = new List<int>();
        var clock = Stopwatch.StartNew();
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            int k = 0;
            bool found = false;
            foreach (var profile in Profiles.All)
            {
                foreach (var memory in Profiles.StandardMemorySizes)
                {
                    k++;
                    var result = SuiteRunner.Run(factory, new SuiteOptions
                    {
                        Profiles = [profile], MemorySizes = [memory], Families = new HashSet<string> { family },
                        Settings = new RunSettings { Seed = seed },
                    });
                    if (result.FailedRuleIds.Count > 0) { found = true; break; }
                }
                if (found) break;
            }
            if (found) { caught++; properties.Add(k); }
            output.WriteLine($"{name} seed {seed}: {(found ? $"caught by property {k} of 16" : "not caught in 16 properties")}");
        }
        output.WriteLine($"{name}: caught in {caught} of {Seeds} default runs; properties needed: median {(properties.Count > 0 ? properties.Order().ElementAt(properties.Count / 2) : 0)}, max {(properties.Count > 0 ? properties.Max() : 0)}; {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(caught >= Seeds * 3 / 4, $"{name} caught in only {caught} of {Seeds} default runs");
    }

    public static TheoryData<string> Correct => new() { "atomic/reference", "atomic/cas-atomic", "smp/reference", "smp/pcp-pages", "smp/kmalloc-cpu-cache" };

    [SkippableTheoryIfNotMeasuring]
    [MemberData(nameof(Correct))]
    public void Correct_implementation_is_never_flagged(string name)
    {
        string family = name[..name.IndexOf('/')];
        IImplementationFactory factory = name switch
        {
            "atomic/cas-atomic" => new CasAtomicFactory(),
            "smp/pcp-pages" => new PcpPagesFactory(),
            "smp/kmalloc-cpu-cache" => new KmallocCpuCacheFactory(),
            _ => new ReferenceFactory(),
        };
        int runs = 0;
        var clock = Stopwatch.StartNew();
        for (ulong seed = 1; seed <= 4; seed++)
        {
            var result = SuiteRunner.Run(factory, new SuiteOptions
            {
                Profiles = [Profiles.X86_32, Profiles.Linux6], MemorySizes = [64UL << 20, 1UL << 30], Families = new HashSet<string> { family },
                Settings = new RunSettings { Seed = seed },
            });
            runs += result.Sequences;
            Assert.True(result.FailedRuleIds.Count == 0, $"{name} flagged (seed {seed}):\n{ParallelRuns.Explain(result)}");
        }
        output.WriteLine($"{name}: {runs} parallel runs, none flagged; {clock.Elapsed.TotalSeconds:F0} s ({runs / clock.Elapsed.TotalSeconds:F0} runs/s)");
        Assert.True(runs >= 200);
    }

    /// <summary>A theory that runs only when KMM_MEASURE=1 (skipped with the reason otherwise).</summary>
    private sealed class SkippableTheoryIfNotMeasuringAttribute : TheoryAttribute
    {
        public SkippableTheoryIfNotMeasuringAttribute()
        {
            if (!Enabled) Skip = "a measurement of several minutes: run with KMM_MEASURE=1 (see bench/README.md, Parallel mode)";
        }
    }
}
