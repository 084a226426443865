using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.HeapVariants;

/// <summary>
/// The kmalloc choices the documents leave open, as <see cref="ListHeapKernel"/> makes them (and
/// declares them through <see cref="IKmalloc.KmallocInfo"/>): its class table, what kmalloc(0)
/// returns, and whether krealloc stays in place whenever the object is big enough.
/// </summary>
public sealed record HeapChoices
{
    /// <summary>General cache sizes, ascending; larger requests come from the page allocator.</summary>
    public required IReadOnlyList<long> Classes { get; init; }
    public required KmallocZero ZeroSize { get; init; }
    /// <summary>Linux's krealloc: the same object whenever the new size fits in ksize, whatever the flags.</summary>
    public required bool KreallocInPlace { get; init; }

    /// <summary>The list heap's own: the profile's class table and kmalloc(0); krealloc in place only when the block also suits the flags' zone.</summary>
    public static HeapChoices ProfileDefault(Profile p) => new()
    {
        Classes = p.KmallocClasses.Select(c => (long)c).ToList(),
        ZeroSize = p.KmallocZeroReturnsZeroSizePtr ? KmallocZero.ZeroSizePtr : KmallocZero.Null,
        KreallocInPlace = false,
    };

    /// <summary>
    /// Today's SLUB on every profile (mm/slab_common.c kmalloc_info, include/linux/slab.h): classes
    /// from 8 bytes, with 96 and 192, up to two pages (KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1), larger
    /// requests from the page allocator; kmalloc(0) is ZERO_SIZE_PTR where the profile has it and a
    /// smallest-class object elsewhere (as 2.4's mm/slab.c gave); krealloc in place whenever it fits.
    /// </summary>
    public static HeapChoices Slub(Profile p)
    {
        var classes = new List<long> { 8, 16, 32, 64, 96, 128, 192 };
        for (long c = 256; c <= 2L * p.PageSize && c <= p.KmallocMaxSize; c *= 2) classes.Add(c);
        return new()
        {
            Classes = classes,
            ZeroSize = p.KmallocZeroReturnsZeroSizePtr ? KmallocZero.ZeroSizePtr : KmallocZero.SmallestObject,
            KreallocInPlace = true,
        };
    }

    /// <summary>What the heap declares instead of its real choices (a test of the suite: a declaration that is not kept).</summary>
    public KmallocInfo? DeclaredAs { get; init; }

    public KmallocInfo Declare() => DeclaredAs ?? new() { Classes = Classes, ZeroSize = ZeroSize, KreallocInPlace = KreallocInPlace };
}
