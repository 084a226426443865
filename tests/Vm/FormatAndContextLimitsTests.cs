using KernelMm.Reference;
using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// Limits a profile or a caller can reach but the families never do: a page-table level too wide for
/// one page, 32-bit entries on a machine with a wider physical address, and the deepest nesting of
/// preempt_disable and irq_enter (GFP-5).
/// </summary>
public class FormatAndContextLimitsTests
{
    [Fact]
    public void ALevelWhoseEntriesDoNotFitInOnePage_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => new PageTableFormat(Profiles.X86_32 with { PageTableLevelBits = [10, 11] }));
        Assert.Throws<ArgumentException>(() => new PageTableFormat(Profiles.X86_32 with { PageTableLevelBits = [11, 10] }));
        Assert.Equal(2, new PageTableFormat(Profiles.X86_32).Levels); // 2^10 four-byte entries: exactly one page
    }

    [Fact]
    public void FourByteEntries_HoldAt20BitsOfFrame_WhateverThePhysicalAddressWidth()
    {
        Assert.Equal(0xF_FFFFUL, new PageTableFormat(Profiles.X86_32 with { PhysicalAddressBits = 36 }).MaxPfn);
        Assert.Equal(0xF_FFFFUL, new PageTableFormat(Profiles.X86_32).MaxPfn);
        var wide = Profiles.Get("64-bit-8k");
        Assert.Equal((1UL << (wide.PhysicalAddressBits - wide.PageShift)) - 1, new PageTableFormat(wide).MaxPfn);
    }

    [Fact]
    public void PreemptDisableAndIrqEnter_NestToTheirLimitsAndNoFurther()
    {
        using var k = new ReferenceKernel(Profiles.X86_32.WithMemory(16UL << 20));
        for (int i = 0; i < Sched.MaxPreemptDepth; i++) k.PreemptDisable();
        Assert.Equal("GFP-5", Assert.Throws<KernelBugException>(k.PreemptDisable).RuleId);
        for (int i = 0; i < Sched.MaxIrqDepth; i++) k.IrqEnter();
        Assert.Equal("GFP-5", Assert.Throws<KernelBugException>(k.IrqEnter).RuleId);
        for (int i = 0; i < Sched.MaxIrqDepth; i++) k.IrqExit();
        for (int i = 0; i < Sched.MaxPreemptDepth; i++) k.PreemptEnable();
        Assert.False(k.InAtomic);
    }
}
