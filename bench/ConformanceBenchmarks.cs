using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using KernelMm.Conformance.Running;

namespace KernelMm.Benchmarks;

/// <summary>
/// The conformance engine in-process: one PropertyRunner run of the page family against the
/// reference on x86-32/512M, fixed seed, 50 sequences (FsCheck generation, a fresh kernel per
/// sequence, every check). The "Checked ops/s" column divides the operations one run checks
/// (deterministic for the fixed seed) by the mean time. Target: 500,000 checked operations/s.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ConformanceConfig))]
public class ConformanceBenchmarks
{
    private RunSettings _settings = null!;

    [GlobalSetup]
    public void Setup() => _settings = Workloads.ConformanceSettings();

    [Benchmark]
    public long PageFamily_X86_32_512M_50Sequences()
    {
        var outcome = Workloads.RunPageFamily(_settings);
        if (outcome.Failures.Count > 0)
            throw new InvalidOperationException($"the reference failed {string.Join(", ", outcome.Failures.Keys)}: the run measured shrinking, not checking");
        return outcome.Operations;
    }
}

public sealed class ConformanceConfig : ManualConfig
{
    public ConformanceConfig() => AddColumn(new CheckedOpsColumn());
}

/// <summary>Checked operations per second; the operation count is recomputed once in the host process (same seed, same count).</summary>
public sealed class CheckedOpsColumn : IColumn
{
    public string Id => nameof(CheckedOpsColumn);
    public string ColumnName => "Checked ops/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Checked conformance operations per second ({Workloads.ConformanceSequences} sequences, seed {Workloads.ConformanceSeed}, operations per run counted in-process)";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null || stats.Mean <= 0) return "NA";
        long ops = Workloads.ConformanceOperationsPerRun;
        return $"{ops / (stats.Mean / 1e9):N0} ({ops:N0} ops/run)";
    }
}

/// <summary>Adds an operations-per-second column (pairs/s for the pair benchmarks) to the allocator benchmarks.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(StatisticColumn.OperationsPerSecond);
}
