using System.CommandLine;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary>
/// <c>profiles</c>: the platform profiles with their parameters, the RAM sizes each accepts, and the
/// kernel virtual layout and page-table format each defines (the table docs/rules.md shows).
/// </summary>
public sealed class ProfilesCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("profiles", "List the platform profiles: page size, PAGE_OFFSET, zones, maximum order, kmalloc limit, accepted RAM sizes, " +
                                              "kernel virtual layout (vmalloc, ioremap and kmap windows, TASK_SIZE), page-table format and sources.");
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            foreach (var p in Profiles.Named)
                output.WriteLine($"{p.Name,-10} PAGE_SIZE {p.PageSize}, PAGE_OFFSET 0x{p.PageOffset:x}, DMA < {Profile.FormatSize(p.DmaLimit)}, " +
                                 $"HIGHMEM {(p.HighmemStart is { } h ? $">= {Profile.FormatSize(h)}" : "none")}, max order {p.MaxOrder}, " +
                                 $"kmalloc max {Profile.FormatSize((ulong)p.KmallocMaxSize)}, TASK_SIZE 0x{p.TaskSize:x}\n{"",-11}RAM: multiples of {Profile.FormatSize(RunLimits.MemoryStep(p))} up to {Profile.FormatSize(RunLimits.MaxMemory(p))}" +
                                 $"\n{"",-11}{VirtualLayout(p)}\n{"",-11}{PageTables(p)}" +
                                 $"\n{"",-11}source: {p.Source}");
            return ExitCodes.Passed;
        }));
        return command;
    }

    /// <summary>
    /// The kernel's virtual windows: VMALLOC_START moves with the end of low memory, so it is shown for the
    /// smallest standard RAM size and for the size where it stops moving (the HIGHMEM boundary), or the largest
    /// standard size on a profile without HIGHMEM.
    /// </summary>
    internal static string VirtualLayout(Profile p)
    {
        ulong small = Profiles.StandardMemorySizes[0];
        ulong large = p.HighmemStart ?? Profiles.StandardMemorySizes[^1];
        string where = p.HighmemStart is not null ? $"{Profile.FormatSize(large)} or more" : Profile.FormatSize(large);
        string pkmap = p.PkmapSlots > 0 ? $"PKMAP_BASE 0x{p.PkmapBase:x} ({p.PkmapSlots} kmap slots of one page)" : "no PKMAP window";
        return $"virtual layout: VMALLOC_START = PAGE_OFFSET + low memory + VMALLOC_OFFSET {Profile.FormatSize(p.VmallocOffset)} " +
               $"(0x{p.WithMemory(small).VmallocStart:x} with {Profile.FormatSize(small)} of RAM, 0x{p.WithMemory(large).VmallocStart:x} with {where}), " +
               $"VMALLOC_END 0x{p.VmallocEnd:x}, ioremap window = vmalloc window, {pkmap}, TASK_SIZE 0x{p.TaskSize:x}, " +
               $"vfree in interrupt {(p.VfreeDefersInInterrupt ? "deferred (vfree_atomic)" : "reported (VMAL-3)")}";
    }

    /// <summary>The page-table format: levels and their index bits, offset bits, entry size, address widths.</summary>
    internal static string PageTables(Profile p) =>
        $"page tables: {p.PageTableLevelBits.Count} levels ({string.Join("/", p.PageTableLevelBits)} index bits, top first), {p.PageShift} offset bits, " +
        $"{p.PageTableEntryBytes}-byte entries, {p.VirtualAddressBits}-bit virtual and {p.PhysicalAddressBits}-bit physical addresses";
}
