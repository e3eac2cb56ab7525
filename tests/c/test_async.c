/*
 * C tests of the asynchronous send (so_send_cc_password_email_async and so_operation_*)
 * against the stub server ($SO_STUB_URL): the callback comes exactly once, on a thread
 * of the library, across success, every error code the stub can produce, cancellation
 * before and during the send, so_operation_free before the end and so_client_free with
 * sends outstanding; the completion queue (so_completion_queue_*, its descriptor polled as
 * an event loop does); then N sends (default 10,000; argv[1] or $SO_ASYNC_N) with random
 * cancels, every callback counted once and the stub's count matching the successes.
 * Built with -fsanitize=address,undefined (make test-c-async); under helgrind with a
 * N of 1,000 under ThreadSanitizer (make test-c-async-tsan, tests/c/tsan.sh). Prints
 * "N passed, N failed".
 */
#include "harness.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

static int g_unique;
static long g_stress_n = 10000;

/* What one operation's callback saw. */
typedef struct {
    atomic_int calls;
    atomic_int code;
    int http_status;
    so_delivery delivery;
    char message[4096];
    char error_type[256];
    pthread_t starter;
    atomic_int on_starter_thread;
    int free_in_callback;
    int sleep_ms_in_callback;
    double ended_ms;
} rec_t;

static void on_done(void *userdata, so_operation *op, so_result code) {
    rec_t *r = userdata;
    if (pthread_equal(pthread_self(), r->starter)) atomic_store(&r->on_starter_thread, 1);
    if (r->sleep_ms_in_callback) usleep((useconds_t)r->sleep_ms_in_callback * 1000);
    r->http_status = so_operation_http_status(op);
    r->delivery = so_operation_delivery(op);
    snprintf(r->message, sizeof r->message, "%s", so_operation_error_message(op));
    snprintf(r->error_type, sizeof r->error_type, "%s", so_operation_error_type(op));
    r->ended_ms = now_ms();
    atomic_store(&r->code, (int)code);
    if (r->free_in_callback) so_operation_free(op);
    atomic_fetch_add(&r->calls, 1);
}

static void rec_init(rec_t *r) {
    memset(r, 0, sizeof *r);
    atomic_init(&r->calls, 0);
    atomic_init(&r->code, -1);
    atomic_init(&r->on_starter_thread, 0);
    r->starter = pthread_self();
}

/* A cleared record `r` and an operation handle `op` (NULL) for one send. */
#define REC(r, op) \
    rec_t r;       \
    rec_init(&r);  \
    so_operation *op = NULL

/* Waits until the callback has come (1) or `ms` passed (0). */
static int wait_for(rec_t *r, int ms) {
    double until = now_ms() + ms;
    while (atomic_load(&r->calls) == 0) {
        if (now_ms() > until) return 0;
        usleep(1000);
    }
    return 1;
}

/* Starts the send of `person_id` (no e-mail fields), its callback recorded in `r`. */
static so_result start_send(so_client *c, int32_t person_id, rec_t *r, so_operation **op) {
    return so_send_cc_password_email_async(c, person_id, NULL, NULL, NULL, on_done, r, op);
}

/* Starts the send and waits up to `ms` for its callback: 1 when it started and came. */
static int send_and_wait(so_client *c, int32_t person_id, rec_t *r, so_operation **op, int ms) {
    return start_send(c, person_id, r, op) == SO_OK && wait_for(r, ms);
}

/* Starts `n` sends, of persons `first_id` on, each recorded in `recs[i]` (cleared
   first, its callback sleeping `sleep_ms`): 1 when every one started. */
static int start_sends(so_client *c, int32_t first_id, rec_t *recs, so_operation **ops, int n, int sleep_ms) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        rec_init(&recs[i]);
        recs[i].sleep_ms_in_callback = sleep_ms;
        ok &= start_send(c, first_id + i, &recs[i], &ops[i]) == SO_OK;
    }
    return ok;
}

/* Cancels `op` and waits up to 1 s for its callback, recorded in `r`: the milliseconds
   from the cancel to the callback, printed after `what`; -1 when the cancel failed or no
   callback came. */
static double cancel_and_time(so_operation *op, rec_t *r, const char *what) {
    double t0 = now_ms();
    so_result rc = so_operation_cancel(op);
    if (rc != SO_OK || !wait_for(r, 1000)) {
        fprintf(stderr, "    %s: cancel gave %s, callbacks %d\n", what, so_result_str(rc), atomic_load(&r->calls));
        return -1;
    }
    double took = r->ended_ms - t0;
    printf("    %s: callback after %.2f ms\n", what, took);
    return took;
}

/* Polls the stub, every 2 ms for up to `tries` times, until it counted `n` requests under
   `prefix`: the count then. */
static int wait_for_count(const char *prefix, int n, int tries) {
    int count = stub_count(prefix);
    for (int i = 0; i < tries && count < n; i++) {
        usleep(2000);
        count = stub_count(prefix);
    }
    return count;
}

static void tenant(char *prefix, size_t plen, char *base, size_t blen, const char *name, const char *directives) {
    snprintf(prefix, plen, "/ca-%d-%ld-%s", ++g_unique, (long)getpid(), name);
    snprintf(base, blen, "%s%s%s%s/Cust12345", g_stub, prefix, directives && *directives ? "/" : "",
             directives ? directives : "");
}

#define TENANT(name, directives)                      \
    char prefix[256], base[512];                      \
    tenant(prefix, sizeof prefix, base, sizeof base, name, directives)

static so_client *client_with(const char *base, uint32_t max_in_flight, uint32_t total_ms) {
    so_options *o = ticket_options(base, 2000, total_ms);
    if (o && max_in_flight) so_options_set_max_in_flight(o, max_in_flight);
    return client_of(o);
}

/* A fresh tenant (prefix, base) and a client `c` for it (see client_with); the test fails
   when the client cannot be made. */
#define TENANT_CLIENT(name, directives, max_in_flight, total_ms) \
    TENANT(name, directives);                                    \
    so_client *c = client_with(base, max_in_flight, total_ms);   \
    CHECK(c != NULL)

/* ---------- arguments ---------- */

static void test_bad_arguments_fail_at_once_without_a_callback(void) {
    TENANT_CLIENT("args", "", 0, 5000);
    rec_t r;
    rec_init(&r);
    so_operation *op = (so_operation *)&r; /* must be overwritten with NULL */
    const char bad_utf8[] = {(char)0xC3, (char)0x28, 0};
    CHECK_RC(so_send_cc_password_email_async(NULL, 1, NULL, NULL, NULL, on_done, &r, &op), SO_ERR_NULL_ARGUMENT);
    CHECK(op == NULL);
    CHECK(strstr(so_last_error_message(), "client") != NULL);
    op = (so_operation *)&r;
    CHECK_RC(so_send_cc_password_email_async(c, 1, NULL, NULL, NULL, NULL, &r, &op), SO_ERR_NULL_ARGUMENT);
    CHECK(op == NULL);
    CHECK_RC(so_send_cc_password_email_async(c, 1, NULL, NULL, NULL, on_done, &r, NULL), SO_ERR_NULL_ARGUMENT);
    op = (so_operation *)&r;
    CHECK_RC(so_send_cc_password_email_async(c, 0, NULL, NULL, NULL, on_done, &r, &op), SO_ERR_INVALID_ARGUMENT);
    CHECK(op == NULL);
    CHECK(strstr(so_last_error_message(), "person_id") != NULL);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT); /* a refused start sent nothing */
    CHECK_RC(so_send_cc_password_email_async(c, -3, NULL, NULL, NULL, on_done, &r, &op), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email_async(c, 1, bad_utf8, NULL, NULL, on_done, &r, &op), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email_async(c, 1, NULL, bad_utf8, NULL, on_done, &r, &op), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email_async(c, 1, NULL, NULL, bad_utf8, on_done, &r, &op), SO_ERR_INVALID_ARGUMENT);
    CHECK(op == NULL);
    usleep(100 * 1000);
    CHECK(atomic_load(&r.calls) == 0);
    CHECK(stub_count(prefix) == 0);
    /* the readers and free accept NULL */
    CHECK(so_operation_http_status(NULL) == 0);
    CHECK(strcmp(so_operation_error_message(NULL), "") == 0);
    CHECK(strcmp(so_operation_error_type(NULL), "") == 0);
    CHECK(so_operation_delivery(NULL) == SO_DELIVERY_NONE);
    CHECK_RC(so_operation_cancel(NULL), SO_ERR_NULL_ARGUMENT);
    so_operation_free(NULL);
    so_client_free(c);
}

static void test_max_in_flight_range(void) {
    CHECK_RC(so_options_set_max_in_flight(NULL, 4), SO_ERR_NULL_ARGUMENT);
    so_options *o = so_options_new("http://127.0.0.1:1");
    CHECK(o != NULL);
    CHECK_RC(so_options_set_max_in_flight(o, 0), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "max_in_flight") != NULL);
    CHECK_RC(so_options_set_max_in_flight(o, 1025), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_max_in_flight(o, 1), SO_OK);
    CHECK_RC(so_options_set_max_in_flight(o, 1024), SO_OK);
    so_options_free(o);
    CHECK(SO_ERR_CANCELLED == 14);
    CHECK(strcmp(so_result_str(SO_ERR_CANCELLED), "cancelled") == 0);
}

/* ---------- exactly once, success and every error ---------- */

static void test_success_calls_back_once_on_a_library_thread(void) {
    int threads_before = thread_count();
    TENANT_CLIENT("ok", "", 4, 5000);
    CHECK(thread_count() == threads_before); /* no thread before the first async send */
    REC(r, op);
    double t0 = now_ms();
    CHECK_RC(so_send_cc_password_email_async(c, 670, "a@example.com", "b@example.com", "Hi", on_done, &r, &op), SO_OK);
    CHECK(op != NULL);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE); /* the start sends nothing itself */
    CHECK(now_ms() - t0 < 1000); /* returned without waiting for the network (generous) */
    CHECK(wait_for(&r, 5000));
    CHECK(atomic_load(&r.code) == SO_OK);
    CHECK(r.http_status == 204);
    CHECK(r.delivery == SO_DELIVERY_ANSWERED && so_operation_delivery(op) == SO_DELIVERY_ANSWERED);
    CHECK(strcmp(r.message, "") == 0);
    CHECK(atomic_load(&r.on_starter_thread) == 0);
    CHECK(so_operation_http_status(op) == 204);
    CHECK(strcmp(so_operation_error_message(op), "") == 0);
    /* cancelling an ended operation, twice, changes nothing */
    CHECK_RC(so_operation_cancel(op), SO_OK);
    CHECK_RC(so_operation_cancel(op), SO_OK);
    CHECK(so_operation_http_status(op) == 204);
    usleep(50 * 1000);
    CHECK(atomic_load(&r.calls) == 1);
    CHECK(stub_count(prefix) == 1);
    so_client_free(c);
    CHECK(thread_count() == threads_before); /* the workers have exited */
    /* the operation outlives its client */
    CHECK(so_operation_http_status(op) == 204);
    so_operation_free(op);
    CHECK(atomic_load(&r.calls) == 1);
}

static void test_free_from_the_callback(void) {
    TENANT_CLIENT("free-in-cb", "", 2, 5000);
    REC(r, op);
    r.free_in_callback = 1;
    CHECK(send_and_wait(c, 670, &r, &op, 5000));
    CHECK(atomic_load(&r.code) == SO_OK);
    so_client_free(c);
    CHECK(atomic_load(&r.calls) == 1);
}

typedef struct {
    const char *directives;
    const char *scheme; /* NULL: http */
    int port_one;       /* 1: http://127.0.0.1:1 (nothing listens) */
    uint32_t total_ms;
    so_result want;
    int status;
    const char *type;
    const char *in_message;
    so_delivery delivery;
} error_case_t;

static void test_every_error_code_calls_back_once(void) {
    const error_case_t cases[] = {
        {"status=400", NULL, 0, 5000, SO_ERR_BAD_REQUEST, 400, "SoStubException", "400 Bad Request", SO_DELIVERY_ANSWERED},
        {"status=401", NULL, 0, 5000, SO_ERR_UNAUTHORIZED, 401, NULL, "401 Unauthorized", SO_DELIVERY_ANSWERED},
        {"status=403", NULL, 0, 5000, SO_ERR_FORBIDDEN, 403, NULL, "403 Forbidden", SO_DELIVERY_ANSWERED},
        {"status=404", NULL, 0, 5000, SO_ERR_NOT_FOUND, 404, "SoNotFoundException", "404 Not Found", SO_DELIVERY_ANSWERED},
        {"status=418", NULL, 0, 5000, SO_ERR_HTTP_STATUS, 418, NULL, "418", SO_DELIVERY_ANSWERED},
        {"status=302/location=https%3A%2F%2Fother.example%2Fx", NULL, 0, 5000, SO_ERR_HTTP_STATUS, 302, NULL,
         "https://other.example/x", SO_DELIVERY_ANSWERED},
        {"status=429/retry_after=100", NULL, 0, 5000, SO_ERR_RATE_LIMITED, 429, NULL, "429", SO_DELIVERY_ANSWERED},
        {"status=500", NULL, 0, 5000, SO_ERR_SERVER, 500, "SoStubException", "500", SO_DELIVERY_ANSWERED},
        {"status=503/retry_after=100", NULL, 0, 5000, SO_ERR_SERVER, 503, NULL, "503", SO_DELIVERY_ANSWERED},
        {"garbage", NULL, 0, 5000, SO_ERR_IO, 0, "", "not valid HTTP", SO_DELIVERY_UNKNOWN},
        {"drop=after", NULL, 0, 5000, SO_ERR_IO, 0, "", "closed", SO_DELIVERY_UNKNOWN},
        {"hang", NULL, 0, 300, SO_ERR_TIMEOUT, 0, "", "timeout", SO_DELIVERY_UNKNOWN},
        {"drop=reset", NULL, 0, 5000, SO_ERR_IO, 0, "", "reset", SO_DELIVERY_UNKNOWN},
        {"", "https", 0, 5000, SO_ERR_TLS, 0, "", "TLS", SO_DELIVERY_UNKNOWN},
        {"", NULL, 1, 5000, SO_ERR_CONNECT, 0, "", "connect", SO_DELIVERY_NOT_SENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const error_case_t *k = &cases[i];
        TENANT("err", k->directives);
        char url[600];
        if (k->port_one)
            snprintf(url, sizeof url, "http://127.0.0.1:1/Cust12345");
        else if (k->scheme)
            snprintf(url, sizeof url, "https://%s", base + strlen("http://"));
        else
            snprintf(url, sizeof url, "%s", base);
        so_client *c = client_with(url, 4, k->total_ms);
        CHECK(c != NULL);
        REC(r, op);
        CHECK_RC(start_send(c, 670, &r, &op), SO_OK);
        if (!wait_for(&r, 10000)) {
            fprintf(stderr, "    case %s: no callback\n", k->directives);
            CHECK(0);
        }
        /* the synchronous send of the same client fails the same way */
        so_result sync = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
        so_delivery sync_delivery = so_last_delivery();
        so_client_free(c);
        if (r.delivery != k->delivery || sync_delivery != k->delivery)
            fprintf(stderr, "    case %s: delivery %d (sync %d), want %d\n", k->directives, (int)r.delivery, (int)sync_delivery,
                    (int)k->delivery);
        CHECK(r.delivery == k->delivery && sync_delivery == k->delivery);
        if (atomic_load(&r.code) != (int)k->want || r.http_status != k->status || sync != k->want ||
            !strstr(r.message, k->in_message) || (k->type && strcmp(r.error_type, k->type) != 0)) {
            fprintf(stderr, "    case %s%s: code %d (sync %d) status %d type [%s] message [%s]\n", k->scheme ? "https " : "",
                    k->port_one ? "port 1" : k->directives, atomic_load(&r.code), (int)sync, r.http_status,
                    r.error_type, r.message);
            CHECK(0);
        }
        CHECK(atomic_load(&r.calls) == 1);
        CHECK(atomic_load(&r.on_starter_thread) == 0);
        so_operation_free(op);
    }
}

/* ---------- cancellation ---------- */

static void test_cancel_before_the_send_never_sends(void) {
    /* one worker, held by a slow request; the second operation waits in the queue */
    TENANT("slow", "delay_ms=1500");
    char prefix2[256], base2[512];
    tenant(prefix2, sizeof prefix2, base2, sizeof base2, "queued", "");
    so_client *c = client_with(base, 1, 5000);
    CHECK(c != NULL);
    REC(first, op1);
    REC(second, op2);
    CHECK_RC(start_send(c, 670, &first, &op1), SO_OK);
    CHECK_RC(start_send(c, 671, &second, &op2), SO_OK);
    CHECK(wait_for_count(prefix, 1, 2500) == 1); /* the first is on the network, the second queued */
    double took = cancel_and_time(op2, &second, "cancel before the send");
    CHECK(took >= 0 && took < 1000);
    CHECK(atomic_load(&second.code) == SO_ERR_CANCELLED);
    CHECK(strstr(second.message, "before it was sent") != NULL);
    CHECK(second.delivery == SO_DELIVERY_NOT_SENT); /* cancelled before any byte was written */
    CHECK(so_operation_delivery(op2) == SO_DELIVERY_NOT_SENT);
    CHECK(atomic_load(&second.on_starter_thread) == 0);
    CHECK(so_operation_delivery(op1) == SO_DELIVERY_NONE); /* still running */
    CHECK(atomic_load(&first.calls) == 0); /* the first is still on the network */
    /* the first, on the network: cancelled promptly */
    took = cancel_and_time(op1, &first, "cancel during the send");
    CHECK(took >= 0 && took < 1000);
    CHECK(atomic_load(&first.code) == SO_ERR_CANCELLED);
    CHECK(strstr(first.message, "may already have received") != NULL);
    CHECK(first.delivery == SO_DELIVERY_UNKNOWN); /* cancelled on the network */
    CHECK(so_operation_http_status(op1) == 0);
    so_client_free(c);
    /* nothing reached the server for the second: its body never went out */
    char *log = stub_log(prefix);
    CHECK(log != NULL);
    CHECK(strstr(log, "671") == NULL);
    free(log);
    CHECK(atomic_load(&first.calls) == 1 && atomic_load(&second.calls) == 1);
    so_operation_free(op1);
    so_operation_free(op2);
    (void)base2;
}

static void test_cancel_during_the_send_of_a_hanging_request(void) {
    TENANT_CLIENT("hang", "hang", 2, 0); /* no total timeout: only the cancel ends it */
    REC(r, op);
    CHECK_RC(start_send(c, 670, &r, &op), SO_OK);
    CHECK(wait_for_count(prefix, 1, 500) == 1); /* the server has the request */
    usleep(50 * 1000);
    double took = cancel_and_time(op, &r, "cancel of a request awaiting its answer");
    CHECK(took >= 0 && took < 1000);
    CHECK(atomic_load(&r.code) == SO_ERR_CANCELLED);
    CHECK(r.delivery == SO_DELIVERY_UNKNOWN);
    CHECK(strstr(r.message, "it may have been processed") != NULL);
    CHECK(strstr(r.message, "may already have received") != NULL);
    /* the worker goes on with a fresh agent */
    char prefix2[256], base2[512];
    tenant(prefix2, sizeof prefix2, base2, sizeof base2, "after", "");
    so_operation_free(op);
    so_client_free(c);
    c = client_with(base2, 1, 5000);
    CHECK(c != NULL);
    REC(a, opa);
    REC(b, opb);
    CHECK(send_and_wait(c, 670, &a, &opa, 5000));
    CHECK_RC(so_operation_cancel(opa), SO_OK); /* ended: no-op, the agent stays */
    CHECK(send_and_wait(c, 670, &b, &opb, 5000));
    CHECK(atomic_load(&a.code) == SO_OK && atomic_load(&b.code) == SO_OK);
    so_operation_free(opa);
    so_operation_free(opb);
    so_client_free(c);
}

static void test_cancel_during_a_retry_wait(void) {
    /* 503 with Retry-After 2 s: the client waits before its retry; the cancel ends the wait */
    TENANT_CLIENT("retry-wait", "status=503/retry_after=2", 1, 10000);
    REC(r, op);
    CHECK_RC(start_send(c, 670, &r, &op), SO_OK);
    wait_for_count(prefix, 1, 500);
    usleep(100 * 1000);
    CHECK(cancel_and_time(op, &r, "cancel during a Retry-After wait") >= 0);
    CHECK(atomic_load(&r.code) == SO_ERR_CANCELLED);
    CHECK(stub_count(prefix) == 1); /* never sent again */
    so_operation_free(op);
    so_client_free(c);
}

static void test_free_before_completion_cancels_and_still_calls_back(void) {
    TENANT_CLIENT("free-early", "delay_ms=2000", 1, 5000);
    REC(r1, op1);
    REC(r2, op2);
    CHECK_RC(start_send(c, 670, &r1, &op1), SO_OK);
    CHECK_RC(start_send(c, 671, &r2, &op2), SO_OK);
    usleep(100 * 1000);
    so_operation_free(op2); /* queued */
    so_operation_free(op1); /* on the network */
    CHECK(wait_for(&r1, 1000));
    CHECK(wait_for(&r2, 1000));
    CHECK(atomic_load(&r1.code) == SO_ERR_CANCELLED);
    CHECK(atomic_load(&r2.code) == SO_ERR_CANCELLED);
    CHECK(strstr(r2.message, "before it was sent") != NULL);
    CHECK(r2.delivery == SO_DELIVERY_NOT_SENT && r1.delivery == SO_DELIVERY_UNKNOWN);
    so_client_free(c);
    CHECK(atomic_load(&r1.calls) == 1 && atomic_load(&r2.calls) == 1);
}

static void test_client_free_with_sends_outstanding(void) {
    int threads_before = thread_count();
    TENANT_CLIENT("outstanding", "hang", 4, 0);
    enum { N = 24 };
    static rec_t recs[N];
    so_operation *ops[N];
    CHECK(start_sends(c, 670, recs, ops, N, 20)); /* so_client_free must wait for these */
    CHECK(wait_for_count(prefix, 4, 500) == 4); /* four on the network, twenty queued */
    int threads_during = thread_count();
    printf("    threads: %d before, %d with 4 in flight (4 workers and the notifier)\n", threads_before,
           threads_during);
    CHECK(threads_during - threads_before <= 5);
    double t0 = now_ms();
    so_client_free(c);
    double took = now_ms() - t0;
    int calls = 0, cancelled = 0;
    for (int i = 0; i < N; i++) {
        calls += atomic_load(&recs[i].calls);
        cancelled += atomic_load(&recs[i].code) == SO_ERR_CANCELLED;
    }
    printf("    so_client_free with %d outstanding: %.1f ms, %d callbacks before it returned\n", N, took, calls);
    CHECK(calls == N);
    CHECK(cancelled == N);
    CHECK(thread_count() == threads_before);
    usleep(50 * 1000);
    calls = 0;
    for (int i = 0; i < N; i++) calls += atomic_load(&recs[i].calls);
    CHECK(calls == N);
    for (int i = 0; i < N; i++) {
        CHECK(so_operation_http_status(ops[i]) == 0);
        so_operation_free(ops[i]);
    }
}

/* A callback that starts the next send of a chain, from the library's thread. */
typedef struct {
    so_client *client;
    atomic_int left;
    atomic_int done;
    atomic_int failed;
} chain_t;

static void on_chain(void *userdata, so_operation *op, so_result code) {
    chain_t *ch = userdata;
    if (code != SO_OK) atomic_fetch_add(&ch->failed, 1);
    so_operation_free(op);
    if (atomic_fetch_sub(&ch->left, 1) > 1) {
        so_operation *next = NULL;
        if (so_send_cc_password_email_async(ch->client, 670, NULL, NULL, NULL, on_chain, ch, &next) != SO_OK)
            atomic_fetch_add(&ch->failed, 1);
    }
    atomic_fetch_add(&ch->done, 1);
}

static void test_callback_may_start_new_sends(void) {
    TENANT_CLIENT("chain", "", 1, 5000);
    chain_t ch;
    ch.client = c;
    atomic_init(&ch.left, 20);
    atomic_init(&ch.done, 0);
    atomic_init(&ch.failed, 0);
    so_operation *op = NULL;
    CHECK_RC(so_send_cc_password_email_async(c, 670, NULL, NULL, NULL, on_chain, &ch, &op), SO_OK);
    double until = now_ms() + 10000;
    while (atomic_load(&ch.done) < 20 && now_ms() < until) usleep(1000);
    CHECK(atomic_load(&ch.done) == 20);
    CHECK(atomic_load(&ch.failed) == 0);
    CHECK(stub_count(prefix) == 20);
    so_client_free(c);
}

static void test_at_most_max_in_flight_on_the_network(void) {
    int threads_before = thread_count();
    TENANT_CLIENT("bound", "delay_ms=300", 3, 5000);
    enum { N = 9 };
    static rec_t recs[N];
    so_operation *ops[N];
    CHECK(start_sends(c, 670, recs, ops, N, 0));
    CHECK(wait_for_count(prefix, 3, 1000) == 3); /* the others wait for one of these 300 ms answers */
    CHECK(thread_count() - threads_before <= 4);
    for (int i = 0; i < N; i++) CHECK(wait_for(&recs[i], 5000));
    /* first in, first out: the first three ended before the last three started */
    CHECK(recs[2].ended_ms <= recs[8].ended_ms - 250);
    for (int i = 0; i < N; i++) {
        CHECK(atomic_load(&recs[i].code) == SO_OK);
        so_operation_free(ops[i]);
    }
    so_client_free(c);
}

/* After fork() the child has none of the parent's worker threads: its sends get workers of
   its own, and so_client_free there does not wait for the parent's. */
static void test_fork_child_gets_its_own_workers(void) {
    if (getenv("SO_ASYNC_SKIP_FORK")) {
        skip("SO_ASYNC_SKIP_FORK: ThreadSanitizer does not follow a multithreaded fork(); the ASan run covers it");
        return;
    }
    TENANT_CLIENT("fork", "", 2, 5000);
    REC(r, op);
    CHECK(send_and_wait(c, 670, &r, &op, 5000));
    so_operation_free(op);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        REC(rc, cop);
        int ok = start_send(c, 671, &rc, &cop) == SO_OK &&
                 wait_for(&rc, 5000) && atomic_load(&rc.code) == SO_OK;
        so_operation_free(cop);
        so_client_free(c);
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    rec_t again;
    rec_init(&again);
    CHECK(send_and_wait(c, 672, &again, &op, 5000));
    CHECK(atomic_load(&again.code) == SO_OK);
    so_operation_free(op);
    so_client_free(c);
    CHECK(stub_count(prefix) == 3);
}

/* ---------- many sends with random cancels ---------- */

typedef struct {
    atomic_int calls;
    atomic_int code;
    atomic_int maybe_sent; /* cancelled while on the network */
} slot_t;

static slot_t *g_slots;

static void on_stress(void *userdata, so_operation *op, so_result code) {
    slot_t *s = &g_slots[(size_t)userdata];
    atomic_store(&s->code, (int)code);
    if (code == SO_ERR_CANCELLED && strstr(so_operation_error_message(op), "may already have received"))
        atomic_store(&s->maybe_sent, 1);
    atomic_fetch_add(&s->calls, 1);
}

typedef struct {
    so_operation **ops;
    long n;
    atomic_long *started;
    atomic_int stop;
    unsigned seed;
} canceller_t;

static void *cancel_randomly(void *arg) {
    canceller_t *k = arg;
    while (!atomic_load(&k->stop)) {
        long started = atomic_load(k->started);
        if (started > 0) {
            long i = (long)(rand_r(&k->seed) % (unsigned)started);
            if (rand_r(&k->seed) % 8 == 0) so_operation_cancel(k->ops[i]);
        }
        usleep(50);
    }
    return NULL;
}

static void test_many_sends_with_random_cancels(void) {
    TENANT_CLIENT("stress", "", 64, 30000);
    long n = g_stress_n;
    g_slots = calloc((size_t)n, sizeof *g_slots);
    so_operation **ops = calloc((size_t)n, sizeof *ops);
    CHECK(g_slots && ops);
    atomic_long started;
    atomic_init(&started, 0);
    canceller_t k = {.ops = ops, .n = n, .started = &started, .seed = 12345};
    atomic_init(&k.stop, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_randomly, &k) == 0);
    unsigned seed = 777;
    double t0 = now_ms();
    for (long i = 0; i < n; i++) {
        so_result rc = so_send_cc_password_email_async(c, 670, NULL, NULL, NULL, on_stress, (void *)(size_t)i, &ops[i]);
        if (rc != SO_OK) {
            atomic_store(&k.stop, 1);
            pthread_join(t, NULL);
            CHECK_RC(rc, SO_OK);
        }
        atomic_store(&started, i + 1);
        if (rand_r(&seed) % 10 == 0) so_operation_cancel(ops[i]); /* at once: mostly still queued */
    }
    double until = now_ms() + 120000;
    long done = 0;
    while (now_ms() < until) {
        done = 0;
        for (long i = 0; i < n; i++) done += atomic_load(&g_slots[i].calls) > 0;
        if (done == n) break;
        usleep(2000);
    }
    double took = now_ms() - t0;
    atomic_store(&k.stop, 1);
    pthread_join(t, NULL);
    long ok = 0, cancelled = 0, maybe_sent = 0, other = 0, twice = 0;
    for (long i = 0; i < n; i++) {
        int calls = atomic_load(&g_slots[i].calls);
        if (calls != 1) twice++;
        int code = atomic_load(&g_slots[i].code);
        if (code == SO_OK)
            ok++;
        else if (code == SO_ERR_CANCELLED) {
            cancelled++;
            maybe_sent += atomic_load(&g_slots[i].maybe_sent);
        } else
            other++;
    }
    int counted = stub_count(prefix);
    printf("    %ld sends in %.0f ms: %ld ok, %ld cancelled (%ld of them on the network), %ld other; stub "
           "counted %d\n",
           n, took, ok, cancelled, maybe_sent, other, counted);
    so_client_free(c);
    for (long i = 0; i < n; i++) so_operation_free(ops[i]);
    free(ops);
    int calls_after = 0;
    for (long i = 0; i < n; i++) calls_after += atomic_load(&g_slots[i].calls);
    free(g_slots);
    CHECK(done == n);
    CHECK(twice == 0);
    CHECK(calls_after == n);
    CHECK(other == 0);
    /* every success reached the server; no operation cancelled before its send did;
       one cancelled on the network may or may not have */
    CHECK(counted >= ok && counted <= ok + maybe_sent);
}

static void *warm_up(void *arg) { return arg; }

/* ---------- the completion queue ---------- */

static so_result send_to_queue(so_client *c, int32_t person_id, so_completion_queue *q, so_operation **op) {
    return so_send_cc_password_email_async(c, person_id, NULL, NULL, NULL, so_completion_queue_push, q, op);
}

/* Takes completions until `want` arrived or 10 s passed; each must be one of `ops`,
 * once. Returns how many arrived; `codes_out[i]` is the code of `ops[i]`. */
static int take_all(so_completion_queue *q, so_operation **ops, int want, int *codes_out) {
    int got = 0;
    double until = now_ms() + 10000;
    for (int i = 0; i < want; i++) codes_out[i] = -1;
    while (got < want && now_ms() < until) {
        so_operation *batch[16];
        so_result codes[16];
        size_t n = 99;
        if (so_completion_queue_wait(q, 1000, batch, codes, 16, &n) != SO_OK) return -1;
        for (size_t k = 0; k < n; k++) {
            int found = 0;
            for (int i = 0; i < want; i++) {
                if (ops[i] == batch[k]) {
                    if (codes_out[i] != -1) return -2; /* twice */
                    codes_out[i] = (int)codes[k];
                    found = 1;
                }
            }
            if (!found) return -3;
            got++;
        }
    }
    return got;
}

static void test_completion_queue_collects_every_completion_once(void) {
    enum { N = 40 };
    TENANT_CLIENT("queue", "", 8, 10000);
    so_completion_queue *q = so_completion_queue_new();
    CHECK(q != NULL);
    so_operation *ops[N];
    for (int i = 0; i < N; i++) CHECK_RC(send_to_queue(c, i == 7 ? 99999 : 670, q, &ops[i]), SO_OK);
    int codes[N];
    CHECK(take_all(q, ops, N, codes) == N);
    for (int i = 0; i < N; i++) {
        if (i == 7) {
            CHECK(codes[i] == SO_ERR_NOT_FOUND);
            CHECK(so_operation_http_status(ops[i]) == 404);
            CHECK(strstr(so_operation_error_message(ops[i]), "404") != NULL);
        } else {
            CHECK(codes[i] == SO_OK);
            CHECK(so_operation_http_status(ops[i]) == 204);
        }
        so_operation_free(ops[i]);
    }
    size_t n = 99;
    so_operation *one[1];
    so_result code[1];
    CHECK_RC(so_completion_queue_wait(q, 0, one, code, 1, &n), SO_OK);
    CHECK(n == 0); /* nothing more */
    so_client_free(c);
    so_completion_queue_free(q);
    CHECK(stub_count(prefix) == N);
}

static void test_completion_queue_gets_the_cancelled_sends_of_a_freed_client(void) {
    enum { N = 12 };
    TENANT_CLIENT("queue-free", "hang", 4, 0);
    so_completion_queue *q = so_completion_queue_new();
    CHECK(q != NULL);
    so_operation *ops[N];
    for (int i = 0; i < N; i++) CHECK_RC(send_to_queue(c, 670, q, &ops[i]), SO_OK);
    usleep(200 * 1000);
    so_client_free(c); /* every callback (a push) has run when it returns */
    size_t n = 0;
    so_operation *batch[N];
    so_result got[N];
    CHECK_RC(so_completion_queue_wait(q, 0, batch, got, N, &n), SO_OK);
    CHECK(n == N);
    for (size_t k = 0; k < n; k++) CHECK(got[k] == SO_ERR_CANCELLED);
    for (int i = 0; i < N; i++) so_operation_free(ops[i]);
    so_completion_queue_free(q);
}

static void *close_later(void *q) {
    usleep(100 * 1000);
    so_completion_queue_close(q);
    return NULL;
}

static void test_completion_queue_arguments_timeout_and_close(void) {
    so_completion_queue *q = so_completion_queue_new();
    CHECK(q != NULL);
    so_operation *ops[2];
    so_result codes[2];
    size_t n = 99;
    CHECK_RC(so_completion_queue_wait(NULL, 0, ops, codes, 2, &n), SO_ERR_NULL_ARGUMENT);
    CHECK(n == 0);
    CHECK(strstr(so_last_error_message(), "queue") != NULL);
    CHECK_RC(so_completion_queue_wait(q, 0, ops, codes, 2, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_completion_queue_wait(q, 0, NULL, codes, 2, &n), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_completion_queue_wait(q, 0, ops, NULL, 2, &n), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_completion_queue_wait(q, 0, NULL, NULL, 0, &n), SO_OK);
    CHECK(n == 0);
    so_completion_queue_push(NULL, (so_operation *)ops, SO_OK); /* no-op */
    so_completion_queue_push(q, NULL, SO_OK);                  /* no-op */
    double t0 = now_ms();
    CHECK_RC(so_completion_queue_wait(q, 80, ops, codes, 2, &n), SO_OK);
    CHECK(n == 0);
    CHECK(now_ms() - t0 >= 70); /* it waited */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, close_later, q) == 0);
    t0 = now_ms();
    CHECK_RC(so_completion_queue_wait(q, 30000, ops, codes, 2, &n), SO_OK);
    pthread_join(t, NULL);
    CHECK(n == 0);
    CHECK(now_ms() - t0 < 10000); /* woken by close, not the timeout */
    so_completion_queue_close(NULL);
    so_completion_queue_free(q);
    so_completion_queue_free(NULL);
}

/* Whether `fd` is readable now (poll with no wait). */
static int readable_now(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_completion_queue_fd_is_readable_while_completions_wait(void) {
    CHECK(so_completion_queue_fd(NULL) == -1);
    CHECK(so_last_error_code() == SO_ERR_NULL_ARGUMENT);
    so_completion_queue *q = so_completion_queue_new();
    CHECK(q != NULL);
    int fd = so_completion_queue_fd(q);
    CHECK(fd >= 0);
    CHECK(so_completion_queue_fd(q) == fd); /* the same one */
    CHECK(!readable_now(fd));
    /* Pushed by hand (any non-NULL address stands for an operation): readable while any
       waits, through partial takes, and not once the queue is empty. */
    so_operation *fake[3] = {(so_operation *)&fake[0], (so_operation *)&fake[1], (so_operation *)&fake[2]};
    for (int i = 0; i < 3; i++) so_completion_queue_push(q, fake[i], SO_OK);
    CHECK(readable_now(fd));
    so_operation *ops[2];
    so_result codes[2];
    size_t n = 0;
    CHECK_RC(so_completion_queue_wait(q, 0, ops, codes, 2, &n), SO_OK);
    CHECK(n == 2 && ops[0] == fake[0] && ops[1] == fake[1]);
    CHECK(readable_now(fd));
    CHECK_RC(so_completion_queue_wait(q, 0, ops, codes, 2, &n), SO_OK);
    CHECK(n == 1 && ops[0] == fake[2]);
    CHECK(!readable_now(fd));
    CHECK_RC(so_completion_queue_wait(q, 0, ops, codes, 2, &n), SO_OK);
    CHECK(n == 0);
    CHECK(!readable_now(fd));
    so_completion_queue_push(q, fake[0], SO_ERR_CANCELLED);
    so_completion_queue_push(q, fake[1], SO_ERR_CANCELLED);
    CHECK(readable_now(fd));
    CHECK_RC(so_completion_queue_wait(q, 0, ops, codes, 2, &n), SO_OK);
    CHECK(n == 2 && !readable_now(fd));

    /* Real sends, taken as an event loop does: poll the descriptor, then take without
       waiting. */
    TENANT("queue-fd", "");
    enum { N = 24 };
    so_client *c = client_with(base, 8, 10000);
    CHECK(c != NULL);
    so_operation *sent[N];
    for (int i = 0; i < N; i++) CHECK_RC(send_to_queue(c, i == 3 ? 99999 : 670, q, &sent[i]), SO_OK);
    int got = 0, wakeups = 0, seen[N] = {0};
    double until = now_ms() + 10000;
    while (got < N && now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) != 1) continue;
        wakeups++;
        so_operation *batch[5];
        so_result bc[5];
        CHECK_RC(so_completion_queue_wait(q, 0, batch, bc, 5, &n), SO_OK);
        CHECK(n > 0); /* readable means something waits */
        for (size_t k = 0; k < n; k++) {
            for (int i = 0; i < N; i++) {
                if (sent[i] == batch[k]) {
                    seen[i]++;
                    CHECK(bc[k] == (i == 3 ? SO_ERR_NOT_FOUND : SO_OK));
                }
            }
        }
        got += (int)n;
    }
    CHECK(got == N);
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1);
    CHECK(wakeups >= 1 && wakeups <= N);
    CHECK(!readable_now(fd));
    for (int i = 0; i < N; i++) so_operation_free(sent[i]);
    so_client_free(c);
    so_completion_queue_free(q);

    /* Made while completions already wait: readable at once. */
    q = so_completion_queue_new();
    CHECK(q != NULL);
    so_completion_queue_push(q, fake[0], SO_OK);
    fd = so_completion_queue_fd(q);
    CHECK(fd >= 0 && readable_now(fd));
    so_completion_queue_free(q);
}

int main(int argc, char **argv) {
    if (!stub_from_env()) return 1;
    const char *env_n = getenv("SO_ASYNC_N");
    if (argc > 1) g_stress_n = atol(argv[1]);
    else if (env_n) g_stress_n = atol(env_n);
    if (g_stress_n < 1) g_stress_n = 1;
    /* Start any thread a sanitizer's runtime starts with the first thread, so that the
       thread counts below see the library's threads only. */
    pthread_t warm;
    if (pthread_create(&warm, NULL, warm_up, NULL) == 0) pthread_join(warm, NULL);
    usleep(20 * 1000);
    RUN(test_bad_arguments_fail_at_once_without_a_callback);
    RUN(test_max_in_flight_range);
    RUN(test_success_calls_back_once_on_a_library_thread);
    RUN(test_free_from_the_callback);
    RUN(test_every_error_code_calls_back_once);
    RUN(test_cancel_before_the_send_never_sends);
    RUN(test_cancel_during_the_send_of_a_hanging_request);
    RUN(test_cancel_during_a_retry_wait);
    RUN(test_free_before_completion_cancels_and_still_calls_back);
    RUN(test_client_free_with_sends_outstanding);
    RUN(test_callback_may_start_new_sends);
    RUN(test_at_most_max_in_flight_on_the_network);
    RUN(test_fork_child_gets_its_own_workers);
    RUN(test_completion_queue_collects_every_completion_once);
    RUN(test_completion_queue_gets_the_cancelled_sends_of_a_freed_client);
    RUN(test_completion_queue_arguments_timeout_and_close);
    RUN(test_completion_queue_fd_is_readable_while_completions_wait);
    RUN(test_many_sends_with_random_cancels);
    return summary();
}
