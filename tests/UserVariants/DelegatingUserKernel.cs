using KernelMm.Spec.Contract;
using KernelMm.Spec.Profiles;

namespace KernelMm.Tests.UserVariants;

/// <summary>
/// Passes every call of the capabilities the user family uses (user memory, swap, user copies,
/// driver mmap, and the page allocator and kmalloc it allocates kernel memory with) to an inner
/// implementation. Broken variants override the calls they break.
/// </summary>
public class DelegatingUserKernel(IMemoryManager inner, Profile profile)
    : IMemoryManager, IPageAllocator, IKernelMemory, IKmalloc, IUserMemory, ISwap, IUserCopy, IDriverMmap, IVmalloc, IKernelPageTables
{
    private static readonly Capability[] Offered =
        [Capability.PageAllocator, Capability.Kmalloc, Capability.UserMemory, Capability.Swap, Capability.UserCopy, Capability.DriverMmap,
         // ADDR-5/6 require the kernel-VM capabilities (a rule's requirements are all-of): passed through unchanged.
         Capability.Vmalloc, Capability.KernelPageTables];

    protected IMemoryManager Inner { get; } = inner;
    protected IPageAllocator Pages => (IPageAllocator)Inner;
    protected IKernelMemory Memory => (IKernelMemory)Inner;
    protected IUserMemory User => (IUserMemory)Inner;
    protected ISwap Swap => (ISwap)Inner;
    protected IUserCopy Copy => (IUserCopy)Inner;
    protected IDriverMmap Driver => (IDriverMmap)Inner;

    // ---- IVmalloc, IKernelPageTables: passed through, so that ADDR-5/6 (which require them) apply ----------
    public ulong Vmalloc(long size) => ((IVmalloc)Inner).Vmalloc(size);
    public ulong Vzalloc(long size) => ((IVmalloc)Inner).Vzalloc(size);
    public void Vfree(ulong addr) => ((IVmalloc)Inner).Vfree(addr);
    public ulong VmallocToPfn(ulong addr) => ((IVmalloc)Inner).VmallocToPfn(addr);
    public bool IsVmallocAddr(ulong addr) => ((IVmalloc)Inner).IsVmallocAddr(addr);
    public Translation Translate(ulong addr, Access access) => ((IKernelPageTables)Inner).Translate(addr, access);
    public ulong Ioremap(ulong physAddr, long size) => ((IKernelPageTables)Inner).Ioremap(physAddr, size);
    public void Iounmap(ulong addr) => ((IKernelPageTables)Inner).Iounmap(addr);
    public long PageTablePages => ((IKernelPageTables)Inner).PageTablePages;

    public Profile Profile { get; } = profile;
    public IReadOnlySet<Capability> Capabilities { get; } = Offered.Where(inner.Capabilities.Contains).ToHashSet();
    public void Dispose() => Inner.Dispose();

    // ---- IPageAllocator, IKernelMemory, IKmalloc -------------------------------------------------
    public virtual ulong GetFreePages(GfpFlags gfp, int order) => Pages.GetFreePages(gfp, order);
    public virtual ulong GetZeroedPage(GfpFlags gfp) => Pages.GetZeroedPage(gfp);
    public virtual void FreePages(ulong addr, int order) => Pages.FreePages(addr, order);
    public virtual PageHandle AllocPages(GfpFlags gfp, int order) => Pages.AllocPages(gfp, order);
    public virtual void FreePagesOf(PageHandle page, int order) => Pages.FreePagesOf(page, order);
    public ulong PageToPfn(PageHandle page) => Pages.PageToPfn(page);
    public PageHandle PfnToPage(ulong pfn) => Pages.PfnToPage(pfn);
    public ulong PageAddress(PageHandle page) => Pages.PageAddress(page);
    public Zone PageZone(PageHandle page) => Pages.PageZone(page);
    public ulong VirtToPhys(ulong addr) => Pages.VirtToPhys(addr);
    public long FreeBlocks(Zone zone, int order) => Pages.FreeBlocks(zone, order);
    public void DrainCaches() => Pages.DrainCaches();
    public void Read(ulong addr, Span<byte> destination) => Memory.Read(addr, destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => Memory.Write(addr, source);
    public virtual ulong Kmalloc(long size, GfpFlags gfp) => ((IKmalloc)Inner).Kmalloc(size, gfp);
    public ulong Kzalloc(long size, GfpFlags gfp) => ((IKmalloc)Inner).Kzalloc(size, gfp);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => ((IKmalloc)Inner).Krealloc(p, size, gfp);
    public void Kfree(ulong p) => ((IKmalloc)Inner).Kfree(p);
    public long Ksize(ulong p) => ((IKmalloc)Inner).Ksize(p);

    // ---- IUserMemory ---------------------------------------------------------------------------------
    public virtual int CreateProcess() => User.CreateProcess();
    public virtual int Fork(int pid) => User.Fork(pid);
    public virtual void Exit(int pid) => User.Exit(pid);
    public virtual long PageFaults(int pid) => User.PageFaults(pid);
    public virtual int CreateFile(long size) => User.CreateFile(size);
    public virtual int ReadFile(int file, long offset, Span<byte> destination) => User.ReadFile(file, offset, destination);
    public virtual void WriteFile(int file, long offset, ReadOnlySpan<byte> source) => User.WriteFile(file, offset, source);
    public virtual int Open(int pid, int file, OpenMode mode) => User.Open(pid, file, mode);
    public virtual int OpenDevice(int pid, int device) => User.OpenDevice(pid, device);
    public virtual int Close(int pid, int fd) => User.Close(pid, fd);
    public virtual long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset) => User.Mmap(pid, addr, length, prot, flags, fd, offset);
    public virtual int Munmap(int pid, ulong addr, ulong length) => User.Munmap(pid, addr, length);
    public virtual int Mprotect(int pid, ulong addr, ulong length, Prot prot) => User.Mprotect(pid, addr, length, prot);
    public virtual UserFault UserRead(int pid, ulong addr, Span<byte> destination) => User.UserRead(pid, addr, destination);
    public virtual UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source) => User.UserWrite(pid, addr, source);

    // ---- ISwap, IUserCopy, IDriverMmap -----------------------------------------------------------------
    public long SwapTotalPages => Swap.SwapTotalPages;
    public long SwapFreePages => Swap.SwapFreePages;
    public virtual int SwapOut(int pages) => Swap.SwapOut(pages);
    public long AnonPages(Zone zone) => Swap.AnonPages(zone);
    public virtual long CopyFromUser(int pid, ulong to, ulong from, long n) => Copy.CopyFromUser(pid, to, from, n);
    public virtual long CopyToUser(int pid, ulong to, ulong from, long n) => Copy.CopyToUser(pid, to, from, n);
    public virtual int GetUser(int pid, ulong addr, int size, out ulong value) => Copy.GetUser(pid, addr, size, out value);
    public virtual int PutUser(int pid, ulong addr, int size, ulong value) => Copy.PutUser(pid, addr, size, value);
    public virtual int RegisterRemapDevice(ulong pfn, long pages, long remapSize) => Driver.RegisterRemapDevice(pfn, pages, remapSize);
    public virtual int RegisterPageListDevice(IReadOnlyList<PageHandle> pages) => Driver.RegisterPageListDevice(pages);
    public virtual DriverVma? LastMmap(int device) => Driver.LastMmap(device);
}
