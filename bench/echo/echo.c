/*
 * echo: the transport floor of docs/protocol.md. Answers "hello" (protocol 2, PageAllocator) and
 * every other request with {"id":N,"ok":true,"value":null}, doing no work: what remains is the
 * cost of framing, pipes and scheduling. Answers to every request already read go out in one
 * write(2), as the kits do. Build: gcc -O2 -o echo echo.c
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out[1 << 20];
static size_t olen;

static void flush_out(void)
{
    for (size_t done = 0; done < olen;) {
        ssize_t n = write(1, out + done, olen - done);
        if (n < 0) { if (errno == EINTR) continue; exit(0); }
        done += (size_t)n;
    }
    olen = 0;
}

static void answer(const char *line)
{
    const char *id = strstr(line, "\"id\":");
    long long n = id ? strtoll(id + 5, NULL, 10) : 0;
    if (olen > sizeof out - 512) flush_out();
    if (strstr(line, "\"op\":\"hello\""))
        olen += (size_t)snprintf(out + olen, sizeof out - olen,
            "{\"id\":%lld,\"ok\":true,\"protocol\":2,\"name\":\"echo\",\"capabilities\":[\"PageAllocator\"]}\n", n);
    else if (strstr(line, "\"op\":\"shutdown\"")) {
        olen += (size_t)snprintf(out + olen, sizeof out - olen, "{\"id\":%lld,\"ok\":true}\n", n);
        flush_out();
        exit(0);
    } else
        olen += (size_t)snprintf(out + olen, sizeof out - olen, "{\"id\":%lld,\"ok\":true,\"value\":null}\n", n);
}

int main(void)
{
    static char in[1 << 20];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(0, in + len, sizeof in - len - 1);
        if (n < 0) { if (errno == EINTR) continue; return 1; }
        if (n == 0) return 0;
        len += (size_t)n;
        char *start = in, *nl;
        while ((nl = memchr(start, '\n', (size_t)(in + len - start)))) {
            *nl = 0;
            answer(start);
            start = nl + 1;
        }
        len = (size_t)(in + len - start);
        memmove(in, start, len);
        if (len >= sizeof in - 1) return 2;
        flush_out();
    }
}
