using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// init_mm: the kernel's page tables, its TLB and its MMU, set up as paging_init does. At boot the
/// direct mapping is built with large pages (i386 PSE pages of 4 MiB in the page directory; 8 MiB
/// pmd-level pages on 64-bit-8k), with single pages for a tail that does not fill a large page (only
/// RAM that exists is mapped: ADDR-10), and the page tables of the PKMAP and atomic-kmap windows are
/// made ready (permanent_kmaps_init); all of those boot tables sit in the kernel image
/// (<see cref="KernelImageFrames"/>). Tables made later (for vmalloc and ioremap areas) come from
/// the page allocator and go back when they empty.
/// </summary>
internal sealed class KernelPageTables
{
    /// <summary>Frames the kernel image reserves for boot page tables (at most 4 are used).</summary>
    public const int ImageFrames = 8;

    private readonly PageAllocatorTableFrames _runtime;

    /// <param name="tlbEntries">TLB size (a power of two).</param>
    /// <param name="tlbWays">TLB associativity.</param>
    public KernelPageTables(Profile profile, KernelLayout layout, PageAllocatorTableFrames runtime, int tlbEntries, int tlbWays)
    {
        Format = new PageTableFormat(profile);
        Layout = layout;
        _runtime = runtime;
        var image = new KernelImageFrames(Format, profile.PageSize, ImageFrames);
        Image = image;
        var frames = new KernelTableFrames(image, runtime);
        Table = PageTable.Create(Format, frames, PteFlags.KernelTable)!;
        MapDirect(layout);
        if (layout.HasPkmap)
        {
            // Stryker disable once Equality : one more step could only reach PkmapEnd, which is AtomicKmapBase, whose tables the next statement makes anyway
            for (ulong va = layout.PkmapBase; va < layout.PkmapEnd; va += Format.SpanOf(Format.PteLevel - 1))
                Table.EnsureTables(va);
            Table.EnsureTables(layout.AtomicKmapBase);
        }
        frames.Booting = false;
        Mmu = new Mmu(Table, new Tlb(tlbEntries, tlbWays, Format.PageShift), layout.PageOffset);
    }

    public PageTableFormat Format { get; }
    public KernelLayout Layout { get; }
    public KernelImageFrames Image { get; }
    public PageTable Table { get; }
    public Mmu Mmu { get; }
    public Tlb Tlb => Mmu.Tlb;

    /// <summary>Page-allocator frames used as page tables (the kernel's run-time tables, and any process's sharing the same provider).</summary>
    public long PageTablePages => _runtime.InUse;

    /// <summary>The direct mapping: VA = PA + PAGE_OFFSET for every frame of low memory (ADDR-10).</summary>
    private void MapDirect(KernelLayout layout)
    {
        int largeLevel = Format.PteLevel - 1;
        ulong large = Format.SpanOf(largeLevel);
        ulong page = 1UL << Format.PageShift;
        ulong lowBytes = layout.HighMemory - layout.PageOffset;
        ulong pa = 0;
        for (; pa + large <= lowBytes; pa += large)
            Table.MapLarge(layout.PageOffset + pa, largeLevel, pa >> Format.PageShift, PteFlags.Kernel);
        for (; pa < lowBytes; pa += page)
            // Stryker disable once Bitwise : pa is a ulong, so >> and >>> are the same shift
            Table.Map(layout.PageOffset + pa, pa >> Format.PageShift, PteFlags.Kernel);
    }
}
