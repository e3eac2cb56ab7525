/*
 * What the C test programs share: the pass/fail runner, clocks and memory readings, and
 * a tiny HTTP client for the stub server's control endpoints ($SO_STUB_URL).
 * Included by one translation unit per program.
 */
#ifndef SO_TEST_HARNESS_H
#define SO_TEST_HARNESS_H

/* Included first, before any system header. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "superoffice.h"

#define SO_UNUSED __attribute__((unused))

static int g_passed SO_UNUSED, g_failed SO_UNUSED, g_current_failed SO_UNUSED;
static char g_stub[256];
static int g_stub_port;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "    %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            fprintf(stderr, "    last error: [%s] status %d type [%s]\n",               \
                    so_last_error_message(), so_last_error_http_status(),               \
                    so_last_error_type());                                               \
            g_current_failed = 1;                                                        \
            return;                                                                      \
        }                                                                                \
    } while (0)

#define CHECK_RC(expr, want)                                                                \
    do {                                                                                    \
        so_result rc_ = (expr);                                                             \
        if (rc_ != (want)) {                                                                \
            fprintf(stderr, "    %s:%d: %s gave %d (%s), want %d\n    last error: [%s]\n", \
                    __FILE__, __LINE__, #expr, (int)rc_, so_result_str(rc_), (int)(want),  \
                    so_last_error_message());                                               \
            g_current_failed = 1;                                                           \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static inline void run(const char *name, void (*fn)(void)) {
    g_current_failed = 0;
    fn();
    if (g_current_failed) {
        g_failed++;
        printf("FAIL %s\n", name);
    } else {
        g_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}
#define RUN(fn) run(#fn, fn)

/* Reads $SO_STUB_URL into g_stub and g_stub_port; 0 when it does not point at the stub. */
static inline int stub_from_env(void) {
    const char *stub = getenv("SO_STUB_URL");
    if (!stub || strncmp(stub, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "SO_STUB_URL must point at the stub (run through tests/with-stub.sh)\n");
        printf("0 passed, 1 failed\n");
        return 0;
    }
    snprintf(g_stub, sizeof g_stub, "%s", stub);
    g_stub_port = atoi(stub + 17);
    return 1;
}

static inline double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* This process's resident memory in KiB, -1 when unknown. */
static inline long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* GET path on the stub; the answer's body (caller frees), NULL on failure. */
static inline char *http_get(const char *path) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return NULL;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_stub_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return NULL;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (write(s, req, (size_t)n) != n) {
        close(s);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = read(s, buf + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(s);
    buf[len] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    char *out = body ? strdup(body + 4) : NULL;
    free(buf);
    return out;
}

/* The stub's request log for a tenant prefix, as JSON text (caller frees). */
static inline char *stub_log(const char *prefix) {
    char path[512];
    snprintf(path, sizeof path, "/_stub/requests?prefix=%s", prefix);
    return http_get(path);
}

/* How many requests the stub recorded under a tenant prefix, -1 on failure. */
static inline int stub_count(const char *prefix) {
    char path[512];
    snprintf(path, sizeof path, "/_stub/count?prefix=%s", prefix);
    char *body = http_get(path);
    if (!body) return -1;
    char *p = strstr(body, "\"count\":");
    int n = p ? atoi(p + 8) : -1;
    free(body);
    return n;
}

#endif
