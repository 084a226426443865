namespace KernelMm.Conformance.Parallel;

/// <summary>
/// Smaller versions of a failing parallel program, most promising first: a whole branch removed
/// (down to one branch: a fault that needs no concurrency shrinks to a sequential case), chunks of the
/// prefix and of each branch removed (halves, quarters, ... single steps), the harness's pauses
/// removed, then single operations simplified. Because interleavings vary, the runner re-runs each
/// candidate several times before it gives up on it.
/// </summary>
public static class ParallelShrinker
{
    public static IEnumerable<ParallelProgram<TOp>> Candidates<TOp>(ParallelProgram<TOp> p, Func<TOp, IEnumerable<TOp>> simplify, Func<ParallelProgram<TOp>, TOp, bool> essential)
        where TOp : notnull
    {
        var branches = p.Branches;
        if (branches.Count > 1)
            for (int b = 0; b < branches.Count; b++)
                yield return p with { Branches = [.. branches.Take(b), .. branches.Skip(b + 1)] };

        foreach (var prefix in Chunks(p.Prefix, op => essential(p, op)))
            yield return p with { Prefix = prefix };

        for (int b = 0; b < branches.Count; b++)
            foreach (var branch in Chunks(branches[b], _ => false))
                if (branch.Count > 0)
                    yield return p with { Branches = Replace(branches, b, branch) };

        if (p.Pauses > 0)
        {
            yield return p with { Prefix = NoPauses(p.Prefix), Branches = branches.Select(NoPauses).ToList() };
            for (int b = 0; b < branches.Count; b++)
                if (branches[b].Any(s => s.Pause != 0))
                    yield return p with { Branches = Replace(branches, b, NoPauses(branches[b])) };
        }

        for (int i = 0; i < p.Prefix.Count; i++)
            foreach (var simpler in simplify(p.Prefix[i].Op))
                yield return p with { Prefix = Set(p.Prefix, i, p.Prefix[i] with { Op = simpler }) };
        for (int b = 0; b < branches.Count; b++)
            for (int i = 0; i < branches[b].Count; i++)
                foreach (var simpler in simplify(branches[b][i].Op))
                    yield return p with { Branches = Replace(branches, b, Set(branches[b], i, branches[b][i] with { Op = simpler })) };
    }

    private static IEnumerable<IReadOnlyList<ParallelStep<TOp>>> Chunks<TOp>(IReadOnlyList<ParallelStep<TOp>> steps, Func<TOp, bool> essential) where TOp : notnull
    {
        for (int chunk = Math.Max(1, steps.Count / 2); chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= steps.Count; start += chunk)
            {
                bool keeps = false;
                for (int i = start; i < start + chunk; i++) keeps |= essential(steps[i].Op);
                if (!keeps) yield return [.. steps.Take(start), .. steps.Skip(start + chunk)];
            }
            if (chunk == 1) break;
        }
    }

    private static IReadOnlyList<ParallelStep<TOp>> NoPauses<TOp>(IReadOnlyList<ParallelStep<TOp>> steps) where TOp : notnull =>
        steps.Select(s => s with { Pause = 0 }).ToList();

    private static IReadOnlyList<IReadOnlyList<ParallelStep<TOp>>> Replace<TOp>(IReadOnlyList<IReadOnlyList<ParallelStep<TOp>>> branches, int b,
        IReadOnlyList<ParallelStep<TOp>> branch) where TOp : notnull
    {
        var copy = branches.ToList();
        copy[b] = branch;
        return copy;
    }

    private static IReadOnlyList<ParallelStep<TOp>> Set<TOp>(IReadOnlyList<ParallelStep<TOp>> steps, int i, ParallelStep<TOp> step) where TOp : notnull
    {
        var copy = steps.ToList();
        copy[i] = step;
        return copy;
    }
}
