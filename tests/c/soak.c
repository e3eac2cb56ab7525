/*
 * Soak test of libsuperoffice through the C ABI, against the stub server ($SO_STUB_URL).
 *
 *   soak send [THREADS] [SENDS]   THREADS threads (default 8) share one client and send
 *                                 SENDS e-mails each (default 10,000); every send must
 *                                 succeed, and the stub must have recorded exactly as
 *                                 many requests as there were successes.
 *   soak churn [N]                creates and frees options and a client N times (default
 *                                 100,000); the resident set size must not grow (measured
 *                                 from /proc/self/statm, or the working set on Windows,
 *                                 after a warm-up: the first client of a process loads
 *                                 the system trust store once).
 *
 * Built with -fsanitize=address,undefined like the C tests (see the Makefile's
 * test-soak). Prints "N passed, N failed".
 */
#include "harness.h"

static double now_s(void) { return now_ms() / 1000.0; }

/* ---------- send: threads sharing one client ---------- */

struct sender {
    const so_client *client;
    int sends;
    int ok;
    int failed;
    int first_code;
    char first_message[512];
};

static void *send_loop(void *p) {
    struct sender *s = p;
    for (int i = 0; i < s->sends; i++) {
        so_result r = so_send_cc_password_email(s->client, 1 + i, "from@example.com", "to@example.com", "Soak");
        if (r == SO_OK) {
            s->ok++;
        } else {
            if (s->failed++ == 0) {
                s->first_code = (int)r;
                snprintf(s->first_message, sizeof s->first_message, "%s", so_last_error_message());
            }
        }
    }
    return NULL;
}

static int run_send(int threads, int sends) {
    char prefix[128], base[512];
    snprintf(prefix, sizeof prefix, "/soak-%ld-%ld", process_id(), (long)time(NULL));
    snprintf(base, sizeof base, "%s%s/Cust12345", g_stub, prefix);
    so_options *o = so_options_new(base);
    if (!o) {
        printf("so_options_new: %s\n0 passed, 1 failed\n", so_last_error_message());
        return 1;
    }
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_proxy(o, "");
    so_options_set_timeout_ms(o, 5000, 30000);
    so_options_set_max_retries(o, 0); /* every request is sent exactly once */
    so_client *c = so_client_new(o);
    so_options_free(o);
    if (!c) {
        printf("so_client_new: %s\n0 passed, 1 failed\n", so_last_error_message());
        return 1;
    }
    struct sender *s = calloc((size_t)threads, sizeof *s);
    test_thread *t = calloc((size_t)threads, sizeof *t);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        s[i].client = c;
        s[i].sends = sends;
        if (thread_start(&t[i], send_loop, &s[i]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", i);
            return 1;
        }
    }
    long ok = 0, failed = 0;
    for (int i = 0; i < threads; i++) {
        thread_join(t[i]);
        ok += s[i].ok;
        failed += s[i].failed;
        if (s[i].failed)
            fprintf(stderr, "thread %d: %d failed, first: %d %s\n", i, s[i].failed, s[i].first_code,
                    s[i].first_message);
    }
    double took = now_s() - t0;
    so_client_free(c);
    long recorded = stub_count(prefix);
    long total = (long)threads * sends;
    printf("send: %d threads x %d sends: %ld ok, %ld failed, stub recorded %ld, %.1f s (%.0f sends/s)\n", threads,
           sends, ok, failed, recorded, took, (double)total / took);
    int pass = ok == total && failed == 0 && recorded == ok;
    if (!pass) fprintf(stderr, "FAIL: every send must succeed and be recorded exactly once\n");
    free(s);
    free(t);
    printf("%d passed, %d failed\n", pass, !pass);
    return pass ? 0 : 1;
}

/* ---------- churn: create and free ---------- */

static int churn_once(int i) {
    so_options *o = so_options_new("https://sod.superoffice.com/Cust12345");
    if (!o) return 0;
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_app_token(o, "app-token");
    so_options_set_xsrf_token(o, "xsrf");
    so_options_set_language(o, "sv");
    so_options_set_proxy(o, (i & 1) ? "" : "http://user:pw@127.0.0.1:3128");
    so_client *c = so_client_new(o);
    so_options_free(o);
    if (!c) return 0;
    so_client_free(c);
    return 1;
}

static int run_churn(int n) {
    int warm = n / 10 < 1000 ? n / 10 : 1000;
    for (int i = 0; i < warm; i++)
        if (!churn_once(i)) {
            printf("churn: failed at warm-up %d: %s\n0 passed, 1 failed\n", i, so_last_error_message());
            return 1;
        }
    long before = rss_kib();
    double t0 = now_s();
    long mid = 0;
    for (int i = 0; i < n; i++) {
        if (!churn_once(i)) {
            printf("churn: failed at %d: %s\n0 passed, 1 failed\n", i, so_last_error_message());
            return 1;
        }
        if (i == n / 2) mid = rss_kib();
    }
    long after = rss_kib();
    double took = now_s() - t0;
    /* Flat: no more than 4 MiB over 100,000 rounds (a leak of even 64 bytes a round would
       be 6 MiB), and no growth at all in the second half. */
    long grew = after - before, grew2 = after - mid;
    printf("churn: %d options and clients in %.1f s: RSS %ld KiB after warm-up, %ld KiB at half, %ld KiB at the end "
           "(%+ld KiB, second half %+ld KiB)\n",
           n, took, before, mid, after, grew, grew2);
    int pass = grew < 4096 && grew2 < 1024;
    if (!pass) fprintf(stderr, "FAIL: RSS grew\n");
    printf("%d passed, %d failed\n", pass, !pass);
    return pass ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "send";
    if (strcmp(mode, "churn") == 0) return run_churn(argc > 2 ? atoi(argv[2]) : 100000);
    if (!stub_from_env()) return 1;
    return run_send(argc > 2 ? atoi(argv[2]) : 8, argc > 3 ? atoi(argv[3]) : 10000);
}
