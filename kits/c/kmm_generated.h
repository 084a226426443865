/*
 * GENERATED from conformance/Engine/OutOfProcess/Operations.cs and HelloProfile.cs by WireCodegen.CHeader():
 * do not edit. Regenerate with: KMM_REGENERATE=1 dotnet test tests --filter GeneratedFiles
 * Included by kmm.h (declarations) and kmm.c (the dispatch, under KMM_IMPLEMENTATION).
 */
#ifndef KMM_GENERATED_H
#define KMM_GENERATED_H
/* The newest protocol version this kit speaks. */
#define KMM_PROTOCOL 5

/* Capabilities (spec/Contract/Capability.cs): a program declares one when every callback of its operations is set. */
enum kmm_capability {
    KMM_CAP_PAGE_ALLOCATOR = 1u << 0,
    KMM_CAP_EXECUTION_CONTEXT = 1u << 1,
    KMM_CAP_HIGHMEM = 1u << 2,
    KMM_CAP_RECLAIM = 1u << 3,
    KMM_CAP_KMALLOC = 1u << 4,
    KMM_CAP_SLAB_CACHE = 1u << 5,
    KMM_CAP_VMALLOC = 1u << 6,
    KMM_CAP_KERNEL_PAGE_TABLES = 1u << 7,
    KMM_CAP_TLB = 1u << 8,
    KMM_CAP_USER_MEMORY = 1u << 9,
    KMM_CAP_SWAP = 1u << 10,
    KMM_CAP_USER_COPY = 1u << 11,
    KMM_CAP_DRIVER_MMAP = 1u << 12,
    KMM_CAP_ATOMIC_T = 1u << 13,
};
#define KMM_NCAPS 14

/* The hello request's "profile" object (docs/protocol.md, "Handshake"); X_given is false when field X was absent or null. */
struct kmm_profile {
    char name[64];
    bool name_given;
    int64_t page_size;
    bool page_size_given;
    uint64_t page_offset;
    bool page_offset_given;
    uint64_t dma_limit;
    bool dma_limit_given;
    uint64_t highmem_start;
    bool highmem_start_given;
    int64_t max_order;
    bool max_order_given;
    uint64_t physical_memory;
    bool physical_memory_given;
    bool has_gfp_buffer;
    bool has_gfp_buffer_given;
    bool has_slab_no_reap;
    bool has_slab_no_reap_given;
    int64_t kmalloc_max_size;
    bool kmalloc_max_size_given;
    int64_t kmalloc_classes[64];
    int kmalloc_classes_count;
    bool kmalloc_classes_given;
    int64_t slab_object_max;
    bool slab_object_max_given;
    int64_t cache_line;
    bool cache_line_given;
    int64_t poison_free;
    bool poison_free_given;
    int64_t poison_end;
    bool poison_end_given;
    int64_t red_zone_inactive;
    bool red_zone_inactive_given;
    int64_t red_zone_active;
    bool red_zone_active_given;
    int64_t word_size;
    bool word_size_given;
    int64_t kmalloc_cache_max;
    bool kmalloc_cache_max_given;
    bool kmalloc_zero_returns_zero_size_ptr;
    bool kmalloc_zero_returns_zero_size_ptr_given;
    bool kfree_accepts_cache_objects;
    bool kfree_accepts_cache_objects_given;
    bool destroy_busy_leaks_cache;
    bool destroy_busy_leaks_cache_given;
    char kmalloc_cache_prefix[64];
    bool kmalloc_cache_prefix_given;
    uint64_t vmalloc_offset;
    bool vmalloc_offset_given;
    uint64_t vmalloc_end;
    bool vmalloc_end_given;
    uint64_t pkmap_base;
    bool pkmap_base_given;
    int64_t pkmap_slots;
    bool pkmap_slots_given;
    int64_t page_table_level_bits[64];
    int page_table_level_bits_count;
    bool page_table_level_bits_given;
    int64_t page_table_entry_bytes;
    bool page_table_entry_bytes_given;
    int64_t physical_address_bits;
    bool physical_address_bits_given;
    bool vfree_defers_in_interrupt;
    bool vfree_defers_in_interrupt_given;
    uint64_t task_size;
    bool task_size_given;
    uint64_t user_window_start;
    bool user_window_start_given;
    uint64_t user_window_size;
    bool user_window_size_given;
    bool map_shared_validate;
    bool map_shared_validate_given;
    bool remap_pfn_range_rounds_size;
    bool remap_pfn_range_rounds_size_given;
    int64_t page_shift;
    bool page_shift_given;
    int64_t total_pages;
    bool total_pages_given;
    int64_t max_order_pages;
    bool max_order_pages_given;
    uint64_t low_memory_end;
    bool low_memory_end_given;
    uint64_t vmalloc_start;
    bool vmalloc_start_given;
    uint64_t ioremap_start;
    bool ioremap_start_given;
    uint64_t ioremap_end;
    bool ioremap_end_given;
    int64_t virtual_address_bits;
    bool virtual_address_bits_given;
    int64_t emergency_reserve_pages;
    bool emergency_reserve_pages_given;
    bool has_highmem;
    bool has_highmem_given;
    char label[64];
    bool label_given;
    char kmalloc_cache_names[64][48];
    int kmalloc_cache_names_count;
    bool kmalloc_cache_names_given;
    uint64_t zone_start[3], zone_end[3]; /* zones: physical byte range [start, end) of DMA, Normal, HighMem */
};

/*
 * The callbacks an implementation fills (leave NULL what it does not implement). A callback returns its
 * value, or reports an error with kmm_bug/kmm_invalid/kmm_fault/kmm_panic (the value is then ignored).
 * Addresses, pfns and handles are uint64_t; zones are enum kmm_zone; gfp and slab flags are bit masks.
 */
struct kmm_ops {
    /* Shown in the runner's logs. */
    const char *name;
    /* hello: boot a fresh machine for this profile, forgetting everything; NULL to accept, else why it is refused. */
    const char *(*boot)(const struct kmm_profile *profile);
    /* Protocol 5: how many lanes (threads) run at once, 2..8; 0 = none (then AtomicT and Smp are not declared). */
    int cpus;
    /* Protocol 5: the page, kmalloc and slab callbacks are safe to call from several lanes at once (declares Smp). */
    bool smp;
    /* ---- PageAllocator ---- */
    /* getFreePages (IPageAllocator.GetFreePages, protocol 1): address of 2^order direct-mapped pages, or "0x0"; __GFP_HIGHMEM ignored */
    uint64_t (*get_free_pages)(uint32_t gfp, int64_t order);
    /* getZeroedPage (IPageAllocator.GetZeroedPage, protocol 1): address of one zeroed page, or "0x0" */
    uint64_t (*get_zeroed_page)(uint32_t gfp);
    /* freePages (IPageAllocator.FreePages, protocol 1): "0x0" does nothing; bug PAGE-4 unless the start of a live allocation of that order */
    void (*free_pages)(uint64_t addr, int64_t order);
    /* allocPages (IPageAllocator.AllocPages, protocol 1): page handle (may be HIGHMEM), or "0x0" */
    uint64_t (*alloc_pages)(uint32_t gfp, int64_t order);
    /* freePagesOf (IPageAllocator.FreePagesOf, protocol 1): "0x0" does nothing; bug PAGE-4 as freePages */
    void (*free_pages_of)(uint64_t page, int64_t order);
    /* pageToPfn (IPageAllocator.PageToPfn, protocol 1): pfn; invalid for a value that is no page handle */
    uint64_t (*page_to_pfn)(uint64_t page);
    /* pfnToPage (IPageAllocator.PfnToPage, protocol 1): page handle; invalid beyond RAM */
    uint64_t (*pfn_to_page)(uint64_t pfn);
    /* pageAddress (IPageAllocator.PageAddress, protocol 1): direct-map address, the kmap address of a kmapped HIGHMEM page, else "0x0" */
    uint64_t (*page_address)(uint64_t page);
    /* pageZone (IPageAllocator.PageZone, protocol 1): zone of the frame */
    int (*page_zone)(uint64_t page);
    /* virtToPhys (IPageAllocator.VirtToPhys, protocol 1): physical address; invalid outside the direct map of existing low memory */
    uint64_t (*virt_to_phys)(uint64_t addr);
    /* freeBlocks (IPageAllocator.FreeBlocks, protocol 1): free blocks of exactly that order in the zone (a /proc/buddyinfo column) */
    int64_t (*free_blocks)(int zone, int64_t order);
    /* drainCaches (IPageAllocator.DrainCaches, protocol 1): cached free pages and empty slabs back to the free lists */
    void (*drain_caches)(void);
    /* read (IKernelMemory.Read, protocol 1): exactly len bytes; fault (first unmapped address) when any byte is unmapped */
    void (*read)(uint64_t addr, int64_t len, uint8_t *out);
    /* write (IKernelMemory.Write, protocol 1): fault as read; a faulting write changes nothing */
    void (*write)(uint64_t addr, const uint8_t *data, int64_t data_len);
    /* ---- ExecutionContext ---- */
    /* preemptDisable (IExecutionContext.PreemptDisable, protocol 1): nests */
    void (*preempt_disable)(void);
    /* preemptEnable (IExecutionContext.PreemptEnable, protocol 1): bug GFP-5 when not disabled */
    void (*preempt_enable)(void);
    /* irqEnter (IExecutionContext.IrqEnter, protocol 1): nests */
    void (*irq_enter)(void);
    /* irqExit (IExecutionContext.IrqExit, protocol 1): bug GFP-5 outside an interrupt */
    void (*irq_exit)(void);
    /* inInterrupt (IExecutionContext.InInterrupt, protocol 1): in_interrupt() */
    bool (*in_interrupt)(void);
    /* inAtomic (IExecutionContext.InAtomic, protocol 1): in_atomic(): in an interrupt or preemption disabled */
    bool (*in_atomic)(void);
    /* sleeps (IExecutionContext.Sleeps, protocol 1): times the task slept since boot */
    int64_t (*sleeps)(void);
    /* ---- Highmem ---- */
    /* kmap (IHighmem.Kmap, protocol 1): kernel address of the page (its own for low memory); bug GFP-1 in atomic context */
    uint64_t (*kmap)(uint64_t page);
    /* kunmap (IHighmem.Kunmap, protocol 1): bug ZONE-4 when the page is not kmapped */
    void (*kunmap)(uint64_t page);
    /* kmapAtomic (IHighmem.KmapAtomic, protocol 1): a mapping valid until the matching kunmapAtomic; never sleeps */
    uint64_t (*kmap_atomic)(uint64_t page);
    /* kunmapAtomic (IHighmem.KunmapAtomic, protocol 1): bug ZONE-4 unless the address of the last kmapAtomic */
    void (*kunmap_atomic)(uint64_t addr);
    /* ---- Reclaim ---- */
    /* fillPageCache (IReclaim.FillPageCache, protocol 1): clean page-cache pages added (0..pages) */
    int64_t (*fill_page_cache)(int64_t pages);
    /* reclaimablePages (IReclaim.ReclaimablePages, protocol 1): page-cache pages held in the zone */
    int64_t (*reclaimable_pages)(int zone);
    /* dropPageCache (IReclaim.DropPageCache, protocol 1): drops the whole page cache */
    void (*drop_page_cache)(void);
    /* ---- Kmalloc ---- */
    /* kmalloc (IKmalloc.Kmalloc, protocol 2): object address, "0x0" on failure or above the maximum; kmalloc(0) per profile; invalid for size < 0 */
    uint64_t (*kmalloc)(int64_t size, uint32_t gfp);
    /* kzalloc (IKmalloc.Kzalloc, protocol 2): as kmalloc, the requested bytes zeroed */
    uint64_t (*kzalloc)(int64_t size, uint32_t gfp);
    /* krealloc (IKmalloc.Krealloc, protocol 2): new address keeping min(old, new) bytes; "0x0" on failure (p stays valid); bug KMAL-6 for a bad p */
    uint64_t (*krealloc)(uint64_t p, int64_t size, uint32_t gfp);
    /* kfree (IKmalloc.Kfree, protocol 2): NULL and ZERO_SIZE_PTR do nothing; bug KMAL-6 for anything but a live kmalloc object; bug SLAB-9 for a damaged red zone */
    void (*kfree)(uint64_t p);
    /* ksize (IKmalloc.Ksize, protocol 2): usable size of a live object; 0 for NULL and ZERO_SIZE_PTR; invalid otherwise */
    int64_t (*ksize)(uint64_t p);
    /* ---- SlabCache ---- */
    /* kmemCacheCreate (ISlab.KmemCacheCreate, protocol 2): cache handle, or "0x0"; panic instead of NULL with SLAB_PANIC; bug GFP-1 in atomic context */
    uint64_t (*kmem_cache_create)(const char *name, int64_t size, int64_t align, uint32_t flags, int ctor);
    /* kmemCacheAlloc (ISlab.KmemCacheAlloc, protocol 2): object address, or "0x0"; invalid for a cache that is not live */
    uint64_t (*kmem_cache_alloc)(uint64_t cache, uint32_t gfp);
    /* kmemCacheFree (ISlab.KmemCacheFree, protocol 2): bug SLAB-4 (wrong cache, double free, not an object), bug SLAB-9 (damaged red zone: not freed) */
    void (*kmem_cache_free)(uint64_t cache, uint64_t obj);
    /* kmemCacheShrink (ISlab.KmemCacheShrink, protocol 2): pages given back to the page allocator */
    int64_t (*kmem_cache_shrink)(uint64_t cache);
    /* kmemCacheDestroy (ISlab.KmemCacheDestroy, protocol 2): 0, or -16 (-EBUSY) while objects are live; bug GFP-1 in atomic context */
    int64_t (*kmem_cache_destroy)(uint64_t cache);
    /* slabInfo (ISlab.SlabInfo, protocol 2): every cache, general kmalloc caches included (/proc/slabinfo) */
    void (*slab_info)(void);
    /* reapCaches (ISlab.ReapCaches, protocol 2): pages released from wholly free slabs of caches without SLAB_NO_REAP */
    int64_t (*reap_caches)(void);
    /* ---- Vmalloc ---- */
    /* vmalloc (IVmalloc.Vmalloc, protocol 3): page-aligned address in the vmalloc window, or "0x0" (no memory, no room, size 0); bug VMAL-3 in atomic context; invalid for size < 0 */
    uint64_t (*vmalloc)(int64_t size);
    /* vzalloc (IVmalloc.Vzalloc, protocol 3): as vmalloc, every byte of the area zeroed */
    uint64_t (*vzalloc)(int64_t size);
    /* vfree (IVmalloc.Vfree, protocol 3): "0x0" does nothing; bug VMAL-6 unless the start of a live vmalloc area; in interrupt context bug VMAL-3 or deferred per profile */
    void (*vfree)(uint64_t addr);
    /* vmallocToPfn (IVmalloc.VmallocToPfn, protocol 3): the frame mapped at the page holding addr; invalid unless a mapped vmalloc address */
    uint64_t (*vmalloc_to_pfn)(uint64_t addr);
    /* isVmallocAddr (IVmalloc.IsVmallocAddr, protocol 3): whether addr lies in [vmallocStart, vmallocEnd) */
    bool (*is_vmalloc_addr)(uint64_t addr);
    /* ---- KernelPageTables ---- */
    /* translate (IKernelPageTables.Translate, protocol 3): the page-table walk: physical address, or the fault (NotPresent, Protection, UserAccessToKernel); no TLB */
    struct kmm_translation (*translate)(uint64_t addr, int access);
    /* ioremap (IKernelPageTables.Ioremap, protocol 3): address keeping physAddr's page offset, no RAM taken for data, or "0x0" (size 0, RAM, beyond the physical width, no room); invalid for size < 0 */
    uint64_t (*ioremap)(uint64_t physAddr, int64_t size);
    /* iounmap (IKernelPageTables.Iounmap, protocol 3): "0x0" does nothing; bug DRV-5 for an address ioremap did not return */
    void (*iounmap)(uint64_t addr);
    /* pageTablePages (IKernelPageTables.PageTablePages, protocol 3): page-allocator frames used as page tables (/proc/meminfo PageTables) */
    int64_t (*page_table_pages)(void);
    /* ---- Tlb ---- */
    /* tlbTranslate (ITlb.TlbTranslate, protocol 3): as translate, through the TLB: counts one hit or one miss, fills on a present miss */
    struct kmm_translation (*tlb_translate)(uint64_t addr, int access);
    /* tlbHits (ITlb.TlbHits, protocol 3): translations answered from the TLB since boot (a read may move it: never kept by the runner) */
    int64_t (*tlb_hits)(void);
    /* tlbMisses (ITlb.TlbMisses, protocol 3): translations that walked the page tables since boot (as tlbHits) */
    int64_t (*tlb_misses)(void);
    /* tlbEntries (ITlb.TlbEntries, protocol 3): how many translations the TLB holds at most */
    int64_t (*tlb_entries)(void);
    /* flushTlbKernelRange (ITlb.FlushTlbKernelRange, protocol 3): no translation of a page in [start, end) stays cached */
    void (*flush_tlb_kernel_range)(uint64_t start, uint64_t end);
    /* flushTlbAll (ITlb.FlushTlbAll, protocol 3): no translation stays cached */
    void (*flush_tlb_all)(void);
    /* ---- UserMemory ---- */
    /* createProcess (IUserMemory.CreateProcess, protocol 4): pid (> 0) of a new process with an empty address space and no descriptors, or -12 (-ENOMEM) */
    int64_t (*create_process)(void);
    /* fork (IUserMemory.Fork, protocol 4): the child's pid: shared mappings stay shared, private ones copy-on-write, descriptors duplicated; or -12 with nothing created */
    int64_t (*fork)(int64_t pid);
    /* exit (IUserMemory.Exit, protocol 4): the process ends: mappings removed, frames and swap slots only it used freed, descriptors closed */
    void (*exit)(int64_t pid);
    /* pageFaults (IUserMemory.PageFaults, protocol 4): page faults the process took so far, resolved or not (min_flt + maj_flt) */
    int64_t (*page_faults)(int64_t pid);
    /* createFile (IUserMemory.CreateFile, protocol 4): id (> 0) of a new zero-filled in-memory file of size bytes (never swapped); invalid for size < 0 */
    int64_t (*create_file)(int64_t size);
    /* readFile (IUserMemory.ReadFile, protocol 4): pread by an observer: the file's bytes from offset, at most len, stopping at the end of the file; invalid for offset < 0 */
    int64_t (*read_file)(int64_t file, int64_t offset, int64_t len, uint8_t *out);
    /* writeFile (IUserMemory.WriteFile, protocol 4): pwrite by an observer, seen by every MAP_SHARED mapping; invalid for a range beyond the file (it never grows) */
    void (*write_file)(int64_t file, int64_t offset, const uint8_t *data, int64_t data_len);
    /* open (IUserMemory.Open, protocol 4): the lowest free descriptor (>= 0) for the file, opened with mode */
    int64_t (*open)(int64_t pid, int64_t file, int64_t mode);
    /* openDevice (IUserMemory.OpenDevice, protocol 4): a descriptor for character device device (0: the serial port, which has no mmap), or -19 (-ENODEV) */
    int64_t (*open_device)(int64_t pid, int64_t device);
    /* close (IUserMemory.Close, protocol 4): 0, or -9 (-EBADF) when fd is not open; mappings made through it stay */
    int64_t (*close)(int64_t pid, int64_t fd);
    /* mmap (IUserMemory.Mmap, protocol 4): page-aligned start of the new mapping (a JSON integer), or a negated errno with nothing changed: -22, -12, -9, -13, -19, -75 */
    int64_t (*mmap)(int64_t pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags, int64_t fd, int64_t offset);
    /* munmap (IUserMemory.Munmap, protocol 4): 0 (also when nothing was mapped), splitting what it cuts; -22 for an unaligned addr, length 0, a range outside user space */
    int64_t (*munmap)(int64_t pid, uint64_t addr, uint64_t length);
    /* mprotect (IUserMemory.Mprotect, protocol 4): 0, splitting what it cuts; -22 (unaligned, unknown bit), -12 (part not mapped), -13 (write to a shared read-only file mapping) */
    int64_t (*mprotect)(int64_t pid, uint64_t addr, uint64_t length, uint32_t prot);
    /* userRead (IUserMemory.UserRead, protocol 4): a load by the process within one page, faulting the page in: {"fault":"None","data":hex}, or the fault; invalid across a page boundary */
    int (*user_read)(int64_t pid, uint64_t addr, int64_t len, uint8_t *out);
    /* userWrite (IUserMemory.UserWrite, protocol 4): a store by the process within one page: "None", or the fault (nothing stored); invalid across a page boundary */
    int (*user_write)(int64_t pid, uint64_t addr, const uint8_t *data, int64_t data_len);
    /* ---- Swap ---- */
    /* swapTotalPages (ISwap.SwapTotalPages, protocol 4): slots of the swap device, in pages (SwapTotal) */
    int64_t (*swap_total_pages)(void);
    /* swapFreePages (ISwap.SwapFreePages, protocol 4): free slots (SwapFree) */
    int64_t (*swap_free_pages)(void);
    /* swapOut (ISwap.SwapOut, protocol 4): anonymous user pages written out (0..pages), victims of your choice; invalid for pages < 0; bug GFP-1 in atomic context */
    int64_t (*swap_out)(int64_t pages);
    /* anonPages (ISwap.AnonPages, protocol 4): resident anonymous user pages with frames in the zone, mapped once (nr_anon_pages) */
    int64_t (*anon_pages)(int zone);
    /* ---- UserCopy ---- */
    /* copyFromUser (IUserCopy.CopyFromUser, protocol 4): bytes NOT copied (0: all), stopping at the first bad user byte, the rest of to zeroed; fault for an unmapped kernel buffer; invalid for n < 0 */
    int64_t (*copy_from_user)(int64_t pid, uint64_t to, uint64_t from, int64_t n);
    /* copyToUser (IUserCopy.CopyToUser, protocol 4): as copyFromUser the other way (the user bytes past the stop are unspecified) */
    int64_t (*copy_to_user)(int64_t pid, uint64_t to, uint64_t from, int64_t n);
    /* getUser (IUserCopy.GetUser, protocol 4): {"result":0,"value":"0x…"} (little-endian), or result -14 (-EFAULT) with value 0; invalid for a size other than 1, 2, 4 (8 on 64-bit) */
    int64_t (*get_user)(int64_t pid, uint64_t addr, int64_t size, uint64_t *value);
    /* putUser (IUserCopy.PutUser, protocol 4): stores the low size bytes of value: 0, or -14 (-EFAULT) with nothing stored; invalid as getUser */
    int64_t (*put_user)(int64_t pid, uint64_t addr, int64_t size, uint64_t value);
    /* ---- DriverMmap ---- */
    /* registerRemapDevice (IDriverMmap.RegisterRemapDevice, protocol 4): device number of a driver whose mmap does remap_pfn_range of frames [pfn, pfn + pages), remapSize bytes (0: the vma's size); invalid outside RAM */
    int64_t (*register_remap_device)(uint64_t pfn, int64_t pages, int64_t remapSize);
    /* registerPageListDevice (IDriverMmap.RegisterPageListDevice, protocol 4): device number of a driver whose mmap does vm_insert_page of each page of the list, in order; invalid for a value that is no page handle */
    int64_t (*register_page_list_device)(const uint64_t *pages, int64_t pages_count);
    /* lastMmap (IDriverMmap.LastMmap, protocol 4): the vma the device's mmap method received last, or null; invalid for an unknown device */
    bool (*last_mmap)(int64_t device, struct kmm_vma *vma);
    /* ---- AtomicT ---- */
    /* atomicCounters (IAtomicT.AtomicCounters, protocol 5): how many counters there are (at least 1); every counter is 0 at boot */
    int64_t (*atomic_counters)(void);
    /* atomicRead (IAtomicT.AtomicRead, protocol 5): the counter's value; invalid ("v") for an index outside [0, atomicCounters) */
    int64_t (*atomic_read)(int64_t v);
    /* atomicSet (IAtomicT.AtomicSet, protocol 5): sets it to i */
    void (*atomic_set)(int64_t v, int64_t i);
    /* atomicAdd (IAtomicT.AtomicAdd, protocol 5): adds i, indivisibly (wrapping) */
    void (*atomic_add)(int64_t i, int64_t v);
    /* atomicSub (IAtomicT.AtomicSub, protocol 5): subtracts i, indivisibly */
    void (*atomic_sub)(int64_t i, int64_t v);
    /* atomicInc (IAtomicT.AtomicInc, protocol 5): adds 1, indivisibly */
    void (*atomic_inc)(int64_t v);
    /* atomicDec (IAtomicT.AtomicDec, protocol 5): subtracts 1, indivisibly */
    void (*atomic_dec)(int64_t v);
    /* atomicAddReturn (IAtomicT.AtomicAddReturn, protocol 5): adds i; the new value */
    int64_t (*atomic_add_return)(int64_t i, int64_t v);
    /* atomicSubReturn (IAtomicT.AtomicSubReturn, protocol 5): subtracts i; the new value */
    int64_t (*atomic_sub_return)(int64_t i, int64_t v);
    /* atomicIncReturn (IAtomicT.AtomicIncReturn, protocol 5): adds 1; the new value */
    int64_t (*atomic_inc_return)(int64_t v);
    /* atomicDecReturn (IAtomicT.AtomicDecReturn, protocol 5): subtracts 1; the new value */
    int64_t (*atomic_dec_return)(int64_t v);
    /* atomicSubAndTest (IAtomicT.AtomicSubAndTest, protocol 5): subtracts i; whether the new value is 0 */
    bool (*atomic_sub_and_test)(int64_t i, int64_t v);
    /* atomicDecAndTest (IAtomicT.AtomicDecAndTest, protocol 5): subtracts 1; whether the new value is 0 */
    bool (*atomic_dec_and_test)(int64_t v);
    /* atomicIncAndTest (IAtomicT.AtomicIncAndTest, protocol 5): adds 1; whether the new value is 0 */
    bool (*atomic_inc_and_test)(int64_t v);
    /* atomicAddNegative (IAtomicT.AtomicAddNegative, protocol 5): adds i; whether the new value is below 0 */
    bool (*atomic_add_negative)(int64_t i, int64_t v);
};

#endif /* KMM_GENERATED_H */

#if defined(KMM_IMPLEMENTATION) && !defined(KMM_GENERATED_IMPLEMENTATION)
#define KMM_GENERATED_IMPLEMENTATION
/* The capabilities the callbacks cover, limited to those protocol `version` carries. */
static unsigned kmm_capabilities(const struct kmm_ops *ops, int version)
{
    unsigned caps = 0;
    if (version >= 1 && ops->get_free_pages && ops->get_zeroed_page && ops->free_pages && ops->alloc_pages && ops->free_pages_of && ops->page_to_pfn && ops->pfn_to_page && ops->page_address && ops->page_zone && ops->virt_to_phys && ops->free_blocks && ops->drain_caches && ops->read && ops->write) caps |= KMM_CAP_PAGE_ALLOCATOR;
    if (version >= 1 && ops->preempt_disable && ops->preempt_enable && ops->irq_enter && ops->irq_exit && ops->in_interrupt && ops->in_atomic && ops->sleeps) caps |= KMM_CAP_EXECUTION_CONTEXT;
    if (version >= 1 && ops->kmap && ops->kunmap && ops->kmap_atomic && ops->kunmap_atomic) caps |= KMM_CAP_HIGHMEM;
    if (version >= 1 && ops->fill_page_cache && ops->reclaimable_pages && ops->drop_page_cache) caps |= KMM_CAP_RECLAIM;
    if (version >= 2 && ops->kmalloc && ops->kzalloc && ops->krealloc && ops->kfree && ops->ksize) caps |= KMM_CAP_KMALLOC;
    if (version >= 2 && ops->kmem_cache_create && ops->kmem_cache_alloc && ops->kmem_cache_free && ops->kmem_cache_shrink && ops->kmem_cache_destroy && ops->slab_info && ops->reap_caches) caps |= KMM_CAP_SLAB_CACHE;
    if (version >= 3 && ops->vmalloc && ops->vzalloc && ops->vfree && ops->vmalloc_to_pfn && ops->is_vmalloc_addr) caps |= KMM_CAP_VMALLOC;
    if (version >= 3 && ops->translate && ops->ioremap && ops->iounmap && ops->page_table_pages) caps |= KMM_CAP_KERNEL_PAGE_TABLES;
    if (version >= 3 && ops->tlb_translate && ops->tlb_hits && ops->tlb_misses && ops->tlb_entries && ops->flush_tlb_kernel_range && ops->flush_tlb_all) caps |= KMM_CAP_TLB;
    if (version >= 4 && ops->create_process && ops->fork && ops->exit && ops->page_faults && ops->create_file && ops->read_file && ops->write_file && ops->open && ops->open_device && ops->close && ops->mmap && ops->munmap && ops->mprotect && ops->user_read && ops->user_write) caps |= KMM_CAP_USER_MEMORY;
    if (version >= 4 && ops->swap_total_pages && ops->swap_free_pages && ops->swap_out && ops->anon_pages) caps |= KMM_CAP_SWAP;
    if (version >= 4 && ops->copy_from_user && ops->copy_to_user && ops->get_user && ops->put_user) caps |= KMM_CAP_USER_COPY;
    if (version >= 4 && ops->register_remap_device && ops->register_page_list_device && ops->last_mmap) caps |= KMM_CAP_DRIVER_MMAP;
    if (version >= 5 && ops->atomic_counters && ops->atomic_read && ops->atomic_set && ops->atomic_add && ops->atomic_sub && ops->atomic_inc && ops->atomic_dec && ops->atomic_add_return && ops->atomic_sub_return && ops->atomic_inc_return && ops->atomic_dec_return && ops->atomic_sub_and_test && ops->atomic_dec_and_test && ops->atomic_inc_and_test && ops->atomic_add_negative) caps |= KMM_CAP_ATOMIC_T;
    return caps;
}

/* Callbacks set for part of a capability only (the kit warns on stderr and does not declare it). */
static unsigned kmm_partial_capabilities(const struct kmm_ops *ops)
{
    unsigned caps = 0;
    if ((ops->get_free_pages || ops->get_zeroed_page || ops->free_pages || ops->alloc_pages || ops->free_pages_of || ops->page_to_pfn || ops->pfn_to_page || ops->page_address || ops->page_zone || ops->virt_to_phys || ops->free_blocks || ops->drain_caches || ops->read || ops->write) && !(ops->get_free_pages && ops->get_zeroed_page && ops->free_pages && ops->alloc_pages && ops->free_pages_of && ops->page_to_pfn && ops->pfn_to_page && ops->page_address && ops->page_zone && ops->virt_to_phys && ops->free_blocks && ops->drain_caches && ops->read && ops->write)) caps |= KMM_CAP_PAGE_ALLOCATOR;
    if ((ops->preempt_disable || ops->preempt_enable || ops->irq_enter || ops->irq_exit || ops->in_interrupt || ops->in_atomic || ops->sleeps) && !(ops->preempt_disable && ops->preempt_enable && ops->irq_enter && ops->irq_exit && ops->in_interrupt && ops->in_atomic && ops->sleeps)) caps |= KMM_CAP_EXECUTION_CONTEXT;
    if ((ops->kmap || ops->kunmap || ops->kmap_atomic || ops->kunmap_atomic) && !(ops->kmap && ops->kunmap && ops->kmap_atomic && ops->kunmap_atomic)) caps |= KMM_CAP_HIGHMEM;
    if ((ops->fill_page_cache || ops->reclaimable_pages || ops->drop_page_cache) && !(ops->fill_page_cache && ops->reclaimable_pages && ops->drop_page_cache)) caps |= KMM_CAP_RECLAIM;
    if ((ops->kmalloc || ops->kzalloc || ops->krealloc || ops->kfree || ops->ksize) && !(ops->kmalloc && ops->kzalloc && ops->krealloc && ops->kfree && ops->ksize)) caps |= KMM_CAP_KMALLOC;
    if ((ops->kmem_cache_create || ops->kmem_cache_alloc || ops->kmem_cache_free || ops->kmem_cache_shrink || ops->kmem_cache_destroy || ops->slab_info || ops->reap_caches) && !(ops->kmem_cache_create && ops->kmem_cache_alloc && ops->kmem_cache_free && ops->kmem_cache_shrink && ops->kmem_cache_destroy && ops->slab_info && ops->reap_caches)) caps |= KMM_CAP_SLAB_CACHE;
    if ((ops->vmalloc || ops->vzalloc || ops->vfree || ops->vmalloc_to_pfn || ops->is_vmalloc_addr) && !(ops->vmalloc && ops->vzalloc && ops->vfree && ops->vmalloc_to_pfn && ops->is_vmalloc_addr)) caps |= KMM_CAP_VMALLOC;
    if ((ops->translate || ops->ioremap || ops->iounmap || ops->page_table_pages) && !(ops->translate && ops->ioremap && ops->iounmap && ops->page_table_pages)) caps |= KMM_CAP_KERNEL_PAGE_TABLES;
    if ((ops->tlb_translate || ops->tlb_hits || ops->tlb_misses || ops->tlb_entries || ops->flush_tlb_kernel_range || ops->flush_tlb_all) && !(ops->tlb_translate && ops->tlb_hits && ops->tlb_misses && ops->tlb_entries && ops->flush_tlb_kernel_range && ops->flush_tlb_all)) caps |= KMM_CAP_TLB;
    if ((ops->create_process || ops->fork || ops->exit || ops->page_faults || ops->create_file || ops->read_file || ops->write_file || ops->open || ops->open_device || ops->close || ops->mmap || ops->munmap || ops->mprotect || ops->user_read || ops->user_write) && !(ops->create_process && ops->fork && ops->exit && ops->page_faults && ops->create_file && ops->read_file && ops->write_file && ops->open && ops->open_device && ops->close && ops->mmap && ops->munmap && ops->mprotect && ops->user_read && ops->user_write)) caps |= KMM_CAP_USER_MEMORY;
    if ((ops->swap_total_pages || ops->swap_free_pages || ops->swap_out || ops->anon_pages) && !(ops->swap_total_pages && ops->swap_free_pages && ops->swap_out && ops->anon_pages)) caps |= KMM_CAP_SWAP;
    if ((ops->copy_from_user || ops->copy_to_user || ops->get_user || ops->put_user) && !(ops->copy_from_user && ops->copy_to_user && ops->get_user && ops->put_user)) caps |= KMM_CAP_USER_COPY;
    if ((ops->register_remap_device || ops->register_page_list_device || ops->last_mmap) && !(ops->register_remap_device && ops->register_page_list_device && ops->last_mmap)) caps |= KMM_CAP_DRIVER_MMAP;
    if ((ops->atomic_counters || ops->atomic_read || ops->atomic_set || ops->atomic_add || ops->atomic_sub || ops->atomic_inc || ops->atomic_dec || ops->atomic_add_return || ops->atomic_sub_return || ops->atomic_inc_return || ops->atomic_dec_return || ops->atomic_sub_and_test || ops->atomic_dec_and_test || ops->atomic_inc_and_test || ops->atomic_add_negative) && !(ops->atomic_counters && ops->atomic_read && ops->atomic_set && ops->atomic_add && ops->atomic_sub && ops->atomic_inc && ops->atomic_dec && ops->atomic_add_return && ops->atomic_sub_return && ops->atomic_inc_return && ops->atomic_dec_return && ops->atomic_sub_and_test && ops->atomic_dec_and_test && ops->atomic_inc_and_test && ops->atomic_add_negative)) caps |= KMM_CAP_ATOMIC_T;
    return caps;
}

static const char *const kmm_capability_names[KMM_NCAPS] = {
    "PageAllocator",
    "ExecutionContext",
    "Highmem",
    "Reclaim",
    "Kmalloc",
    "SlabCache",
    "Vmalloc",
    "KernelPageTables",
    "Tlb",
    "UserMemory",
    "Swap",
    "UserCopy",
    "DriverMmap",
    "AtomicT",
};

/* One profile field (a scalar of the hello profile object). */
static void kmm_profile_field(struct kmm_profile *p, const struct kmm_tok *k, const struct kmm_tok *v)
{
    if (kmm_tok_is(k, "name")) { p->name_given = kmm_tok_text(v, p->name, sizeof p->name); return; }
    if (kmm_tok_is(k, "pageSize")) { p->page_size_given = kmm_tok_int(v, &p->page_size); return; }
    if (kmm_tok_is(k, "pageOffset")) { p->page_offset_given = kmm_tok_address(v, &p->page_offset); return; }
    if (kmm_tok_is(k, "dmaLimit")) { p->dma_limit_given = kmm_tok_address(v, &p->dma_limit); return; }
    if (kmm_tok_is(k, "highmemStart")) { p->highmem_start_given = kmm_tok_address(v, &p->highmem_start); return; }
    if (kmm_tok_is(k, "maxOrder")) { p->max_order_given = kmm_tok_int(v, &p->max_order); return; }
    if (kmm_tok_is(k, "physicalMemory")) { p->physical_memory_given = kmm_tok_address(v, &p->physical_memory); return; }
    if (kmm_tok_is(k, "hasGfpBuffer")) { p->has_gfp_buffer_given = kmm_tok_bool(v, &p->has_gfp_buffer); return; }
    if (kmm_tok_is(k, "hasSlabNoReap")) { p->has_slab_no_reap_given = kmm_tok_bool(v, &p->has_slab_no_reap); return; }
    if (kmm_tok_is(k, "kmallocMaxSize")) { p->kmalloc_max_size_given = kmm_tok_int(v, &p->kmalloc_max_size); return; }
    if (kmm_tok_is(k, "kmallocClasses")) { p->kmalloc_classes_given = kmm_tok_int_list(v, p->kmalloc_classes, 64, &p->kmalloc_classes_count); return; }
    if (kmm_tok_is(k, "slabObjectMax")) { p->slab_object_max_given = kmm_tok_int(v, &p->slab_object_max); return; }
    if (kmm_tok_is(k, "cacheLine")) { p->cache_line_given = kmm_tok_int(v, &p->cache_line); return; }
    if (kmm_tok_is(k, "poisonFree")) { p->poison_free_given = kmm_tok_int(v, &p->poison_free); return; }
    if (kmm_tok_is(k, "poisonEnd")) { p->poison_end_given = kmm_tok_int(v, &p->poison_end); return; }
    if (kmm_tok_is(k, "redZoneInactive")) { p->red_zone_inactive_given = kmm_tok_int(v, &p->red_zone_inactive); return; }
    if (kmm_tok_is(k, "redZoneActive")) { p->red_zone_active_given = kmm_tok_int(v, &p->red_zone_active); return; }
    if (kmm_tok_is(k, "wordSize")) { p->word_size_given = kmm_tok_int(v, &p->word_size); return; }
    if (kmm_tok_is(k, "kmallocCacheMax")) { p->kmalloc_cache_max_given = kmm_tok_int(v, &p->kmalloc_cache_max); return; }
    if (kmm_tok_is(k, "kmallocZeroReturnsZeroSizePtr")) { p->kmalloc_zero_returns_zero_size_ptr_given = kmm_tok_bool(v, &p->kmalloc_zero_returns_zero_size_ptr); return; }
    if (kmm_tok_is(k, "kfreeAcceptsCacheObjects")) { p->kfree_accepts_cache_objects_given = kmm_tok_bool(v, &p->kfree_accepts_cache_objects); return; }
    if (kmm_tok_is(k, "destroyBusyLeaksCache")) { p->destroy_busy_leaks_cache_given = kmm_tok_bool(v, &p->destroy_busy_leaks_cache); return; }
    if (kmm_tok_is(k, "kmallocCachePrefix")) { p->kmalloc_cache_prefix_given = kmm_tok_text(v, p->kmalloc_cache_prefix, sizeof p->kmalloc_cache_prefix); return; }
    if (kmm_tok_is(k, "vmallocOffset")) { p->vmalloc_offset_given = kmm_tok_address(v, &p->vmalloc_offset); return; }
    if (kmm_tok_is(k, "vmallocEnd")) { p->vmalloc_end_given = kmm_tok_address(v, &p->vmalloc_end); return; }
    if (kmm_tok_is(k, "pkmapBase")) { p->pkmap_base_given = kmm_tok_address(v, &p->pkmap_base); return; }
    if (kmm_tok_is(k, "pkmapSlots")) { p->pkmap_slots_given = kmm_tok_int(v, &p->pkmap_slots); return; }
    if (kmm_tok_is(k, "pageTableLevelBits")) { p->page_table_level_bits_given = kmm_tok_int_list(v, p->page_table_level_bits, 64, &p->page_table_level_bits_count); return; }
    if (kmm_tok_is(k, "pageTableEntryBytes")) { p->page_table_entry_bytes_given = kmm_tok_int(v, &p->page_table_entry_bytes); return; }
    if (kmm_tok_is(k, "physicalAddressBits")) { p->physical_address_bits_given = kmm_tok_int(v, &p->physical_address_bits); return; }
    if (kmm_tok_is(k, "vfreeDefersInInterrupt")) { p->vfree_defers_in_interrupt_given = kmm_tok_bool(v, &p->vfree_defers_in_interrupt); return; }
    if (kmm_tok_is(k, "taskSize")) { p->task_size_given = kmm_tok_address(v, &p->task_size); return; }
    if (kmm_tok_is(k, "userWindowStart")) { p->user_window_start_given = kmm_tok_address(v, &p->user_window_start); return; }
    if (kmm_tok_is(k, "userWindowSize")) { p->user_window_size_given = kmm_tok_address(v, &p->user_window_size); return; }
    if (kmm_tok_is(k, "mapSharedValidate")) { p->map_shared_validate_given = kmm_tok_bool(v, &p->map_shared_validate); return; }
    if (kmm_tok_is(k, "remapPfnRangeRoundsSize")) { p->remap_pfn_range_rounds_size_given = kmm_tok_bool(v, &p->remap_pfn_range_rounds_size); return; }
    if (kmm_tok_is(k, "pageShift")) { p->page_shift_given = kmm_tok_int(v, &p->page_shift); return; }
    if (kmm_tok_is(k, "totalPages")) { p->total_pages_given = kmm_tok_int(v, &p->total_pages); return; }
    if (kmm_tok_is(k, "maxOrderPages")) { p->max_order_pages_given = kmm_tok_int(v, &p->max_order_pages); return; }
    if (kmm_tok_is(k, "lowMemoryEnd")) { p->low_memory_end_given = kmm_tok_address(v, &p->low_memory_end); return; }
    if (kmm_tok_is(k, "vmallocStart")) { p->vmalloc_start_given = kmm_tok_address(v, &p->vmalloc_start); return; }
    if (kmm_tok_is(k, "ioremapStart")) { p->ioremap_start_given = kmm_tok_address(v, &p->ioremap_start); return; }
    if (kmm_tok_is(k, "ioremapEnd")) { p->ioremap_end_given = kmm_tok_address(v, &p->ioremap_end); return; }
    if (kmm_tok_is(k, "virtualAddressBits")) { p->virtual_address_bits_given = kmm_tok_int(v, &p->virtual_address_bits); return; }
    if (kmm_tok_is(k, "emergencyReservePages")) { p->emergency_reserve_pages_given = kmm_tok_int(v, &p->emergency_reserve_pages); return; }
    if (kmm_tok_is(k, "hasHighmem")) { p->has_highmem_given = kmm_tok_bool(v, &p->has_highmem); return; }
    if (kmm_tok_is(k, "label")) { p->label_given = kmm_tok_text(v, p->label, sizeof p->label); return; }
    if (kmm_tok_is(k, "kmallocCacheNames")) { p->kmalloc_cache_names_given = kmm_tok_text_list(v, p->kmalloc_cache_names, 64, &p->kmalloc_cache_names_count); return; }
}

/* Answers one request of an operation; returns false for an unknown op. */
static bool kmm_dispatch(const struct kmm_ops *ops, const struct kmm_req *r)
{
    if (kmm_op_is(r, "getFreePages")) {
        if (!ops->get_free_pages) { kmm_unsupported(r); return true; }
        uint32_t gfp;
        int64_t order;
        if (!(kmm_get_mask(r, "gfp", &gfp) && kmm_get_int(r, "order", &order))) return true;
        kmm_answer_address(r, ops->get_free_pages(gfp, order));
        return true;
    }
    if (kmm_op_is(r, "getZeroedPage")) {
        if (!ops->get_zeroed_page) { kmm_unsupported(r); return true; }
        uint32_t gfp;
        if (!(kmm_get_mask(r, "gfp", &gfp))) return true;
        kmm_answer_address(r, ops->get_zeroed_page(gfp));
        return true;
    }
    if (kmm_op_is(r, "freePages")) {
        if (!ops->free_pages) { kmm_unsupported(r); return true; }
        uint64_t addr;
        int64_t order;
        if (!(kmm_get_address(r, "addr", &addr) && kmm_get_int(r, "order", &order))) return true;
        ops->free_pages(addr, order);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "allocPages")) {
        if (!ops->alloc_pages) { kmm_unsupported(r); return true; }
        uint32_t gfp;
        int64_t order;
        if (!(kmm_get_mask(r, "gfp", &gfp) && kmm_get_int(r, "order", &order))) return true;
        kmm_answer_address(r, ops->alloc_pages(gfp, order));
        return true;
    }
    if (kmm_op_is(r, "freePagesOf")) {
        if (!ops->free_pages_of) { kmm_unsupported(r); return true; }
        uint64_t page;
        int64_t order;
        if (!(kmm_get_address(r, "page", &page) && kmm_get_int(r, "order", &order))) return true;
        ops->free_pages_of(page, order);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "pageToPfn")) {
        if (!ops->page_to_pfn) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        kmm_answer_address(r, ops->page_to_pfn(page));
        return true;
    }
    if (kmm_op_is(r, "pfnToPage")) {
        if (!ops->pfn_to_page) { kmm_unsupported(r); return true; }
        uint64_t pfn;
        if (!(kmm_get_address(r, "pfn", &pfn))) return true;
        kmm_answer_address(r, ops->pfn_to_page(pfn));
        return true;
    }
    if (kmm_op_is(r, "pageAddress")) {
        if (!ops->page_address) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        kmm_answer_address(r, ops->page_address(page));
        return true;
    }
    if (kmm_op_is(r, "pageZone")) {
        if (!ops->page_zone) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        kmm_answer_zone(r, ops->page_zone(page));
        return true;
    }
    if (kmm_op_is(r, "virtToPhys")) {
        if (!ops->virt_to_phys) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        kmm_answer_address(r, ops->virt_to_phys(addr));
        return true;
    }
    if (kmm_op_is(r, "freeBlocks")) {
        if (!ops->free_blocks) { kmm_unsupported(r); return true; }
        int zone;
        int64_t order;
        if (!(kmm_get_zone(r, "zone", &zone) && kmm_get_int(r, "order", &order))) return true;
        kmm_answer_int(r, ops->free_blocks(zone, order));
        return true;
    }
    if (kmm_op_is(r, "drainCaches")) {
        if (!ops->drain_caches) { kmm_unsupported(r); return true; }
        ops->drain_caches();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "read")) {
        if (!ops->read) { kmm_unsupported(r); return true; }
        uint64_t addr;
        int64_t len;
        if (!(kmm_get_address(r, "addr", &addr) && kmm_get_int(r, "len", &len))) return true;
        uint8_t *out = kmm_scratch(r, len);
        if (!out) return true;
        ops->read(addr, len, out);
        kmm_answer_bytes(r, out, len);
        return true;
    }
    if (kmm_op_is(r, "write")) {
        if (!ops->write) { kmm_unsupported(r); return true; }
        uint64_t addr;
        const uint8_t *data; int64_t data_len;
        if (!(kmm_get_address(r, "addr", &addr) && kmm_get_bytes(r, "data", &data, &data_len))) return true;
        ops->write(addr, data, data_len);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "preemptDisable")) {
        if (!ops->preempt_disable) { kmm_unsupported(r); return true; }
        ops->preempt_disable();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "preemptEnable")) {
        if (!ops->preempt_enable) { kmm_unsupported(r); return true; }
        ops->preempt_enable();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "irqEnter")) {
        if (!ops->irq_enter) { kmm_unsupported(r); return true; }
        ops->irq_enter();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "irqExit")) {
        if (!ops->irq_exit) { kmm_unsupported(r); return true; }
        ops->irq_exit();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "inInterrupt")) {
        if (!ops->in_interrupt) { kmm_unsupported(r); return true; }
        kmm_answer_bool(r, ops->in_interrupt());
        return true;
    }
    if (kmm_op_is(r, "inAtomic")) {
        if (!ops->in_atomic) { kmm_unsupported(r); return true; }
        kmm_answer_bool(r, ops->in_atomic());
        return true;
    }
    if (kmm_op_is(r, "sleeps")) {
        if (!ops->sleeps) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->sleeps());
        return true;
    }
    if (kmm_op_is(r, "kmap")) {
        if (!ops->kmap) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        kmm_answer_address(r, ops->kmap(page));
        return true;
    }
    if (kmm_op_is(r, "kunmap")) {
        if (!ops->kunmap) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        ops->kunmap(page);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "kmapAtomic")) {
        if (!ops->kmap_atomic) { kmm_unsupported(r); return true; }
        uint64_t page;
        if (!(kmm_get_address(r, "page", &page))) return true;
        kmm_answer_address(r, ops->kmap_atomic(page));
        return true;
    }
    if (kmm_op_is(r, "kunmapAtomic")) {
        if (!ops->kunmap_atomic) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        ops->kunmap_atomic(addr);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "fillPageCache")) {
        if (!ops->fill_page_cache) { kmm_unsupported(r); return true; }
        int64_t pages;
        if (!(kmm_get_int(r, "pages", &pages))) return true;
        kmm_answer_int(r, ops->fill_page_cache(pages));
        return true;
    }
    if (kmm_op_is(r, "reclaimablePages")) {
        if (!ops->reclaimable_pages) { kmm_unsupported(r); return true; }
        int zone;
        if (!(kmm_get_zone(r, "zone", &zone))) return true;
        kmm_answer_int(r, ops->reclaimable_pages(zone));
        return true;
    }
    if (kmm_op_is(r, "dropPageCache")) {
        if (!ops->drop_page_cache) { kmm_unsupported(r); return true; }
        ops->drop_page_cache();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "kmalloc")) {
        if (!ops->kmalloc) { kmm_unsupported(r); return true; }
        int64_t size;
        uint32_t gfp;
        if (!(kmm_get_int(r, "size", &size) && kmm_get_mask(r, "gfp", &gfp))) return true;
        kmm_answer_address(r, ops->kmalloc(size, gfp));
        return true;
    }
    if (kmm_op_is(r, "kzalloc")) {
        if (!ops->kzalloc) { kmm_unsupported(r); return true; }
        int64_t size;
        uint32_t gfp;
        if (!(kmm_get_int(r, "size", &size) && kmm_get_mask(r, "gfp", &gfp))) return true;
        kmm_answer_address(r, ops->kzalloc(size, gfp));
        return true;
    }
    if (kmm_op_is(r, "krealloc")) {
        if (!ops->krealloc) { kmm_unsupported(r); return true; }
        uint64_t p;
        int64_t size;
        uint32_t gfp;
        if (!(kmm_get_address(r, "p", &p) && kmm_get_int(r, "size", &size) && kmm_get_mask(r, "gfp", &gfp))) return true;
        kmm_answer_address(r, ops->krealloc(p, size, gfp));
        return true;
    }
    if (kmm_op_is(r, "kfree")) {
        if (!ops->kfree) { kmm_unsupported(r); return true; }
        uint64_t p;
        if (!(kmm_get_address(r, "p", &p))) return true;
        ops->kfree(p);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "ksize")) {
        if (!ops->ksize) { kmm_unsupported(r); return true; }
        uint64_t p;
        if (!(kmm_get_address(r, "p", &p))) return true;
        kmm_answer_int(r, ops->ksize(p));
        return true;
    }
    if (kmm_op_is(r, "kmemCacheCreate")) {
        if (!ops->kmem_cache_create) { kmm_unsupported(r); return true; }
        char name[256];
        int64_t size;
        int64_t align;
        uint32_t flags;
        int ctor;
        if (!(kmm_get_text(r, "name", name, sizeof name) && kmm_get_int(r, "size", &size) && kmm_get_int(r, "align", &align) && kmm_get_mask(r, "flags", &flags) && kmm_get_optional_byte(r, "ctor", &ctor))) return true;
        kmm_answer_address(r, ops->kmem_cache_create(name, size, align, flags, ctor));
        return true;
    }
    if (kmm_op_is(r, "kmemCacheAlloc")) {
        if (!ops->kmem_cache_alloc) { kmm_unsupported(r); return true; }
        uint64_t cache;
        uint32_t gfp;
        if (!(kmm_get_address(r, "cache", &cache) && kmm_get_mask(r, "gfp", &gfp))) return true;
        kmm_answer_address(r, ops->kmem_cache_alloc(cache, gfp));
        return true;
    }
    if (kmm_op_is(r, "kmemCacheFree")) {
        if (!ops->kmem_cache_free) { kmm_unsupported(r); return true; }
        uint64_t cache;
        uint64_t obj;
        if (!(kmm_get_address(r, "cache", &cache) && kmm_get_address(r, "obj", &obj))) return true;
        ops->kmem_cache_free(cache, obj);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "kmemCacheShrink")) {
        if (!ops->kmem_cache_shrink) { kmm_unsupported(r); return true; }
        uint64_t cache;
        if (!(kmm_get_address(r, "cache", &cache))) return true;
        kmm_answer_int(r, ops->kmem_cache_shrink(cache));
        return true;
    }
    if (kmm_op_is(r, "kmemCacheDestroy")) {
        if (!ops->kmem_cache_destroy) { kmm_unsupported(r); return true; }
        uint64_t cache;
        if (!(kmm_get_address(r, "cache", &cache))) return true;
        kmm_answer_int(r, ops->kmem_cache_destroy(cache));
        return true;
    }
    if (kmm_op_is(r, "slabInfo")) {
        if (!ops->slab_info) { kmm_unsupported(r); return true; }
        kmm_slabinfo_begin(r);
        ops->slab_info();
        kmm_slabinfo_end(r);
        return true;
    }
    if (kmm_op_is(r, "reapCaches")) {
        if (!ops->reap_caches) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->reap_caches());
        return true;
    }
    if (kmm_op_is(r, "vmalloc")) {
        if (!ops->vmalloc) { kmm_unsupported(r); return true; }
        int64_t size;
        if (!(kmm_get_int(r, "size", &size))) return true;
        kmm_answer_address(r, ops->vmalloc(size));
        return true;
    }
    if (kmm_op_is(r, "vzalloc")) {
        if (!ops->vzalloc) { kmm_unsupported(r); return true; }
        int64_t size;
        if (!(kmm_get_int(r, "size", &size))) return true;
        kmm_answer_address(r, ops->vzalloc(size));
        return true;
    }
    if (kmm_op_is(r, "vfree")) {
        if (!ops->vfree) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        ops->vfree(addr);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "vmallocToPfn")) {
        if (!ops->vmalloc_to_pfn) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        kmm_answer_address(r, ops->vmalloc_to_pfn(addr));
        return true;
    }
    if (kmm_op_is(r, "isVmallocAddr")) {
        if (!ops->is_vmalloc_addr) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        kmm_answer_bool(r, ops->is_vmalloc_addr(addr));
        return true;
    }
    if (kmm_op_is(r, "translate")) {
        if (!ops->translate) { kmm_unsupported(r); return true; }
        uint64_t addr;
        int access;
        if (!(kmm_get_address(r, "addr", &addr) && kmm_get_access(r, "access", &access))) return true;
        kmm_answer_translation(r, ops->translate(addr, access));
        return true;
    }
    if (kmm_op_is(r, "ioremap")) {
        if (!ops->ioremap) { kmm_unsupported(r); return true; }
        uint64_t physAddr;
        int64_t size;
        if (!(kmm_get_address(r, "physAddr", &physAddr) && kmm_get_int(r, "size", &size))) return true;
        kmm_answer_address(r, ops->ioremap(physAddr, size));
        return true;
    }
    if (kmm_op_is(r, "iounmap")) {
        if (!ops->iounmap) { kmm_unsupported(r); return true; }
        uint64_t addr;
        if (!(kmm_get_address(r, "addr", &addr))) return true;
        ops->iounmap(addr);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "pageTablePages")) {
        if (!ops->page_table_pages) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->page_table_pages());
        return true;
    }
    if (kmm_op_is(r, "tlbTranslate")) {
        if (!ops->tlb_translate) { kmm_unsupported(r); return true; }
        uint64_t addr;
        int access;
        if (!(kmm_get_address(r, "addr", &addr) && kmm_get_access(r, "access", &access))) return true;
        kmm_answer_translation(r, ops->tlb_translate(addr, access));
        return true;
    }
    if (kmm_op_is(r, "tlbHits")) {
        if (!ops->tlb_hits) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->tlb_hits());
        return true;
    }
    if (kmm_op_is(r, "tlbMisses")) {
        if (!ops->tlb_misses) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->tlb_misses());
        return true;
    }
    if (kmm_op_is(r, "tlbEntries")) {
        if (!ops->tlb_entries) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->tlb_entries());
        return true;
    }
    if (kmm_op_is(r, "flushTlbKernelRange")) {
        if (!ops->flush_tlb_kernel_range) { kmm_unsupported(r); return true; }
        uint64_t start;
        uint64_t end;
        if (!(kmm_get_address(r, "start", &start) && kmm_get_address(r, "end", &end))) return true;
        ops->flush_tlb_kernel_range(start, end);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "flushTlbAll")) {
        if (!ops->flush_tlb_all) { kmm_unsupported(r); return true; }
        ops->flush_tlb_all();
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "createProcess")) {
        if (!ops->create_process) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->create_process());
        return true;
    }
    if (kmm_op_is(r, "fork")) {
        if (!ops->fork) { kmm_unsupported(r); return true; }
        int64_t pid;
        if (!(kmm_get_int(r, "pid", &pid))) return true;
        kmm_answer_int(r, ops->fork(pid));
        return true;
    }
    if (kmm_op_is(r, "exit")) {
        if (!ops->exit) { kmm_unsupported(r); return true; }
        int64_t pid;
        if (!(kmm_get_int(r, "pid", &pid))) return true;
        ops->exit(pid);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "pageFaults")) {
        if (!ops->page_faults) { kmm_unsupported(r); return true; }
        int64_t pid;
        if (!(kmm_get_int(r, "pid", &pid))) return true;
        kmm_answer_int(r, ops->page_faults(pid));
        return true;
    }
    if (kmm_op_is(r, "createFile")) {
        if (!ops->create_file) { kmm_unsupported(r); return true; }
        int64_t size;
        if (!(kmm_get_int(r, "size", &size))) return true;
        kmm_answer_int(r, ops->create_file(size));
        return true;
    }
    if (kmm_op_is(r, "readFile")) {
        if (!ops->read_file) { kmm_unsupported(r); return true; }
        int64_t file;
        int64_t offset;
        int64_t len;
        if (!(kmm_get_int(r, "file", &file) && kmm_get_int(r, "offset", &offset) && kmm_get_int(r, "len", &len))) return true;
        uint8_t *out = kmm_scratch(r, len);
        if (!out) return true;
        int64_t count = ops->read_file(file, offset, len, out);
        kmm_answer_copied_bytes(r, out, count, len);
        return true;
    }
    if (kmm_op_is(r, "writeFile")) {
        if (!ops->write_file) { kmm_unsupported(r); return true; }
        int64_t file;
        int64_t offset;
        const uint8_t *data; int64_t data_len;
        if (!(kmm_get_int(r, "file", &file) && kmm_get_int(r, "offset", &offset) && kmm_get_bytes(r, "data", &data, &data_len))) return true;
        ops->write_file(file, offset, data, data_len);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "open")) {
        if (!ops->open) { kmm_unsupported(r); return true; }
        int64_t pid;
        int64_t file;
        int64_t mode;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_int(r, "file", &file) && kmm_get_int(r, "mode", &mode))) return true;
        kmm_answer_int(r, ops->open(pid, file, mode));
        return true;
    }
    if (kmm_op_is(r, "openDevice")) {
        if (!ops->open_device) { kmm_unsupported(r); return true; }
        int64_t pid;
        int64_t device;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_int(r, "device", &device))) return true;
        kmm_answer_int(r, ops->open_device(pid, device));
        return true;
    }
    if (kmm_op_is(r, "close")) {
        if (!ops->close) { kmm_unsupported(r); return true; }
        int64_t pid;
        int64_t fd;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_int(r, "fd", &fd))) return true;
        kmm_answer_int(r, ops->close(pid, fd));
        return true;
    }
    if (kmm_op_is(r, "mmap")) {
        if (!ops->mmap) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        uint64_t length;
        uint32_t prot;
        uint32_t flags;
        int64_t fd;
        int64_t offset;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_address(r, "length", &length) && kmm_get_mask(r, "prot", &prot) && kmm_get_mask(r, "flags", &flags) && kmm_get_int(r, "fd", &fd) && kmm_get_int(r, "offset", &offset))) return true;
        kmm_answer_int(r, ops->mmap(pid, addr, length, prot, flags, fd, offset));
        return true;
    }
    if (kmm_op_is(r, "munmap")) {
        if (!ops->munmap) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        uint64_t length;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_address(r, "length", &length))) return true;
        kmm_answer_int(r, ops->munmap(pid, addr, length));
        return true;
    }
    if (kmm_op_is(r, "mprotect")) {
        if (!ops->mprotect) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        uint64_t length;
        uint32_t prot;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_address(r, "length", &length) && kmm_get_mask(r, "prot", &prot))) return true;
        kmm_answer_int(r, ops->mprotect(pid, addr, length, prot));
        return true;
    }
    if (kmm_op_is(r, "userRead")) {
        if (!ops->user_read) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        int64_t len;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_int(r, "len", &len))) return true;
        uint8_t *out = kmm_scratch(r, len);
        if (!out) return true;
        int fault = ops->user_read(pid, addr, len, out);
        kmm_answer_user_load(r, fault, out, len);
        return true;
    }
    if (kmm_op_is(r, "userWrite")) {
        if (!ops->user_write) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        const uint8_t *data; int64_t data_len;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_bytes(r, "data", &data, &data_len))) return true;
        kmm_answer_user_fault(r, ops->user_write(pid, addr, data, data_len));
        return true;
    }
    if (kmm_op_is(r, "swapTotalPages")) {
        if (!ops->swap_total_pages) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->swap_total_pages());
        return true;
    }
    if (kmm_op_is(r, "swapFreePages")) {
        if (!ops->swap_free_pages) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->swap_free_pages());
        return true;
    }
    if (kmm_op_is(r, "swapOut")) {
        if (!ops->swap_out) { kmm_unsupported(r); return true; }
        int64_t pages;
        if (!(kmm_get_int(r, "pages", &pages))) return true;
        kmm_answer_int(r, ops->swap_out(pages));
        return true;
    }
    if (kmm_op_is(r, "anonPages")) {
        if (!ops->anon_pages) { kmm_unsupported(r); return true; }
        int zone;
        if (!(kmm_get_zone(r, "zone", &zone))) return true;
        kmm_answer_int(r, ops->anon_pages(zone));
        return true;
    }
    if (kmm_op_is(r, "copyFromUser")) {
        if (!ops->copy_from_user) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t to;
        uint64_t from;
        int64_t n;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "to", &to) && kmm_get_address(r, "from", &from) && kmm_get_int(r, "n", &n))) return true;
        kmm_answer_int(r, ops->copy_from_user(pid, to, from, n));
        return true;
    }
    if (kmm_op_is(r, "copyToUser")) {
        if (!ops->copy_to_user) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t to;
        uint64_t from;
        int64_t n;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "to", &to) && kmm_get_address(r, "from", &from) && kmm_get_int(r, "n", &n))) return true;
        kmm_answer_int(r, ops->copy_to_user(pid, to, from, n));
        return true;
    }
    if (kmm_op_is(r, "getUser")) {
        if (!ops->get_user) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        int64_t size;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_int(r, "size", &size))) return true;
        uint64_t value = 0;
        int64_t result = ops->get_user(pid, addr, size, &value);
        kmm_answer_result_with_value(r, result, value);
        return true;
    }
    if (kmm_op_is(r, "putUser")) {
        if (!ops->put_user) { kmm_unsupported(r); return true; }
        int64_t pid;
        uint64_t addr;
        int64_t size;
        uint64_t value;
        if (!(kmm_get_int(r, "pid", &pid) && kmm_get_address(r, "addr", &addr) && kmm_get_int(r, "size", &size) && kmm_get_address(r, "value", &value))) return true;
        kmm_answer_int(r, ops->put_user(pid, addr, size, value));
        return true;
    }
    if (kmm_op_is(r, "registerRemapDevice")) {
        if (!ops->register_remap_device) { kmm_unsupported(r); return true; }
        uint64_t pfn;
        int64_t pages;
        int64_t remapSize;
        if (!(kmm_get_address(r, "pfn", &pfn) && kmm_get_int(r, "pages", &pages) && kmm_get_int(r, "remapSize", &remapSize))) return true;
        kmm_answer_int(r, ops->register_remap_device(pfn, pages, remapSize));
        return true;
    }
    if (kmm_op_is(r, "registerPageListDevice")) {
        if (!ops->register_page_list_device) { kmm_unsupported(r); return true; }
        const uint64_t *pages; int64_t pages_count;
        if (!(kmm_get_address_list(r, "pages", &pages, &pages_count))) return true;
        kmm_answer_int(r, ops->register_page_list_device(pages, pages_count));
        return true;
    }
    if (kmm_op_is(r, "lastMmap")) {
        if (!ops->last_mmap) { kmm_unsupported(r); return true; }
        int64_t device;
        if (!(kmm_get_int(r, "device", &device))) return true;
        struct kmm_vma vma = {0};
        bool found = ops->last_mmap(device, &vma);
        kmm_answer_vma(r, found, &vma);
        return true;
    }
    if (kmm_op_is(r, "atomicCounters")) {
        if (!ops->atomic_counters) { kmm_unsupported(r); return true; }
        kmm_answer_int(r, ops->atomic_counters());
        return true;
    }
    if (kmm_op_is(r, "atomicRead")) {
        if (!ops->atomic_read) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        kmm_answer_int(r, ops->atomic_read(v));
        return true;
    }
    if (kmm_op_is(r, "atomicSet")) {
        if (!ops->atomic_set) { kmm_unsupported(r); return true; }
        int64_t v;
        int64_t i;
        if (!(kmm_get_int(r, "v", &v) && kmm_get_int(r, "i", &i))) return true;
        ops->atomic_set(v, i);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "atomicAdd")) {
        if (!ops->atomic_add) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        ops->atomic_add(i, v);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "atomicSub")) {
        if (!ops->atomic_sub) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        ops->atomic_sub(i, v);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "atomicInc")) {
        if (!ops->atomic_inc) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        ops->atomic_inc(v);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "atomicDec")) {
        if (!ops->atomic_dec) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        ops->atomic_dec(v);
        kmm_answer_null(r);
        return true;
    }
    if (kmm_op_is(r, "atomicAddReturn")) {
        if (!ops->atomic_add_return) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        kmm_answer_int(r, ops->atomic_add_return(i, v));
        return true;
    }
    if (kmm_op_is(r, "atomicSubReturn")) {
        if (!ops->atomic_sub_return) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        kmm_answer_int(r, ops->atomic_sub_return(i, v));
        return true;
    }
    if (kmm_op_is(r, "atomicIncReturn")) {
        if (!ops->atomic_inc_return) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        kmm_answer_int(r, ops->atomic_inc_return(v));
        return true;
    }
    if (kmm_op_is(r, "atomicDecReturn")) {
        if (!ops->atomic_dec_return) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        kmm_answer_int(r, ops->atomic_dec_return(v));
        return true;
    }
    if (kmm_op_is(r, "atomicSubAndTest")) {
        if (!ops->atomic_sub_and_test) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        kmm_answer_bool(r, ops->atomic_sub_and_test(i, v));
        return true;
    }
    if (kmm_op_is(r, "atomicDecAndTest")) {
        if (!ops->atomic_dec_and_test) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        kmm_answer_bool(r, ops->atomic_dec_and_test(v));
        return true;
    }
    if (kmm_op_is(r, "atomicIncAndTest")) {
        if (!ops->atomic_inc_and_test) { kmm_unsupported(r); return true; }
        int64_t v;
        if (!(kmm_get_int(r, "v", &v))) return true;
        kmm_answer_bool(r, ops->atomic_inc_and_test(v));
        return true;
    }
    if (kmm_op_is(r, "atomicAddNegative")) {
        if (!ops->atomic_add_negative) { kmm_unsupported(r); return true; }
        int64_t i;
        int64_t v;
        if (!(kmm_get_int(r, "i", &i) && kmm_get_int(r, "v", &v))) return true;
        kmm_answer_bool(r, ops->atomic_add_negative(i, v));
        return true;
    }
    return false;
}
#endif /* KMM_IMPLEMENTATION */
