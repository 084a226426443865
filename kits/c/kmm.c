/*
 * kmm.c: the C kit's protocol engine (see kmm.h). Reads requests from stdin, answers every request
 * already read with one write(2) (answer batching), parses each request's flat JSON object, checks
 * and decodes its fields, calls the implementation's callback and encodes the answer or the error.
 * Protocol 5 (CPU lanes, docs/protocol.md "The C kit"): a request with "cpu":k runs on lane k's own
 * thread, in that lane's order; a request without "cpu" is a barrier run by the reader thread when every
 * lane is idle. Without lanes no thread is started and every request runs on the reader thread, as before.
 * C11 and POSIX only (pthreads).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kmm.h"

enum { T_NONE, T_STR, T_NUM, T_TRUE, T_FALSE, T_NULL, T_OBJ, T_ARR };
enum { MAX_KEYS = 24, MAX_DEPTH = 16 };
#define MAX_LINE (64u << 20)
#define MAX_BYTES (16 << 20)
#define KMM_STRINGIFY2(x) #x
#define KMM_STRINGIFY(x) KMM_STRINGIFY2(x)

const char *const kmm_zone_names[KMM_NZONES] = { "DMA", "Normal", "HighMem" };
const char *const kmm_access_names[KMM_NACCESS] = { "KernelRead", "KernelWrite", "UserRead", "UserWrite" };
const char *const kmm_fault_names[KMM_NFAULTS] = { "None", "NotPresent", "Protection", "UserAccessToKernel" };
const char *const kmm_user_fault_names[KMM_NUSER_FAULTS] = { "None", "MapError", "AccessError", "Bus", "OutOfMemory" };

struct kmm_req {
    bool has_id;
    long long id;
    struct kmm_tok op;
    struct kmm_tok cpu; /* protocol 5: the lane, T_NONE for a barrier request */
    int nkeys;
    struct kmm_tok keys[MAX_KEYS], vals[MAX_KEYS];
};

/* The value of an answer, for later requests that refer to it (see recall). */
struct remembered { long long id; uint64_t value; bool valid; };

/* ---- Lanes (protocol 5): state the answer and reference code needs; the threads are further down ---- */

enum { MAX_LANES = 8 };
static int nlanes;                                    /* lane threads started (0: the sequential kit) */
static _Thread_local int lane_index = -1;             /* the calling thread's lane, -1 on the reader thread */
static struct remembered *barrier_remembered;         /* the reader thread's table (barrier answers) */
static struct remembered *lane_remembered[MAX_LANES]; /* each lane thread's table */
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER; /* one write(2) of answers at a time */

/* ---- Output: answers accumulate and go out in one write per batch of input ---------------------- */

/* Per thread: the reader thread's answers (barriers) and each lane's answers accumulate separately. */
static _Thread_local char *ob;
static _Thread_local size_t olen, ocap;

static void out_reserve(size_t n)
{
    if (olen + n <= ocap) return;
    size_t cap = ocap ? ocap : 1 << 16;
    while (olen + n > cap) cap *= 2;
    char *p = realloc(ob, cap);
    if (!p) { fputs("kmm: out of memory\n", stderr); exit(2); }
    ob = p;
    ocap = cap;
}

static void out_n(const char *s, size_t n) { out_reserve(n); memcpy(ob + olen, s, n); olen += n; }
static void out(const char *s) { out_n(s, strlen(s)); }

static void out_u64(uint64_t v, unsigned base)
{
    char tmp[24];
    int n = 0;
    if (base == 10) do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v); /* constant divisors: no div instruction */
    else do { tmp[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    out_reserve((size_t)n);
    while (n) ob[olen++] = tmp[--n];
}

static void out_i64(int64_t v)
{
    if (v < 0) { out("-"); out_u64((uint64_t)0 - (uint64_t)v, 10); }
    else out_u64((uint64_t)v, 10);
}

static void out_hex(uint64_t v) { out("\"0x"); out_u64(v, 16); out("\""); }

/* A JSON string of s: escapes what JSON requires and replaces bytes that are not valid UTF-8 with '?'. */
static void out_json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    out("\"");
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') { char e[2] = { '\\', (char)c }; out_n(e, 2); p++; continue; }
        if (c < 0x20) { char e[8]; snprintf(e, sizeof e, "\\u%04x", c); out(e); p++; continue; }
        if (c < 0x80) { out_n((const char *)p, 1); p++; continue; }
        int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
        bool ok = len > 0;
        for (int i = 1; ok && i < len; i++) ok = (p[i] & 0xc0) == 0x80;
        if (ok && len == 3) ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
        if (ok && len == 4) ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
        if (ok) { out_n((const char *)p, (size_t)len); p += len; }
        else { out("?"); p++; }
    }
    out("\"");
}

static void write_all(void)
{
    size_t done = 0;
    while (done < olen) {
        ssize_t n = write(1, ob + done, olen - done);
        if (n < 0) { if (errno == EINTR) continue; exit(0); /* the runner is gone */ }
        done += (size_t)n;
    }
    olen = 0;
}

/* Reader thread only: lane requests were handed out and not all seen answered since (see wait_lanes_idle). */
static bool lanes_busy;

/* Writes this thread's answers; while lanes may write too, one thread's batch at a time (whole lines). */
static void flush_out(void)
{
    if (!nlanes || (lane_index < 0 && !lanes_busy)) { write_all(); return; }
    if (!olen) return;
    pthread_mutex_lock(&writer);
    write_all();
    pthread_mutex_unlock(&writer);
}

/* ---- Errors ------------------------------------------------------------------------------------ */

static _Thread_local const char *e_kind;
static _Thread_local char e_rule[32], e_param[32], e_msg[400];
static _Thread_local uint64_t e_addr;

static void set_error(const char *kind, const char *fmt, va_list ap)
{
    if (e_kind) return; /* the first error of a call is the one answered */
    e_kind = kind;
    vsnprintf(e_msg, sizeof e_msg, fmt, ap);
}

void kmm_bug(const char *rule, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt);
    if (!e_kind) snprintf(e_rule, sizeof e_rule, "%s", rule ? rule : "?");
    set_error("bug", fmt, ap); va_end(ap);
}

void kmm_invalid(const char *parameter, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt);
    if (!e_kind) snprintf(e_param, sizeof e_param, "%s", parameter ? parameter : "?");
    set_error("invalid", fmt, ap); va_end(ap);
}

void kmm_fault(uint64_t address, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt);
    if (!e_kind) e_addr = address;
    set_error("fault", fmt, ap); va_end(ap);
}

void kmm_panic(const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); set_error("panic", fmt, ap); va_end(ap);
}

bool kmm_failed(void) { return e_kind != NULL; }

/* ---- Answers ------------------------------------------------------------------------------------- */

static _Thread_local size_t answer_mark; /* where the current request's answer starts in the output */

/* The values of recent answers, for requests that refer to them ({"answer":N}, feature "references"). */
#define REMEMBERED 256
static _Thread_local struct remembered remembered[REMEMBERED];


static void remember(const struct kmm_req *r, bool valid, uint64_t value)
{
    if (!r->has_id) return;
    unsigned slot = (unsigned)((unsigned long long)r->id % REMEMBERED);
    remembered[slot].id = r->id;
    remembered[slot].valid = valid;
    remembered[slot].value = value;
}

static void begin(const struct kmm_req *r)
{
    remember(r, false, 0);
    answer_mark = olen;
    if (!r->has_id) { out("{\"id\":null,"); return; }
    out("{\"id\":");
    out_i64(r->id);
    out(",");
}

static void answer_error(const struct kmm_req *r)
{
    olen = answer_mark;
    begin(r);
    out("\"ok\":false,\"error\":{\"kind\":\"");
    out(e_kind);
    out("\"");
    if (!strcmp(e_kind, "bug")) { out(",\"rule\":"); out_json_string(e_rule); }
    if (!strcmp(e_kind, "invalid")) { out(",\"parameter\":"); out_json_string(e_param); }
    if (!strcmp(e_kind, "fault")) { out(",\"address\":"); out_hex(e_addr); }
    out(",\"message\":");
    out_json_string(e_msg);
    out("}}\n");
}

/* Every answer writer: the error instead, when the callback reported one. */
#define ANSWER_OR_ERROR(r) do { if (e_kind) { answer_error(r); return; } begin(r); } while (0)

static void kmm_answer_null(const struct kmm_req *r) { ANSWER_OR_ERROR(r); out("\"ok\":true,\"value\":null}\n"); }
static void kmm_answer_int(const struct kmm_req *r, int64_t v) { ANSWER_OR_ERROR(r); remember(r, true, (uint64_t)v); out("\"ok\":true,\"value\":"); out_i64(v); out("}\n"); }
static void kmm_answer_address(const struct kmm_req *r, uint64_t v) { ANSWER_OR_ERROR(r); remember(r, true, v); out("\"ok\":true,\"value\":"); out_hex(v); out("}\n"); }
static void kmm_answer_bool(const struct kmm_req *r, bool v) { ANSWER_OR_ERROR(r); out(v ? "\"ok\":true,\"value\":true}\n" : "\"ok\":true,\"value\":false}\n"); }

static void kmm_answer_zone(const struct kmm_req *r, int zone)
{
    if (!e_kind && (zone < 0 || zone >= KMM_NZONES)) kmm_invalid("zone", "the implementation answered zone %d", zone);
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":\"");
    out(kmm_zone_names[zone]);
    out("\"}\n");
}

__attribute__((unused)) static void kmm_answer_translation(const struct kmm_req *r, struct kmm_translation t)
{
    if (!e_kind && (t.fault < 0 || t.fault >= KMM_NFAULTS)) kmm_invalid("addr", "the implementation answered fault %d", t.fault);
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":");
    if (t.fault == KMM_FAULT_NONE) out_hex(t.phys);
    else { out("\""); out(kmm_fault_names[t.fault]); out("\""); }
    out("}\n");
}

/* Bytes as one hex string, two digits per byte. */
static void out_hex_bytes(const uint8_t *b, int64_t n)
{
    out("\"");
    out_reserve((size_t)n * 2);
    for (int64_t i = 0; i < n; i++) {
        ob[olen++] = "0123456789abcdef"[b[i] >> 4];
        ob[olen++] = "0123456789abcdef"[b[i] & 15];
    }
    out("\"");
}

static void kmm_answer_bytes(const struct kmm_req *r, const uint8_t *b, int64_t n)
{
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":");
    out_hex_bytes(b, n);
    out("}\n");
}

/* ---- Protocol 4 answers (user space) ---- */

__attribute__((unused)) static void kmm_answer_user_fault(const struct kmm_req *r, int fault)
{
    if (!e_kind && (fault < 0 || fault >= KMM_NUSER_FAULTS)) kmm_invalid("addr", "the implementation answered user fault %d", fault);
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":\"");
    out(kmm_user_fault_names[fault]);
    out("\"}\n");
}

/* user_read: {"fault":"None","data":"<len bytes>"}, or {"fault":"<name>"}. */
__attribute__((unused)) static void kmm_answer_user_load(const struct kmm_req *r, int fault, const uint8_t *b, int64_t n)
{
    if (!e_kind && (fault < 0 || fault >= KMM_NUSER_FAULTS)) kmm_invalid("addr", "the implementation answered user fault %d", fault);
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":{\"fault\":\"");
    out(kmm_user_fault_names[fault]);
    out("\"");
    if (fault == KMM_USER_FAULT_NONE) { out(",\"data\":"); out_hex_bytes(b, n); }
    out("}}\n");
}

/* read_file: the first count (0..len) bytes as hex. */
__attribute__((unused)) static void kmm_answer_copied_bytes(const struct kmm_req *r, const uint8_t *b, int64_t count, int64_t len)
{
    if (!e_kind && (count < 0 || count > len)) kmm_invalid("len", "the implementation copied %lld bytes of %lld", (long long)count, (long long)len);
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":");
    out_hex_bytes(b, count);
    out("}\n");
}

/* get_user: {"result":N,"value":"0x..."}. */
__attribute__((unused)) static void kmm_answer_result_with_value(const struct kmm_req *r, int64_t result, uint64_t value)
{
    ANSWER_OR_ERROR(r);
    out("\"ok\":true,\"value\":{\"result\":");
    out_i64(result);
    out(",\"value\":");
    out_hex(result == 0 ? value : 0);
    out("}}\n");
}

/* last_mmap: the vma, or null when the driver's mmap was never called. */
__attribute__((unused)) static void kmm_answer_vma(const struct kmm_req *r, bool found, const struct kmm_vma *v)
{
    ANSWER_OR_ERROR(r);
    if (!found) { out("\"ok\":true,\"value\":null}\n"); return; }
    out("\"ok\":true,\"value\":{\"vmStart\":");
    out_hex(v->vm_start);
    out(",\"vmEnd\":");
    out_hex(v->vm_end);
    out(",\"vmPgoff\":");
    out_hex(v->vm_pgoff);
    out(",\"vmPageProt\":");
    out_u64(v->vm_page_prot, 10);
    out(v->shared ? ",\"shared\":true}}\n" : ",\"shared\":false}}\n");
}

static void kmm_unsupported(const struct kmm_req *r)
{
    begin(r);
    out("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"this program does not implement this operation\"}}\n");
}

/* slabInfo: the lines are written as the callback reports them; an error discards them. */
static _Thread_local int slab_lines = -1;

static void kmm_slabinfo_begin(const struct kmm_req *r)
{
    begin(r);
    out("\"ok\":true,\"value\":[");
    slab_lines = 0;
}

void kmm_slabinfo_line(const struct kmm_slabinfo *l)
{
    if (slab_lines < 0 || e_kind) return;
    out(slab_lines++ ? ",{\"name\":" : "{\"name\":");
    out_json_string(l->name ? l->name : "");
    out(",\"activeObjects\":"); out_i64(l->active_objects);
    out(",\"totalObjects\":"); out_i64(l->total_objects);
    out(",\"objectSize\":"); out_i64(l->object_size);
    out(",\"laidOutSize\":"); out_i64(l->laid_out_size);
    out(",\"objectsPerSlab\":"); out_i64(l->objects_per_slab);
    out(",\"pagesPerSlab\":"); out_i64(l->pages_per_slab);
    out(",\"slabs\":"); out_i64(l->slabs);
    out(",\"constructorCalls\":"); out_i64(l->constructor_calls);
    out("}");
}

static void kmm_slabinfo_end(const struct kmm_req *r)
{
    slab_lines = -1;
    if (e_kind) { answer_error(r); return; }
    out("]}\n");
}

/* ---- Request parsing: one flat JSON object per line; nested values are kept as raw spans -------- */

static _Thread_local const char *p;

static void ws(void) { while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++; }

static bool string_tok(struct kmm_tok *t)
{
    if (*p != '"') return false;
    const char *s = ++p;
    while (*p && *p != '"') {
        if (*p == '\\') { if (!p[1]) return false; p++; }
        p++;
    }
    if (*p != '"') return false;
    t->type = T_STR;
    t->s = s;
    t->n = (size_t)(p - s);
    p++;
    return true;
}

static bool value_tok(struct kmm_tok *v, int depth);

/* Skips an object or array, recording its raw span. */
static bool nested_tok(struct kmm_tok *v, int depth)
{
    if (depth > MAX_DEPTH) return false;
    char close = *p == '{' ? '}' : ']';
    bool object = *p == '{';
    v->type = object ? T_OBJ : T_ARR;
    v->s = p++;
    ws();
    if (*p == close) { p++; v->n = (size_t)(p - v->s); return true; }
    for (;;) {
        struct kmm_tok k, x;
        ws();
        if (object) {
            if (!string_tok(&k)) return false;
            ws();
            if (*p != ':') return false;
            p++;
            ws();
        }
        if (!value_tok(&x, depth + 1)) return false;
        ws();
        if (*p == ',') { p++; continue; }
        if (*p == close) { p++; v->n = (size_t)(p - v->s); return true; }
        return false;
    }
}

static bool value_tok(struct kmm_tok *v, int depth)
{
    v->type = T_NONE;
    v->s = p;
    v->n = 0;
    if (*p == '{' || *p == '[') return nested_tok(v, depth);
    if (*p == '"') return string_tok(v);
    if (!strncmp(p, "true", 4)) { v->type = T_TRUE; p += 4; return true; }
    if (!strncmp(p, "false", 5)) { v->type = T_FALSE; p += 5; return true; }
    if (!strncmp(p, "null", 4)) { v->type = T_NULL; p += 4; return true; }
    size_t n = strspn(p, "-+0123456789.eE");
    if (n == 0) return false;
    v->type = T_NUM;
    v->n = n;
    p += n;
    return true;
}

/* Always inlined: with a literal (the generated dispatch's op names) the length is a constant, so a name of
   another length is rejected in two instructions. */
__attribute__((always_inline)) static inline bool kmm_tok_is(const struct kmm_tok *t, const char *s)
{
    size_t n = strlen(s);
    return t->type == T_STR && t->n == n && memcmp(t->s, s, n) == 0;
}

__attribute__((always_inline)) static inline bool kmm_op_is(const struct kmm_req *r, const char *s) { return kmm_tok_is(&r->op, s); }

/* An integer: a JSON integer, or a string holding a decimal or "0x" hex number. */
static bool kmm_tok_int(const struct kmm_tok *t, int64_t *out_v)
{
    char buf[40];
    if ((t->type != T_NUM && t->type != T_STR) || t->n == 0 || t->n >= sizeof buf) return false;
    memcpy(buf, t->s, t->n);
    buf[t->n] = 0;
    char *end;
    errno = 0;
    if (buf[0] == '-') *out_v = strtoll(buf, &end, 10);
    else if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        if (!buf[2] || strspn(buf + 2, "0123456789abcdefABCDEF") != strlen(buf + 2)) return false;
        *out_v = (int64_t)strtoull(buf, &end, 16);
    } else {
        if (strspn(buf, "0123456789") != strlen(buf)) return false;
        *out_v = (int64_t)strtoull(buf, &end, 10);
    }
    return *end == 0 && errno == 0;
}

static bool kmm_tok_address(const struct kmm_tok *t, uint64_t *out_v)
{
    int64_t v;
    if (t->type == T_NULL) { *out_v = 0; return false; }
    if (!kmm_tok_int(t, &v)) return false;
    *out_v = (uint64_t)v;
    return true;
}

static bool kmm_tok_bool(const struct kmm_tok *t, bool *out_v)
{
    if (t->type != T_TRUE && t->type != T_FALSE) return false;
    *out_v = t->type == T_TRUE;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A JSON string, unescaped into buf (UTF-8); false when not a string or too long. */
static bool kmm_tok_text(const struct kmm_tok *t, char *buf, size_t cap)
{
    if (t->type != T_STR || cap == 0) return false;
    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        unsigned c = (unsigned char)t->s[i];
        if (c == '\\') {
            char e = t->s[++i];
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                if (i + 4 >= t->n) return false;
                unsigned u = 0;
                for (int k = 1; k <= 4; k++) { int h = hexval(t->s[i + k]); if (h < 0) return false; u = u << 4 | (unsigned)h; }
                i += 4;
                char enc[3];
                int len = 0;
                if (u < 0x80) enc[len++] = (char)u;
                else if (u < 0x800) { enc[len++] = (char)(0xc0 | u >> 6); enc[len++] = (char)(0x80 | (u & 0x3f)); }
                else { enc[len++] = (char)(0xe0 | u >> 12); enc[len++] = (char)(0x80 | ((u >> 6) & 0x3f)); enc[len++] = (char)(0x80 | (u & 0x3f)); }
                if (o + (size_t)len >= cap) return false;
                memcpy(buf + o, enc, (size_t)len);
                o += (size_t)len;
                continue;
            }
            default: c = (unsigned char)e; break;
            }
        }
        if (o + 1 >= cap) return false;
        buf[o++] = (char)c;
    }
    buf[o] = 0;
    return true;
}

/* [1, 2, 3] into out (at most max); false when not an array of integers. */
static bool kmm_tok_int_list(const struct kmm_tok *t, int64_t *list, int max, int *count)
{
    if (t->type != T_ARR) return false;
    const char *save = p;
    p = t->s + 1;
    *count = 0;
    bool ok = true;
    ws();
    while (ok && *p != ']') {
        struct kmm_tok v;
        int64_t x;
        ok = value_tok(&v, 0) && kmm_tok_int(&v, &x);
        if (ok && *count < max) list[(*count)++] = x;
        ws();
        if (*p == ',') { p++; ws(); }
    }
    p = save;
    return ok;
}

static bool kmm_tok_text_list(const struct kmm_tok *t, char (*list)[48], int max, int *count)
{
    if (t->type != T_ARR) return false;
    const char *save = p;
    p = t->s + 1;
    *count = 0;
    bool ok = true;
    ws();
    while (ok && *p != ']') {
        struct kmm_tok v;
        ok = value_tok(&v, 0) && v.type == T_STR;
        if (ok && *count < max) ok = kmm_tok_text(&v, list[(*count)++], 48);
        ws();
        if (*p == ',') { p++; ws(); }
    }
    p = save;
    return ok;
}

static const struct kmm_tok *field(const struct kmm_req *r, const char *key)
{
    for (int i = 0; i < r->nkeys; i++)
        if (kmm_tok_is(&r->keys[i], key)) return &r->vals[i];
    return NULL;
}

/* ---- Field getters for the generated dispatch: each answers `invalid` (naming the field) when it fails ---- */

static bool missing(const char *key)
{
    kmm_invalid(key, "missing or malformed \"%s\"", key);
    return false;
}

/*
 * The remembered answer to request `id`, or NULL. A lane finds its own earlier answers and those of the
 * barriers before it, never another lane's (that would be a race); a barrier finds every earlier answer
 * (every lane is idle while it runs).
 */
static const struct remembered *recall(long long id)
{
    unsigned slot = (unsigned)((unsigned long long)id % REMEMBERED);
    if (remembered[slot].id == id && remembered[slot].valid) return &remembered[slot];
    if (!nlanes) return NULL;
    if (lane_index >= 0) {
        const struct remembered *b = &barrier_remembered[slot];
        return b->id == id && b->valid ? b : NULL;
    }
    for (int k = 0; k < nlanes; k++) {
        const struct remembered *l = &lane_remembered[k][slot];
        if (l->id == id && l->valid) return l;
    }
    return NULL;
}

/*
 * A field holding {"answer":N} stands for the value of the answer to request N (feature
 * "references"), {"answer":N,"add":K} for that value plus K (feature "offsets"): 1 and the value
 * when that answer had one, -1 when it did not (failed, null, or too long ago), 0 when the field is
 * not a reference.
 */
static int reference(const struct kmm_tok *t, uint64_t *v, long long *id)
{
    if (t->type != T_OBJ) return 0;
    const char *save = p;
    p = t->s + 1;
    struct kmm_tok k, n;
    int found = 0;
    int64_t add = 0;
    ws();
    if (string_tok(&k) && kmm_tok_is(&k, "answer")) {
        ws();
        if (*p++ == ':') {
            ws();
            int64_t x;
            if (value_tok(&n, 1) && kmm_tok_int(&n, &x)) { *id = x; found = 1; }
            ws();
            if (found && *p == ',') {
                p++;
                ws();
                found = 0;
                if (string_tok(&k) && kmm_tok_is(&k, "add")) {
                    ws();
                    if (*p++ == ':') { ws(); if (value_tok(&n, 1) && kmm_tok_int(&n, &add)) found = 1; }
                }
            }
        }
    }
    p = save;
    if (!found) return 0;
    const struct remembered *hit = recall(*id);
    if (!hit) return -1;
    *v = hit->value + (uint64_t)add;
    return 1;
}

static bool referenced(const struct kmm_tok *t, const char *key, uint64_t *v, bool *is_reference)
{
    long long id = 0;
    int found = reference(t, v, &id);
    *is_reference = found != 0;
    if (found < 0) kmm_invalid(key, "\"%s\" refers to the answer of request %lld, which has no value", key, id);
    return found > 0;
}

static bool kmm_get_int(const struct kmm_req *r, const char *key, int64_t *v)
{
    const struct kmm_tok *t = field(r, key);
    bool is_reference;
    uint64_t u;
    if (t && referenced(t, key, &u, &is_reference)) { *v = (int64_t)u; return true; }
    if (t && is_reference) return false;
    return (t && kmm_tok_int(t, v)) || missing(key);
}

static bool kmm_get_mask(const struct kmm_req *r, const char *key, uint32_t *v)
{
    int64_t x;
    const struct kmm_tok *t = field(r, key);
    if (!t || !kmm_tok_int(t, &x)) return missing(key);
    if (x < 0 || x > 0xffffffffLL) { kmm_invalid(key, "\"%s\" %lld is not a 32-bit mask", key, (long long)x); return false; }
    *v = (uint32_t)x;
    return true;
}

static bool kmm_get_address(const struct kmm_req *r, const char *key, uint64_t *v)
{
    const struct kmm_tok *t = field(r, key);
    bool is_reference;
    if (t && referenced(t, key, v, &is_reference)) return true;
    if (t && is_reference) return false;
    if (t && t->type == T_NULL) { *v = 0; return true; }
    return (t && kmm_tok_address(t, v)) || missing(key);
}

static bool kmm_get_zone(const struct kmm_req *r, const char *key, int *v)
{
    const struct kmm_tok *t = field(r, key);
    for (int z = 0; t && z < KMM_NZONES; z++)
        if (kmm_tok_is(t, kmm_zone_names[z])) { *v = z; return true; }
    kmm_invalid(key, "\"%s\" is not \"DMA\", \"Normal\" or \"HighMem\"", key);
    return false;
}

__attribute__((unused)) static bool kmm_get_access(const struct kmm_req *r, const char *key, int *v)
{
    const struct kmm_tok *t = field(r, key);
    for (int a = 0; t && a < KMM_NACCESS; a++)
        if (kmm_tok_is(t, kmm_access_names[a])) { *v = a; return true; }
    kmm_invalid(key, "\"%s\" is not \"KernelRead\", \"KernelWrite\", \"UserRead\" or \"UserWrite\"", key);
    return false;
}

__attribute__((unused)) static bool kmm_get_bool(const struct kmm_req *r, const char *key, bool *v)
{
    const struct kmm_tok *t = field(r, key);
    return (t && kmm_tok_bool(t, v)) || missing(key);
}

static bool kmm_get_text(const struct kmm_req *r, const char *key, char *buf, size_t cap)
{
    const struct kmm_tok *t = field(r, key);
    return (t && kmm_tok_text(t, buf, cap)) || missing(key);
}

static bool kmm_get_optional_byte(const struct kmm_req *r, const char *key, int *v)
{
    int64_t x;
    const struct kmm_tok *t = field(r, key);
    if (!t || t->type == T_NULL) { *v = -1; return true; }
    if (!kmm_tok_int(t, &x) || x < 0 || x > 255) { kmm_invalid(key, "\"%s\" is not null or 0..255", key); return false; }
    *v = (int)x;
    return true;
}

static _Thread_local uint8_t *scratch;
static _Thread_local size_t scratch_cap;

static uint8_t *grow_scratch(size_t n)
{
    if (n <= scratch_cap) return scratch;
    uint8_t *s = realloc(scratch, n);
    if (!s) { fputs("kmm: out of memory\n", stderr); exit(2); }
    scratch = s;
    scratch_cap = n;
    return s;
}

static bool kmm_get_bytes(const struct kmm_req *r, const char *key, const uint8_t **data, int64_t *len)
{
    const struct kmm_tok *t = field(r, key);
    if (!t || t->type != T_STR || t->n % 2 || t->n / 2 > MAX_BYTES) return missing(key);
    uint8_t *b = grow_scratch(t->n / 2 + 1);
    for (size_t i = 0; i < t->n / 2; i++) {
        int hi = hexval(t->s[2 * i]), lo = hexval(t->s[2 * i + 1]);
        if (hi < 0 || lo < 0) return missing(key);
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *data = b;
    *len = (int64_t)(t->n / 2);
    return true;
}

/* An array of "0x..." strings (registerPageListDevice's pages), into a buffer of the kit's. */
static _Thread_local uint64_t *address_list;
static _Thread_local size_t address_list_cap;

__attribute__((unused)) static bool kmm_get_address_list(const struct kmm_req *r, const char *key, const uint64_t **list, int64_t *count)
{
    const struct kmm_tok *t = field(r, key);
    if (!t || t->type != T_ARR) return missing(key);
    const char *save = p;
    p = t->s + 1;
    size_t n = 0;
    bool ok = true;
    ws();
    while (ok && *p != ']') {
        struct kmm_tok v;
        uint64_t x;
        ok = value_tok(&v, 0) && v.type == T_STR && kmm_tok_address(&v, &x);
        if (ok && n == address_list_cap) {
            size_t cap = address_list_cap ? address_list_cap * 2 : 64;
            uint64_t *grown = cap <= MAX_BYTES ? realloc(address_list, cap * sizeof *grown) : NULL;
            if (!grown) ok = false;
            else { address_list = grown; address_list_cap = cap; }
        }
        if (ok) address_list[n++] = x;
        ws();
        if (*p == ',') { p++; ws(); }
    }
    p = save;
    if (!ok) return missing(key);
    *list = address_list;
    *count = (int64_t)n;
    return true;
}

/* The buffer a read fills: len bytes, zeroed. */
static uint8_t *kmm_scratch(const struct kmm_req *r, int64_t len)
{
    (void)r;
    if (len < 0 || len > MAX_BYTES) { kmm_invalid("len", "length %lld is out of range", (long long)len); return NULL; }
    uint8_t *b = grow_scratch((size_t)len + 1);
    memset(b, 0, (size_t)len);
    return b;
}

#define KMM_IMPLEMENTATION
#include "kmm_generated.h"

/* ---- Protocol requests: hello, snapshot, shutdown ------------------------------------------------- */

static const struct kmm_ops *ops;
static bool booted;
static int version;
static unsigned caps;
static bool smp;  /* Smp declared by the last hello */
static int cpus;  /* lanes declared by the last hello (0: none; then no request may carry "cpu") */
static struct kmm_profile profile;

static bool start_lanes(int n);

static void parse_zones(const struct kmm_tok *t)
{
    const char *save = p;
    p = t->s + 1;
    for (;;) {
        struct kmm_tok k, v;
        ws();
        if (!string_tok(&k)) break;
        ws();
        if (*p++ != ':') break;
        ws();
        if (!value_tok(&v, 1)) break;
        int z = -1;
        for (int i = 0; i < KMM_NZONES; i++) if (kmm_tok_is(&k, kmm_zone_names[i])) z = i;
        if (z >= 0 && v.type == T_OBJ) {
            const char *inner = p;
            p = v.s + 1;
            for (;;) {
                struct kmm_tok k2, v2;
                ws();
                if (!string_tok(&k2)) break;
                ws();
                if (*p++ != ':') break;
                ws();
                if (!value_tok(&v2, 2)) break;
                if (kmm_tok_is(&k2, "start")) kmm_tok_address(&v2, &profile.zone_start[z]);
                if (kmm_tok_is(&k2, "end")) kmm_tok_address(&v2, &profile.zone_end[z]);
                ws();
                if (*p == ',') p++;
            }
            p = inner;
        }
        ws();
        if (*p == ',') p++;
    }
    p = save;
}

static void parse_profile(const struct kmm_tok *t)
{
    memset(&profile, 0, sizeof profile);
    const char *save = p;
    p = t->s + 1;
    for (;;) {
        struct kmm_tok k, v;
        ws();
        if (!string_tok(&k)) break;
        ws();
        if (*p++ != ':') break;
        ws();
        if (!value_tok(&v, 1)) break;
        if (kmm_tok_is(&k, "zones") && v.type == T_OBJ) parse_zones(&v);
        else kmm_profile_field(&profile, &k, &v);
        ws();
        if (*p == ',') p++;
    }
    p = save;
}

/* The highest version both sides speak: from "versions" (protocol 2 runners), else "protocol". */
static int negotiate(const struct kmm_req *r)
{
    const struct kmm_tok *vs = field(r, "versions"), *pv = field(r, "protocol");
    int best = 0;
    if (vs && vs->type == T_ARR) {
        int64_t list[16];
        int n = 0;
        if (kmm_tok_int_list(vs, list, 16, &n))
            for (int i = 0; i < n; i++)
                if (list[i] <= KMM_PROTOCOL && list[i] > best) best = (int)list[i];
    }
    int64_t v;
    if (!best && pv && kmm_tok_int(pv, &v) && v >= 1 && v <= KMM_PROTOCOL) best = (int)v;
    return best;
}

static void refuse(const struct kmm_req *r, const char *why)
{
    begin(r);
    out("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":");
    out_json_string(why);
    out("}}\n");
}

static void hello(const struct kmm_req *r)
{
    booted = false;
    cpus = 0;
    smp = false;
    int v = negotiate(r);
    if (!v) { refuse(r, "this program speaks protocol " KMM_STRINGIFY(KMM_PROTOCOL) " and older"); return; }
    const struct kmm_tok *pt = field(r, "profile");
    if (!pt || pt->type != T_OBJ) { refuse(r, "hello without a profile object"); return; }
    parse_profile(pt);
    /* Protocol 5: AtomicT (from its callbacks) and Smp (ops->smp) need lanes: ops->cpus threads, 2..8.
       Decided before boot, so that boot may ask kmm_lanes(). */
    unsigned c = kmm_capabilities(ops, v);
    bool lanes_ok = v >= 5 && ops->cpus >= 2 && ops->cpus <= MAX_LANES;
    if (!lanes_ok) c &= ~(unsigned)KMM_CAP_ATOMIC_T;
    bool s = lanes_ok && ops->smp && (c & KMM_CAP_PAGE_ALLOCATOR);
    cpus = (c & KMM_CAP_ATOMIC_T) || s ? ops->cpus : 0;
    const char *why = ops->boot ? ops->boot(&profile) : NULL;
    if (e_kind) { why = e_msg; e_kind = NULL; }
    if (why) { cpus = 0; refuse(r, why); return; }
    booted = true;
    version = v;
    caps = c;
    smp = s;
    begin(r);
    out("\"ok\":true,\"protocol\":");
    out_i64(v);
    out(",\"name\":");
    out_json_string(ops->name ? ops->name : "kmm program");
    out(",\"capabilities\":[");
    int n = 0;
    for (int i = 0; i < KMM_NCAPS; i++)
        if (caps & (1u << i)) { out(n++ ? ",\"" : "\""); out(kmm_capability_names[i]); out("\""); }
    if (smp) out(n++ ? ",\"Smp\"" : "\"Smp\"");
    out("]");
    if (cpus) { out(",\"cpus\":"); out_i64(cpus); }
    out(ops->free_blocks ? ",\"features\":[\"snapshot\",\"references\",\"offsets\"]" : ",\"features\":[\"references\",\"offsets\"]");
    out("}\n");
}

/* "snapshot": every buddyinfo column, the page cache, sleeps and context in one answer. */
static void snapshot(const struct kmm_req *r)
{
    int64_t max_order = profile.max_order_given ? profile.max_order : 0;
    if (!ops->free_blocks || max_order < 0 || max_order > 63) { kmm_unsupported(r); return; }
    size_t mark = olen;
    begin(r);
    out("\"ok\":true,\"value\":{\"free\":[");
    for (int z = 0; z < KMM_NZONES; z++) {
        out(z ? ",[" : "[");
        for (int64_t o = 0; o <= max_order; o++) {
            if (o) out(",");
            out_i64(ops->free_blocks(z, o));
        }
        out("]");
    }
    out("]");
    if (caps & KMM_CAP_RECLAIM) {
        out(",\"reclaimable\":[");
        for (int z = 0; z < KMM_NZONES; z++) { if (z) out(","); out_i64(ops->reclaimable_pages(z)); }
        out("]");
    }
    if (caps & KMM_CAP_EXECUTION_CONTEXT) {
        out(",\"sleeps\":");
        out_i64(ops->sleeps());
        out(ops->in_interrupt() ? ",\"inInterrupt\":true" : ",\"inInterrupt\":false");
        out(ops->in_atomic() ? ",\"inAtomic\":true" : ",\"inAtomic\":false");
    }
    out("}}\n");
    if (e_kind) { answer_mark = mark; answer_error(r); }
}


/* ---- Requests --------------------------------------------------------------------------------------- */

/* Parses one request line into r (tokens point into the line); false when it is no well-formed request. */
static bool parse_request(const char *line, struct kmm_req *r)
{
    r->has_id = false;
    r->id = 0;
    r->nkeys = 0;
    r->op.type = T_NONE;
    r->cpu.type = T_NONE;
    p = line;
    ws();
    bool ok = *p == '{';
    if (ok) {
        p++;
        ws();
        if (*p == '}') p++;
        else for (;;) {
            struct kmm_tok k, v;
            ws();
            if (!string_tok(&k)) { ok = false; break; }
            ws();
            if (*p != ':') { ok = false; break; }
            p++;
            ws();
            if (!value_tok(&v, 1)) { ok = false; break; }
            if (kmm_tok_is(&k, "id") && v.type == T_NUM) { r->has_id = true; r->id = strtoll(v.s, NULL, 10); }
            else if (kmm_tok_is(&k, "op")) r->op = v;
            else if (k.n == 3 && !memcmp(k.s, "cpu", 3)) r->cpu = v;
            else if (r->nkeys < MAX_KEYS) { r->keys[r->nkeys] = k; r->vals[r->nkeys++] = v; }
            ws();
            if (*p == ',') { p++; continue; }
            if (*p == '}') { p++; break; }
            ok = false;
            break;
        }
        ws();
    }
    return ok && !*p && r->has_id && r->op.type == T_STR;
}

/* Answers a request that was parsed (on any thread): snapshot or an operation. */
static void run_request(const struct kmm_req *r)
{
    if (kmm_op_is(r, "snapshot")) { snapshot(r); return; }
    answer_mark = olen;
    if (!kmm_dispatch(ops, r)) { begin(r); out("\"ok\":false,\"error\":{\"kind\":\"unsupported\",\"message\":\"unknown op\"}}\n"); return; }
    /* A field getter that failed has reported `invalid` without answering: answer it now. */
    if (e_kind && olen == answer_mark) answer_error(r);
}

/* ---- Lanes (protocol 5) -------------------------------------------------------------------------- */

/* A lane request: its line, parsed by the lane's own thread (so that parsing, too, runs on the lanes at once). */
struct lane_job {
    struct lane_job *next;
    char line[];
};

static struct lane {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct lane_job *head, *tail;     /* the lane's queue, in request order (under mu) */
    struct lane_job *batch, *batch_tail; /* read but not yet handed over (reader thread only) */
    long batched;
} lanes[MAX_LANES];

/* Lane requests handed to a lane and not yet written out; the reader waits for 0 before a barrier. */
static long outstanding;
static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER;

enum { LANE_FLUSH_AT = 1 << 16 }; /* a lane writes its answers when its queue is empty or this many bytes wait */

/* Writes the lane's answers, then counts them as done (so a barrier after them starts only once they are out). */
static void lane_flush(long *answered)
{
    flush_out();
    pthread_mutex_lock(&idle_mu);
    outstanding -= *answered;
    if (!outstanding) pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&idle_mu);
    *answered = 0;
}

static int64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Parses and answers one lane request on its lane's thread, with "ns":[t0,t1] (CLOCK_MONOTONIC around the call). */
static void run_lane_request(const char *line)
{
    struct kmm_req r;
    e_kind = NULL;
    size_t mark = olen;
    answer_mark = olen;
    bool well_formed = parse_request(line, &r);
    int64_t t0 = monotonic_ns();
    if (!well_formed) kmm_invalid("request", "malformed request");
    else if (kmm_op_is(&r, "hello") || kmm_op_is(&r, "shutdown")) kmm_invalid("cpu", "hello and shutdown take no \"cpu\"");
    if (e_kind) answer_error(&r);
    else run_request(&r);
    int64_t t1 = monotonic_ns();
    /* Every answer ends with "}\n": reopen it for the timestamps. */
    if (olen >= mark + 2 && ob[olen - 2] == '}') {
        olen -= 2;
        out(",\"ns\":[");
        out_i64(t0);
        out(",");
        out_i64(t1);
        out("]}\n");
    }
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    lane_index = (int)(l - lanes);
    __atomic_store_n(&lane_remembered[lane_index], remembered, __ATOMIC_RELEASE);
    long answered = 0;
    for (;;) {
        /* Takes the whole queue at once, runs it, and writes the answers when nothing more has come. */
        pthread_mutex_lock(&l->mu);
        while (!l->head && !answered) pthread_cond_wait(&l->cv, &l->mu);
        struct lane_job *j = l->head;
        l->head = l->tail = NULL;
        pthread_mutex_unlock(&l->mu);
        if (!j) { lane_flush(&answered); continue; }
        while (j) {
            struct lane_job *next = j->next;
            run_lane_request(j->line);
            free(j);
            answered++;
            if (olen >= LANE_FLUSH_AT) lane_flush(&answered);
            j = next;
        }
    }
    return NULL;
}

/* Starts lane threads up to n (they live until the process ends; a later hello may use fewer). */
static bool start_lanes(int n)
{
    barrier_remembered = remembered;
    for (; nlanes < n; nlanes++) {
        struct lane *l = &lanes[nlanes];
        pthread_mutex_init(&l->mu, NULL);
        pthread_cond_init(&l->cv, NULL);
        l->head = l->tail = l->batch = l->batch_tail = NULL;
        l->batched = 0;
        if (pthread_create(&l->thread, NULL, lane_main, l)) return false;
        /* The lane's table is published before the next request is read, so a barrier never sees it unset. */
        while (!__atomic_load_n(&lane_remembered[nlanes], __ATOMIC_ACQUIRE)) sched_yield();
    }
    return true;
}

int kmm_lanes(void) { return cpus; }
int kmm_cpu(void) { return lane_index; }

/*
 * Hands every lane the requests read for it since the last call, and wakes it: once per read(2) of requests
 * (and before a barrier), so that lanes whose requests came in one read start together.
 */
static long batched; /* lines queued by to_lane and not yet handed over (reader thread only) */

static void kick_lanes(void)
{
    long n = batched;
    if (!n) return;
    batched = 0;
    lanes_busy = true;
    pthread_mutex_lock(&idle_mu);
    outstanding += n;
    pthread_mutex_unlock(&idle_mu);
    for (int k = 0; k < nlanes; k++) {
        struct lane *l = &lanes[k];
        if (!l->batched) continue;
        pthread_mutex_lock(&l->mu);
        if (l->tail) l->tail->next = l->batch;
        else l->head = l->batch;
        l->tail = l->batch_tail;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        l->batch = l->batch_tail = NULL;
        l->batched = 0;
    }
}

/* A barrier: waits until every lane request read so far has been answered and written. */
static void wait_lanes_idle(void)
{
    kick_lanes();
    if (!lanes_busy) return; /* nothing handed out since the last wait: sequential traffic pays nothing */
    pthread_mutex_lock(&idle_mu);
    while (outstanding) pthread_cond_wait(&idle_cv, &idle_mu);
    pthread_mutex_unlock(&idle_mu);
    lanes_busy = false;
}

/* Queues a copy of the line for lane k (handed over by kick_lanes). */
static void to_lane(int k, const char *line, size_t len)
{
    /* The lane threads start with the first lane request: until then the process stays single-threaded, so a
       program that declares lanes but gets sequential traffic only (the page and heap families) runs as without. */
    if (nlanes < cpus && !start_lanes(cpus)) { fputs("kmm: could not start the lane threads\n", stderr); exit(2); }
    /* Barrier answers still waiting in the reader's buffer go out before any later request starts. */
    flush_out();
    struct lane_job *j = malloc(sizeof *j + len + 1);
    if (!j) { fputs("kmm: out of memory\n", stderr); exit(2); }
    memcpy(j->line, line, len);
    j->line[len] = 0;
    j->next = NULL;
    struct lane *l = &lanes[k];
    if (l->batch_tail) l->batch_tail->next = j;
    else l->batch = j;
    l->batch_tail = j;
    l->batched++;
    batched++;
}

/*
 * The lane of a line that ends with "cpu":k} (the runner writes "cpu" last), read from its tail without parsing
 * it, or -1: then the line is parsed here, which finds "cpu" anywhere.
 */
static int lane_field(const char *line, size_t len)
{
    const char *c = line + len;
    while (c > line && (c[-1] == ' ' || c[-1] == '\t' || c[-1] == '\r')) c--;
    if (c == line || *--c != '}') return -1;
    int k = 0, scale = 1, digits = 0;
    while (c > line && c[-1] >= '0' && c[-1] <= '9' && digits < 3) { k += (*--c - '0') * scale; scale *= 10; digits++; }
    if (!digits || c - line < 7 || memcmp(c - 7, ",\"cpu\":", 7)) return -1;
    return k < cpus ? k : -1;
}

/* Answers a request with "cpu" that is no lane request (a bad "cpu", no lanes, not booted, hello), as a barrier. */
static void refuse_lane(const struct kmm_req *r)
{
    if (nlanes) wait_lanes_idle();
    if (kmm_op_is(r, "hello") || kmm_op_is(r, "shutdown")) kmm_invalid("cpu", "hello and shutdown take no \"cpu\" (lanes: %d)", cpus);
    else if (!booted) kmm_invalid("op", "not booted: send hello first");
    else if (!cpus) kmm_invalid("cpu", "this program runs no lanes (its hello answer has no \"cpus\")");
    else kmm_invalid("cpu", "\"cpu\" is not a lane of this program (lanes: %d)", cpus);
    answer_error(r);
}

static void handle(char *line, size_t len)
{
    /* With lanes, a lane request goes to its lane as it is: the lane parses it, at the same time as the others. */
    int k;
    if (cpus && booted && (k = lane_field(line, len)) >= 0) { to_lane(k, line, len); return; }
    struct kmm_req r;
    e_kind = NULL;
    answer_mark = olen; /* an error answered before any begin() must not overwrite the previous answer */
    p = line;
    ws();
    if (!*p) return;
    bool well_formed = parse_request(line, &r);
    if (well_formed && r.cpu.type != T_NONE) {
        int64_t lane;
        if (booted && cpus && !kmm_op_is(&r, "hello") && !kmm_op_is(&r, "shutdown") && r.cpu.type == T_NUM
            && kmm_tok_int(&r.cpu, &lane) && lane >= 0 && lane < cpus) to_lane((int)lane, line, len);
        else refuse_lane(&r);
        return;
    }
    /* A barrier: it starts once every lane request before it has been answered. */
    if (nlanes) wait_lanes_idle();
    if (!well_formed) {
        kmm_invalid("request", "malformed request");
        answer_error(&r);
        return;
    }
    if (kmm_op_is(&r, "hello")) { hello(&r); return; }
    if (kmm_op_is(&r, "shutdown")) { begin(&r); out("\"ok\":true,\"value\":null}\n"); flush_out(); exit(0); }
    if (!booted) { kmm_invalid("op", "not booted: send hello first"); answer_error(&r); return; }
    run_request(&r);
}

/*
 * Optional busy-polling (KMM_SPIN_US=N): after answering, keep polling stdin for up to N
 * microseconds before sleeping in read(2). Saves a scheduler wake-up per round trip when a core is
 * idle, wastes CPU when none is.
 */
static long spin_ns;

static ssize_t read_requests(char *buf, size_t n)
{
    if (spin_ns > 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            struct pollfd pfd = { 0, POLLIN, 0 };
            if (poll(&pfd, 1, 0) > 0) break;
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < spin_ns);
    }
    return read(0, buf, n);
}

int kmm_main(const struct kmm_ops *implementation)
{
    ops = implementation;
    unsigned partial = kmm_partial_capabilities(ops);
    for (int i = 0; i < KMM_NCAPS; i++)
        if (partial & (1u << i))
            fprintf(stderr, "kmm: %s: only some callbacks of %s are set, so it is not declared\n", ops->name ? ops->name : "program", kmm_capability_names[i]);
    if ((kmm_capabilities(ops, KMM_PROTOCOL) & KMM_CAP_ATOMIC_T || ops->smp) && (ops->cpus < 2 || ops->cpus > MAX_LANES))
        fprintf(stderr, "kmm: %s: AtomicT and Smp need .cpus, the number of lanes (2..%d); %d given, so they are not declared\n",
                ops->name ? ops->name : "program", MAX_LANES, ops->cpus);
    const char *spin = getenv("KMM_SPIN_US");
    spin_ns = spin ? atol(spin) * 1000L : 0;
    size_t cap = 1 << 16, len = 0;
    char *in = malloc(cap);
    if (!in) return 2;
    for (;;) {
        /* Answer every complete line already read, then write all the answers at once. */
        char *start = in, *nl;
        while ((nl = memchr(start, '\n', (size_t)(in + len - start)))) {
            *nl = 0;
            handle(start, (size_t)(nl - start));
            start = nl + 1;
        }
        len = (size_t)(in + len - start);
        memmove(in, start, len);
        flush_out();
        if (nlanes) kick_lanes();
        if (len + 1 >= cap) {
            if (cap >= MAX_LINE) { fputs("kmm: request line too long\n", stderr); return 2; }
            char *bigger = realloc(in, cap *= 2);
            if (!bigger) { fputs("kmm: out of memory\n", stderr); return 2; }
            in = bigger;
        }
        ssize_t n = read_requests(in + len, cap - len - 1);
        if (n < 0) { if (errno == EINTR) continue; return 1; }
        if (n == 0) { if (nlanes) wait_lanes_idle(); return 0; }
        len += (size_t)n;
        in[len] = 0;
    }
}
