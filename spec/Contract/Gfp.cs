namespace KernelMm.Spec.Contract;

/// <summary>
/// GFP ("get free pages") flags, modelled on include/linux/gfp_types.h: a few
/// modifier bits grouped by purpose, and the documented combinations built from them.
/// </summary>
[Flags]
public enum GfpFlags : uint
{
    /// <summary>GFP_NOWAIT: no modifier at all. Never sleeps, no access to the emergency reserve.</summary>
    None = 0,

    // ---- Reclaim modifiers -------------------------------------------------------------
    /// <summary>__GFP_DIRECT_RECLAIM (2.4: __GFP_WAIT): the caller may sleep while memory is reclaimed.</summary>
    DirectReclaim = 1 << 0,
    /// <summary>__GFP_IO: reclaim may start physical I/O.</summary>
    Io = 1 << 1,
    /// <summary>__GFP_FS: reclaim may call into the file system.</summary>
    Fs = 1 << 2,

    // ---- Watermark modifiers -----------------------------------------------------------
    /// <summary>__GFP_HIGH: high priority; may dip into the emergency reserve.</summary>
    High = 1 << 3,

    // ---- Placement (zone) modifiers ----------------------------------------------------
    /// <summary>__GFP_DMA: the block must lie wholly below MAX_DMA_ADDRESS.</summary>
    Dma = 1 << 4,
    /// <summary>__GFP_HIGHMEM: the block may come from ZONE_HIGHMEM.</summary>
    HighMem = 1 << 5,
    /// <summary>__GFP_HARDWALL: a user allocation (cpuset hard wall). No effect on zones.</summary>
    Hardwall = 1 << 6,

    // ---- Action modifiers ---------------------------------------------------------------
    /// <summary>__GFP_ZERO: return zeroed memory.</summary>
    Zero = 1 << 7,

    /// <summary>
    /// GFP_BUFFER (linux-2.4 only): buffer-cache allocations; may sleep but does no I/O.
    /// A distinct bit so that a profile without it can refuse it.
    /// </summary>
    Buffer2_4 = 1 << 8,
}

/// <summary>
/// The documented combinations, under their kernel names. Data only: what a combination means (may
/// it sleep, which zones, reserve access, whether a bit exists on a profile) is judgement, and each
/// side derives it itself: the reference in reference/Mm/GfpMask.cs, the suite in
/// conformance/Engine/Expectations/GfpSemantics.cs (issue 7, section 2).
/// </summary>
public static class Gfp
{
    /// <summary>GFP_KERNEL: normal kernel allocation; may sleep; forbidden in atomic context.</summary>
    public const GfpFlags Kernel = GfpFlags.DirectReclaim | GfpFlags.Io | GfpFlags.Fs;
    /// <summary>GFP_ATOMIC: never sleeps; may use the emergency reserve.</summary>
    public const GfpFlags Atomic = GfpFlags.High;
    /// <summary>GFP_NOWAIT: never sleeps and has no reserve access.</summary>
    public const GfpFlags NoWait = GfpFlags.None;
    /// <summary>GFP_DMA: only the zone modifier; OR it with GFP_KERNEL or GFP_ATOMIC.</summary>
    public const GfpFlags Dma = GfpFlags.Dma;
    /// <summary>GFP_USER: user-space allocation; may sleep; low memory only.</summary>
    public const GfpFlags User = Kernel | GfpFlags.Hardwall;
    /// <summary>GFP_HIGHUSER: as GFP_USER but HIGHMEM allowed.</summary>
    public const GfpFlags HighUser = User | GfpFlags.HighMem;
    /// <summary>GFP_BUFFER (2.4): may sleep, no I/O, low memory only.</summary>
    public const GfpFlags Buffer = GfpFlags.DirectReclaim | GfpFlags.Buffer2_4;

    /// <summary>Kernel-style spelling, e.g. "GFP_KERNEL|__GFP_DMA", for reports.</summary>
    public static string Describe(GfpFlags flags)
    {
        var parts = new List<string>();
        var rest = flags;
        void Take(GfpFlags combo, string name)
        {
            if ((rest & combo) == combo && combo != 0) { parts.Add(name); rest &= ~combo; }
        }
        if (flags == GfpFlags.None) return "GFP_NOWAIT";
        if ((flags & GfpFlags.Buffer2_4) != 0) Take(Buffer, "GFP_BUFFER");
        Take(HighUser, "GFP_HIGHUSER");
        Take(User, "GFP_USER");
        Take(Kernel, "GFP_KERNEL");
        Take(Atomic, "GFP_ATOMIC");
        Take(GfpFlags.Dma, "GFP_DMA");
        Take(GfpFlags.HighMem, "__GFP_HIGHMEM");
        Take(GfpFlags.Zero, "__GFP_ZERO");
        Take(GfpFlags.DirectReclaim, "__GFP_DIRECT_RECLAIM");
        Take(GfpFlags.Io, "__GFP_IO");
        Take(GfpFlags.Fs, "__GFP_FS");
        Take(GfpFlags.Hardwall, "__GFP_HARDWALL");
        if (rest != 0) parts.Add($"0x{(uint)rest:x}");
        return string.Join("|", parts);
    }
}
