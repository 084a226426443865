using FsCheck;
using KernelMm.Conformance.Checking;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Running;

/// <summary>
/// A family of generated sequences (e.g. the page allocator): how to generate and shrink its
/// steps, and how to run one sequence against a booted implementation with checks.
/// </summary>
public interface IConformanceFamily
{
    /// <summary>Short name used on the command line and in reports, e.g. "pages".</summary>
    string Name { get; }
    /// <summary>The rules this family's checks can exercise.</summary>
    IReadOnlyList<string> RuleIds { get; }
    /// <summary>The family runs only when the implementation declares this capability.</summary>
    Capability Gate { get; }
    /// <summary>The rule an unexpected crash of the implementation is reported against.</summary>
    string PrimaryRule { get; }

    /// <summary>Runs the family's property on one profile; see <see cref="PropertyRunner"/>.</summary>
    FamilyOutcome Run(IImplementationFactory factory, Profile profile, RunSettings settings, IReadOnlySet<string> masked);
}

/// <summary>The typed half of a family: generator, shrinker, executor over its step type.</summary>
public abstract class ConformanceFamily<TOp> : IConformanceFamily where TOp : notnull
{
    public abstract string Name { get; }
    public abstract IReadOnlyList<string> RuleIds { get; }
    public abstract Capability Gate { get; }
    public abstract string PrimaryRule { get; }

    public abstract Gen<TOp[]> Generator(Profile profile);
    public abstract IEnumerable<TOp[]> Shrink(TOp[] ops);
    /// <summary>Boots nothing: runs <paramref name="ops"/> on a freshly booted instance, throwing <see cref="RuleViolation"/> on the first failed check.</summary>
    public abstract void Execute(IMemoryManager mm, TOp[] ops, CheckScope scope, Trace trace);

    public FamilyOutcome Run(IImplementationFactory factory, Profile profile, RunSettings settings, IReadOnlySet<string> masked) =>
        PropertyRunner.Run(this, factory, profile, settings, masked);
}

/// <summary>How hard to look: sequences per property, their length, and the seed everything derives from.</summary>
public sealed record RunSettings
{
    public ulong Seed { get; init; } = 1;
    /// <summary>Generated sequences per (family, profile, memory size).</summary>
    public int Sequences { get; init; } = 100;
    /// <summary>Upper bound on a sequence's length (FsCheck's end size).</summary>
    public int MaxSteps { get; init; } = 60;
    /// <summary>Stop looking for further failing rules after this many per property.</summary>
    public int MaxFailuresPerProperty { get; init; } = 12;
}

/// <summary>One failure, shrunk, with everything needed to read and replay it.</summary>
public sealed record Counterexample
{
    public required string RuleId { get; init; }
    public required string Message { get; init; }
    public required string ProfileLabel { get; init; }
    public required string Family { get; init; }
    public required ulong Seed { get; init; }
    public required int OriginalSteps { get; init; }
    public required int ShrunkSteps { get; init; }
    public required IReadOnlyList<string> Trace { get; init; }
    public required IReadOnlyList<string> CSharp { get; init; }
}

/// <summary>What one family found on one profile: checks per rule, failures per rule, operations run.</summary>
public sealed record FamilyOutcome(
    IReadOnlyDictionary<string, long> Checks,
    IReadOnlyDictionary<string, Counterexample> Failures,
    long Operations,
    int Sequences);
