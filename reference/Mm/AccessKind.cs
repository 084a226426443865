using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>
/// The reference MMU's reading of an <see cref="Access"/>: which entry bits it needs. The suite
/// reads accesses its own way; nothing here is shared with it (issue 7, section 2).
/// </summary>
internal static class AccessKind
{
    /// <summary>A write: needs the writable bit at every level.</summary>
    public static bool IsWrite(this Access access) => access is Access.KernelWrite or Access.UserWrite;

    /// <summary>A user-mode access: needs the user bit at every level.</summary>
    public static bool IsUser(this Access access) => access is Access.UserRead or Access.UserWrite;
}
