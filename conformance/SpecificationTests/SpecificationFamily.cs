using System.Collections.Concurrent;
using System.Reflection;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// Marks an abstract family base (such as <see cref="PageAllocatorSpecificationTests"/>): which
/// engine family it runs and which catalogue families it reports. The rule tests of a class
/// deriving from the base are discovered from this attribute.
/// </summary>
/// <param name="engineFamily">The engine family's name (<see cref="IConformanceFamily.Name"/>), e.g. "pages".
/// A family the engine does not have yet reports all its rules as pending.</param>
/// <param name="catalogueFamilies">The catalogue families this base reports, in addition to every rule the engine family checks.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = true, AllowMultiple = false)]
public sealed class SpecificationFamilyAttribute(string engineFamily, params RuleFamily[] catalogueFamilies) : Attribute
{
    /// <summary>The engine family's name, e.g. "pages".</summary>
    public string EngineFamily { get; } = engineFamily;
    /// <summary>The catalogue families reported besides the engine family's rules.</summary>
    public IReadOnlyList<RuleFamily> CatalogueFamilies { get; } = catalogueFamilies;
}

/// <summary>
/// One family of the specification tests: its abstract base class, its engine family (null while
/// the engine has none), and the catalogue rules it reports, in catalogue order.
/// </summary>
public sealed class SpecificationFamily
{
    private static readonly ConcurrentDictionary<Type, SpecificationFamily?> ByClass = new();

    private SpecificationFamily(Type baseType, SpecificationFamilyAttribute attribute)
    {
        BaseType = baseType;
        Name = attribute.EngineFamily;
        Engine = SuiteRunner.Families.FirstOrDefault(f => f.Name == attribute.EngineFamily);
        var checkedHere = Engine?.RuleIds.ToHashSet(StringComparer.Ordinal) ?? [];
        var checkedElsewhere = SuiteRunner.Families.Where(f => f != Engine).SelectMany(f => f.RuleIds).ToHashSet(StringComparer.Ordinal);
        Rules = RuleCatalogue.All
            .Where(r => checkedHere.Contains(r.Id)
                        || (attribute.CatalogueFamilies.Contains(r.Family) && !checkedElsewhere.Contains(r.Id)))
            .ToList();
    }

    /// <summary>The abstract base class that carries the <see cref="SpecificationFamilyAttribute"/>.</summary>
    public Type BaseType { get; }
    /// <summary>The engine family's name, e.g. "pages"; also the name used in <see cref="ComplianceSpecificationTests.UnsupportedFamilies"/>.</summary>
    public string Name { get; }
    /// <summary>
    /// The capability an implementation declares to take part (the engine family's gate); without
    /// it every rule is skipped. Null while the engine has no such family.
    /// </summary>
    public Capability? Gate => Engine?.Gate;
    /// <summary>The engine family that runs the checks, or null when the engine has none yet (every rule pending).</summary>
    public IConformanceFamily? Engine { get; }
    /// <summary>The rules this family reports, one test each, in catalogue order.</summary>
    public IReadOnlyList<Rule> Rules { get; }

    /// <summary>Whether an engine check of this family can exercise <paramref name="ruleId"/>.</summary>
    public bool Checks(string ruleId) => Engine?.RuleIds.Contains(ruleId) == true;

    /// <summary>
    /// Why the rule test is skipped before anything runs, or null when it runs: a rule the
    /// catalogue has not encoded yet, or one this family has no check for.
    /// </summary>
    public string? StaticSkipReason(Rule rule)
    {
        if (rule.Status != RuleStatus.Encoded)
            return $"{rule.Status.ToString().ToLowerInvariant()}: {StripStatusPrefix(rule.Check)}";
        if (!Checks(rule.Id))
            return $"pending: the rule is encoded in the catalogue, but this version of the '{Name}' family has no check that exercises it";
        return null;
    }

    private static string StripStatusPrefix(string check)
    {
        foreach (var prefix in new[] { "Pending:", "Not encoded:", "NotEncoded:" })
            if (check.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return check[prefix.Length..].TrimStart();
        return check;
    }

    /// <summary>The family of a test class (the nearest base carrying the attribute), or null when it has none.</summary>
    public static SpecificationFamily? Of(Type testClass) => ByClass.GetOrAdd(testClass, static type =>
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.GetCustomAttribute<SpecificationFamilyAttribute>(inherit: false) is { } attribute)
                return new SpecificationFamily(t, attribute);
        return null;
    });

    /// <summary>Every family base this package ships: the abstract classes carrying the attribute.</summary>
    public static IReadOnlyList<SpecificationFamily> Shipped { get; } = typeof(SpecificationFamily).Assembly.GetExportedTypes()
        .Where(t => t.IsAbstract && t.GetCustomAttribute<SpecificationFamilyAttribute>(inherit: false) is not null)
        .Select(t => Of(t)!)
        .OrderBy(f => f.BaseType.Name, StringComparer.Ordinal)
        .ToList();

    /// <inheritdoc/>
    public override string ToString() => $"{BaseType.Name} (family '{Name}')";
}
