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
    private readonly Queue<JsonDocument>[] _queues;
    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private int _pending;
    private bool _stopping;
    private readonly Action<int, JsonDocument> _answer;

    /// <param name="count">Lanes, each on its own thread.</param>
    /// <param name="answer">Answers one request on lane k (on that lane's thread): writes the whole answer line.</param>
    public Lanes(int count, Action<int, JsonDocument> answer)
    {
        _answer = answer;
        _queues = new Queue<JsonDocument>[count];
        _threads = new Thread[count];
        for (int k = 0; k < count; k++)
        {
            int lane = k;
            _queues[k] = new Queue<JsonDocument>();
            _threads[k] = new Thread(() => Loop(lane)) { IsBackground = true, Name = $"lane{lane}" };
            _threads[k].Start();
        }
    }

    public int Count => _queues.Length;

    /// <summary>Hands <paramref name="request"/> to lane <paramref name="lane"/> (it disposes it once answered).</summary>
    public void Post(int lane, JsonDocument request)
    {
        lock (_lock)
        {
            _pending++;
            _queues[lane].Enqueue(request);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Whether lane <paramref name="lane"/> has nothing more to do right now (its thread then flushes the answers).</summary>
    public bool Idle(int lane)
    {
        lock (_lock) return _queues[lane].Count == 0;
    }

    /// <summary>The lane's next request (blocking); null when stopping.</summary>
    private JsonDocument? Take(int lane)
    {
        lock (_lock)
        {
            while (_queues[lane].Count == 0 && !_stopping) Monitor.Wait(_lock);
            return _queues[lane].Count == 0 ? null : _queues[lane].Dequeue();
        }
    }

    /// <summary>The next request if one is already waiting on the lane, else null.</summary>
    public JsonDocument? TakeWaiting(int lane)
    {
        lock (_lock) return _queues[lane].Count > 0 ? _queues[lane].Dequeue() : null;
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
