/*
 * c-buddy's slab layer: slab caches on the buddy allocator of buddy.c, and kmalloc on general caches
 * (one per size class of the profile, plus DMA twins); requests above the largest class take whole
 * pages. The values the documents leave to the profile (classes, limits, poison and red-zone bytes,
 * kmalloc(0), kfree of cache objects, destroy of a busy cache) come from the hello profile.
 *
 * A slab is a naturally aligned block of 2^order frames holding objects_per_slab slots of `stride`
 * bytes; with SLAB_RED_ZONE a slot is [left red zone | object | right red zone], each zone one word.
 * Per-object state is kept out of band; object bytes live in the simulated memory of buddy.c.
 *
 * -DBROKEN_RED_ZONE: kmem_cache_free and kfree never check the red zones (the suite reports SLAB-9).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"

#define EBUSY 16
#define SLUB_MAX_ORDER 3
#define MIN_OBJECTS 8
#define KNOWN_SLAB_FLAGS 0x3fu
#define SLAB_LARGE (-2)   /* m.slab of the head frame of a large kmalloc block */

struct slab {
    int32_t cache;
    uint32_t pfn;
    int64_t in_use;
    uint8_t *allocated;   /* per object: 1 while allocated */
    int64_t *requested;   /* kmalloc caches: the size each live object was asked for */
    bool live;
};

struct fobj { int32_t slab, index; };

struct cache {
    bool live, is_kmalloc, dma, leaked;
    char name[64];
    int64_t size, align, stride, left_pad, per_slab, active, ctor_calls;
    uint32_t flags;
    int ctor;             /* constructor fill byte, -1 without constructor */
    int order;
    int32_t *slabs;       /* ids of this cache's slabs */
    int nslabs, cap_slabs;
    struct fobj *free;    /* free objects, most recently freed on top */
    int64_t nfree, cap_free;
};

static struct cache *caches;
static int ncaches, cap_caches;
static struct slab *slabs;
static int nslabs, cap_slabs;
static int32_t *free_ids;
static int nfree_ids;
static int64_t *large_req;      /* large kmalloc blocks: requested size by head pfn */
static uint32_t large_cap;
static int nclasses;
static int32_t general[64], general_dma[64];
static int64_t classes[64];

static const struct kmm_profile *P(void) { return m.profile; }
static uint64_t zero_result(void) { return P()->kmalloc_zero_returns_zero_size_ptr ? KMM_ZERO_SIZE_PTR : 0; }
static int64_t block_bytes(int order) { return (int64_t)m.page_size << order; }
static int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

static int get_order(int64_t bytes)
{
    int64_t pages = (bytes + (int64_t)m.page_size - 1) / (int64_t)m.page_size;
    int order = 0;
    while (((int64_t)1 << order) < pages) order++;
    return order;
}

/* ---- Caches ------------------------------------------------------------------------------------ */

/* calculate_alignment (SLAB-7): SLAB_HWCACHE_ALIGN starts at the cache line, halved while the object fits in half. */
static int64_t alignment(uint32_t flags, int64_t align, int64_t size)
{
    if (flags & KMM_SLAB_HWCACHE_ALIGN) {
        int64_t line = P()->cache_line;
        while (line > 1 && size <= line / 2) line /= 2;
        if (line > align) align = line;
    }
    return align > P()->word_size ? align : P()->word_size;
}

/* Lays a cache out; -1 when one slot does not fit in a max-order block. */
static int layout(struct cache *c)
{
    int64_t word = P()->word_size, max = block_bytes(m.max_order);
    if (c->align > max) return -1;
    c->left_pad = (c->flags & KMM_SLAB_RED_ZONE) ? align_up(word, c->align) : 0;
    c->stride = (c->flags & KMM_SLAB_RED_ZONE) ? align_up(c->left_pad + c->size + word, c->align) : align_up(c->size, c->align);
    if (c->stride > max) return -1;
    int order = get_order(c->stride);
    for (int o = 0; o <= SLUB_MAX_ORDER && o <= m.max_order; o++)
        if (block_bytes(o) / c->stride >= MIN_OBJECTS) { order = o > order ? o : order; break; }
    c->order = order;
    c->per_slab = block_bytes(order) / c->stride;
    return 0;
}

static int new_cache(const char *name, int64_t size, int64_t align, uint32_t flags, int ctor, bool is_kmalloc)
{
    if (ncaches == cap_caches) {
        cap_caches = cap_caches ? cap_caches * 2 : 64;
        caches = grow(caches, (size_t)cap_caches * sizeof *caches);
    }
    struct cache *c = &caches[ncaches];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->size = size;
    c->flags = flags;
    c->ctor = ctor;
    c->is_kmalloc = is_kmalloc;
    c->dma = flags & KMM_SLAB_CACHE_DMA;
    c->align = alignment(flags, align, size);
    if (layout(c) < 0) return -1;
    c->live = true;
    return ncaches++;
}

/* The live cache behind a handle (index + 1); NULL with `invalid` otherwise. */
static struct cache *cache_of(uint64_t handle, const char *caller)
{
    if (handle == 0 || handle > (uint64_t)ncaches || !caches[handle - 1].live) {
        kmm_invalid("cache", "%s: 0x%llx is not a live cache", caller, (unsigned long long)handle);
        return NULL;
    }
    return &caches[handle - 1];
}

static uint64_t object_addr(const struct cache *c, const struct slab *s, int64_t index)
{
    return pfn_to_virt(s->pfn) + (uint64_t)(index * c->stride + c->left_pad);
}

/* SLAB-8: free objects hold the poison pattern (linux-6: the last byte is POISON_END). */
static void poison(const struct cache *c, uint64_t obj)
{
    const struct kmm_profile *p = P();
    if (p->poison_end_given) {
        mem_fill(obj, c->size - 1, (uint8_t)p->poison_free);
        mem_fill(obj + (uint64_t)c->size - 1, 1, (uint8_t)p->poison_end);
    } else mem_fill(obj, c->size, (uint8_t)p->poison_free);
}

static bool poisoned(const struct cache *c) { return (c->flags & KMM_SLAB_POISON) && c->ctor < 0; }

static void red_zones(const struct cache *c, uint64_t obj, int64_t value)
{
    if (!(c->flags & KMM_SLAB_RED_ZONE)) return;
    mem_fill(obj - (uint64_t)P()->word_size, P()->word_size, (uint8_t)value);
    mem_fill(obj + (uint64_t)c->size, P()->word_size, (uint8_t)value);
}

/* SLAB-9: both zones still hold the 'active' value; reports a bug naming SLAB-9 otherwise. */
static bool red_zones_intact(const struct cache *c, uint64_t obj)
{
#ifdef BROKEN_RED_ZONE
    (void)c; (void)obj;
    return true;
#else
    if (!(c->flags & KMM_SLAB_RED_ZONE)) return true;
    uint8_t word[16];
    int64_t w = P()->word_size < 16 ? P()->word_size : 16;
    uint8_t active = (uint8_t)P()->red_zone_active;
    for (int side = 0; side < 2; side++) {
        uint64_t at = side ? obj + (uint64_t)c->size : obj - (uint64_t)w;
        mem_access(at, word, w, false);
        for (int64_t i = 0; i < w; i++)
            if (word[i] != active) {
                kmm_bug("SLAB-9", "%s: red zone %s object 0x%llx overwritten: byte 0x%llx is 0x%02x, expected 0x%02x; object not freed",
                        c->name, side ? "after" : "before", (unsigned long long)obj, (unsigned long long)(at + (uint64_t)i), word[i], active);
                return false;
            }
    }
    return true;
#endif
}

/* new_slab: a block from the page allocator with the caller's rights but the cache's zone; every object constructed or poisoned. */
static bool grow_cache(int ci, uint32_t gfp)
{
    struct cache *c = &caches[ci];
    int64_t flags = (gfp & ~(uint32_t)(KMM_GFP_HIGHMEM | KMM_GFP_ZERO | KMM_GFP_DMA)) | (c->dma ? KMM_GFP_DMA : 0);
    int64_t pfn = alloc_pfn(flags, c->order, true, "new_slab");
    if (pfn < 0) return false;
    int id = nfree_ids ? free_ids[--nfree_ids] : nslabs++;
    if (id >= cap_slabs) {
        cap_slabs = cap_slabs ? cap_slabs * 2 : 64;
        slabs = grow(slabs, (size_t)cap_slabs * sizeof *slabs);
        free_ids = grow(free_ids, (size_t)cap_slabs * sizeof *free_ids);
    }
    struct slab *s = &slabs[id];
    s->cache = ci;
    s->pfn = (uint32_t)pfn;
    s->in_use = 0;
    s->live = true;
    s->allocated = calloc((size_t)c->per_slab, 1);
    s->requested = c->is_kmalloc ? calloc((size_t)c->per_slab, sizeof(int64_t)) : NULL;
    if (!s->allocated || (c->is_kmalloc && !s->requested)) { fputs("c-buddy: out of memory\n", stderr); exit(2); }
    m.state[pfn] = PG_SLAB;
    for (uint32_t f = 0; f < (1u << c->order); f++) m.slab[pfn + f] = id;
    for (int64_t i = 0; i < c->per_slab; i++) {
        uint64_t obj = object_addr(c, s, i);
        if (c->ctor >= 0) { mem_fill(obj, c->size, (uint8_t)c->ctor); c->ctor_calls++; }   /* SLAB-3: once per object, here */
        else if (poisoned(c)) poison(c, obj);
        red_zones(c, obj, P()->red_zone_inactive);
    }
    if (c->nslabs == c->cap_slabs) {
        c->cap_slabs = c->cap_slabs ? c->cap_slabs * 2 : 8;
        c->slabs = grow(c->slabs, (size_t)c->cap_slabs * sizeof *c->slabs);
    }
    c->slabs[c->nslabs++] = id;
    if (c->nfree + c->per_slab > c->cap_free) {
        while (c->nfree + c->per_slab > c->cap_free) c->cap_free = c->cap_free ? c->cap_free * 2 : 64;
        c->free = grow(c->free, (size_t)c->cap_free * sizeof *c->free);
    }
    for (int64_t i = c->per_slab - 1; i >= 0; i--) c->free[c->nfree++] = (struct fobj){ id, (int32_t)i };
    return true;
}

/* slab_alloc: the most recently freed object, growing by one slab when none is free. 0 on failure. */
static uint64_t cache_alloc(int ci, uint32_t gfp, int64_t requested)
{
    if (caches[ci].nfree == 0 && !grow_cache(ci, gfp)) return 0;
    struct cache *c = &caches[ci];
    struct fobj f = c->free[--c->nfree];
    struct slab *s = &slabs[f.slab];
    s->allocated[f.index] = 1;
    s->in_use++;
    c->active++;
    if (s->requested) s->requested[f.index] = requested;
    uint64_t obj = object_addr(c, s, f.index);
    red_zones(c, obj, P()->red_zone_active);
    if (gfp & KMM_GFP_ZERO) mem_fill(obj, c->size, 0);
    return obj;
}

static void cache_free(struct cache *c, struct slab *s, int64_t index)
{
    uint64_t obj = object_addr(c, s, index);
    if (poisoned(c)) poison(c, obj);
    red_zones(c, obj, P()->red_zone_inactive);
    s->allocated[index] = 0;
    s->in_use--;
    c->active--;
    if (c->nfree == c->cap_free) {
        c->cap_free = c->cap_free ? c->cap_free * 2 : 64;
        c->free = grow(c->free, (size_t)c->cap_free * sizeof *c->free);
    }
    c->free[c->nfree++] = (struct fobj){ (int32_t)(s - slabs), (int32_t)index };
}

/* __kmem_cache_shrink: every slab without a live object back to the page allocator; returns the pages. */
static int64_t shrink(struct cache *c)
{
    int64_t pages = 0;
    for (int i = c->nslabs - 1; i >= 0; i--) {
        int id = c->slabs[i];
        struct slab *s = &slabs[id];
        if (s->in_use) continue;
        c->slabs[i] = c->slabs[--c->nslabs];
        for (uint32_t f = 0; f < (1u << c->order); f++) m.slab[s->pfn + f] = -1;
        m.state[s->pfn] = PG_ALLOC;
        buddy_free(s->pfn, c->order);
        free(s->allocated);
        free(s->requested);
        s->allocated = NULL;
        s->requested = NULL;
        s->live = false;
        free_ids[nfree_ids++] = id;
        pages += (int64_t)1 << c->order;
    }
    if (pages) {
        int64_t kept = 0;
        for (int64_t i = 0; i < c->nfree; i++)
            if (slabs[c->free[i].slab].live && slabs[c->free[i].slab].cache == c - caches) c->free[kept++] = c->free[i];
        c->nfree = kept;
    }
    return pages;
}

int64_t slab_shrink_all(void)
{
    int64_t pages = 0;
    for (int i = 0; i < ncaches; i++) if (caches[i].live) pages += shrink(&caches[i]);
    return pages;
}

/* ---- Boot: forget every cache and slab, make the general caches ------------------------------- */

const char *slab_boot(void)
{
    const struct kmm_profile *p = P();
    for (int i = 0; i < nslabs; i++) { free(slabs[i].allocated); free(slabs[i].requested); }
    for (int i = 0; i < ncaches; i++) { free(caches[i].slabs); free(caches[i].free); }
    ncaches = nslabs = nfree_ids = 0;
    if (m.frames > large_cap) { large_req = grow(large_req, m.frames * sizeof *large_req); large_cap = m.frames; }
    if (!p->kmalloc_classes_given || !p->kmalloc_max_size_given || !p->slab_object_max_given || !p->cache_line_given || !p->word_size_given
        || !p->poison_free_given || !p->red_zone_active_given || !p->red_zone_inactive_given || !p->kmalloc_cache_prefix_given)
        return "the profile lacks a kmalloc or slab field c-buddy needs";
    if (p->word_size < 1 || p->word_size > 16 || p->cache_line < 1) return "word size or cache line out of range";
    nclasses = 0;
    for (int i = 0; i < p->kmalloc_classes_count && i < 64; i++) {
        classes[nclasses] = p->kmalloc_classes[i];
        char name[64], dma[64];
        const char *base = i < p->kmalloc_cache_names_count ? p->kmalloc_cache_names[i] : "kmalloc";
        snprintf(name, sizeof name, "%s", base);
        if (!strcmp(p->kmalloc_cache_prefix, "size-")) snprintf(dma, sizeof dma, "%s(DMA)", base);
        else snprintf(dma, sizeof dma, "dma-%s", base);
        general[nclasses] = new_cache(name, classes[nclasses], 0, 0, -1, true);
        general_dma[nclasses] = new_cache(dma, classes[nclasses], 0, KMM_SLAB_CACHE_DMA, -1, true);
        nclasses++;
    }
    return NULL;
}

/* ---- kmem_cache_* ------------------------------------------------------------------------------ */

uint64_t kc_create(const char *name, int64_t size, int64_t align, uint32_t flags, int ctor)
{
    if (size < 0) { kmm_invalid("size", "kmem_cache_create: negative size %lld", (long long)size); return 0; }
    if (align < 0 || (align & (align - 1))) { kmm_invalid("align", "kmem_cache_create: align %lld is not 0 or a power of two", (long long)align); return 0; }
    if (in_atomic()) { kmm_bug("GFP-1", "sleeping function called from invalid context: kmem_cache_create(%s)", name); return 0; }
    uint32_t known = KNOWN_SLAB_FLAGS & ~(P()->has_slab_no_reap ? 0u : KMM_SLAB_NO_REAP);
    const char *why = size == 0 ? "object size 0"
        : size > P()->slab_object_max ? "object size above the limit"
        : (flags & ~known) ? "a flag unknown to this profile"
        : NULL;
    int ci = why ? -1 : new_cache(name, size, align ? align : 1, flags, ctor, false);
    if (ci < 0) {
        if (!why) why = "one object, laid out, does not fit in a max-order slab";
        if (flags & KMM_SLAB_PANIC) kmm_panic("kmem_cache_create: Failed to create slab '%s': %s", name, why);
        return 0;
    }
    return (uint64_t)ci + 1;
}

uint64_t kc_alloc(uint64_t handle, uint32_t gfp)
{
    struct cache *c = cache_of(handle, "kmem_cache_alloc");
    if (!c) return 0;
    if (gfp_unknown(gfp)) { kmm_invalid("gfp", "kmem_cache_alloc: gfp 0x%x is not known to this profile", gfp); return 0; }
    if ((gfp & KMM_GFP_DIRECT_RECLAIM) && in_atomic()) {
        kmm_bug("GFP-1", "sleeping function called from invalid context: kmem_cache_alloc(%s, gfp 0x%x)", c->name, gfp);
        return 0;
    }
    return cache_alloc((int)(c - caches), gfp, c->size);
}

/* The slab holding addr, and the index of the object starting exactly there (-1 when none). */
static struct slab *slab_at(uint64_t addr, int64_t *index)
{
    *index = -1;
    if (!in_direct_map(addr)) return NULL;
    int32_t id = m.slab[(addr - m.page_offset) >> m.page_shift];
    if (id < 0) return NULL;
    struct slab *s = &slabs[id];
    struct cache *c = &caches[s->cache];
    int64_t off = (int64_t)(addr - pfn_to_virt(s->pfn)) - c->left_pad;
    if (off >= 0 && off % c->stride == 0 && off / c->stride < c->per_slab) *index = off / c->stride;
    return s;
}

void kc_free(uint64_t handle, uint64_t obj)
{
    struct cache *c = cache_of(handle, "kmem_cache_free");
    if (!c || obj == 0) return;
    int64_t index;
    struct slab *s = slab_at(obj, &index);
    if (!s) { kmm_bug("SLAB-4", "kmem_cache_free(%s, 0x%llx): not a slab object", c->name, (unsigned long long)obj); return; }
    if (index < 0) { kmm_bug("SLAB-4", "kmem_cache_free(%s, 0x%llx): not the start of an object of %s", c->name, (unsigned long long)obj, caches[s->cache].name); return; }
    if (&caches[s->cache] != c) { kmm_bug("SLAB-4", "kmem_cache_free(%s, 0x%llx): the object belongs to cache %s", c->name, (unsigned long long)obj, caches[s->cache].name); return; }
    if (!s->allocated[index]) { kmm_bug("SLAB-4", "kmem_cache_free(%s, 0x%llx): double free", c->name, (unsigned long long)obj); return; }
    if (!red_zones_intact(c, obj)) return;
    cache_free(c, s, index);
}

int64_t kc_shrink(uint64_t handle)
{
    struct cache *c = cache_of(handle, "kmem_cache_shrink");
    return c ? shrink(c) : 0;
}

int64_t kc_destroy(uint64_t handle)
{
    if (in_atomic()) { kmm_bug("GFP-1", "sleeping function called from invalid context: kmem_cache_destroy"); return 0; }
    if (handle == 0) return 0;
    struct cache *c = cache_of(handle, "kmem_cache_destroy");
    if (!c) return 0;
    if (c->active > 0 || c->leaked) {
        if (P()->destroy_busy_leaks_cache) c->leaked = true;   /* linux-6: the cache stays, usable, never released */
        return -EBUSY;
    }
    shrink(c);
    c->live = false;
    return 0;
}

void kc_slab_info(void)
{
    for (int i = 0; i < ncaches; i++) {
        const struct cache *c = &caches[i];
        if (!c->live) continue;
        struct kmm_slabinfo line = {
            .name = c->name, .active_objects = c->active, .total_objects = (int64_t)c->nslabs * c->per_slab,
            .object_size = c->size, .laid_out_size = c->stride, .objects_per_slab = c->per_slab,
            .pages_per_slab = (int64_t)1 << c->order, .slabs = c->nslabs, .constructor_calls = c->ctor_calls,
        };
        kmm_slabinfo_line(&line);
    }
}

/* kmem_cache_reap (SLAB-13): free slabs of every cache not marked SLAB_NO_REAP. */
int64_t kc_reap(void)
{
    int64_t pages = 0;
    for (int i = 0; i < ncaches; i++)
        if (caches[i].live && !(caches[i].flags & KMM_SLAB_NO_REAP)) pages += shrink(&caches[i]);
    return pages;
}

/* ---- kmalloc ---------------------------------------------------------------------------------- */

static int class_index(int64_t size)
{
    for (int i = 0; i < nclasses; i++) if (classes[i] >= size) return i;
    return -1;
}

static int64_t cache_max(void) { return nclasses ? classes[nclasses - 1] : 0; }

uint64_t km_kmalloc(int64_t size, uint32_t gfp)
{
    if (gfp_unknown(gfp)) { kmm_invalid("gfp", "kmalloc: gfp 0x%x is not known to this profile", gfp); return 0; }
    if (size < 0) { kmm_invalid("size", "kmalloc: negative size %lld", (long long)size); return 0; }
    if (size == 0) return zero_result();
    if (size > P()->kmalloc_max_size) return 0;   /* KMAL-3 */
    if ((gfp & KMM_GFP_DIRECT_RECLAIM) && in_atomic()) {
        kmm_bug("GFP-1", "sleeping function called from invalid context: kmalloc(%lld, gfp 0x%x)", (long long)size, gfp);
        return 0;
    }
    int cls = class_index(size);
    if (cls < 0 || (general[cls] < 0 && general_dma[cls] < 0)) {
        /* kmalloc_large: whole pages straight from the page allocator. */
        int64_t pfn = alloc_pfn(gfp, get_order(size), true, "kmalloc_large");
        if (pfn < 0) return 0;
        m.state[pfn] = PG_SLAB;
        m.slab[pfn] = SLAB_LARGE;
        large_req[pfn] = size;
        return pfn_to_virt((uint32_t)pfn);
    }
    int ci = (gfp & KMM_GFP_DMA) ? general_dma[cls] : general[cls];
    if (ci < 0) return 0;
    return cache_alloc(ci, gfp, size);
}

uint64_t km_kzalloc(int64_t size, uint32_t gfp) { return km_kmalloc(size, gfp | KMM_GFP_ZERO); }

/* A live kmalloc block at p: its slab and object, or its large head pfn; NULL, else what p is instead. */
static const char *find_block(uint64_t p, struct slab **s, int64_t *index, uint32_t *large)
{
    *s = NULL;
    *large = 0;
    if (!in_direct_map(p)) return "not a direct-mapped address, so not kmalloc memory";
    uint32_t pfn = (uint32_t)((p - m.page_offset) >> m.page_shift);
    if (m.slab[pfn] == SLAB_LARGE) {
        if (p & (m.page_size - 1) || m.state[pfn] != PG_SLAB) return "not the start of a live kmalloc block";
        *large = pfn;
        return NULL;
    }
    *s = slab_at(p, index);
    if (!*s) return "not kmalloc memory (page-allocator memory, or already freed?)";
    struct cache *c = &caches[(*s)->cache];
    if (*index < 0) return "not the start of an object";
    if (!(*s)->allocated[*index]) return "an object that is not allocated (double free?)";
    if (!c->is_kmalloc && !P()->kfree_accepts_cache_objects) return "an object of a cache kmalloc did not allocate (kmem_cache_free it)";
    return NULL;
}

/* As find_block, reporting KMAL-6 for anything else. */
static bool kmalloc_block(uint64_t p, const char *caller, struct slab **s, int64_t *index, uint32_t *large)
{
    const char *why = find_block(p, s, index, large);
    if (why) kmm_bug("KMAL-6", "%s(0x%llx): %s", caller, (unsigned long long)p, why);
    return !why;
}

void km_kfree(uint64_t p)
{
    if (p == 0 || p == KMM_ZERO_SIZE_PTR) return;
    struct slab *s;
    int64_t index;
    uint32_t large;
    if (!kmalloc_block(p, "kfree", &s, &index, &large)) return;
    if (!s) {
        m.state[large] = PG_ALLOC;
        m.slab[large] = -1;
        buddy_free(large, m.order[large]);
        return;
    }
    struct cache *c = &caches[s->cache];
    if (!red_zones_intact(c, p)) return;
    cache_free(c, s, index);
}

int64_t km_ksize(uint64_t p)
{
    if (p == 0 || p == KMM_ZERO_SIZE_PTR) return 0;
    struct slab *s;
    int64_t index;
    uint32_t large;
    const char *why = find_block(p, &s, &index, &large);
    if (why) { kmm_invalid("p", "ksize(0x%llx): %s", (unsigned long long)p, why); return 0; }
    return s ? caches[s->cache].size : (int64_t)m.page_size << m.order[large];
}

uint64_t km_krealloc(uint64_t p, int64_t size, uint32_t gfp)
{
    if (gfp_unknown(gfp)) { kmm_invalid("gfp", "krealloc: gfp 0x%x is not known to this profile", gfp); return 0; }
    if (size < 0) { kmm_invalid("size", "krealloc: negative size %lld", (long long)size); return 0; }
    if (p == 0 || p == KMM_ZERO_SIZE_PTR) return km_kmalloc(size, gfp);
    /* The old block is checked completely first, so that a refused call changes nothing. */
    struct slab *s;
    int64_t index;
    uint32_t large;
    if (!kmalloc_block(p, "krealloc", &s, &index, &large)) return 0;
    struct cache *c = s ? &caches[s->cache] : NULL;
    if (c && !red_zones_intact(c, p)) return 0;
    int64_t old = c ? (s->requested ? s->requested[index] : c->size) : large_req[large];
    if (size == 0) { km_kfree(p); return zero_result(); }
    if (size > P()->kmalloc_max_size) return 0;
    if ((gfp & KMM_GFP_DIRECT_RECLAIM) && in_atomic()) {
        kmm_bug("GFP-1", "sleeping function called from invalid context: krealloc(%lld, gfp 0x%x)", (long long)size, gfp);
        return 0;
    }
    bool dma = gfp & KMM_GFP_DMA;
    int cls = class_index(size);
    bool same = c ? c->is_kmalloc && size <= cache_max() && c->dma == dma && cls >= 0 && classes[cls] == c->size
                  : size > cache_max() && get_order(size) == m.order[large]
                    && (!dma || ((uint64_t)(large + (1u << m.order[large])) << m.page_shift) <= m.dma_limit);
    if (same) {
        if ((gfp & KMM_GFP_ZERO) && size > old) mem_fill(p + (uint64_t)old, size - old, 0);
        if (c && s->requested) s->requested[index] = size;
        else if (!c) large_req[large] = size;
        return p;
    }
    uint64_t q = km_kmalloc(size, gfp);
    if (q == 0) return 0;
    int64_t keep = old < size ? old : size;
    uint8_t buf[4096];
    for (int64_t done = 0; done < keep;) {
        int64_t n = keep - done < (int64_t)sizeof buf ? keep - done : (int64_t)sizeof buf;
        mem_access(p + (uint64_t)done, buf, n, false);
        mem_access(q + (uint64_t)done, buf, n, true);
        done += n;
    }
    km_kfree(p);
    return q;
}
