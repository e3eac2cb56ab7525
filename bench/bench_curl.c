/* libcurl from C, the classic peer: one reused easy handle per thread, the same request.
 * Usage: bench_curl seq URL N WARMUP | threads URL T N_PER_THREAD WARMUP | count URL N WARMUP
 *      | https URL CA_FILE N WARMUP */
#include "common.h"

#include <curl/curl.h>
#include <pthread.h>

static struct curl_slist *headers;

static size_t discard(char *p, size_t size, size_t n, void *u) {
    (void)p;
    (void)u;
    return size * n;
}

static CURL *make_handle(const char *url, const char *ca_file) {
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "bench_curl: curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, B_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, B_BODY);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(B_BODY));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* like the library's default here: no proxy set */
    if (ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    return h;
}

static void send_n(CURL *h, long n) {
    for (long i = 0; i < n; i++) {
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status < 200 || status > 299) {
            fprintf(stderr, "bench_curl: send %ld failed: %s, HTTP %ld\n", i, curl_easy_strerror(rc), status);
            exit(1);
        }
    }
}

struct worker {
    const char *url;
    long n, warm;
    pthread_barrier_t *ready, *start;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    CURL *h = make_handle(w->url, NULL);
    send_n(h, w->warm);
    pthread_barrier_wait(w->ready);
    pthread_barrier_wait(w->start);
    send_n(h, w->n);
    curl_easy_cleanup(h);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_curl seq|threads|count|https URL ...\n");
        return 2;
    }
    const char *mode = argv[1], *url = argv[2];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (const char *const *line = B_HEADER_LINES; *line; line++) headers = curl_slist_append(headers, *line);

    if (strcmp(mode, "seq") == 0 || strcmp(mode, "count") == 0 || strcmp(mode, "https") == 0) {
        int https = strcmp(mode, "https") == 0;
        const char *ca = https && argc > 3 ? argv[3] : NULL;
        int a = https ? 4 : 3;
        long n = b_arg_long(argc, argv, a, 20000), warm = b_arg_long(argc, argv, a + 1, 1000);
        CURL *h = make_handle(url, ca);
        send_n(h, warm);
        double t0 = b_now(), c0 = b_cpu();
        send_n(h, n);
        if (strcmp(mode, "count") != 0) b_rates(n, t0, c0);
        curl_easy_cleanup(h);
    } else if (strcmp(mode, "threads") == 0) {
        long t = b_arg_long(argc, argv, 3, 8), n = b_arg_long(argc, argv, 4, 5000),
             warm = b_arg_long(argc, argv, 5, 200);
        pthread_t *th = calloc((size_t)t, sizeof *th);
        struct worker *ws = calloc((size_t)t, sizeof *ws);
        pthread_barrier_t ready, start;
        pthread_barrier_init(&ready, NULL, (unsigned)t + 1);
        pthread_barrier_init(&start, NULL, (unsigned)t + 1);
        for (long i = 0; i < t; i++) {
            ws[i] = (struct worker){url, n, warm, &ready, &start};
            pthread_create(&th[i], NULL, worker_main, &ws[i]);
        }
        pthread_barrier_wait(&ready);
        pthread_barrier_wait(&start);
        double t0 = b_now(), c0 = b_cpu();
        for (long i = 0; i < t; i++) pthread_join(th[i], NULL);
        b_rates((double)(n * t), t0, c0);
        free(th);
        free(ws);
    } else {
        return b_unknown_mode("bench_curl", mode);
    }
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return 0;
}
