namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// Deliberately broken variants the server can serve (--fault NAME), each breaking one rule of the
/// vm family (as tests/VmVariants does in-process) or of the user family (as tests/UserVariants does),
/// so that a test sees the suite name exactly that rule through the protocol.
/// </summary>
internal static class Faults
{
    /// <summary>[VMAL-6] A second vfree of an area returns silently instead of being reported.</summary>
    public const string DoubleVfree = "double-vfree";

    /// <summary>[ADDR-6] A read of an unmapped kernel address answers zeros and a write there is dropped, instead of a page fault.</summary>
    public const string UnmappedReadsZero = "unmapped-reads-zero";

    /// <summary>[UACC-1] copy_from_user and copy_to_user answer the bytes copied instead of the bytes not copied.</summary>
    public const string CopyReturnsCopied = "copy-returns-copied";

    /// <summary>[MMAP-6] A well-formed mprotect of user space answers 0 and changes nothing.</summary>
    public const string MprotectIgnored = "mprotect-ignored";

    /// <summary>[MMAP-3] An mmap with neither MAP_SHARED nor MAP_PRIVATE is made private instead of refused.</summary>
    public const string NeitherFlagAccepted = "neither-flag-accepted";

    public static readonly IReadOnlyList<string> Names = [DoubleVfree, UnmappedReadsZero, CopyReturnsCopied, MprotectIgnored, NeitherFlagAccepted];
}
