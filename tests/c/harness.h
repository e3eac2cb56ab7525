/*
 * What the C test programs share: the pass/fail runner, clocks and memory readings, a
 * tiny HTTP client for the stub server's control endpoints ($SO_STUB_URL), and the few
 * operating-system calls the tests need (threads, a mutex, loopback sockets, sleeping,
 * the process id), so that the tests themselves are plain C11 that builds on Linux
 * (gcc, with ASan and UBSan) and on Windows (mingw-w64, run under wine by `make cross`).
 * A test of something only POSIX has (signals, fork) goes inside #ifndef _WIN32, its RUN
 * line too, or into test_posix.c, which is built for Linux only (as is test_keepalive.c,
 * which needs nginx). Included by one translation unit per program.
 */
#ifndef SO_TEST_HARNESS_H
#define SO_TEST_HARNESS_H

/* Included first, before any system header. */
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <psapi.h>
#include <process.h>
#else
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#endif
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "superoffice.h"

#define SO_UNUSED __attribute__((unused))

static int g_passed SO_UNUSED, g_failed SO_UNUSED, g_current_failed SO_UNUSED, g_skipped SO_UNUSED,
    g_current_skipped SO_UNUSED;
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

/* A test that cannot run here says why; it is counted as skipped, never as passed. */
static inline void skip(const char *why) {
    printf("     (skipped: %s)\n", why);
    g_current_skipped = 1;
}

static inline void run(const char *name, void (*fn)(void)) {
    g_current_failed = 0;
    g_current_skipped = 0;
    fn();
    if (g_current_failed) {
        g_failed++;
        printf("FAIL %s\n", name);
    } else if (g_current_skipped) {
        g_skipped++;
        printf("skip %s\n", name);
    } else {
        g_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}
#define RUN(fn) run(#fn, fn)

/* The last line of every program: "N passed, N failed" (and ", N skipped" when any). */
static inline int summary(void) {
    if (g_skipped)
        printf("%d passed, %d failed, %d skipped\n", g_passed, g_failed, g_skipped);
    else
        printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}

/* ---------- the operating system ---------- */

#ifdef _WIN32
typedef SOCKET sock_t;
#define SOCK_INVALID INVALID_SOCKET
static inline void sock_close(sock_t s) { closesocket(s); }
static inline int sock_send(sock_t s, const char *p, size_t n) { return send(s, p, (int)n, 0); }
static inline int sock_recv(sock_t s, char *p, size_t n) { return recv(s, p, (int)n, 0); }
typedef int socklen_type;
#else
typedef int sock_t;
#define SOCK_INVALID (-1)
static inline void sock_close(sock_t s) { close(s); }
static inline int sock_send(sock_t s, const char *p, size_t n) { return (int)write(s, p, n); }
static inline int sock_recv(sock_t s, char *p, size_t n) { return (int)read(s, p, n); }
typedef socklen_t socklen_type;
#endif

/* Once per program, before any socket (Windows needs WSAStartup). */
static inline void harness_init(void) {
#ifdef _WIN32
    static int done;
    if (!done) {
        WSADATA wsa;
        WSAStartup(MAKEWORD(2, 2), &wsa);
        done = 1;
    }
#endif
}

static inline long process_id(void) {
#ifdef _WIN32
    return (long)_getpid();
#else
    return (long)getpid();
#endif
}

static inline void sleep_ms(unsigned ms) {
#ifdef _WIN32
    Sleep(ms);
#else
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
#endif
}

static inline double now_ms(void) {
#ifdef _WIN32
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart * 1000.0 / (double)freq.QuadPart;
#else
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
#endif
}

#ifndef _WIN32
/* Threads of this process now (/proc/self/task), -1 when unknown. */
static inline int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}
#endif

/* UTC broken-down time (gmtime_r, gmtime_s). */
static inline void utc_time(time_t when, struct tm *out) {
#ifdef _WIN32
    gmtime_s(out, &when);
#else
    gmtime_r(&when, out);
#endif
}

/* This process's resident memory (working set on Windows) in KiB, -1 when unknown. */
static inline long rss_kib(void) {
#ifdef _WIN32
    PROCESS_MEMORY_COUNTERS pmc;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return -1;
    return (long)(pmc.WorkingSetSize / 1024);
#else
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
#endif
}

/* The first case-insensitive occurrence of needle in hay (strcasestr is a GNU extension). */
static inline const char *find_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return hay;
    }
    return n == 0 ? hay : NULL;
}

/* Threads: a function taking and returning void *, as pthreads and C11 threads have it. */
typedef void *(*thread_fn)(void *);
#ifdef _WIN32
typedef HANDLE test_thread;
struct thread_start_ {
    thread_fn fn;
    void *arg;
};
SO_UNUSED static unsigned __stdcall thread_trampoline_(void *p) {
    struct thread_start_ s = *(struct thread_start_ *)p;
    free(p);
    s.fn(s.arg);
    return 0;
}
/* 0 on success. */
static inline int thread_start(test_thread *t, thread_fn fn, void *arg) {
    struct thread_start_ *s = malloc(sizeof *s);
    if (!s) return -1;
    s->fn = fn;
    s->arg = arg;
    uintptr_t h = _beginthreadex(NULL, 0, thread_trampoline_, s, 0, NULL);
    if (!h) {
        free(s);
        return -1;
    }
    *t = (HANDLE)h;
    return 0;
}
static inline void thread_join(test_thread t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
typedef SRWLOCK test_mutex;
#define TEST_MUTEX_INIT SRWLOCK_INIT
static inline void mutex_lock(test_mutex *m) { AcquireSRWLockExclusive(m); }
static inline void mutex_unlock(test_mutex *m) { ReleaseSRWLockExclusive(m); }
#else
typedef pthread_t test_thread;
static inline int thread_start(test_thread *t, thread_fn fn, void *arg) { return pthread_create(t, NULL, fn, arg); }
static inline void thread_join(test_thread t) { pthread_join(t, NULL); }
typedef pthread_mutex_t test_mutex;
#define TEST_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
static inline void mutex_lock(test_mutex *m) { pthread_mutex_lock(m); }
static inline void mutex_unlock(test_mutex *m) { pthread_mutex_unlock(m); }
#endif

/* ---------- loopback sockets ---------- */

static inline struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A socket listening on 127.0.0.1 with this backlog; *port gets its port. */
static inline sock_t listen_loopback(int backlog, int *port) {
    harness_init();
    sock_t s = socket(AF_INET, SOCK_STREAM, 0);
    if (s == SOCK_INVALID) return SOCK_INVALID;
    struct sockaddr_in a = loopback(0);
    socklen_type alen = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, backlog) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
        sock_close(s);
        return SOCK_INVALID;
    }
    *port = ntohs(a.sin_port);
    return s;
}

/* A loopback port nobody listens on (bound, then released): a connection is refused. */
static inline int unused_port(void) {
    harness_init();
    sock_t s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(0);
    socklen_type alen = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &alen);
    sock_close(s);
    return ntohs(a.sin_port);
}

/* Whether `host` resolves to an IPv4 address here. */
static inline int resolves(const char *host) {
    harness_init();
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    if (getaddrinfo(host, NULL, &hints, &found) != 0) return 0;
    freeaddrinfo(found);
    return 1;
}

/* Starts a non-blocking connect to 127.0.0.1:port. *done is 1 when it completed at once,
   0 when it is in progress; SOCK_INVALID on failure. */
static inline sock_t connect_nonblocking(int port, int *done) {
    sock_t s = socket(AF_INET, SOCK_STREAM, 0);
    if (s == SOCK_INVALID) return SOCK_INVALID;
#ifdef _WIN32
    u_long on = 1;
    ioctlsocket(s, FIONBIO, &on);
#else
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
#endif
    struct sockaddr_in a = loopback(port);
    *done = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    return s;
}

/* Whether s becomes writable (a connect completes) within ms. */
static inline int writable_within(sock_t s, int ms) {
    fd_set w;
    FD_ZERO(&w);
    FD_SET(s, &w);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return select((int)s + 1, NULL, &w, NULL, &tv) > 0;
}

/* ---------- the stub server ---------- */

/* Reads $SO_STUB_URL into g_stub and g_stub_port; 0 when it does not point at the stub. */
static inline int stub_from_env(void) {
    harness_init();
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

/* Options for `base` with the stub's ticket and these timeouts in ms (0: no limit); NULL
   when `base` is refused (the last error says why). */
static inline so_options *ticket_options(const char *base, uint32_t connect_ms, uint32_t total_ms) {
    so_options *o = so_options_new(base);
    if (!o) return NULL;
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_timeout_ms(o, connect_ms, total_ms);
    return o;
}

/* The client of `o`, which it frees; NULL when `o` is NULL or the client cannot be made. */
static inline so_client *client_of(so_options *o) {
    if (!o) return NULL;
    so_client *c = so_client_new(o);
    so_options_free(o);
    return c;
}

/* A client for `base` with the stub's ticket and these timeouts in ms (0: no limit). */
static inline so_client *ticket_client(const char *base, uint32_t connect_ms, uint32_t total_ms) {
    return client_of(ticket_options(base, connect_ms, total_ms));
}

/* GET path on the stub; the answer's body (caller frees), NULL on failure. */
static inline char *http_get(const char *path) {
    sock_t s = socket(AF_INET, SOCK_STREAM, 0);
    if (s == SOCK_INVALID) return NULL;
    struct sockaddr_in a = loopback(g_stub_port);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        sock_close(s);
        return NULL;
    }
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (sock_send(s, req, (size_t)n) != n) {
        sock_close(s);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        int r = sock_recv(s, buf + len, cap - len - 1);
        if (r <= 0) break;
        len += (size_t)r;
    }
    sock_close(s);
    buf[len] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    char *out = NULL;
    if (body) {
        size_t blen = strlen(body + 4);
        out = malloc(blen + 1);
        if (out) memcpy(out, body + 4, blen + 1);
    }
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
