using System.Numerics;
using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Expectations;

/// <summary>
/// kmalloc's sizing as one implementation declares it (<see cref="IKmalloc.KmallocInfo"/>, or the
/// profile's default when it declares nothing), checked against what the documents fix, and the
/// suite's own derivation of what follows from it: the usable size of a request (KMAL-2), the
/// general cache's name in /proc/slabinfo (KMAL-8), what kmalloc(0) returns (KMAL-1).
/// </summary>
internal sealed class KmallocTable
{
    private readonly long[] _classes;
    private readonly Profile _profile;
    private readonly int _pageShift;

    private KmallocTable(KmallocInfo info, Profile profile, bool declared)
    {
        _profile = profile;
        _classes = [.. info.Classes];
        _pageShift = BitOperations.Log2((uint)profile.PageSize);
        ZeroSize = info.ZeroSize;
        KreallocInPlace = info.KreallocInPlace;
        Declared = declared;
    }

    public bool Declared { get; }
    public KmallocZero ZeroSize { get; }
    public bool KreallocInPlace { get; }
    /// <summary>The largest size a general cache serves.</summary>
    public long CacheMax => _classes[^1];
    public long Smallest => _classes[0];
    public IReadOnlyList<long> Classes => _classes;

    /// <summary>
    /// Reads the declaration. <paramref name="problem"/> names the rule a declaration breaks and why:
    /// KMAL-2 for a class table that is not ascending powers of two (SLUB's 3·2^k classes, 96 and 192,
    /// allowed) within KMALLOC_MAX_SIZE; KMAL-1 for a kmalloc(0) the profile does not allow (ZERO_SIZE_PTR
    /// exists only on linux-6, where kmalloc(0) always returns it).
    /// </summary>
    public static KmallocTable Read(KmallocInfo? declared, Profile profile, out (string Rule, string Why)? problem)
    {
        var info = declared ?? KmallocInfo.Default(profile);
        problem = Validate(info, profile);
        if (problem is not null) info = KmallocInfo.Default(profile);
        return new KmallocTable(info, profile, declared is not null);
    }

    private static (string, string)? Validate(KmallocInfo info, Profile p)
    {
        var classes = info.Classes ?? [];
        if (classes.Count == 0) return ("KMAL-2", "declares no kmalloc size class");
        for (int i = 0; i < classes.Count; i++)
        {
            long c = classes[i];
            if (c <= 0 || (!BitOperations.IsPow2(c) && !(c % 3 == 0 && BitOperations.IsPow2(c / 3))))
                return ("KMAL-2", $"declares a kmalloc class of {c} bytes: classes are powers of two (or SLUB's 3·2^k intermediates such as 96 and 192)");
            if (i > 0 && c <= classes[i - 1])
                return ("KMAL-2", $"declares kmalloc classes out of order ({classes[i - 1]} before {c})");
        }
        if (classes[^1] > p.KmallocMaxSize)
            return ("KMAL-2", $"declares a kmalloc class of {classes[^1]} bytes, above KMALLOC_MAX_SIZE {p.KmallocMaxSize} of {p.Name}");
        if (!Enum.IsDefined(info.ZeroSize)) return ("KMAL-1", $"declares an unknown kmalloc(0) result {info.ZeroSize}");
        // ZERO_SIZE_PTR is linux-6's, and linux-6's kmalloc(0) is always it (include/linux/slab.h).
        bool zeroSizePtrProfile = p.KmallocZeroReturnsZeroSizePtr;
        if (zeroSizePtrProfile != (info.ZeroSize == KmallocZero.ZeroSizePtr))
            return ("KMAL-1", zeroSizePtrProfile
                ? $"declares kmalloc(0) = {info.ZeroSize}, but on {p.Name} kmalloc(0) returns ZERO_SIZE_PTR"
                : $"declares kmalloc(0) = ZERO_SIZE_PTR, which does not exist on {p.Name} (NULL or a smallest-class object)");
        return null;
    }

    /// <summary>The class serving a request, or null above the largest general cache.</summary>
    public long? ClassFor(long size)
    {
        foreach (var c in _classes) if (c >= size) return c;
        return null;
    }

    /// <summary>KMAL-2: the usable size of a request: its class, or above the classes PAGE_SIZE &lt;&lt; get_order(size).</summary>
    public long UsableSize(long size)
    {
        if (ClassFor(size) is { } c) return c;
        long pages = (size + (1L << _pageShift) - 1) >> _pageShift;
        int order = pages <= 1 ? 0 : 64 - BitOperations.LeadingZeroCount((ulong)(pages - 1));
        return 1L << (_pageShift + order);
    }

    /// <summary>
    /// KMAL-8: the /proc/slabinfo name of a class's general cache, derived by the suite from the
    /// profile's naming: "size-N" on the document profiles (mm/slab.c), "kmalloc-N" with sizes from
    /// 1 KiB written "Nk" on linux-6 (mm/slab_common.c kmalloc_info).
    /// </summary>
    public string CacheName(long classSize)
    {
        bool modern = _profile.KmallocCachePrefix == "kmalloc-";
        return modern
            ? (classSize >= 1024 && classSize % 1024 == 0 ? $"kmalloc-{classSize / 1024}k" : $"kmalloc-{classSize}")
            : $"size-{classSize}";
    }

    public string Describe() =>
        $"classes {string.Join(",", _classes)}, kmalloc(0) = {ZeroSize}, krealloc {(KreallocInPlace ? "in place when it fits" : "may move")}"
        + (Declared ? " (declared)" : " (the profile's default)");
}
