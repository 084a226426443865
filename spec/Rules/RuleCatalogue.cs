namespace KernelMm.Spec.Rules;

/// <summary>Every rule of the inventory, in inventory order, one file per family.</summary>
public static class RuleCatalogue
{
    /// <summary>Every rule, in inventory order.</summary>
    public static readonly IReadOnlyList<Rule> All =
    [
        .. AddrRules.All, .. ZoneRules.All, .. GfpRules.All, .. KmalRules.All, .. PageRules.All,
        .. VmalRules.All, .. SlabRules.All, .. MmapRules.All, .. DrvRules.All, .. UaccRules.All,
        .. SwapRules.All, .. AtomRules.All,
    ];

    private static readonly Dictionary<string, Rule> ById = All.ToDictionary(r => r.Id, StringComparer.Ordinal);

    /// <summary>The rule with this ID. Errors: <see cref="KeyNotFoundException"/>.</summary>
    public static Rule Get(string id) =>
        ById.TryGetValue(id, out var rule) ? rule : throw new KeyNotFoundException($"no rule '{id}' in the catalogue");

    /// <summary>Whether the catalogue has a rule with this ID (IDs are case-sensitive: "PAGE-4").</summary>
    public static bool Contains(string id) => ById.ContainsKey(id);
}
