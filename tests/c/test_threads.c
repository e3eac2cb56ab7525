/*
 * Threads a send starts. Every client sets a timeout, and with a timeout ureq's own
 * resolver starts a thread for each lookup, even of an IP literal and even when a pooled
 * connection is then reused; the library's resolver answers IP literals itself and keeps
 * a host name's answer for 60 s. So, after a warm-up send, sequential sends to the stub
 * by 127.0.0.1 start no thread (asynchronous ones: none beyond the pool's workers and
 * notifier), and sends by host name start none either while the name's answer is kept.
 *
 * Threads are counted where they are made: this program defines pthread_create, which
 * the library's calls then reach (the dynamic linker looks in the program first), counts
 * the call and hands it to the real one. Linux only; against the stub ($SO_STUB_URL),
 * under ASan and UBSan. Prints "N passed, N failed".
 */
#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>

/* ---------- counting pthread_create ---------- */

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static atomic_long g_threads_started;

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
    static pthread_create_fn real;
    if (!real) real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!real) return EAGAIN;
    atomic_fetch_add(&g_threads_started, 1);
    return real(thread, attr, start, arg);
}

static long threads_started(void) { return atomic_load(&g_threads_started); }

/* ---------- helpers ---------- */

#define SENDS 200

static int g_unique;

static void tenant(char *prefix, size_t plen, char *base, size_t blen, const char *host, const char *name) {
    snprintf(prefix, plen, "/threads-%d-%ld-%s", ++g_unique, (long)getpid(), name);
    snprintf(base, blen, "http://%s:%d%s/Cust12345", host, g_stub_port, prefix);
}

/* A client with a connect and a total timeout (the case in which ureq's resolver starts
 * a thread per lookup), no retries. */
static so_client *client_for(const char *base, uint32_t max_in_flight) {
    so_options *o = ticket_options(base, 5000, 10000);
    if (!o) return NULL;
    so_options_set_proxy(o, "");
    so_options_set_max_retries(o, 0);
    if (max_in_flight) so_options_set_max_in_flight(o, max_in_flight);
    return client_of(o);
}

static so_result send_one(so_client *c) {
    return so_send_cc_password_email(c, 670, "support@example.com", "kari@example.com", "Your password");
}

/* One asynchronous send at a time: started, then waited for. */
typedef struct {
    test_mutex lock;
    pthread_cond_t cv;
    int done;
    so_result code;
} waiter_t;

static void on_done(void *userdata, so_operation *op, so_result code) {
    waiter_t *w = userdata;
    so_operation_free(op);
    mutex_lock(&w->lock);
    w->code = code;
    w->done = 1;
    pthread_cond_signal(&w->cv);
    mutex_unlock(&w->lock);
}

static so_result send_async_and_wait(so_client *c) {
    waiter_t w = {TEST_MUTEX_INIT, PTHREAD_COND_INITIALIZER, 0, SO_OK};
    so_operation *op = NULL;
    so_result rc = so_send_cc_password_email_async(c, 670, "support@example.com", "kari@example.com",
                                                   "Your password", on_done, &w, &op);
    if (rc != SO_OK) return rc;
    mutex_lock(&w.lock);
    while (!w.done) pthread_cond_wait(&w.cv, &w.lock);
    mutex_unlock(&w.lock);
    pthread_cond_destroy(&w.cv);
    return w.code;
}

/* ---------- tests ---------- */

static void *nothing(void *arg) { return arg; }

static void test_the_counter_sees_threads_started(void) {
    /* The counter itself: a thread this program starts is counted. */
    long before = threads_started();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nothing, NULL) == 0);
    pthread_join(t, NULL);
    CHECK(threads_started() == before + 1);
}

static void test_sequential_sends_by_ip_literal_start_no_thread(void) {
    char prefix[128], base[256];
    tenant(prefix, sizeof prefix, base, sizeof base, "127.0.0.1", "sync");
    so_client *c = client_for(base, 0);
    CHECK(c != NULL);
    CHECK_RC(send_one(c), SO_OK); /* warm-up: opens the pooled connection */
    long before = threads_started();
    int tasks_before = thread_count();
    for (int i = 0; i < SENDS; i++) CHECK_RC(send_one(c), SO_OK);
    long started = threads_started() - before;
    printf("     %d sequential sends by 127.0.0.1: %ld threads started, %d -> %d threads\n", SENDS, started,
           tasks_before, thread_count());
    CHECK(started == 0);
    CHECK(thread_count() == tasks_before);
    CHECK(stub_count(prefix) == SENDS + 1);
    so_client_free(c);
}

static void test_asynchronous_sends_by_ip_literal_start_only_the_pools_threads(void) {
    /* The asynchronous send has threads of its own: at most max_in_flight workers and one
     * notifier per client, started on demand and kept. No more than those, whatever the
     * number of sends. */
    const unsigned max_in_flight = 4;
    char prefix[128], base[256];
    tenant(prefix, sizeof prefix, base, sizeof base, "127.0.0.1", "async");
    so_client *c = client_for(base, max_in_flight);
    CHECK(c != NULL);
    long before = threads_started();
    for (int i = 0; i <= SENDS; i++) CHECK_RC(send_async_and_wait(c), SO_OK);
    long started = threads_started() - before;
    printf("     %d asynchronous sends by 127.0.0.1, one at a time, max_in_flight %u: %ld threads started\n",
           SENDS + 1, max_in_flight, started);
    CHECK(started >= 1);
    CHECK(started <= (long)max_in_flight + 1);
    CHECK(stub_count(prefix) == SENDS + 1);
    so_client_free(c);
}

static void test_sends_by_host_name_resolve_it_once(void) {
    char prefix[128], base[256];
    if (!resolves("localhost")) {
        skip("localhost does not resolve here");
        return;
    }
    tenant(prefix, sizeof prefix, base, sizeof base, "localhost", "name");
    so_client *c = client_for(base, 0);
    CHECK(c != NULL);
    long before_first = threads_started();
    CHECK_RC(send_one(c), SO_OK);
    long first = threads_started() - before_first;
    long before = threads_started();
    for (int i = 0; i < SENDS; i++) CHECK_RC(send_one(c), SO_OK);
    long started = threads_started() - before;
    printf("     by localhost: the first send started %ld threads (the lookup), %d more: %ld\n", first, SENDS,
           started);
    CHECK(started == 0);
    CHECK(stub_count(prefix) == SENDS + 1);
    so_client_free(c);
}

int main(void) {
    if (!stub_from_env()) return 1;
    RUN(test_the_counter_sees_threads_started);
    RUN(test_sequential_sends_by_ip_literal_start_no_thread);
    RUN(test_asynchronous_sends_by_ip_literal_start_only_the_pools_threads);
    RUN(test_sends_by_host_name_resolve_it_once);
    return summary();
}
