using FsCheck;
using FsCheck.Fluent;
using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Running;

/// <summary>
/// Drives FsCheck: generates sequences, runs each on a fresh instance, and on a failure lets
/// FsCheck shrink it to a minimal sequence that still breaks the same rule. The failing rule is
/// then masked and the property run again, so every broken rule is found, not just the first.
/// </summary>
/// <remarks>
/// <para>Honest verdicts under masking (see <see cref="CheckScope"/>): in a sequence where a masked
/// rule fails, the checks after it still run. A rule whose check fails only there is reported
/// <see cref="RuleOutcome.Blocked"/> by the masked rule, with that first observation (shrunk), never
/// "pass"; a sequence cut short by a failed call at or after a masked failure is counted, per masked
/// rule, in <see cref="FamilyOutcome.CutShort"/>, so a rule nothing else reached is Blocked too.</para>
/// <para>Crashes (<see cref="ContractBoundary"/>): a call that fails as a call is charged to the
/// check that runs next in that step, is the last step of the counterexample, and the replay of the
/// shrunk sequence makes the same call.</para>
/// <para>A failure that does not happen again when its sequence is replayed keeps its first
/// observation, and is flagged not reproducible.</para>
/// </remarks>
public static class PropertyRunner
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL; // odd, as SplitMix requires
    /// <summary>Sequences tried while shrinking the sequence that shows a blocked check: a readable observation, bounded cost.</summary>
    private const int BlockedShrinkBudget = 64;

    public static FamilyOutcome Run<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        RunSettings settings, IReadOnlySet<string> masked) where TOp : notnull
    {
        var checks = new Dictionary<string, long>(StringComparer.Ordinal);
        var failures = new Dictionary<string, Counterexample>(StringComparer.Ordinal);
        var mask = new HashSet<string>(masked, StringComparer.Ordinal);
        var blocked = new Dictionary<string, Observation<TOp>>(StringComparer.Ordinal);
        var cutShort = new Dictionary<string, int>(StringComparer.Ordinal);
        long operations = 0;
        int sequences = 0;
        ulong seed = DeriveSeed(settings.Seed, $"{family.Name}/{profile.Label}");

        for (int round = 0; round < settings.MaxFailuresPerProperty; round++)
        {
            var found = CheckOnce(family, factory, profile, settings, seed, mask, checks, ref operations, ref sequences, blocked, cutShort);
            if (found is null) break;
            failures[found.RuleId] = found;
            mask.Add(found.RuleId);
        }

        var blockedRules = new Dictionary<string, Counterexample>(StringComparer.Ordinal);
        foreach (var (rule, seen) in blocked)
            if (!failures.ContainsKey(rule) && !masked.Contains(rule))
                blockedRules[rule] = ExplainBlocked(family, factory, profile, seed, rule, seen);
        return new FamilyOutcome(checks, failures, operations, sequences) { Blocked = blockedRules, CutShort = cutShort };
    }

    /// <summary>The per-property seed: the run seed mixed with the property's name, so filters do not change sequences.</summary>
    public static ulong DeriveSeed(ulong seed, string name)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in name) { h ^= c; h *= 1099511628211UL; }
        ulong z = seed + h * Gamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A check that failed after a masked failure: what it said, the sequence, and the mask it ran under.</summary>
    private sealed record Observation<TOp>(BlockedCheck Check, TOp[] Ops, IReadOnlySet<string> Mask);

    private static Counterexample? CheckOnce<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        RunSettings settings, ulong seed, IReadOnlySet<string> mask, Dictionary<string, long> checks,
        ref long operations, ref int sequences, Dictionary<string, Observation<TOp>> blocked, Dictionary<string, int> cutShort) where TOp : notnull
    {
        string? target = null;
        RuleViolation? first = null;
        TOp[]? firstOps = null;
        long ops = 0;
        int runs = 0;
        var roundMask = new HashSet<string>(mask, StringComparer.Ordinal);
        var blockedRules = new HashSet<string>(blocked.Keys, StringComparer.Ordinal);
        var arb = Arb.From(family.Generator(profile), family.Shrink);
        var property = Prop.ForAll(arb, (TOp[] seq) =>
        {
            var scope = new CheckScope(roundMask) { KnownBlocked = blockedRules };
            var run = Execute(family, factory, profile, seq, scope, new Trace());
            if (run.Violation is { } violation)
            {
                if (target is null) { target = violation.RuleId; first = violation; firstOps = seq; }
                // While shrinking, only the rule first found counts: a smaller sequence that breaks
                // something else is not a counterexample for it.
                return violation.RuleId != target;
            }
            if (target is null)
            {
                scope.MergeInto(checks);
                ops += scope.Operations;
                runs++;
                if (run.StoppedBy is { } by) cutShort[by] = cutShort.GetValueOrDefault(by) + 1;
                foreach (var (rule, check) in scope.Blocked)
                    if (blocked.TryAdd(rule, new Observation<TOp>(check, seq, roundMask))) blockedRules.Add(rule);
            }
            return true;
        });
        var runner = new CapturingRunner();
        var config = Config.Quick
            .WithMaxTest(settings.Sequences)
            .WithEndSize(settings.MaxSteps)
            .WithQuietOnSuccess(true)
            .WithRunner(runner)
            .WithReplay(seed, Gamma);
        Check.One(config, property);
        operations += ops;
        sequences += runs;

        if (runner.Result is not TestResult.Failed failed) return null;
        var original = (TOp[])failed.Item2.Head;
        var shrunk = (TOp[])failed.Item3.Head;
        var (trace, replayed) = Explain(family, factory, profile, shrunk, roundMask);
        bool reproducible = true;
        if (replayed?.RuleId != target)
        {
            // Not reproducible on the shrunk sequence (a non-deterministic implementation): try the original.
            shrunk = original;
            (trace, replayed) = Explain(family, factory, profile, original, roundMask);
            if (replayed?.RuleId != target)
            {
                // It did not fail again: keep what was seen the first time, and say so.
                reproducible = false;
                shrunk = firstOps ?? original;
                replayed = first;
                if (!ReferenceEquals(shrunk, original)) (trace, _) = Explain(family, factory, profile, shrunk, roundMask);
            }
        }
        return Describe(family, profile, seed, target!, replayed!.Detail, original.Length, shrunk, trace, reproducible);
    }

    private static Counterexample Describe<TOp>(ConformanceFamily<TOp> family, Profile profile, ulong seed, string rule, string message,
        int originalSteps, TOp[] ops, Trace trace, bool reproducible, string? blockedBy = null) where TOp : notnull
    {
        var kernel = trace.KernelLines.ToList();
        var csharp = trace.CSharpLines.ToList();
        if (!reproducible)
        {
            kernel.Add($"(the check of {rule} failed during the first run of these steps; replayed, they ran to the end without failing)");
            csharp.Add($"// {rule} failed during the first run of these steps, not when they were replayed");
        }
        IReadOnlyList<string> steps;
        IReadOnlyList<string> namespaces;
        try
        {
            steps = ops.Select(op => CSharpLiteral.Of(op, typeof(TOp))).ToList();
            namespaces = ops.SelectMany(op => CSharpLiteral.Namespaces(op)).Append(typeof(TOp).Namespace!).Distinct().Order(StringComparer.Ordinal).ToList();
        }
        catch (NotSupportedException)
        {
            steps = [];
            namespaces = [];
        }
        return new Counterexample
        {
            RuleId = rule,
            Message = message,
            ProfileLabel = profile.Label,
            Family = family.Name,
            Seed = seed,
            OriginalSteps = originalSteps,
            ShrunkSteps = ops.Length,
            Trace = kernel,
            CSharp = csharp,
            Reproducible = reproducible,
            BlockedBy = blockedBy,
            Ops = ops.Cast<object>().ToList(),
            Steps = steps,
            StepType = CSharpLiteral.Name(typeof(TOp)),
            StepNamespaces = namespaces,
        };
    }

    /// <summary>Runs <paramref name="ops"/> again with the trace on; returns the trace and the violation (null when every check held).</summary>
    private static (Trace Trace, RuleViolation? Violation) Explain<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        TOp[] ops, IReadOnlySet<string> mask) where TOp : notnull
    {
        var trace = new Trace { Enabled = true };
        return (trace, Execute(family, factory, profile, ops, new CheckScope(mask), trace).Violation);
    }

    /// <summary>
    /// The first observation of a blocked check, shrunk a little (at most <see cref="BlockedShrinkBudget"/>
    /// sequences tried, keeping any smaller one in which the check still fails after a masked failure),
    /// then replayed with the trace on.
    /// </summary>
    private static Counterexample ExplainBlocked<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        ulong seed, string rule, Observation<TOp> seen) where TOp : notnull
    {
        BlockedCheck? StillBlocked(TOp[] ops)
        {
            var scope = new CheckScope(seen.Mask);
            var run = Execute(family, factory, profile, ops, scope, new Trace());
            return run.Violation is null && scope.Blocked.TryGetValue(rule, out var check) ? check : null;
        }

        var best = seen.Ops;
        var check = seen.Check;
        int budget = BlockedShrinkBudget;
        bool smaller = true;
        while (smaller && budget > 0)
        {
            smaller = false;
            foreach (var candidate in family.Shrink(best))
            {
                if (budget-- <= 0) break;
                if (StillBlocked(candidate) is { } c) { best = candidate; check = c; smaller = true; break; }
            }
        }
        var trace = new Trace { Enabled = true };
        var scope = new CheckScope(seen.Mask);
        Execute(family, factory, profile, best, scope, trace);
        bool reproducible = scope.Blocked.TryGetValue(rule, out var again);
        var ce = Describe(family, profile, seed, rule, (again ?? check).Message, seen.Ops.Length, best, trace, reproducible: true, blockedBy: (again ?? check).After);
        return reproducible ? ce : ce with { Reproducible = false };
    }

    /// <summary>Replays one sequence with every check and nothing masked (the public replay API).</summary>
    internal static SequenceOutcome Replay<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile, TOp[] ops) where TOp : notnull
    {
        var trace = new Trace { Enabled = true };
        var run = Execute(family, factory, profile, ops, new CheckScope(), trace);
        return new SequenceOutcome
        {
            RuleId = run.Violation?.RuleId,
            Message = run.Violation?.Detail,
            Failure = run.Violation?.Failure,
            Trace = trace.KernelLines,
            CSharp = trace.CSharpLines,
        };
    }

    /// <summary>How one sequence ended: a violation, cut short by a masked rule, or (both null) every check run.</summary>
    private readonly record struct SequenceEnd(RuleViolation? Violation, string? StoppedBy);

    /// <summary>Runs one sequence on a fresh instance, behind the contract boundary.</summary>
    private static SequenceEnd Execute<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        TOp[] ops, CheckScope scope, Trace trace) where TOp : notnull
    {
        IMemoryManager? mm = null;
        var recorder = new CallRecorder(trace, family.PrimaryRule);
        bool bounded = false;
        try
        {
            mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused profile {profile.Label} after accepting it");
            var boundary = ContractBoundary.Wrap(mm, recorder);
            bounded = boundary is not null;
            if (bounded) scope.Recorder = recorder;
            family.Execute(boundary ?? mm, ops, scope, trace);
            // A call failed after the last check of the sequence: no check was left to report it.
            return recorder.Pending is { } unclaimed ? Charge(scope, family.PrimaryRule, unclaimed) : default;
        }
        catch (RuleViolation violation) { return new(violation, null); }
        catch (SequenceStopped stopped) { return new(null, stopped.RuleId); }
        catch (Exception e)
        {
            // A failed call that the step's own code tripped over (on the defaults a dead instance
            // returns) before any check: charged to the family's primary rule, as docs/protocol.md says
            // for a call not inside a check.
            if (recorder.Pending is { } pending) return Charge(scope, family.PrimaryRule, pending);
            // Behind the boundary every implementation exception is either judged or recorded, so
            // this one is the suite's own, on a model that no longer fits after a masked failure.
            if (bounded && scope.DivergedAt is { } masked) return new(null, masked);
            // Booting failed, or the instance could not be put behind the boundary.
            trace.Last($"implementation failed: {e.GetType().Name}: {e.Message}", "// implementation failed here");
            return Charge(scope, family.PrimaryRule, new CallFailure("", "", e));
        }
        finally
        {
            mm?.Dispose();
        }
    }

    private static SequenceEnd Charge(CheckScope scope, string rule, CallFailure failure)
    {
        try { scope.Charge(rule, failure); }
        catch (RuleViolation violation) { return new(violation, null); }
        catch (SequenceStopped stopped) { return new(null, stopped.RuleId); }
        throw new InvalidOperationException("CheckScope.Charge always ends the sequence");
    }

    private sealed class CapturingRunner : IRunner
    {
        public TestResult? Result { get; private set; }
        public void OnStartFixture(Type t) { }
        public void OnArguments(int ntest, Microsoft.FSharp.Collections.FSharpList<object> args,
            Microsoft.FSharp.Core.FSharpFunc<int, Microsoft.FSharp.Core.FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string>> every) { }
        public void OnShrink(Microsoft.FSharp.Collections.FSharpList<object> args,
            Microsoft.FSharp.Core.FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string> everyShrink) { }
        public void OnFinished(string name, TestResult result) => Result = result;
    }
}
