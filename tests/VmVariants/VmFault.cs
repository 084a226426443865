namespace KernelMm.Tests.VmVariants;

/// <summary>
/// One deliberately broken behaviour of <see cref="HashedVmKernel"/>. Each member breaks exactly one
/// thing, chosen so that the vm family attributes it to exactly one rule (named in brackets).
/// <see cref="None"/> is the correct implementation.
/// </summary>
public enum VmFault
{
    None,

    /// <summary>[ADDR-2] The page tables take the page number from bit PAGE_SHIFT - 1 up: the upper half of every mapped page is unmapped.</summary>
    OffsetBitsShort,
    /// <summary>[ADDR-3] Translations of vmalloc pages (walk and TLB alike) name the frame after the one mapped; accesses use the right one.</summary>
    TranslationNamesNextFrame,
    /// <summary>[ADDR-5] An access that crosses a page boundary in a vmalloc area goes on in the physically next frame.</summary>
    CrossPageAssumesContiguous,
    /// <summary>[ADDR-6] A kernel read of an unmapped address returns zeros and a write there is dropped, instead of a page fault.</summary>
    UnmappedReadsZero,
    /// <summary>[ADDR-8] vfree leaves the freed pages' TLB entries usable: a cached translation of a freed page is still answered.</summary>
    StaleTlbAfterVfree,
    /// <summary>[VMAL-1] vmalloc computes the page count as size / PAGE_SIZE above one page: a size just past a page boundary gets one page short.</summary>
    VmallocOnePageShort,
    /// <summary>[VMAL-2] vmalloc of at most one page quietly returns a direct-mapped page (kmalloc-style memory) instead of a vmalloc area.</summary>
    SmallVmallocFromDirectMap,
    /// <summary>[VMAL-3] vmalloc in atomic context is served (with non-sleeping allocations) instead of being reported.</summary>
    VmallocAllowedInAtomic,
    /// <summary>[VMAL-4] vmalloc takes one physically contiguous block: it fails above the largest block and keeps the block's spare pages.</summary>
    VmallocContiguousOnly,
    /// <summary>[VMAL-5] virt_to_phys of a vmalloc address answers the frame of that page instead of reporting the bug.</summary>
    VirtToPhysOfVmallocAnswers,
    /// <summary>[VMAL-6] vfree of a direct-mapped (kmalloc or page-allocator) address returns silently.</summary>
    VfreeOfKmallocAccepted,
    /// <summary>[VMAL-6] A second vfree of an area returns silently.</summary>
    DoubleVfreeSilent,
    /// <summary>[ZONE-4] kunmap keeps the PKMAP slot's mapping forever: slots never come back, and kmap runs out after LAST_PKMAP distinct pages.</summary>
    KunmapKeepsMapping,
    /// <summary>[DRV-5] ioremap backs every device page with a freshly allocated RAM frame and maps that.</summary>
    IoremapTakesRam,
    /// <summary>[KMAL-6] kfree of a vmalloc area returns silently (nothing is freed).</summary>
    KfreeOfVmallocAccepted,
}

public static class VmFaults
{
    /// <summary>The rule each fault breaks, as the vm family attributes it.</summary>
    public static string RuleOf(VmFault fault) => fault switch
    {
        VmFault.OffsetBitsShort => "ADDR-2",
        VmFault.TranslationNamesNextFrame => "ADDR-3",
        VmFault.CrossPageAssumesContiguous => "ADDR-5",
        VmFault.UnmappedReadsZero => "ADDR-6",
        VmFault.StaleTlbAfterVfree => "ADDR-8",
        VmFault.VmallocOnePageShort => "VMAL-1",
        VmFault.SmallVmallocFromDirectMap => "VMAL-2",
        VmFault.VmallocAllowedInAtomic => "VMAL-3",
        VmFault.VmallocContiguousOnly => "VMAL-4",
        VmFault.VirtToPhysOfVmallocAnswers => "VMAL-5",
        VmFault.VfreeOfKmallocAccepted or VmFault.DoubleVfreeSilent => "VMAL-6",
        VmFault.KunmapKeepsMapping => "ZONE-4",
        VmFault.IoremapTakesRam => "DRV-5",
        VmFault.KfreeOfVmallocAccepted => "KMAL-6",
        _ => throw new ArgumentOutOfRangeException(nameof(fault), fault, "no rule: the correct implementation"),
    };
}
