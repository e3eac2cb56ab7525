/* make bench-latency: libcurl's multi interface against a server that answers after a delay.
 *
 *   latency_curl URL N C
 *
 * C easy handles run at once in one multi handle; when one finishes, it is reset to the
 * next request and added again, so its keep-alive connection (kept in the multi handle's
 * connection cache) is reused. The same headers and body as every other peer. Prints
 * "seconds S", "cpu_s S" (user + system over the sends), "threads_peak 1" and
 * "rss_peak_kib K", and exits non-zero when any request failed or was not answered 2xx.
 * Also the libcurl peer of bench/async/run.sh. */
#include "common.h"

#include <curl/curl.h>

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static struct curl_slist *headers;

static void setup(CURL *e, const char *url) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, B_BODY);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(B_BODY));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, B_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: latency_curl URL N CONCURRENCY\n");
        return 2;
    }
    const char *url = argv[1];
    long n = strtol(argv[2], NULL, 10), conc = strtol(argv[3], NULL, 10);
    if (n < 1 || conc < 1) return 2;
    if (conc > n) conc = n;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (const char *const *line = B_HEADER_LINES; *line; line++) headers = curl_slist_append(headers, *line);

    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);

    long started = 0, done = 0, failed = 0;
    double t0 = b_now(), c0 = b_cpu();
    for (long i = 0; i < conc; i++) {
        CURL *e = curl_easy_init();
        setup(e, url);
        curl_multi_add_handle(m, e);
        started++;
    }
    while (done < n) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            fprintf(stderr, "latency_curl: curl_multi_perform: %s\n", curl_multi_strerror(mc));
            return 1;
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *e = msg->easy_handle;
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status / 100 != 2) {
                if (failed++ == 0)
                    fprintf(stderr, "latency_curl: request failed: %s, HTTP %ld\n",
                            curl_easy_strerror(msg->data.result), status);
            }
            done++;
            curl_multi_remove_handle(m, e);
            if (started < n) {
                /* The same handle (and its options) for the next request. */
                curl_multi_add_handle(m, e);
                started++;
            } else {
                curl_easy_cleanup(e);
            }
        }
        if (done < n) {
            mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
            if (mc != CURLM_OK) {
                fprintf(stderr, "latency_curl: curl_multi_poll: %s\n", curl_multi_strerror(mc));
                return 1;
            }
        }
    }
    double t = b_now() - t0, cpu = b_cpu() - c0;
    long threads = b_status_field("Threads:");
    curl_multi_cleanup(m);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    if (failed) {
        fprintf(stderr, "latency_curl: %ld of %ld requests failed\n", failed, n);
        return 1;
    }
    b_result("seconds", t);
    b_result("cpu_s", cpu);
    b_result("threads_peak", (double)threads);
    b_result("rss_peak_kib", (double)b_status_field("VmHWM:"));
    return 0;
}
