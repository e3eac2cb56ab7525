/* Shared by the C peers of the benchmarks (bench/, bench/async/): the request every peer
 * sends, this library's client for it, clocks, CPU time, /proc readings, output. Most programs print "key value" lines
 * on stdout that the scripts collect. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "superoffice.h"

/* The request, the same for every peer. */
#define B_PATH "/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"
#define B_TICKET "7T:dGVzdA=="
#define B_APP_TOKEN "bench-app-token-0123456789abcdef"
#define B_LANGUAGE "sv"
#define B_USER_AGENT "superoffice-ffi/0.1.0"
#define B_PERSON_ID 670
#define B_FROM "support@example.com"
#define B_TO "kari@example.com"
#define B_SUBJECT "Your password"
#define B_BODY "{\"PersonId\":670,\"From\":\"support@example.com\",\"To\":\"kari@example.com\",\"Subject\":\"Your password\"}"

/* The request's headers as "Name: value" lines, NULL-terminated, for peers that set them
 * one by one (libcurl). */
__attribute__((unused)) static const char *const B_HEADER_LINES[] = {
    "Authorization: SOTicket " B_TICKET,
    "SO-AppToken: " B_APP_TOKEN,
    "Accept: application/json",
    "Content-Type: application/json; charset=utf-8",
    "Accept-Language: " B_LANGUAGE,
    "SO-Language: " B_LANGUAGE,
    "Expect:",
    NULL,
};

static inline double b_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time (user + system) this process used so far, in seconds. */
static inline double b_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static inline long b_arg_long(int argc, char **argv, int i, long dflt) {
    return argc > i ? strtol(argv[i], NULL, 10) : dflt;
}

/* A number field of /proc/self/status ("VmRSS:", "VmHWM:", "Threads:"); -1 when absent. */
static inline long b_status_field(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t len = strlen(name);
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, len) == 0) {
            v = strtol(line + len, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Resident memory of this process in KiB (VmRSS). */
static inline long b_rss_kib(void) { return b_status_field("VmRSS:"); }

static inline void b_result(const char *key, double value) {
    printf("%s %.6f\n", key, value);
    fflush(stdout);
}

/* Prints "rps" and "cpu_us" for `n` requests sent since the wall clock read `t0` (b_now)
 * and the CPU time read `c0` (b_cpu). */
static inline void b_rates(double n, double t0, double c0) {
    b_result("rps", n / (b_now() - t0));
    b_result("cpu_us", (b_cpu() - c0) / n * 1e6);
}

/* The end of a program called with a mode it does not know: exit status 2. */
static inline int b_unknown_mode(const char *prog, const char *mode) {
    fprintf(stderr, "%s: unknown mode %s\n", prog, mode);
    return 2;
}

/* A client of this library for `base` with the request's ticket, app token and language
 * (and `ca_file` when not NULL); `prog` names the program in the message of a failure,
 * which exits with status 1. */
static inline so_client *b_so_client(const char *prog, const char *base, const char *ca_file) {
    so_options *o = so_options_new(base);
    if (!o) {
        fprintf(stderr, "%s: so_options_new: %s\n", prog, so_last_error_message());
        exit(1);
    }
    if (so_options_set_ticket(o, B_TICKET) != SO_OK || so_options_set_app_token(o, B_APP_TOKEN) != SO_OK ||
        so_options_set_language(o, B_LANGUAGE) != SO_OK ||
        (ca_file && so_options_set_ca_file(o, ca_file) != SO_OK)) {
        fprintf(stderr, "%s: options: %s\n", prog, so_last_error_message());
        exit(1);
    }
    so_client *c = so_client_new(o);
    so_options_free(o);
    if (!c) {
        fprintf(stderr, "%s: so_client_new: %s\n", prog, so_last_error_message());
        exit(1);
    }
    return c;
}

#endif
