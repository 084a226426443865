using KernelMm.Spec.Profiles;

namespace KernelMm.Conformance.Running;

/// <summary>
/// The bounds every run setting must keep, wherever it comes from (the command line, a saved
/// failure in the failure database, code): a value outside them is refused before any work starts,
/// never clamped or wrapped silently. They are generous for real campaigns and keep one run's time
/// and memory bounded: memory grows with <see cref="MaxSteps"/> (a generated sequence is held whole
/// and shrunk), time with <see cref="MaxSequences"/>.
/// </summary>
public static class RunLimits
{
    /// <summary>Generated sequences per family, profile and memory size.</summary>
    public const int MaxSequences = 1_000_000;
    /// <summary>Longest generated sequence (FsCheck's end size); the default is 60.</summary>
    public const int MaxSteps = 10_000;
    /// <summary>Failing rules looked for per property (each costs a further run of the property).</summary>
    public const int MaxFailuresPerProperty = 100;
    /// <summary>Largest simulated RAM on a 32-bit profile: its physical address space (PAE is not modelled).</summary>
    public const ulong MaxMemory32 = 4UL << 30;
    /// <summary>Largest simulated RAM on a 64-bit profile (the reference keeps one byte array entry per frame).</summary>
    public const ulong MaxMemory64 = 64UL << 30;
    /// <summary>Different memory sizes in one run.</summary>
    public const int MaxMemorySizes = 16;

    /// <summary>The largest RAM size this profile may be booted with.</summary>
    public static ulong MaxMemory(Profile profile) => profile.WordSize <= 4 ? MaxMemory32 : MaxMemory64;

    /// <summary>The smallest RAM size (and the step between sizes): one block of the profile's maximum order.</summary>
    public static ulong MemoryStep(Profile profile) => (ulong)profile.PageSize << profile.MaxOrder;

    /// <summary>Why <paramref name="bytes"/> cannot be the RAM of <paramref name="profile"/>, or null when it can.</summary>
    public static string? CheckMemory(Profile profile, ulong bytes)
    {
        ulong step = MemoryStep(profile), max = MaxMemory(profile);
        if (bytes < step)
            return $"{Profile.FormatSize(bytes)} is below the smallest RAM of {profile.Name}, one block of its maximum order ({Profile.FormatSize(step)})";
        if (bytes > max)
            return $"{Profile.FormatSize(bytes)} is above the largest RAM of {profile.Name} ({Profile.FormatSize(max)})";
        if (bytes % step != 0)
        {
            ulong below = bytes / step * step, above = below + step;
            return $"{Profile.FormatSize(bytes)} is not a multiple of {profile.Name}'s maximum-order block ({Profile.FormatSize(step)}); " +
                   $"the nearest sizes are {Profile.FormatSize(below)} and {Profile.FormatSize(above)}";
        }
        return null;
    }

    /// <summary>Why <paramref name="settings"/> are outside the limits, or null when they are within.</summary>
    public static string? Check(RunSettings settings) =>
        settings.Sequences is < 1 or > MaxSequences ? $"sequences {settings.Sequences} is outside 1..{MaxSequences:N0}"
        : settings.MaxSteps is < 1 or > MaxSteps ? $"max steps {settings.MaxSteps} is outside 1..{MaxSteps:N0}"
        : settings.MaxFailuresPerProperty is < 1 or > MaxFailuresPerProperty ? $"failures per property {settings.MaxFailuresPerProperty} is outside 1..{MaxFailuresPerProperty}"
        : null;
}
