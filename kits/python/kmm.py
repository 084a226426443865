"""kmm: the Python kit of kernel-mm-conformance (docs/protocol.md). Standard library only.

The kit speaks the protocol on stdin/stdout (framing, JSON, hex, version negotiation, errors,
"snapshot", batched answers); an implementation is a subclass of Kernel with one method per
operation it implements (snake_case of the operation: get_free_pages, kmalloc, ...):

    import kmm

    class MyKernel(kmm.Kernel):
        name = "my-allocator"
        def boot(self, profile):            # hello: a fresh machine; None accepts, a string refuses
            self.free = {...}
        def get_free_pages(self, gfp, order):
            ...                             # return the address (an int), 0 for NULL
            raise kmm.Bug("PAGE-4", "...")  # or raise a contract error

    if __name__ == "__main__":
        kmm.run(MyKernel())

A capability is declared when the class has a method for every one of its operations (OPERATIONS
below lists them). Arguments arrive as Python values: addresses, pfns, handles, sizes, orders and
masks as int; zones as int (DMA, NORMAL, HIGHMEM); names as str; written data as bytes; a slab
constructor byte as int or None; an access (protocol 3) as its name ("KernelRead", "KernelWrite",
"UserRead", "UserWrite"); prot, flags and mode (protocol 4) as int; a page list as a list of int.
Return int for addresses and counts (0 is NULL), bool, a zone int, bytes of exactly the requested
length for read, for slab_info a list of SlabInfo, and for translate and tlb_translate the physical
address (int) or the fault's name ("NotPresent", "Protection", "UserAccessToKernel"). Protocol 4
(user space): system calls return their int result or a negated errno (-EINVAL); user_write returns
a user fault's name ("None", "MapError", "AccessError", "Bus", "OutOfMemory"); user_read the bytes
read (exactly len) or a fault's name; read_file the bytes copied (at most len); get_user a tuple
(result, value); last_mmap None or a Vma.

Protocol 5 (CPU lanes; atomic_t and SMP safety): set the class attributes `cpus` (how many lanes, 2..8)
and, when the page methods may be called from several lanes at once, `smp = True`. With lanes, a request
carrying "cpu": k runs on lane k's own thread (requests of one lane in their order, lanes at the same time)
and its answer gets "ns": [t0, t1], time.monotonic_ns() around the call; a request without "cpu" runs on
the reader thread once every lane is idle. The kit takes no lock of its own around your methods: guard
your state yourself (one threading.Lock around every method is fine). atomic_t methods take the counter
`v` (and the operand `i`) as int and return int (the new 32-bit value) or bool.
"""

import json
import os
import sys
import threading
import time
from collections import deque, namedtuple

# Zones, in the order of every per-zone array of the protocol.
DMA, NORMAL, HIGHMEM = 0, 1, 2
ZONE_NAMES = ("DMA", "Normal", "HighMem")

# How the CPU touches an address, and why a translation faults (protocol 3, spec/Contract/Translation.cs).
ACCESS_NAMES = ("KernelRead", "KernelWrite", "UserRead", "UserWrite")
FAULT_NAMES = ("NotPresent", "Protection", "UserAccessToKernel")

# User space (protocol 4, spec/Contract/IUserMemory.cs): PROT_ bits, MAP_ flags, open modes, user faults, errnos.
PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC = 0x0, 0x1, 0x2, 0x4
MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 0x01, 0x02, 0x10, 0x20
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
USER_FAULT_NAMES = ("None", "MapError", "AccessError", "Bus", "OutOfMemory")
EPERM, EBADF, ENOMEM, EACCES, EFAULT, ENODEV, EINVAL, EOVERFLOW = 1, 9, 12, 13, 14, 19, 22, 75

# What a driver's mmap method received (last_mmap): vm_page_prot holds the PROT_ bits.
Vma = namedtuple("Vma", "vm_start vm_end vm_pgoff vm_page_prot shared")

# GFP bits (spec/Contract/Gfp.cs).
GFP_DIRECT_RECLAIM, GFP_IO, GFP_FS, GFP_HIGH = 0x1, 0x2, 0x4, 0x8
GFP_DMA, GFP_HIGHMEM, GFP_HARDWALL, GFP_ZERO, GFP_BUFFER = 0x10, 0x20, 0x40, 0x80, 0x100
GFP_KERNEL = GFP_DIRECT_RECLAIM | GFP_IO | GFP_FS
GFP_ATOMIC = GFP_HIGH
GFP_KNOWN = 0x1FF

# kmem_cache_create flags (spec/Contract/Slab.cs).
SLAB_HWCACHE_ALIGN, SLAB_CACHE_DMA, SLAB_POISON, SLAB_RED_ZONE, SLAB_PANIC, SLAB_NO_REAP = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20

ZERO_SIZE_PTR = 16

SlabInfo = namedtuple("SlabInfo", "name active_objects total_objects object_size laid_out_size objects_per_slab pages_per_slab slabs constructor_calls")


class KernelError(Exception):
    """A contract error: the kit answers the request with it. A refused call must change nothing."""
    kind = "?"

    def fields(self):
        return {}


class Bug(KernelError):
    """A caller bug the kernel's debug checks catch; names the rule, e.g. Bug("PAGE-4", "double free")."""
    kind = "bug"

    def __init__(self, rule, message):
        super().__init__(message)
        self.rule = rule

    def fields(self):
        return {"rule": self.rule}


class Invalid(KernelError):
    """Bad input that is not a documented bug (-EINVAL); names the parameter, e.g. Invalid("order", "negative")."""
    kind = "invalid"

    def __init__(self, parameter, message):
        super().__init__(message)
        self.parameter = parameter

    def fields(self):
        return {"parameter": self.parameter}


class Fault(KernelError):
    """read/write of an unmapped address: the first unmapped byte."""
    kind = "fault"

    def __init__(self, address, message="no kernel mapping"):
        super().__init__(message)
        self.address = address

    def fields(self):
        return {"address": "0x%x" % self.address}


class Panic(KernelError):
    """A kernel panic (SLAB_PANIC on a failed kmem_cache_create)."""
    kind = "panic"


class Profile:
    """The hello profile: every field as a snake_case attribute ("0x..." strings become ints); zones as {zone: (start, end)}."""

    def __init__(self, fields):
        self.raw = fields
        for key, value in fields.items():
            if key == "zones" and isinstance(value, dict):
                value = {ZONE_NAMES.index(z): (_int(v.get("start")), _int(v.get("end"))) for z, v in value.items() if z in ZONE_NAMES}
            elif isinstance(value, str) and value[:2].lower() == "0x":
                value = _int(value)
            setattr(self, _snake(key), value)


class Kernel:
    """Subclass it: set name, define boot(profile) and one method per operation (see OPERATIONS)."""
    name = "python kernel"
    # Protocol 5: lanes (threads standing for CPUs), 2..8, needed to declare AtomicT or Smp; 0 for none.
    cpus = 0
    # Protocol 5: the PageAllocator (and any heap) methods are safe to call from several lanes at once.
    smp = False

    def boot(self, profile):
        return None


def _snake(camel):
    return "".join("_" + c.lower() if c.isupper() else c for c in camel).lstrip("_")


def _int(value):
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value[:2].lower() == "0x":
            return int(value[2:], 16)
        if value.isdigit():
            return int(value)
    raise ValueError("not a number")


# ---- BEGIN GENERATED from conformance/Engine/OutOfProcess/Operations.cs (WireCodegen.PythonTable): do not edit ----
PROTOCOL = 5
# op: (method, capability, since, changes_state, ((field, type), ...), value type)
OPERATIONS = {
    "getFreePages": ("get_free_pages", "PageAllocator", 1, True, (("gfp", "mask"), ("order", "integer"), ), "address"),
    "getZeroedPage": ("get_zeroed_page", "PageAllocator", 1, True, (("gfp", "mask"), ), "address"),
    "freePages": ("free_pages", "PageAllocator", 1, True, (("addr", "address"), ("order", "integer"), ), "none"),
    "allocPages": ("alloc_pages", "PageAllocator", 1, True, (("gfp", "mask"), ("order", "integer"), ), "address"),
    "freePagesOf": ("free_pages_of", "PageAllocator", 1, True, (("page", "address"), ("order", "integer"), ), "none"),
    "pageToPfn": ("page_to_pfn", "PageAllocator", 1, False, (("page", "address"), ), "address"),
    "pfnToPage": ("pfn_to_page", "PageAllocator", 1, False, (("pfn", "address"), ), "address"),
    "pageAddress": ("page_address", "PageAllocator", 1, False, (("page", "address"), ), "address"),
    "pageZone": ("page_zone", "PageAllocator", 1, False, (("page", "address"), ), "zone"),
    "virtToPhys": ("virt_to_phys", "PageAllocator", 1, False, (("addr", "address"), ), "address"),
    "freeBlocks": ("free_blocks", "PageAllocator", 1, False, (("zone", "zone"), ("order", "integer"), ), "integer"),
    "drainCaches": ("drain_caches", "PageAllocator", 1, True, (), "none"),
    "read": ("read", "PageAllocator", 1, False, (("addr", "address"), ("len", "integer"), ), "bytes"),
    "write": ("write", "PageAllocator", 1, True, (("addr", "address"), ("data", "bytes"), ), "none"),
    "preemptDisable": ("preempt_disable", "ExecutionContext", 1, True, (), "none"),
    "preemptEnable": ("preempt_enable", "ExecutionContext", 1, True, (), "none"),
    "irqEnter": ("irq_enter", "ExecutionContext", 1, True, (), "none"),
    "irqExit": ("irq_exit", "ExecutionContext", 1, True, (), "none"),
    "inInterrupt": ("in_interrupt", "ExecutionContext", 1, False, (), "boolean"),
    "inAtomic": ("in_atomic", "ExecutionContext", 1, False, (), "boolean"),
    "sleeps": ("sleeps", "ExecutionContext", 1, False, (), "integer"),
    "kmap": ("kmap", "Highmem", 1, True, (("page", "address"), ), "address"),
    "kunmap": ("kunmap", "Highmem", 1, True, (("page", "address"), ), "none"),
    "kmapAtomic": ("kmap_atomic", "Highmem", 1, True, (("page", "address"), ), "address"),
    "kunmapAtomic": ("kunmap_atomic", "Highmem", 1, True, (("addr", "address"), ), "none"),
    "fillPageCache": ("fill_page_cache", "Reclaim", 1, True, (("pages", "integer"), ), "integer"),
    "reclaimablePages": ("reclaimable_pages", "Reclaim", 1, False, (("zone", "zone"), ), "integer"),
    "dropPageCache": ("drop_page_cache", "Reclaim", 1, True, (), "none"),
    "kmalloc": ("kmalloc", "Kmalloc", 2, True, (("size", "integer"), ("gfp", "mask"), ), "address"),
    "kzalloc": ("kzalloc", "Kmalloc", 2, True, (("size", "integer"), ("gfp", "mask"), ), "address"),
    "krealloc": ("krealloc", "Kmalloc", 2, True, (("p", "address"), ("size", "integer"), ("gfp", "mask"), ), "address"),
    "kfree": ("kfree", "Kmalloc", 2, True, (("p", "address"), ), "none"),
    "ksize": ("ksize", "Kmalloc", 2, False, (("p", "address"), ), "integer"),
    "kmemCacheCreate": ("kmem_cache_create", "SlabCache", 2, True, (("name", "text"), ("size", "integer"), ("align", "integer"), ("flags", "mask"), ("ctor", "optional_byte"), ), "address"),
    "kmemCacheAlloc": ("kmem_cache_alloc", "SlabCache", 2, True, (("cache", "address"), ("gfp", "mask"), ), "address"),
    "kmemCacheFree": ("kmem_cache_free", "SlabCache", 2, True, (("cache", "address"), ("obj", "address"), ), "none"),
    "kmemCacheShrink": ("kmem_cache_shrink", "SlabCache", 2, True, (("cache", "address"), ), "integer"),
    "kmemCacheDestroy": ("kmem_cache_destroy", "SlabCache", 2, True, (("cache", "address"), ), "integer"),
    "slabInfo": ("slab_info", "SlabCache", 2, False, (), "slabinfo"),
    "reapCaches": ("reap_caches", "SlabCache", 2, True, (), "integer"),
    "vmalloc": ("vmalloc", "Vmalloc", 3, True, (("size", "integer"), ), "address"),
    "vzalloc": ("vzalloc", "Vmalloc", 3, True, (("size", "integer"), ), "address"),
    "vfree": ("vfree", "Vmalloc", 3, True, (("addr", "address"), ), "none"),
    "vmallocToPfn": ("vmalloc_to_pfn", "Vmalloc", 3, False, (("addr", "address"), ), "address"),
    "isVmallocAddr": ("is_vmalloc_addr", "Vmalloc", 3, False, (("addr", "address"), ), "boolean"),
    "translate": ("translate", "KernelPageTables", 3, False, (("addr", "address"), ("access", "access"), ), "translation"),
    "ioremap": ("ioremap", "KernelPageTables", 3, True, (("physAddr", "address"), ("size", "integer"), ), "address"),
    "iounmap": ("iounmap", "KernelPageTables", 3, True, (("addr", "address"), ), "none"),
    "pageTablePages": ("page_table_pages", "KernelPageTables", 3, False, (), "integer"),
    "tlbTranslate": ("tlb_translate", "Tlb", 3, True, (("addr", "address"), ("access", "access"), ), "translation"),
    "tlbHits": ("tlb_hits", "Tlb", 3, False, (), "integer"),
    "tlbMisses": ("tlb_misses", "Tlb", 3, False, (), "integer"),
    "tlbEntries": ("tlb_entries", "Tlb", 3, False, (), "integer"),
    "flushTlbKernelRange": ("flush_tlb_kernel_range", "Tlb", 3, True, (("start", "address"), ("end", "address"), ), "none"),
    "flushTlbAll": ("flush_tlb_all", "Tlb", 3, True, (), "none"),
    "createProcess": ("create_process", "UserMemory", 4, True, (), "integer"),
    "fork": ("fork", "UserMemory", 4, True, (("pid", "integer"), ), "integer"),
    "exit": ("exit", "UserMemory", 4, True, (("pid", "integer"), ), "none"),
    "pageFaults": ("page_faults", "UserMemory", 4, False, (("pid", "integer"), ), "integer"),
    "createFile": ("create_file", "UserMemory", 4, True, (("size", "integer"), ), "integer"),
    "readFile": ("read_file", "UserMemory", 4, False, (("file", "integer"), ("offset", "integer"), ("len", "integer"), ), "copied_bytes"),
    "writeFile": ("write_file", "UserMemory", 4, True, (("file", "integer"), ("offset", "integer"), ("data", "bytes"), ), "none"),
    "open": ("open", "UserMemory", 4, True, (("pid", "integer"), ("file", "integer"), ("mode", "integer"), ), "integer"),
    "openDevice": ("open_device", "UserMemory", 4, True, (("pid", "integer"), ("device", "integer"), ), "integer"),
    "close": ("close", "UserMemory", 4, True, (("pid", "integer"), ("fd", "integer"), ), "integer"),
    "mmap": ("mmap", "UserMemory", 4, True, (("pid", "integer"), ("addr", "address"), ("length", "address"), ("prot", "mask"), ("flags", "mask"), ("fd", "integer"), ("offset", "integer"), ), "integer"),
    "munmap": ("munmap", "UserMemory", 4, True, (("pid", "integer"), ("addr", "address"), ("length", "address"), ), "integer"),
    "mprotect": ("mprotect", "UserMemory", 4, True, (("pid", "integer"), ("addr", "address"), ("length", "address"), ("prot", "mask"), ), "integer"),
    "userRead": ("user_read", "UserMemory", 4, True, (("pid", "integer"), ("addr", "address"), ("len", "integer"), ), "user_load"),
    "userWrite": ("user_write", "UserMemory", 4, True, (("pid", "integer"), ("addr", "address"), ("data", "bytes"), ), "user_fault"),
    "swapTotalPages": ("swap_total_pages", "Swap", 4, False, (), "integer"),
    "swapFreePages": ("swap_free_pages", "Swap", 4, False, (), "integer"),
    "swapOut": ("swap_out", "Swap", 4, True, (("pages", "integer"), ), "integer"),
    "anonPages": ("anon_pages", "Swap", 4, False, (("zone", "zone"), ), "integer"),
    "copyFromUser": ("copy_from_user", "UserCopy", 4, True, (("pid", "integer"), ("to", "address"), ("from", "address"), ("n", "integer"), ), "integer"),
    "copyToUser": ("copy_to_user", "UserCopy", 4, True, (("pid", "integer"), ("to", "address"), ("from", "address"), ("n", "integer"), ), "integer"),
    "getUser": ("get_user", "UserCopy", 4, True, (("pid", "integer"), ("addr", "address"), ("size", "integer"), ), "result_with_value"),
    "putUser": ("put_user", "UserCopy", 4, True, (("pid", "integer"), ("addr", "address"), ("size", "integer"), ("value", "address"), ), "integer"),
    "registerRemapDevice": ("register_remap_device", "DriverMmap", 4, True, (("pfn", "address"), ("pages", "integer"), ("remapSize", "integer"), ), "integer"),
    "registerPageListDevice": ("register_page_list_device", "DriverMmap", 4, True, (("pages", "addresses"), ), "integer"),
    "lastMmap": ("last_mmap", "DriverMmap", 4, False, (("device", "integer"), ), "vma"),
    "atomicCounters": ("atomic_counters", "AtomicT", 5, False, (), "integer"),
    "atomicRead": ("atomic_read", "AtomicT", 5, False, (("v", "integer"), ), "integer"),
    "atomicSet": ("atomic_set", "AtomicT", 5, True, (("v", "integer"), ("i", "integer"), ), "none"),
    "atomicAdd": ("atomic_add", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "none"),
    "atomicSub": ("atomic_sub", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "none"),
    "atomicInc": ("atomic_inc", "AtomicT", 5, True, (("v", "integer"), ), "none"),
    "atomicDec": ("atomic_dec", "AtomicT", 5, True, (("v", "integer"), ), "none"),
    "atomicAddReturn": ("atomic_add_return", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "integer"),
    "atomicSubReturn": ("atomic_sub_return", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "integer"),
    "atomicIncReturn": ("atomic_inc_return", "AtomicT", 5, True, (("v", "integer"), ), "integer"),
    "atomicDecReturn": ("atomic_dec_return", "AtomicT", 5, True, (("v", "integer"), ), "integer"),
    "atomicSubAndTest": ("atomic_sub_and_test", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "boolean"),
    "atomicDecAndTest": ("atomic_dec_and_test", "AtomicT", 5, True, (("v", "integer"), ), "boolean"),
    "atomicIncAndTest": ("atomic_inc_and_test", "AtomicT", 5, True, (("v", "integer"), ), "boolean"),
    "atomicAddNegative": ("atomic_add_negative", "AtomicT", 5, True, (("i", "integer"), ("v", "integer"), ), "boolean"),
}
# ---- END GENERATED ----

CAPABILITIES = {}
for _op, (_method, _cap, _since, _state, _fields, _value) in OPERATIONS.items():
    CAPABILITIES.setdefault(_cap, []).append((_method, _since))


def _arg(request, name, kind, remembered):
    if name not in request:
        if kind == "optional_byte":
            return None
        raise Invalid(name, 'missing "%s"' % name)
    value = request[name]
    if isinstance(value, dict) and kind in ("integer", "address") and "answer" in value:
        # {"answer": N}: the value of the answer to request N (feature "references"); with "add": K,
        # that value plus K (feature "offsets").
        if value["answer"] not in remembered:
            raise Invalid(name, '"%s" refers to the answer of request %s, which has no value' % (name, value["answer"]))
        try:
            add = _int(value.get("add", 0))
        except ValueError:
            raise Invalid(name, '"%s": malformed "add"' % name)
        return remembered[value["answer"]] + add
    try:
        if kind == "integer":
            return _int(value)
        if kind == "mask":
            v = _int(value)
            if not 0 <= v <= 0xFFFFFFFF:
                raise ValueError
            return v
        if kind == "address":
            return _int(value)
        if kind == "zone":
            return ZONE_NAMES.index(value)
        if kind == "boolean":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if kind == "access":
            if value not in ACCESS_NAMES:
                raise ValueError
            return value
        if kind == "text":
            if not isinstance(value, str):
                raise ValueError
            return value
        if kind == "bytes":
            return bytes.fromhex(value)
        if kind == "addresses":
            if not isinstance(value, list):
                raise ValueError
            return [_int(v) for v in value]
        if kind == "optional_byte":
            if value is None:
                return None
            v = _int(value)
            if not 0 <= v <= 255:
                raise ValueError
            return v
    except (ValueError, TypeError, AttributeError):
        pass
    raise Invalid(name, 'malformed "%s"' % name)


def _value(kind, result, request):
    if kind == "none":
        return None
    if kind == "address":
        return "0x%x" % (int(result) & 0xFFFFFFFFFFFFFFFF)
    if kind == "integer":
        return int(result)
    if kind == "boolean":
        return bool(result)
    if kind == "zone":
        return result if isinstance(result, str) else ZONE_NAMES[result]
    if kind == "translation":
        # A physical address (int), or a fault's name: "NotPresent", "Protection", "UserAccessToKernel".
        if isinstance(result, str):
            if result not in FAULT_NAMES:
                raise ValueError("unknown translation fault %r" % result)
            return result
        return "0x%x" % (int(result) & 0xFFFFFFFFFFFFFFFF)
    if kind == "bytes":
        data = bytes(result)
        if len(data) != request["len"]:
            raise ValueError("read returned %d bytes, %d were asked for" % (len(data), request["len"]))
        return data.hex()
    if kind == "user_fault":
        name = result if isinstance(result, str) else USER_FAULT_NAMES[result]
        if name not in USER_FAULT_NAMES:
            raise ValueError("unknown user fault %r" % result)
        return name
    if kind == "user_load":
        # The bytes read (exactly len), or a fault's name.
        if isinstance(result, str) and result != "None":
            return {"fault": _value("user_fault", result, request)}
        data = bytes(result)
        if len(data) != request["len"]:
            raise ValueError("user_read returned %d bytes, %d were asked for" % (len(data), request["len"]))
        return {"fault": "None", "data": data.hex()}
    if kind == "copied_bytes":
        data = bytes(result)
        if len(data) > request["len"]:
            raise ValueError("read_file returned %d bytes, at most %d were asked for" % (len(data), request["len"]))
        return data.hex()
    if kind == "result_with_value":
        code, value = result
        return {"result": int(code), "value": "0x%x" % ((int(value) if code == 0 else 0) & 0xFFFFFFFFFFFFFFFF)}
    if kind == "vma":
        if result is None:
            return None
        v = result if isinstance(result, Vma) else Vma(*result)
        return {"vmStart": "0x%x" % v.vm_start, "vmEnd": "0x%x" % v.vm_end, "vmPgoff": "0x%x" % v.vm_pgoff,
                "vmPageProt": int(v.vm_page_prot), "shared": bool(v.shared)}
    if kind == "slabinfo":
        lines = []
        for line in result:
            line = SlabInfo(*line) if not isinstance(line, SlabInfo) else line
            lines.append({"name": line.name, "activeObjects": line.active_objects, "totalObjects": line.total_objects,
                          "objectSize": line.object_size, "laidOutSize": line.laid_out_size, "objectsPerSlab": line.objects_per_slab,
                          "pagesPerSlab": line.pages_per_slab, "slabs": line.slabs, "constructorCalls": line.constructor_calls})
        return lines
    raise ValueError(kind)


MAX_LANES = 8
REMEMBERED = 256


class _Recall:
    """The remembered answers a request may refer to: its own thread's first, then the others given."""

    def __init__(self, own, others):
        self.own = own
        self.others = others

    def __contains__(self, rid):
        return rid in self.own or any(rid in t for t in self.others())

    def __getitem__(self, rid):
        if rid in self.own:
            return self.own[rid]
        for table in self.others():
            if rid in table:
                return table[rid]
        raise KeyError(rid)


def _remember(table, request, answer):
    # Values of recent answers, for later requests that refer to them.
    value = answer.get("value")
    if answer.get("ok") and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            table[request["id"]] = _int(value)
        except ValueError:
            pass
    if len(table) > REMEMBERED:
        del table[next(iter(table))]


class _Lane(threading.Thread):
    """One lane: its own thread, its requests in their order, its own remembered answers."""

    def __init__(self, session, index):
        super().__init__(name="kmm-lane-%d" % index, daemon=True)
        self.session = session
        self.index = index
        self.jobs = deque()
        self.ready = threading.Condition()
        self.remembered = {}
        # A lane refers to its own answers and to the barriers' (never to another lane's: a race).
        self.recall = _Recall(self.remembered, lambda: (session.remembered,))

    def put(self, request):
        with self.ready:
            self.jobs.append(request)
            self.ready.notify()

    def run(self):
        answers = []
        while True:
            with self.ready:
                while not self.jobs and not answers:
                    self.ready.wait()
                request = self.jobs.popleft() if self.jobs else None
            if request is None:
                # The queue is empty: write this lane's answers in one go, then count them done.
                self.session.write_lane(answers)
                answers = []
                continue
            t0 = time.monotonic_ns()
            answer = self.session.answer(request, self.recall)
            t1 = time.monotonic_ns()
            _remember(self.remembered, request, answer)
            answers.append(json.dumps(dict({"id": request["id"]}, **answer, ns=[t0, t1]), separators=(",", ":")))


class _Session:
    def __init__(self, kernel, outfile=1):
        self.kernel = kernel
        self.outfile = outfile
        self.booted = False
        self.version = 0
        self.capabilities = []
        self.cpus = 0
        self.profile = None
        self.remembered = {}
        self.lanes = []
        self.pending = []  # the reader thread's answers, not yet written
        self.writer = threading.Lock()
        self.idle = threading.Condition()
        self.outstanding = 0  # lane requests handed out and not yet written
        # A barrier refers to every earlier answer (every lane is idle while it runs).
        self.recall = _Recall(self.remembered, lambda: [lane.remembered for lane in self.lanes])
        for cap, ops in CAPABILITIES.items():
            present = [m for m, _ in ops if self.implements(m)]
            if present and len(present) < len(ops):
                missing = ", ".join(m for m, _ in ops if m not in present)
                sys.stderr.write("kmm: %s: %s is not declared, these methods are missing: %s\n" % (kernel.name, cap, missing))

    def implements(self, method):
        # Looked up on the class, so that an instance attribute of the same name cannot hide it.
        return callable(getattr(type(self.kernel), method, None))

    def call(self, method, *args):
        return getattr(type(self.kernel), method)(self.kernel, *args)

    def declared(self, version):
        return [cap for cap, ops in CAPABILITIES.items() if all(self.implements(m) and since <= version for m, since in ops)]

    def hello(self, request):
        self.booted = False
        self.cpus = 0
        offered = request.get("versions") or [request.get("protocol")]
        usable = [v for v in offered if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= PROTOCOL]
        if not usable:
            return {"ok": False, "error": {"kind": "unsupported", "message": "this program speaks protocol %d and older" % PROTOCOL}}
        profile = request.get("profile")
        if not isinstance(profile, dict):
            return {"ok": False, "error": {"kind": "unsupported", "message": "hello without a profile object"}}
        self.profile = Profile(profile)
        try:
            why = self.kernel.boot(self.profile)
        except KernelError as e:
            why = str(e)
        if why:
            return {"ok": False, "error": {"kind": "unsupported", "message": str(why)}}
        self.booted = True
        self.version = max(usable)
        self.capabilities = self.declared(self.version)
        # Protocol 5: AtomicT and Smp need lanes (cpus, 2..8).
        cpus = getattr(self.kernel, "cpus", 0)
        lanes_ok = self.version >= 5 and isinstance(cpus, int) and not isinstance(cpus, bool) and 2 <= cpus <= MAX_LANES
        if not lanes_ok:
            self.capabilities = [c for c in self.capabilities if c != "AtomicT"]
        if lanes_ok and getattr(self.kernel, "smp", False) and "PageAllocator" in self.capabilities:
            self.capabilities.append("Smp")
        self.cpus = cpus if "AtomicT" in self.capabilities or "Smp" in self.capabilities else 0
        while len(self.lanes) < self.cpus:
            lane = _Lane(self, len(self.lanes))
            lane.start()
            self.lanes.append(lane)
        answer = {"ok": True, "protocol": self.version, "name": self.kernel.name, "capabilities": self.capabilities,
                  "features": ["snapshot", "references", "offsets"] if self.implements("free_blocks") else ["references", "offsets"]}
        if self.cpus:
            answer["cpus"] = self.cpus
        return answer

    def snapshot(self):
        call = self.call
        orders = range(int(getattr(self.profile, "max_order", 0)) + 1)
        value = {"free": [[int(call("free_blocks", z, o)) for o in orders] for z in range(3)]}
        if "Reclaim" in self.capabilities:
            value["reclaimable"] = [int(call("reclaimable_pages", z)) for z in range(3)]
        if "ExecutionContext" in self.capabilities:
            value["sleeps"] = int(call("sleeps"))
            value["inInterrupt"] = bool(call("in_interrupt"))
            value["inAtomic"] = bool(call("in_atomic"))
        return {"ok": True, "value": value}

    def handle(self, line):
        """Answers a request (the answer goes to self.pending), or hands it to its lane."""
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        well_formed = isinstance(request, dict) and isinstance(request.get("id"), int) and isinstance(request.get("op"), str)
        if well_formed and "cpu" in request:
            lane = self.lane_of(request)
            if lane is not None:
                # Barrier answers still waiting go out before any later request starts.
                self.flush()
                with self.idle:
                    self.outstanding += 1
                lane.put(request)
            return
        # A barrier: it starts once every lane request before it has been answered.
        self.wait_idle()
        if not well_formed:
            rid = request.get("id") if isinstance(request, dict) and isinstance(request.get("id"), int) else None
            self.pending.append({"id": rid, "ok": False, "error": {"kind": "invalid", "parameter": "request", "message": "malformed request"}})
            return
        answer = self.answer(request, self.recall)
        _remember(self.remembered, request, answer)
        self.pending.append(dict({"id": request["id"]}, **answer))

    def lane_of(self, request):
        """The lane of a request with "cpu", or None when it is refused (answered as a barrier)."""
        cpu = request["cpu"]
        why = None
        if request["op"] in ("hello", "shutdown"):
            why = 'hello and shutdown take no "cpu"'
        elif self.booted and not self.cpus:
            why = 'this program runs no lanes (its hello answer has no "cpus")'
        elif self.booted and (not isinstance(cpu, int) or isinstance(cpu, bool) or not 0 <= cpu < self.cpus):
            why = '"cpu" is not a lane of this program'
        if self.booted and why is None:
            return self.lanes[cpu]
        self.wait_idle()
        if why is None:
            error = {"kind": "invalid", "parameter": "op", "message": "not booted: send hello first"}
        else:
            error = {"kind": "invalid", "parameter": "cpu", "message": "%s (lanes: %d)" % (why, self.cpus)}
        self.pending.append({"id": request["id"], "ok": False, "error": error})
        return None

    def wait_idle(self):
        if self.lanes:
            with self.idle:
                while self.outstanding:
                    self.idle.wait()

    def flush(self):
        answers, self.pending = self.pending, []
        if answers:
            with self.writer:
                _write(self.outfile, [a if isinstance(a, str) else json.dumps(a, separators=(",", ":")) for a in answers])

    def write_lane(self, answers):
        with self.writer:
            _write(self.outfile, answers)
        with self.idle:
            self.outstanding -= len(answers)
            if not self.outstanding:
                self.idle.notify_all()

    def answer(self, request, recall):
        op = request["op"]
        if op == "hello":
            return self.hello(request)
        if op == "shutdown":
            raise SystemExit(0)
        if not self.booted:
            return {"ok": False, "error": {"kind": "invalid", "parameter": "op", "message": "not booted: send hello first"}}
        try:
            if op == "snapshot":
                return self.snapshot()
            if op not in OPERATIONS:
                return {"ok": False, "error": {"kind": "unsupported", "message": "unknown op %s" % op}}
            method, _cap, _since, _state, fields, kind = OPERATIONS[op]
            if not self.implements(method):
                return {"ok": False, "error": {"kind": "unsupported", "message": "%s is not implemented" % method}}
            args = [_arg(request, name, t, recall) for name, t in fields]
            return {"ok": True, "value": _value(kind, self.call(method, *args), request)}
        except KernelError as e:
            error = {"kind": e.kind, "message": str(e)}
            error.update(e.fields())
            return {"ok": False, "error": error}


def run(kernel, infile=0, outfile=1):
    """Serves the protocol on file descriptors (stdin/stdout by default) until end of input or "shutdown"."""
    session = _Session(kernel, outfile)
    pending = b""
    while True:
        chunk = os.read(infile, 1 << 16)
        if not chunk:
            session.wait_idle()
            session.flush()
            return 0
        pending += chunk
        *lines, pending = pending.split(b"\n")
        try:
            for line in lines:
                if line.strip():
                    session.handle(line)
        except SystemExit:
            session.pending.append('{"id":%d,"ok":true,"value":null}' % json.loads(line)["id"])
            session.flush()
            return 0
        # Answers to every request already read go out in one write.
        session.flush()


def _write(fd, answers):
    # Answers to every request already read go out in one write.
    data = ("\n".join(answers) + "\n").encode() if answers else b""
    while data:
        n = os.write(fd, data)
        data = data[n:]
