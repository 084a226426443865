/*
 * live: the user-space part of the conformance protocol, answered by the Linux kernel this program
 * runs on. Each simulated process is a real child process; mmap, munmap, mprotect, fork and exit are
 * the real system calls; loads and stores catch SIGSEGV and SIGBUS and report the fault; files are
 * real temporary files. The suite runs its user family against it: every rule the live kernel can
 * show must pass (see README.md).
 *
 * Architecture: this process (the "machine") speaks newline-delimited JSON on stdin/stdout. Every
 * simulated process is a server loop in a child, reached over a SOCK_SEQPACKET socket pair; fork
 * hands the new child its socket with SCM_RIGHTS. A process exits when its socket closes, so nothing
 * outlives the machine. Simulated processes never map anything themselves outside what the suite
 * asks, and the helper refuses requests that would unmap or remap memory of its own.
 *
 * Build: make (gcc, Linux). Facts, not code, were taken from the kernel's documentation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 64
#define MAX_FILES 64
#define MAX_DATA 65536
#define MAX_LINE (2 * MAX_DATA + 4096)
#define MAX_REGIONS 256

/* ---- Messages between the machine and a process ---------------------------------------------------- */

enum { P_EXIT = 1, P_FORK, P_FAULTS, P_OPEN, P_OPEN_SERIAL, P_CLOSE, P_MMAP, P_MUNMAP, P_MPROTECT, P_READ, P_WRITE };
enum { F_NONE = 0, F_MAPERR, F_ACCERR, F_BUS, F_OOM };

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
            if ((flags & MAP_FIXED) && len && addr + len > addr && touches_own_memory(addr & ~4095UL, (addr + len + 4095) & ~4095UL)) {
                send_rep(sock, 0, -1, NULL, 0);       /* refused: would replace the helper's own memory */
                break;
            }
            void *p = mmap((void *)addr, len, prot, flags, fd == sock ? -1 : fd, off);
            if (p == MAP_FAILED) { send_rep(sock, -errno, 0, NULL, 0); break; }
            uint64_t s = (uint64_t)p, e = s + ((len + 4095) & ~4095UL);
            if (flags & MAP_FIXED) track_remove(s, e);
            track_add(s, e);
            send_rep(sock, (int64_t)s, 0, NULL, 0);
            break;
        }
        case P_MUNMAP: case P_MPROTECT: {
            uint64_t addr = q.a[0], len = q.a[1];
            uint64_t end = (addr + len + 4095) & ~4095UL;
            if (len && end > addr && addr < 0x800000000000UL && touches_own_memory(addr & ~4095UL, end)) {
                send_rep(sock, 0, -1, NULL, 0);
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

static int call(int pid, struct req *q, const void *payload, int plen, struct rep *r, void *out, int outmax, int passfd)
{
    if (pid < 1 || pid > nprocs || procs[pid - 1].sock < 0) return -1;
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

static int new_process_slot(int sock, int pid)
{
    if (nprocs >= MAX_PROCS) return -ENOMEM;
    procs[nprocs].pid = pid;
    procs[nprocs].sock = sock;
    return ++nprocs;
}

static int create_process(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -errno;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { close(sv[0]); close(sv[1]); return -errno; }
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

static void reset(void)
{
    for (int i = 0; i < nprocs; i++) if (procs[i].sock >= 0) close(procs[i].sock);   /* each process exits on EOF */
    nprocs = 0;
    for (int i = 0; i < nfiles; i++) { close(files[i].fd); unlink(files[i].path); }
    nfiles = 0;
}

static void cleanup(void) { reset(); if (tmpdir[0]) rmdir(tmpdir); }

/* ---- JSON lines ------------------------------------------------------------------------------------ */

static char line[MAX_LINE], out[MAX_LINE];

static const char *field(const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(line, key);
    if (!p) return NULL;
    p += strlen(key);
    while (*p == ' ') p++;
    return p;
}

static int64_t num(const char *name, int64_t fallback)
{
    const char *p = field(name);
    if (!p) return fallback;
    if (*p == '"') return (int64_t)strtoull(p + 1, NULL, 0);
    return strtoll(p, NULL, 10);
}

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static int bytes_field(const char *name, unsigned char *buf, int max)
{
    const char *p = field(name);
    if (!p || *p != '"') return -1;
    p++;
    int n = 0;
    while (p[0] && p[0] != '"' && p[1] && n < max) { buf[n++] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1])); p += 2; }
    return n;
}

static void answer(long id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(out, sizeof out, "{\"id\":%ld,\"ok\":true,\"value\":", id);
    n += vsnprintf(out + n, sizeof out - (size_t)n, fmt, ap);
    va_end(ap);
    printf("%s}\n", out);
}

static void error(long id, const char *kind, const char *message)
{
    printf("{\"id\":%ld,\"ok\":false,\"error\":{\"kind\":\"%s\",\"parameter\":\"pid\",\"message\":\"%s\"}}\n", id, kind, message);
}

static void hex(char *dst, const unsigned char *src, int n)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) { dst[2 * i] = digits[src[i] >> 4]; dst[2 * i + 1] = digits[src[i] & 15]; }
    dst[2 * n] = 0;
}

static const char *fault_name(int f)
{
    return f == F_MAPERR ? "maperr" : f == F_ACCERR ? "accerr" : f == F_BUS ? "bus" : f == F_OOM ? "oom" : "none";
}

int main(void)
{
    static unsigned char data[MAX_DATA];
    static char hexbuf[2 * MAX_DATA + 1];
    signal(SIGCHLD, SIG_IGN);                 /* processes are reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/kmm-live-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    atexit(cleanup);

    while (fgets(line, sizeof line, stdin)) {
        long id = (long)num("id", 0);
        const char *op = field("op");
        if (!op) continue;
        char name[32] = {0};
        sscanf(op, "\"%31[^\"]\"", name);
        struct req q = {0};
        struct rep r = {0};
        int pid = (int)num("pid", 0);

        if (!strcmp(name, "hello")) {
            reset();
            const char *profile = field("profile");
            int64_t versions = num("protocol", 1);
            const char *v = field("versions");
            if (v && *v == '[') { const char *last = strchr(v, ']'); while (last && last > v && (last[-1] < '0' || last[-1] > '9')) last--; if (last) { const char *d = last; while (d > v && d[-1] >= '0' && d[-1] <= '9') d--; versions = strtol(d, NULL, 10); } }
            if (!profile || !strstr(profile, "\"name\":\"x86-64\"") || sysconf(_SC_PAGESIZE) != 4096)
                printf("{\"id\":%ld,\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"this is Linux on x86-64 with 4 KiB pages: only the x86-64 profile\"}}\n", id);
            else
                printf("{\"id\":%ld,\"ok\":true,\"protocol\":%lld,\"name\":\"linux-%s\",\"capabilities\":[\"UserMemory\"]}\n", id, (long long)versions, "live");
        } else if (!strcmp(name, "shutdown")) {
            answer(id, "null");
            fflush(stdout);
            return 0;
        } else if (!strcmp(name, "createProcess")) {
            answer(id, "%d", create_process());
        } else if (!strcmp(name, "createFile")) {
            long size = (long)num("size", -1);
            if (size < 0 || nfiles >= MAX_FILES) { error(id, "invalid", "bad size or too many files"); goto next; }
            snprintf(files[nfiles].path, sizeof files[nfiles].path, "%s/f%d", tmpdir, nfiles + 1);
            int fd = open(files[nfiles].path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0 || ftruncate(fd, size) < 0) { answer(id, "%d", -ENOMEM); goto next; }
            files[nfiles].fd = fd;
            files[nfiles].size = size;
            answer(id, "%d", ++nfiles);
        } else if (!strcmp(name, "readFile") || !strcmp(name, "writeFile")) {
            int f = (int)num("file", 0);
            int64_t off = num("offset", -1);
            if (f < 1 || f > nfiles || off < 0) { error(id, "invalid", "no such file or a negative offset"); goto next; }
            if (name[0] == 'r') {
                int len = (int)num("len", 0);
                if (len > MAX_DATA) len = MAX_DATA;
                ssize_t n = pread(files[f - 1].fd, data, (size_t)len, off);
                hex(hexbuf, data, n < 0 ? 0 : (int)n);
                answer(id, "\"%s\"", hexbuf);
            } else {
                int len = bytes_field("data", data, MAX_DATA);
                if (len < 0 || off + len > files[f - 1].size) { error(id, "invalid", "a write past the end of the file"); goto next; }
                if (pwrite(files[f - 1].fd, data, (size_t)len, off) != len) { error(id, "invalid", "pwrite failed"); goto next; }
                answer(id, "null");
            }
        } else if (pid < 1 || pid > nprocs || procs[pid - 1].sock < 0) {
            error(id, "invalid", "no such process");
        } else if (!strcmp(name, "fork")) {
            int sv[2];
            if (nprocs >= MAX_PROCS || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) { answer(id, "%d", -ENOMEM); goto next; }
            q.op = P_FORK;
            if (call(pid, &q, NULL, 0, &r, NULL, 0, sv[1]) < 0) { error(id, "invalid", "process lost"); close(sv[0]); close(sv[1]); goto next; }
            close(sv[1]);
            if (r.r < 0) { close(sv[0]); answer(id, "%lld", (long long)r.r); goto next; }
            struct rep ready;
            if (recv(sv[0], &ready, sizeof ready, 0) != sizeof ready) { close(sv[0]); answer(id, "%d", -ENOMEM); goto next; }
            answer(id, "%d", new_process_slot(sv[0], (int)r.r));
        } else if (!strcmp(name, "exit")) {
            q.op = P_EXIT;
            call(pid, &q, NULL, 0, &r, NULL, 0, -1);
            close(procs[pid - 1].sock);
            procs[pid - 1].sock = -1;
            answer(id, "null");
        } else {
            int passfd = -1, outlen = 0;
            const void *payload = NULL;
            int plen = 0;
            if (!strcmp(name, "pageFaults")) q.op = P_FAULTS;
            else if (!strcmp(name, "open")) {
                int f = (int)num("file", 0);
                if (f < 1 || f > nfiles) { error(id, "invalid", "no such file"); goto next; }
                q.op = P_OPEN; q.a[0] = (uint64_t)num("mode", 2);
                payload = files[f - 1].path; plen = (int)strlen(files[f - 1].path) + 1;
            } else if (!strcmp(name, "openDevice")) {
                if (num("device", -1) != 0) { answer(id, "%d", -ENODEV); goto next; }
                q.op = P_OPEN_SERIAL;
            } else if (!strcmp(name, "close")) { q.op = P_CLOSE; q.a[0] = (uint64_t)num("fd", -1); }
            else if (!strcmp(name, "mmap")) {
                q.op = P_MMAP; q.a[0] = (uint64_t)num("addr", 0); q.a[1] = (uint64_t)num("length", 0);
                q.a[2] = (uint64_t)num("prot", 0); q.a[3] = (uint64_t)num("flags", 0);
                q.a[4] = (uint64_t)num("fd", -1); q.a[5] = (uint64_t)num("offset", 0);
            } else if (!strcmp(name, "munmap") || !strcmp(name, "mprotect")) {
                q.op = name[1] == 'u' ? P_MUNMAP : P_MPROTECT;
                q.a[0] = (uint64_t)num("addr", 0); q.a[1] = (uint64_t)num("length", 0); q.a[2] = (uint64_t)num("prot", 0);
            } else if (!strcmp(name, "userRead")) {
                q.op = P_READ; q.a[0] = (uint64_t)num("addr", 0); q.a[1] = (uint64_t)num("len", 0); outlen = (int)q.a[1];
            } else if (!strcmp(name, "userWrite")) {
                q.op = P_WRITE; q.a[0] = (uint64_t)num("addr", 0);
                plen = bytes_field("data", data, MAX_DATA); payload = data;
            } else {
                printf("{\"id\":%ld,\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"unknown operation %s\"}}\n", id, name);
                goto next;
            }
            if (call(pid, &q, payload, plen < 0 ? 0 : plen, &r, data, MAX_DATA, passfd) < 0) { error(id, "invalid", "process lost"); goto next; }
            if (r.fault < 0) { error(id, "invalid", "refused: the range holds memory of the helper itself, outside what the suite mapped"); goto next; }
            if (q.op == P_READ) {
                hex(hexbuf, data, r.fault == F_NONE ? outlen : 0);
                answer(id, "{\"fault\":\"%s\",\"data\":\"%s\"}", fault_name(r.fault), hexbuf);
            } else if (q.op == P_WRITE) answer(id, "\"%s\"", fault_name(r.fault));
            else answer(id, "%lld", (long long)r.r);
        }
    next:
        fflush(stdout);
    }
    return 0;
}
