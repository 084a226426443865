[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("KernelMm.Tests")]
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("KernelMm.Benchmarks")]

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>How <see cref="ProcessFactory"/> starts, talks to and contains an implementation program.</summary>
public sealed record ProcessFactoryOptions
{
    /// <summary>Working directory of the program; null: the runner's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Extra environment variables for the program.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Name for reports (<see cref="ProcessFactory.Name"/>); null: the executable's file name.</summary>
    public string? Name { get; init; }

    /// <summary>Longest wait for the answer to one operation (including any requests pipelined with it).</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest wait for a boot: starting the process (when needed) and the answer to "hello".</summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest life of one booted instance (one generated sequence), wall clock; null: unlimited.</summary>
    public TimeSpan? InstanceTimeout { get; init; }

    /// <summary>
    /// Keep one process across boots and reset it with a new "hello" (fast); false starts a fresh
    /// process for every boot (for programs that cannot reset themselves).
    /// </summary>
    public bool ReuseProcess { get; init; } = true;

    /// <summary>
    /// Resident memory (RSS) above which the program is killed as leaking (Linux, /proc/PID/statm of
    /// the program itself, not its children). Checked before every 32nd request, so that a leak is
    /// found at the same request when the sequence is replayed, and every 100 ms while an answer is
    /// awaited. Null: 1 GiB plus twice the booted profile's RAM. 0 or less: no limit.
    /// </summary>
    public long? MemoryLimitBytes { get; init; }

    /// <summary>
    /// Answer buddyinfo, page-cache, sleep and context queries from one bulk query per state change
    /// ("snapshot" when the program offers it, else one pipelined burst of single queries) instead
    /// of one round trip each, and pipeline /proc/slabinfo behind a state change when the suite used
    /// it since the previous one. False sends every contract call as its own request.
    /// </summary>
    public bool UseBulkQueries { get; init; } = true;

    /// <summary>Use the "snapshot" request when the program offers it (only with <see cref="UseBulkQueries"/>).</summary>
    public bool UseSnapshotFeature { get; init; } = true;

    /// <summary>
    /// Pipeline the pure queries the suite asks about an answer (page_to_pfn of a page alloc_pages
    /// returned, ksize of a kmalloc object, ...) right behind the call, as references to its answer,
    /// when the program offers the "references" feature: one round trip instead of several.
    /// </summary>
    public bool UseReferences { get; init; } = true;

    /// <summary>
    /// On the first snapshot after each boot, also ask every single query and check that both
    /// agree (a "snapshot" that disagrees with freeBlocks is a protocol violation).
    /// </summary>
    public bool CrossCheckSnapshot { get; init; } = true;

    /// <summary>
    /// How long the runner busy-polls for an answer before it sleeps in poll(2) (Linux). A spin saves
    /// a scheduler wake-up per round trip when a core is idle for it; zero (the default) never spins:
    /// with several programs at once, or on a shared machine, the spin costs more CPU than it saves
    /// (measured: bench --oop).
    /// </summary>
    public TimeSpan ReadSpin { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Programs run at once when the suite runs several properties in parallel (<see cref="Running.IConcurrentFactory"/>):
    /// each waits most of its time on pipes, so more of them than cores keeps both the runner and the programs busy.
    /// 1 runs one property at a time.
    /// </summary>
    public int MaxConcurrency { get; init; } = Math.Max(1, System.Environment.ProcessorCount * 2);

    /// <summary>Counts round trips by the operation of their first request (<see cref="ProcessFactoryStatistics.RoundTripsByFirstOperation"/>; for analysis, off by default).</summary>
    public bool CountRoundTripsByOperation { get; init; }

    /// <summary>Requests kept for fault reports.</summary>
    public int HistoryLength { get; init; } = 16;

    /// <summary>
    /// After this many boots in a row fail, stop trying: later boots fail at once with the last boot
    /// fault. Counted per profile and RAM size once the program has booted at least once (so one
    /// size it cannot handle does not stop the others), for the whole program before that.
    /// </summary>
    public int MaxConsecutiveBootFailures { get; init; } = 3;

    /// <summary>Longest response line accepted (reads of up to 16 MiB fit); longer is a protocol violation.</summary>
    public int MaxLineBytes { get; init; } = 40 << 20;

    /// <summary>
    /// Linux: run the program in a process group of its own (through setsid(1)), so that a fault or the
    /// end of the run kills everything it started, by process group. False runs it in the runner's group
    /// (its descendants are then found through /proc, which misses one that outlived its parent).
    /// </summary>
    public bool OwnProcessGroup { get; init; } = true;

    /// <summary>Use the portable stream-based pipes even on Linux (tests of the fallback).</summary>
    internal bool PortablePipes { get; init; }
}
