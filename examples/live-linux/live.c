/*
 * live: the Linux kernel this program runs on, as an implementation of the user-space part of the
 * conformance protocol (docs/protocol.md, protocol 4, capability UserMemory), on the C kit (kits/c).
 * Each simulated process is a real child process; mmap, munmap, mprotect, fork and exit are the real
 * system calls; loads and stores catch SIGSEGV and SIGBUS and report the fault; files are real
 * temporary files. The suite runs its user family against it: every rule the live kernel can show
 * must pass (see README.md).
 *
 * Architecture: this process (the "machine") speaks the protocol on stdin/stdout through the kit.
 * Every simulated process is a server loop in a child, reached over a SOCK_SEQPACKET socket pair;
 * fork hands the new child its socket with SCM_RIGHTS. A process exits when its socket closes, so
 * nothing outlives the machine. Simulated processes never map anything themselves outside what the
 * suite asks, and the helper refuses requests that would unmap or remap memory of its own.
 *
 * Build: make (gcc or clang, Linux). Facts, not code, were taken from the kernel's documentation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmm.h"

#define PAGE 4096UL
#define MAX_PROCS 64
#define MAX_FILES 64
#define MAX_DATA 65536
#define MAX_REGIONS 256
/* TASK_SIZE of x86-64 with 4-level page tables: one guard page below 2^47. */
#define X86_64_TASK_SIZE 0x7ffffffff000UL

/* ---- Messages between the machine and a process ---------------------------------------------------- */

enum { P_EXIT = 1, P_FORK, P_FAULTS, P_OPEN, P_OPEN_SERIAL, P_CLOSE, P_MMAP, P_MUNMAP, P_MPROTECT, P_READ, P_WRITE };
/* How an access ended, in the process; F_REFUSED: the request would touch the helper's own memory. */
enum { F_NONE = 0, F_MAPERR, F_ACCERR, F_BUS, F_REFUSED = -1 };

struct req { int32_t op; int32_t len; uint64_t a[6]; };
struct rep { int64_t r; int32_t fault; int32_t len; };

static unsigned char msgbuf[sizeof(struct req) + MAX_DATA];

/* ---- A simulated process: its server loop ------------------------------------------------------- */

static sigjmp_buf fault_jump;
static volatile sig_atomic_t fault_sig, fault_code;
static struct { uint64_t start, end; } regions[MAX_REGIONS];   /* what the suite mapped here */
static int nregions;

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    fault_sig = sig;
    fault_code = info->si_code;
    siglongjmp(fault_jump, 1);
}

static int fault_kind(void)
{
    if (fault_sig == SIGBUS) return F_BUS;
    return fault_code == SEGV_ACCERR ? F_ACCERR : F_MAPERR;
}

static void track_add(uint64_t start, uint64_t end)
{
    if (nregions < MAX_REGIONS) { regions[nregions].start = start; regions[nregions].end = end; nregions++; }
}

static void track_remove(uint64_t start, uint64_t end)
{
    for (int i = 0; i < nregions; i++) {
        if (regions[i].end <= start || regions[i].start >= end) continue;
        uint64_t s = regions[i].start, e = regions[i].end;
        regions[i] = regions[--nregions];
        i--;
        if (s < start) track_add(s, start);
        if (end < e) track_add(end, e);
    }
}

/* Whether [start, end) holds memory this program did not map for the suite (its text, libraries, stack). */
static int touches_own_memory(uint64_t start, uint64_t end)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return 1;
    char line[512];
    int own = 0;
    while (!own && fgets(line, sizeof line, maps)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) != 2 || e <= start || s >= end) continue;
        /* every overlapped byte must lie in a region the suite made */
        uint64_t from = s < start ? start : s, to = e > end ? end : e;
        while (from < to) {
            int covered = 0;
            for (int i = 0; i < nregions; i++)
                if (from >= regions[i].start && from < regions[i].end) { from = regions[i].end; covered = 1; break; }
            if (!covered) { own = 1; break; }
        }
    }
    fclose(maps);
    return own;
}

static void send_rep(int sock, int64_t r, int fault, const void *data, int len)
{
    struct rep h = { r, fault, len };
    memcpy(msgbuf, &h, sizeof h);
    if (len > 0) memcpy(msgbuf + sizeof h, data, (size_t)len);
    if (send(sock, msgbuf, sizeof h + (size_t)len, 0) < 0) _exit(1);
}

static void serve(int channel)
{
    static unsigned char data[MAX_DATA];
    static int sock;
    sock = channel;
    /* Only the processes catch faults: a fault in the machine is a bug of the helper and must kill it. */
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    for (;;) {
        struct msghdr msg = {0};
        struct iovec iov = { msgbuf, sizeof msgbuf };
        char control[CMSG_SPACE(sizeof(int))];
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(sock, &msg, 0);
        if (n <= 0) _exit(0);                        /* the machine is gone */
        struct req q;
        memcpy(&q, msgbuf, sizeof q);
        const unsigned char *payload = msgbuf + sizeof q;
        switch (q.op) {
        case P_EXIT:
            send_rep(sock, 0, 0, NULL, 0);
            _exit(0);
        case P_FORK: {
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            if (!c || c->cmsg_type != SCM_RIGHTS) { send_rep(sock, -EINVAL, 0, NULL, 0); break; }
            int child_sock;
            memcpy(&child_sock, CMSG_DATA(c), sizeof child_sock);
            pid_t pid = fork();
            if (pid == 0) { close(sock); sock = child_sock; send_rep(sock, 0, 0, NULL, 0); continue; }
            close(child_sock);
            send_rep(sock, pid < 0 ? -errno : pid, 0, NULL, 0);
            break;
        }
        case P_FAULTS: {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            send_rep(sock, ru.ru_minflt + ru.ru_majflt, 0, NULL, 0);
            break;
        }
        case P_OPEN: {
            int flags = q.a[0] == 0 ? O_RDONLY : q.a[0] == 1 ? O_WRONLY : O_RDWR;
            int fd = open((const char *)payload, flags | O_CLOEXEC);
            send_rep(sock, fd < 0 ? -errno : fd, 0, NULL, 0);
            break;
        }
        case P_OPEN_SERIAL: {
            /* a pseudo-terminal master: a tty, whose driver has no mmap method */
            int fd = posix_openpt(O_RDWR | O_NOCTTY);
            if (fd < 0) { int p[2]; fd = pipe(p) == 0 ? p[0] : -errno; }
            send_rep(sock, fd, 0, NULL, 0);
            break;
        }
        case P_CLOSE: {
            int fd = (int)q.a[0];
            int r = fd == sock || fd <= 2 ? -EBADF : close(fd) == 0 ? 0 : -errno;
            send_rep(sock, r, 0, NULL, 0);
            break;
        }
        case P_MMAP: {
            uint64_t addr = q.a[0], len = q.a[1];
            int prot = (int)q.a[2], flags = (int)q.a[3], fd = (int)(int64_t)q.a[4];
            int64_t off = (int64_t)q.a[5];
            if ((flags & MAP_FIXED) && len && addr + len > addr && touches_own_memory(addr & ~(PAGE - 1), (addr + len + PAGE - 1) & ~(PAGE - 1))) {
                send_rep(sock, 0, F_REFUSED, NULL, 0);
                break;
            }
            void *p = mmap((void *)addr, len, prot, flags, fd == sock ? -1 : fd, off);
            if (p == MAP_FAILED) { send_rep(sock, -errno, 0, NULL, 0); break; }
            uint64_t s = (uint64_t)p, e = s + ((len + PAGE - 1) & ~(PAGE - 1));
            if (flags & MAP_FIXED) track_remove(s, e);
            track_add(s, e);
            send_rep(sock, (int64_t)s, 0, NULL, 0);
            break;
        }
        case P_MUNMAP: case P_MPROTECT: {
            uint64_t addr = q.a[0], len = q.a[1];
            uint64_t end = (addr + len + PAGE - 1) & ~(PAGE - 1);
            if (len && end > addr && addr < 0x800000000000UL && touches_own_memory(addr & ~(PAGE - 1), end)) {
                send_rep(sock, 0, F_REFUSED, NULL, 0);
                break;
            }
            int r = q.op == P_MUNMAP ? munmap((void *)addr, len) : mprotect((void *)addr, len, (int)q.a[2]);
            if (r == 0 && q.op == P_MUNMAP) track_remove(addr, end);
            send_rep(sock, r == 0 ? 0 : -errno, 0, NULL, 0);
            break;
        }
        case P_READ: case P_WRITE: {
            volatile unsigned char *at = (volatile unsigned char *)q.a[0];
            int len = q.op == P_READ ? (int)q.a[1] : q.len;
            if (len > MAX_DATA) len = MAX_DATA;
            fault_sig = 0;
            if (sigsetjmp(fault_jump, 1) == 0) {
                if (q.op == P_READ) for (int i = 0; i < len; i++) data[i] = at[i];
                else for (int i = 0; i < len; i++) at[i] = payload[i];
                send_rep(sock, 0, F_NONE, data, q.op == P_READ ? len : 0);
            } else {
                send_rep(sock, 0, fault_kind(), NULL, 0);
            }
            break;
        }
        default:
            send_rep(sock, -ENOSYS, 0, NULL, 0);
        }
    }
}

/* ---- The machine --------------------------------------------------------------------------------- */

static struct { int pid, sock; } procs[MAX_PROCS];            /* by suite pid - 1 */
static int nprocs;
static struct { char path[320]; int fd; long size; } files[MAX_FILES];
static int nfiles;
static char tmpdir[256];

/* One request to process `pid` and its answer; -1 when the process is gone (its socket closed). */
static int call(int64_t pid, struct req *q, const void *payload, int plen, struct rep *r, void *out, int outmax, int passfd)
{
    q->len = plen;
    memcpy(msgbuf, q, sizeof *q);
    if (plen > 0) memcpy(msgbuf + sizeof *q, payload, (size_t)plen);
    struct iovec iov = { msgbuf, sizeof *q + (size_t)plen };
    struct msghdr msg = {0};
    char control[CMSG_SPACE(sizeof(int))];
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (passfd >= 0) {
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &passfd, sizeof passfd);
    }
    int sock = procs[pid - 1].sock;
    if (sendmsg(sock, &msg, 0) < 0) return -1;
    ssize_t n = recv(sock, msgbuf, sizeof msgbuf, 0);
    if (n < (ssize_t)sizeof *r) return -1;
    memcpy(r, msgbuf, sizeof *r);
    if (out && r->len > 0) memcpy(out, msgbuf + sizeof *r, (size_t)(r->len < outmax ? r->len : outmax));
    return 0;
}

/* Whether `pid` names a live process; reports `invalid` (a pid the machine did not hand out) when not. */
static int known(int64_t pid)
{
    if (pid >= 1 && pid <= nprocs && procs[pid - 1].sock >= 0) return 1;
    kmm_invalid("pid", "no process %lld", (long long)pid);
    return 0;
}

/* Sends a request to a known process; on a lost process or a refused range reports `invalid` and returns 0. */
static int ask(int64_t pid, struct req *q, const void *payload, int plen, struct rep *r, void *out, int outmax)
{
    if (call(pid, q, payload, plen, r, out, outmax, -1) < 0) {
        kmm_invalid("pid", "process %lld is lost (its server loop died)", (long long)pid);
        return 0;
    }
    if (r->fault == F_REFUSED) {
        kmm_invalid("addr", "refused: the range holds memory of the helper itself (its text, libraries or stack), outside what the suite mapped");
        return 0;
    }
    return 1;
}

static int64_t new_process_slot(int sock, int pid)
{
    if (nprocs >= MAX_PROCS) { close(sock); return -ENOMEM; }
    procs[nprocs].pid = pid;
    procs[nprocs].sock = sock;
    return ++nprocs;
}

static void reset(void)
{
    for (int i = 0; i < nprocs; i++) if (procs[i].sock >= 0) close(procs[i].sock);   /* each process exits on EOF */
    nprocs = 0;
    for (int i = 0; i < nfiles; i++) { close(files[i].fd); unlink(files[i].path); }
    nfiles = 0;
}

static void cleanup(void) { reset(); if (tmpdir[0]) rmdir(tmpdir); }

/* ---- The protocol's operations (kits/c callbacks) ------------------------------------------------- */

static const char *boot(const struct kmm_profile *p)
{
    reset();
#if !defined(__x86_64__)
    (void)p;
    return "this helper judges the x86-64 profile, and this machine is not x86-64";
#else
    if (!p->name_given || strcmp(p->name, "x86-64") != 0)
        return "this is Linux on x86-64 with 4 KiB pages: only the x86-64 profile";
    if (sysconf(_SC_PAGESIZE) != (long)PAGE)
        return "the x86-64 profile has 4 KiB pages, and this kernel's pages are of another size";
    if (p->task_size_given && p->task_size != X86_64_TASK_SIZE)
        return "the profile's TASK_SIZE is not x86-64's 0x7ffffffff000";
    return NULL;
#endif
}

static int64_t op_create_process(void)
{
    int sv[2];
    if (nprocs >= MAX_PROCS) return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(sv[0]); close(sv[1]); return -e; }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        if (devnull > 2) close(devnull);
        close(sv[0]);
        for (int i = 0; i < nprocs; i++) if (procs[i].sock >= 0) close(procs[i].sock);
        for (int i = 0; i < nfiles; i++) close(files[i].fd);
        serve(sv[1]);
    }
    close(sv[1]);
    return new_process_slot(sv[0], pid);
}

static int64_t op_fork(int64_t pid)
{
    if (!known(pid)) return 0;
    int sv[2];
    if (nprocs >= MAX_PROCS || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -ENOMEM;
    struct req q = { .op = P_FORK };
    struct rep r;
    if (call(pid, &q, NULL, 0, &r, NULL, 0, sv[1]) < 0) {
        close(sv[0]);
        close(sv[1]);
        kmm_invalid("pid", "process %lld is lost (its server loop died)", (long long)pid);
        return 0;
    }
    close(sv[1]);
    if (r.r < 0) { close(sv[0]); return r.r; }
    struct rep ready;
    if (recv(sv[0], &ready, sizeof ready, 0) != (ssize_t)sizeof ready) { close(sv[0]); return -ENOMEM; }
    return new_process_slot(sv[0], (int)r.r);
}

static void op_exit(int64_t pid)
{
    if (!known(pid)) return;
    struct req q = { .op = P_EXIT };
    struct rep r;
    call(pid, &q, NULL, 0, &r, NULL, 0, -1);
    close(procs[pid - 1].sock);
    procs[pid - 1].sock = -1;
}

static int64_t op_page_faults(int64_t pid)
{
    struct req q = { .op = P_FAULTS };
    struct rep r;
    return known(pid) && ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_create_file(int64_t size)
{
    if (size < 0) { kmm_invalid("size", "negative file size %lld", (long long)size); return 0; }
    if (nfiles >= MAX_FILES) return -ENOMEM;
    snprintf(files[nfiles].path, sizeof files[nfiles].path, "%s/f%d", tmpdir, nfiles + 1);
    int fd = open(files[nfiles].path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -ENOMEM;
    if (ftruncate(fd, size) < 0) { close(fd); unlink(files[nfiles].path); return -ENOMEM; }
    files[nfiles].fd = fd;
    files[nfiles].size = size;
    return ++nfiles;
}

static int known_file(int64_t file)
{
    if (file >= 1 && file <= nfiles) return 1;
    kmm_invalid("file", "no file %lld", (long long)file);
    return 0;
}

static int64_t op_read_file(int64_t file, int64_t offset, int64_t len, uint8_t *out)
{
    if (!known_file(file)) return 0;
    if (offset < 0) { kmm_invalid("offset", "negative file offset %lld", (long long)offset); return 0; }
    if (len < 0) { kmm_invalid("len", "negative length %lld", (long long)len); return 0; }
    ssize_t n = pread(files[file - 1].fd, out, (size_t)len, offset);
    return n < 0 ? 0 : n;
}

static void op_write_file(int64_t file, int64_t offset, const uint8_t *data, int64_t len)
{
    if (!known_file(file)) return;
    if (offset < 0 || offset + len > files[file - 1].size) {
        kmm_invalid("offset", "a write of %lld bytes at %lld reaches past the end of file %lld (%ld bytes)", (long long)len, (long long)offset, (long long)file, files[file - 1].size);
        return;
    }
    if (pwrite(files[file - 1].fd, data, (size_t)len, offset) != len) kmm_invalid("offset", "pwrite failed: %s", strerror(errno));
}

static int64_t op_open(int64_t pid, int64_t file, int64_t mode)
{
    if (!known(pid) || !known_file(file)) return 0;
    if (mode < KMM_O_RDONLY || mode > KMM_O_RDWR) { kmm_invalid("mode", "unknown open mode %lld", (long long)mode); return 0; }
    struct req q = { .op = P_OPEN };
    q.a[0] = (uint64_t)mode;
    struct rep r;
    return ask(pid, &q, files[file - 1].path, (int)strlen(files[file - 1].path) + 1, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_open_device(int64_t pid, int64_t device)
{
    if (!known(pid)) return 0;
    if (device != 0) return -ENODEV;                 /* no driver of ours is in this kernel */
    struct req q = { .op = P_OPEN_SERIAL };
    struct rep r;
    return ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_close(int64_t pid, int64_t fd)
{
    struct req q = { .op = P_CLOSE };
    q.a[0] = (uint64_t)fd;
    struct rep r;
    return known(pid) && ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_mmap(int64_t pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags, int64_t fd, int64_t offset)
{
    struct req q = { .op = P_MMAP, .a = { addr, length, prot, flags, (uint64_t)fd, (uint64_t)offset } };
    struct rep r;
    return known(pid) && ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_munmap(int64_t pid, uint64_t addr, uint64_t length)
{
    struct req q = { .op = P_MUNMAP, .a = { addr, length } };
    struct rep r;
    return known(pid) && ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int64_t op_mprotect(int64_t pid, uint64_t addr, uint64_t length, uint32_t prot)
{
    struct req q = { .op = P_MPROTECT, .a = { addr, length, prot } };
    struct rep r;
    return known(pid) && ask(pid, &q, NULL, 0, &r, NULL, 0) ? r.r : 0;
}

static int user_fault(int f)
{
    return f == F_MAPERR ? KMM_USER_FAULT_MAP_ERROR : f == F_ACCERR ? KMM_USER_FAULT_ACCESS_ERROR
         : f == F_BUS ? KMM_USER_FAULT_BUS : KMM_USER_FAULT_NONE;
}

/* A user access stays within one page (the contract's rule for userRead/userWrite). */
static int within_page(uint64_t addr, int64_t len)
{
    if (len >= 0 && len <= (int64_t)PAGE && (len == 0 || (addr & ~(PAGE - 1)) == ((addr + (uint64_t)len - 1) & ~(PAGE - 1)))) return 1;
    kmm_invalid("addr", "a user access of %lld bytes at 0x%llx crosses a page boundary", (long long)len, (unsigned long long)addr);
    return 0;
}

static int op_user_read(int64_t pid, uint64_t addr, int64_t len, uint8_t *out)
{
    if (!known(pid) || !within_page(addr, len)) return KMM_USER_FAULT_NONE;
    struct req q = { .op = P_READ, .a = { addr, (uint64_t)len } };
    struct rep r;
    if (!ask(pid, &q, NULL, 0, &r, out, (int)len)) return KMM_USER_FAULT_NONE;
    return user_fault(r.fault);
}

static int op_user_write(int64_t pid, uint64_t addr, const uint8_t *data, int64_t len)
{
    if (!known(pid) || !within_page(addr, len)) return KMM_USER_FAULT_NONE;
    struct req q = { .op = P_WRITE, .a = { addr } };
    struct rep r;
    if (!ask(pid, &q, data, (int)len, &r, NULL, 0)) return KMM_USER_FAULT_NONE;
    return user_fault(r.fault);
}

int main(void)
{
    signal(SIGCHLD, SIG_IGN);                 /* processes are reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);         /* orphaned processes stay in this group, reaped here */
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/kmm-live-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    atexit(cleanup);

    /* Named after the kernel it is: "linux-6.18.0 (live)". */
    static char name[128];
    struct utsname u;
    snprintf(name, sizeof name, "linux-%s (live)", uname(&u) == 0 ? u.release : "unknown");
    /* Only UserMemory's callbacks: the kit declares UserMemory alone. Swap (no swap device to force a
     * page out), DriverMmap (no driver of ours in the kernel) and UserCopy (kernel-internal) are not. */
    static struct kmm_ops ops = {
        .boot = boot,
        .create_process = op_create_process, .fork = op_fork, .exit = op_exit, .page_faults = op_page_faults,
        .create_file = op_create_file, .read_file = op_read_file, .write_file = op_write_file,
        .open = op_open, .open_device = op_open_device, .close = op_close,
        .mmap = op_mmap, .munmap = op_munmap, .mprotect = op_mprotect,
        .user_read = op_user_read, .user_write = op_user_write,
    };
    ops.name = name;
    return kmm_main(&ops);
}
