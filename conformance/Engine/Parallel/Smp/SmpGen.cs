using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Parallel.Smp;

/// <summary>
/// Generates SMP allocation traffic: the prefix makes up to two slab caches (when the implementation
/// has them); each CPU then allocates and frees pages (orders 0..3, GFP_KERNEL, GFP_ATOMIC, some
/// GFP_DMA), kmalloc blocks (mostly small, some from the page allocator) and cache objects, and checks
/// its blocks' bytes. Allocations outnumber frees, so CPUs hold blocks while the others allocate; every
/// CPU frees all it holds at its end (added by the family, not generated).
/// </summary>
public static class SmpGen
{
    private static readonly GfpFlags[] Flags = [Gfp.Kernel, Gfp.Kernel, Gfp.Atomic, Gfp.Atomic, Gfp.Kernel | GfpFlags.Dma, Gfp.Atomic | GfpFlags.Dma];

    public static ParallelProgram<SmpOp> Program(Random rng, RunSettings settings, IReadOnlySet<Capability> declared)
    {
        bool kmalloc = declared.Contains(Capability.Kmalloc), slab = declared.Contains(Capability.SlabCache);
        var prefix = new List<ParallelStep<SmpOp>>();
        int caches = slab ? rng.Next(1, 3) : 0;
        for (int c = 0; c < caches; c++)
            prefix.Add(new(new SmpOp(SmpOpKind.CreateCache, Size: rng.Next(3) == 0 ? rng.Next(200, 1500) : rng.Next(8, 200), Cache: c,
                Align: rng.Next(3) switch { 0 => 0, 1 => 8, _ => 64 })));

        int cpus = rng.Next(4) switch { 0 or 1 => 2, 2 => 3, _ => 4 };
        int maxLength = Math.Max(4, settings.MaxSteps * 2);
        bool pauses = rng.Next(3) == 0;
        var branches = new List<IReadOnlyList<ParallelStep<SmpOp>>>();
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            int length = rng.Next(Math.Max(2, maxLength / 4), maxLength + 1);
            var steps = new List<ParallelStep<SmpOp>>(length);
            for (int i = 0; i < length; i++)
                steps.Add(new(Op(rng, kmalloc, caches), pauses && rng.Next(8) == 0 ? (rng.Next(5) == 0 ? ParallelStep<SmpOp>.Yield : rng.Next(1, 300)) : 0));
            branches.Add(steps);
        }
        return new ParallelProgram<SmpOp>(prefix, branches);
    }

    private static SmpOp Op(Random rng, bool kmalloc, int caches)
    {
        var gfp = Flags[rng.Next(Flags.Length)];
        int slot = rng.Next(64);
        int roll = rng.Next(100);
        // Pages always; kmalloc and caches when offered. Allocations about 60%, frees 32%, checks 8%.
        int family = rng.Next(1 + (kmalloc ? 1 : 0) + (caches > 0 ? 1 : 0));
        if (family == 1 && !kmalloc) family = 2;
        if (roll >= 92) return new SmpOp(SmpOpKind.Verify);
        bool free = roll >= 60;
        switch (family)
        {
            case 0:
                if (free) return new SmpOp(SmpOpKind.FreePages, Slot: slot);
                int order = rng.Next(10) switch { < 6 => 0, < 8 => 1, 8 => 2, _ => 3 };
                return new SmpOp(rng.Next(3) == 0 ? SmpOpKind.AllocPages : SmpOpKind.GetFreePages, gfp, order);
            case 1:
                if (free) return new SmpOp(SmpOpKind.Kfree, Slot: slot);
                int size = rng.Next(10) switch { < 6 => rng.Next(1, 129), < 9 => rng.Next(129, 2049), _ => rng.Next(2049, 9000) };
                return new SmpOp(rng.Next(5) == 0 ? SmpOpKind.Kzalloc : SmpOpKind.Kmalloc, gfp, Size: size);
            default:
                if (free) return new SmpOp(SmpOpKind.CacheFree, Slot: slot);
                return new SmpOp(SmpOpKind.CacheAlloc, gfp & ~GfpFlags.Dma, Cache: rng.Next(caches));
        }
    }

    public static IEnumerable<SmpOp> Simplify(SmpOp op)
    {
        if (op.Order > 0) yield return op with { Order = op.Order - 1 };
        if (op.Kind is SmpOpKind.Kmalloc or SmpOpKind.Kzalloc && op.Size > 8) yield return op with { Size = op.Size / 2 };
        if ((op.Gfp & GfpFlags.Dma) != 0) yield return op with { Gfp = op.Gfp & ~GfpFlags.Dma };
        if (op.Slot > 0) yield return op with { Slot = 0 };
    }
}
