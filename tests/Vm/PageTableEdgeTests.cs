using KernelMm.Reference.Mm;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.Vm;

/// <summary>
/// The page-table walker's edges (reference/Mm/PageTable.cs) that the kernel and user families do
/// not reach: freeing empty tables over exactly a range (never a neighbour's, on two- and three-level
/// formats), the highest frame an entry holds, table frames at frame 0, and running out of frames.
/// </summary>
public class PageTableEdgeTests
{
    private static CoreMachine X86() => new(Profiles.X86_32.WithMemory(16UL << 20));

    /// <summary>Maps and unmaps one page at each address, so each leaves an empty PTE table behind.</summary>
    private static void EmptyTablesAt(PageTable t, params ulong[] vas)
    {
        foreach (ulong va in vas)
        {
            Assert.True(t.Map(va, 5, PteFlags.Kernel));
            Assert.NotEqual(0UL, t.Unmap(va));
        }
    }

    [Fact]
    public void FreeEmptyTables_FreesTheTablesOfExactlyTheRange_TwoLevels()
    {
        using var m = X86();
        var t = m.NewTable(PteFlags.KernelTable);
        ulong a = 0xD000_0000, s = t.Format.SpanOf(0); // 4 MiB: one PTE table each; a + s has the span's bit set
        EmptyTablesAt(t, a, a + s, a + 2 * s);
        Assert.Equal(4, t.TablePages);

        Assert.Equal(0, t.FreeEmptyTables(a + s, a + s));     // an empty range
        Assert.Equal(1, t.FreeEmptyTables(a + s, a + 2 * s)); // ends exactly where the next table starts
        Assert.Equal(3, t.TablePages);
        Assert.True(t.EnsureTables(a + s));                   // gone: made again
        Assert.Equal(4, t.TablePages);
        Assert.Equal(2, t.FreeEmptyTables(a, a + s + 1));     // one byte into the second table: both go
        Assert.Equal(2, t.TablePages);
        Assert.Equal(1, t.FreeEmptyTables(a, a + 3 * s));
        Assert.Equal(1, t.TablePages);
    }

    [Fact]
    public void FreeEmptyTables_KeepsATableThatStillMapsAPage()
    {
        using var m = X86();
        var t = m.NewTable(PteFlags.KernelTable);
        ulong a = 0xD000_0000;
        Assert.True(t.Map(a, 5, PteFlags.Kernel)); // frame 5 holds zeros: it must not be taken for an empty table
        Assert.Equal(0, t.FreeEmptyTables(a, a + 0x1000));
        Assert.Equal(5UL, t.Walk(a).Pfn);
        Assert.True(t.Walk(a).Present);
    }

    [Fact]
    public void FreeEmptyTables_FreesTheTablesOfExactlyTheRange_ThreeLevels()
    {
        using var m = new CoreMachine(Profiles.Get("64-bit-8k").WithMemory(64UL << 20));
        var t = m.NewTable(PteFlags.KernelTable);
        Assert.Equal(2, t.Format.PteLevel);
        ulong s1 = t.Format.SpanOf(1), s0 = t.Format.SpanOf(0); // a PTE table's span (8 MiB), a middle table's (8 GiB)
        ulong b = s0; // the start of the second top-level entry
        EmptyTablesAt(t, b, b + s1, b + 2 * s1, b + s0 - s1, b + s0);
        Assert.Equal(1 + 2 + 5, t.TablePages);

        Assert.Equal(1, t.FreeEmptyTables(b + s1, b + 2 * s1)); // inside one middle table: neither neighbour
        // Across two middle tables: the last PTE table of the first, the first of the second, and the
        // second middle table, which that leaves empty; the first keeps b and b + 2 s1.
        Assert.Equal(3, t.FreeEmptyTables(b + s0 - s1, b + s0 + s1));
        Assert.Equal(1 + 1 + 2, t.TablePages);
    }

    [Fact]
    public void AnEntryHoldsTheHighestFrameTheFormatAddresses_AndNoHigher()
    {
        using var m = X86();
        var t = m.NewTable(PteFlags.KernelTable);
        ulong max = t.Format.MaxPfn;
        Assert.True(t.Map(0xD000_0000, max, PteFlags.Kernel));
        Assert.Equal(max, t.Walk(0xD000_0000).Pfn);
        Assert.Throws<InvalidOperationException>(() => t.Map(0xD000_1000, max + 1, PteFlags.Kernel));
    }

    [Fact]
    public void ALargePage_SitsAboveTheLastLevelOnly()
    {
        using var m = X86();
        var t = m.NewTable(PteFlags.KernelTable);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.MapLarge(0xD000_0000, t.Format.PteLevel, 7, PteFlags.Kernel));
        Assert.True(t.MapLarge(0xD000_0000, t.Format.PteLevel - 1, 1024, PteFlags.Kernel));
    }

    /// <summary>A machine whose every frame is taken, but the given ones, freed in this order (the last freed is taken first).</summary>
    private static CoreMachine OnlyFramesLeft(params int[] free)
    {
        var m = X86();
        while (m.Pages.GetPageFromFreelist([KernelMm.Spec.Contract.Zone.Dma], 0, mayUseReserve: true) >= 0) { }
        foreach (int pfn in free) m.Pages.Free(pfn, 0);
        return m;
    }

    [Fact]
    public void WithNoFrameLeft_ThereIsNoTable_AndFrame0CanHoldARoot()
    {
        using (var none = OnlyFramesLeft())
            Assert.Null(PageTable.Create(none.Format, none.Frames, PteFlags.KernelTable));

        using var m = OnlyFramesLeft(0);
        var t = PageTable.Create(m.Format, m.Frames, PteFlags.KernelTable);
        Assert.NotNull(t);
        Assert.Equal(0, t.Root);
        Assert.False(t.EnsureTables(0xD000_0000)); // no frame left for its PTE table
        Assert.False(t.Map(0xD000_0000, 5, PteFlags.Kernel));
        Assert.Equal(1, t.TablePages);
    }

    [Fact]
    public void Frame0_CanHoldAPteTable()
    {
        using var m = OnlyFramesLeft(0, 1);
        var t = PageTable.Create(m.Format, m.Frames, PteFlags.KernelTable)!;
        Assert.Equal(1, t.Root);
        Assert.True(t.EnsureTables(0xD000_0000)); // in frame 0
        Assert.True(t.Map(0xD000_0000, 5, PteFlags.Kernel));
        Assert.Equal(2, t.TablePages);
    }
}
