/*
 * c-buddy: atomic_t (capability AtomicT, rule ATOM-1; spec/Contract/IAtomicT.cs). A few 32-bit counters,
 * each operation one GCC __atomic builtin, so the operations of different lanes (threads, standing for
 * CPUs) on one counter take effect indivisibly. Counters wrap in two's complement: they are kept as
 * uint32_t, whose arithmetic wraps by definition, and read back as int32_t.
 *
 * Deliberately broken variant:
 *   -DRACY_ATOMIC  every read-modify-write is a load, a sched_yield() and a store, so an update another
 *                  lane makes in between is lost (the suite reports ATOM-1)
 */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>

#include "buddy.h"

#define ATOMIC_COUNTERS 4

static uint32_t counters[ATOMIC_COUNTERS];

void atomic_boot(void)
{
    for (int i = 0; i < ATOMIC_COUNTERS; i++) __atomic_store_n(&counters[i], 0, __ATOMIC_SEQ_CST);
}

/* The counter v, or NULL (answered invalid "v") outside [0, ATOMIC_COUNTERS). */
static uint32_t *counter(int64_t v)
{
    if (v >= 0 && v < ATOMIC_COUNTERS) return &counters[v];
    kmm_invalid("v", "atomic_t %lld does not exist (counters 0..%d)", (long long)v, ATOMIC_COUNTERS - 1);
    return NULL;
}

/* An operand i is an int; anything wider is refused (answered invalid "i"), changing nothing. */
static bool operand(int64_t i)
{
    if (i >= INT32_MIN && i <= INT32_MAX) return true;
    kmm_invalid("i", "%lld does not fit atomic_t's int", (long long)i);
    return false;
}

/* Adds d to *c indivisibly; the new value. Every operation but read and set is this one. */
static int32_t add_return(uint32_t *c, uint32_t d)
{
#ifdef RACY_ATOMIC
    uint32_t old = __atomic_load_n(c, __ATOMIC_RELAXED);
    sched_yield(); /* another lane's update of *c here is overwritten below */
    __atomic_store_n(c, old + d, __ATOMIC_RELAXED);
    return (int32_t)(old + d);
#else
    return (int32_t)__atomic_add_fetch(c, d, __ATOMIC_SEQ_CST);
#endif
}

/* Counter v for an operation with operand i, both checked before anything changes; NULL when one is refused. */
static uint32_t *rmw_target(int64_t i, int64_t v)
{
    return operand(i) ? counter(v) : NULL;
}

int64_t atomic_counters(void) { return ATOMIC_COUNTERS; }

int64_t atomic_read(int64_t v)
{
    uint32_t *c = counter(v);
    return c ? (int32_t)__atomic_load_n(c, __ATOMIC_SEQ_CST) : 0;
}

void atomic_set(int64_t v, int64_t i)
{
    uint32_t *c = rmw_target(i, v);
    if (c) __atomic_store_n(c, (uint32_t)i, __ATOMIC_SEQ_CST);
}

int64_t atomic_add_return(int64_t i, int64_t v)
{
    uint32_t *c = rmw_target(i, v);
    return c ? add_return(c, (uint32_t)i) : 0;
}

int64_t atomic_sub_return(int64_t i, int64_t v)
{
    uint32_t *c = rmw_target(i, v);
    return c ? add_return(c, 0u - (uint32_t)i) : 0;
}

int64_t atomic_inc_return(int64_t v) { return atomic_add_return(1, v); }
int64_t atomic_dec_return(int64_t v) { return atomic_sub_return(1, v); }
void atomic_add(int64_t i, int64_t v) { atomic_add_return(i, v); }
void atomic_sub(int64_t i, int64_t v) { atomic_sub_return(i, v); }
void atomic_inc(int64_t v) { atomic_add_return(1, v); }
void atomic_dec(int64_t v) { atomic_sub_return(1, v); }
bool atomic_sub_and_test(int64_t i, int64_t v) { return atomic_sub_return(i, v) == 0 && !kmm_failed(); }
bool atomic_dec_and_test(int64_t v) { return atomic_sub_return(1, v) == 0 && !kmm_failed(); }
bool atomic_inc_and_test(int64_t v) { return atomic_add_return(1, v) == 0 && !kmm_failed(); }
bool atomic_add_negative(int64_t i, int64_t v) { return atomic_add_return(i, v) < 0; }
