namespace KernelMm.Tests.Variants;

/// <summary>
/// One deliberately broken behaviour of <see cref="TreeKernel"/>. Each member breaks exactly one
/// thing, chosen so that the suite's checks attribute the break to exactly one rule (named in
/// brackets). <see cref="None"/> is the correct implementation.
/// </summary>
public enum Fault
{
    None,

    /// <summary>[ADDR-1] Address-returning calls hand out the block's address plus 8 bytes: not page aligned.</summary>
    UnalignedAddress,
    /// <summary>[ADDR-2] virt_to_phys drops the in-page offset.</summary>
    VirtToPhysDropsOffset,
    /// <summary>[ADDR-10] The direct mapping is VA = PA + PAGE_OFFSET + PAGE_SIZE (shifted by one page, consistently).</summary>
    DirectMapShifted,
    /// <summary>[ADDR-11] Every successful free leaves one phantom free order-0 page in buddyinfo.</summary>
    FreeCountOffByOne,

    /// <summary>[ZONE-1] page_zone of the last frame of a zone names another zone.</summary>
    PageZoneWrongAtEdge,
    /// <summary>
    /// [ZONE-2] GFP_DMA requests are served from ZONE_NORMAL first (the block lies wholly above
    /// MAX_DMA_ADDRESS). A block straddling 16 MiB cannot be isolated: ZONE-1 checks the block's
    /// last frame first.
    /// </summary>
    DmaFromNormal,
    /// <summary>[ZONE-3] alloc_pages(GFP_KERNEL / GFP_ATOMIC / GFP_NOWAIT) may return HIGHMEM pages.</summary>
    KernelGetsHighmem,
    /// <summary>
    /// [ZONE-3] At the edge of low memory: when ZONE_NORMAL and ZONE_DMA have no block left,
    /// __get_free_pages and get_zeroed_page take one from HIGHMEM and return PAGE_OFFSET + its
    /// physical address (an address past the direct mapping). Once reported only as ADDR-10.
    /// </summary>
    AddressCallsFallBackToHighmem,
    /// <summary>[ZONE-4] page_address of an unmapped HIGHMEM page is an address inside the direct mapping.</summary>
    HighmemHasDirectAddress,
    /// <summary>
    /// [ZONE-4] A second map at one address: kmap's search for a free PKMAP slot is off by one and
    /// returns the slot just above, which may still map (or lazily keep) another page.
    /// </summary>
    KmapSlotSearchOffByOne,

    /// <summary>[GFP-1] GFP_KERNEL (no DMA, no hard wall) allocations are not reported in atomic context.</summary>
    KernelAllowedInAtomic,
    /// <summary>[GFP-2] Non-sleeping allocations without __GFP_DMA yield the CPU once (they sleep).</summary>
    AtomicSleeps,
    /// <summary>[GFP-3] GFP_ATOMIC requests below the maximum order must leave the emergency reserve like everyone else.</summary>
    AtomicKeptOutOfReserve,
    /// <summary>[GFP-4] Sleeping requests below the maximum order never reclaim the page cache.</summary>
    NoReclaim,
    /// <summary>[GFP-5] in_atomic() ignores the hard-irq count (false inside an interrupt with preemption enabled).</summary>
    InAtomicIgnoresIrq,
    /// <summary>[GFP-6] GFP_DMA|GFP_KERNEL is not reported in atomic context.</summary>
    DmaKernelAllowedInAtomic,
    /// <summary>[GFP-7] alloc_pages(GFP_USER / GFP_BUFFER) may return HIGHMEM pages.</summary>
    UserGetsHighmem,
    /// <summary>[GFP-7] GFP bits no profile defines (0x200, 0x400, 0x80000000) are ignored instead of refused, as the reference once did.</summary>
    UnknownGfpBitsAccepted,

    /// <summary>[PAGE-1] An allocation returns the head of a live block of the same order and zone (overlap).</summary>
    OverlappingBlocks,
    /// <summary>[PAGE-2] A request at exactly the maximum order is refused (NULL).</summary>
    MaxOrderRefused,
    /// <summary>[PAGE-3] get_zeroed_page does not zero the page.</summary>
    ZeroedPageNotZeroed,
    /// <summary>[PAGE-4] free_pages with the wrong order is accepted (the recorded order is freed).</summary>
    WrongOrderFreeAccepted,
    /// <summary>[PAGE-5] pfn_to_page returns a second, differently encoded descriptor for the same frame.</summary>
    PfnToPageOtherHandle,
    /// <summary>[PAGE-5] pfn_to_page of a frame inside a live multi-page block returns the block's first page (a compound head), not the frame's own descriptor.</summary>
    PfnToPageGivesHeadOfBlock,
    /// <summary>[PAGE-6] When no block of the order is left (outside atomic context) the allocator throws instead of returning NULL.</summary>
    ThrowsWhenOutOfMemory,
    /// <summary>[PAGE-6] When no block of the order is free but a smaller one is, the allocator hands out the smaller block instead of NULL. Once reported only as PAGE-7 or ADDR-11.</summary>
    SmallerBlockWhenFragmented,
    /// <summary>[PAGE-7] Blocks of order 1 and above are handed out one frame below their aligned start.</summary>
    MisalignedBlocks,
    /// <summary>[PAGE-8] Freed buddies never coalesce: a split block stays split.</summary>
    NoCoalescing,

    /// <summary>
    /// [GFP-3] (Linux watermarks only) lowmem_reserve is declared but not kept: a GFP_KERNEL request
    /// falling back to ZONE_DMA stops at DMA's min, not at min plus the protection it declares.
    /// </summary>
    ProtectionIgnored,
}

public static class Faults
{
    /// <summary>The rule each fault breaks, as the suite attributes it.</summary>
    public static string RuleOf(Fault fault) => fault switch
    {
        Fault.UnalignedAddress => "ADDR-1",
        Fault.VirtToPhysDropsOffset => "ADDR-2",
        Fault.DirectMapShifted => "ADDR-10",
        Fault.FreeCountOffByOne => "ADDR-11",
        Fault.PageZoneWrongAtEdge => "ZONE-1",
        Fault.DmaFromNormal => "ZONE-2",
        Fault.KernelGetsHighmem or Fault.AddressCallsFallBackToHighmem => "ZONE-3",
        Fault.HighmemHasDirectAddress or Fault.KmapSlotSearchOffByOne => "ZONE-4",
        Fault.KernelAllowedInAtomic => "GFP-1",
        Fault.AtomicSleeps => "GFP-2",
        Fault.AtomicKeptOutOfReserve or Fault.ProtectionIgnored => "GFP-3",
        Fault.NoReclaim => "GFP-4",
        Fault.InAtomicIgnoresIrq => "GFP-5",
        Fault.DmaKernelAllowedInAtomic => "GFP-6",
        Fault.UserGetsHighmem or Fault.UnknownGfpBitsAccepted => "GFP-7",
        Fault.OverlappingBlocks => "PAGE-1",
        Fault.MaxOrderRefused => "PAGE-2",
        Fault.ZeroedPageNotZeroed => "PAGE-3",
        Fault.WrongOrderFreeAccepted => "PAGE-4",
        Fault.PfnToPageOtherHandle or Fault.PfnToPageGivesHeadOfBlock => "PAGE-5",
        Fault.ThrowsWhenOutOfMemory or Fault.SmallerBlockWhenFragmented => "PAGE-6",
        Fault.MisalignedBlocks => "PAGE-7",
        Fault.NoCoalescing => "PAGE-8",
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no rule: the correct implementation"),
    };
}
