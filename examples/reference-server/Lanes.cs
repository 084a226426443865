using System.Buffers;
using System.Diagnostics;
using System.Text.Json;

namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// CPU lanes (protocol 5, docs/protocol.md "CPU lanes"): one thread per lane, each answering its own
/// lane's requests in their order, all at the same time (the reference is thread-safe for Smp and
/// AtomicT). The reading thread hands a request with "cpu" to its lane and reads on; a request without
/// "cpu" is a barrier: it waits until every request handed to a lane has been answered
/// (<see cref="Drain"/>). Each answer carries "ns", the lane thread's monotonic clock in nanoseconds
/// just before and just after the call.
/// </summary>
internal sealed class Lanes
{
    private readonly Queue<byte[]>[] _queues;
    /// <summary>Per lane: its thread is blocked waiting for work (then a post must wake it).</summary>
    private readonly bool[] _sleeping;
    /// <summary>Per lane, read without the lock by its spinning thread: requests waiting.</summary>
    private readonly int[] _waitingCount;
    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private int _pending;
    private bool _stopping;
    private readonly Action<int, JsonDocument> _answer;
    /// <summary>How long an idle lane thread spins for its next request before it blocks (a lane woken per request runs alone).</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 us

    /// <param name="count">Lanes, each on its own thread.</param>
    /// <param name="answer">Answers one request on lane k (on that lane's thread): writes the whole answer line.</param>
    public Lanes(int count, Action<int, JsonDocument> answer)
    {
        _answer = answer;
        _queues = new Queue<byte[]>[count];
        _sleeping = new bool[count];
        _waitingCount = new int[count];
        _threads = new Thread[count];
        for (int k = 0; k < count; k++)
        {
            int lane = k;
            _queues[k] = new Queue<byte[]>();
            _threads[k] = new Thread(() => Loop(lane)) { IsBackground = true, Name = $"lane{lane}" };
            _threads[k].Start();
        }
    }

    public int Count => _queues.Length;

    /// <summary>Hands the request line <paramref name="request"/> (a copy) to lane <paramref name="lane"/>; the lane's thread parses it.</summary>
    public void Post(int lane, byte[] request)
    {
        lock (_lock)
        {
            _pending++;
            _queues[lane].Enqueue(request);
            Volatile.Write(ref _waitingCount[lane], _queues[lane].Count);
            if (_sleeping[lane]) Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Whether lane <paramref name="lane"/> has nothing more to do right now (its thread then flushes the answers).</summary>
    public bool Idle(int lane) => Volatile.Read(ref _waitingCount[lane]) == 0;

    /// <summary>The lane's next request (spinning a little, then blocking); null when stopping.</summary>
    private JsonDocument? Take(int lane)
    {
        long until = Stopwatch.GetTimestamp() + SpinTicks;
        while (Volatile.Read(ref _waitingCount[lane]) == 0 && Stopwatch.GetTimestamp() < until && !_stopping) Thread.SpinWait(20);
        byte[] line;
        lock (_lock)
        {
            while (_queues[lane].Count == 0 && !_stopping)
            {
                _sleeping[lane] = true;
                Monitor.Wait(_lock);
                _sleeping[lane] = false;
            }
            if (_queues[lane].Count == 0) return null;
            line = _queues[lane].Dequeue();
            Volatile.Write(ref _waitingCount[lane], _queues[lane].Count);
        }
        return JsonDocument.Parse(line);
    }

    /// <summary>The next request if one is already waiting on the lane, else null.</summary>
    public JsonDocument? TakeWaiting(int lane)
    {
        byte[] line;
        lock (_lock)
        {
            if (_queues[lane].Count == 0) return null;
            line = _queues[lane].Dequeue();
            Volatile.Write(ref _waitingCount[lane], _queues[lane].Count);
        }
        return JsonDocument.Parse(line);
    }

    /// <summary>Marks <paramref name="n"/> requests answered.</summary>
    public void Answered(int n = 1)
    {
        lock (_lock)
        {
            _pending -= n;
            if (_pending == 0) Monitor.PulseAll(_lock);
        }
    }

    private void Loop(int lane)
    {
        while (Take(lane) is { } request) _answer(lane, request);
    }

    /// <summary>Waits until every request handed to a lane has been answered (a barrier request is next).</summary>
    public void Drain()
    {
        lock (_lock)
            while (_pending > 0) Monitor.Wait(_lock);
    }

    public void Stop()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(1));
    }

    /// <summary>The monotonic clock in nanoseconds (CLOCK_MONOTONIC on Linux).</summary>
    public static long Nanoseconds() =>
        Stopwatch.Frequency == 1_000_000_000 ? Stopwatch.GetTimestamp() : (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
}
