using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>The rule families of the inventory (shared/RULES.md).</summary>
public enum RuleFamily { ADDR, ZONE, GFP, KMAL, PAGE, VMAL, SLAB, MMAP, DRV, UACC, SWAP, ATOM }

/// <summary>Where a rule stands in this project.</summary>
public enum RuleStatus
{
    /// <summary>Has an executable check in the conformance suite.</summary>
    Encoded,
    /// <summary>Not yet encoded; a later issue will (the reason says which).</summary>
    Pending,
    /// <summary>Deliberately not encoded; the reason says why.</summary>
    NotEncoded,
}

/// <summary>
/// One documented rule: stable ID, a one-sentence statement in the project's words, the source
/// documents, how it is checked, and, where the documents leave a question open, the decision taken.
/// </summary>
public sealed record Rule
{
    /// <summary>Stable ID, verbatim from the inventory, e.g. "PAGE-4".</summary>
    public required string Id { get; init; }
    public required RuleFamily Family { get; init; }
    /// <summary>The rule in one sentence.</summary>
    public required string Statement { get; init; }
    /// <summary>Source documents (seed file numbers) or public references.</summary>
    public required string Source { get; init; }
    public required RuleStatus Status { get; init; }
    /// <summary>The executable form: what the check observes and when it fails. For Pending/NotEncoded: the reason.</summary>
    public required string Check { get; init; }
    /// <summary>Decision on a question the documents leave open, with its reason; null when none.</summary>
    public string? Decision { get; init; }
    /// <summary>Profile parameters the rule depends on.</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];
    /// <summary>What an implementation must declare for the rule to apply.</summary>
    public IReadOnlyList<Capability> Requires { get; init; } = [];

    public override string ToString() => $"{Id}: {Statement}";
}
