/*
 * c-buddy: the page layer (buddy.c) and the slab layer (slab.c) share this machine state.
 * Everything protocol-related is in the C kit (kits/c); this program is only an allocator.
 */
#ifndef BUDDY_H
#define BUDDY_H

#include <stdbool.h>
#include <stdint.h>

#include "kmm.h"

#define MAX_ORDERS 24
#define ATOMIC_SLOTS 16

/* Frame states. */
enum { PG_TAIL, PG_FREE, PG_ALLOC, PG_CACHE, PG_SLAB };

struct zone {
    uint32_t start, end;          /* pfn range [start, end) */
    int32_t head[MAX_ORDERS];     /* free list heads, -1 when empty */
    int64_t nr_free[MAX_ORDERS];
    int64_t free_pages;
    int32_t *cache;               /* page-cache pages (a stack) */
    int64_t ncache;
};

struct machine {
    bool booted;
    bool smp;                     /* the kit runs lanes: callbacks take the big kernel lock (buddy.c) */
    const struct kmm_profile *profile;
    /* profile values */
    uint64_t page_size, page_offset, dma_limit, highmem_start, phys, pkmap_base;
    bool has_highmem_start, gfp_buffer;
    int page_shift, max_order;
    int64_t reserve;
    uint32_t pkmap_slots;
    /* derived */
    uint32_t frames, low_end;     /* low_end: first pfn without a direct mapping */
    uint64_t atomic_base;
    /* mem_map */
    uint32_t cap;                 /* frames the arrays below can hold */
    uint8_t *state, *order;
    int32_t *next, *prev, *kmap_slot;
    int32_t *slab;                /* PG_SLAB frames: the owning slab (slab.c), -1 otherwise */
    uint8_t **data;
    uint32_t *touched;            /* frames given a data page since boot (a boot frees only those) */
    uint32_t ntouched, cap_touched;
    struct zone zone[KMM_NZONES];
    /* context */
    int64_t preempt, irq, sleeps;
    /* kmaps */
    int32_t *slot_pfn, *slot_count;
    uint32_t slot_hint;
    int atomic_depth;
    int32_t atomic_pfn[ATOMIC_SLOTS];
    uint64_t atomic_addr[ATOMIC_SLOTS];
};

extern struct machine m;

/* ---- Page layer (buddy.c), used by the slab layer -------------------------------------------- */

bool in_atomic(void);
uint64_t pfn_to_virt(uint32_t pfn);
bool in_direct_map(uint64_t addr);
/* __alloc_pages: checks (gfp, order, GFP-1), zones, reserve, reclaim. Returns the head pfn or -1 (with a kmm error on a refusal). */
int64_t alloc_pfn(int64_t gfp, int64_t order, bool strip_highmem, const char *caller);
/* Gives a block back to the buddy lists (no checks). */
void buddy_free(uint32_t pfn, int order);
/* Copies between kernel memory (direct-mapped) and a buffer; the range must be mapped. */
void mem_access(uint64_t addr, uint8_t *buf, int64_t len, bool writing);
void mem_fill(uint64_t addr, int64_t len, uint8_t value);
void *grow(void *p, size_t n);
/* Whether an unknown GFP bit (or GFP_BUFFER where the profile lacks it) is set. */
bool gfp_unknown(int64_t gfp);

/* ---- Slab layer (slab.c) ---------------------------------------------------------------------- */

const char *slab_boot(void);
int64_t slab_shrink_all(void);
/* The callbacks of the Kmalloc and SlabCache capabilities. */
uint64_t km_kmalloc(int64_t size, uint32_t gfp);
uint64_t km_kzalloc(int64_t size, uint32_t gfp);
uint64_t km_krealloc(uint64_t p, int64_t size, uint32_t gfp);
void km_kfree(uint64_t p);
int64_t km_ksize(uint64_t p);
uint64_t kc_create(const char *name, int64_t size, int64_t align, uint32_t flags, int ctor);
uint64_t kc_alloc(uint64_t cache, uint32_t gfp);
void kc_free(uint64_t cache, uint64_t obj);
int64_t kc_shrink(uint64_t cache);
int64_t kc_destroy(uint64_t cache);
void kc_slab_info(void);
int64_t kc_reap(void);

/* ---- atomic_t (atomic.c) --------------------------------------------------------------------- */

void atomic_boot(void);
/* The callbacks of the AtomicT capability (the kernel's argument order: the operand i, then the counter v). */
int64_t atomic_counters(void);
int64_t atomic_read(int64_t v);
void atomic_set(int64_t v, int64_t i);
void atomic_add(int64_t i, int64_t v);
void atomic_sub(int64_t i, int64_t v);
void atomic_inc(int64_t v);
void atomic_dec(int64_t v);
int64_t atomic_add_return(int64_t i, int64_t v);
int64_t atomic_sub_return(int64_t i, int64_t v);
int64_t atomic_inc_return(int64_t v);
int64_t atomic_dec_return(int64_t v);
bool atomic_sub_and_test(int64_t i, int64_t v);
bool atomic_dec_and_test(int64_t v);
bool atomic_inc_and_test(int64_t v);
bool atomic_add_negative(int64_t i, int64_t v);

#endif
