using System.Collections.Concurrent;
using System.Numerics;

namespace KernelMm.Tests.Variants;

/// <summary>
/// One zone's free space as a two-tier complete binary tree (no free lists).
/// <para>
/// The upper tier is a segment tree over the zone's max-order-aligned blocks: each node holds the
/// largest order of a wholly free aligned block below it. The lower tier is one buddy tree per
/// max-order block (heap numbering: node 1 is the block, node n has children 2n and 2n+1, leaves
/// are frames), built only when the block is first split. A lower-tier node at level L holds L
/// when its aligned block of 2^L frames is wholly free, <see cref="Nothing"/> when nothing below
/// is free, <see cref="HandedOut"/> when the block itself is an allocation (its subtree is then
/// hidden and keeps the values it had when it was taken), and otherwise the largest free order below.
/// </para>
/// Buddyinfo counts are kept exact incrementally: a block is counted when it is wholly free and
/// its parent is not (or it is a whole max-order block).
/// </summary>
internal sealed class BlockTree
{
    private const sbyte Nothing = -1;
    private const sbyte HandedOut = -2;

    /// <summary>A lower tier with every node free, per max order (copied when a block is first split).</summary>
    private static readonly ConcurrentDictionary<int, sbyte[]> AllFree = new();

    private readonly int _maxOrder;
    private readonly bool _coalesce;
    /// <summary>The first frame of block 0: the zone start rounded down to a max-order boundary.</summary>
    private readonly int _base;
    private readonly int _topLeaves;
    private readonly sbyte[] _top;
    private readonly sbyte[]?[] _lower;
    /// <summary>Lower-tier nodes ever split by an allocation; only kept when coalescing is off (a fault).</summary>
    private readonly bool[]?[] _split;
    private readonly long[] _maximal;

    public BlockTree(int startPfn, int endPfn, int maxOrder, bool coalesce = true)
    {
        StartPfn = startPfn;
        EndPfn = endPfn;
        _maxOrder = maxOrder;
        _coalesce = coalesce;
        _maximal = new long[maxOrder + 1];
        int blockFrames = 1 << maxOrder;
        _base = startPfn & ~(blockFrames - 1);
        int blocks = endPfn > startPfn ? (endPfn - _base + blockFrames - 1) >> maxOrder : 0;
        _topLeaves = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, blocks));
        _top = new sbyte[2 * _topLeaves];
        _lower = new sbyte[]?[blocks];
        _split = new bool[]?[blocks];
        Array.Fill(_top, Nothing);

        for (int b = 0; b < blocks; b++)
        {
            int first = _base + (b << maxOrder);
            if (first >= startPfn && first + blockFrames <= endPfn)
            {
                _top[_topLeaves + b] = (sbyte)maxOrder;
                _maximal[maxOrder]++;
            }
            else BuildPartial(b, first);
        }
        for (int p = _topLeaves - 1; p >= 1; p--) _top[p] = Math.Max(_top[2 * p], _top[2 * p + 1]);
        FreePages = Math.Max(0, endPfn - startPfn);
    }

    public int StartPfn { get; }
    public int EndPfn { get; }
    public long FreePages { get; private set; }

    public bool Contains(int pfn) => pfn >= StartPfn && pfn < EndPfn;

    /// <summary>Maximal wholly free aligned blocks of exactly this order (one buddyinfo column).</summary>
    public long MaximalBlocks(int order) => order >= 0 && order <= _maxOrder ? _maximal[order] : 0;

    /// <summary>Whether some wholly free aligned block of at least this order exists.</summary>
    public bool HasBlock(int order) => _top[1] >= order;

    /// <summary>Takes the highest-addressed wholly free aligned block of this order; returns its first frame or -1.</summary>
    public int TakeHighest(int order)
    {
        if (!HasBlock(order)) return -1;
        int t = 1;
        while (t < _topLeaves) t = _top[2 * t + 1] >= order ? 2 * t + 1 : 2 * t;
        int b = t - _topLeaves;

        var lower = order == _maxOrder ? _lower[b] : Split(b);
        int n = 1;
        if (lower is not null)
            while (LowerLevel(n) > order)
            {
                if (_split[b] is { } split) split[n] = true;
                n = lower[2 * n + 1] >= order ? 2 * n + 1 : 2 * n;
            }
        SetLower(b, n, HandedOut);
        FreePages -= 1L << order;
        return _base + (b << _maxOrder) + ((n << order) - (1 << _maxOrder));
    }

    /// <summary>Gives back a block <see cref="TakeHighest"/> handed out.</summary>
    public void Give(int pfn, int order)
    {
        int offset = pfn - _base;
        int b = offset >> _maxOrder;
        int n = ((1 << _maxOrder) + (offset & ((1 << _maxOrder) - 1))) >> order;
        if (LowerValue(b, n) != HandedOut) throw new InvalidOperationException($"pfn 0x{pfn:x} order {order} is not handed out");
        SetLower(b, n, (sbyte)order);
        FreePages += 1L << order;
    }

    // ---- Tree mechanics ------------------------------------------------------------------

    private int LowerLevel(int n) => _maxOrder - BitOperations.Log2((uint)n);

    /// <summary>A lower-tier node's value; a block with no lower tier yet is whole (its top leaf says how).</summary>
    private sbyte LowerValue(int b, int n) => _lower[b] is { } lower ? lower[n] : n == 1 ? _top[_topLeaves + b] : (sbyte)LowerLevel(n);

    /// <summary>The block's lower tier, built (all free) on its first split.</summary>
    private sbyte[] Split(int b)
    {
        if (_lower[b] is { } lower) return lower;
        lower = (sbyte[])AllFree.GetOrAdd(_maxOrder, BuildAllFree).Clone();
        _lower[b] = lower;
        if (!_coalesce) _split[b] = new bool[lower.Length];
        return lower;
    }

    private static sbyte[] BuildAllFree(int maxOrder)
    {
        var nodes = new sbyte[2 << maxOrder];
        for (int n = 1; n < nodes.Length; n++) nodes[n] = (sbyte)(maxOrder - BitOperations.Log2((uint)n));
        return nodes;
    }

    /// <summary>A block only partly inside the zone: its missing frames are never free.</summary>
    private void BuildPartial(int b, int first)
    {
        var lower = Split(b);
        int leaves = 1 << _maxOrder;
        for (int i = 0; i < leaves; i++)
            lower[leaves + i] = Contains(first + i) ? (sbyte)0 : Nothing;
        for (int n = leaves - 1; n >= 1; n--) lower[n] = Combine(b, n);
        for (int n = 1; n < 2 * leaves; n++)
            if (IsMaximal(b, n)) _maximal[LowerLevel(n)]++;
        _top[_topLeaves + b] = lower[1];
    }

    private sbyte Combine(int b, int n)
    {
        var lower = _lower[b]!;
        int level = LowerLevel(n);
        sbyte left = lower[2 * n], right = lower[2 * n + 1];
        bool merge = left == level - 1 && right == level - 1 && !(_split[b]?[n] ?? false);
        return merge ? (sbyte)level : Math.Max(Math.Max(left, right), Nothing);
    }

    /// <summary>
    /// A wholly free block that is not part of a larger free block: buddyinfo counts exactly these.
    /// Below the max order that means its parent is neither wholly free nor an allocation (whose
    /// hidden subtree still looks free).
    /// </summary>
    private bool IsMaximal(int b, int n)
    {
        int level = LowerLevel(n);
        if (LowerValue(b, n) != level) return false;
        if (n == 1) return true;
        int parent = LowerValue(b, n >> 1);
        return parent != level + 1 && parent != HandedOut;
    }

    /// <summary>Changes one lower-tier node, recomputes its ancestors in both tiers and keeps the counts exact.</summary>
    private void SetLower(int b, int n, sbyte value)
    {
        Tally(b, n, -1);
        if (_lower[b] is { } lower)
        {
            lower[n] = value;
            for (int p = n >> 1; p >= 1; p >>= 1) lower[p] = Combine(b, p);
            value = lower[1];
        }
        _top[_topLeaves + b] = value;
        for (int p = (_topLeaves + b) >> 1; p >= 1; p >>= 1) _top[p] = Math.Max(Math.Max(_top[2 * p], _top[2 * p + 1]), Nothing);
        Tally(b, n, +1);
    }

    /// <summary>
    /// Counts the maximal blocks whose status a change at node <paramref name="n"/> can affect: the
    /// nodes on its path to the block root and their siblings (whose parents are on the path).
    /// Its own children cannot change: their parent is free or handed out either way.
    /// </summary>
    private void Tally(int b, int n, int sign)
    {
        for (int x = n; x >= 1; x >>= 1)
        {
            if (IsMaximal(b, x)) _maximal[LowerLevel(x)] += sign;
            if (x > 1 && IsMaximal(b, x ^ 1)) _maximal[LowerLevel(x)] += sign;
        }
    }
}
