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
    /// <summary>
    /// Every capability the family's sequences call without asking (the gate first): it runs only when
    /// all are declared. The vm family also allocates pages around its vmalloc traffic and counts them,
    /// so it needs <see cref="Capability.PageAllocator"/> beside <see cref="Capability.Vmalloc"/>.
    /// </summary>
    IReadOnlyList<Capability> Needs => [Gate];
    /// <summary>The rule an unexpected crash of the implementation is reported against.</summary>
    string PrimaryRule { get; }

    /// <summary>Runs the family's property on one profile; see <see cref="PropertyRunner"/>.</summary>
    FamilyOutcome Run(IImplementationFactory factory, Profile profile, RunSettings settings, IReadOnlySet<string> masked);

    /// <summary>
    /// Runs one given sequence (steps of this family's step type) on a freshly booted instance,
    /// through every check, nothing masked, and says what broke first: the replay behind a printed
    /// regression test.
    /// </summary>
    SequenceOutcome Replay(IImplementationFactory factory, Profile profile, IReadOnlyList<object> steps);

    /// <summary>The type of this family's steps (e.g. PageOp).</summary>
    Type StepType { get; }
}

/// <summary>The typed half of a family: generator, shrinker, executor over its step type.</summary>
public abstract class ConformanceFamily<TOp> : IConformanceFamily where TOp : notnull
{
    public abstract string Name { get; }
    public abstract IReadOnlyList<string> RuleIds { get; }
    public abstract Capability Gate { get; }
    /// <inheritdoc cref="IConformanceFamily.Needs"/>
    public virtual IReadOnlyList<Capability> Needs => [Gate];
    public abstract string PrimaryRule { get; }

    public abstract Gen<TOp[]> Generator(Profile profile);
    public abstract IEnumerable<TOp[]> Shrink(TOp[] ops);
    /// <summary>Boots nothing: runs <paramref name="ops"/> on a freshly booted instance, throwing <see cref="RuleViolation"/> on the first failed check.</summary>
    public abstract void Execute(IMemoryManager mm, TOp[] ops, CheckScope scope, Trace trace);

    public FamilyOutcome Run(IImplementationFactory factory, Profile profile, RunSettings settings, IReadOnlySet<string> masked) =>
        PropertyRunner.Run(this, factory, profile, settings, masked);

    public SequenceOutcome Replay(IImplementationFactory factory, Profile profile, IReadOnlyList<object> steps)
    {
        var ops = new TOp[steps.Count];
        for (int i = 0; i < ops.Length; i++)
            ops[i] = steps[i] is TOp op ? op : throw new ArgumentException($"step {i + 1} is a {steps[i]?.GetType().Name ?? "null"}, not a {typeof(TOp).Name} of family '{Name}'", nameof(steps));
        return PropertyRunner.Replay(this, factory, profile, ops);
    }

    public Type StepType => typeof(TOp);
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

    /// <summary>
    /// False when the failure did not happen again when the sequence was replayed (a
    /// non-deterministic implementation): <see cref="Message"/> is then the first observation, kept
    /// as it was seen, and <see cref="Trace"/> what the replay did.
    /// </summary>
    public bool Reproducible { get; init; } = true;

    /// <summary>
    /// Set when this is not a failure but a blocked check: the rule's check failed only after the
    /// masked rule named here had failed earlier in the same sequence (see <see cref="RuleOutcome.Blocked"/>).
    /// </summary>
    public string? BlockedBy { get; init; }

    /// <summary>The shrunk steps themselves (of the family's step type), for replaying them in code.</summary>
    public IReadOnlyList<object> Ops { get; init; } = [];

    /// <summary>The same steps as C# expressions (<c>new PageOp(PageOpKind.Free, Slot: 3)</c>), for a printed regression test.</summary>
    public IReadOnlyList<string> Steps { get; init; } = [];

    /// <summary>The steps' C# type name (e.g. <c>PageOp</c>) and the namespaces <see cref="Steps"/> need.</summary>
    public string StepType { get; init; } = "";
    public IReadOnlyList<string> StepNamespaces { get; init; } = [];
}

/// <summary>What one replayed sequence did: the rule that broke first (null when every check held), and what was seen.</summary>
public sealed record SequenceOutcome
{
    /// <summary>The rule whose check failed first, or null.</summary>
    public string? RuleId { get; init; }
    public string? Message { get; init; }
    /// <summary>The implementation call that failed as a call (a crash, a hang, an exception outside the contract), when that is what broke.</summary>
    public CallFailure? Failure { get; init; }
    public required IReadOnlyList<string> Trace { get; init; }
    public required IReadOnlyList<string> CSharp { get; init; }
    public bool Held => RuleId is null;
}

/// <summary>What one family found on one profile: checks per rule, failures per rule, operations run.</summary>
public sealed record FamilyOutcome(
    IReadOnlyDictionary<string, long> Checks,
    IReadOnlyDictionary<string, Counterexample> Failures,
    long Operations,
    int Sequences)
{
    /// <summary>
    /// Rules whose check failed only after a masked rule had failed in the same sequence, and never
    /// before one (each with its first such observation, <see cref="Counterexample.BlockedBy"/> set).
    /// </summary>
    public IReadOnlyDictionary<string, Counterexample> Blocked { get; init; } = new Dictionary<string, Counterexample>();

    /// <summary>Sequences cut short, per masked rule that cut them (a failed call at or after a masked failure).</summary>
    public IReadOnlyDictionary<string, int> CutShort { get; init; } = new Dictionary<string, int>();
}
