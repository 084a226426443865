using KernelMm.Spec.Contract;
using Op = KernelMm.Conformance.OutOfProcess.Operations;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// The contract, one line per member: each sends the <see cref="Operations"/> entry that declares
/// it, with the member's parameters in the entry's field order, and decodes the answer by the entry's
/// value type. A new family adds its interface here and one line per member (docs/protocol.md,
/// "Adding an operation"); tests/OutOfProcess/OperationTableTests checks every line against the table.
/// </summary>
internal sealed partial class RemoteMachine : IPageAllocator, IKernelMemory, IExecutionContext, IHighmem, IReclaim, IKmalloc, ISlab,
    IVmalloc, IKernelPageTables, ITlb, IUserMemory, ISwap, IUserCopy, IDriverMmap, IAtomicT
{
    // ---- IPageAllocator, IKernelMemory -----------------------------------------------------------
    public ulong GetFreePages(GfpFlags gfp, int order) => CallAddress(Op.GetFreePages, [gfp, order]);
    public ulong GetZeroedPage(GfpFlags gfp) => CallAddress(Op.GetZeroedPage, [gfp]);
    public void FreePages(ulong addr, int order) => CallVoid(Op.FreePages, [addr, order]);
    public PageHandle AllocPages(GfpFlags gfp, int order) => new(CallAddress(Op.AllocPages, [gfp, order]));
    public void FreePagesOf(PageHandle page, int order) => CallVoid(Op.FreePagesOf, [page, order]);
    public ulong PageToPfn(PageHandle page) => CallAddress(Op.PageToPfn, [page]);
    public PageHandle PfnToPage(ulong pfn) => new(CallAddress(Op.PfnToPage, [pfn]));
    public ulong PageAddress(PageHandle page) => CallAddress(Op.PageAddress, [page]);
    public Zone PageZone(PageHandle page) => CallZone(Op.PageZone, [page]);
    public ulong VirtToPhys(ulong addr) => CallAddress(Op.VirtToPhys, [addr]);
    public long FreeBlocks(Zone zone, int order) => Bulk(zone, order) ? _free[(int)zone * _orders + order] : CallInteger(Op.FreeBlocks, [zone, order]);
    public void DrainCaches() => CallVoid(Op.DrainCaches, []);
    public void Read(ulong addr, Span<byte> destination) => CallBytes(Op.Read, [addr, destination.Length], destination);
    public void Write(ulong addr, ReadOnlySpan<byte> source) => CallVoid(Op.Write, [addr, source.ToArray()]);

    // ---- IExecutionContext -------------------------------------------------------------------------
    public void PreemptDisable() => CallVoid(Op.PreemptDisable, []);
    public void PreemptEnable() => CallVoid(Op.PreemptEnable, []);
    public void IrqEnter() => CallVoid(Op.IrqEnter, []);
    public void IrqExit() => CallVoid(Op.IrqExit, []);
    public bool InInterrupt => Bulk(_ctx) ? _inInterrupt : CallBoolean(Op.InInterrupt, []);
    public bool InAtomic => Bulk(_ctx) ? _inAtomic : CallBoolean(Op.InAtomic, []);
    public long Sleeps => Bulk(_ctx) ? _sleeps : CallInteger(Op.Sleeps, []);

    // ---- IHighmem ------------------------------------------------------------------------------------
    public ulong Kmap(PageHandle page) => CallAddress(Op.Kmap, [page]);
    public void Kunmap(PageHandle page) => CallVoid(Op.Kunmap, [page]);
    public ulong KmapAtomic(PageHandle page) => CallAddress(Op.KmapAtomic, [page]);
    public void KunmapAtomic(ulong addr) => CallVoid(Op.KunmapAtomic, [addr]);

    // ---- IReclaim ------------------------------------------------------------------------------------
    public int FillPageCache(int pages) => CallInt32(Op.FillPageCache, [pages]);
    public long ReclaimablePages(Zone zone) => Bulk(_reclaim && (uint)zone < Zones.Count) ? _reclaimable[(int)zone] : CallInteger(Op.ReclaimablePages, [zone]);
    public void DropPageCache() => CallVoid(Op.DropPageCache, []);

    // ---- IKmalloc (protocol 2) ---------------------------------------------------------------------
    public ulong Kmalloc(long size, GfpFlags gfp) => CallAddress(Op.Kmalloc, [size, gfp]);
    public ulong Kzalloc(long size, GfpFlags gfp) => CallAddress(Op.Kzalloc, [size, gfp]);
    public ulong Krealloc(ulong p, long size, GfpFlags gfp) => CallAddress(Op.Krealloc, [p, size, gfp]);
    public void Kfree(ulong p) => CallVoid(Op.Kfree, [p]);
    public long Ksize(ulong p) => CallInteger(Op.Ksize, [p]);

    // ---- ISlab (protocol 2) ------------------------------------------------------------------------
    public SlabCacheHandle KmemCacheCreate(string name, long size, long align, SlabFlags flags, byte? ctorFill) =>
        new(CallAddress(Op.KmemCacheCreate, [name, size, align, flags, ctorFill]));
    public ulong KmemCacheAlloc(SlabCacheHandle cache, GfpFlags gfp) => CallAddress(Op.KmemCacheAlloc, [cache, gfp]);
    public void KmemCacheFree(SlabCacheHandle cache, ulong obj) => CallVoid(Op.KmemCacheFree, [cache, obj]);
    public long KmemCacheShrink(SlabCacheHandle cache) => CallInteger(Op.KmemCacheShrink, [cache]);
    public int KmemCacheDestroy(SlabCacheHandle cache) => CallInt32(Op.KmemCacheDestroy, [cache]);
    public IReadOnlyList<SlabInfo> SlabInfo() => CachedSlabInfo();
    public long ReapCaches() => CallInteger(Op.ReapCaches, []);

    // ---- IVmalloc (protocol 3) ---------------------------------------------------------------------
    public ulong Vmalloc(long size) => CallAddress(Op.Vmalloc, [size]);
    public ulong Vzalloc(long size) => CallAddress(Op.Vzalloc, [size]);
    public void Vfree(ulong addr) => CallVoid(Op.Vfree, [addr]);
    public ulong VmallocToPfn(ulong addr) => CallAddress(Op.VmallocToPfn, [addr]);
    public bool IsVmallocAddr(ulong addr) => CallBoolean(Op.IsVmallocAddr, [addr]);

    // ---- IKernelPageTables (protocol 3) ------------------------------------------------------------
    public Translation Translate(ulong addr, Access access) => CallTranslation(Op.Translate, [addr, access]);
    public ulong Ioremap(ulong physAddr, long size) => CallAddress(Op.Ioremap, [physAddr, size]);
    public void Iounmap(ulong addr) => CallVoid(Op.Iounmap, [addr]);
    public long PageTablePages => CallInteger(Op.PageTablePages, []);

    // ---- ITlb (protocol 3) ---------------------------------------------------------------------------
    public Translation TlbTranslate(ulong addr, Access access) => CallTranslation(Op.TlbTranslate, [addr, access]);
    public long TlbHits => CallInteger(Op.TlbHits, []);
    public long TlbMisses => CallInteger(Op.TlbMisses, []);
    public int TlbEntries => CallInt32(Op.TlbEntries, []);
    public void FlushTlbKernelRange(ulong start, ulong end) => CallVoid(Op.FlushTlbKernelRange, [start, end]);
    public void FlushTlbAll() => CallVoid(Op.FlushTlbAll, []);

    // ---- IUserMemory (protocol 4) ----------------------------------------------------------------------
    public int CreateProcess() => CallInt32(Op.CreateProcess, []);
    public int Fork(int pid) => CallInt32(Op.Fork, [pid]);
    public void Exit(int pid) => CallVoid(Op.Exit, [pid]);
    public long PageFaults(int pid) => CallInteger(Op.PageFaults, [pid]);
    public int CreateFile(long size) => CallInt32(Op.CreateFile, [size]);
    public int ReadFile(int file, long offset, Span<byte> destination) => CallCopiedBytes(Op.ReadFile, [file, offset, destination.Length], destination);
    public void WriteFile(int file, long offset, ReadOnlySpan<byte> source) => CallVoid(Op.WriteFile, [file, offset, source.ToArray()]);
    public int Open(int pid, int file, OpenMode mode) => CallInt32(Op.Open, [pid, file, mode]);
    public int OpenDevice(int pid, int device) => CallInt32(Op.OpenDevice, [pid, device]);
    public int Close(int pid, int fd) => CallInt32(Op.Close, [pid, fd]);
    public long Mmap(int pid, ulong addr, ulong length, Prot prot, MapFlags flags, int fd, long offset) =>
        CallInteger(Op.Mmap, [pid, addr, length, prot, flags, fd, offset]);
    public int Munmap(int pid, ulong addr, ulong length) => CallInt32(Op.Munmap, [pid, addr, length]);
    public int Mprotect(int pid, ulong addr, ulong length, Prot prot) => CallInt32(Op.Mprotect, [pid, addr, length, prot]);
    public UserFault UserRead(int pid, ulong addr, Span<byte> destination) => CallUserLoad(Op.UserRead, [pid, addr, destination.Length], destination);
    public UserFault UserWrite(int pid, ulong addr, ReadOnlySpan<byte> source) => CallUserFault(Op.UserWrite, [pid, addr, source.ToArray()]);

    // ---- ISwap (protocol 4) ----------------------------------------------------------------------------
    public long SwapTotalPages => CallInteger(Op.SwapTotalPages, []);
    public long SwapFreePages => CallInteger(Op.SwapFreePages, []);
    public int SwapOut(int pages) => CallInt32(Op.SwapOut, [pages]);
    public long AnonPages(Zone zone) => CallInteger(Op.AnonPages, [zone]);

    // ---- IUserCopy (protocol 4) ------------------------------------------------------------------------
    public long CopyFromUser(int pid, ulong to, ulong from, long n) => CallInteger(Op.CopyFromUser, [pid, to, from, n]);
    public long CopyToUser(int pid, ulong to, ulong from, long n) => CallInteger(Op.CopyToUser, [pid, to, from, n]);
    public int GetUser(int pid, ulong addr, int size, out ulong value) => CallResultWithValue(Op.GetUser, [pid, addr, size], out value);
    public int PutUser(int pid, ulong addr, int size, ulong value) => CallInt32(Op.PutUser, [pid, addr, size, value]);

    // ---- IDriverMmap (protocol 4) ----------------------------------------------------------------------
    public int RegisterRemapDevice(ulong pfn, long pages, long remapSize) => CallInt32(Op.RegisterRemapDevice, [pfn, pages, remapSize]);
    public int RegisterPageListDevice(IReadOnlyList<PageHandle> pages) => CallInt32(Op.RegisterPageListDevice, [WireArg.Handles(pages)]);
    public DriverVma? LastMmap(int device) => CallVma(Op.LastMmap, [device]);

    // ---- IAtomicT (protocol 5; on a CPU of a pool, sent on its lane: RemoteMachine.Lanes.cs) ---------------
    public int AtomicCounters => CallInt32(Op.AtomicCounters, []);
    public int AtomicRead(int v) => CallInt32(Op.AtomicRead, [v]);
    public void AtomicSet(int v, int i) => CallVoid(Op.AtomicSet, [v, i]);
    public void AtomicAdd(int i, int v) => CallVoid(Op.AtomicAdd, [i, v]);
    public void AtomicSub(int i, int v) => CallVoid(Op.AtomicSub, [i, v]);
    public void AtomicInc(int v) => CallVoid(Op.AtomicInc, [v]);
    public void AtomicDec(int v) => CallVoid(Op.AtomicDec, [v]);
    public int AtomicAddReturn(int i, int v) => CallInt32(Op.AtomicAddReturn, [i, v]);
    public int AtomicSubReturn(int i, int v) => CallInt32(Op.AtomicSubReturn, [i, v]);
    public int AtomicIncReturn(int v) => CallInt32(Op.AtomicIncReturn, [v]);
    public int AtomicDecReturn(int v) => CallInt32(Op.AtomicDecReturn, [v]);
    public bool AtomicSubAndTest(int i, int v) => CallBoolean(Op.AtomicSubAndTest, [i, v]);
    public bool AtomicDecAndTest(int v) => CallBoolean(Op.AtomicDecAndTest, [v]);
    public bool AtomicIncAndTest(int v) => CallBoolean(Op.AtomicIncAndTest, [v]);
    public bool AtomicAddNegative(int i, int v) => CallBoolean(Op.AtomicAddNegative, [i, v]);

    // ---- Bulk observations ----------------------------------------------------------------------------

    /// <summary>Whether this observation is served from the snapshot (taking it now if needed).</summary>
    private bool Bulk(bool covered)
    {
        if (!_bulk || !covered || (_lanes > 0 && OnLane())) return false;
        EnsureSnapshot();
        return true;
    }

    private bool Bulk(Zone zone, int order) => Bulk((uint)order < (uint)_orders && (uint)zone < Zones.Count);
}
