namespace KernelMm.Examples.ReferenceServer;

/// <summary>
/// Deliberately broken variants the server can serve (--fault NAME), each breaking one rule of the
/// vm family the way tests/VmVariants breaks it in-process, so that a test sees the suite name exactly
/// that rule through the protocol.
/// </summary>
internal static class Faults
{
    /// <summary>[VMAL-6] A second vfree of an area returns silently instead of being reported.</summary>
    public const string DoubleVfree = "double-vfree";

    /// <summary>[ADDR-6] A read of an unmapped kernel address answers zeros and a write there is dropped, instead of a page fault.</summary>
    public const string UnmappedReadsZero = "unmapped-reads-zero";

    public static readonly IReadOnlyList<string> Names = [DoubleVfree, UnmappedReadsZero];
}
