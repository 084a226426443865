using KernelMm.Spec.Contract;

namespace KernelMm.Reference.Mm;

/// <summary>What backs a mapping (the vma's vm_file and vm_ops, reduced).</summary>
internal enum VmaBacking
{
    /// <summary>MAP_PRIVATE | MAP_ANONYMOUS: zero-filled anonymous pages.</summary>
    Anonymous,
    /// <summary>A file, or the shmem object behind MAP_SHARED | MAP_ANONYMOUS (shmem_zero_setup).</summary>
    File,
    /// <summary>A character device whose driver filled the page tables at mmap time (VM_PFNMAP / VM_MIXEDMAP).</summary>
    Device,
}

/// <summary>
/// One mapping of a process (struct vm_area_struct): [Start, End) page aligned, its protection, shared
/// or private, and what backs it. <see cref="PgOff"/> is the offset of Start in the backing object,
/// in pages (vm_pgoff). A vma is split by partial munmap and mprotect (__split_vma).
/// </summary>
internal sealed class Vma
{
    public required ulong Start { get; set; }
    public required ulong End { get; set; }
    public required Prot Prot { get; set; }
    /// <summary>VM_SHARED: writes go to the object and every mapping of it.</summary>
    public required bool Shared { get; init; }
    public required VmaBacking Backing { get; init; }
    /// <summary>The file or shmem object (File backing).</summary>
    public ShmemFile? File { get; init; }
    /// <summary>The device (Device backing).</summary>
    public CharDevice? Device { get; init; }
    /// <summary>vm_pgoff: page offset of <see cref="Start"/> in the object.</summary>
    public long PgOff { get; set; }
    /// <summary>VM_MAYWRITE: PROT_WRITE may be added by mprotect (false for a shared mapping of a read-only descriptor).</summary>
    public required bool MayWrite { get; init; }

    public ulong Pages(int pageShift) => (End - Start) >> pageShift;

    /// <summary>Whether the protection lets a user access through (x86: any of R/W/X reads; only W writes).</summary>
    public bool Allows(bool write) => write ? (Prot & Prot.Write) != 0 : Prot != Prot.None;

    /// <summary>The object page index backing <paramref name="va"/> (linear_page_index).</summary>
    public long PageIndex(ulong va, int pageShift) => PgOff + (long)((va - Start) >> pageShift);

    /// <summary>A copy covering [start, end) of this vma, with its page offset moved accordingly.</summary>
    public Vma Slice(ulong start, ulong end, int pageShift) => new()
    {
        Start = start, End = end, Prot = Prot, Shared = Shared, Backing = Backing, File = File, Device = Device,
        PgOff = PgOff + (long)((start - Start) >> pageShift), MayWrite = MayWrite,
    };

    public override string ToString() => $"[0x{Start:x}-0x{End:x}) {Prot} {(Shared ? "shared" : "private")} {Backing}";
}
