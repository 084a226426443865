namespace KernelMm.Tests.UserVariants;

/// <summary>
/// One deliberately broken behaviour of user space, layered on the reference by
/// <see cref="BrokenUserKernel"/>. Each breaks exactly one rule, named in brackets, and the suite must
/// report exactly that rule.
/// </summary>
public enum UserBreak
{
    /// <summary>[ADDR-4] A store to a private page also lands in the same page of every process forked from, or into, the writer (copy-on-write not done).</summary>
    CopyOnWriteLeaks,
    /// <summary>[ADDR-5] mmap refuses (-ENOMEM) once a process's mappings would exceed physical memory (strict accounting without overcommit).</summary>
    NoOvercommit,
    /// <summary>[ADDR-6] Small mappings are populated at mmap time (every page touched at once): no demand paging.</summary>
    EagerPopulate,
    /// <summary>[ADDR-7] A shared mapping of file pages the process already maps shared is refused (no aliasing).</summary>
    NoAliasing,
    /// <summary>[ADDR-9] A user load from a direct-mapped kernel address reads kernel memory instead of faulting.</summary>
    KernelReadableFromUser,
    /// <summary>[MMAP-1] The length is rounded down, not up: the last partial page is not mapped.</summary>
    LengthRoundedDown,
    /// <summary>[MMAP-2] An unaligned file offset is accepted (rounded down).</summary>
    UnalignedOffsetAccepted,
    /// <summary>[MMAP-3] A mapping with neither MAP_SHARED nor MAP_PRIVATE is made private.</summary>
    NeitherFlagAccepted,
    /// <summary>[MMAP-4] MAP_FIXED over an existing mapping moves the new mapping elsewhere instead of replacing.</summary>
    FixedMoves,
    /// <summary>[MMAP-5] After fork the child gets a private copy of MAP_SHARED | MAP_ANONYMOUS pages on its first store.</summary>
    SharedAnonymousNotShared,
    /// <summary>[MMAP-6] mprotect returns 0 and changes nothing.</summary>
    MprotectIgnored,
    /// <summary>[MMAP-7] A store through a MAP_PRIVATE file mapping is also written to the file.</summary>
    PrivateWriteReachesFile,
    /// <summary>[MMAP-8] munmap leaves stale TLB entries: a page read before munmap still reads (zeros) afterwards.</summary>
    StaleTlbAfterMunmap,
    /// <summary>[MMAP-8] A partial munmap removes the whole mapping.</summary>
    PartialMunmapDropsAll,
    /// <summary>[MMAP-9] close() removes the mappings made through the descriptor.</summary>
    CloseUnmaps,
    /// <summary>[MMAP-10] mmap of the serial port succeeds (with anonymous memory).</summary>
    StreamDeviceMappable,
    /// <summary>[DRV-1] The driver is told the page offset in bytes instead of pages.</summary>
    PgoffInBytes,
    /// <summary>[DRV-2] remap_pfn_range rounds a size that is not a page multiple up on every profile (the documents' profiles require a multiple).</summary>
    RemapAcceptsOddSize,
    /// <summary>[DRV-3] vm_insert_page maps the wrong pages (the list rotated by one).</summary>
    InsertsWrongPage,
    /// <summary>[DRV-4] A device mapping is a copy of the driver's memory made at mmap time.</summary>
    DeviceCopiedAtMmap,
    /// <summary>[UACC-1] copy_from_user / copy_to_user return the bytes copied instead of the bytes not copied.</summary>
    CopyReturnsCopied,
    /// <summary>[UACC-2] A failing get_user leaves the value unset (garbage) instead of 0.</summary>
    GetUserLeavesGarbage,
    /// <summary>[UACC-3] get_user of a direct-mapped kernel address reads it and returns 0.</summary>
    GetUserReadsKernel,
    /// <summary>[SWAP-1] A page written out to swap comes back zeroed.</summary>
    SwappedPageZeroed,
    /// <summary>[SWAP-2] Swapping also "swaps" a kmalloc block: its bytes are lost (zeroed).</summary>
    KmallocSwapped,
}

public static class UserBreaks
{
    public static string RuleOf(UserBreak b) => b switch
    {
        UserBreak.CopyOnWriteLeaks => "ADDR-4",
        UserBreak.NoOvercommit => "ADDR-5",
        UserBreak.EagerPopulate => "ADDR-6",
        UserBreak.NoAliasing => "ADDR-7",
        UserBreak.KernelReadableFromUser => "ADDR-9",
        UserBreak.LengthRoundedDown => "MMAP-1",
        UserBreak.UnalignedOffsetAccepted => "MMAP-2",
        UserBreak.NeitherFlagAccepted => "MMAP-3",
        UserBreak.FixedMoves => "MMAP-4",
        UserBreak.SharedAnonymousNotShared => "MMAP-5",
        UserBreak.MprotectIgnored => "MMAP-6",
        UserBreak.PrivateWriteReachesFile => "MMAP-7",
        UserBreak.StaleTlbAfterMunmap or UserBreak.PartialMunmapDropsAll => "MMAP-8",
        UserBreak.CloseUnmaps => "MMAP-9",
        UserBreak.StreamDeviceMappable => "MMAP-10",
        UserBreak.PgoffInBytes => "DRV-1",
        UserBreak.RemapAcceptsOddSize => "DRV-2",
        UserBreak.InsertsWrongPage => "DRV-3",
        UserBreak.DeviceCopiedAtMmap => "DRV-4",
        UserBreak.CopyReturnsCopied => "UACC-1",
        UserBreak.GetUserLeavesGarbage => "UACC-2",
        UserBreak.GetUserReadsKernel => "UACC-3",
        UserBreak.SwappedPageZeroed => "SWAP-1",
        UserBreak.KmallocSwapped => "SWAP-2",
        _ => throw new ArgumentOutOfRangeException(nameof(b)),
    };
}
