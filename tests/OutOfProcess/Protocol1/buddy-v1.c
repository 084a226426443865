/*
 * c-buddy: a small buddy page allocator that speaks the kernel-mm-conformance protocol
 * (docs/protocol.md): one JSON request per line on stdin, one JSON answer per line on stdout.
 *
 * Declares PageAllocator, ExecutionContext, Highmem and Reclaim, and offers the "snapshot" bulk
 * query. C11 and libc only. Build: make (or gcc -O2 -std=c11 -o buddy buddy.c).
 *
 * Deliberately broken variants, for showing that the suite catches them:
 *   -DBROKEN_COALESCE   freed buddies are never merged              (the suite reports PAGE-8)
 *   -DBROKEN_FREE_ORDER free_pages accepts any order for a block     (the suite reports PAGE-4)
 *
 * Model: every frame has a state (tail of a block, head of a free block, head of an allocation,
 * page-cache page) and an order; each zone has one doubly linked free list per order. Page
 * contents are stored lazily, one calloc'ed page per frame on first write (NULL reads as zeros),
 * so even 2 GiB profiles cost only what the suite writes.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#if defined(BROKEN_COALESCE)
#define VARIANT " (BROKEN_COALESCE)"
#elif defined(BROKEN_FREE_ORDER)
#define VARIANT " (BROKEN_FREE_ORDER)"
#else
#define VARIANT ""
#endif

#define MAX_ORDERS 24
#define ATOMIC_SLOTS 16
#define RECLAIM_BATCH 32
#define MAX_RW (1 << 20)

enum { Z_DMA, Z_NORMAL, Z_HIGH, NZONES };
static const char *const zone_names[NZONES] = { "DMA", "Normal", "HighMem" };

/* GFP bits: spec/Contract/Gfp.cs */
enum {
    GFP_DIRECT_RECLAIM = 1, GFP_IO = 2, GFP_FS = 4, GFP_HIGH = 8, GFP_DMA = 16,
    GFP_HIGHMEM = 32, GFP_HARDWALL = 64, GFP_ZERO = 128, GFP_BUFFER = 256, GFP_KNOWN = 511
};

enum { PG_TAIL, PG_FREE, PG_ALLOC, PG_CACHE };

struct zone {
    uint32_t start, end;          /* pfn range [start, end) */
    int32_t head[MAX_ORDERS];     /* free list heads, -1 when empty */
    int64_t nr_free[MAX_ORDERS];
    int64_t free_pages;
    int32_t *cache;               /* page-cache pages (a stack) */
    int64_t ncache;
};

static struct {
    bool booted;
    /* profile */
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
    uint8_t **data;
    struct zone zone[NZONES];
    /* context */
    int64_t preempt, irq, sleeps;
    /* kmaps */
    int32_t *slot_pfn, *slot_count;
    uint32_t slot_hint;
    int atomic_depth;
    int32_t atomic_pfn[ATOMIC_SLOTS];
    uint64_t atomic_addr[ATOMIC_SLOTS];
} m;

/* ---- Errors: an operation sets one and returns; the dispatcher answers with it ---------------- */

static const char *e_kind, *e_rule, *e_param;
static uint64_t e_addr;
static char e_msg[300];

static void set_error(const char *kind, const char *fmt, va_list ap)
{
    e_kind = kind;
    vsnprintf(e_msg, sizeof e_msg, fmt, ap);
}
static void bug(const char *rule, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); set_error("bug", fmt, ap); va_end(ap); e_rule = rule;
}
static void inval(const char *param, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); set_error("invalid", fmt, ap); va_end(ap); e_param = param;
}
static void fault(uint64_t addr, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); set_error("fault", fmt, ap); va_end(ap); e_addr = addr;
}

/* ---- Output buffer: answers accumulate and are written once per batch of input ------------- */

static char *ob;
static size_t olen, ocap;

static void out_reserve(size_t n)
{
    if (olen + n <= ocap) return;
    size_t cap = ocap ? ocap : 1 << 16;
    while (olen + n > cap) cap *= 2;
    char *p = realloc(ob, cap);
    if (!p) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
    ob = p; ocap = cap;
}
static void out(const char *s) { size_t n = strlen(s); out_reserve(n); memcpy(ob + olen, s, n); olen += n; }
static void outf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    out_reserve((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(ob + olen, (size_t)n + 1, fmt, ap);
    va_end(ap);
    olen += (size_t)n;
}
/* Fast formatting for the hot paths (snapshot, addresses, counts): no printf. */
static void out_u64(uint64_t v, int base)
{
    char tmp[24];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v % (unsigned)base]; v /= (unsigned)base; } while (v);
    out_reserve((size_t)n + 1);
    while (n) ob[olen++] = tmp[--n];
}
static void out_i64(int64_t v)
{
    if (v < 0) { out("-"); out_u64((uint64_t)0 - (uint64_t)v, 10); }
    else out_u64((uint64_t)v, 10);
}

static void out_json_string(const char *s)
{
    out("\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') outf("\\%c", c);
        else if (c < 0x20) outf("\\u%04x", c);
        else { out_reserve(1); ob[olen++] = (char)c; }
    }
    out("\"");
}
static void flush_out(void)
{
    size_t done = 0;
    while (done < olen) {
        ssize_t n = write(1, ob + done, olen - done);
        if (n < 0) { if (errno == EINTR) continue; exit(0); /* the runner is gone */ }
        done += (size_t)n;
    }
    olen = 0;
}

/* ---- mem_map and free lists ------------------------------------------------------------------ */

static bool in_atomic(void) { return m.preempt > 0 || m.irq > 0; }
static bool is_low(uint32_t pfn) { return pfn < m.low_end; }
static uint64_t pfn_to_virt(uint32_t pfn) { return m.page_offset + ((uint64_t)pfn << m.page_shift); }
static bool in_direct_map(uint64_t addr) { return addr >= m.page_offset && addr - m.page_offset < ((uint64_t)m.low_end << m.page_shift); }

static int zone_of(uint32_t pfn)
{
    for (int z = 0; z < NZONES; z++)
        if (pfn >= m.zone[z].start && pfn < m.zone[z].end) return z;
    return Z_DMA;
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
static void buddy_free(uint32_t pfn, int order)
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
    static const int any[] = { Z_HIGH, Z_NORMAL, Z_DMA };
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
    for (int z = 0; z < NZONES; z++)
        while (m.zone[z].ncache > 0) buddy_free((uint32_t)m.zone[z].cache[--m.zone[z].ncache], 0);
}

/* ---- Allocation and free -------------------------------------------------------------------- */

/* __alloc_pages: checks, fast path, then reclaim for callers that may sleep. Returns pfn or -1. */
static int64_t alloc_pfn(int64_t gfp, int64_t order, bool strip_highmem, const char *caller)
{
    if (order < 0) { inval("order", "%s: negative order %lld", caller, (long long)order); return -1; }
    if (gfp < 0 || (gfp & ~(int64_t)GFP_KNOWN) || ((gfp & GFP_BUFFER) && !m.gfp_buffer)) {
        inval("gfp", "%s: gfp 0x%llx is not known to this profile", caller, (long long)gfp);
        return -1;
    }
    if (strip_highmem) gfp &= ~(int64_t)GFP_HIGHMEM;
    if (order > m.max_order) return -1;   /* PAGE-2: above the largest order, NULL */
    bool blocking = gfp & GFP_DIRECT_RECLAIM;
    if (blocking && in_atomic()) {
        bug("GFP-1", "sleeping function called from invalid context: %s(gfp 0x%llx, order %lld) (in_interrupt: %lld, preempt depth: %lld)",
            caller, (long long)gfp, (long long)order, (long long)m.irq, (long long)m.preempt);
        return -1;
    }
    int zl[3], nz = 0;
    if (gfp & GFP_DMA) zl[nz++] = Z_DMA;
    else {
        if (gfp & GFP_HIGHMEM) zl[nz++] = Z_HIGH;
        zl[nz++] = Z_NORMAL;
        zl[nz++] = Z_DMA;
    }
    int64_t pfn = get_page(zl, nz, (int)order, gfp & GFP_HIGH);
    while (pfn < 0 && blocking && reclaim(zl, nz) > 0) pfn = get_page(zl, nz, (int)order, gfp & GFP_HIGH);
    if (pfn >= 0 && (gfp & GFP_ZERO)) zero_block((uint32_t)pfn, (int)order);
    return pfn;
}

static void free_checked(uint32_t pfn, int64_t order, const char *caller)
{
    if (m.state[pfn] != PG_ALLOC) {
        if (m.state[pfn] == PG_FREE) bug("PAGE-4", "%s: double free of pfn 0x%x", caller, pfn);
        else bug("PAGE-4", "%s: pfn 0x%x is not the first page of an allocation", caller, pfn);
        return;
    }
#ifndef BROKEN_FREE_ORDER
    if (m.order[pfn] != order) {
        bug("PAGE-4", "%s: pfn 0x%x freed with order %lld, allocated with order %d", caller, pfn, (long long)order, m.order[pfn]);
        return;
    }
#else
    (void)order; /* BROKEN: the recorded order is freed, whatever the caller says */
#endif
    if (!is_low(pfn) && m.kmap_slot[pfn] >= 0) { bug("ZONE-4", "%s: pfn 0x%x is still kmapped", caller, pfn); return; }
    buddy_free(pfn, m.order[pfn]);
}

static bool page_pfn(uint64_t page, uint32_t *pfn)
{
    if (page == 0 || page > m.frames) { inval("page", "0x%llx is not a page descriptor", (unsigned long long)page); return false; }
    *pfn = (uint32_t)(page - 1);
    return true;
}

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
        if (!translate(at, &pfn)) { fault(at, "no kernel mapping"); return false; }
        done += (int64_t)(m.page_size - (at & (m.page_size - 1)));
    }
    return true;
}

static void mem_access(uint64_t addr, uint8_t *buf, int64_t len, bool writing)
{
    for (int64_t done = 0; done < len;) {
        uint64_t at = addr + (uint64_t)done;
        uint32_t pfn;
        translate(at, &pfn);
        size_t off = (size_t)(at & (m.page_size - 1));
        size_t n = (size_t)(m.page_size - off);
        if ((int64_t)n > len - done) n = (size_t)(len - done);
        if (writing) {
            if (!m.data[pfn] && !(m.data[pfn] = calloc(1, m.page_size))) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
            memcpy(m.data[pfn] + off, buf + done, n);
        } else if (m.data[pfn]) memcpy(buf + done, m.data[pfn] + off, n);
        else memset(buf + done, 0, n);
        done += (int64_t)n;
    }
}

/* ---- Highmem ---------------------------------------------------------------------------------- */

static uint64_t kmap_addr(int32_t slot) { return m.pkmap_base + ((uint64_t)slot << m.page_shift); }

static uint64_t kmap(uint32_t pfn)
{
    if (in_atomic()) { bug("GFP-1", "sleeping function called from invalid context: kmap (in_interrupt: %lld, preempt depth: %lld)", (long long)m.irq, (long long)m.preempt); return 0; }
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
    bug("ZONE-4", "kmap: every PKMAP slot is in use");
    return 0;
}

static void kunmap(uint32_t pfn)
{
    if (is_low(pfn)) return;
    int32_t s = m.kmap_slot[pfn];
    if (s < 0) { bug("ZONE-4", "kunmap of pfn 0x%x, which is not kmapped", pfn); return; }
    if (--m.slot_count[s] == 0) { m.slot_pfn[s] = -1; m.kmap_slot[pfn] = -1; }
}

static uint64_t kmap_atomic(uint32_t pfn)
{
    if (m.atomic_depth == ATOMIC_SLOTS) { bug("ZONE-4", "kmap_atomic: all atomic kmap slots are in use"); return 0; }
    uint64_t addr = is_low(pfn) ? pfn_to_virt(pfn) : m.atomic_base + ((uint64_t)m.atomic_depth << m.page_shift);
    m.atomic_pfn[m.atomic_depth] = (int32_t)pfn;
    m.atomic_addr[m.atomic_depth++] = addr;
    return addr;
}

static void kunmap_atomic(uint64_t addr)
{
    if (m.atomic_depth == 0 || addr >> m.page_shift != m.atomic_addr[m.atomic_depth - 1] >> m.page_shift) {
        bug("ZONE-4", "kunmap_atomic(0x%llx) does not match the last kmap_atomic", (unsigned long long)addr);
        return;
    }
    m.atomic_depth--;
}

/* ---- Boot --------------------------------------------------------------------------------- */

static void *grow(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
    return q;
}

/* Resets everything and hands every frame to the buddy lists in the largest aligned blocks. */
static const char *boot(void)
{
    if (m.page_size < 512 || (m.page_size & (m.page_size - 1))) return "page size must be a power of two of at least 512";
    if (m.max_order < 0 || m.max_order >= MAX_ORDERS) return "max order out of range";
    if (m.phys == 0 || m.phys % m.page_size) return "physical memory must be a multiple of the page size";
    if (m.phys / m.page_size > (1u << 30)) return "too many frames";
    m.page_shift = __builtin_ctzll(m.page_size);
    uint32_t old = m.booted ? m.frames : 0;
    for (uint32_t f = 0; f < old; f++) { free(m.data[f]); m.data[f] = NULL; }
    m.frames = (uint32_t)(m.phys >> m.page_shift);
    if (m.frames > m.cap) {
        m.state = grow(m.state, m.frames);
        m.order = grow(m.order, m.frames);
        m.next = grow(m.next, m.frames * sizeof(int32_t));
        m.prev = grow(m.prev, m.frames * sizeof(int32_t));
        m.kmap_slot = grow(m.kmap_slot, m.frames * sizeof(int32_t));
        m.data = grow(m.data, m.frames * sizeof(uint8_t *));
        for (uint32_t f = m.cap; f < m.frames; f++) m.data[f] = NULL;
        for (int z = 0; z < NZONES; z++) m.zone[z].cache = grow(m.zone[z].cache, m.frames * sizeof(int32_t));
        m.cap = m.frames;
    }
    memset(m.state, PG_TAIL, m.frames);
    memset(m.order, 0, m.frames);
    memset(m.kmap_slot, 0xff, m.frames * sizeof(int32_t));

    uint64_t dma_end = m.dma_limit < m.phys ? m.dma_limit : m.phys;
    uint64_t low_end = m.has_highmem_start && m.highmem_start < m.phys ? m.highmem_start : m.phys;
    uint64_t normal_end = low_end > dma_end ? low_end : dma_end;
    uint64_t span[NZONES][2] = { { 0, dma_end }, { dma_end, normal_end }, { low_end, m.phys } };
    m.low_end = (uint32_t)(low_end >> m.page_shift);
    for (int zi = 0; zi < NZONES; zi++) {
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
    m.booted = true;
    return NULL;
}

/* ---- A tiny reader for the flat request objects ------------------------------------------ */
/* Keys of nested objects (the hello profile) are read as if they were top-level keys. */

enum { T_NONE, T_STR, T_NUM, T_TRUE, T_FALSE, T_NULL };
struct tok { int type; const char *s; size_t n; };

struct req {
    bool has_id; int64_t id;
    struct tok op, gfp, order, addr, page, pfn, zone, len, data, pages, protocol;
    struct tok page_size, page_offset, dma_limit, highmem_start, max_order, phys, reserve, gfp_buffer, pkmap_base, pkmap_slots;
};

static const char *p;

static void ws(void) { while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++; }

static bool string_tok(struct tok *t)
{
    if (*p != '"') return false;
    const char *s = ++p;
    while (*p && *p != '"') { if (*p == '\\' && p[1]) p++; p++; }
    if (*p != '"') return false;
    t->type = T_STR; t->s = s; t->n = (size_t)(p - s);
    p++;
    return true;
}

static bool key_is(const struct tok *k, const char *name) { return k->n == strlen(name) && memcmp(k->s, name, k->n) == 0; }

static void store(struct req *r, const struct tok *k, const struct tok *v)
{
#define KEY(name, field) else if (key_is(k, name)) r->field = *v
    if (0) {}
    KEY("op", op); KEY("gfp", gfp); KEY("order", order); KEY("addr", addr); KEY("page", page); KEY("pfn", pfn);
    KEY("zone", zone); KEY("len", len); KEY("data", data); KEY("pages", pages); KEY("protocol", protocol);
    KEY("pageSize", page_size); KEY("pageOffset", page_offset); KEY("dmaLimit", dma_limit);
    KEY("highmemStart", highmem_start); KEY("maxOrder", max_order); KEY("physicalMemory", phys);
    KEY("emergencyReservePages", reserve); KEY("hasGfpBuffer", gfp_buffer); KEY("pkmapBase", pkmap_base);
    KEY("pkmapSlots", pkmap_slots);
#undef KEY
}

static bool value(struct req *r, const struct tok *k, int depth);

static bool object(struct req *r, int depth)
{
    if (*p != '{' || depth > 8) return false;
    p++; ws();
    if (*p == '}') { p++; return true; }
    for (;;) {
        struct tok k;
        ws();
        if (!string_tok(&k)) return false;
        ws();
        if (*p != ':') return false;
        p++; ws();
        if (!value(r, &k, depth)) return false;
        ws();
        if (*p == ',') { p++; continue; }
        if (*p == '}') { p++; return true; }
        return false;
    }
}

static bool skip_array(int depth)
{
    struct req scratch;
    p++; ws();
    if (*p == ']') { p++; return true; }
    for (;;) {
        struct tok none = { T_NONE, "", 0 };
        ws();
        if (!value(&scratch, &none, depth + 1)) return false;
        ws();
        if (*p == ',') { p++; continue; }
        if (*p == ']') { p++; return true; }
        return false;
    }
}

static bool value(struct req *r, const struct tok *k, int depth)
{
    struct tok v = { T_NONE, p, 0 };
    if (*p == '{') return object(r, depth + 1);
    if (*p == '[') return depth < 8 && skip_array(depth);
    if (*p == '"') { if (!string_tok(&v)) return false; }
    else if (!strncmp(p, "true", 4)) { v.type = T_TRUE; p += 4; }
    else if (!strncmp(p, "false", 5)) { v.type = T_FALSE; p += 5; }
    else if (!strncmp(p, "null", 4)) { v.type = T_NULL; p += 4; }
    else {
        size_t n = strspn(p, "-+0123456789.eE");
        if (n == 0) return false;
        v.type = T_NUM; v.n = n; p += n;
    }
    if (key_is(k, "id") && v.type == T_NUM) { r->has_id = true; r->id = strtoll(v.s, NULL, 10); }
    else store(r, k, &v);
    return true;
}

/* A number: JSON integer, or a string holding "0x..." hex or decimal. */
static bool num(const struct tok *t, int64_t *out)
{
    char buf[40];
    if ((t->type != T_NUM && t->type != T_STR) || t->n == 0 || t->n >= sizeof buf) return false;
    memcpy(buf, t->s, t->n);
    buf[t->n] = 0;
    char *end;
    errno = 0;
    if (buf[0] == '-') *out = strtoll(buf, &end, 0);
    else *out = (int64_t)strtoull(buf, &end, 0);
    return *end == 0 && errno == 0;
}

static bool u64(const struct tok *t, uint64_t *out)
{
    int64_t v;
    if (t->type == T_NULL) { *out = 0; return true; }
    if (!num(t, &v)) return false;
    *out = (uint64_t)v;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ---- Answers ------------------------------------------------------------------------------- */

static void begin(const struct req *r)
{
    if (!r->has_id) { out("{\"id\":null,"); return; }
    out("{\"id\":");
    out_i64(r->id);
    out(",");
}
static void ok_null(const struct req *r) { begin(r); out("\"ok\":true,\"value\":null}\n"); }
static void ok_hex(const struct req *r, uint64_t v) { begin(r); out("\"ok\":true,\"value\":\"0x"); out_u64(v, 16); out("\"}\n"); }
static void ok_num(const struct req *r, int64_t v) { begin(r); out("\"ok\":true,\"value\":"); out_i64(v); out("}\n"); }
static void ok_bool(const struct req *r, bool v) { begin(r); out(v ? "\"ok\":true,\"value\":true}\n" : "\"ok\":true,\"value\":false}\n"); }
static void ok_str(const struct req *r, const char *v) { begin(r); out("\"ok\":true,\"value\":\""); out(v); out("\"}\n"); }

static void answer_error(const struct req *r)
{
    begin(r);
    outf("\"ok\":false,\"error\":{\"kind\":\"%s\"", e_kind);
    if (!strcmp(e_kind, "bug")) outf(",\"rule\":\"%s\"", e_rule);
    if (!strcmp(e_kind, "invalid")) outf(",\"parameter\":\"%s\"", e_param);
    if (!strcmp(e_kind, "fault")) outf(",\"address\":\"0x%llx\"", (unsigned long long)e_addr);
    out(",\"message\":");
    out_json_string(e_msg);
    out("}}\n");
}

static void snapshot(const struct req *r)
{
    begin(r);
    out("\"ok\":true,\"value\":{\"free\":[");
    for (int z = 0; z < NZONES; z++) {
        out(z ? ",[" : "[");
        for (int o = 0; o <= m.max_order; o++) {
            if (o) out(",");
            out_i64(m.zone[z].nr_free[o]);
        }
        out("]");
    }
    out("],\"reclaimable\":[");
    for (int z = 0; z < NZONES; z++) {
        if (z) out(",");
        out_i64(m.zone[z].ncache);
    }
    out("],\"sleeps\":");
    out_i64(m.sleeps);
    out(m.irq > 0 ? ",\"inInterrupt\":true" : ",\"inInterrupt\":false");
    out(in_atomic() ? ",\"inAtomic\":true}}\n" : ",\"inAtomic\":false}}\n");
}

/* ---- Dispatch ------------------------------------------------------------------------------ */

#define OP(name) (r.op.n == sizeof(name) - 1 && memcmp(r.op.s, name, r.op.n) == 0)
#define NEED(cond, param) do { if (!(cond)) { inval(param, "missing or malformed \"%s\"", param); goto done; } } while (0)

static void hello(const struct req *r)
{
    int64_t v;
    uint64_t u;
    bool okp = true;
    okp &= u64(&r->page_size, &m.page_size);
    okp &= u64(&r->page_offset, &m.page_offset);
    okp &= u64(&r->dma_limit, &m.dma_limit);
    okp &= u64(&r->phys, &m.phys);
    okp &= num(&r->max_order, &v); m.max_order = (int)v;
    okp &= num(&r->reserve, &m.reserve);
    m.has_highmem_start = r->highmem_start.type != T_NULL && r->highmem_start.type != T_NONE;
    if (m.has_highmem_start) okp &= u64(&r->highmem_start, &m.highmem_start);
    m.gfp_buffer = r->gfp_buffer.type == T_TRUE;
    m.pkmap_base = u64(&r->pkmap_base, &u) ? u : 0;
    m.pkmap_slots = num(&r->pkmap_slots, &v) && v > 0 && v < (1 << 20) ? (uint32_t)v : 0;
    const char *why = !okp ? "the profile lacks a field c-buddy needs"
        : !num(&r->protocol, &v) || v != 1 ? "c-buddy speaks protocol 1 only" : boot();
    if (why) {
        m.booted = false;
        begin(r);
        out("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":");
        out_json_string(why);
        out("}}\n");
        return;
    }
    begin(r);
    out("\"ok\":true,\"protocol\":1,\"name\":\"c-buddy" VARIANT "\","
        "\"capabilities\":[\"PageAllocator\",\"ExecutionContext\",\"Highmem\",\"Reclaim\"],\"features\":[\"snapshot\"]}\n");
}

static void handle(char *line)
{
    struct req r;
    memset(&r, 0, sizeof r);
    e_kind = NULL;
    p = line;
    ws();
    if (!*p) return;
    if (!object(&r, 0) || (ws(), *p) || !r.has_id || r.op.type != T_STR) {
        inval("request", "malformed request");
        answer_error(&r);
        return;
    }
    if (OP("hello")) { hello(&r); return; }
    if (OP("shutdown")) { ok_null(&r); flush_out(); exit(0); }
    if (!m.booted) { inval("op", "not booted: send hello first"); answer_error(&r); return; }

    int64_t gfp = 0, order = 0, n = 0;
    uint64_t addr = 0, page = 0;
    uint32_t pfn = 0;
    if (r.gfp.type) NEED(num(&r.gfp, &gfp), "gfp");
    if (r.order.type) NEED(num(&r.order, &order), "order");
    if (r.addr.type) NEED(u64(&r.addr, &addr), "addr");
    if (r.page.type) NEED(u64(&r.page, &page), "page");

    if (OP("getFreePages") || OP("getZeroedPage")) {
        NEED(r.gfp.type, "gfp");
        if (OP("getZeroedPage")) { gfp |= GFP_ZERO; order = 0; } else NEED(r.order.type, "order");
        int64_t f = alloc_pfn(gfp, order, true, OP("getZeroedPage") ? "get_zeroed_page" : "__get_free_pages");
        if (!e_kind) ok_hex(&r, f < 0 ? 0 : pfn_to_virt((uint32_t)f));
    } else if (OP("allocPages")) {
        NEED(r.gfp.type && r.order.type, "gfp");
        int64_t f = alloc_pfn(gfp, order, false, "alloc_pages");
        if (!e_kind) ok_hex(&r, f < 0 ? 0 : (uint64_t)f + 1);
    } else if (OP("freePages")) {
        NEED(r.addr.type && r.order.type, "addr");
        if (addr == 0) { ok_null(&r); goto done; }
        if (!in_direct_map(addr) || (addr & (m.page_size - 1))) bug("PAGE-4", "free_pages(0x%llx, %lld): not the address of a page allocation", (unsigned long long)addr, (long long)order);
        else free_checked((uint32_t)((addr - m.page_offset) >> m.page_shift), order, "free_pages");
        if (!e_kind) ok_null(&r);
    } else if (OP("freePagesOf")) {
        NEED(r.page.type && r.order.type, "page");
        if (page == 0) { ok_null(&r); goto done; }
        if (page > m.frames) bug("PAGE-4", "__free_pages(0x%llx, %lld): not a page descriptor", (unsigned long long)page, (long long)order);
        else free_checked((uint32_t)(page - 1), order, "__free_pages");
        if (!e_kind) ok_null(&r);
    } else if (OP("pageToPfn")) {
        NEED(r.page.type, "page");
        if (page_pfn(page, &pfn)) ok_hex(&r, pfn);
    } else if (OP("pfnToPage")) {
        uint64_t want;
        NEED(u64(&r.pfn, &want), "pfn");
        if (want >= m.frames) inval("pfn", "pfn 0x%llx is beyond RAM", (unsigned long long)want);
        else ok_hex(&r, want + 1);
    } else if (OP("pageAddress")) {
        NEED(r.page.type, "page");
        if (page_pfn(page, &pfn)) {
            int32_t s = is_low(pfn) ? -1 : m.kmap_slot[pfn];
            ok_hex(&r, is_low(pfn) ? pfn_to_virt(pfn) : s >= 0 ? kmap_addr(s) : 0);
        }
    } else if (OP("pageZone")) {
        NEED(r.page.type, "page");
        if (page_pfn(page, &pfn)) ok_str(&r, zone_names[zone_of(pfn)]);
    } else if (OP("virtToPhys")) {
        NEED(r.addr.type, "addr");
        if (in_direct_map(addr)) ok_hex(&r, addr - m.page_offset);
        else inval("addr", "virt_to_phys(0x%llx): not a direct-mapped address", (unsigned long long)addr);
    } else if (OP("freeBlocks") || OP("reclaimablePages")) {
        int z = -1;
        for (int i = 0; i < NZONES; i++)
            if (r.zone.type == T_STR && r.zone.n == strlen(zone_names[i]) && !memcmp(r.zone.s, zone_names[i], r.zone.n)) z = i;
        NEED(z >= 0, "zone");
        if (OP("reclaimablePages")) ok_num(&r, m.zone[z].ncache);
        else ok_num(&r, order < 0 || order > m.max_order ? 0 : m.zone[z].nr_free[order]);
    } else if (OP("drainCaches") || OP("dropPageCache")) {
        if (OP("dropPageCache")) drop_page_cache();
        ok_null(&r);
    } else if (OP("read")) {
        NEED(r.addr.type && num(&r.len, &n), "len");
        if (n < 0 || n > MAX_RW) { inval("len", "length %lld out of range", (long long)n); goto done; }
        if (!check_mapped(addr, n)) goto done;
        static uint8_t buf[MAX_RW];
        mem_access(addr, buf, n, false);
        begin(&r);
        out("\"ok\":true,\"value\":\"");
        out_reserve((size_t)n * 2);
        for (int64_t i = 0; i < n; i++) { ob[olen++] = "0123456789abcdef"[buf[i] >> 4]; ob[olen++] = "0123456789abcdef"[buf[i] & 15]; }
        out("\"}\n");
    } else if (OP("write")) {
        NEED(r.addr.type && r.data.type == T_STR && r.data.n % 2 == 0 && r.data.n / 2 <= MAX_RW, "data");
        static uint8_t buf[MAX_RW];
        n = (int64_t)r.data.n / 2;
        for (int64_t i = 0; i < n; i++) {
            int hi = hexval(r.data.s[2 * i]), lo = hexval(r.data.s[2 * i + 1]);
            NEED(hi >= 0 && lo >= 0, "data");
            buf[i] = (uint8_t)(hi << 4 | lo);
        }
        if (!check_mapped(addr, n)) goto done;
        mem_access(addr, buf, n, true);
        ok_null(&r);
    } else if (OP("preemptDisable")) { m.preempt++; ok_null(&r); }
    else if (OP("preemptEnable")) {
        if (m.preempt == 0) bug("GFP-5", "preempt_enable() without preempt_disable() (preempt_count underflow)");
        else { m.preempt--; ok_null(&r); }
    } else if (OP("irqEnter")) { m.irq++; ok_null(&r); }
    else if (OP("irqExit")) {
        if (m.irq == 0) bug("GFP-5", "irq_exit() outside an interrupt (hardirq count underflow)");
        else { m.irq--; ok_null(&r); }
    } else if (OP("inInterrupt")) ok_bool(&r, m.irq > 0);
    else if (OP("inAtomic")) ok_bool(&r, in_atomic());
    else if (OP("sleeps")) ok_num(&r, m.sleeps);
    else if (OP("kmap") || OP("kunmap") || OP("kmapAtomic")) {
        NEED(r.page.type, "page");
        if (!page_pfn(page, &pfn)) goto done;
        if (OP("kunmap")) { kunmap(pfn); if (!e_kind) ok_null(&r); }
        else { uint64_t a = OP("kmap") ? kmap(pfn) : kmap_atomic(pfn); if (!e_kind) ok_hex(&r, a); }
    } else if (OP("kunmapAtomic")) {
        NEED(r.addr.type, "addr");
        kunmap_atomic(addr);
        if (!e_kind) ok_null(&r);
    } else if (OP("fillPageCache")) {
        NEED(num(&r.pages, &n), "pages");
        if (n < 0) inval("pages", "negative page count");
        else ok_num(&r, fill_page_cache(n));
    } else if (OP("snapshot")) snapshot(&r);
    else {
        begin(&r);
        out("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"unknown op\"}}\n");
    }
done:
    if (e_kind) answer_error(&r);
}

/*
 * Optional busy-polling (BUDDY_SPIN_US=N in the environment): after answering, keep trying to read
 * for up to N microseconds before sleeping in read(2). The runner usually sends the next request
 * within microseconds, so this saves a scheduler wake-up per round trip, at the price of CPU.
 */
static long spin_ns;

static ssize_t read_request(int fd, char *buf, size_t n)
{
    if (spin_ns > 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            struct pollfd pfd = { fd, POLLIN, 0 };
            if (poll(&pfd, 1, 0) > 0) break;
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < spin_ns);
    }
    return read(fd, buf, n);
}

int main(void)
{
    size_t cap = 1 << 16, len = 0;
    char *in = malloc(cap);
    if (!in) return 2;
    const char *spin = getenv("BUDDY_SPIN_US");
    spin_ns = spin ? atol(spin) * 1000L : 0;
    for (;;) {
        /* Answer every complete line already read, then write all answers at once. */
        char *start = in, *nl;
        while ((nl = memchr(start, '\n', (size_t)(in + len - start)))) {
            *nl = 0;
            handle(start);
            start = nl + 1;
        }
        len = (size_t)(in + len - start);
        memmove(in, start, len);
        flush_out();
        if (len + 1 >= cap) {
            if (cap >= (64u << 20)) { fputs("c-buddy: request line too long\n", stderr); return 2; }
            in = grow(in, cap *= 2);
        }
        ssize_t n = read_request(0, in + len, cap - len - 1);
        if (n < 0) { if (errno == EINTR) continue; return 1; }
        if (n == 0) return 0;
        len += (size_t)n;
        in[len] = 0;
    }
}
