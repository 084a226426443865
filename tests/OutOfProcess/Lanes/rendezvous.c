/*
 * rendezvous: a test program of the C kit's lanes (tests/OutOfProcess/KitLaneTests.cs). It declares AtomicT
 * on 4 lanes, and atomic_inc_return(v) is a rendezvous: the caller arrives, then waits (up to 20 s) until
 * v callers have arrived, and answers how many it saw (-1 when it gave up). So v requests on v different
 * lanes all answer >= v only if the kit really runs lanes at the same time: a kit that ran them one after
 * another would make the first wait out its time. Every other operation is a plain counter.
 */
#define _POSIX_C_SOURCE 200809L
#include <sched.h>
#include <time.h>

#include "kmm.h"

static int arrived;
static int64_t counter;

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *boot(const struct kmm_profile *p) { (void)p; arrived = 0; counter = 0; return NULL; }
static int64_t counters(void) { return 1; }
static int64_t value(int64_t v) { (void)v; return __atomic_load_n(&counter, __ATOMIC_SEQ_CST); }
static void set(int64_t v, int64_t i) { (void)v; __atomic_store_n(&counter, i, __ATOMIC_SEQ_CST); }
static int64_t add_return(int64_t i, int64_t v) { (void)v; return __atomic_add_fetch(&counter, i, __ATOMIC_SEQ_CST); }
static void add(int64_t i, int64_t v) { add_return(i, v); }
static void sub(int64_t i, int64_t v) { add_return(-i, v); }
static void inc(int64_t v) { add_return(1, v); }
static void dec(int64_t v) { add_return(-1, v); }
static int64_t sub_return(int64_t i, int64_t v) { return add_return(-i, v); }
static int64_t dec_return(int64_t v) { return add_return(-1, v); }
static bool sub_and_test(int64_t i, int64_t v) { return add_return(-i, v) == 0; }
static bool dec_and_test(int64_t v) { return add_return(-1, v) == 0; }
static bool inc_and_test(int64_t v) { return add_return(1, v) == 0; }
static bool add_negative(int64_t i, int64_t v) { return add_return(i, v) < 0; }

static int64_t rendezvous(int64_t v)
{
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    int64_t deadline = now_ms() + 20000;
    int seen;
    while ((seen = __atomic_load_n(&arrived, __ATOMIC_SEQ_CST)) < v)
        if (now_ms() > deadline) return -1;
        else sched_yield();
    return seen;
}

int main(void)
{
    static const struct kmm_ops ops = {
        .name = "rendezvous", .boot = boot, .cpus = 4,
        .atomic_counters = counters, .atomic_read = value, .atomic_set = set, .atomic_add = add, .atomic_sub = sub,
        .atomic_inc = inc, .atomic_dec = dec, .atomic_add_return = add_return, .atomic_sub_return = sub_return,
        .atomic_inc_return = rendezvous, .atomic_dec_return = dec_return, .atomic_sub_and_test = sub_and_test,
        .atomic_dec_and_test = dec_and_test, .atomic_inc_and_test = inc_and_test, .atomic_add_negative = add_negative,
    };
    return kmm_main(&ops);
}
