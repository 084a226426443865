using KernelMm.Conformance.Running;
using KernelMm.Conformance.Specification;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Rules;

namespace KernelMm.SpecificationTests.Tests;

/// <summary>Which rules each family base reports, and which families the package ships.</summary>
public sealed class FamilyTests
{
    [Fact]
    public void Page_family_reports_every_rule_its_engine_family_checks_in_catalogue_order()
    {
        var family = SpecificationFamily.Of(typeof(ReferencePageAllocatorTests))!;
        var engine = SuiteRunner.Families.Single(f => f.Name == "pages");
        Assert.Same(typeof(PageAllocatorSpecificationTests), family.BaseType);
        Assert.Equal<Capability?>(engine.Gate, family.Gate);
        Assert.Equal(engine.RuleIds.ToHashSet(), family.Rules.Select(r => r.Id).Where(engine.RuleIds.Contains).ToHashSet());
        var catalogueOrder = RuleCatalogue.All.Select(r => r.Id).ToList();
        Assert.Equal(family.Rules.OrderBy(r => catalogueOrder.IndexOf(r.Id)).Select(r => r.Id), family.Rules.Select(r => r.Id));
        Assert.All(RuleCatalogue.All.Where(r => r.Family is RuleFamily.PAGE or RuleFamily.ZONE or RuleFamily.GFP),
            r => Assert.Contains(r, family.Rules));
        Assert.DoesNotContain(family.Rules, r => r.Id == "ADDR-3");
    }

    [Fact]
    public void Heap_family_reports_every_kmalloc_and_slab_rule()
    {
        var family = SpecificationFamily.Of(typeof(HeapSpecificationTests))!;
        Assert.Equal("heap", family.Name);
        Assert.Equal(RuleCatalogue.All.Where(r => r.Family is RuleFamily.KMAL or RuleFamily.SLAB).Select(r => r.Id),
            family.Rules.Select(r => r.Id));
    }

    [Fact]
    public void User_family_reports_every_mmap_uacc_swap_rule_its_driver_rules_and_the_user_side_address_rules()
    {
        var family = SpecificationFamily.Of(typeof(UserSpecificationTests))!;
        Assert.Equal("user", family.Name);
        Assert.Equal<Capability?>(Capability.UserMemory, family.Gate);
        var ids = family.Rules.Select(r => r.Id).ToHashSet();
        Assert.All(RuleCatalogue.All.Where(r => r.Family is RuleFamily.MMAP or RuleFamily.UACC or RuleFamily.SWAP), r => Assert.Contains(r.Id, ids));
        Assert.Superset(new HashSet<string> { "DRV-1", "DRV-2", "DRV-3", "DRV-4", "ADDR-4", "ADDR-5", "ADDR-6", "ADDR-7", "ADDR-9" }, ids);
    }

    [Fact]
    public void Vm_family_reports_every_rule_its_engine_family_checks_and_every_vmalloc_rule()
    {
        var family = SpecificationFamily.Of(typeof(ReferenceKernelVirtualMemoryTests))!;
        var engine = SuiteRunner.Families.Single(f => f.Name == "vm");
        Assert.Same(typeof(KernelVirtualMemorySpecificationTests), family.BaseType);
        Assert.Equal(Capability.Vmalloc, family.Gate);
        Assert.Equal(engine.RuleIds.ToHashSet(), family.Rules.Select(r => r.Id).ToHashSet());
        Assert.All(RuleCatalogue.All.Where(r => r.Family == RuleFamily.VMAL), r => Assert.Contains(r, family.Rules));
        Assert.Contains(family.Rules, r => r.Id == "ADDR-8");
        Assert.Contains(family.Rules, r => r.Id == "DRV-5");
    }

    [Fact]
    public void Package_ships_one_abstract_base_per_engine_family()
    {
        Assert.Equal(
            SuiteRunner.Families.Select(f => f.Name).Order(),
            SpecificationFamily.Shipped.Select(f => f.Name).Order());
        Assert.All(SpecificationFamily.Shipped, f =>
        {
            Assert.True(f.BaseType.IsAbstract && f.BaseType.IsPublic, $"{f.BaseType.Name} must be public and abstract");
            Assert.NotNull(f.Engine);
            Assert.Equal(f.Engine!.Gate, f.Gate);
        });
    }

    [Fact]
    public void Every_encoded_rule_is_reported_by_some_shipped_family()
    {
        var reported = SpecificationFamily.Shipped.SelectMany(f => f.Rules).Select(r => r.Id).ToHashSet();
        Assert.Empty(RuleCatalogue.All.Where(r => r.Status == RuleStatus.Encoded && !reported.Contains(r.Id)).Select(r => r.Id));
    }

    [Fact]
    public void Class_outside_any_family_has_none()
    {
        Assert.Null(SpecificationFamily.Of(typeof(NoFamilyTests)));
        Assert.Null(SpecificationFamily.Of(typeof(object)));
    }
}
