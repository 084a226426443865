namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// Deliberately broken variants the server can serve (--fault NAME), each breaking one rule of the
/// vm family (as tests/VmVariants does in-process), of the user family (as tests/UserVariants does) or
/// ATOM-1 on CPU lanes (as tests/Parallel/AtomicVariants does), so that a test sees the suite name exactly
/// that rule through the protocol; and two that break protocol 5's lane rules, which the runner must report.
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

    /// <summary>
    /// [ATOM-1] Every atomic_t update (add, sub, inc, dec and their _return, _and_test and add_negative forms) is a
    /// read, a short spin, then a write: two lanes updating one counter at once lose an update.
    /// </summary>
    public const string RacyAtomic = "racy-atomic";

    /// <summary>Protocol violation: answers to lane requests carry no "ns".</summary>
    public const string NoNs = "no-ns";

    /// <summary>Protocol violation: a lane answers its second waiting request before its first.</summary>
    public const string LaneOrder = "lane-order";

    public static readonly IReadOnlyList<string> Names = [DoubleVfree, UnmappedReadsZero, CopyReturnsCopied, MprotectIgnored, NeitherFlagAccepted, RacyAtomic, NoNs, LaneOrder];
}
