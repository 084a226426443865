using System.Buffers.Binary;
using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;
using static KernelMm.Reference.Mm.MemMap;

namespace KernelMm.Tests.Vm;

/// <summary>The page-table core (reference/Mm/PageTable.cs): format, walk, mapping, table pages, permissions.</summary>
public class PageTableTests
{
    private const ulong MiB = 1 << 20;

    /// <summary>ADDR-3's worked example (seed 000): PAGE_SIZE 0x2000, process Y maps VPN 1 to PFN 4, VA 0x2194 is PA 0x8194.</summary>
    [Fact]
    public void WorkedExample_Addr3_On64Bit8k_TranslatesVa0x2194ToPa0x8194()
    {
        using var m = new CoreMachine(Profiles.Bit64_8K.WithMemory(64 * MiB));
        var processY = m.NewTable();
        Assert.Equal(0x2000, m.Profile.PageSize);

        Assert.True(processY.Map(1UL * 0x2000, 4, PteFlags.UserReadWrite)); // VPN 1 -> PFN 4

        var translation = processY.Translate(0x2194, Access.UserRead);
        Assert.Equal(Translation.Mapped(0x8194), translation);
        // The split of ADDR-2: page number 1, offset 0x194 (13 offset bits).
        Assert.Equal((1UL, 0x194UL), (0x2194UL >> m.Profile.PageShift, 0x2194UL & 0x1fff));
        var walk = processY.Walk(0x2194);
        Assert.Equal((true, 4UL, 2), (walk.Present, walk.Pfn, walk.Level));
        // Every other page of process Y is unmapped.
        Assert.Equal(TranslationFault.NotPresent, processY.Translate(0x4194, Access.UserRead).Fault);
        Assert.Equal(TranslationFault.NotPresent, processY.Translate(0x0194, Access.UserRead).Fault);
    }

    [Fact]
    public void X86_32_SplitsAnAddress_10_10_12()
    {
        var f = new PageTableFormat(Profiles.X86_32);
        Assert.Equal((2, 32, 4), (f.Levels, f.VirtualAddressBits, f.EntryBytes));
        ulong va = 0xC080_1234;
        Assert.Equal(0x302, f.IndexOf(va, 0));
        Assert.Equal(0x001, f.IndexOf(va, 1));
        Assert.Equal(4UL * MiB, f.SpanOf(0));
        Assert.Equal(4096UL, f.SpanOf(1));
        Assert.Equal(1024, f.EntriesPerTable(0));
    }

    [Fact]
    public void Bit64_8k_SplitsAnAddress_10_10_10_13_AndSignExtends()
    {
        var f = new PageTableFormat(Profiles.Bit64_8K);
        Assert.Equal((3, 43, 8), (f.Levels, f.VirtualAddressBits, f.EntryBytes));
        ulong va = Profiles.Bit64_8K.PageOffset + (5UL << 33) + (7UL << 23) + (9UL << 13) + 0x123;
        Assert.Equal((512 + 5, 7, 9), (f.IndexOf(va, 0), f.IndexOf(va, 1), f.IndexOf(va, 2)));
        Assert.True(f.IsCanonical(Profiles.Bit64_8K.PageOffset));
        Assert.True(f.IsCanonical(0x2194));
        Assert.False(f.IsCanonical(1UL << 50));
        Assert.False(f.IsCanonical(0xFFFF_F800_0000_0000)); // below the 43-bit kernel half
    }

    [Fact]
    public void Entries_AreStoredInTheTableFramesInTheProfileFormat()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64 * MiB));
        var table = m.NewTable();
        ulong va = 0x0804_8000; // pgd index 0x20, pte index 0x48
        Assert.True(table.Map(va, 0x1234, PteFlags.UserReadOnly));

        var pgd = new byte[4096];
        m.Memory.Read(table.Root, 0, pgd);
        uint pde = BinaryPrimitives.ReadUInt32LittleEndian(pgd.AsSpan(0x20 * 4));
        Assert.Equal(0x7u, pde & 0xfff); // _PAGE_TABLE: present, writable, user
        int ptePage = (int)(pde >> 12);
        Assert.Equal(PageState.PageTable, m.Map.State[ptePage]);
        var pte = new byte[4096];
        m.Memory.Read(ptePage, 0, pte);
        Assert.Equal(0x1234u << 12 | 0x5u, BinaryPrimitives.ReadUInt32LittleEndian(pte.AsSpan(0x48 * 4)));
        Assert.True(pte.AsSpan(0, 0x48 * 4).IndexOfAnyExcept((byte)0) < 0, "only entry 0x48 is written");
    }

    [Fact]
    public void TablePages_ComeFromThePageAllocator_AndGoBack()
    {
        using var m = new CoreMachine(Profiles.Bit64_8K.WithMemory(64 * MiB));
        long boot = m.FreePages;
        var table = m.NewTable();
        Assert.Equal(boot - 1, m.FreePages);
        ulong a = 0x10_0000_0000, b = a + 0x2000, far = a + (5UL << 33);
        Assert.True(table.Map(a, 100, PteFlags.UserReadWrite));   // + pmd table + pte table
        Assert.True(table.Map(b, 101, PteFlags.UserReadWrite));   // same tables
        Assert.True(table.Map(far, 102, PteFlags.UserReadWrite)); // another pmd and pte table
        Assert.Equal(5, table.TablePages);
        Assert.Equal(boot - 5, m.FreePages);
        Assert.Equal(5, m.Frames.InUse);

        Assert.Equal(m.Format.MakeEntry(100, PteFlags.UserReadWrite), table.Unmap(a));
        Assert.Equal(0, table.FreeEmptyTables(a, a + 0x2000));    // b still lives in that pte table
        Assert.NotEqual(0UL, table.Unmap(b));
        Assert.Equal(2, table.FreeEmptyTables(a, b + 0x2000));    // its pte table and pmd table
        Assert.Equal(boot - 3, m.FreePages);
        Assert.Equal(0UL, table.Unmap(a));                        // nothing left to unmap
        Assert.Equal(TranslationFault.NotPresent, table.Translate(far - 0x2000, Access.UserRead).Fault);
        Assert.Equal(Translation.Mapped(102UL << 13 | 0x10), table.Translate(far + 0x10, Access.KernelRead));

        table.Destroy();
        Assert.Equal(boot, m.FreePages);
        Assert.Equal(0, m.Frames.InUse);
    }

    [Fact]
    public void Map_WhenNoTablePageIsLeft_ReturnsFalseAndMapsNothing()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64 * MiB));
        var exhausted = new PageAllocatorTableFrames(m.Map, m.Pages, m.Memory, () => -1);
        var root = m.NewTable();
        var table = PageTable.Create(m.Format, new RootThenNothing(m.Frames, exhausted), PteFlags.UserTable)!;
        Assert.False(table.Map(0x40_0000, 7, PteFlags.UserReadWrite));
        Assert.Equal(TranslationFault.NotPresent, table.Translate(0x40_0000, Access.KernelRead).Fault);
        Assert.Equal(1, table.TablePages);
        root.Destroy();
    }

    /// <summary>Hands out one frame (the root), then none.</summary>
    private sealed class RootThenNothing(IPageTableFrames first, IPageTableFrames then) : IPageTableFrames
    {
        private bool _used;
        public int AllocTable(int level) { if (_used) return then.AllocTable(level); _used = true; return first.AllocTable(level); }
        public void FreeTable(int pfn) => first.FreeTable(pfn);
        public byte[] Bytes(int pfn) => first.Bytes(pfn);
    }

    [Theory]
    [InlineData(Access.KernelRead, TranslationFault.None)]
    [InlineData(Access.KernelWrite, TranslationFault.None)]
    [InlineData(Access.UserRead, TranslationFault.UserAccessToKernel)]
    [InlineData(Access.UserWrite, TranslationFault.UserAccessToKernel)]
    public void KernelPage_RefusesUserMode(Access access, TranslationFault expected)
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64 * MiB));
        var kernel = m.NewTable(PteFlags.KernelTable);
        kernel.Map(0xD000_0000, 9, PteFlags.Kernel);
        Assert.Equal(expected, kernel.Translate(0xD000_0010, access).Fault);
    }

    [Fact]
    public void ReadOnlyUserPage_FaultsOnWrite_WithProtection()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64 * MiB));
        var table = m.NewTable();
        table.Map(0x1000, 3, PteFlags.UserReadOnly);
        Assert.Equal(Translation.Mapped(0x3008), table.Translate(0x1008, Access.UserRead));
        Assert.Equal(TranslationFault.Protection, table.Translate(0x1008, Access.UserWrite).Fault);
        Assert.Equal(TranslationFault.Protection, table.Translate(0x1008, Access.KernelWrite).Fault);
    }

    [Fact]
    public void LargePage_MapsItsWholeSpan_PageByPage()
    {
        using var m = new CoreMachine(Profiles.X86_32.WithMemory(64 * MiB));
        var kernel = m.NewTable(PteFlags.KernelTable);
        Assert.True(kernel.MapLarge(0xC040_0000, 0, 0x400, PteFlags.Kernel)); // 4 MiB at PA 4 MiB
        Assert.Equal(1, kernel.TablePages);                                   // no page table needed
        Assert.Equal(Translation.Mapped(0x0076_5432), kernel.Translate(0xC076_5432, Access.KernelWrite));
        Assert.Equal(0, kernel.Walk(0xC076_5432).Level);
        Assert.Throws<InvalidOperationException>(() => kernel.Map(0xC050_0000, 1, PteFlags.Kernel));
        Assert.Throws<InvalidOperationException>(() => kernel.MapLarge(0xC080_1000, 0, 0x800, PteFlags.Kernel));
        Assert.NotEqual(0UL, kernel.Unmap(0xC050_0000)); // the whole large page goes
        Assert.False(kernel.Walk(0xC040_0000).Present);
    }

    [Fact]
    public void Leaves_ListsPresentMappingsInAddressOrder()
    {
        using var m = new CoreMachine(Profiles.Bit64_8K.WithMemory(64 * MiB));
        var table = m.NewTable();
        ulong[] vas = [0x2000, 0x4000, 0x1_0000_0000, 0x3_0000_0000];
        for (int i = 0; i < vas.Length; i++) table.Map(vas[i], (ulong)(10 + i), PteFlags.UserReadWrite);
        var leaves = table.Leaves(0, 0x2_0000_0000).ToList();
        Assert.Equal([0x2000UL, 0x4000, 0x1_0000_0000], leaves.Select(l => l.Va));
        Assert.Equal([10UL, 11, 12], leaves.Select(l => m.Format.PfnOf(l.Entry)));
        Assert.Empty(table.Leaves(0x6000, 0x1_0000_0000));
    }

    [Fact]
    public void NonCanonicalAddress_IsNotPresent_AndCannotBeMapped()
    {
        using var m = new CoreMachine(Profiles.Bit64_8K.WithMemory(64 * MiB));
        var table = m.NewTable();
        Assert.False(table.Walk(0x0000_1000_0000_0000).Present);
        Assert.Throws<InvalidOperationException>(() => table.Map(0x0000_1000_0000_0000, 1, PteFlags.UserReadWrite));
    }
}
