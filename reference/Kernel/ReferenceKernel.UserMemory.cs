using KernelMm.Reference.Mm;
using KernelMm.Spec.Contract;

namespace KernelMm.Reference;

/// <summary>
/// IUserMemory: processes, files, mmap/munmap/mprotect and user loads and stores (Mm/UserSpace,
/// Mm/MmapOps, Mm/PageFaults). User space is made on first use, on top of the kernel's page tables
/// and TLB (each process gets its own tables and ASID); its frames come from the page allocator as
/// alloc_page(GFP_HIGHUSER), whose reclaim may then swap user pages out (GFP-4, SWAP-1).
/// </summary>
public sealed partial class ReferenceKernel : IUserMemory
{
    /// <summary>The choices user space makes where the rules leave them open (placement, swap victims, copy-on-write). Set before first use.</summary>
    public UserSpacePolicy UserPolicy { get; init; } = UserSpacePolicy.Default;

    private UserSpace? _user;
    /// <summary>User space, made on first use; every contract member reaches it first, so a disposed machine refuses them all.</summary>
    private UserSpace User
    {
        get
        {
            Alive();
            return _user ??= CreateUserSpace();
        }
    }

    private UserSpace CreateUserSpace()
    {
        var vm = new UserVm(Profile, _map, _memory, _pages, Kpt.Mmu, UserPolicy,
            () => AllocPagesPfn(Gfp.HighUser, 0, "alloc_page(GFP_HIGHUSER)"));
        var user = new UserSpace(vm, TableFrames);
        _vmscan.SwapOut = (zones, max) => user.Swapper.SwapOut(max, zones);
        return user;
    }

    public int CreateProcess() => User.CreateProcess();

    public int Fork(int pid) => User.Fork(pid);

    public void Exit(int pid) => User.Exit(pid);

    public long PageFaults(int pid)
    {
        var mm = User.TaskOf(pid).Mm;
        return mm.MinorFaults + mm.MajorFaults;
    }

    public int CreateFile(long size) => User.CreateFile(size);

    public int ReadFile(int file, long offset, Span<byte> destination)
    {
        Alive();
        if (offset < 0) throw new InvalidArgumentException("offset", $"negative file offset {offset}");
        return User.FileOf(file).Read(offset, destination);
    }

    public void WriteFile(int file, long offset, ReadOnlySpan<byte> source)
    {
        var f = User.FileOf(file);
        if (offset < 0 || offset > f.Size || source.Length > f.Size - offset)
            throw new InvalidArgumentException("offset", $"write of {source.Length} bytes at {offset} reaches past the end of file {file} ({f.Size} bytes)");
        if (!f.Write(offset, source)) throw new InvalidOperationException("a page of a regular file went missing");
    }

    public int Open(int pid, int file, OpenMode mode) => User.Open(pid, file, mode);

    public int OpenDevice(int pid, int device) => User.OpenDevice(pid, device);

    public int Close(int pid, int fd) => User.Close(pid, fd);

    public long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset) =>
        User.Mmap.Mmap(User.TaskOf(pid), addr, length, prot, flags, fd, offset);

    public int Munmap(int pid, ulong addr, ulong length) => User.Mmap.Munmap(User.TaskOf(pid).Mm, addr, length);

    public int Mprotect(int pid, ulong addr, ulong length, Prot prot) => User.Mmap.Mprotect(User.TaskOf(pid).Mm, addr, length, prot);

    public UserFault UserRead(int pid, ulong addr, Span<byte> destination)
    {
        var mm = User.TaskOf(pid).Mm;
        if (!WithinPage(addr, destination.Length)) throw new InvalidArgumentException("addr", $"a user access of {destination.Length} bytes at 0x{addr:x} crosses a page boundary");
        if (destination.Length == 0) return UserFault.None;
        var fault = User.Faults.Access(mm, addr, write: false, out ulong pa);
        if (fault == UserFault.None) _memory.Read((int)(pa >> User.Vm.PageShift), (int)(pa & (ulong)(_pageSize - 1)), destination);
        return fault;
    }

    public UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source)
    {
        var mm = User.TaskOf(pid).Mm;
        if (!WithinPage(addr, source.Length)) throw new InvalidArgumentException("addr", $"a user access of {source.Length} bytes at 0x{addr:x} crosses a page boundary");
        if (source.Length == 0) return UserFault.None;
        var fault = User.Faults.Access(mm, addr, write: true, out ulong pa);
        if (fault == UserFault.None) _memory.Write((int)(pa >> User.Vm.PageShift), (int)(pa & (ulong)(_pageSize - 1)), source);
        return fault;
    }

    private bool WithinPage(ulong addr, int length) =>
        length >= 0 && (int)(addr & (ulong)(_pageSize - 1)) + length <= _pageSize;
}
