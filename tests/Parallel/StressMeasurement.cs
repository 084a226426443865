using System.Diagnostics;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel;
using KernelMm.Conformance.Parallel.Atomic;
using KernelMm.Conformance.Parallel.Smp;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Conformance.Running;
using KernelMm.Reference;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using Xunit.Abstractions;

namespace KernelMm.Tests.Parallel;

/// <summary>
/// The measurement behind bench/README.md's "Parallel mode: stress" figures (minutes, not CI): run it with
/// <c>KMM_MEASURE=1 KMM_MEASURE_TRIALS=50 dotnet test tests --filter StressMeasurement</c>, under whatever load
/// the machine has. For each racy variant and each trial it measures, on a fresh machine (x86-32/64M):
/// "before", one property's generated programs alone (30 programs x 3 runs, the former opt-in teeth
/// test's unit, no stress), and "after", one stress with the property's budget. Then each correct
/// implementation's stress runs as many times and must never be flagged.
/// </summary>
public class StressMeasurement(ITestOutputHelper output)
{
    private static readonly int Trials = int.TryParse(Environment.GetEnvironmentVariable("KMM_MEASURE_TRIALS"), out int n) ? n : 50;
    private static readonly Profile Machine = Profiles.X86_32.WithMemory(64UL << 20);

    public static TheoryData<string> Racy => new() { "atomic/NonAtomicAdd", "atomic/DecAndTestBeforeDecrement", "smp/UnsynchronisedFreeList", "smp/KmallocCpuCacheWithoutLock" };
    public static TheoryData<string> Correct => new() { "atomic/reference", "atomic/cas-atomic", "smp/reference", "smp/pcp-pages", "smp/kmalloc-cpu-cache" };

    internal static IImplementationFactory Factory(string name) => name switch
    {
        "atomic/NonAtomicAdd" => new CasAtomicFactory(AtomicFault.NonAtomicAdd),
        "atomic/DecAndTestBeforeDecrement" => new CasAtomicFactory(AtomicFault.DecAndTestBeforeDecrement),
        "smp/UnsynchronisedFreeList" => new PcpPagesFactory(sharedUnlocked: true),
        "smp/KmallocCpuCacheWithoutLock" => new KmallocCpuCacheFactory(sharedUnlocked: true),
        "atomic/cas-atomic" => new CasAtomicFactory(),
        "smp/pcp-pages" => new PcpPagesFactory(),
        "smp/kmalloc-cpu-cache" => new KmallocCpuCacheFactory(),
        _ => new ReferenceFactory(),
    };

    private static string Stress(string name, ulong seed, out string effort)
    {
        var factory = Factory(name);
        using var cpus = new CpuPool();
        using var mm = factory.Create(Machine)!;
        StressOutcome? outcome;
        try
        {
            outcome = name.StartsWith("atomic/")
                ? new AtomicFamily().RunStress(mm, cpus, seed, new CheckScope(), ParallelPropertyRunner.StressBudget, ParallelPropertyRunner.RunTimeout)
                : new SmpFamily().RunStress(mm, cpus, seed, new CheckScope(), ParallelPropertyRunner.StressBudget, ParallelPropertyRunner.RunTimeout);
        }
        catch (RuleViolation v) { effort = "raised"; return $"{v.RuleId}: {v.Detail}"; }
        catch (Exception e) { effort = "raised"; return $"{(name.StartsWith("atomic/") ? "ATOM-1" : "PAGE-1")}: raised {e.GetType().Name} (the runner charges it to the family's crash rule)"; }
        effort = outcome!.Effort;
        return outcome.Violation is { } violation ? $"{violation.RuleId}: {violation.Detail}" : "";
    }

    /// <summary>One property's programs without the stress: the first failing run's rule, or "".</summary>
    private static string Programs<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, ulong seed) where TOp : notnull
    {
        var settings = new RunSettings { Seed = seed, Sequences = 120 };
        IReadOnlySet<Capability> declared;
        using (var probe = factory.Create(Machine)!) declared = probe.Capabilities.ToHashSet();
        for (int i = 0; i < ParallelPropertyRunner.Programs(settings); i++)
        {
            var program = family.Generate(new Random(unchecked((int)seed * 7919 + i)), Machine, settings, declared);
            if (ParallelReplay.FirstFailure(family, factory, Machine, program, runs: ParallelPropertyRunner.Repeats) is { } f) return f;
        }
        return "";
    }

    [SkippableTheoryIfNotMeasuring]
    [MemberData(nameof(Racy))]
    public void Racy_variant_detection_before_and_after(string name)
    {
        var factory = Factory(name);
        int before = 0, after = 0;
        var beforeTime = new Stopwatch();
        var afterTime = new Stopwatch();
        var rules = new Dictionary<string, int>();
        for (ulong t = 1; t <= (ulong)Trials; t++)
        {
            beforeTime.Start();
            string b = name.StartsWith("atomic/") ? Programs(new AtomicFamily(), factory, t) : Programs(new SmpFamily(), factory, t);
            beforeTime.Stop();
            afterTime.Start();
            string a = Stress(name, t, out var effort);
            afterTime.Stop();
            if (b.Length > 0) before++;
            if (a.Length > 0)
            {
                after++;
                string rule = a[..a.IndexOf(':')];
                rules[rule] = rules.GetValueOrDefault(rule) + 1;
            }
            output.WriteLine($"{name} trial {t}: programs {(b.Length > 0 ? "caught" : "missed")}; stress {(a.Length > 0 ? a[..Math.Min(a.Length, 200)] : "missed")} [{effort}]");
        }
        output.WriteLine($"SUMMARY {name}: load {Load()}; programs alone caught it in {before} of {Trials} ({beforeTime.Elapsed.TotalSeconds / Trials:F2} s each); "
                         + $"one stress caught it in {after} of {Trials} ({afterTime.Elapsed.TotalSeconds / Trials:F2} s each), as {string.Join(", ", rules.Select(r => $"{r.Key} x{r.Value}"))}");
        Assert.True(after > 0, $"{name}: no stress caught it");
    }

    [SkippableTheoryIfNotMeasuring]
    [MemberData(nameof(Correct))]
    public void Correct_implementation_stress_is_never_flagged(string name)
    {
        var clock = Stopwatch.StartNew();
        for (ulong t = 1; t <= (ulong)Trials; t++)
        {
            string a = Stress(name, t, out var effort);
            output.WriteLine($"{name} trial {t}: {effort}");
            Assert.True(a.Length == 0, $"{name} flagged in stress trial {t}: {a}");
        }
        output.WriteLine($"SUMMARY {name}: load {Load()}; {Trials} stresses, none flagged ({clock.Elapsed.TotalSeconds / Trials:F2} s each)");
    }

    [SkippableTheoryIfNotMeasuring]
    [InlineData(2, 250, 1000)]
    [InlineData(2, 250, 0)]
    [InlineData(4, 250, 1000)]
    [InlineData(4, 250, 0)]
    [InlineData(2, 1000, 0)]
    [InlineData(4, 1000, 0)]
    [InlineData(2, 2000, 0)]
    [InlineData(4, 2000, 0)]
    public void Overlap_per_second(int cpus, int roundMicros, int restMicros)
    {
        var tuning = new StressTuning { Cpus = cpus, Round = TimeSpan.FromMicroseconds(roundMicros), Rest = TimeSpan.FromMicroseconds(restMicros), OverlapTarget = TimeSpan.FromSeconds(10) };
        var lines = new List<string>();
        for (int t = 1; t <= 3; t++)
        {
            using var pool = new CpuPool();
            using var mm = new CasAtomicKernel(Machine);
            var o = AtomicStress.Run(mm, pool, (ulong)t, new CheckScope(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), tuning);
            lines.Add($"{o.Overlap.TotalMilliseconds:F1} ms/{o.Rounds} rounds");
        }
        output.WriteLine($"SUMMARY cpus {cpus} round {roundMicros} us rest {restMicros} us: load {Load()}: overlap per 1 s: {string.Join("; ", lines)}");
    }

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
