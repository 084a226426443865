using System.Reflection;
using Xunit;

namespace KernelMm.Conformance.Specification;

/// <summary>
/// Makes opting out explicit, as EF Core's ComplianceTestBase does: its test fails and lists every
/// family base of this package that your test assembly neither derives from nor lists, with a
/// reason, in <see cref="UnsupportedFamilies"/>. When a later version of the package adds a family
/// (kmalloc, slab, vmalloc, ...), this test tells you.
/// </summary>
/// <remarks>
/// <code>
/// public sealed class MyComplianceTests : ComplianceSpecificationTests
/// {
///     protected override Assembly TargetAssembly => typeof(MyComplianceTests).Assembly;
///     protected override IReadOnlySet&lt;string&gt; UnsupportedFamilies =&gt; new HashSet&lt;string&gt;
///     {
///         "kmalloc: this allocator has no object caches",
///     };
/// }
/// </code>
/// </remarks>
public abstract class ComplianceSpecificationTests
{
    /// <summary>The assembly holding your derived test classes (usually the one this class is in).</summary>
    protected abstract Assembly TargetAssembly { get; }

    /// <summary>
    /// Families you deliberately do not test, each as "name: reason". The name is the family's name
    /// (e.g. "pages") or its base class (e.g. "PageAllocatorSpecificationTests"); the reason is
    /// required and says why (e.g. "pages: this emulator has no buddy allocator"). Default: none.
    /// </summary>
    protected virtual IReadOnlySet<string> UnsupportedFamilies => new HashSet<string>();

    /// <summary>Every family base of the package is derived in the target assembly or listed as unsupported with a reason.</summary>
    [Fact]
    public void Every_family_is_tested_or_declared_unsupported()
    {
        var problems = Compliance.Problems(TargetAssembly, UnsupportedFamilies, SpecificationFamily.Shipped);
        if (problems.Count > 0)
            throw new ComplianceException(
                $"{TargetAssembly.GetName().Name} does not cover every family of the conformance suite:\n  - " + string.Join("\n  - ", problems));
    }
}

/// <summary>The compliance test failed: some family is neither tested nor declared unsupported.</summary>
public sealed class ComplianceException(string message) : Xunit.Sdk.XunitException(message);

/// <summary>The compliance check itself, apart from xunit.</summary>
internal static class Compliance
{
    public static IReadOnlyList<string> Problems(Assembly target, IReadOnlySet<string> unsupported, IReadOnlyList<SpecificationFamily> families)
    {
        var problems = new List<string>();
        var declared = new Dictionary<SpecificationFamily, string>();
        foreach (var entry in unsupported)
        {
            int colon = entry.IndexOf(':');
            string name = (colon < 0 ? entry : entry[..colon]).Trim();
            string reason = colon < 0 ? "" : entry[(colon + 1)..].Trim();
            var family = families.FirstOrDefault(f => f.Name == name || f.BaseType.Name == name);
            if (family is null)
                problems.Add($"UnsupportedFamilies lists \"{entry}\", but no family is named '{name}'; known: {string.Join(", ", families.Select(f => $"{f.Name} ({f.BaseType.Name})"))}");
            else if (reason.Length == 0)
                problems.Add($"UnsupportedFamilies lists '{name}' without a reason: write it as \"{name}: why this implementation does not take part\"");
            else
                declared[family] = reason;
        }

        var concrete = LoadableTypes(target).Where(t => t is { IsClass: true, IsAbstract: false }).ToList();
        foreach (var family in families)
        {
            var derived = concrete.Where(family.BaseType.IsAssignableFrom).Select(t => t.FullName).ToList();
            bool optedOut = declared.ContainsKey(family);
            if (derived.Count == 0 && !optedOut)
                problems.Add($"{family.BaseType.Name} (family '{family.Name}', {family.Rules.Count} rules: {string.Join(", ", family.Rules.Select(r => r.Id))}) " +
                             $"is not tested: derive a class from it and override CreateFactory, or list \"{family.Name}: <reason>\" in UnsupportedFamilies");
            else if (derived.Count > 0 && optedOut)
                problems.Add($"{family.BaseType.Name} (family '{family.Name}') is listed as unsupported (\"{declared[family]}\") but tested by {string.Join(", ", derived)}: remove one of the two");
        }
        return problems;
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.Where(t => t is not null)!; }
    }
}
