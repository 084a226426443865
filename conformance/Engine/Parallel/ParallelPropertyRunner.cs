using System.Diagnostics;
using KernelMm.Conformance.Checking;
using KernelMm.Conformance.Parallel.Stress;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Parallel;

/// <summary>
/// Drives a <see cref="ParallelFamily{TOp}"/> on one profile: many short runs rather than a few long
/// ones (interleavings, not sequence length, find races), each generated program run
/// <see cref="Repeats"/> times on a fresh machine. A failing program is shrunk: each smaller candidate
/// is re-run up to <see cref="CandidateRuns"/> times and kept if any run breaks the same rule, within
/// a budget of <see cref="ShrinkBudget"/> runs. The shrunk program is then re-run to draw its failing
/// interleaving and to measure how often it fails. A rule that failed is masked and the remaining
/// programs go on, so every broken rule is found.
/// </summary>
/// <remarks>
/// Why not CsCheck's SampleParallel (measured, bench/README.md "Parallel mode: own runner or CsCheck"):
/// it compares only the final state of the object with the states of every permutation of at most a
/// handful of parallel operations, so it cannot judge what each call returned (atomic_dec_and_test's
/// answer) nor respect real time, its search is factorial where this one memoises, and its failure
/// report lists operations without the per-CPU interleaving. This runner keeps the project's
/// seed-derived, reproducible programs and the suite's report format.
/// </remarks>
public static class ParallelPropertyRunner
{
    /// <summary>Runs of each generated program (each on a fresh machine).</summary>
    public const int Repeats = 3;
    /// <summary>
    /// A property generates a quarter of <see cref="RunSettings.Sequences"/> programs (at least one), each
    /// run <see cref="Repeats"/> times: a parallel run costs more than a sequence, atomic_t and the
    /// allocators' locking do not depend on the profile, and a default run gives every fault 16
    /// properties (4 profiles x 4 RAM sizes) to show in.
    /// </summary>
    public const int SequencesPerProgram = 4;

    /// <summary>Programs a property generates for <paramref name="settings"/>.</summary>
    public static int Programs(RunSettings settings) => Math.Max(1, (settings.Sequences + SequencesPerProgram - 1) / SequencesPerProgram);
    /// <summary>Runs of each shrink candidate before it is judged passing.</summary>
    public const int CandidateRuns = 24;
    /// <summary>At most this many runs are spent shrinking one failure...</summary>
    public const int ShrinkBudget = 3000;
    /// <summary>... and at most this long.</summary>
    public static readonly TimeSpan ShrinkTime = TimeSpan.FromSeconds(4);

    /// <summary>Shrink runs granted even past <see cref="ShrinkTime"/> (a loaded machine still makes progress).</summary>
    public const int MinShrinkRuns = 200;
    /// <summary>Runs spent measuring how often the shrunk program fails (and catching one failing run to draw).</summary>
    public const int ReproductionRuns = 40;
    /// <summary>
    /// At most this long is spent on a property's stress (<see cref="ParallelFamily{TOp}.RunStress"/>); it stops
    /// earlier, as soon as its CPUs have been seen running together long enough (milliseconds on an idle machine).
    /// </summary>
    public static readonly TimeSpan StressBudget = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The stress budget of a property: 10 ms per sequence asked for, between 250 ms and <see cref="StressBudget"/>
    /// (a default run's 100 sequences get all of it, the main job's 60 get 600 ms). It only matters on a busy
    /// machine, where the CPUs take long to overlap; a test that must see a race repeats properties instead.
    /// </summary>
    public static TimeSpan StressBudgetFor(RunSettings settings) =>
        TimeSpan.FromMilliseconds(Math.Clamp(settings.Sequences * 10.0, 250, StressBudget.TotalMilliseconds));
    /// <summary>A run whose CPUs have not all finished by then is reported (a deadlock).</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(10);

    public static FamilyOutcome Run<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, Profile profile,
        RunSettings settings, IReadOnlySet<string> masked) where TOp : notnull
    {
        var checks = new Dictionary<string, long>(StringComparer.Ordinal);
        var failures = new Dictionary<string, Counterexample>(StringComparer.Ordinal);
        var mask = new HashSet<string>(masked, StringComparer.Ordinal);
        long operations = 0;
        int runs = 0;
        ulong seed = PropertyRunner.DeriveSeed(settings.Seed, $"{family.Name}/{profile.Label}");

        IReadOnlySet<Capability> declared;
        bool onLanes;
        using (var probe = factory.Create(profile))
        {
            if (probe is null) return new FamilyOutcome(checks, failures, 0, 0);
            declared = probe.Capabilities.ToHashSet();
            onLanes = probe is ICpuLanes { Lanes: > 0 };
        }
        var runner = new Runner<TOp>(family, factory, profile);
        try
        {
            int programs = Programs(settings);
            // The stress first: it catches races reliably (it runs until the CPUs have overlapped long enough), and a
            // rule it convicts is masked, so the programs do not spend their shrinking on it.
            if (family.StressRules.Any(r => !mask.Contains(r)))
            {
                runs++;
                if (runner.Stress(mask, PropertyRunner.DeriveSeed(seed, "stress"), seed, StressBudgetFor(settings), out var stressScope) is { } stressed)
                {
                    failures[stressed.RuleId] = stressed;
                    mask.Add(stressed.RuleId);
                }
                else if (stressScope is not null)
                {
                    stressScope.MergeInto(checks);
                    operations += stressScope.Operations;
                }
            }
            for (int i = 0; i < programs && failures.Count < settings.MaxFailuresPerProperty; i++)
            {
                ulong programSeed = PropertyRunner.DeriveSeed(seed, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var program = family.Generate(new Random(unchecked((int)programSeed ^ (int)(programSeed >> 32))), profile, settings, declared)
                    with { Seed = programSeed };
                for (int r = 0; r < Repeats; r++)
                {
                    var scope = new CheckScope(mask);
                    var violation = runner.Once(program, scope, explain: false, out var trace, out var cpuScopes);
                    runs++;
                    if (violation is null)
                    {
                        foreach (var s in cpuScopes.Prepend(scope))
                        {
                            s.MergeInto(checks);
                            operations += s.Operations;
                        }
                        continue;
                    }
                    var ce = runner.Shrink(program, violation, trace, mask, seed, i);
                    failures[ce.RuleId] = ce;
                    mask.Add(ce.RuleId);
                    break;
                }
            }
        }
        finally
        {
            runner.Dispose();
        }
        // On the CPU lanes of an out-of-process program (protocol 5) a pass is earned only when the program's lanes were
        // seen running together somewhere in the property (their own times of each call, stress and programs alike):
        // otherwise every call may have run alone, and the passing checks are dropped (the rules are not exercised).
        // A failure stands either way: it was judged with the runner's own instants, which contain the real execution.
        if (onLanes && runner.LaneOverlap <= TimeSpan.Zero) checks.Clear();
        return new FamilyOutcome(checks, failures, operations, runs);
    }

    /// <summary>Runs <paramref name="program"/> up to <see cref="ReproductionRuns"/> times; the first violation, with its drawing.</summary>
    public static SequenceOutcome Replay<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, Profile profile,
        ParallelProgram<TOp> program) where TOp : notnull
    {
        using var runner = new Runner<TOp>(family, factory, profile);
        for (int run = 0; run < ReproductionRuns; run++)
        {
            if (runner.Once(program, new CheckScope(), explain: true, out var trace) is { } violation)
                return new SequenceOutcome { RuleId = violation.RuleId, Message = violation.Detail, Trace = trace, CSharp = family.CSharp(program) };
        }
        return new SequenceOutcome { Trace = [], CSharp = family.CSharp(program) };
    }

    /// <summary>Runs programs on fresh machines with one pool of CPUs (replaced when a run deadlocks).</summary>
    private sealed class Runner<TOp>(ParallelFamily<TOp> family, IImplementationFactory factory, Profile profile) : IDisposable where TOp : notnull
    {
        private CpuPool _cpus = new();

        /// <summary>How long the lanes of an out-of-process program ran together over every run so far (zero in-process).</summary>
        public TimeSpan LaneOverlap;

        /// <summary>One run; the violation, or null (also when only a masked rule diverged).</summary>
        public RuleViolation? Once(ParallelProgram<TOp> program, CheckScope scope, bool explain, out IReadOnlyList<string> trace) =>
            Once(program, scope, explain, out trace, out _);

        public RuleViolation? Once(ParallelProgram<TOp> program, CheckScope scope, bool explain, out IReadOnlyList<string> trace,
            out IReadOnlyList<CheckScope> cpuScopes)
        {
            trace = [];
            cpuScopes = [];
            IMemoryManager? mm = null;
            bool abandon = false;
            try
            {
                mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused profile {profile.Label} after accepting it");
                var result = family.Execute(mm, program, _cpus, scope, explain, RunTimeout);
                if (mm is ICpuLanes { Lanes: > 0 } lanes) LaneOverlap += lanes.Overlap();
                trace = result.Trace;
                cpuScopes = result.CpuScopes;
                if (_cpus.Spent)
                {
                    // Threads may still be inside this machine: never dispose or recycle it.
                    abandon = true;
                    _cpus = new CpuPool();
                }
                if (result.Diverged || scope.DivergedAt is not null) { cpuScopes = []; return null; }
                return result.Violation is { } v && !scope.IsMasked(v.RuleId) ? v : null;
            }
            catch (RuleViolation v) { return scope.IsMasked(v.RuleId) ? null : v; }
            catch (SequenceStopped) { return null; }
            catch (Exception e)
            {
                if (scope.IsMasked(family.PrimaryRule)) return null;
                return new RuleViolation(family.PrimaryRule, $"the implementation raised {e.GetType().Name} outside any documented error: {e.Message}");
            }
            finally
            {
                if (!abandon) mm?.Dispose();
            }
        }

        /// <summary>The family's stress on a fresh machine: its counterexample, or null (with the passing checks' scope, when it gave a verdict).</summary>
        public Counterexample? Stress(IReadOnlySet<string> mask, ulong stressSeed, ulong propertySeed, TimeSpan budget, out CheckScope? passed)
        {
            passed = null;
            var scope = new CheckScope(mask);
            IMemoryManager? mm = null;
            bool abandon = false;
            try
            {
                mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused profile {profile.Label} after accepting it");
                var outcome = family.RunStress(mm, _cpus, stressSeed, scope, budget, RunTimeout);
                if (outcome is not null && mm is ICpuLanes { Lanes: > 0 }) LaneOverlap += outcome.Overlap;
                if (_cpus.Spent)
                {
                    abandon = true;
                    _cpus = new CpuPool();
                }
                if (outcome is null || outcome.Diverged || scope.DivergedAt is not null) return null;
                if (outcome.Violation is not { } v)
                {
                    passed = scope;
                    return null;
                }
                return scope.IsMasked(v.RuleId) ? null : StressCounterexample(v, outcome, stressSeed, propertySeed);
            }
            catch (RuleViolation v) { return scope.IsMasked(v.RuleId) ? null : StressCounterexample(v, null, stressSeed, propertySeed); }
            catch (SequenceStopped) { return null; }
            catch (Exception e)
            {
                if (scope.IsMasked(family.PrimaryRule)) return null;
                return StressCounterexample(new RuleViolation(family.PrimaryRule, $"the implementation raised {e.GetType().Name} outside any documented error during the stress: {e.Message}"),
                    null, stressSeed, propertySeed);
            }
            finally
            {
                if (!abandon) mm?.Dispose();
            }
        }

        private Counterexample StressCounterexample(RuleViolation v, StressOutcome? outcome, ulong stressSeed, ulong propertySeed)
        {
            int steps = (int)Math.Min(int.MaxValue, Math.Max(1, outcome?.Operations ?? 1));
            return new Counterexample
            {
                RuleId = v.RuleId,
                Message = $"{v.Detail} [stress: {outcome?.Effort ?? "cut short"}; stress seed {stressSeed}]",
                ProfileLabel = profile.Label,
                Family = family.Name,
                Seed = propertySeed,
                OriginalSteps = steps,
                ShrunkSteps = steps,
                Trace = outcome is { Trace.Count: > 0 } ? outcome.Trace : [$"the {family.Name} stress (stress seed {stressSeed})"],
                CSharp =
                [
                    "// The stress, run again on fresh machines until it fails (a race shows when CPUs run together):",
                    $"var failure = KernelMm.Conformance.Parallel.ParallelReplay.StressFailure(new {family.GetType().FullName}(), factory, mm.Profile, seed: {stressSeed}UL);",
                    "Assert.True(failure is null, failure);",
                ],
            };
        }

        /// <summary>Shrinks a failing program, then re-runs the result to draw it and to count how often it fails.</summary>
        public Counterexample Shrink(ParallelProgram<TOp> original, RuleViolation first, IReadOnlyList<string> firstTrace, IReadOnlySet<string> mask,
            ulong propertySeed, int index)
        {
            string rule = first.RuleId;
            var clock = Stopwatch.StartNew();
            var current = original;
            int budget = ShrinkBudget;
            bool progress = true;
            // The time limit bounds a shrink on a fast machine; the first MinShrinkRuns runs are granted
            // whatever the clock says, so a loaded machine still shrinks (progress does not hang on the load).
            bool InBudget() => budget > 0 && (clock.Elapsed < ShrinkTime || ShrinkBudget - budget < MinShrinkRuns);
            while (progress && InBudget())
            {
                progress = false;
                foreach (var candidate in ParallelShrinker.Candidates(current, family.Simplify, family.Essential))
                {
                    if (!InBudget()) break;
                    bool fails = false;
                    for (int r = 0; r < CandidateRuns && InBudget() && !fails; r++, budget--)
                        fails = Once(candidate, new CheckScope(mask), explain: false, out _)?.RuleId == rule;
                    if (fails) { current = candidate; progress = true; break; }
                }
            }

            // Draw a failing run of the shrunk program, and measure how often it fails.
            RuleViolation? shown = null;
            IReadOnlyList<string> trace = [];
            int failed = 0;
            for (int r = 0; r < ReproductionRuns; r++)
            {
                var v = Once(current, new CheckScope(mask), explain: shown is null, out var t);
                if (v?.RuleId != rule) continue;
                failed++;
                if (shown is null) { shown = v; trace = t; }
            }
            string rate = $"{failed} of {ReproductionRuns} re-runs of the shrunk case failed";
            if (shown is null)
            {
                // The shrunk program did not fail again (a rare interleaving): show the run that failed first, and its program.
                rate = current == original
                    ? $"the failing interleaving did not come back in {ReproductionRuns} re-runs: it is rare; the run shown is the one that failed"
                    : $"the shrunk case did not fail in {ReproductionRuns} re-runs: the original run and program are shown";
                current = original;
                shown = first;
                trace = firstTrace;
            }
            return new Counterexample
            {
                RuleId = rule,
                Message = $"{shown.Detail} [parallel run, {current.Branches.Count} CPU(s); {rate}; program {index} of the property (seed {original.Seed}); "
                          + $"shrunk in {clock.Elapsed.TotalSeconds:F1} s]",
                ProfileLabel = profile.Label,
                Family = family.Name,
                Seed = propertySeed,
                OriginalSteps = original.Steps,
                ShrunkSteps = current.Steps,
                Trace = trace.Count > 0 ? trace : [$"(the failing run could not be drawn: it did not fail again in {ReproductionRuns} re-runs)"],
                CSharp = family.CSharp(current),
            };
        }

        public void Dispose() => _cpus.Dispose();
    }
}
