/* This library from C: one client, sequential sends; threads sharing one client;
 * client creation; memory; batch; https. Usage: bench_so MODE ARGS (see main). */
#include "common.h"

#include <pthread.h>

#include "superoffice.h"

static so_client *make_client(const char *base, const char *ca_file) {
    return b_so_client("bench_so", base, ca_file);
}

static void send_n(const so_client *c, long n) {
    for (long i = 0; i < n; i++) {
        so_result r = so_send_cc_password_email(c, B_PERSON_ID, B_FROM, B_TO, B_SUBJECT);
        if (r != SO_OK) {
            fprintf(stderr, "bench_so: send %ld failed (%d): %s\n", i, (int)r, so_last_error_message());
            exit(1);
        }
    }
}

struct worker {
    const so_client *c;
    long n;
    pthread_barrier_t *start;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    send_n(w->c, w->n);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr,
                "usage: bench_so seq BASE N WARMUP | threads BASE T N_PER_THREAD WARMUP | count BASE N WARMUP\n"
                "     | newfree BASE N | rss BASE | batch BASE N CONCURRENCY | https BASE CA_FILE N WARMUP\n");
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];

    if (strcmp(mode, "seq") == 0 || strcmp(mode, "count") == 0) {
        long n = b_arg_long(argc, argv, 3, 20000), warm = b_arg_long(argc, argv, 4, 1000);
        so_client *c = make_client(base, NULL);
        send_n(c, warm);
        double t0 = b_now(), c0 = b_cpu();
        send_n(c, n);
        if (strcmp(mode, "seq") == 0) b_rates(n, t0, c0);
        so_client_free(c);
    } else if (strcmp(mode, "https") == 0) {
        const char *ca = argc > 3 ? argv[3] : NULL;
        long n = b_arg_long(argc, argv, 4, 20000), warm = b_arg_long(argc, argv, 5, 1000);
        so_client *c = make_client(base, ca);
        send_n(c, warm);
        double t0 = b_now(), c0 = b_cpu();
        send_n(c, n);
        b_rates(n, t0, c0);
        so_client_free(c);
    } else if (strcmp(mode, "threads") == 0) {
        long t = b_arg_long(argc, argv, 3, 8), n = b_arg_long(argc, argv, 4, 5000),
             warm = b_arg_long(argc, argv, 5, 200);
        so_client *c = make_client(base, NULL);
        pthread_t *th = calloc((size_t)t, sizeof *th);
        struct worker *ws = calloc((size_t)t, sizeof *ws);
        pthread_barrier_t start;
        for (int round = 0; round < 2; round++) { /* round 0 warms up t connections */
            pthread_barrier_init(&start, NULL, (unsigned)t + 1);
            for (long i = 0; i < t; i++) {
                ws[i] = (struct worker){c, round == 0 ? warm : n, &start};
                pthread_create(&th[i], NULL, worker_main, &ws[i]);
            }
            pthread_barrier_wait(&start);
            double t0 = b_now(), c0 = b_cpu();
            for (long i = 0; i < t; i++) pthread_join(th[i], NULL);
            double el = b_now() - t0, cpu = b_cpu() - c0;
            pthread_barrier_destroy(&start);
            if (round == 1) {
                b_result("rps", (double)(n * t) / el);
                b_result("cpu_us", cpu / (double)(n * t) * 1e6);
            }
        }
        so_client_free(c);
        free(th);
        free(ws);
    } else if (strcmp(mode, "newfree") == 0) {
        long n = b_arg_long(argc, argv, 3, 1000);
        so_options *o = so_options_new(base);
        so_options_set_ticket(o, B_TICKET);
        so_options_set_app_token(o, B_APP_TOKEN);
        so_options_set_language(o, B_LANGUAGE);
        /* The first client loads the process-wide trust store: timed on its own. */
        double t0 = b_now();
        so_client *c = so_client_new(o);
        if (!c) {
            fprintf(stderr, "bench_so: so_client_new: %s\n", so_last_error_message());
            return 1;
        }
        so_client_free(c);
        b_result("first_ms", (b_now() - t0) * 1e3);
        t0 = b_now();
        for (long i = 0; i < n; i++) {
            c = so_client_new(o);
            if (!c) {
                fprintf(stderr, "bench_so: so_client_new: %s\n", so_last_error_message());
                return 1;
            }
            so_client_free(c);
        }
        b_result("mean_us", (b_now() - t0) / n * 1e6);
        so_options_free(o);
    } else if (strcmp(mode, "rss") == 0) {
        so_client *c = make_client(base, NULL);
        send_n(c, 1000);
        long r1 = b_rss_kib();
        send_n(c, 9000);
        long r10 = b_rss_kib();
        send_n(c, 90000);
        long r100 = b_rss_kib();
        b_result("rss_1k_kib", (double)r1);
        b_result("rss_10k_kib", (double)r10);
        b_result("rss_100k_kib", (double)r100);
        so_client_free(c);
    } else if (strcmp(mode, "batch") == 0) {
        long n = b_arg_long(argc, argv, 3, 1000), conc = b_arg_long(argc, argv, 4, 8);
        so_client *c = make_client(base, NULL);
        so_batch_item *items = calloc((size_t)n, sizeof *items);
        so_batch_result *results = calloc((size_t)n, sizeof *results);
        for (long i = 0; i < n; i++) items[i] = (so_batch_item){B_PERSON_ID, B_FROM, B_TO, B_SUBJECT};
        /* warm-up: open the connections of both ways */
        if (so_send_cc_password_emails(c, items, (size_t)(conc * 4), (uint32_t)conc, results) != SO_OK) {
            fprintf(stderr, "bench_so: batch warm-up failed: %s\n", so_last_error_message());
            return 1;
        }
        so_batch_results_clear(results, (size_t)(conc * 4));
        double best_b = 0, best_s = 0;
        for (int round = 0; round < 3; round++) {
            double t0 = b_now();
            so_result r = so_send_cc_password_emails(c, items, (size_t)n, (uint32_t)conc, results);
            double tb = b_now() - t0;
            if (r != SO_OK) {
                fprintf(stderr, "bench_so: batch failed (%d): %s\n", (int)r, so_last_error_message());
                return 1;
            }
            so_batch_results_clear(results, (size_t)n);
            t0 = b_now();
            send_n(c, n);
            double ts = b_now() - t0;
            if (n / tb > best_b) best_b = n / tb;
            if (n / ts > best_s) best_s = n / ts;
        }
        b_result("batch_rps", best_b);
        b_result("seq_rps", best_s);
        so_client_free(c);
        free(items);
        free(results);
    } else {
        return b_unknown_mode("bench_so", mode);
    }
    return 0;
}
