/*
 * N asynchronous sends from C: every send started at once, completed by the library's
 * callback (which frees the operation), the main thread waiting on a condition variable.
 * Usage: bench_async BASE_URL N MAX_IN_FLIGHT
 * Prints: c <in-flight> <n> <seconds> <failures> <peak threads> <peak RSS KiB> <CPU s>
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "superoffice.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;
static long g_done, g_n;
static atomic_long g_failed;

static void on_done(void *userdata, so_operation *op, so_result code) {
    (void)userdata;
    if (code != SO_OK) atomic_fetch_add(&g_failed, 1);
    so_operation_free(op);
    pthread_mutex_lock(&g_lock);
    if (++g_done == g_n) pthread_cond_signal(&g_done_cv);
    pthread_mutex_unlock(&g_lock);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s BASE_URL N MAX_IN_FLIGHT\n", argv[0]);
        return 2;
    }
    g_n = atol(argv[2]);
    unsigned in_flight = (unsigned)atol(argv[3]);
    so_options *o = so_options_new(argv[1]);
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_proxy(o, "");
    so_options_set_timeout_ms(o, 10000, 120000);
    if (so_options_set_max_in_flight(o, in_flight) != SO_OK) {
        fprintf(stderr, "%s\n", so_last_error_message());
        return 1;
    }
    so_client *c = so_client_new(o);
    so_options_free(o);
    if (!c) return 1;
    double t0 = b_now(), c0 = b_cpu();
    for (long i = 0; i < g_n; i++) {
        so_operation *op;
        if (so_send_cc_password_email_async(c, 670, "support@example.com", "kari@example.com", "Your password",
                                            on_done, NULL, &op) != SO_OK) {
            fprintf(stderr, "%s\n", so_last_error_message());
            return 1;
        }
    }
    long peak_threads = 0;
    pthread_mutex_lock(&g_lock);
    while (g_done < g_n) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g_done_cv, &g_lock, &until);
        long t = b_status_field("Threads:");
        if (t > peak_threads) peak_threads = t;
    }
    pthread_mutex_unlock(&g_lock);
    double took = b_now() - t0, cpu = b_cpu() - c0;
    so_client_free(c);
    printf("c %u %ld %.3f %ld %ld %ld %.3f\n", in_flight, g_n, took, atomic_load(&g_failed), peak_threads,
           b_status_field("VmHWM:"), cpu);
    return 0;
}
