using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// The MMU's two roots (reference/Mm/Mmu.cs) at their boundary: PAGE_OFFSET itself is the kernel's,
/// the byte below it the current process's, and the table walk without the TLB (what
/// IKernelPageTables.Translate shows) picks the same root as the TLB path.
/// </summary>
public class MmuHalvesTests
{
    private const int Shift = 12;

    [Fact]
    public void PageOffsetItself_IsTranslatedThroughTheKernelTables_TheByteBelowThroughTheProcesss()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64UL << 20));
        ulong pageOffset = Profiles.X86_32.PageOffset;
        var mmu = new Mmu(m.NewTable(PteFlags.KernelTable), new Tlb(16, 4, Shift), pageOffset);
        var process = new AddressSpace(m.NewTable(), 1);
        mmu.MapKernel(pageOffset, 5, PteFlags.Kernel);
        mmu.MapUser(process, pageOffset - 0x1000, 6, PteFlags.UserReadWrite);
        mmu.Current = process;

        Assert.Equal(Translation.Mapped(5UL << Shift), mmu.Translate(pageOffset, Access.KernelRead)); // miss: the walk
        Assert.Equal(Translation.Mapped(5UL << Shift), mmu.Translate(pageOffset, Access.KernelRead)); // hit: a global entry
        Assert.Equal(Translation.Mapped(5UL << Shift), mmu.Walk(pageOffset, Access.KernelRead));
        Assert.Equal(Translation.Mapped((6UL << Shift) + 0xfff), mmu.Translate(pageOffset - 1, Access.UserRead));
        Assert.Equal(Translation.Mapped((6UL << Shift) + 0xfff), mmu.Walk(pageOffset - 1, Access.UserRead));
    }

    [Fact]
    public void TheWalkAlone_OfAUserAddress_ReadsTheCurrentProcesssTables()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64UL << 20));
        var mmu = new Mmu(m.NewTable(PteFlags.KernelTable), new Tlb(16, 4, Shift), Profiles.X86_32.PageOffset);
        var x = new AddressSpace(m.NewTable(), 1);
        var y = new AddressSpace(m.NewTable(), 2);
        mmu.MapUser(x, 0x1000, 11, PteFlags.UserReadWrite);
        mmu.MapUser(y, 0x1000, 22, PteFlags.UserReadOnly);

        mmu.Current = x;
        Assert.Equal(Translation.Mapped((11UL << Shift) + 0x10), mmu.Walk(0x1010, Access.UserWrite));
        mmu.Current = y;
        Assert.Equal(Translation.Mapped((22UL << Shift) + 0x10), mmu.Walk(0x1010, Access.UserRead));
        Assert.Equal(TranslationFault.Protection, mmu.Walk(0x1010, Access.UserWrite).Fault);
        mmu.Current = null; // a kernel thread: no user half at all
        Assert.Equal(TranslationFault.NotPresent, mmu.Walk(0x1010, Access.KernelRead).Fault);
    }
}
