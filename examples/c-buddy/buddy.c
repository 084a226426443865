/*
 * c-buddy: a buddy page allocator with a kmalloc and slab layer (slab.c), judged by the suite through
 * the protocol of docs/protocol.md. The C kit (kits/c/kmm.h) does all the protocol work: this file
 * is the page layer and a table of callbacks.
 *
 * Declares PageAllocator, ExecutionContext, Highmem, Reclaim, Kmalloc, SlabCache, AtomicT (atomic.c) and
 * Smp: with protocol 5 the kit runs 4 lanes (threads standing for CPUs), and every callback but atomic_t's
 * holds one big lock while lanes exist (see "Big kernel lock" below). C11, libc and pthreads.
 * Build: make (or gcc -O2 -std=c11 -pthread -I../../kits/c buddy.c slab.c atomic.c ../../kits/c/kmm.c).
 *
 * Deliberately broken variants, for showing that the suite catches them:
 *   -DBROKEN_COALESCE   freed buddies are never merged              (the suite reports PAGE-8)
 *   -DBROKEN_FREE_ORDER free_pages accepts any order for a block     (the suite reports PAGE-4)
 *   -DBROKEN_RED_ZONE   kmem_cache_free never checks the red zones   (the suite reports SLAB-9; slab.c)
 *   -DRACY_ATOMIC       atomic_t read-modify-writes are load, yield, store (the suite reports ATOM-1; atomic.c)
 *
 * Model: every frame has a state (tail of a block, head of a free block, head of an allocation,
 * page-cache page, slab page) and an order; each zone has one doubly linked free list per order.
 * Page contents are stored lazily, one calloc'ed page per frame on first write (NULL reads as
 * zeros), so even 2 GiB profiles cost only what the suite writes.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

#if defined(BROKEN_COALESCE)
#define VARIANT " (BROKEN_COALESCE)"
#elif defined(BROKEN_FREE_ORDER)
#define VARIANT " (BROKEN_FREE_ORDER)"
#elif defined(BROKEN_RED_ZONE)
#define VARIANT " (BROKEN_RED_ZONE)"
#elif defined(RACY_ATOMIC)
#define VARIANT " (RACY_ATOMIC)"
#else
#define VARIANT ""
#endif

#define RECLAIM_BATCH 32
#define GFP_KNOWN 0x1ffu

struct machine m;

/* ---- mem_map and free lists ------------------------------------------------------------------ */

bool in_atomic(void) { return m.preempt > 0 || m.irq > 0; }
static bool is_low(uint32_t pfn) { return pfn < m.low_end; }
uint64_t pfn_to_virt(uint32_t pfn) { return m.page_offset + ((uint64_t)pfn << m.page_shift); }
bool in_direct_map(uint64_t addr) { return addr >= m.page_offset && addr - m.page_offset < ((uint64_t)m.low_end << m.page_shift); }
bool gfp_unknown(int64_t gfp) { return gfp < 0 || (gfp & ~(int64_t)GFP_KNOWN) || ((gfp & KMM_GFP_BUFFER) && !m.gfp_buffer); }

static int zone_of(uint32_t pfn)
{
    for (int z = 0; z < KMM_NZONES; z++)
        if (pfn >= m.zone[z].start && pfn < m.zone[z].end) return z;
    return KMM_ZONE_DMA;
}

static void add_free(struct zone *z, uint32_t pfn, int order)
{
    m.state[pfn] = PG_FREE;
    m.order[pfn] = (uint8_t)order;
    m.next[pfn] = z->head[order];
    m.prev[pfn] = -1;
    if (z->head[order] >= 0) m.prev[z->head[order]] = (int32_t)pfn;
    z->head[order] = (int32_t)pfn;
    z->nr_free[order]++;
}

static void del_free(struct zone *z, uint32_t pfn, int order)
{
    int32_t n = m.next[pfn], p = m.prev[pfn];
    if (p >= 0) m.next[p] = n; else z->head[order] = n;
    if (n >= 0) m.prev[n] = p;
    z->nr_free[order]--;
    m.state[pfn] = PG_TAIL;
}

/* __free_one_page: merge with the buddy while it is a free block of the same order in the zone. */
void buddy_free(uint32_t pfn, int order)
{
    struct zone *z = &m.zone[zone_of(pfn)];
    z->free_pages += (int64_t)1 << order;
    m.state[pfn] = PG_TAIL;
#ifndef BROKEN_COALESCE
    while (order < m.max_order) {
        uint32_t buddy = pfn ^ (1u << order);
        if (buddy < z->start || buddy >= z->end || m.state[buddy] != PG_FREE || m.order[buddy] != order) break;
        del_free(z, buddy, order);
        pfn &= buddy;
        order++;
    }
#endif
    add_free(z, pfn, order);
}

/* __rmqueue_smallest + expand: the smallest free block of at least this order, split down. */
static int64_t rmqueue(struct zone *z, int order)
{
    for (int cur = order; cur <= m.max_order; cur++) {
        if (z->head[cur] < 0) continue;
        uint32_t pfn = (uint32_t)z->head[cur];
        del_free(z, pfn, cur);
        while (cur > order) {
            cur--;
            add_free(z, pfn + (1u << cur), cur);
        }
        m.state[pfn] = PG_ALLOC;
        m.order[pfn] = (uint8_t)order;
        z->free_pages -= (int64_t)1 << order;
        return pfn;
    }
    return -1;
}

/* get_page_from_freelist: first allowed zone with a block; without __GFP_HIGH keep the reserve (GFP-3). */
static int64_t get_page(const int *zl, int nz, int order, bool reserve_ok)
{
    if (!reserve_ok) {
        int64_t free = 0;
        for (int i = 0; i < nz; i++) free += m.zone[zl[i]].free_pages;
        if (free - ((int64_t)1 << order) < m.reserve) return -1;
    }
    for (int i = 0; i < nz; i++) {
        struct zone *z = &m.zone[zl[i]];
        if (z->free_pages < ((int64_t)1 << order)) continue;
        int64_t pfn = rmqueue(z, order);
        if (pfn >= 0) return pfn;
    }
    return -1;
}

static void zero_block(uint32_t pfn, int order)
{
    for (uint32_t f = pfn; f < pfn + (1u << order); f++) { free(m.data[f]); m.data[f] = NULL; }
}

/* ---- Page cache (Reclaim) ------------------------------------------------------------------- */

static int64_t fill_page_cache(int64_t n)
{
    if (n < 0) { kmm_invalid("pages", "negative page count %lld", (long long)n); return 0; }
    static const int any[] = { KMM_ZONE_HIGHMEM, KMM_ZONE_NORMAL, KMM_ZONE_DMA };
    int64_t added = 0;
    for (; added < n; added++) {
        int64_t pfn = get_page(any, 3, 0, false);
        if (pfn < 0) break;
        m.state[pfn] = PG_CACHE;
        struct zone *z = &m.zone[zone_of((uint32_t)pfn)];
        z->cache[z->ncache++] = (int32_t)pfn;
    }
    return added;
}

/* shrink_zones for one allocation: drops up to a batch of clean pages, sleeping once. */
static int reclaim(const int *zl, int nz)
{
    int freed = 0;
    for (int i = 0; i < nz; i++) {
        struct zone *z = &m.zone[zl[i]];
        while (freed < RECLAIM_BATCH && z->ncache > 0) {
            buddy_free((uint32_t)z->cache[--z->ncache], 0);
            freed++;
        }
    }
    if (freed > 0) m.sleeps++;
    return freed;
}

static void drop_page_cache(void)
{
    for (int z = 0; z < KMM_NZONES; z++)
        while (m.zone[z].ncache > 0) buddy_free((uint32_t)m.zone[z].cache[--m.zone[z].ncache], 0);
}

static int64_t reclaimable_pages(int zone) { return m.zone[zone].ncache; }

/* ---- Allocation and free -------------------------------------------------------------------- */

/* __alloc_pages: checks, fast path, then reclaim for callers that may sleep. Returns pfn or -1. */
int64_t alloc_pfn(int64_t gfp, int64_t order, bool strip_highmem, const char *caller)
{
    if (order < 0) { kmm_invalid("order", "%s: negative order %lld", caller, (long long)order); return -1; }
    if (gfp_unknown(gfp)) { kmm_invalid("gfp", "%s: gfp 0x%llx is not known to this profile", caller, (long long)gfp); return -1; }
    if (strip_highmem) gfp &= ~(int64_t)KMM_GFP_HIGHMEM;
    if (order > m.max_order) return -1;   /* PAGE-2: above the largest order, NULL */
    bool blocking = gfp & KMM_GFP_DIRECT_RECLAIM;
    if (blocking && in_atomic()) {
        kmm_bug("GFP-1", "sleeping function called from invalid context: %s(gfp 0x%llx, order %lld) (in_interrupt: %lld, preempt depth: %lld)",
                caller, (long long)gfp, (long long)order, (long long)m.irq, (long long)m.preempt);
        return -1;
    }
    int zl[3], nz = 0;
    if (gfp & KMM_GFP_DMA) zl[nz++] = KMM_ZONE_DMA;
    else {
        if (gfp & KMM_GFP_HIGHMEM) zl[nz++] = KMM_ZONE_HIGHMEM;
        zl[nz++] = KMM_ZONE_NORMAL;
        zl[nz++] = KMM_ZONE_DMA;
    }
    int64_t pfn = get_page(zl, nz, (int)order, gfp & KMM_GFP_HIGH);
    while (pfn < 0 && blocking && reclaim(zl, nz) > 0) pfn = get_page(zl, nz, (int)order, gfp & KMM_GFP_HIGH);
    if (pfn >= 0 && (gfp & KMM_GFP_ZERO)) zero_block((uint32_t)pfn, (int)order);
    return pfn;
}

static void free_checked(uint32_t pfn, int64_t order, const char *caller)
{
    if (m.state[pfn] != PG_ALLOC) {
        if (m.state[pfn] == PG_FREE) kmm_bug("PAGE-4", "%s: double free of pfn 0x%x", caller, pfn);
        else if (m.state[pfn] == PG_SLAB) kmm_bug("PAGE-4", "%s: pfn 0x%x belongs to the slab allocator (kfree it)", caller, pfn);
        else kmm_bug("PAGE-4", "%s: pfn 0x%x is not the first page of an allocation", caller, pfn);
        return;
    }
#ifndef BROKEN_FREE_ORDER
    if (m.order[pfn] != order) {
        kmm_bug("PAGE-4", "%s: pfn 0x%x freed with order %lld, allocated with order %d", caller, pfn, (long long)order, m.order[pfn]);
        return;
    }
#else
    (void)order; /* BROKEN: the recorded order is freed, whatever the caller says */
#endif
    if (!is_low(pfn) && m.kmap_slot[pfn] >= 0) { kmm_bug("ZONE-4", "%s: pfn 0x%x is still kmapped", caller, pfn); return; }
    buddy_free(pfn, m.order[pfn]);
}

static uint64_t get_free_pages(uint32_t gfp, int64_t order)
{
    int64_t pfn = alloc_pfn(gfp, order, true, "__get_free_pages");
    return pfn < 0 ? 0 : pfn_to_virt((uint32_t)pfn);
}

static uint64_t get_zeroed_page(uint32_t gfp)
{
    int64_t pfn = alloc_pfn((int64_t)gfp | KMM_GFP_ZERO, 0, true, "get_zeroed_page");
    return pfn < 0 ? 0 : pfn_to_virt((uint32_t)pfn);
}

static uint64_t alloc_pages(uint32_t gfp, int64_t order)
{
    int64_t pfn = alloc_pfn(gfp, order, false, "alloc_pages");
    return pfn < 0 ? 0 : (uint64_t)pfn + 1;   /* page handle: pfn + 1 */
}

static void free_pages(uint64_t addr, int64_t order)
{
    if (addr == 0) return;
    if (!in_direct_map(addr) || (addr & (m.page_size - 1)))
        kmm_bug("PAGE-4", "free_pages(0x%llx, %lld): not the address of a page allocation", (unsigned long long)addr, (long long)order);
    else free_checked((uint32_t)((addr - m.page_offset) >> m.page_shift), order, "free_pages");
}

static void free_pages_of(uint64_t page, int64_t order)
{
    if (page == 0) return;
    if (page > m.frames) kmm_bug("PAGE-4", "__free_pages(0x%llx, %lld): not a page descriptor", (unsigned long long)page, (long long)order);
    else free_checked((uint32_t)(page - 1), order, "__free_pages");
}

static bool page_pfn(uint64_t page, uint32_t *pfn)
{
    if (page == 0 || page > m.frames) { kmm_invalid("page", "0x%llx is not a page descriptor", (unsigned long long)page); return false; }
    *pfn = (uint32_t)(page - 1);
    return true;
}

static uint64_t page_to_pfn(uint64_t page)
{
    uint32_t pfn = 0;
    page_pfn(page, &pfn);
    return pfn;
}

static uint64_t pfn_to_page(uint64_t pfn)
{
    if (pfn >= m.frames) { kmm_invalid("pfn", "pfn 0x%llx is beyond RAM", (unsigned long long)pfn); return 0; }
    return pfn + 1;
}

static uint64_t kmap_addr(int32_t slot) { return m.pkmap_base + ((uint64_t)slot << m.page_shift); }

static uint64_t page_address(uint64_t page)
{
    uint32_t pfn;
    if (!page_pfn(page, &pfn)) return 0;
    if (is_low(pfn)) return pfn_to_virt(pfn);
    int32_t s = m.kmap_slot[pfn];
    return s >= 0 ? kmap_addr(s) : 0;
}

static int page_zone(uint64_t page)
{
    uint32_t pfn;
    return page_pfn(page, &pfn) ? zone_of(pfn) : 0;
}

static uint64_t virt_to_phys(uint64_t addr)
{
    if (in_direct_map(addr)) return addr - m.page_offset;
    kmm_invalid("addr", "virt_to_phys(0x%llx): not a direct-mapped address", (unsigned long long)addr);
    return 0;
}

static int64_t free_blocks(int zone, int64_t order) { return order < 0 || order > m.max_order ? 0 : m.zone[zone].nr_free[order]; }

/* No per-CPU lists: draining gives back the slab layer's empty slabs. */
static void drain_caches(void) { slab_shrink_all(); }

/* ---- Kernel virtual addresses ------------------------------------------------------------- */

static bool translate(uint64_t addr, uint32_t *pfn)
{
    if (in_direct_map(addr)) { *pfn = (uint32_t)((addr - m.page_offset) >> m.page_shift); return true; }
    if (m.pkmap_slots > 0 && addr >= m.pkmap_base && addr < m.atomic_base) {
        int32_t p = m.slot_pfn[(addr - m.pkmap_base) >> m.page_shift];
        if (p < 0) return false;
        *pfn = (uint32_t)p;
        return true;
    }
    if (m.pkmap_slots > 0 && addr >= m.atomic_base && addr < m.atomic_base + ((uint64_t)ATOMIC_SLOTS << m.page_shift)) {
        int slot = (int)((addr - m.atomic_base) >> m.page_shift);
        if (slot >= m.atomic_depth || m.atomic_addr[slot] >> m.page_shift != addr >> m.page_shift) return false;
        *pfn = (uint32_t)m.atomic_pfn[slot];
        return true;
    }
    return false;
}

/* Checks the whole range first, so that a faulting access changes nothing. */
static bool check_mapped(uint64_t addr, int64_t len)
{
    uint32_t pfn;
    for (int64_t done = 0; done < len;) {
        uint64_t at = addr + (uint64_t)done;
        if (!translate(at, &pfn)) { kmm_fault(at, "no kernel mapping"); return false; }
        done += (int64_t)(m.page_size - (at & (m.page_size - 1)));
    }
    return true;
}

void mem_access(uint64_t addr, uint8_t *buf, int64_t len, bool writing)
{
    for (int64_t done = 0; done < len;) {
        uint64_t at = addr + (uint64_t)done;
        uint32_t pfn = 0;
        translate(at, &pfn);
        size_t off = (size_t)(at & (m.page_size - 1));
        size_t n = (size_t)(m.page_size - off);
        if ((int64_t)n > len - done) n = (size_t)(len - done);
        if (writing) {
            if (!m.data[pfn]) {
                if (!(m.data[pfn] = calloc(1, m.page_size))) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
                if (m.ntouched == m.cap_touched) {
                    m.cap_touched = m.cap_touched ? m.cap_touched * 2 : 1024;
                    m.touched = grow(m.touched, m.cap_touched * sizeof *m.touched);
                }
                m.touched[m.ntouched++] = pfn;
            }
            memcpy(m.data[pfn] + off, buf + done, n);
        } else if (m.data[pfn]) memcpy(buf + done, m.data[pfn] + off, n);
        else memset(buf + done, 0, n);
        done += (int64_t)n;
    }
}

void mem_fill(uint64_t addr, int64_t len, uint8_t value)
{
    uint8_t chunk[512];
    memset(chunk, value, sizeof chunk);
    for (int64_t done = 0; done < len;) {
        int64_t n = len - done < (int64_t)sizeof chunk ? len - done : (int64_t)sizeof chunk;
        mem_access(addr + (uint64_t)done, chunk, n, true);
        done += n;
    }
}

static void read_mem(uint64_t addr, int64_t len, uint8_t *out)
{
    if (check_mapped(addr, len)) mem_access(addr, out, len, false);
}

static void write_mem(uint64_t addr, const uint8_t *data, int64_t len)
{
    if (check_mapped(addr, len)) mem_access(addr, (uint8_t *)data, len, true);
}

/* ---- Execution context ------------------------------------------------------------------------ */

static void preempt_disable(void) { m.preempt++; }
static void preempt_enable(void)
{
    if (m.preempt == 0) kmm_bug("GFP-5", "preempt_enable() without preempt_disable() (preempt_count underflow)");
    else m.preempt--;
}
static void irq_enter(void) { m.irq++; }
static void irq_exit(void)
{
    if (m.irq == 0) kmm_bug("GFP-5", "irq_exit() outside an interrupt (hardirq count underflow)");
    else m.irq--;
}
static bool in_interrupt(void) { return m.irq > 0; }
static bool in_atomic_cb(void) { return in_atomic(); }
static int64_t sleeps(void) { return m.sleeps; }

/* ---- Highmem ---------------------------------------------------------------------------------- */

static uint64_t kmap(uint64_t page)
{
    uint32_t pfn;
    if (!page_pfn(page, &pfn)) return 0;
    if (in_atomic()) {
        kmm_bug("GFP-1", "sleeping function called from invalid context: kmap (in_interrupt: %lld, preempt depth: %lld)", (long long)m.irq, (long long)m.preempt);
        return 0;
    }
    if (is_low(pfn)) return pfn_to_virt(pfn);
    int32_t s = m.kmap_slot[pfn];
    if (s >= 0) { m.slot_count[s]++; return kmap_addr(s); }
    for (uint32_t i = 0; i < m.pkmap_slots; i++) {
        uint32_t c = (m.slot_hint + i) % m.pkmap_slots;
        if (m.slot_pfn[c] >= 0) continue;
        m.slot_pfn[c] = (int32_t)pfn;
        m.slot_count[c] = 1;
        m.kmap_slot[pfn] = (int32_t)c;
        m.slot_hint = c + 1;
        return kmap_addr((int32_t)c);
    }
    kmm_bug("ZONE-4", "kmap: every PKMAP slot is in use");
    return 0;
}

static void kunmap(uint64_t page)
{
    uint32_t pfn;
    if (!page_pfn(page, &pfn) || is_low(pfn)) return;
    int32_t s = m.kmap_slot[pfn];
    if (s < 0) { kmm_bug("ZONE-4", "kunmap of pfn 0x%x, which is not kmapped", pfn); return; }
    if (--m.slot_count[s] == 0) { m.slot_pfn[s] = -1; m.kmap_slot[pfn] = -1; }
}

static uint64_t kmap_atomic(uint64_t page)
{
    uint32_t pfn;
    if (!page_pfn(page, &pfn)) return 0;
    if (m.atomic_depth == ATOMIC_SLOTS) { kmm_bug("ZONE-4", "kmap_atomic: all atomic kmap slots are in use"); return 0; }
    uint64_t addr = is_low(pfn) ? pfn_to_virt(pfn) : m.atomic_base + ((uint64_t)m.atomic_depth << m.page_shift);
    m.atomic_pfn[m.atomic_depth] = (int32_t)pfn;
    m.atomic_addr[m.atomic_depth++] = addr;
    return addr;
}

static void kunmap_atomic(uint64_t addr)
{
    if (m.atomic_depth == 0 || addr >> m.page_shift != m.atomic_addr[m.atomic_depth - 1] >> m.page_shift) {
        kmm_bug("ZONE-4", "kunmap_atomic(0x%llx) does not match the last kmap_atomic", (unsigned long long)addr);
        return;
    }
    m.atomic_depth--;
}

/* ---- Boot --------------------------------------------------------------------------------- */

void *grow(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
    return q;
}

/* Resets everything and hands every frame to the buddy lists in the largest aligned blocks. */
static const char *boot(const struct kmm_profile *p)
{
    if (!p->page_size_given || !p->page_offset_given || !p->dma_limit_given || !p->physical_memory_given
        || !p->max_order_given || !p->emergency_reserve_pages_given)
        return "the profile lacks a field c-buddy needs";
    m.profile = p;
    m.page_size = (uint64_t)p->page_size;
    m.page_offset = p->page_offset;
    m.dma_limit = p->dma_limit;
    m.phys = p->physical_memory;
    m.max_order = (int)p->max_order;
    m.reserve = p->emergency_reserve_pages;
    m.has_highmem_start = p->highmem_start_given;
    m.highmem_start = p->highmem_start;
    m.gfp_buffer = p->has_gfp_buffer;
    m.pkmap_base = p->pkmap_base;
    m.pkmap_slots = p->pkmap_slots > 0 && p->pkmap_slots < (1 << 20) ? (uint32_t)p->pkmap_slots : 0;
    if (m.page_size < 512 || (m.page_size & (m.page_size - 1))) return "page size must be a power of two of at least 512";
    if (m.max_order < 0 || m.max_order >= MAX_ORDERS) return "max order out of range";
    if (m.phys == 0 || m.phys % m.page_size) return "physical memory must be a multiple of the page size";
    if (m.phys / m.page_size > (1u << 30)) return "too many frames";
    m.page_shift = __builtin_ctzll(m.page_size);
    for (uint32_t i = 0; i < m.ntouched; i++) { free(m.data[m.touched[i]]); m.data[m.touched[i]] = NULL; }
    m.ntouched = 0;
    m.booted = false;
    m.frames = (uint32_t)(m.phys >> m.page_shift);
    if (m.frames > m.cap) {
        m.state = grow(m.state, m.frames);
        m.order = grow(m.order, m.frames);
        m.next = grow(m.next, m.frames * sizeof(int32_t));
        m.prev = grow(m.prev, m.frames * sizeof(int32_t));
        m.kmap_slot = grow(m.kmap_slot, m.frames * sizeof(int32_t));
        m.slab = grow(m.slab, m.frames * sizeof(int32_t));
        m.data = grow(m.data, m.frames * sizeof(uint8_t *));
        for (uint32_t f = m.cap; f < m.frames; f++) m.data[f] = NULL;
        for (int z = 0; z < KMM_NZONES; z++) m.zone[z].cache = grow(m.zone[z].cache, m.frames * sizeof(int32_t));
        m.cap = m.frames;
    }
    memset(m.state, PG_TAIL, m.frames);
    memset(m.order, 0, m.frames);
    memset(m.kmap_slot, 0xff, m.frames * sizeof(int32_t));
    memset(m.slab, 0xff, m.frames * sizeof(int32_t));

    uint64_t dma_end = m.dma_limit < m.phys ? m.dma_limit : m.phys;
    uint64_t low_end = m.has_highmem_start && m.highmem_start < m.phys ? m.highmem_start : m.phys;
    uint64_t normal_end = low_end > dma_end ? low_end : dma_end;
    uint64_t span[KMM_NZONES][2] = { { 0, dma_end }, { dma_end, normal_end }, { low_end, m.phys } };
    m.low_end = (uint32_t)(low_end >> m.page_shift);
    for (int zi = 0; zi < KMM_NZONES; zi++) {
        struct zone *z = &m.zone[zi];
        z->start = (uint32_t)(span[zi][0] >> m.page_shift);
        z->end = (uint32_t)(span[zi][1] >> m.page_shift);
        for (int o = 0; o < MAX_ORDERS; o++) { z->head[o] = -1; z->nr_free[o] = 0; }
        z->free_pages = 0;
        z->ncache = 0;
        for (uint32_t pfn = z->start; pfn < z->end;) {
            int o = m.max_order;
            while (o > 0 && ((pfn & ((1u << o) - 1)) || pfn + (1u << o) > z->end)) o--;
            add_free(z, pfn, o);
            z->free_pages += (int64_t)1 << o;
            pfn += 1u << o;
        }
    }
    m.preempt = m.irq = m.sleeps = 0;
    m.slot_pfn = grow(m.slot_pfn, m.pkmap_slots * sizeof(int32_t));
    m.slot_count = grow(m.slot_count, m.pkmap_slots * sizeof(int32_t));
    memset(m.slot_pfn, 0xff, m.pkmap_slots * sizeof(int32_t));
    memset(m.slot_count, 0, m.pkmap_slots * sizeof(int32_t));
    m.slot_hint = 0;
    m.atomic_depth = 0;
    m.atomic_base = m.pkmap_base + ((uint64_t)m.pkmap_slots << m.page_shift);
    const char *why = slab_boot();
    if (why) return why;
    atomic_boot();
    m.smp = kmm_lanes() > 0; /* hello runs while every lane is idle: no lane holds the lock now */
    m.booted = true;
    return NULL;
}

/* ---- Big kernel lock ---------------------------------------------------------------------------
 * SMP safety the way Linux 2.0 had it: one lock around every page, context, highmem, reclaim, kmalloc and
 * slab callback, so lanes calling them at once take turns and the allocator stays single-threaded code.
 * Taken only on a lane's thread when the kit runs lanes (m.smp, from kmm_lanes() at boot; kmm_cpu() >= 0):
 * a request without "cpu" runs on the reading thread while every lane is idle, so it needs no lock, and
 * without lanes every call comes from that thread, one at a time. atomic_t needs no lock (atomic.c). */

static pthread_mutex_t big_kernel_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether the calling thread is one of the kit's lanes (kmm_cpu() >= 0), asked once per thread. */
static _Thread_local int on_lane = -1;

static bool lane_thread(void)
{
    if (on_lane < 0) on_lane = kmm_cpu() >= 0;
    return on_lane;
}

/* The unlocked call is alone on its path (the locked one out of line), so it costs one test of m.smp. */
#define LOCKED(type, name, params, args) \
    static __attribute__((noinline)) type locked_##name params \
    { \
        pthread_mutex_lock(&big_kernel_lock); \
        type r = name args; \
        pthread_mutex_unlock(&big_kernel_lock); \
        return r; \
    } \
    static type smp_##name params { return m.smp && lane_thread() ? locked_##name args : name args; }
#define LOCKED_VOID(name, params, args) \
    static __attribute__((noinline)) void locked_##name params \
    { \
        pthread_mutex_lock(&big_kernel_lock); \
        name args; \
        pthread_mutex_unlock(&big_kernel_lock); \
    } \
    static void smp_##name params { if (m.smp && lane_thread()) locked_##name args; else name args; }

LOCKED(uint64_t, get_free_pages, (uint32_t gfp, int64_t order), (gfp, order))
LOCKED(uint64_t, get_zeroed_page, (uint32_t gfp), (gfp))
LOCKED_VOID(free_pages, (uint64_t addr, int64_t order), (addr, order))
LOCKED(uint64_t, alloc_pages, (uint32_t gfp, int64_t order), (gfp, order))
LOCKED_VOID(free_pages_of, (uint64_t page, int64_t order), (page, order))
LOCKED(uint64_t, page_to_pfn, (uint64_t page), (page))
LOCKED(uint64_t, pfn_to_page, (uint64_t pfn), (pfn))
LOCKED(uint64_t, page_address, (uint64_t page), (page))
LOCKED(int, page_zone, (uint64_t page), (page))
LOCKED(uint64_t, virt_to_phys, (uint64_t addr), (addr))
LOCKED(int64_t, free_blocks, (int zone, int64_t order), (zone, order))
LOCKED_VOID(drain_caches, (void), ())
LOCKED_VOID(read_mem, (uint64_t addr, int64_t len, uint8_t *out), (addr, len, out))
LOCKED_VOID(write_mem, (uint64_t addr, const uint8_t *data, int64_t len), (addr, data, len))
LOCKED_VOID(preempt_disable, (void), ())
LOCKED_VOID(preempt_enable, (void), ())
LOCKED_VOID(irq_enter, (void), ())
LOCKED_VOID(irq_exit, (void), ())
LOCKED(bool, in_interrupt, (void), ())
LOCKED(bool, in_atomic_cb, (void), ())
LOCKED(int64_t, sleeps, (void), ())
LOCKED(uint64_t, kmap, (uint64_t page), (page))
LOCKED_VOID(kunmap, (uint64_t page), (page))
LOCKED(uint64_t, kmap_atomic, (uint64_t page), (page))
LOCKED_VOID(kunmap_atomic, (uint64_t addr), (addr))
LOCKED(int64_t, fill_page_cache, (int64_t n), (n))
LOCKED(int64_t, reclaimable_pages, (int zone), (zone))
LOCKED_VOID(drop_page_cache, (void), ())
LOCKED(uint64_t, km_kmalloc, (int64_t size, uint32_t gfp), (size, gfp))
LOCKED(uint64_t, km_kzalloc, (int64_t size, uint32_t gfp), (size, gfp))
LOCKED(uint64_t, km_krealloc, (uint64_t p, int64_t size, uint32_t gfp), (p, size, gfp))
LOCKED_VOID(km_kfree, (uint64_t p), (p))
LOCKED(int64_t, km_ksize, (uint64_t p), (p))
LOCKED(uint64_t, kc_create, (const char *name, int64_t size, int64_t align, uint32_t flags, int ctor), (name, size, align, flags, ctor))
LOCKED(uint64_t, kc_alloc, (uint64_t cache, uint32_t gfp), (cache, gfp))
LOCKED_VOID(kc_free, (uint64_t cache, uint64_t obj), (cache, obj))
LOCKED(int64_t, kc_shrink, (uint64_t cache), (cache))
LOCKED(int64_t, kc_destroy, (uint64_t cache), (cache))
LOCKED_VOID(kc_slab_info, (void), ())
LOCKED(int64_t, kc_reap, (void), ())

int main(void)
{
    static const struct kmm_ops ops = {
        .name = "c-buddy" VARIANT,
        .boot = boot,
        .cpus = 4, .smp = true,
        .get_free_pages = smp_get_free_pages, .get_zeroed_page = smp_get_zeroed_page, .free_pages = smp_free_pages,
        .alloc_pages = smp_alloc_pages, .free_pages_of = smp_free_pages_of, .page_to_pfn = smp_page_to_pfn,
        .pfn_to_page = smp_pfn_to_page, .page_address = smp_page_address, .page_zone = smp_page_zone,
        .virt_to_phys = smp_virt_to_phys, .free_blocks = smp_free_blocks, .drain_caches = smp_drain_caches,
        .read = smp_read_mem, .write = smp_write_mem,
        .preempt_disable = smp_preempt_disable, .preempt_enable = smp_preempt_enable, .irq_enter = smp_irq_enter,
        .irq_exit = smp_irq_exit, .in_interrupt = smp_in_interrupt, .in_atomic = smp_in_atomic_cb, .sleeps = smp_sleeps,
        .kmap = smp_kmap, .kunmap = smp_kunmap, .kmap_atomic = smp_kmap_atomic, .kunmap_atomic = smp_kunmap_atomic,
        .fill_page_cache = smp_fill_page_cache, .reclaimable_pages = smp_reclaimable_pages, .drop_page_cache = smp_drop_page_cache,
        .kmalloc = smp_km_kmalloc, .kzalloc = smp_km_kzalloc, .krealloc = smp_km_krealloc, .kfree = smp_km_kfree, .ksize = smp_km_ksize,
        .kmem_cache_create = smp_kc_create, .kmem_cache_alloc = smp_kc_alloc, .kmem_cache_free = smp_kc_free,
        .kmem_cache_shrink = smp_kc_shrink, .kmem_cache_destroy = smp_kc_destroy, .slab_info = smp_kc_slab_info,
        .reap_caches = smp_kc_reap,
        .atomic_counters = atomic_counters, .atomic_read = atomic_read, .atomic_set = atomic_set, .atomic_add = atomic_add,
        .atomic_sub = atomic_sub, .atomic_inc = atomic_inc, .atomic_dec = atomic_dec, .atomic_add_return = atomic_add_return,
        .atomic_sub_return = atomic_sub_return, .atomic_inc_return = atomic_inc_return, .atomic_dec_return = atomic_dec_return,
        .atomic_sub_and_test = atomic_sub_and_test, .atomic_dec_and_test = atomic_dec_and_test,
        .atomic_inc_and_test = atomic_inc_and_test, .atomic_add_negative = atomic_add_negative,
    };
    return kmm_main(&ops);
}
