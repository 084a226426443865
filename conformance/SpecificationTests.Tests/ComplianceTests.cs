using KernelMm.Conformance.Specification;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>The compliance check: every shipped family is tested or opted out of with a reason.</summary>
public sealed class ComplianceTests
{
    private static IReadOnlyList<string> Problems(System.Reflection.Assembly target, params string[] unsupported) =>
        Compliance.Problems(target, unsupported.ToHashSet(), SpecificationFamily.Shipped);

    [Fact]
    public void Assembly_without_a_derived_class_is_told_which_family_base_is_missing()
    {
        var problems = Problems(typeof(object).Assembly);
        var page = Assert.Single(problems, p => p.StartsWith("PageAllocatorSpecificationTests"));
        Assert.Contains("family 'pages'", page);
        Assert.Contains("PAGE-4", page);
        Assert.Contains("derive a class from it and override CreateFactory, or list \"pages: <reason>\" in UnsupportedFamilies", page);
    }

    [Fact]
    public void Family_listed_unsupported_with_a_reason_is_accepted_by_name_or_base_class()
    {
        var everyFamily = SpecificationFamily.Shipped.Select(f => $"{f.Name}: not in this emulator").ToArray();
        Assert.Empty(Problems(typeof(object).Assembly, everyFamily));
        var byBase = SpecificationFamily.Shipped.Select(f => $"{f.BaseType.Name}: not in this emulator").ToArray();
        Assert.Empty(Problems(typeof(object).Assembly, byBase));
    }

    [Fact]
    public void Opting_out_without_a_reason_is_refused()
    {
        var problem = Assert.Single(Problems(typeof(ComplianceTests).Assembly, "pages"));
        Assert.Contains("without a reason", problem);
    }

    [Fact]
    public void Unknown_family_name_is_refused_listing_the_known_ones()
    {
        var problem = Assert.Single(Problems(typeof(ComplianceTests).Assembly, "kmalloc-typo: no caches"));
        Assert.Contains("no family is named 'kmalloc-typo'", problem);
        Assert.Contains("pages (PageAllocatorSpecificationTests)", problem);
    }

    [Fact]
    public void Family_both_tested_and_listed_unsupported_is_a_contradiction()
    {
        var problem = Assert.Single(Problems(typeof(ComplianceTests).Assembly, "pages: not supported"));
        Assert.Contains("listed as unsupported", problem);
        Assert.Contains(typeof(ReferencePageAllocatorTests).FullName!, problem);
    }
}
