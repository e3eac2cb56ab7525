/* make bench-latency: this library from C against a server that answers after a delay.
 *
 *   latency_so batch   BASE N C   one so_send_cc_password_emails of N items, max_concurrency C
 *   latency_so threads BASE N C   C threads sharing one client, each sending its share of N
 *                                 with sequential so_send_cc_password_email (C = 1: one thread)
 *   latency_so getaddrinfo HOST PORT N   N calls of getaddrinfo(HOST, PORT) on this thread,
 *                                 then N each on a fresh thread (as the library's resolver
 *                                 makes one per send), then N fresh threads doing nothing;
 *                                 prints gai_same_us, gai_thread_us, thread_only_us
 *
 * The send modes print "seconds S" (the sends only: the client is made before the clock starts) and exits
 * non-zero when any send failed. */
#include "common.h"

#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

#include "superoffice.h"

struct worker {
    const so_client *c;
    long n;
    long failed;
    pthread_barrier_t *start;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (long i = 0; i < w->n; i++) {
        so_result r = so_send_cc_password_email(w->c, B_PERSON_ID, B_FROM, B_TO, B_SUBJECT);
        if (r != SO_OK) {
            if (w->failed++ == 0)
                fprintf(stderr, "latency_so: send failed (%d): %s\n", (int)r, so_last_error_message());
        }
    }
    return NULL;
}

struct lookup {
    const char *host, *port;
    int failed;
};

static void *lookup_main(void *arg) {
    struct lookup *lk = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(lk->host, lk->port, &hints, &res) != 0)
        lk->failed = 1;
    else
        freeaddrinfo(res);
    return NULL;
}

static void *nothing_main(void *arg) {
    return arg;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: latency_so batch|threads BASE N CONCURRENCY | getaddrinfo HOST PORT N\n");
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "getaddrinfo") == 0) {
        /* The lookup on this thread, on a fresh thread per call (as ureq's resolver does
         * when a timeout is set), and the fresh thread alone. */
        struct lookup lk = {base, argv[3], 0};
        long n = strtol(argv[4], NULL, 10);
        double t0 = b_now();
        for (long i = 0; i < n; i++) lookup_main(&lk);
        b_result("gai_same_us", (b_now() - t0) / n * 1e6);
        t0 = b_now();
        for (long i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, lookup_main, &lk) != 0) return 1;
            pthread_join(t, NULL);
        }
        b_result("gai_thread_us", (b_now() - t0) / n * 1e6);
        t0 = b_now();
        for (long i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing_main, NULL) != 0) return 1;
            pthread_join(t, NULL);
        }
        b_result("thread_only_us", (b_now() - t0) / n * 1e6);
        if (lk.failed) {
            fprintf(stderr, "latency_so: getaddrinfo(%s) failed\n", base);
            return 1;
        }
        return 0;
    }
    long n = strtol(argv[3], NULL, 10), conc = strtol(argv[4], NULL, 10);
    if (n < 1 || conc < 1) {
        fprintf(stderr, "latency_so: N and CONCURRENCY must be positive\n");
        return 2;
    }
    so_client *c = b_so_client("latency_so", base, NULL);
    long failed = 0;
    double t = 0;

    if (strcmp(mode, "batch") == 0) {
        so_batch_item *items = calloc((size_t)n, sizeof *items);
        so_batch_result *results = calloc((size_t)n, sizeof *results);
        if (!items || !results) return 1;
        for (long i = 0; i < n; i++) {
            items[i].person_id = B_PERSON_ID;
            items[i].from = B_FROM;
            items[i].to = B_TO;
            items[i].subject = B_SUBJECT;
        }
        double t0 = b_now();
        so_result r = so_send_cc_password_emails(c, items, (size_t)n, (uint32_t)conc, results);
        t = b_now() - t0;
        for (long i = 0; i < n; i++) {
            if (results[i].code != SO_OK) {
                if (failed++ == 0)
                    fprintf(stderr, "latency_so: item %ld failed (%d): %s\n", i, (int)results[i].code,
                            results[i].message ? results[i].message : "");
            }
        }
        if (r != SO_OK && failed == 0) {
            fprintf(stderr, "latency_so: batch returned %d: %s\n", (int)r, so_last_error_message());
            failed = 1;
        }
        so_batch_results_clear(results, (size_t)n);
        free(items);
        free(results);
    } else if (strcmp(mode, "threads") == 0) {
        pthread_t *tids = calloc((size_t)conc, sizeof *tids);
        struct worker *ws = calloc((size_t)conc, sizeof *ws);
        pthread_barrier_t start;
        if (!tids || !ws) return 1;
        pthread_barrier_init(&start, NULL, (unsigned)conc + 1);
        for (long i = 0; i < conc; i++) {
            ws[i] = (struct worker){c, n / conc + (i < n % conc ? 1 : 0), 0, &start};
            if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) {
                fprintf(stderr, "latency_so: pthread_create failed\n");
                return 1;
            }
        }
        double t0 = b_now();
        pthread_barrier_wait(&start);
        for (long i = 0; i < conc; i++) {
            pthread_join(tids[i], NULL);
            failed += ws[i].failed;
        }
        t = b_now() - t0;
        pthread_barrier_destroy(&start);
        free(tids);
        free(ws);
    } else {
        return b_unknown_mode("latency_so", mode);
    }
    so_client_free(c);
    if (failed) {
        fprintf(stderr, "latency_so: %ld of %ld sends failed\n", failed, n);
        return 1;
    }
    b_result("seconds", t);
    return 0;
}
