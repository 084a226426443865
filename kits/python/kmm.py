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
"""

import json
import os
import sys
from collections import namedtuple

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


class _Session:
    def __init__(self, kernel):
        self.kernel = kernel
        self.booted = False
        self.version = 0
        self.capabilities = []
        self.profile = None
        self.remembered = {}
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
        answer = {"ok": True, "protocol": self.version, "name": self.kernel.name, "capabilities": self.capabilities,
                  "features": ["snapshot", "references", "offsets"] if self.implements("free_blocks") else ["references", "offsets"]}
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
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("id"), int) or not isinstance(request.get("op"), str):
            rid = request.get("id") if isinstance(request, dict) and isinstance(request.get("id"), int) else None
            return {"id": rid, "ok": False, "error": {"kind": "invalid", "parameter": "request", "message": "malformed request"}}
        answer = self.answer(request)
        # Values of recent answers, for later requests that refer to them.
        value = answer.get("value")
        if answer.get("ok") and isinstance(value, (int, str)) and not isinstance(value, bool):
            try:
                self.remembered[request["id"]] = _int(value)
            except ValueError:
                pass
        if len(self.remembered) > 256:
            del self.remembered[next(iter(self.remembered))]
        return dict({"id": request["id"]}, **answer)

    def answer(self, request):
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
            args = [_arg(request, name, t, self.remembered) for name, t in fields]
            return {"ok": True, "value": _value(kind, self.call(method, *args), request)}
        except KernelError as e:
            error = {"kind": e.kind, "message": str(e)}
            error.update(e.fields())
            return {"ok": False, "error": error}


def run(kernel, infile=0, outfile=1):
    """Serves the protocol on file descriptors (stdin/stdout by default) until end of input or "shutdown"."""
    session = _Session(kernel)
    pending = b""
    while True:
        chunk = os.read(infile, 1 << 16)
        if not chunk:
            return 0
        pending += chunk
        *lines, pending = pending.split(b"\n")
        answers = []
        try:
            for line in lines:
                if line.strip():
                    answers.append(json.dumps(session.handle(line), separators=(",", ":")))
        except SystemExit:
            answers.append('{"id":%d,"ok":true,"value":null}' % json.loads(line)["id"])
            _write(outfile, answers)
            return 0
        _write(outfile, answers)


def _write(fd, answers):
    # Answers to every request already read go out in one write.
    data = ("\n".join(answers) + "\n").encode() if answers else b""
    while data:
        n = os.write(fd, data)
        data = data[n:]
