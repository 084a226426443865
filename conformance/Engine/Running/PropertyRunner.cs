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
public static class PropertyRunner
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL; // odd, as SplitMix requires

    public static FamilyOutcome Run<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        RunSettings settings, IReadOnlySet<string> masked) where TOp : notnull
    {
        var checks = new Dictionary<string, long>(StringComparer.Ordinal);
        var failures = new Dictionary<string, Counterexample>(StringComparer.Ordinal);
        var mask = new HashSet<string>(masked, StringComparer.Ordinal);
        long operations = 0;
        int sequences = 0;
        ulong seed = DeriveSeed(settings.Seed, $"{family.Name}/{profile.Label}");

        for (int round = 0; round < settings.MaxFailuresPerProperty; round++)
        {
            var found = CheckOnce(family, factory, profile, settings, seed, mask, checks, ref operations, ref sequences);
            if (found is null) break;
            failures[found.RuleId] = found;
            mask.Add(found.RuleId);
        }
        return new FamilyOutcome(checks, failures, operations, sequences);
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

    private static Counterexample? CheckOnce<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        RunSettings settings, ulong seed, IReadOnlySet<string> mask, Dictionary<string, long> checks,
        ref long operations, ref int sequences) where TOp : notnull
    {
        string? target = null;
        long ops = 0;
        int runs = 0;
        var arb = Arb.From(family.Generator(profile), family.Shrink);
        var property = Prop.ForAll(arb, (TOp[] seq) =>
        {
            var scope = new CheckScope(mask);
            var outcome = Execute(family, factory, profile, seq, scope, new Trace());
            if (outcome is { } violation)
            {
                target ??= violation.RuleId;
                // While shrinking, only the rule first found counts: a smaller sequence that breaks
                // something else is not a counterexample for it.
                return violation.RuleId != target;
            }
            if (target is null) { scope.MergeInto(checks); ops += scope.Operations; runs++; }
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
        var trace = new Trace { Enabled = true };
        var replayed = Execute(family, factory, profile, shrunk, new CheckScope(mask), trace);
        if (replayed is null || replayed.RuleId != target)
        {
            // Not reproducible on the shrunk sequence (a non-deterministic implementation): report the original.
            trace = new Trace { Enabled = true };
            replayed = Execute(family, factory, profile, original, new CheckScope(mask), trace) ?? new RuleViolation(target!, "failed once, did not fail again on replay: the implementation is not deterministic");
            shrunk = original;
        }
        return new Counterexample
        {
            RuleId = target!,
            Message = replayed.Detail,
            ProfileLabel = profile.Label,
            Family = family.Name,
            Seed = seed,
            OriginalSteps = original.Length,
            ShrunkSteps = shrunk.Length,
            Trace = trace.KernelLines,
            CSharp = trace.CSharpLines,
        };
    }

    /// <summary>Runs one sequence on a fresh instance; returns the violation, or null when every check held.</summary>
    private static RuleViolation? Execute<TOp>(ConformanceFamily<TOp> family, IImplementationFactory factory, Profile profile,
        TOp[] ops, CheckScope scope, Trace trace) where TOp : notnull
    {
        IMemoryManager? mm = null;
        try
        {
            mm = factory.Create(profile) ?? throw new InvalidOperationException($"{factory.Name} refused profile {profile.Label} after accepting it");
            family.Execute(mm, ops, scope, trace);
            return null;
        }
        catch (RuleViolation violation) { return violation; }
        catch (MaskedDivergence) { return null; }
        catch (Exception e)
        {
            if (scope.IsMasked(family.PrimaryRule)) return null;
            // A crashed, hung or garbled implementation process is reported once, against the family's
            // primary rule, with what the adapter saw.
            string what = e is OutOfProcess.ImplementationFaultException
                ? $"the implementation process failed: {e.Message}"
                : $"the implementation raised {e.GetType().Name} outside any documented error: {e.Message}";
            trace.Step($"implementation failed: {e.GetType().Name}: {e.Message}", "// implementation failed here");
            return new RuleViolation(family.PrimaryRule, what);
        }
        finally
        {
            mm?.Dispose();
        }
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
