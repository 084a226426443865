using KernelMm.Spec.Contract;

namespace KernelMm.Spec.Rules;

/// <summary>The rule families of the inventory (shared/RULES.md).</summary>
public enum RuleFamily
{
    /// <summary>Pages, addresses and translation.</summary>
    ADDR,
    /// <summary>Physical zones.</summary>
    ZONE,
    /// <summary>Allocation context (GFP flags).</summary>
    GFP,
    /// <summary>The kmalloc family.</summary>
    KMAL,
    /// <summary>The page allocator and order semantics.</summary>
    PAGE,
    /// <summary>vmalloc.</summary>
    VMAL,
    /// <summary>Object caches (slab).</summary>
    SLAB,
    /// <summary>User mappings.</summary>
    MMAP,
    /// <summary>Driver mmap (and ioremap).</summary>
    DRV,
    /// <summary>User/kernel copies.</summary>
    UACC,
    /// <summary>Reclaim and swapping.</summary>
    SWAP,
    /// <summary>atomic_t.</summary>
    ATOM,
}

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
    /// <summary>The family, the ID's prefix (PAGE for PAGE-4).</summary>
    public required RuleFamily Family { get; init; }
    /// <summary>The rule in one sentence.</summary>
    public required string Statement { get; init; }
    /// <summary>Source documents (seed file numbers) or public references.</summary>
    public required string Source { get; init; }
    /// <summary>Whether the suite checks it yet.</summary>
    public required RuleStatus Status { get; init; }
    /// <summary>The executable form: what the check observes and when it fails. For Pending/NotEncoded: the reason.</summary>
    public required string Check { get; init; }
    /// <summary>Decision on a question the documents leave open, with its reason; null when none.</summary>
    public string? Decision { get; init; }
    /// <summary>Profile parameters the rule depends on.</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];
    /// <summary>What an implementation must declare for the rule to apply (all of them), unless it declares one of <see cref="OrRequires"/>.</summary>
    public IReadOnlyList<Capability> Requires { get; init; } = [];
    /// <summary>
    /// Other sets of capabilities, each enough on its own for the rule to apply ("any of"): a rule with a
    /// kernel side and a user side (ADDR-5, ADDR-6) applies to an implementation that declares the
    /// kernel-side capabilities (<see cref="Requires"/>) or the user-side ones, and is judged on the
    /// sides it declares. Empty for most rules. Data only: the suite decides applicability
    /// (conformance/Engine/Running/Requirements.cs).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Capability>> OrRequires { get; init; } = [];

    /// <summary>"ID: statement".</summary>
    public override string ToString() => $"{Id}: {Statement}";
}
