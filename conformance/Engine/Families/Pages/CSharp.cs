using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.Pages;

/// <summary>Renders values as C# source for paste-ready counterexamples.</summary>
internal static class CSharp
{
    public static string Flags(GfpFlags flags)
    {
        var parts = new List<string>();
        var rest = flags;
        void Take(GfpFlags combo, string name)
        {
            if (combo != 0 && (rest & combo) == combo) { parts.Add(name); rest &= ~combo; }
        }
        if (flags == GfpFlags.None) return "Gfp.NoWait";
        Take(Gfp.Buffer, "Gfp.Buffer");
        Take(Gfp.HighUser, "Gfp.HighUser");
        Take(Gfp.User, "Gfp.User");
        Take(Gfp.Kernel, "Gfp.Kernel");
        Take(Gfp.Atomic, "Gfp.Atomic");
        foreach (var bit in Enum.GetValues<GfpFlags>())
            if (bit != 0 && (rest & bit) == bit) { parts.Add($"GfpFlags.{bit}"); rest &= ~bit; }
        if (rest != 0) parts.Add($"(GfpFlags)0x{(uint)rest:x}"); // a bit no profile defines: the step is about it
        return string.Join(" | ", parts);
    }

    public static string AddressOf(LiveBlock block) =>
        !block.ViaDescriptor ? block.Name
        : block.IsHighmem ? (block.KmapCount > 0 ? $"k_{block.Name}" : $"hm.KmapAtomic({block.Name})")
        : $"pages.PageAddress({block.Name})";
}
