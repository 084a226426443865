using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Reference.Mm;

/// <summary>
/// What a GFP mask means to the reference (include/linux/gfp.h: gfp_zone, gfpflags_allow_blocking;
/// mm/page_alloc.c: gfp_to_alloc_flags), derived here from the bit definitions and the profile's
/// parameters. The suite derives the same meanings itself and shares none of this code, so a bug
/// here shows up as a rule failure instead of blinding the check (issue 7, section 2).
/// </summary>
internal sealed class GfpMask
{
    private static readonly Zone[] DmaZonelist = [Zone.Dma];
    private static readonly Zone[] NormalZonelist = [Zone.Normal, Zone.Dma];
    private static readonly Zone[] HighmemZonelist = [Zone.HighMem, Zone.Normal, Zone.Dma];

    private readonly GfpFlags _valid;
    private readonly string _profile;

    public GfpMask(Profile profile)
    {
        // __GFP_BITS_MASK of this kernel: the eight modifiers, plus GFP_BUFFER's bit on 2.4.
        _valid = GfpFlags.DirectReclaim | GfpFlags.Io | GfpFlags.Fs | GfpFlags.High | GfpFlags.Dma
                 | GfpFlags.HighMem | GfpFlags.Hardwall | GfpFlags.Zero
                 | (profile.HasGfpBuffer ? GfpFlags.Buffer2_4 : 0);
        _profile = profile.Name;
    }

    /// <summary>Refuses a mask with a bit this kernel does not define. Errors: <see cref="InvalidArgumentException"/> (GFP-7).</summary>
    public void Check(GfpFlags gfp, string caller)
    {
        // GFP-7: any bit outside __GFP_BITS_MASK (GFP_BUFFER outside 2.4 among them) is refused.
        if ((gfp & ~_valid) != 0)
            throw new InvalidArgumentException("gfp", $"{caller}: {Gfp.Describe(gfp)} has bits 0x{(uint)(gfp & ~_valid):x} that do not exist on {_profile}");
    }

    /// <summary>gfpflags_allow_blocking: __GFP_DIRECT_RECLAIM.</summary>
    public static bool AllowsBlocking(GfpFlags gfp) => (gfp & GfpFlags.DirectReclaim) != 0;

    /// <summary>ALLOC_HIGH: __GFP_HIGH may dip into the emergency reserve.</summary>
    public static bool ReserveAccess(GfpFlags gfp) => (gfp & GfpFlags.High) != 0;

    /// <summary>gfp_zone + the zonelist: the zones tried, highest first.</summary>
    public static IReadOnlyList<Zone> Zonelist(GfpFlags gfp) =>
        (gfp & GfpFlags.Dma) != 0 ? DmaZonelist : (gfp & GfpFlags.HighMem) != 0 ? HighmemZonelist : NormalZonelist;
}
