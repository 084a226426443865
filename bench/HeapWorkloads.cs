using KernelMm.Reference;
using KernelMm.Spec.Contract;

namespace KernelMm.Benchmarks;

/// <summary>kmalloc and slab-cache loops, shared by <see cref="HeapBenchmarks"/> and <c>--quick</c>.</summary>
public static class HeapWorkloads
{
    /// <summary>kmalloc(size, GFP_KERNEL) + kfree, <paramref name="pairs"/> times.</summary>
    public static ulong KmallocPairs(ReferenceKernel k, long size, int pairs)
    {
        ulong sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            ulong p = k.Kmalloc(size, Gfp.Kernel);
            k.Kfree(p);
            sum += p;
        }
        return sum;
    }

    /// <summary>A private 192-byte cache for <see cref="CachePairs"/>.</summary>
    public static SlabCacheHandle CreateCache(ReferenceKernel k) => k.KmemCacheCreate("bench-192", 192, 0, SlabFlags.None, null);

    /// <summary>kmem_cache_alloc + kmem_cache_free on one cache, <paramref name="pairs"/> times.</summary>
    public static ulong CachePairs(ReferenceKernel k, SlabCacheHandle cache, int pairs)
    {
        ulong sum = 0;
        for (int i = 0; i < pairs; i++)
        {
            ulong p = k.KmemCacheAlloc(cache, Gfp.Kernel);
            k.KmemCacheFree(cache, p);
            sum += p;
        }
        return sum;
    }

    /// <summary>
    /// A mixed heap workload: a fixed-seed script over about 1000 live objects of kmalloc sizes
    /// 8 B..16 KiB (small sizes most often) and cache objects, with krealloc now and then.
    /// </summary>
    public sealed class Mixed
    {
        private readonly (byte Kind, int Size, int Victim)[] _steps;
        private readonly ulong[] _live = new ulong[1100];
        private readonly bool[] _isCache = new bool[1100];

        public Mixed(ulong seed, int steps)
        {
            var rng = new Random((int)seed);
            _steps = new (byte, int, int)[steps];
            for (int i = 0; i < steps; i++)
            {
                int r = rng.Next(100);
                byte kind = r < 45 ? (byte)0 : r < 55 ? (byte)1 : r < 60 ? (byte)2 : (byte)3; // kmalloc, cache alloc, krealloc, free
                int size = 8 << rng.Next(0, rng.Next(1, 12));
                _steps[i] = (kind, size + rng.Next(0, size), rng.Next(_live.Length));
            }
        }

        public int Operations => _steps.Length;

        public int Run(ReferenceKernel k, SlabCacheHandle cache)
        {
            foreach (var (kind, size, victim) in _steps)
            {
                ref ulong slot = ref _live[victim];
                if (kind == 3 || slot != 0)
                {
                    if (slot != 0)
                    {
                        if (_isCache[victim]) k.KmemCacheFree(cache, slot);
                        else if (kind == 2) { slot = k.Krealloc(slot, size, Gfp.Kernel); continue; }
                        else k.Kfree(slot);
                        slot = 0;
                    }
                    continue;
                }
                _isCache[victim] = kind == 1;
                slot = kind == 1 ? k.KmemCacheAlloc(cache, Gfp.Kernel) : k.Kmalloc(size, Gfp.Kernel);
            }
            for (int i = 0; i < _live.Length; i++)
            {
                if (_live[i] == 0) continue;
                if (_isCache[i]) k.KmemCacheFree(cache, _live[i]); else k.Kfree(_live[i]);
                _live[i] = 0;
            }
            return _steps.Length;
        }
    }
}
