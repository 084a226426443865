using System.Diagnostics;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// The harness's CPUs: up to <see cref="MaxCpus"/> long-lived threads that run one branch each and
/// start together. Threads are made once per property run and reused by every parallel run in it
/// (making threads costs more than a short run), so many short runs are cheap. Each run starts on a
/// spinning barrier: every thread announces itself and spins until all have, so the branches really
/// overlap whenever the machine has the cores free (a blocking barrier would wake them one by one).
/// A run that does not finish in time (a deadlocked implementation) is abandoned with its threads;
/// the pool is then spent and the next run gets a new one.
/// </summary>
public sealed class CpuPool : IDisposable
{
    public const int MaxCpus = 4;
    /// <summary>Busy-wait rounds at the start barrier between two yields (some tens of microseconds).</summary>
    private const int SpinsPerYield = 64;
    /// <summary>How long an idle thread spins for the next run before it blocks.</summary>
    private static readonly TimeSpan SpinBeforeBlocking = TimeSpan.FromMilliseconds(0.2);

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly CountdownEvent _done = new(0);
    private Action<int>? _work;
    private int _count;
    private int _arrived;
    private int _go;
    /// <summary>Per CPU, the last time it was seen spinning at the start barrier (one cache line each).</summary>
    private readonly long[] _heartbeat = new long[MaxCpus * HeartbeatStride];
    private const int HeartbeatStride = 16;
    /// <summary>A heartbeat this recent means the thread is on a core now.</summary>
    private static readonly TimeSpan FreshHeartbeat = TimeSpan.FromMicroseconds(4);
    /// <summary>How long the barrier waits for the threads to be on cores together before starting anyway.</summary>
    private static readonly TimeSpan StartPatience = TimeSpan.FromMilliseconds(20);
    private volatile bool _stopping;

    public CpuPool(int cpus = MaxCpus)
    {
        if (cpus is < 1 or > MaxCpus) throw new ArgumentOutOfRangeException(nameof(cpus), $"1..{MaxCpus} CPUs");
        _threads = new Thread[cpus];
        _wake = new SemaphoreSlim[cpus];
        for (int i = 0; i < cpus; i++)
        {
            int cpu = i;
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => Loop(cpu)) { IsBackground = true, Name = $"kmm-cpu{cpu}" };
            _threads[i].Start();
        }
    }

    public int Cpus => _threads.Length;

    [ThreadStatic] private static int t_cpu;

    /// <summary>
    /// The CPU the calling thread is while it runs a branch of a pool (0..<see cref="MaxCpus"/>-1), or -1 on any
    /// other thread. An out-of-process machine sends a call made here on that CPU's lane (docs/protocol.md, "CPU lanes").
    /// </summary>
    public static int Current => t_cpu - 1;

    /// <summary>True once a run timed out: its threads may still be inside the implementation.</summary>
    public bool Spent { get; private set; }

    /// <summary>
    /// Runs <paramref name="work"/>(cpu) for cpu = 0..count-1 on the pool's threads, all released
    /// together. Returns false when they did not all finish within <paramref name="timeout"/>.
    /// Exceptions must be caught inside <paramref name="work"/>.
    /// </summary>
    public bool Run(int count, Action<int> work, TimeSpan timeout)
    {
        if (Spent) throw new InvalidOperationException("the pool is spent: a run timed out");
        if (count < 1 || count > _threads.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _work = work;
        _count = count;
        Volatile.Write(ref _arrived, 0);
        Volatile.Write(ref _go, 0);
        Array.Clear(_heartbeat);
        _done.Reset(count);
        for (int i = 0; i < count; i++) _wake[i].Release();
        if (_done.Wait(timeout)) return true;
        Spent = true;
        return false;
    }

    private void Loop(int cpu)
    {
        while (true)
        {
            // Between runs a thread first spins a little (many short runs follow each other closely,
            // so it is usually still on its core when the next run starts), then blocks.
            if (!SpinFor(_wake[cpu])) _wake[cpu].Wait();
            if (_stopping) return;
            // The spinning barrier: nobody starts before everybody is running. Spin hard first (a
            // yield here may lose the core for a whole time slice), then politely.
            StartTogether(cpu);
            t_cpu = cpu + 1;
            try { _work!(cpu); }
            catch { /* the work records its own failures */ }
            finally
            {
                t_cpu = 0;
                _done.Signal();
            }
        }
    }

    /// <summary>
    /// The start barrier. Everybody announces itself, then spins, stamping a heartbeat; the run starts
    /// (one thread raises the flag, the others see it within a microsecond) once everybody has arrived
    /// and as many threads as the machine has cores (at most all of them) stamped within the last few
    /// microseconds, that is, are on a core right now. So the branches that can run at once start at
    /// once, even on a loaded machine where a thread that merely arrived may have lost its core since.
    /// Spinners yield now and then so that a thread waiting for a core gets to arrive; after
    /// <see cref="StartPatience"/> the run starts anyway.
    /// </summary>
    private void StartTogether(int cpu)
    {
        Interlocked.Increment(ref _arrived);
        int needed = Math.Min(_count, Math.Max(1, Environment.ProcessorCount));
        long fresh = (long)(FreshHeartbeat.TotalSeconds * Stopwatch.Frequency);
        long giveUp = Stopwatch.GetTimestamp() + (long)(StartPatience.TotalSeconds * Stopwatch.Frequency);
        for (int i = 1; Volatile.Read(ref _go) == 0; i++)
        {
            long now = Stopwatch.GetTimestamp();
            Volatile.Write(ref _heartbeat[cpu * HeartbeatStride], now);
            if (Volatile.Read(ref _arrived) == _count)
            {
                int onCore = 0;
                for (int j = 0; j < _count; j++)
                    if (now - Volatile.Read(ref _heartbeat[j * HeartbeatStride]) < fresh) onCore++;
                if (onCore >= needed || now > giveUp) { Volatile.Write(ref _go, 1); break; }
            }
            // With no more threads than cores, never give the core up: a yield on a busy machine loses it
            // for a whole time slice, and the point is to be on a core when the others are.
            if (_count > Environment.ProcessorCount && i % SpinsPerYield == 0) Thread.Yield();
            else Thread.SpinWait(8);
        }
    }

    /// <summary>Takes the semaphore by busy-waiting for <see cref="SpinBeforeBlocking"/>; false when it was not released by then.</summary>
    private static bool SpinFor(SemaphoreSlim go)
    {
        long until = Stopwatch.GetTimestamp() + (long)(SpinBeforeBlocking.TotalSeconds * Stopwatch.Frequency);
        while (!go.Wait(0))
        {
            if (Stopwatch.GetTimestamp() > until) return false;
            Thread.SpinWait(20);
        }
        return true;
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (Spent) return; // its threads are stuck in the implementation; they are background threads
        foreach (var wake in _wake) wake.Release();
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(1));
    }
}
