using KernelMm.Conformance.Parallel.Atomic;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// What a machine whose CPUs are the lanes of an out-of-process program (protocol 5, docs/protocol.md "CPU lanes")
/// offers the parallel families besides the contract. A call made on a <see cref="CpuPool"/> thread goes out on that
/// CPU's lane (CPU k on lane k mod <see cref="Lanes"/>), and the program runs different lanes on threads of its own,
/// at the same time. The families judge results with their own tickets, taken before a request is written and
/// after its answer is read: those intervals contain the real execution, so the pipe's latency cannot raise a
/// false alarm. The program's own times of each call ("ns") are used only as evidence that lanes ran together.
/// </summary>
public interface ICpuLanes
{
    /// <summary>How many lanes the program runs at once (its hello's "cpus").</summary>
    int Lanes { get; }

    /// <summary>Forgets the lanes' times so far: <see cref="Overlap"/> measures from here.</summary>
    void ClearOverlap();

    /// <summary>
    /// How long at least two lanes of the program ran at the same moment since <see cref="ClearOverlap"/>, from the
    /// program's own times of each call (<see cref="Stress.OverlapMeter"/>: a lane runs inside a call, and between
    /// two calls that follow within <see cref="Stress.OverlapMeter.MaxChunk"/>).
    /// </summary>
    TimeSpan Overlap();

    /// <summary>
    /// Runs <paramref name="ops"/> in order on the calling CPU's lane, all written to the program at once, so that its
    /// lane thread runs them back to back (one round trip per call would leave the lanes idle most of the time).
    /// <paramref name="answered"/>(i, result) is called as answer i is read, before answer i + 1 is read (results as
    /// <see cref="AtomicOp.Apply"/> gives them). The first error is raised once every answer is read; no answer after it
    /// is reported. Call it only on a pool thread.
    /// </summary>
    void RunAtomic(IReadOnlyList<AtomicOp> ops, Action<int, long> answered);

    /// <summary>
    /// Writes the operations of every CPU (<paramref name="perCpu"/>[k] on CPU k's lane) to the program in ONE write,
    /// before the CPUs start, so that its lanes all receive their work at the same moment and run together (CPUs that
    /// each write their own batch start them as far apart as the runner's threads are: a millisecond on a busy machine).
    /// Each CPU then reads its own answers with <see cref="AwaitAtomic"/>. Call it on the thread that starts the CPUs.
    /// </summary>
    LaneBatch[] PostAtomic(IReadOnlyList<IReadOnlyList<AtomicOp>> perCpu);

    /// <summary>Reads the answers of one posted batch in order, as <see cref="RunAtomic"/> does (on any thread).</summary>
    void AwaitAtomic(LaneBatch batch, Action<int, long> answered);
}

/// <summary>The requests of one CPU's operations, written to its lane by <see cref="ICpuLanes.PostAtomic"/>.</summary>
public sealed class LaneBatch
{
    internal LaneBatch(long[] ids, object[] operations)
    {
        Ids = ids;
        Operations = operations;
    }

    internal long[] Ids { get; }
    /// <summary>The wire operation of each request (OutOfProcess.WireOperation).</summary>
    internal object[] Operations { get; }
    public int Count => Ids.Length;
}
