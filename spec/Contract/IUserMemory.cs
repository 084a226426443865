namespace KernelMm.Spec.Contract;

/// <summary>
/// Processes and their user address spaces, as a program sees them through system calls: fork and
/// exit, open and close, mmap, munmap and mprotect, and the loads and stores its own code makes
/// (Capability.UserMemory). Every call names the process it runs in by its pid.
/// </summary>
/// <remarks>
/// <para>Return values follow the system calls: a result, or a negated errno (<see cref="Errno"/>),
/// as the raw syscall returns them (-EINVAL is -22). A call that fails changes nothing, except
/// where Linux documents otherwise (see MMAP-6's decision on mprotect over a hole).</para>
/// <para>Addresses are the process's virtual addresses; user space is [0, TASK_SIZE)
/// (<c>Profile.TaskSize</c>). The suite places the mappings it asks for at fixed addresses only
/// inside the profile's user window (<c>Profile.UserWindowStart</c>): an implementation whose own
/// program text, stack or libraries live in the same address space (the live-kernel helper) keeps
/// them outside it. A pid or file id the implementation did not hand out raises
/// <see cref="InvalidArgumentException"/>.</para>
/// </remarks>
public interface IUserMemory
{
    // ---- Processes --------------------------------------------------------------------------

    /// <summary>
    /// A new process with an empty user address space inside the user window and no open
    /// descriptors (a freshly exec'd program).
    /// Return: its pid (&gt; 0), or -ENOMEM when no process can be made.
    /// </summary>
    int CreateProcess();

    /// <summary>
    /// fork(): a child whose address space duplicates <paramref name="pid"/>'s: MAP_SHARED mappings
    /// stay shared with the parent (MMAP-5, MMAP-7), MAP_PRIVATE ones become copy-on-write, each
    /// page copied when either side first writes it (or at once: the suite cannot tell), so that
    /// neither ever sees the other's later writes (ADDR-4). The descriptor table is duplicated.
    /// Return: the child's pid (&gt; 0), or -ENOMEM with nothing created.
    /// </summary>
    int Fork(int pid);

    /// <summary>
    /// exit(): the process ends. Its mappings are removed, every frame and swap slot only it used
    /// goes back, its descriptors are closed. Shared objects (files, shared anonymous memory still
    /// mapped elsewhere, driver memory) stay with their other users.
    /// </summary>
    void Exit(int pid);

    /// <summary>
    /// Page faults the process has taken so far, resolved or not (min_flt + maj_flt of
    /// /proc/pid/stat). ADDR-6 observes that the first touch of a fresh mapping is one.
    /// </summary>
    long PageFaults(int pid);

    // ---- Files and devices ------------------------------------------------------------------

    /// <summary>
    /// Creates a regular file of <paramref name="size"/> bytes, all zero, in an in-memory file
    /// system (tmpfs-like; its pages are never swapped: SWAP-2's decision) and returns its id (&gt; 0).
    /// The file exists until the machine shuts down. Errors: <see cref="InvalidArgumentException"/>
    /// for a negative size.
    /// </summary>
    int CreateFile(long size);

    /// <summary>
    /// pread by an observer outside every process: copies the file's bytes from
    /// <paramref name="offset"/> into <paramref name="destination"/>, stopping at the end of the
    /// file. Return: the bytes copied. Shows what MAP_SHARED writes put into the file (MMAP-7).
    /// </summary>
    int ReadFile(int file, long offset, Span<byte> destination);

    /// <summary>
    /// pwrite by an observer: writes <paramref name="source"/> at <paramref name="offset"/>; the
    /// range must lie within the file (it never grows). Every MAP_SHARED mapping of those pages sees
    /// the new bytes. Errors: <see cref="InvalidArgumentException"/> for a range beyond the file.
    /// </summary>
    void WriteFile(int file, long offset, ReadOnlySpan<byte> source);

    /// <summary>open(2) of a file created by <see cref="CreateFile"/> in process <paramref name="pid"/>. Return: the lowest free descriptor (&gt;= 0).</summary>
    int Open(int pid, int file, OpenMode mode);

    /// <summary>
    /// open(2) of a character device, read and write: <see cref="Devices.Serial"/> (a serial port,
    /// a stream device whose driver has no mmap method: MMAP-10) or a device registered through
    /// <see cref="IDriverMmap"/>. Return: a descriptor, or -ENODEV for a device that does not exist.
    /// </summary>
    int OpenDevice(int pid, int device);

    /// <summary>close(2). Return: 0, or -EBADF when <paramref name="fd"/> is not open. Mappings made through it stay (MMAP-9).</summary>
    int Close(int pid, int fd);

    // ---- Mappings ---------------------------------------------------------------------------

    /// <summary>
    /// mmap(addr, length, prot, flags, fd, offset). <paramref name="fd"/> is ignored with
    /// MAP_ANONYMOUS (pass -1). Return: the page-aligned start of the new mapping, or a negated
    /// errno with nothing changed: -EINVAL (length 0, an offset that is not a page multiple, neither
    /// or both of MAP_SHARED / MAP_PRIVATE as the profile decides, MAP_FIXED with an unaligned addr),
    /// -ENOMEM (no room, or a MAP_FIXED range reaching TASK_SIZE), -EBADF (fd not open),
    /// -EACCES (the descriptor's mode does not allow the protection), -ENODEV (the object cannot be
    /// mapped), -EOVERFLOW (offset + length overflows), or the error of a driver's mmap method.
    /// MAP_FIXED replaces whatever the range held.
    /// </summary>
    long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset);

    /// <summary>
    /// munmap(addr, length): removes every mapping of the page-rounded range, splitting those it
    /// cuts (MMAP-8). Return: 0 (also when nothing was mapped there), or -EINVAL for an unaligned
    /// addr, a length of 0, or a range outside user space.
    /// </summary>
    int Munmap(int pid, ulong addr, ulong length);

    /// <summary>
    /// mprotect(addr, length, prot): every page of the page-rounded range gets the protection,
    /// splitting mappings it cuts (MMAP-6). Return: 0 (length 0 does nothing), -EINVAL for an
    /// unaligned addr or an unknown protection bit, -ENOMEM when part of the range is not mapped,
    /// -EACCES for PROT_WRITE on a MAP_SHARED mapping of a descriptor opened read-only.
    /// </summary>
    int Mprotect(int pid, ulong addr, ulong length, Prot prot);

    // ---- The process's own loads and stores -------------------------------------------------

    /// <summary>
    /// A load by the process's code (user mode) of <paramref name="destination"/>.Length bytes at
    /// <paramref name="addr"/>, within one page. A page not present is faulted in first (demand
    /// paging, swap-in: ADDR-6); an access that cannot be served raises the signal the process
    /// would get, returned as the fault, and <paramref name="destination"/> is then unspecified.
    /// Errors: <see cref="InvalidArgumentException"/> for a range crossing a page boundary.
    /// </summary>
    UserFault UserRead(int pid, ulong addr, Span<byte> destination);

    /// <summary>A store by the process's code, within one page; as <see cref="UserRead"/>. A faulting store changes nothing.</summary>
    UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source);
}

/// <summary>mmap/mprotect protection bits (include/uapi/asm-generic/mman-common.h).</summary>
[Flags]
public enum Prot
{
    /// <summary>PROT_NONE: no access at all.</summary>
    None = 0,
    /// <summary>PROT_READ.</summary>
    Read = 0x1,
    /// <summary>PROT_WRITE (on x86 it implies read: a writable page is readable).</summary>
    Write = 0x2,
    /// <summary>PROT_EXEC (on x86 without NX it implies read).</summary>
    Exec = 0x4,
}

/// <summary>mmap flags, with Linux's values (include/uapi/linux/mman.h, asm-generic/mman-common.h).</summary>
[Flags]
public enum MapFlags
{
    /// <summary>No flag: not a valid mmap by itself (exactly one of the type bits is required).</summary>
    None = 0,
    /// <summary>MAP_SHARED: writes reach the object and every other mapping of it (MMAP-7).</summary>
    Shared = 0x01,
    /// <summary>MAP_PRIVATE: copy-on-write (MMAP-7).</summary>
    Private = 0x02,
    /// <summary>MAP_SHARED_VALIDATE (Linux 4.15): both type bits; see MMAP-3's decision.</summary>
    SharedValidate = Shared | Private,
    /// <summary>MAP_FIXED: exactly at addr, replacing what was there, or fail (MMAP-4).</summary>
    Fixed = 0x10,
    /// <summary>MAP_ANONYMOUS: zero-filled memory backed by no file (MMAP-5).</summary>
    Anonymous = 0x20,
}

/// <summary>The errno values the user-memory calls return, negated (include/uapi/asm-generic/errno-base.h).</summary>
public static class Errno
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;
    /// <summary>Bad file descriptor (MMAP-9: a closed fd).</summary>
    public const int EBADF = 9;
    /// <summary>Out of memory, or no room in the address space / a range not mapped (munmap, mprotect).</summary>
    public const int ENOMEM = 12;
    /// <summary>Permission denied: the protection asks more than the file was opened for.</summary>
    public const int EACCES = 13;
    /// <summary>Bad address (UACC-2, UACC-3).</summary>
    public const int EFAULT = 14;
    /// <summary>No such device: the object cannot be mapped (MMAP-10).</summary>
    public const int ENODEV = 19;
    /// <summary>Invalid argument (unaligned address, zero length, bad flags).</summary>
    public const int EINVAL = 22;
    /// <summary>Value too large: a file range past the largest file offset (MMAP-2).</summary>
    public const int EOVERFLOW = 75;

    /// <summary>"EINVAL" for 22 (or -22); the number for anything else.</summary>
    public static string Name(long errno) => Math.Abs(errno) switch
    {
        EPERM => "EPERM", EBADF => "EBADF", ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT",
        ENODEV => "ENODEV", EINVAL => "EINVAL", EOVERFLOW => "EOVERFLOW",
        var n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>How a user-mode access ended: the signal the process got, if any (the si_code tells the kind).</summary>
public enum UserFault
{
    /// <summary>The access completed.</summary>
    None,
    /// <summary>SIGSEGV, SEGV_MAPERR: no mapping covers the address (never mapped, unmapped, or kernel space: ADDR-6, MMAP-8, ADDR-9).</summary>
    MapError,
    /// <summary>SIGSEGV, SEGV_ACCERR: a mapping covers it but its protection forbids the access (MMAP-6).</summary>
    AccessError,
    /// <summary>SIGBUS, BUS_ADRERR: the mapped object has no page there (a file page wholly past its end, a device page its driver did not map).</summary>
    Bus,
    /// <summary>
    /// The page could not be faulted in for lack of memory, even after reclaim (VM_FAULT_OOM: Linux
    /// would run the OOM killer). The access had no effect.
    /// </summary>
    OutOfMemory,
}

/// <summary>open(2) access modes.</summary>
public enum OpenMode
{
    /// <summary>O_RDONLY.</summary>
    ReadOnly = 0,
    /// <summary>O_WRONLY.</summary>
    WriteOnly = 1,
    /// <summary>O_RDWR.</summary>
    ReadWrite = 2,
}

/// <summary>Character devices every <see cref="IUserMemory"/> implementation offers.</summary>
public static class Devices
{
    /// <summary>A serial port (/dev/ttyS0; the live kernel uses a pseudo-terminal): a stream device whose driver has no mmap method (MMAP-10).</summary>
    public const int Serial = 0;
}
