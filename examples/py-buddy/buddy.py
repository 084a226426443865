#!/usr/bin/env python3
"""py-buddy: a buddy page allocator in Python on the Python kit (kits/python/kmm.py).

Declares PageAllocator, and with protocol 5 AtomicT and Smp on 2 lanes (the kit's threads): one
reentrant lock around every page method keeps the allocator correct when lanes call it at once, and
atomic_t is four counters behind a lock of their own. The rules that need ExecutionContext, Highmem
or Reclaim are n/a. Frames are split into the profile's zones; each zone keeps one set of free block heads per order;
allocation takes the smallest block that fits and splits it, free merges buddies back. A request
without __GFP_HIGH leaves the emergency reserve free (GFP-3). Page handles are pfn + 1.

    python3 buddy.py                      # the allocator
    python3 buddy.py --broken-coalesce    # freed buddies are never merged: the suite reports PAGE-8
"""
import functools
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kits", "python"))
import kmm  # noqa: E402

FREE, ALLOC, TAIL = 0, 1, 2


class Buddy(kmm.Kernel):
    cpus = 2
    smp = True
    COUNTERS = 4

    def __init__(self, broken_coalesce=False):
        self.broken = broken_coalesce
        self.name = "py-buddy" + (" (BROKEN_COALESCE)" if broken_coalesce else "")
        self.lock = threading.RLock()  # the page allocator's (get_zeroed_page calls get_free_pages)
        self.atomic_lock = threading.Lock()
        self.counters = [0] * self.COUNTERS

    def boot(self, p):
        if not (p.page_size and p.physical_memory and p.max_order is not None):
            return "the profile lacks a field py-buddy needs"
        self.p = p
        self.counters = [0] * self.COUNTERS
        self.shift = p.page_size.bit_length() - 1
        self.frames = p.physical_memory >> self.shift
        self.low_end = (p.low_memory_end or p.physical_memory) >> self.shift
        self.state = bytearray([TAIL]) * self.frames
        self.order = bytearray(self.frames)
        self.data = {}
        self.spans = [(p.zones[z][0] >> self.shift, p.zones[z][1] >> self.shift) for z in range(3)]
        self.free = [[set() for _ in range(p.max_order + 1)] for _ in range(3)]
        self.nr_free = [0, 0, 0]
        for z, (start, end) in enumerate(self.spans):
            pfn = start
            while pfn < end:
                o = p.max_order
                while o > 0 and (pfn % (1 << o) or pfn + (1 << o) > end):
                    o -= 1
                self._add(z, pfn, o)
                self.nr_free[z] += 1 << o
                pfn += 1 << o
        return None

    # ---- free lists ----
    def _zone(self, pfn):
        for z, (start, end) in enumerate(self.spans):
            if start <= pfn < end:
                return z
        return 0

    def _add(self, z, pfn, o):
        self.state[pfn], self.order[pfn] = FREE, o
        self.free[z][o].add(pfn)

    def _alloc(self, gfp, order, strip_highmem):
        if order < 0:
            raise kmm.Invalid("order", "negative order %d" % order)
        if gfp & ~kmm.GFP_KNOWN or (gfp & kmm.GFP_BUFFER and not self.p.has_gfp_buffer):
            raise kmm.Invalid("gfp", "gfp 0x%x is not known to this profile" % gfp)
        if strip_highmem:
            gfp &= ~kmm.GFP_HIGHMEM
        if order > self.p.max_order:
            return None
        zones = [kmm.DMA] if gfp & kmm.GFP_DMA else ([kmm.HIGHMEM] if gfp & kmm.GFP_HIGHMEM else []) + [kmm.NORMAL, kmm.DMA]
        if not gfp & kmm.GFP_HIGH and sum(self.nr_free[z] for z in zones) - (1 << order) < self.p.emergency_reserve_pages:
            return None
        for z in zones:
            for cur in range(order, self.p.max_order + 1):
                if self.free[z][cur]:
                    pfn = min(self.free[z][cur])
                    self.free[z][cur].discard(pfn)
                    self.state[pfn] = TAIL
                    while cur > order:
                        cur -= 1
                        self._add(z, pfn + (1 << cur), cur)
                    self.state[pfn], self.order[pfn] = ALLOC, order
                    self.nr_free[z] -= 1 << order
                    if gfp & kmm.GFP_ZERO:
                        for f in range(pfn, pfn + (1 << order)):
                            self.data.pop(f, None)
                    return pfn
        return None

    def _free(self, pfn, order, caller):
        if self.state[pfn] != ALLOC:
            raise kmm.Bug("PAGE-4", "%s: pfn 0x%x is not the start of a live allocation" % (caller, pfn))
        if self.order[pfn] != order:
            raise kmm.Bug("PAGE-4", "%s: pfn 0x%x freed with order %d, allocated with order %d" % (caller, pfn, order, self.order[pfn]))
        z = self._zone(pfn)
        self.nr_free[z] += 1 << order
        self.state[pfn] = TAIL
        start, end = self.spans[z]
        while order < self.p.max_order and not self.broken:
            buddy = pfn ^ (1 << order)
            if not (start <= buddy < end) or buddy not in self.free[z][order]:
                break
            self.free[z][order].discard(buddy)
            self.state[buddy] = TAIL
            pfn &= buddy
            order += 1
        self._add(z, pfn, order)

    # ---- PageAllocator ----
    def _virt(self, pfn):
        return self.p.page_offset + (pfn << self.shift)

    def _direct(self, addr):
        return self.p.page_offset <= addr < self.p.page_offset + (self.low_end << self.shift)

    def get_free_pages(self, gfp, order):
        pfn = self._alloc(gfp, order, True)
        return 0 if pfn is None else self._virt(pfn)

    def get_zeroed_page(self, gfp):
        return self.get_free_pages(gfp | kmm.GFP_ZERO, 0)

    def alloc_pages(self, gfp, order):
        pfn = self._alloc(gfp, order, False)
        return 0 if pfn is None else pfn + 1

    def free_pages(self, addr, order):
        if addr == 0:
            return
        if not self._direct(addr) or addr % self.p.page_size:
            raise kmm.Bug("PAGE-4", "free_pages(0x%x): not the address of a page allocation" % addr)
        self._free((addr - self.p.page_offset) >> self.shift, order, "free_pages")

    def free_pages_of(self, page, order):
        if page == 0:
            return
        if page > self.frames:
            raise kmm.Bug("PAGE-4", "__free_pages(0x%x): not a page descriptor" % page)
        self._free(page - 1, order, "__free_pages")

    def _pfn(self, page):
        if not 0 < page <= self.frames:
            raise kmm.Invalid("page", "0x%x is not a page descriptor" % page)
        return page - 1

    def page_to_pfn(self, page):
        return self._pfn(page)

    def pfn_to_page(self, pfn):
        if pfn >= self.frames:
            raise kmm.Invalid("pfn", "pfn 0x%x is beyond RAM" % pfn)
        return pfn + 1

    def page_address(self, page):
        pfn = self._pfn(page)
        return self._virt(pfn) if pfn < self.low_end else 0

    def page_zone(self, page):
        return self._zone(self._pfn(page))

    def virt_to_phys(self, addr):
        if not self._direct(addr):
            raise kmm.Invalid("addr", "virt_to_phys(0x%x): not a direct-mapped address" % addr)
        return addr - self.p.page_offset

    def free_blocks(self, zone, order):
        return len(self.free[zone][order]) if 0 <= order <= self.p.max_order else 0

    def drain_caches(self):
        pass

    def _check(self, addr, length):
        at = addr
        while at < addr + length:
            if not self._direct(at):
                raise kmm.Fault(at)
            at = (at | (self.p.page_size - 1)) + 1

    def read(self, addr, length):
        self._check(addr, length)
        out = bytearray()
        while len(out) < length:
            at = addr + len(out)
            pfn, off = (at - self.p.page_offset) >> self.shift, at % self.p.page_size
            n = min(self.p.page_size - off, length - len(out))
            page = self.data.get(pfn)
            out += page[off:off + n] if page else bytes(n)
        return bytes(out)

    def write(self, addr, data):
        self._check(addr, len(data))
        done = 0
        while done < len(data):
            at = addr + done
            pfn, off = (at - self.p.page_offset) >> self.shift, at % self.p.page_size
            n = min(self.p.page_size - off, len(data) - done)
            page = self.data.setdefault(pfn, bytearray(self.p.page_size))
            page[off:off + n] = data[done:done + n]
            done += n


    # ---- atomic_t: 32-bit counters that wrap; each operation under one lock ----
    def _atomic(self, v, i, update):
        if not 0 <= v < self.COUNTERS:
            raise kmm.Invalid("v", "atomic_t %d does not exist (counters 0..%d)" % (v, self.COUNTERS - 1))
        if not -2**31 <= i < 2**31:
            raise kmm.Invalid("i", "%d does not fit atomic_t's int" % i)
        with self.atomic_lock:
            new = update(self.counters[v], i)
            self.counters[v] = (new + 2**31) % 2**32 - 2**31
            return self.counters[v]

    def atomic_counters(self):
        return self.COUNTERS

    def atomic_read(self, v):
        return self._atomic(v, 0, lambda old, i: old)

    def atomic_set(self, v, i):
        self._atomic(v, i, lambda old, i: i)

    def atomic_add_return(self, i, v):
        return self._atomic(v, i, lambda old, i: old + i)

    def atomic_sub_return(self, i, v):
        return self._atomic(v, i, lambda old, i: old - i)

    def atomic_add(self, i, v):
        self.atomic_add_return(i, v)

    def atomic_sub(self, i, v):
        self.atomic_sub_return(i, v)

    def atomic_inc(self, v):
        self.atomic_add_return(1, v)

    def atomic_dec(self, v):
        self.atomic_sub_return(1, v)

    def atomic_inc_return(self, v):
        return self.atomic_add_return(1, v)

    def atomic_dec_return(self, v):
        return self.atomic_sub_return(1, v)

    def atomic_sub_and_test(self, i, v):
        return self.atomic_sub_return(i, v) == 0

    def atomic_dec_and_test(self, v):
        return self.atomic_sub_return(1, v) == 0

    def atomic_inc_and_test(self, v):
        return self.atomic_add_return(1, v) == 0

    def atomic_add_negative(self, i, v):
        return self.atomic_add_return(i, v) < 0


def _locked(method):
    @functools.wraps(method)
    def call(self, *args):
        with self.lock:
            return method(self, *args)
    return call


# SMP safety: every page method holds the allocator's lock (lanes take turns inside it).
for _method, _since in kmm.CAPABILITIES["PageAllocator"]:
    setattr(Buddy, _method, _locked(getattr(Buddy, _method)))


if __name__ == "__main__":
    sys.exit(kmm.run(Buddy(broken_coalesce="--broken-coalesce" in sys.argv[1:])))
