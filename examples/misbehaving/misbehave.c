/*
 * misbehave: wraps a protocol implementation (docs/protocol.md) and misbehaves on purpose, for the
 * containment tests of the out-of-process runner.
 *
 *   usage: misbehave MODE [--op OP] [--after N] [--leak-kib K] [--per-boot] [--bytes N] [--pid-file PATH]
 *                   [--signal N] -- COMMAND [ARG...]
 *
 * Forwards every request line to COMMAND and its answer back, except at the trigger: the first
 * request whose "op" is OP ("*": any op) after N such requests since the latest "hello". The
 * count restarts at every hello, so the misbehaviour is the same whenever a sequence is replayed.
 *
 *   crash     dies from SIGSEGV, like a segmentation fault
 *   exit      writes a last word on stderr and exits with status 3
 *   hang      stops answering (sleeps for an hour)
 *   garbage   answers with a line that is not JSON
 *   wrong-id  answers with the id of a later request
 *   stale     answers with the previous answer again (a duplicated, out-of-order answer)
 *   lie       answers "snapshot" with one free order-0 block too many in ZONE_NORMAL (the single
 *             freeBlocks queries stay truthful, so the runner's cross-check must notice)
 *   leak      no trigger: keeps K KiB (default 1024) of touched memory per request, forever
 *             (with --per-boot: until the next hello, so that each sequence leaks the same way
 *             even when the runner reuses the process across boots)
 *   bad-utf8  answers with a string holding the byte 0xff, which is not UTF-8 (in hello: the "name")
 *   stderr-flood  writes --bytes N (default 100 MB) to standard error as one line without a newline,
 *             then answers normally
 *   fork-child    forks a child that keeps standard output and error open and sleeps for an hour
 *             (writing its pid to --pid-file PATH), then exits with status 4 without answering
 *   signal    dies from signal --signal N (default 15, SIGTERM), which the runner did not send
 *
 * C11 and POSIX only: gcc -O2 -std=c11 -o misbehave misbehave.c
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static char *hoarded;

static const char *const modes[] = { "crash", "exit", "hang", "garbage", "wrong-id", "stale", "lie", "leak",
                                     "bad-utf8", "stderr-flood", "fork-child", "signal", NULL };

static void usage(void)
{
    fputs("usage: misbehave MODE [--op OP] [--after N] [--leak-kib K] [--per-boot] [--bytes N] [--pid-file PATH] [--signal N]\n"
          "                 -- COMMAND [ARG...]\n"
          "modes: crash exit hang garbage wrong-id stale lie leak bad-utf8 stderr-flood fork-child signal\n", stderr);
    exit(2);
}

/* The string value of "key" in a flat JSON line, copied into out; false when absent. */
static bool string_field(const char *line, const char *key, char *out, size_t size)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *s = strstr(line, pattern);
    if (!s) return false;
    s += strlen(pattern);
    size_t n = strcspn(s, "\"");
    if (n >= size) n = size - 1;
    memcpy(out, s, n);
    out[n] = 0;
    return true;
}

static long long id_of(const char *line)
{
    const char *s = strstr(line, "\"id\":");
    return s ? strtoll(s + 5, NULL, 10) : -1;
}

/* A copy of line with the integer that starts at offset at replaced by value + delta. */
static char *bump_number(const char *line, size_t at, long long delta)
{
    char *end;
    long long value = strtoll(line + at, &end, 10);
    size_t size = strlen(line) + 32;
    char *copy = malloc(size);
    if (!copy) exit(2);
    snprintf(copy, size, "%.*s%lld%s", (int)at, line, value + delta, end);
    return copy;
}

static void write_all(FILE *f, const char *s)
{
    fputs(s, f);
    fflush(f);
}

int main(int argc, char **argv)
{
    if (argc < 4) usage();
    const char *mode = argv[1];
    bool known = false;
    for (int i = 0; modes[i]; i++) known |= strcmp(mode, modes[i]) == 0;
    if (!known) usage();
    const char *op = "*";
    long after = 0, leak_kib = 1024, flood = 100L << 20, signo = SIGTERM;
    const char *pid_file = NULL;
    bool per_boot = false;
    int i = 2;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        if (!strcmp(argv[i], "--per-boot")) { per_boot = true; i--; continue; }
        if (i + 1 >= argc) usage();
        if (!strcmp(argv[i], "--op")) op = argv[i + 1];
        else if (!strcmp(argv[i], "--after")) after = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--leak-kib")) leak_kib = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--bytes")) flood = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid-file")) pid_file = argv[i + 1];
        else if (!strcmp(argv[i], "--signal")) signo = atol(argv[i + 1]);
        else usage();
    }
    if (i + 1 >= argc) usage();
    char **command = argv + i + 1;

    int to_child[2], from_child[2];
    if (pipe(to_child) || pipe(from_child)) { perror("misbehave: pipe"); return 2; }
    pid_t pid = fork();
    if (pid < 0) { perror("misbehave: fork"); return 2; }
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[0]); close(to_child[1]); close(from_child[0]); close(from_child[1]);
        execvp(command[0], command);
        perror("misbehave: exec");
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    FILE *child_in = fdopen(to_child[1], "w"), *child_out = fdopen(from_child[0], "r");
    if (!child_in || !child_out) return 2;

    char *line = NULL, *answer = NULL, *previous = NULL;
    size_t line_cap = 0, answer_cap = 0;
    long seen = 0;
    while (getline(&line, &line_cap, stdin) > 0) {
        char name[64] = "";
        string_field(line, "op", name, sizeof name);
        if (!strcmp(name, "hello")) {
            seen = 0;
            while (per_boot && hoarded) {
                char *next = *(char **)hoarded;
                free(hoarded);
                hoarded = next;
            }
        }
        bool triggered = false;
        if (strcmp(mode, "leak") != 0 && (!strcmp(op, "*") || !strcmp(name, op))) triggered = ++seen > after;
        if (!strcmp(mode, "leak")) {
            char *hoard = malloc((size_t)leak_kib * 1024 + sizeof(char *));
            if (hoard) {
                memset(hoard, 1, (size_t)leak_kib * 1024 + sizeof(char *));
                *(char **)hoard = hoarded;   /* reachable from a global: never freed, never optimised away */
                hoarded = hoard;
            }
        }

        if (triggered && !strcmp(mode, "crash")) {
            fputs("misbehave: crashing now\n", stderr);
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }
        if (triggered && !strcmp(mode, "exit")) {
            fprintf(stderr, "misbehave: giving up on request %lld\n", id_of(line));
            _exit(3);
        }
        if (triggered && !strcmp(mode, "hang")) sleep(3600);
        if (triggered && !strcmp(mode, "signal")) {
            fprintf(stderr, "misbehave: dying from signal %ld\n", signo);
            signal((int)signo, SIG_DFL);
            raise((int)signo);
        }
        if (triggered && !strcmp(mode, "fork-child")) {
            pid_t child = fork();
            if (child == 0) {
                /* Keeps stdout and stderr (the runner's pipes) open, and outlives its parent. */
                if (pid_file) {
                    int fd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                    if (fd >= 0) { dprintf(fd, "%d\n", (int)getpid()); close(fd); }
                }
                sleep(3600);
                _exit(0);
            }
            fputs("misbehave: leaving a child behind\n", stderr);
            _exit(4);
        }
        if (triggered && !strcmp(mode, "stderr-flood")) {
            static char block[1 << 16];
            memset(block, 'x', sizeof block);
            for (long left = flood; left > 0;) {
                size_t n = left < (long)sizeof block ? (size_t)left : sizeof block;
                if (fwrite(block, 1, n, stderr) != n) break;
                left -= (long)n;
            }
            fflush(stderr);
        }

        write_all(child_in, line);
        if (getline(&answer, &answer_cap, child_out) <= 0) return 1;
        char *out = NULL;
        if (triggered && !strcmp(mode, "garbage")) out = strdup("Segmentation fault (core dumped) -- not JSON at all\n");
        else if (triggered && !strcmp(mode, "wrong-id")) {
            const char *s = strstr(answer, "\"id\":");
            if (s) out = bump_number(answer, (size_t)(s + 5 - answer), 1);
        } else if (triggered && !strcmp(mode, "lie") && !strcmp(name, "snapshot")) {
            const char *s = strstr(answer, "\"free\":[[");
            s = s ? strstr(s, "],[") : NULL;   /* the start of free[1] (ZONE_NORMAL) */
            if (s) out = bump_number(answer, (size_t)(s + 3 - answer), 1);
        } else if (triggered && !strcmp(mode, "stale") && previous) out = strdup(previous);
        else if (triggered && !strcmp(mode, "bad-utf8")) {
            /* The first string value gets the byte 0xff; without one, a field holding it is added. */
            const char *q = strstr(answer, "\"name\":\"");
            if (!q) q = strstr(answer, "\"message\":\"");
            size_t size = strlen(answer) + 32;
            out = malloc(size);
            if (!out) exit(2);
            if (q) {
                size_t at = (size_t)(strchr(q + 1, ':') + 2 - answer);
                snprintf(out, size, "%.*s\377%s", (int)at, answer, answer + at);
            } else {
                size_t end = strlen(answer);
                while (end > 0 && answer[end - 1] != '}') end--;
                snprintf(out, size, "%.*s,\"note\":\"\377\"}\n", (int)(end - 1), answer);
            }
        }
        free(previous);
        previous = strdup(answer);
        write_all(stdout, out ? out : answer);
        free(out);
        if (!strcmp(name, "shutdown")) break;
    }
    fclose(child_in);
    waitpid(pid, NULL, 0);
    return 0;
}
