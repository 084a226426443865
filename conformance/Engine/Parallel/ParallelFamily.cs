using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// What one parallel run found: the first violated rule (or null), the report lines drawing it, and
/// the checks each CPU made in its own scope (a <see cref="CheckScope"/> belongs to one thread).
/// <see cref="Diverged"/> when a masked rule's check failed: no verdict.
/// </summary>
public sealed record ParallelRunResult(RuleViolation? Violation, IReadOnlyList<string> Trace, IReadOnlyList<CheckScope> CpuScopes, bool Diverged = false);

/// <summary>
/// A family checked in parallel mode: generated prefix plus 1..4 branches run together on the
/// harness's CPUs, judged after the join (linearizability for atomic_t, invariants that hold whatever
/// the interleaving for SMP allocation traffic). <see cref="ParallelPropertyRunner"/> generates,
/// re-runs and shrinks. In-process, or on the CPU lanes of an out-of-process program (<see cref="ICpuLanes"/>,
/// docs/protocol.md "CPU lanes").
/// </summary>
public abstract class ParallelFamily<TOp> : IConformanceFamily where TOp : notnull
{
    public abstract string Name { get; }
    public abstract IReadOnlyList<string> RuleIds { get; }
    public abstract Capability Gate { get; }
    /// <inheritdoc cref="IConformanceFamily.Needs"/>
    public virtual IReadOnlyList<Capability> Needs => [Gate];
    public abstract string PrimaryRule { get; }

    /// <summary>One program from its own random source; <paramref name="declared"/> is what the implementation offers.</summary>
    public abstract ParallelProgram<TOp> Generate(Random random, Profile profile, RunSettings settings, IReadOnlySet<Capability> declared);

    /// <summary>Simpler forms of one operation, for shrinking.</summary>
    public virtual IEnumerable<TOp> Simplify(TOp op) => [];

    /// <summary>Prefix steps the shrinker must keep in <paramref name="program"/> (they set up what the branches use).</summary>
    public virtual bool Essential(ParallelProgram<TOp> program, TOp op) => false;

    /// <summary>
    /// Runs <paramref name="program"/> once on the freshly booted <paramref name="mm"/> with <paramref name="cpus"/>,
    /// checks it, and returns the first violation. With <paramref name="explain"/> the result carries the
    /// report lines (the interleaving per CPU). Throws <see cref="RuleViolation"/> or lets implementation
    /// exceptions escape only from the sequential parts; a run that does not finish in
    /// <paramref name="timeout"/> is reported against <see cref="PrimaryRule"/>.
    /// </summary>
    public abstract ParallelRunResult Execute(IMemoryManager mm, ParallelProgram<TOp> program, CpuPool cpus, CheckScope scope, bool explain, TimeSpan timeout);

    /// <summary>
    /// The family's stress, beside its generated programs (see <see cref="StressOutcome"/>): every CPU
    /// hammers the implementation for a few milliseconds per round, with checks of what must hold whatever
    /// the interleaving (conservation, no address handed out twice), repeated until the CPUs have been seen
    /// running together long enough or <paramref name="budget"/> is spent. Null when the family has none.
    /// Passing checks are counted in <paramref name="scope"/>.
    /// </summary>
    public virtual StressOutcome? RunStress(IMemoryManager mm, CpuPool cpus, ulong seed, CheckScope scope, TimeSpan budget, TimeSpan timeout) => null;

    /// <summary>The stress's rules: it is skipped when every one of them is masked.</summary>
    public virtual IReadOnlyList<string> StressRules => [];

    /// <summary>The program as C# that compiles inside the xunit snippet (which declares <c>mm</c>).</summary>
    public abstract IReadOnlyList<string> CSharp(ParallelProgram<TOp> program);

    public FamilyOutcome Run(IImplementationFactory factory, Profile profile, RunSettings settings, IReadOnlySet<string> masked) =>
        ParallelPropertyRunner.Run(this, factory, profile, settings, masked);

    /// <summary>A parallel family's "steps" are one whole program (prefix and branches).</summary>
    public Type StepType => typeof(ParallelProgram<TOp>);

    /// <summary>
    /// Replays one program: since interleavings do not replay, it is run up to
    /// <see cref="ParallelPropertyRunner.ReproductionRuns"/> times on fresh machines and the first
    /// violation is returned; the outcome holds when no run broke a rule.
    /// </summary>
    public SequenceOutcome Replay(IImplementationFactory factory, Profile profile, IReadOnlyList<object> steps)
    {
        if (steps.Count != 1 || steps[0] is not ParallelProgram<TOp> program)
            throw new ArgumentException($"family '{Name}' replays exactly one {typeof(ParallelProgram<TOp>).Name}, got {steps.Count} step(s)", nameof(steps));
        return ParallelPropertyRunner.Replay(this, factory, profile, program);
    }

    /// <summary>Waits for the branches; on a timeout returns the violation to report.</summary>
    protected RuleViolation? RunBranches(CpuPool cpus, int count, Action<int> branch, TimeSpan timeout) =>
        cpus.Run(count, branch, timeout) ? null
        : new RuleViolation(PrimaryRule, $"the {count} CPUs did not all finish within {timeout.TotalSeconds:F0} s: a deadlock or livelock in the implementation");

    /// <summary>The pause the harness makes before a step.</summary>
    protected static void Pause(int pause)
    {
        if (pause > 0) Thread.SpinWait(pause);
        else if (pause == ParallelStep<TOp>.Yield) Thread.Yield();
    }
}
