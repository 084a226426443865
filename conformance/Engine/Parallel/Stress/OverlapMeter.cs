using System.Diagnostics;

namespace KernelMm.Conformance.Parallel.Stress;

/// <summary>
/// How long at least two stress threads really ran at the same moment, measured after the fact from
/// timestamps each thread takes every few operations. A gap between two stamps of one thread that is
/// short (below <see cref="MaxChunk"/>) means the thread was on a core for all of it; a longer gap
/// means it was (probably) preempted, and the gap counts as not running. The overlap is the time
/// during which two or more threads were inside short gaps together: only then can a race show. On a
/// busy two-core machine it is a small fraction of the wall time, which is why the stress runs until
/// it has seen enough overlap rather than for a fixed number of operations.
/// </summary>
public sealed class OverlapMeter
{
    /// <summary>A gap between two stamps longer than this is taken for a preemption.</summary>
    public static readonly TimeSpan MaxChunk = TimeSpan.FromMicroseconds(50);

    /// <summary>One thread's stamps (a separate object per thread, so that threads never share a cache line).</summary>
    public sealed class Lane(int capacity)
    {
        private readonly long[] _stamps = new long[capacity];
        private int _count;

        /// <summary>Records now; stamps beyond the capacity are dropped (the overlap is then underestimated, never overestimated).</summary>
        public void Stamp()
        {
            if (_count < _stamps.Length) _stamps[_count++] = Stopwatch.GetTimestamp();
        }

        /// <summary>Records <paramref name="timestamp"/> (Stopwatch ticks), taken elsewhere: an out-of-process lane's own time of a call.</summary>
        public void StampAt(long timestamp)
        {
            if (_count < _stamps.Length) _stamps[_count++] = timestamp;
        }

        public void Clear() => _count = 0;
        internal ReadOnlySpan<long> Stamps => _stamps.AsSpan(0, _count);
    }

    private readonly Lane[] _lanes;

    public OverlapMeter(int threads, int capacity)
    {
        _lanes = new Lane[threads];
        for (int i = 0; i < threads; i++) _lanes[i] = new Lane(capacity);
    }

    public Lane this[int cpu] => _lanes[cpu];

    public void Clear()
    {
        foreach (var lane in _lanes) lane.Clear();
    }

    /// <summary>The time during which at least two threads ran together, since the last <see cref="Clear"/>.</summary>
    public TimeSpan Overlap()
    {
        long maxChunk = (long)(MaxChunk.TotalSeconds * Stopwatch.Frequency);
        var events = new List<(long Time, int Delta)>();
        foreach (var lane in _lanes)
        {
            var s = lane.Stamps;
            for (int i = 1; i < s.Length; i++)
                if (s[i] - s[i - 1] is > 0 and var gap && gap <= maxChunk)
                {
                    events.Add((s[i - 1], +1));
                    events.Add((s[i], -1));
                }
        }
        // Ends before starts at the same instant: touching intervals do not overlap.
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Delta.CompareTo(b.Delta));
        long together = 0;
        int running = 0;
        long since = 0;
        foreach (var (time, delta) in events)
        {
            if (running >= 2) together += time - since;
            running += delta;
            since = time;
        }
        return TimeSpan.FromSeconds(together / (double)Stopwatch.Frequency);
    }
}
