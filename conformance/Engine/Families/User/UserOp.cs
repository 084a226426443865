using KernelMm.Spec.Contract;

namespace KernelMm.Conformance.Families.User;

/// <summary>The kinds of step a generated user-space sequence is made of.</summary>
public enum UserOpKind
{
    // Processes
    Spawn, Fork, Exit, ExitAll, ForkShare,
    // Files and devices
    CreateFile, OpenFile, OpenSerial, Close, WriteFile,
    // Mappings, valid and invalid
    MmapAnon, MmapFile, Alias, MmapBad, Munmap, MunmapBad, Mprotect, MprotectBad,
    // The processes' own loads and stores
    Write, Read, Probe, Verify,
    // Swapping and memory pressure, kernel memory that must never be swapped
    SwapOut, Pressure, KernelAlloc,
    // Driver mmap
    RegisterRemap, RegisterPageList, MmapDevice, KernelWriteDevice,
    // User copies
    CopyToUser, CopyFromUser, GetUser, PutUser, CopyBad,
    // An address space larger than RAM
    BigMap,
}

/// <summary>Where a generated mmap asks to be placed.</summary>
public enum Placement
{
    /// <summary>addr 0: the kernel chooses.</summary>
    Anywhere,
    /// <summary>A non-fixed hint inside the user window.</summary>
    Hint,
    /// <summary>MAP_FIXED at a generated page of the user window (free or not).</summary>
    Fixed,
    /// <summary>MAP_FIXED over part of a mapping the process already has in the window.</summary>
    FixedOver,
}

/// <summary>
/// One generated step. Slots (<see cref="Proc"/>, <see cref="Target"/>) pick a live process,
/// mapping, descriptor, file or device by index modulo the count at run time, so removing earlier
/// steps while shrinking keeps later steps meaningful. The other numbers are sizes, page indices,
/// byte offsets and data seeds, read per kind (see <see cref="UserMachine"/>).
/// </summary>
public sealed record UserOp(
    UserOpKind Kind,
    int Proc = 0,
    int Target = 0,
    int Pages = 1,
    int Offset = 0,
    int Length = 0,
    int Seed = 0,
    Prot Prot = Prot.Read | Prot.Write,
    MapFlags Flags = MapFlags.Private,
    Placement Place = Placement.Anywhere)
{
    public override string ToString() => Kind switch
    {
        UserOpKind.MmapAnon or UserOpKind.MmapFile =>
            $"{Kind}(proc {Proc}, target {Target}, {Pages} pages, -{Length} bytes, off {Offset}, {Prot}, {Flags}, {Place})",
        UserOpKind.Mprotect => $"{Kind}(proc {Proc}, map {Target}, part {Offset}, {Pages} pages, {Prot})",
        _ => $"{Kind}(proc {Proc}, target {Target}, pages {Pages}, offset {Offset}, length {Length}, seed {Seed})",
    };
}
