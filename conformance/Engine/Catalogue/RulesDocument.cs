using System.Text;
using KernelMm.Spec.Profiles;
using KernelMm.Spec.Rules;

namespace KernelMm.Conformance.Catalogue;

/// <summary>
/// Renders the rule catalogue and the profiles as Markdown (docs/rules.md), so the statements,
/// checks and decisions can be read without the code. A test keeps the committed file in step.
/// </summary>
public static class RulesDocument
{
    public static string Render()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Rule catalogue");
        sb.AppendLine();
        sb.AppendLine("Generated from `spec/Rules/` by `dotnet run --project conformance/Cli -- rules --markdown`; do not edit by hand.");
        sb.AppendLine();
        var counts = RuleCatalogue.All.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        sb.AppendLine($"{RuleCatalogue.All.Count} rules: {string.Join(", ", counts)}.");
        foreach (var family in RuleCatalogue.All.GroupBy(r => r.Family))
        {
            sb.AppendLine();
            sb.AppendLine($"## {family.Key}");
            foreach (var rule in family)
            {
                sb.AppendLine();
                sb.AppendLine($"### {rule.Id} ({rule.Status.ToString().ToLowerInvariant()})");
                sb.AppendLine();
                sb.AppendLine(rule.Statement);
                sb.AppendLine();
                sb.AppendLine($"- **Source:** {rule.Source}");
                sb.AppendLine($"- **Check:** {rule.Check}");
                if (rule.Decision is not null) sb.AppendLine($"- **Decision:** {rule.Decision}");
                if (rule.Parameters.Count > 0) sb.AppendLine($"- **Profile parameters:** {string.Join(", ", rule.Parameters)}");
                sb.AppendLine($"- **Requires:** {Running.Requirements.Describe(rule)}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("## Profiles");
        sb.AppendLine();
        sb.AppendLine("| profile | PAGE_SIZE | PAGE_OFFSET | DMA below | HIGHMEM from | max order | kmalloc max | kmalloc classes | slab object max | source |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in Profiles.All)
            sb.AppendLine($"| {p.Name} | {p.PageSize} | 0x{p.PageOffset:x} | {Profile.FormatSize(p.DmaLimit)} | {(p.HighmemStart is { } h ? Profile.FormatSize(h) : "none")} | {p.MaxOrder} | {Profile.FormatSize((ulong)p.KmallocMaxSize)} | {string.Join(", ", p.KmallocClasses.Select(c => Profile.FormatSize((ulong)c)))} | {Profile.FormatSize((ulong)p.SlabObjectMax)} | {p.Source} |");
        sb.AppendLine();
        sb.AppendLine("### Kernel virtual address-space layout and page-table format");
        sb.AppendLine();
        sb.AppendLine("VMALLOC_START depends on the RAM size: it is the end of the direct mapping (PAGE_OFFSET + low memory) plus VMALLOC_OFFSET. "
            + "ioremap takes its addresses from the vmalloc window on every profile (DRV-5). The persistent kmap window holds one page per slot.");
        sb.AppendLine();
        sb.AppendLine("| profile | page-table levels (index bits, top first) | offset bits | entry bytes | virtual bits | physical bits | VMALLOC_OFFSET | VMALLOC_END | PKMAP_BASE | kmap slots | vfree in interrupt |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in Profiles.All)
            sb.AppendLine($"| {p.Name} | {p.PageTableLevelBits.Count}: {string.Join("/", p.PageTableLevelBits)} | {p.PageShift} | {p.PageTableEntryBytes} | {p.VirtualAddressBits} | {p.PhysicalAddressBits} | "
                + $"{Profile.FormatSize(p.VmallocOffset)} | 0x{p.VmallocEnd:x} | {(p.PkmapSlots > 0 ? $"0x{p.PkmapBase:x}" : "none")} | {p.PkmapSlots} | {(p.VfreeDefersInInterrupt ? "deferred (vfree_atomic)" : "reported (VMAL-3)")} |");
        return sb.ToString().Replace("\r\n", "\n");
    }
}
