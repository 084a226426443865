namespace KernelMm.Conformance.Parallel;

/// <summary>
/// The sequential specification a linearizability check runs against: from a state, does an
/// operation with this result fit, and what state follows. States are compared by value for
/// memoisation, so they must be immutable values.
/// </summary>
public interface ISequentialModel<TState, in TOp, in TResult> where TState : notnull
{
    /// <summary>True when <paramref name="op"/> may return <paramref name="result"/> from <paramref name="state"/>; <paramref name="next"/> is the state after it.</summary>
    bool Step(TState state, TOp op, TResult result, out TState next);
}

/// <summary>One completed operation of a history: its result and its call and return tickets (call &lt; return).</summary>
public readonly record struct HistoryOp<TOp, TResult>(int Cpu, TOp Op, TResult Result, long Call, long Return);

/// <summary>
/// What the check found. When not linearizable: the longest prefix of a sequential order it could
/// build (operation indices, consistent with real time and the model), the state after it, and the
/// operations that were minimal there (called before any pending operation returned) and none of which
/// fits the model: the report's "couldn't linearise" explanation. <see cref="Inconclusive"/> when the
/// search hit its step budget: no verdict (never reported as a failure).
/// </summary>
public sealed record LinearizabilityResult<TState>(
    bool Linearizable, bool Inconclusive, IReadOnlyList<int> LongestOrder, TState StateAfterLongest, IReadOnlyList<int> Stuck, long Steps);

/// <summary>
/// Wing &amp; Gong's linearizability search with Lowe's memoisation, as Porcupine implements it: the
/// calls and returns sorted by ticket form a doubly linked list; the search repeatedly takes a call
/// that precedes every pending return (a minimal operation), applies it to the model and lifts it out
/// of the list; a return met before its call was taken means the last choice was wrong, so it
/// backtracks. Every (set of linearized operations, model state) pair reached is remembered, so no
/// configuration is explored twice: histories of a few hundred operations on a few threads check in
/// microseconds to milliseconds. Callers split histories by independent object first (P-compositionality:
/// linearizability is local, so each atomic_t counter is checked on its own).
/// </summary>
public static class Linearizability
{
    /// <summary>Default budget of model steps before a search is declared inconclusive.</summary>
    public const long DefaultMaxSteps = 20_000_000;

    private sealed class Node
    {
        public int Op;
        public bool IsCall;
        public Node? Match; // the return of a call
        public Node? Prev, Next;
    }

    /// <remarks>
    /// With <c>programOrder</c>, operations of one CPU also take effect in their order in the history, whatever their
    /// tickets say: a CPU lane of an out-of-process program runs its requests one at a time, in order, while the
    /// tickets of pipelined requests overlap (each is taken before the whole batch is written). In-process the tickets
    /// already say so, and the constraint changes nothing.
    /// </remarks>
    public static LinearizabilityResult<TState> Check<TState, TOp, TResult>(
        IReadOnlyList<HistoryOp<TOp, TResult>> history, TState initial, ISequentialModel<TState, TOp, TResult> model,
        long maxSteps = DefaultMaxSteps, bool programOrder = false) where TState : notnull
    {
        int n = history.Count;
        if (n == 0) return new(true, false, [], initial, [], 0);
        // The operation of the same CPU just before each one (-1: none), when program order is asked for.
        int[]? previous = null;
        if (programOrder)
        {
            previous = new int[n];
            var last = new Dictionary<int, int>();
            for (int i = 0; i < n; i++)
            {
                previous[i] = last.TryGetValue(history[i].Cpu, out int b) ? b : -1;
                last[history[i].Cpu] = i;
            }
        }

        // Events sorted by ticket; a call sorts before a return with the same ticket (cannot happen with
        // distinct tickets, but keeps the order safe for hand-written histories).
        var events = new (long Time, int Op, bool IsCall)[2 * n];
        for (int i = 0; i < n; i++)
        {
            if (history[i].Return < history[i].Call)
                throw new ArgumentException($"operation {i} returns (ticket {history[i].Return}) before it is called (ticket {history[i].Call})");
            events[2 * i] = (history[i].Call, i, true);
            events[2 * i + 1] = (history[i].Return, i, false);
        }
        Array.Sort(events, (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.IsCall.CompareTo(a.IsCall));

        var head = new Node { Op = -1 };
        var calls = new Node[n];
        var prev = head;
        foreach (var (_, op, isCall) in events)
        {
            var node = new Node { Op = op, IsCall = isCall, Prev = prev };
            prev.Next = node;
            prev = node;
            if (isCall) calls[op] = node;
            else calls[op].Match = node;
        }

        var zobrist = new ulong[n];
        ulong z = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i < n; i++) zobrist[i] = Mix(z += 0x9E3779B97F4A7C15UL);

        var linearized = new ulong[(n + 63) / 64];
        ulong hash = 0;
        var cache = new HashSet<Configuration<TState>>(new ConfigurationComparer<TState>());
        var stack = new Stack<(Node Call, TState State)>();
        var state = initial;
        // The deepest configuration reached, for the report; its order is copied only when the search
        // leaves it (so a search that goes straight through copies nothing).
        IReadOnlyList<int> longest = [];
        int maxDepth = 0;
        var longestState = initial;
        bool dirty = false;
        var stuck = new List<int>();
        long steps = 0;
        List<int> Order() => stack.Select(e => e.Call.Op).Reverse().ToList();

        var entry = head.Next;
        while (head.Next is not null)
        {
            if (++steps > maxSteps) return new(false, true, dirty ? Order() : longest, longestState, [], steps);
            if (entry!.IsCall && previous is not null && previous[entry.Op] is >= 0 and var pred && (linearized[pred >> 6] & (1UL << (pred & 63))) == 0)
            {
                // Its CPU's previous operation has not taken effect yet: not a candidate now.
                entry = entry.Next;
                continue;
            }
            if (entry.IsCall)
            {
                var op = history[entry.Op];
                if (model.Step(state, op.Op, op.Result, out var next))
                {
                    int id = entry.Op;
                    linearized[id >> 6] |= 1UL << (id & 63);
                    var probe = new Configuration<TState>(hash ^ zobrist[id], linearized, next);
                    if (!cache.Contains(probe))
                    {
                        cache.Add(probe with { Linearized = (ulong[])linearized.Clone() });
                        stack.Push((entry, state));
                        state = next;
                        hash ^= zobrist[id];
                        Lift(entry);
                        entry = head.Next;
                        if (stack.Count > maxDepth)
                        {
                            maxDepth = stack.Count;
                            longestState = state;
                            dirty = true;
                            stuck.Clear();
                        }
                        continue;
                    }
                    linearized[id >> 6] &= ~(1UL << (id & 63));
                }
                else if (stack.Count == maxDepth && !stuck.Contains(entry.Op) && state.Equals(longestState)) stuck.Add(entry.Op);
                entry = entry.Next;
            }
            else
            {
                // A return whose call was not linearized: undo the last choice.
                if (stack.Count == 0) return new(false, false, longest, longestState, stuck, steps);
                if (dirty && stack.Count == maxDepth) { longest = Order(); dirty = false; }
                var (call, before) = stack.Pop();
                state = before;
                hash ^= zobrist[call.Op];
                linearized[call.Op >> 6] &= ~(1UL << (call.Op & 63));
                Unlift(call);
                entry = call.Next;
            }
        }
        return new(true, false, dirty ? Order() : longest, longestState, [], steps);
    }

    private static void Lift(Node call)
    {
        call.Prev!.Next = call.Next;
        if (call.Next is not null) call.Next.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Prev = ret.Prev;
    }

    private static void Unlift(Node call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null) ret.Next.Prev = ret;
        call.Prev!.Next = call;
        if (call.Next is not null) call.Next.Prev = call;
    }

    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private readonly record struct Configuration<TState>(ulong Hash, ulong[] Linearized, TState State);

    private sealed class ConfigurationComparer<TState> : IEqualityComparer<Configuration<TState>>
    {
        public bool Equals(Configuration<TState> a, Configuration<TState> b) =>
            a.Hash == b.Hash && a.Linearized.AsSpan().SequenceEqual(b.Linearized) && EqualityComparer<TState>.Default.Equals(a.State, b.State);

        public int GetHashCode(Configuration<TState> c) => HashCode.Combine(c.Hash, EqualityComparer<TState>.Default.GetHashCode(c.State!));
    }
}
