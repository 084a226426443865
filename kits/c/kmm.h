/*
 * kmm.h: the C kit of kernel-mm-conformance. It speaks the protocol of docs/protocol.md on
 * stdin/stdout (framing, JSON, hex, version negotiation, errors, "snapshot", batched answers) so
 * that an implementation is only its allocator: fill a struct kmm_ops with callbacks and call
 * kmm_main.
 *
 *     #include "kmm.h"
 *     static const char *boot(const struct kmm_profile *p) { ... build the machine ...; return NULL; }
 *     static uint64_t get_free_pages(uint32_t gfp, int64_t order) { ... or kmm_bug("PAGE-4", "..."); }
 *     ...
 *     int main(void) {
 *         static const struct kmm_ops ops = { .name = "my-allocator", .boot = boot,
 *                                             .get_free_pages = get_free_pages, ... };
 *         return kmm_main(&ops);
 *     }
 *
 * Build: cc -O2 -std=c11 -pthread my.c kmm.c (C11 and POSIX only). A capability is declared in the hello
 * answer when every callback of its operations is set (kmm_generated.h lists them); "snapshot" is
 * answered from free_blocks (plus reclaimable_pages, sleeps, in_interrupt, in_atomic when declared).
 * Callbacks run one at a time, in request order, on the thread that reads stdin, unless the program
 * declares lanes (protocol 5, below): then a request with "cpu":k runs on lane k's own thread, lanes run
 * at the same time, and each lane's requests run in their order. kmm_generated.h is generated from the runner's
 * operation table (conformance/Engine/OutOfProcess/Operations.cs): do not edit it.
 */
#ifndef KMM_H
#define KMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Zones, in the order of every per-zone array of the protocol. */
enum kmm_zone { KMM_ZONE_DMA, KMM_ZONE_NORMAL, KMM_ZONE_HIGHMEM, KMM_NZONES };

/* GFP bits (spec/Contract/Gfp.cs; docs/protocol.md "GFP flags"). */
#define KMM_GFP_DIRECT_RECLAIM 0x001u /* may sleep */
#define KMM_GFP_IO             0x002u
#define KMM_GFP_FS             0x004u
#define KMM_GFP_HIGH           0x008u /* may use the emergency reserve */
#define KMM_GFP_DMA            0x010u /* ZONE_DMA only */
#define KMM_GFP_HIGHMEM        0x020u /* ZONE_HIGHMEM allowed (alloc_pages only) */
#define KMM_GFP_HARDWALL       0x040u
#define KMM_GFP_ZERO           0x080u
#define KMM_GFP_BUFFER         0x100u /* linux-2.4 only (profile has_gfp_buffer) */
#define KMM_GFP_KERNEL (KMM_GFP_DIRECT_RECLAIM | KMM_GFP_IO | KMM_GFP_FS)
#define KMM_GFP_ATOMIC KMM_GFP_HIGH

/* kmem_cache_create flags (spec/Contract/Slab.cs; docs/protocol.md "Slab flags"). */
#define KMM_SLAB_HWCACHE_ALIGN 0x01u
#define KMM_SLAB_CACHE_DMA     0x02u
#define KMM_SLAB_POISON        0x04u
#define KMM_SLAB_RED_ZONE      0x08u
#define KMM_SLAB_PANIC         0x10u
#define KMM_SLAB_NO_REAP       0x20u /* linux-2.4 only (profile has_slab_no_reap) */

/* ZERO_SIZE_PTR: what kmalloc(0) returns on profiles with kmalloc_zero_returns_zero_size_ptr. */
#define KMM_ZERO_SIZE_PTR 16u

/* How the CPU touches an address (protocol 3: translate, tlb_translate; spec/Contract/Translation.cs). */
enum kmm_access { KMM_ACCESS_KERNEL_READ, KMM_ACCESS_KERNEL_WRITE, KMM_ACCESS_USER_READ, KMM_ACCESS_USER_WRITE, KMM_NACCESS };

/* Why a translation faulted; KMM_FAULT_NONE for a mapped, allowed access. */
enum kmm_fault { KMM_FAULT_NONE, KMM_FAULT_NOT_PRESENT, KMM_FAULT_PROTECTION, KMM_FAULT_USER_ACCESS_TO_KERNEL, KMM_NFAULTS };

/* The result of a page-table walk: phys when fault is KMM_FAULT_NONE (answered as "0x..."), else the fault's name. */
struct kmm_translation { uint64_t phys; int fault; };

/* ---- User space (protocol 4: capabilities UserMemory, Swap, UserCopy, DriverMmap) ---- */

/* mmap/mprotect protection bits and mmap flags, with Linux's values (spec/Contract/IUserMemory.cs). */
#define KMM_PROT_NONE  0x0u
#define KMM_PROT_READ  0x1u
#define KMM_PROT_WRITE 0x2u
#define KMM_PROT_EXEC  0x4u
#define KMM_MAP_SHARED    0x01u
#define KMM_MAP_PRIVATE   0x02u
#define KMM_MAP_FIXED     0x10u
#define KMM_MAP_ANONYMOUS 0x20u
/* open(2) modes. */
enum kmm_open_mode { KMM_O_RDONLY, KMM_O_WRONLY, KMM_O_RDWR };

/* How a user-mode access ended (user_read, user_write): the signal the process got, if any. */
enum kmm_user_fault { KMM_USER_FAULT_NONE, KMM_USER_FAULT_MAP_ERROR, KMM_USER_FAULT_ACCESS_ERROR, KMM_USER_FAULT_BUS,
                      KMM_USER_FAULT_OUT_OF_MEMORY, KMM_NUSER_FAULTS };

/* What a driver's mmap method received (last_mmap): vm_start, vm_end, vm_pgoff, the PROT_ bits, shared or private. */
struct kmm_vma { uint64_t vm_start, vm_end, vm_pgoff; uint32_t vm_page_prot; bool shared; };

/* A JSON token of a request (internal to the kit, used by the generated dispatch). */
struct kmm_tok { int type; const char *s; size_t n; };
struct kmm_req;

#include "kmm_generated.h"

/*
 * Errors. Call one from a callback instead of returning a result: the kit answers the request with
 * the error and ignores the callback's return value. A refused call must change nothing.
 *   kmm_bug("PAGE-4", ...)        a caller bug the kernel's debug checks catch; names the rule
 *   kmm_invalid("order", ...)     bad input that is not a documented bug (-EINVAL); names the parameter
 *   kmm_fault(addr, ...)          read/write of an unmapped address: the first unmapped byte
 *   kmm_panic(...)                a kernel panic (SLAB_PANIC)
 */
void kmm_bug(const char *rule, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmm_invalid(const char *parameter, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmm_fault(uint64_t address, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmm_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether the current callback has reported an error. */
bool kmm_failed(void);

/* One /proc/slabinfo line; the slab_info callback calls kmm_slabinfo_line once per cache. */
struct kmm_slabinfo {
    const char *name;
    int64_t active_objects, total_objects, object_size, laid_out_size, objects_per_slab, pages_per_slab, slabs, constructor_calls;
};
void kmm_slabinfo_line(const struct kmm_slabinfo *line);

/* Zone names as the protocol spells them ("DMA", "Normal", "HighMem"). */
extern const char *const kmm_zone_names[KMM_NZONES];
/* Access and fault names as the protocol spells them ("KernelRead", ...; "NotPresent", ...). */
extern const char *const kmm_access_names[KMM_NACCESS];
extern const char *const kmm_fault_names[KMM_NFAULTS];
/* User fault names ("None", "MapError", "AccessError", "Bus", "OutOfMemory"). */
extern const char *const kmm_user_fault_names[KMM_NUSER_FAULTS];

/*
 * Protocol 5 (CPU lanes): the lanes the current hello declares (.cpus when AtomicT or Smp is declared, else 0;
 * already set when boot runs, so boot may choose locking by it), and the lane of the calling thread: 0..kmm_lanes()-1 on a lane's thread, -1 on the reader thread, which
 * runs every request without "cpu" while all lanes are idle. With 0 lanes every callback runs on the reader
 * thread, one at a time, in request order.
 */
int kmm_lanes(void);
int kmm_cpu(void);

/* Runs the protocol on stdin/stdout until end of input or "shutdown"; returns the exit status for main. */
int kmm_main(const struct kmm_ops *ops);

#endif /* KMM_H */
