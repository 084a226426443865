using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Tests.Spec;

/// <summary>The rule catalogue keeps the inventory's IDs, and every encoded rule has a check.</summary>
public class CatalogueTests
{
    [Fact]
    public void Catalogue_HasEveryInventoryId_InFamilyCounts()
    {
        var expected = new Dictionary<RuleFamily, int>
        {
            [RuleFamily.ADDR] = 11, [RuleFamily.ZONE] = 4, [RuleFamily.GFP] = 7, [RuleFamily.KMAL] = 8,
            [RuleFamily.PAGE] = 8, [RuleFamily.VMAL] = 6, [RuleFamily.SLAB] = 13, [RuleFamily.MMAP] = 10,
            [RuleFamily.DRV] = 5, [RuleFamily.UACC] = 3, [RuleFamily.SWAP] = 2, [RuleFamily.ATOM] = 1,
        };
        foreach (var (family, count) in expected)
        {
            var ids = RuleCatalogue.All.Where(r => r.Family == family).Select(r => r.Id).ToList();
            Assert.Equal(Enumerable.Range(1, count).Select(i => $"{family}-{i}"), ids);
        }
        Assert.Equal(RuleCatalogue.All.Count, RuleCatalogue.All.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public void InventoryFile_WhenPresent_MatchesCatalogue()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "../../../../../shared/RULES.md");
        if (!File.Exists(path)) return; // shared/ sits beside the clone in CI, not on every machine
        var ids = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(path), @"^- ([A-Z]+-\d+) ", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(ids, RuleCatalogue.All.Select(r => r.Id));
    }

    [Fact]
    public void EncodedRules_AreExactlyThoseAFamilyChecks()
    {
        var checkedIds = SuiteRunner.Families.SelectMany(f => f.RuleIds).ToHashSet();
        var encoded = RuleCatalogue.All.Where(r => r.Status == RuleStatus.Encoded).Select(r => r.Id).ToHashSet();
        Assert.Equal(encoded.Order(), checkedIds.Order());
        foreach (var family in new[] { "PAGE", "ZONE", "GFP" })
            Assert.All(RuleCatalogue.All.Where(r => r.Family.ToString() == family), r => Assert.Equal(RuleStatus.Encoded, r.Status));
    }

    [Fact]
    public void EveryRule_HasStatementSourceCheckAndKnownParameters()
    {
        var profileProperties = typeof(Profile).GetProperties().Select(p => p.Name).ToHashSet();
        foreach (var rule in RuleCatalogue.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(rule.Statement), rule.Id);
            Assert.False(string.IsNullOrWhiteSpace(rule.Source), rule.Id);
            Assert.False(string.IsNullOrWhiteSpace(rule.Check), rule.Id);
            Assert.NotEmpty(rule.Requires);
            Assert.All(rule.Parameters, p => Assert.Contains(p, profileProperties));
            if (rule.Status != RuleStatus.Encoded) Assert.StartsWith("Pending", rule.Check);
        }
    }

    [Fact]
    public void Profiles_StateTheDocumentedValues()
    {
        Assert.Equal((4096, 0xC000_0000UL, 10, 4L << 20), (Profiles.X86_32.PageSize, Profiles.X86_32.PageOffset, Profiles.X86_32.MaxOrder, Profiles.X86_32.KmallocMaxSize));
        Assert.Equal((9, 128L << 10, true), (Profiles.Linux2_4.MaxOrder, Profiles.Linux2_4.KmallocMaxSize, Profiles.Linux2_4.HasGfpBuffer));
        Assert.Equal((8192, 13, (ulong?)null), (Profiles.Bit64_8K.PageSize, Profiles.Bit64_8K.PageShift, Profiles.Bit64_8K.HighmemStart));
        // ADDR-3's worked example: PAGE_SIZE 0x2000, VA 0x2194 is VPN 1 offset 0x194; PFN 4 gives PA 0x8194.
        var p = Profiles.Bit64_8K;
        ulong va = 0x2194, vpn = va >> p.PageShift, offset = va & (ulong)(p.PageSize - 1);
        Assert.Equal((1UL, 0x194UL, 0x8194UL), (vpn, offset, (4UL << p.PageShift) + offset));
    }

    [Fact]
    public void Profile_ZoneSpans_CoverRamExactly()
    {
        foreach (var profile in Profiles.All)
            foreach (var memory in Profiles.StandardMemorySizes)
            {
                var p = profile.WithMemory(memory);
                var spans = KernelMm.Spec.Contract.Zones.All.Select(p.ZoneSpan).ToList();
                Assert.Equal(0UL, spans[0].Start);
                Assert.Equal(spans[0].End, spans[1].Start);
                Assert.Equal(spans[1].End, spans[2].Start);
                Assert.Equal(memory, spans[2].End);
                Assert.Equal(p.HasHighmem, spans[2].End > spans[2].Start);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Profiles.X86_32.WithMemory(12345));
    }
}

public class RulesDocumentTests
{
    [Fact]
    public void CommittedRulesDocument_MatchesCatalogue()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "../../../../docs/rules.md");
        var expected = KernelMm.Conformance.Catalogue.RulesDocument.Render();
        Assert.True(File.Exists(path), "docs/rules.md is missing: run `dotnet run --project conformance/Cli -- rules --markdown > docs/rules.md`");
        Assert.True(File.ReadAllText(path).Replace("\r\n", "\n") == expected,
            "docs/rules.md is out of date: run `dotnet run --project conformance/Cli -- rules --markdown > docs/rules.md`");
    }
}
