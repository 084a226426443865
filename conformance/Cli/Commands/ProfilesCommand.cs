using System.CommandLine;
using KernelMm.Conformance.Running;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Cli.Commands;

/// <summary><c>profiles</c>: the platform profiles with their parameters and the RAM sizes each accepts.</summary>
public sealed class ProfilesCommand : ICliCommand
{
    public Command Build()
    {
        var command = new Command("profiles", "List the platform profiles: page size, PAGE_OFFSET, zones, maximum order, kmalloc limit, accepted RAM sizes and sources.");
        command.SetAction(parse => KmmConformance.Guard(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            foreach (var p in Profiles.Named)
                output.WriteLine($"{p.Name,-10} PAGE_SIZE {p.PageSize}, PAGE_OFFSET 0x{p.PageOffset:x}, DMA < {Profile.FormatSize(p.DmaLimit)}, " +
                                 $"HIGHMEM {(p.HighmemStart is { } h ? $">= {Profile.FormatSize(h)}" : "none")}, max order {p.MaxOrder}, " +
                                 $"kmalloc max {Profile.FormatSize((ulong)p.KmallocMaxSize)}, TASK_SIZE 0x{p.TaskSize:x}\n{"",-11}RAM: multiples of {Profile.FormatSize(RunLimits.MemoryStep(p))} up to {Profile.FormatSize(RunLimits.MaxMemory(p))}" +
                                 $"\n{"",-11}source: {p.Source}");
            return ExitCodes.Passed;
        }));
        return command;
    }
}
