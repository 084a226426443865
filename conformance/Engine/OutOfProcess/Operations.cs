using KernelMm.Spec.Contract;
using W = KernelMm.Conformance.OutOfProcess.WireType;

namespace KernelMm.Conformance.OutOfProcess;

/// <summary>
/// Every operation of the protocol, declared once. From this table come: the requests the runner's
/// adapter (<see cref="RemoteMachine"/>) sends for each contract call, which capabilities a protocol
/// version carries, the operation table of docs/protocol.md, the C kit's callback table and
/// dispatch (kits/c/kmm_ops.h, kits/c/kmm_dispatch.h) and the Python kit's operation table
/// (kits/python/kmm.py). The generated files are kept in step by tests/OutOfProcess/GeneratedFilesTests
/// (run it with KMM_REGENERATE=1 to rewrite them). docs/protocol.md, "Adding an operation", walks through it.
/// </summary>
public static class Operations
{
    private static WireOperation Op(string name, Capability? capability, Type iface, string member, WireType value, bool state, int since,
        string summary, params WireField[] fields) => new()
    {
        Name = name, Capability = capability, Interface = iface, Member = member, Value = value, ChangesState = state,
        Since = since, Summary = summary, Fields = fields,
    };

    private static WireField F(string name, WireType type, string? parameter = null) => new(name, type, parameter);

    // ---- PageAllocator (IPageAllocator, IKernelMemory) ------------------------------------------

    public static readonly WireOperation GetFreePages = Op("getFreePages", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.GetFreePages), W.Address, true, 1,
        "address of 2^order direct-mapped pages, or `\"0x0\"`; `__GFP_HIGHMEM` ignored", F("gfp", W.Gfp), F("order", W.Integer));
    public static readonly WireOperation GetZeroedPage = Op("getZeroedPage", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.GetZeroedPage), W.Address, true, 1,
        "address of one zeroed page, or `\"0x0\"`", F("gfp", W.Gfp));
    public static readonly WireOperation FreePages = Op("freePages", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.FreePages), W.None, true, 1,
        "`\"0x0\"` does nothing; `bug PAGE-4` unless the start of a live allocation of that order", F("addr", W.Address), F("order", W.Integer));
    public static readonly WireOperation AllocPages = Op("allocPages", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.AllocPages), W.Address, true, 1,
        "page handle (may be HIGHMEM), or `\"0x0\"`", F("gfp", W.Gfp), F("order", W.Integer));
    public static readonly WireOperation FreePagesOf = Op("freePagesOf", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.FreePagesOf), W.None, true, 1,
        "`\"0x0\"` does nothing; `bug PAGE-4` as `freePages`", F("page", W.Address), F("order", W.Integer));
    public static readonly WireOperation PageToPfn = Op("pageToPfn", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.PageToPfn), W.Address, false, 1,
        "pfn; `invalid` for a value that is no page handle", F("page", W.Address));
    public static readonly WireOperation PfnToPage = Op("pfnToPage", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.PfnToPage), W.Address, false, 1,
        "page handle; `invalid` beyond RAM", F("pfn", W.Address));
    public static readonly WireOperation PageAddress = Op("pageAddress", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.PageAddress), W.Address, false, 1,
        "direct-map address, the kmap address of a kmapped HIGHMEM page, else `\"0x0\"`", F("page", W.Address));
    public static readonly WireOperation PageZone = Op("pageZone", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.PageZone), W.Zone, false, 1,
        "zone of the frame", F("page", W.Address));
    public static readonly WireOperation VirtToPhys = Op("virtToPhys", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.VirtToPhys), W.Address, false, 1,
        "physical address; `invalid` outside the direct map of existing low memory", F("addr", W.Address));
    public static readonly WireOperation FreeBlocks = Op("freeBlocks", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.FreeBlocks), W.Integer, false, 1,
        "free blocks of exactly that order in the zone (a /proc/buddyinfo column)", F("zone", W.Zone), F("order", W.Integer));
    public static readonly WireOperation DrainCaches = Op("drainCaches", Capability.PageAllocator, typeof(IPageAllocator), nameof(IPageAllocator.DrainCaches), W.None, true, 1,
        "cached free pages and empty slabs back to the free lists");
    public static readonly WireOperation Read = Op("read", Capability.PageAllocator, typeof(IKernelMemory), nameof(IKernelMemory.Read), W.Bytes, false, 1,
        "exactly `len` bytes; `fault` (first unmapped address) when any byte is unmapped", F("addr", W.Address), F("len", W.Integer, "destination"));
    public static readonly WireOperation Write = Op("write", Capability.PageAllocator, typeof(IKernelMemory), nameof(IKernelMemory.Write), W.None, true, 1,
        "`fault` as `read`; a faulting write changes nothing", F("addr", W.Address), F("data", W.Bytes, "source"));

    // ---- ExecutionContext -------------------------------------------------------------------------

    public static readonly WireOperation PreemptDisable = Op("preemptDisable", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.PreemptDisable), W.None, true, 1,
        "nests");
    public static readonly WireOperation PreemptEnable = Op("preemptEnable", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.PreemptEnable), W.None, true, 1,
        "`bug GFP-5` when not disabled");
    public static readonly WireOperation IrqEnter = Op("irqEnter", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.IrqEnter), W.None, true, 1,
        "nests");
    public static readonly WireOperation IrqExit = Op("irqExit", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.IrqExit), W.None, true, 1,
        "`bug GFP-5` outside an interrupt");
    public static readonly WireOperation InInterrupt = Op("inInterrupt", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.InInterrupt), W.Boolean, false, 1,
        "in_interrupt()");
    public static readonly WireOperation InAtomic = Op("inAtomic", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.InAtomic), W.Boolean, false, 1,
        "in_atomic(): in an interrupt or preemption disabled");
    public static readonly WireOperation Sleeps = Op("sleeps", Capability.ExecutionContext, typeof(IExecutionContext), nameof(IExecutionContext.Sleeps), W.Integer, false, 1,
        "times the task slept since boot");

    // ---- Highmem ----------------------------------------------------------------------------------

    public static readonly WireOperation Kmap = Op("kmap", Capability.Highmem, typeof(IHighmem), nameof(IHighmem.Kmap), W.Address, true, 1,
        "kernel address of the page (its own for low memory); `bug GFP-1` in atomic context", F("page", W.Address));
    public static readonly WireOperation Kunmap = Op("kunmap", Capability.Highmem, typeof(IHighmem), nameof(IHighmem.Kunmap), W.None, true, 1,
        "`bug ZONE-4` when the page is not kmapped", F("page", W.Address));
    public static readonly WireOperation KmapAtomic = Op("kmapAtomic", Capability.Highmem, typeof(IHighmem), nameof(IHighmem.KmapAtomic), W.Address, true, 1,
        "a mapping valid until the matching `kunmapAtomic`; never sleeps", F("page", W.Address));
    public static readonly WireOperation KunmapAtomic = Op("kunmapAtomic", Capability.Highmem, typeof(IHighmem), nameof(IHighmem.KunmapAtomic), W.None, true, 1,
        "`bug ZONE-4` unless the address of the last `kmapAtomic`", F("addr", W.Address));

    // ---- Reclaim ----------------------------------------------------------------------------------

    public static readonly WireOperation FillPageCache = Op("fillPageCache", Capability.Reclaim, typeof(IReclaim), nameof(IReclaim.FillPageCache), W.Integer, true, 1,
        "clean page-cache pages added (0..pages)", F("pages", W.Integer));
    public static readonly WireOperation ReclaimablePages = Op("reclaimablePages", Capability.Reclaim, typeof(IReclaim), nameof(IReclaim.ReclaimablePages), W.Integer, false, 1,
        "page-cache pages held in the zone", F("zone", W.Zone));
    public static readonly WireOperation DropPageCache = Op("dropPageCache", Capability.Reclaim, typeof(IReclaim), nameof(IReclaim.DropPageCache), W.None, true, 1,
        "drops the whole page cache");

    // ---- Kmalloc (protocol 2) ---------------------------------------------------------------------

    public static readonly WireOperation Kmalloc = Op("kmalloc", Capability.Kmalloc, typeof(IKmalloc), nameof(IKmalloc.Kmalloc), W.Address, true, 2,
        "object address, `\"0x0\"` on failure or above the maximum; kmalloc(0) per profile; `invalid` for size < 0", F("size", W.Integer), F("gfp", W.Gfp));
    public static readonly WireOperation Kzalloc = Op("kzalloc", Capability.Kmalloc, typeof(IKmalloc), nameof(IKmalloc.Kzalloc), W.Address, true, 2,
        "as `kmalloc`, the requested bytes zeroed", F("size", W.Integer), F("gfp", W.Gfp));
    public static readonly WireOperation Krealloc = Op("krealloc", Capability.Kmalloc, typeof(IKmalloc), nameof(IKmalloc.Krealloc), W.Address, true, 2,
        "new address keeping min(old, new) bytes; `\"0x0\"` on failure (p stays valid); `bug KMAL-6` for a bad p", F("p", W.Address), F("size", W.Integer), F("gfp", W.Gfp));
    public static readonly WireOperation Kfree = Op("kfree", Capability.Kmalloc, typeof(IKmalloc), nameof(IKmalloc.Kfree), W.None, true, 2,
        "NULL and ZERO_SIZE_PTR do nothing; `bug KMAL-6` for anything but a live kmalloc object; `bug SLAB-9` for a damaged red zone", F("p", W.Address));
    public static readonly WireOperation Ksize = Op("ksize", Capability.Kmalloc, typeof(IKmalloc), nameof(IKmalloc.Ksize), W.Integer, false, 2,
        "usable size of a live object; 0 for NULL and ZERO_SIZE_PTR; `invalid` otherwise", F("p", W.Address));

    // ---- SlabCache (protocol 2) -------------------------------------------------------------------

    public static readonly WireOperation KmemCacheCreate = Op("kmemCacheCreate", Capability.SlabCache, typeof(ISlab), nameof(ISlab.KmemCacheCreate), W.Address, true, 2,
        "cache handle, or `\"0x0\"`; `panic` instead of NULL with SLAB_PANIC; `bug GFP-1` in atomic context",
        F("name", W.Text), F("size", W.Integer), F("align", W.Integer), F("flags", W.SlabFlags), F("ctor", W.OptionalByte, "ctorFill"));
    public static readonly WireOperation KmemCacheAlloc = Op("kmemCacheAlloc", Capability.SlabCache, typeof(ISlab), nameof(ISlab.KmemCacheAlloc), W.Address, true, 2,
        "object address, or `\"0x0\"`; `invalid` for a cache that is not live", F("cache", W.Address), F("gfp", W.Gfp));
    public static readonly WireOperation KmemCacheFree = Op("kmemCacheFree", Capability.SlabCache, typeof(ISlab), nameof(ISlab.KmemCacheFree), W.None, true, 2,
        "`bug SLAB-4` (wrong cache, double free, not an object), `bug SLAB-9` (damaged red zone: not freed)", F("cache", W.Address), F("obj", W.Address));
    public static readonly WireOperation KmemCacheShrink = Op("kmemCacheShrink", Capability.SlabCache, typeof(ISlab), nameof(ISlab.KmemCacheShrink), W.Integer, true, 2,
        "pages given back to the page allocator", F("cache", W.Address));
    public static readonly WireOperation KmemCacheDestroy = Op("kmemCacheDestroy", Capability.SlabCache, typeof(ISlab), nameof(ISlab.KmemCacheDestroy), W.Integer, true, 2,
        "0, or -16 (-EBUSY) while objects are live; `bug GFP-1` in atomic context", F("cache", W.Address));
    public static readonly WireOperation SlabInfo = Op("slabInfo", Capability.SlabCache, typeof(ISlab), nameof(ISlab.SlabInfo), W.SlabInfo, false, 2,
        "every cache, general kmalloc caches included (/proc/slabinfo)");
    public static readonly WireOperation ReapCaches = Op("reapCaches", Capability.SlabCache, typeof(ISlab), nameof(ISlab.ReapCaches), W.Integer, true, 2,
        "pages released from wholly free slabs of caches without SLAB_NO_REAP");

    // ---- Vmalloc (protocol 3) ---------------------------------------------------------------------

    public static readonly WireOperation Vmalloc = Op("vmalloc", Capability.Vmalloc, typeof(IVmalloc), nameof(IVmalloc.Vmalloc), W.Address, true, 3,
        "page-aligned address in the vmalloc window, or `\"0x0\"` (no memory, no room, size 0); `bug VMAL-3` in atomic context; `invalid` for size < 0", F("size", W.Integer));
    public static readonly WireOperation Vzalloc = Op("vzalloc", Capability.Vmalloc, typeof(IVmalloc), nameof(IVmalloc.Vzalloc), W.Address, true, 3,
        "as `vmalloc`, every byte of the area zeroed", F("size", W.Integer));
    public static readonly WireOperation Vfree = Op("vfree", Capability.Vmalloc, typeof(IVmalloc), nameof(IVmalloc.Vfree), W.None, true, 3,
        "`\"0x0\"` does nothing; `bug VMAL-6` unless the start of a live vmalloc area; in interrupt context `bug VMAL-3` or deferred per profile", F("addr", W.Address));
    public static readonly WireOperation VmallocToPfn = Op("vmallocToPfn", Capability.Vmalloc, typeof(IVmalloc), nameof(IVmalloc.VmallocToPfn), W.Address, false, 3,
        "the frame mapped at the page holding `addr`; `invalid` unless a mapped vmalloc address", F("addr", W.Address));
    public static readonly WireOperation IsVmallocAddr = Op("isVmallocAddr", Capability.Vmalloc, typeof(IVmalloc), nameof(IVmalloc.IsVmallocAddr), W.Boolean, false, 3,
        "whether `addr` lies in [`vmallocStart`, `vmallocEnd`)", F("addr", W.Address));

    // ---- KernelPageTables (protocol 3) ------------------------------------------------------------

    public static readonly WireOperation Translate = Op("translate", Capability.KernelPageTables, typeof(IKernelPageTables), nameof(IKernelPageTables.Translate), W.Translation, false, 3,
        "the page-table walk: physical address, or the fault (`NotPresent`, `Protection`, `UserAccessToKernel`); no TLB", F("addr", W.Address), F("access", W.Access));
    public static readonly WireOperation Ioremap = Op("ioremap", Capability.KernelPageTables, typeof(IKernelPageTables), nameof(IKernelPageTables.Ioremap), W.Address, true, 3,
        "address keeping `physAddr`'s page offset, no RAM taken for data, or `\"0x0\"` (size 0, RAM, beyond the physical width, no room); `invalid` for size < 0", F("physAddr", W.Address), F("size", W.Integer));
    public static readonly WireOperation Iounmap = Op("iounmap", Capability.KernelPageTables, typeof(IKernelPageTables), nameof(IKernelPageTables.Iounmap), W.None, true, 3,
        "`\"0x0\"` does nothing; `bug DRV-5` for an address `ioremap` did not return", F("addr", W.Address));
    public static readonly WireOperation PageTablePages = Op("pageTablePages", Capability.KernelPageTables, typeof(IKernelPageTables), nameof(IKernelPageTables.PageTablePages), W.Integer, false, 3,
        "page-allocator frames used as page tables (/proc/meminfo PageTables)");

    // ---- Tlb (protocol 3) -------------------------------------------------------------------------

    public static readonly WireOperation TlbTranslate = Op("tlbTranslate", Capability.Tlb, typeof(ITlb), nameof(ITlb.TlbTranslate), W.Translation, true, 3,
        "as `translate`, through the TLB: counts one hit or one miss, fills on a present miss", F("addr", W.Address), F("access", W.Access));
    public static readonly WireOperation TlbHits = Op("tlbHits", Capability.Tlb, typeof(ITlb), nameof(ITlb.TlbHits), W.Integer, false, 3,
        "translations answered from the TLB since boot (a `read` may move it: never kept by the runner)");
    public static readonly WireOperation TlbMisses = Op("tlbMisses", Capability.Tlb, typeof(ITlb), nameof(ITlb.TlbMisses), W.Integer, false, 3,
        "translations that walked the page tables since boot (as `tlbHits`)");
    public static readonly WireOperation TlbEntries = Op("tlbEntries", Capability.Tlb, typeof(ITlb), nameof(ITlb.TlbEntries), W.Integer, false, 3,
        "how many translations the TLB holds at most");
    public static readonly WireOperation FlushTlbKernelRange = Op("flushTlbKernelRange", Capability.Tlb, typeof(ITlb), nameof(ITlb.FlushTlbKernelRange), W.None, true, 3,
        "no translation of a page in [`start`, `end`) stays cached", F("start", W.Address), F("end", W.Address));
    public static readonly WireOperation FlushTlbAll = Op("flushTlbAll", Capability.Tlb, typeof(ITlb), nameof(ITlb.FlushTlbAll), W.None, true, 3,
        "no translation stays cached");

    // ---- UserMemory (protocol 4) --------------------------------------------------------------------
    // Results are the system calls' own: a value, or a negated errno as a JSON integer (-22 is -EINVAL).

    public static readonly WireOperation CreateProcess = Op("createProcess", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.CreateProcess), W.Integer, true, 4,
        "pid (> 0) of a new process with an empty address space and no descriptors, or -12 (-ENOMEM)");
    public static readonly WireOperation Fork = Op("fork", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Fork), W.Integer, true, 4,
        "the child's pid: shared mappings stay shared, private ones copy-on-write, descriptors duplicated; or -12 with nothing created", F("pid", W.Integer));
    public static readonly WireOperation Exit = Op("exit", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Exit), W.None, true, 4,
        "the process ends: mappings removed, frames and swap slots only it used freed, descriptors closed", F("pid", W.Integer));
    public static readonly WireOperation PageFaults = Op("pageFaults", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.PageFaults), W.Integer, false, 4,
        "page faults the process took so far, resolved or not (min_flt + maj_flt)", F("pid", W.Integer));
    public static readonly WireOperation CreateFile = Op("createFile", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.CreateFile), W.Integer, true, 4,
        "id (> 0) of a new zero-filled in-memory file of `size` bytes (never swapped); `invalid` for size < 0", F("size", W.Integer));
    public static readonly WireOperation ReadFile = Op("readFile", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.ReadFile), W.CopiedBytes, false, 4,
        "pread by an observer: the file's bytes from `offset`, at most `len`, stopping at the end of the file; `invalid` for offset < 0",
        F("file", W.Integer), F("offset", W.Integer), F("len", W.Integer, "destination"));
    public static readonly WireOperation WriteFile = Op("writeFile", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.WriteFile), W.None, true, 4,
        "pwrite by an observer, seen by every MAP_SHARED mapping; `invalid` for a range beyond the file (it never grows)",
        F("file", W.Integer), F("offset", W.Integer), F("data", W.Bytes, "source"));
    public static readonly WireOperation Open = Op("open", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Open), W.Integer, true, 4,
        "the lowest free descriptor (>= 0) for the file, opened with `mode`", F("pid", W.Integer), F("file", W.Integer), F("mode", W.OpenMode));
    public static readonly WireOperation OpenDevice = Op("openDevice", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.OpenDevice), W.Integer, true, 4,
        "a descriptor for character device `device` (0: the serial port, which has no mmap), or -19 (-ENODEV)", F("pid", W.Integer), F("device", W.Integer));
    public static readonly WireOperation Close = Op("close", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Close), W.Integer, true, 4,
        "0, or -9 (-EBADF) when `fd` is not open; mappings made through it stay", F("pid", W.Integer), F("fd", W.Integer));
    public static readonly WireOperation Mmap = Op("mmap", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Mmap), W.Integer, true, 4,
        "page-aligned start of the new mapping (a JSON integer), or a negated errno with nothing changed: -22, -12, -9, -13, -19, -75",
        F("pid", W.Integer), F("addr", W.Address), F("length", W.Address), F("prot", W.Prot), F("flags", W.MapFlags), F("fd", W.Integer), F("offset", W.Integer));
    public static readonly WireOperation Munmap = Op("munmap", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Munmap), W.Integer, true, 4,
        "0 (also when nothing was mapped), splitting what it cuts; -22 for an unaligned addr, length 0, a range outside user space",
        F("pid", W.Integer), F("addr", W.Address), F("length", W.Address));
    public static readonly WireOperation Mprotect = Op("mprotect", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.Mprotect), W.Integer, true, 4,
        "0, splitting what it cuts; -22 (unaligned, unknown bit), -12 (part not mapped), -13 (write to a shared read-only file mapping)",
        F("pid", W.Integer), F("addr", W.Address), F("length", W.Address), F("prot", W.Prot));
    public static readonly WireOperation UserRead = Op("userRead", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.UserRead), W.UserLoad, true, 4,
        "a load by the process within one page, faulting the page in: `{\"fault\":\"None\",\"data\":hex}`, or the fault; `invalid` across a page boundary",
        F("pid", W.Integer), F("addr", W.Address), F("len", W.Integer, "destination"));
    public static readonly WireOperation UserWrite = Op("userWrite", Capability.UserMemory, typeof(IUserMemory), nameof(IUserMemory.UserWrite), W.UserFault, true, 4,
        "a store by the process within one page: `\"None\"`, or the fault (nothing stored); `invalid` across a page boundary",
        F("pid", W.Integer), F("addr", W.Address), F("data", W.Bytes, "source"));

    // ---- Swap (protocol 4) ----------------------------------------------------------------------------

    public static readonly WireOperation SwapTotalPages = Op("swapTotalPages", Capability.Swap, typeof(ISwap), nameof(ISwap.SwapTotalPages), W.Integer, false, 4,
        "slots of the swap device, in pages (SwapTotal)");
    public static readonly WireOperation SwapFreePages = Op("swapFreePages", Capability.Swap, typeof(ISwap), nameof(ISwap.SwapFreePages), W.Integer, false, 4,
        "free slots (SwapFree)");
    public static readonly WireOperation SwapOut = Op("swapOut", Capability.Swap, typeof(ISwap), nameof(ISwap.SwapOut), W.Integer, true, 4,
        "anonymous user pages written out (0..pages), victims of your choice; `invalid` for pages < 0; `bug GFP-1` in atomic context", F("pages", W.Integer));
    public static readonly WireOperation AnonPages = Op("anonPages", Capability.Swap, typeof(ISwap), nameof(ISwap.AnonPages), W.Integer, false, 4,
        "resident anonymous user pages with frames in the zone, mapped once (nr_anon_pages)", F("zone", W.Zone));

    // ---- UserCopy (protocol 4) ------------------------------------------------------------------------

    public static readonly WireOperation CopyFromUser = Op("copyFromUser", Capability.UserCopy, typeof(IUserCopy), nameof(IUserCopy.CopyFromUser), W.Integer, true, 4,
        "bytes NOT copied (0: all), stopping at the first bad user byte, the rest of `to` zeroed; `fault` for an unmapped kernel buffer; `invalid` for n < 0",
        F("pid", W.Integer), F("to", W.Address), F("from", W.Address), F("n", W.Integer));
    public static readonly WireOperation CopyToUser = Op("copyToUser", Capability.UserCopy, typeof(IUserCopy), nameof(IUserCopy.CopyToUser), W.Integer, true, 4,
        "as `copyFromUser` the other way (the user bytes past the stop are unspecified)",
        F("pid", W.Integer), F("to", W.Address), F("from", W.Address), F("n", W.Integer));
    public static readonly WireOperation GetUser = Op("getUser", Capability.UserCopy, typeof(IUserCopy), nameof(IUserCopy.GetUser), W.ResultWithValue, true, 4,
        "`{\"result\":0,\"value\":\"0x…\"}` (little-endian), or result -14 (-EFAULT) with value 0; `invalid` for a size other than 1, 2, 4 (8 on 64-bit)",
        F("pid", W.Integer), F("addr", W.Address), F("size", W.Integer));
    public static readonly WireOperation PutUser = Op("putUser", Capability.UserCopy, typeof(IUserCopy), nameof(IUserCopy.PutUser), W.Integer, true, 4,
        "stores the low `size` bytes of `value`: 0, or -14 (-EFAULT) with nothing stored; `invalid` as `getUser`",
        F("pid", W.Integer), F("addr", W.Address), F("size", W.Integer), F("value", W.Address));

    // ---- DriverMmap (protocol 4) ----------------------------------------------------------------------

    public static readonly WireOperation RegisterRemapDevice = Op("registerRemapDevice", Capability.DriverMmap, typeof(IDriverMmap), nameof(IDriverMmap.RegisterRemapDevice), W.Integer, true, 4,
        "device number of a driver whose mmap does remap_pfn_range of frames [`pfn`, pfn + `pages`), `remapSize` bytes (0: the vma's size); `invalid` outside RAM",
        F("pfn", W.Address), F("pages", W.Integer), F("remapSize", W.Integer));
    public static readonly WireOperation RegisterPageListDevice = Op("registerPageListDevice", Capability.DriverMmap, typeof(IDriverMmap), nameof(IDriverMmap.RegisterPageListDevice), W.Integer, true, 4,
        "device number of a driver whose mmap does vm_insert_page of each page of the list, in order; `invalid` for a value that is no page handle",
        F("pages", W.Addresses));
    public static readonly WireOperation LastMmap = Op("lastMmap", Capability.DriverMmap, typeof(IDriverMmap), nameof(IDriverMmap.LastMmap), W.Vma, false, 4,
        "the vma the device's mmap method received last, or null; `invalid` for an unknown device", F("device", W.Integer));

    // ---- AtomicT (protocol 5) -------------------------------------------------------------------------
    // 32-bit signed counters that wrap in two's complement; `v` is the counter's index, `i` the amount. Sent on
    // CPU lanes ("cpu"), so each must be indivisible when several lanes run at once (ATOM-1).

    public static readonly WireOperation AtomicCounters = Op("atomicCounters", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicCounters), W.Integer, false, 5,
        "how many counters there are (at least 1); every counter is 0 at boot");
    public static readonly WireOperation AtomicRead = Op("atomicRead", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicRead), W.Integer, false, 5,
        "the counter's value; `invalid` (`\"v\"`) for an index outside [0, `atomicCounters`)", F("v", W.Integer));
    public static readonly WireOperation AtomicSet = Op("atomicSet", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicSet), W.None, true, 5,
        "sets it to `i`", F("v", W.Integer), F("i", W.Integer));
    public static readonly WireOperation AtomicAdd = Op("atomicAdd", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicAdd), W.None, true, 5,
        "adds `i`, indivisibly (wrapping)", F("i", W.Integer), F("v", W.Integer));
    public static readonly WireOperation AtomicSub = Op("atomicSub", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicSub), W.None, true, 5,
        "subtracts `i`, indivisibly", F("i", W.Integer), F("v", W.Integer));
    public static readonly WireOperation AtomicInc = Op("atomicInc", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicInc), W.None, true, 5,
        "adds 1, indivisibly", F("v", W.Integer));
    public static readonly WireOperation AtomicDec = Op("atomicDec", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicDec), W.None, true, 5,
        "subtracts 1, indivisibly", F("v", W.Integer));
    public static readonly WireOperation AtomicAddReturn = Op("atomicAddReturn", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicAddReturn), W.Integer, true, 5,
        "adds `i`; the new value", F("i", W.Integer), F("v", W.Integer));
    public static readonly WireOperation AtomicSubReturn = Op("atomicSubReturn", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicSubReturn), W.Integer, true, 5,
        "subtracts `i`; the new value", F("i", W.Integer), F("v", W.Integer));
    public static readonly WireOperation AtomicIncReturn = Op("atomicIncReturn", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicIncReturn), W.Integer, true, 5,
        "adds 1; the new value", F("v", W.Integer));
    public static readonly WireOperation AtomicDecReturn = Op("atomicDecReturn", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicDecReturn), W.Integer, true, 5,
        "subtracts 1; the new value", F("v", W.Integer));
    public static readonly WireOperation AtomicSubAndTest = Op("atomicSubAndTest", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicSubAndTest), W.Boolean, true, 5,
        "subtracts `i`; whether the new value is 0", F("i", W.Integer), F("v", W.Integer));
    public static readonly WireOperation AtomicDecAndTest = Op("atomicDecAndTest", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicDecAndTest), W.Boolean, true, 5,
        "subtracts 1; whether the new value is 0", F("v", W.Integer));
    public static readonly WireOperation AtomicIncAndTest = Op("atomicIncAndTest", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicIncAndTest), W.Boolean, true, 5,
        "adds 1; whether the new value is 0", F("v", W.Integer));
    public static readonly WireOperation AtomicAddNegative = Op("atomicAddNegative", Capability.AtomicT, typeof(IAtomicT), nameof(IAtomicT.AtomicAddNegative), W.Boolean, true, 5,
        "adds `i`; whether the new value is below 0", F("i", W.Integer), F("v", W.Integer));

    // ---- What the suite asks about an answer, pipelined behind the call (feature "references") -------

    private static FollowUp Then(WireOperation op, params FollowUp[] then) => new(op, then);

    /// <summary>A query about the block's last page: the earlier answer (a pfn) plus 2^order - 1 of the call's "order" (feature "offsets").</summary>
    private static FollowUp LastPage(WireOperation op, params FollowUp[] then) => new(op, then) { LastPageOfOrder = "order" };

    /// <summary>What the suite asks about the descriptor of a block's last page (PAGE-5): page_to_pfn back and page_address.</summary>
    public static readonly FollowUp[] TailDescriptor = [Then(PageToPfn), Then(PageAddress)];

    /// <summary>Follow-ups by operation: declared here, once, so that the table, the adapter and the documentation agree.</summary>
    private static readonly Dictionary<WireOperation, FollowUp[]> FollowUps = new(ReferenceEqualityComparer.Instance)
    {
        // alloc_pages: page_to_pfn, pfn_to_page of that pfn, page_zone, page_address and its virt_to_phys (PAGE-5, ZONE-1);
        // for order > 0, pfn_to_page of the block's last pfn and that descriptor's page_to_pfn and page_address (PAGE-5).
        [AllocPages] = [Then(PageToPfn, Then(PfnToPage), LastPage(PfnToPage, TailDescriptor)), Then(PageZone), Then(PageAddress, Then(VirtToPhys))],
        // pfn_to_page: page_address and page_zone of the page (PAGE-5, ZONE-1).
        [PfnToPage] = [Then(PageAddress), Then(PageZone)],
        // __get_free_pages and get_zeroed_page: virt_to_phys of the block (ADDR-10).
        [GetFreePages] = [Then(VirtToPhys)],
        [GetZeroedPage] = [Then(VirtToPhys)],
        // kmalloc and friends: ksize and virt_to_phys of the object (KMAL-1, KMAL-2).
        [Kmalloc] = [Then(Ksize), Then(VirtToPhys)],
        [Kzalloc] = [Then(Ksize), Then(VirtToPhys)],
        [Krealloc] = [Then(Ksize), Then(VirtToPhys)],
        [KmemCacheAlloc] = [Then(VirtToPhys)],
    };

    /// <summary>
    /// Pure queries whose answer a pure-looking request may still move, so the runner never keeps it:
    /// the TLB counters, because a `read` goes through the TLB as the CPU does (ADDR-8).
    /// </summary>
    private static readonly HashSet<WireOperation> NeverKept = new(ReferenceEqualityComparer.Instance) { TlbHits, TlbMisses };

    /// <summary>
    /// Whether the runner may keep this pure query's answer until the next state-changing request: a pure
    /// query, not in <see cref="NeverKept"/>, whose fields the runner's key covers (at most two: readFile's three are not).
    /// </summary>
    public static bool IsKept(WireOperation op) => !op.ChangesState && !NeverKept.Contains(op) && op.Fields.Count <= 2;

    /// <summary>Every operation, in document order.</summary>
    public static readonly IReadOnlyList<WireOperation> All =
    [
        GetFreePages, GetZeroedPage, FreePages, AllocPages, FreePagesOf, PageToPfn, PfnToPage, PageAddress, PageZone, VirtToPhys, FreeBlocks, DrainCaches,
        Read, Write,
        PreemptDisable, PreemptEnable, IrqEnter, IrqExit, InInterrupt, InAtomic, Sleeps,
        Kmap, Kunmap, KmapAtomic, KunmapAtomic,
        FillPageCache, ReclaimablePages, DropPageCache,
        Kmalloc, Kzalloc, Krealloc, Kfree, Ksize,
        KmemCacheCreate, KmemCacheAlloc, KmemCacheFree, KmemCacheShrink, KmemCacheDestroy, SlabInfo, ReapCaches,
        Vmalloc, Vzalloc, Vfree, VmallocToPfn, IsVmallocAddr,
        Translate, Ioremap, Iounmap, PageTablePages,
        TlbTranslate, TlbHits, TlbMisses, TlbEntries, FlushTlbKernelRange, FlushTlbAll,
        CreateProcess, Fork, Exit, PageFaults, CreateFile, ReadFile, WriteFile, Open, OpenDevice, Close, Mmap, Munmap, Mprotect, UserRead, UserWrite,
        SwapTotalPages, SwapFreePages, SwapOut, AnonPages,
        CopyFromUser, CopyToUser, GetUser, PutUser,
        RegisterRemapDevice, RegisterPageListDevice, LastMmap,
        AtomicCounters, AtomicRead, AtomicSet, AtomicAdd, AtomicSub, AtomicInc, AtomicDec, AtomicAddReturn, AtomicSubReturn,
        AtomicIncReturn, AtomicDecReturn, AtomicSubAndTest, AtomicDecAndTest, AtomicIncAndTest, AtomicAddNegative,
    ];

    /// <summary>The follow-ups of an operation (empty for most).</summary>
    public static IReadOnlyList<FollowUp> FollowUpsOf(WireOperation op) => FollowUps.TryGetValue(op, out var then) ? then : [];

    /// <summary>The newest protocol version (docs/protocol.md). The runner also speaks every older one.</summary>
    public static int LatestVersion => All.Max(o => o.Since);

    /// <summary>
    /// The protocol version of CPU lanes (docs/protocol.md, "CPU lanes"): requests may carry "cpu", answers to them
    /// "ns"; it carries <see cref="Capability.Smp"/>, which adds no operation (the allocators' own, sent on lanes).
    /// </summary>
    public const int LanesSince = 5;

    /// <summary>The capabilities that are judged by running CPU lanes at once: a program declaring one must answer hello's "cpus".</summary>
    public static readonly IReadOnlySet<Capability> OnLanes = new HashSet<Capability> { Capability.AtomicT, Capability.Smp };

    /// <summary>
    /// The capabilities protocol <paramref name="version"/> carries: those whose every operation exists in it, and
    /// <see cref="Capability.Smp"/> from <see cref="LanesSince"/> on (any other capability with no operation is never carried).
    /// </summary>
    public static IReadOnlySet<Capability> Carried(int version) =>
        Enum.GetValues<Capability>()
            .Where(c => c == Capability.Smp ? version >= LanesSince
                : All.Any(o => o.Capability == c) && All.Where(o => o.Capability == c).All(o => o.Since <= version))
            .ToHashSet();

    /// <summary>The operation named <paramref name="name"/>, or null.</summary>
    public static WireOperation? Find(string name) => All.FirstOrDefault(o => o.Name == name);
}
