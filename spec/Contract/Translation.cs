namespace KernelMm.Spec.Contract;

/// <summary>
/// How the CPU touches an address: from kernel or user mode, reading or writing. The MMU checks
/// the page-table entry's user and writable bits against it.
/// </summary>
public enum Access
{
    /// <summary>Kernel-mode read (what kernel code dereferencing a pointer does).</summary>
    KernelRead,
    /// <summary>Kernel-mode write.</summary>
    KernelWrite,
    /// <summary>User-mode read: a kernel page (user bit clear) faults.</summary>
    UserRead,
    /// <summary>User-mode write: a kernel page or a read-only page faults.</summary>
    UserWrite,
}

/// <summary>Why a translation faulted (the error code the page-fault handler receives).</summary>
public enum TranslationFault
{
    /// <summary>No fault: the address is mapped and the access is allowed.</summary>
    None,
    /// <summary>No present entry at some level of the walk: the page is not mapped (ADDR-6).</summary>
    NotPresent,
    /// <summary>The page is mapped but its entry forbids the access (a write to a read-only page).</summary>
    Protection,
    /// <summary>A user-mode access to a page whose entries do not carry the user bit (a kernel page).</summary>
    UserAccessToKernel,
}

/// <summary>
/// The result of translating one virtual address: the physical address, or the fault the MMU
/// raises instead. <see cref="PhysicalAddress"/> is 0 when <see cref="Fault"/> is not
/// <see cref="TranslationFault.None"/>. Data only: which access faults where is for each side to
/// derive (issue 7, section 2).
/// </summary>
public readonly record struct Translation(ulong PhysicalAddress, TranslationFault Fault)
{
    /// <summary>A successful translation to <paramref name="physicalAddress"/>.</summary>
    public static Translation Mapped(ulong physicalAddress) => new(physicalAddress, TranslationFault.None);

    /// <summary>A faulting translation.</summary>
    public static Translation Faulted(TranslationFault fault) => new(0, fault);

    /// <summary>"PA 0x1234" for a mapping, "fault (NotPresent)" for a fault: as traces print it.</summary>
    public override string ToString() => Fault == TranslationFault.None ? $"PA 0x{PhysicalAddress:x}" : $"fault ({Fault})";
}
