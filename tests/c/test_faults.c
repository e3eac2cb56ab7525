/*
 * The fault matrix through the C ABI, against the stub server ($SO_STUB_URL): the cases
 * tests/c/test_superoffice.c does not cover. Each case has one expected so_result, HTTP
 * status and message content, a time bounded by the configured timeouts, and the
 * stub's request count proving what was (not) sent again. Loopback only: the connect
 * timeout is met on a listening socket whose backlog is full.
 * Built with -fsanitize=address,undefined. Prints "N passed, N failed".
 */
#include "harness.h"

static int g_unique;

/* A client of a fresh tenant with these directives; prefix gets the tenant's prefix. */
static so_client *tenant_client(char *prefix, size_t plen, const char *name, const char *directives,
                                 uint32_t connect_ms, uint32_t total_ms, uint32_t retries) {
    char base[1024];
    snprintf(prefix, plen, "/cf-%d-%ld-%s", ++g_unique, process_id(), name);
    snprintf(base, sizeof base, "%s%s%s%s/Cust12345", g_stub, prefix, *directives ? "/" : "", directives);
    so_options *o = ticket_options(base, connect_ms, total_ms);
    if (!o) return NULL;
    so_options_set_proxy(o, "");
    so_options_set_max_retries(o, retries);
    return client_of(o);
}

static so_result send1(so_client *c) {
    return so_send_cc_password_email(c, 670, "from@example.com", "to@example.com", "Subject");
}

/* ---------- broken connections, broken answers: never resent ---------- */

static void test_broken_connections_are_io_and_never_resent(void) {
    const char *faults[] = {"drop=before", "drop=during", "drop=after", "garbage", "header_flood=5000"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        char prefix[256];
        so_client *c = tenant_client(prefix, sizeof prefix, "broken", faults[i], 1000, 5000, 10);
        CHECK(c != NULL);
        double t0 = now_ms();
        CHECK_RC(send1(c), SO_ERR_IO);
        CHECK(now_ms() - t0 < 2000.0);
        CHECK(so_last_error_http_status() == 0);
        CHECK(strstr(so_last_error_message(), "SendCustomerCentrePasswordEmail") != NULL);
        CHECK(strstr(so_last_error_message(), "retr") == NULL);
        so_client_free(c);
        CHECK(stub_count(prefix) == 1);
    }
}

static void test_a_truncated_2xx_counts_as_sent(void) {
    char prefix[256];
    so_client *c = tenant_client(prefix, sizeof prefix, "truncate", "truncate", 1000, 5000, 10);
    CHECK_RC(send1(c), SO_OK);
    CHECK(strcmp(so_last_error_message(), "") == 0);
    so_client_free(c);
    CHECK(stub_count(prefix) == 1);
}

static void test_timeouts_are_bounded_and_never_resent(void) {
    const char *faults[] = {"hang", "delay_ms=3000"};
    for (size_t i = 0; i < 2; i++) {
        char prefix[256];
        so_client *c = tenant_client(prefix, sizeof prefix, "timeout", faults[i], 1000, 300, 10);
        double t0 = now_ms();
        CHECK_RC(send1(c), SO_ERR_TIMEOUT);
        double took = now_ms() - t0;
        CHECK(took >= 250.0 && took < 2000.0);
        CHECK(strstr(so_last_error_message(), "total timeout of 300 ms") != NULL);
        so_client_free(c);
        CHECK(stub_count(prefix) == 1);
    }
}

static void test_connect_timeout_on_a_full_backlog(void) {
    int port = 0;
    sock_t l = listen_loopback(0, &port);
    CHECK(l != SOCK_INVALID);
    /* Fill the accept queue until a connect does not complete. */
    sock_t fillers[16];
    int nf = 0, full = 0;
    for (; nf < 16; nf++) {
        int done = 0;
        fillers[nf] = connect_nonblocking(port, &done);
        if (!done && !writable_within(fillers[nf], 200)) {
            full = 1;
            nf++;
            break;
        }
    }
    if (full) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/Cust1", port);
        so_options *o = so_options_new(url);
        so_options_set_ticket(o, "7T:dGVzdA==");
        so_options_set_proxy(o, "");
        so_options_set_timeout_ms(o, 300, 5000);
        so_options_set_max_retries(o, 0);
        so_client *c = so_client_new(o);
        so_options_free(o);
        double t0 = now_ms();
        so_result r = send1(c);
        double took = now_ms() - t0;
        so_client_free(c);
        for (int i = 0; i < nf; i++) sock_close(fillers[i]);
        sock_close(l);
        CHECK_RC(r, SO_ERR_TIMEOUT);
        CHECK(took >= 250.0 && took < 2000.0);
        CHECK(strstr(so_last_error_message(), "connect timeout of 300 ms") != NULL);
    } else {
        for (int i = 0; i < nf; i++) sock_close(fillers[i]);
        sock_close(l);
        skip("this system completes connections beyond a full backlog");
    }
}

/* ---------- statuses ---------- */

static void test_every_status_family_with_every_body(void) {
    const int statuses[] = {301, 302, 303, 307, 308, 400, 401, 403, 404, 405, 409, 410, 418, 422,
                            429, 451, 500, 501, 502, 503, 504, 505, 599};
    const char *bodies[] = {"", "/body=none", "/body=html", "/body=message", "/body=big"};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        int st = statuses[i];
        so_result want = st == 400   ? SO_ERR_BAD_REQUEST
                         : st == 401 ? SO_ERR_UNAUTHORIZED
                         : st == 403 ? SO_ERR_FORBIDDEN
                         : st == 404 ? SO_ERR_NOT_FOUND
                         : st == 429 ? SO_ERR_RATE_LIMITED
                         : st >= 500 ? SO_ERR_SERVER
                                     : SO_ERR_HTTP_STATUS;
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            char directives[128], prefix[256];
            snprintf(directives, sizeof directives, "status=%d/retry_after=0%s", st, bodies[b]);
            so_client *c = tenant_client(prefix, sizeof prefix, "status", directives, 1000, 10000, 2);
            CHECK_RC(send1(c), want);
            CHECK(so_last_error_http_status() == st);
            const char *m = so_last_error_message();
            CHECK(strlen(m) < 4096);
            char code[16];
            snprintf(code, sizeof code, ": %d", st);
            CHECK(strstr(m, code) != NULL);
            int json = b == 0 || b == 3 || b == 4;
            const char *etype = st == 404 ? "SoNotFoundException" : "SoStubException";
            CHECK(strcmp(so_last_error_type(), json ? etype : "") == 0);
            if (st >= 300 && st < 400) CHECK(strstr(m, "not followed") != NULL);
            so_client_free(c);
            CHECK(stub_count(prefix) == (st == 429 || st == 503 ? 3 : 1));
        }
    }
}

/* ---------- large answers ---------- */

static void test_a_2xx_of_300_mib_is_not_buffered(void) {
    char prefix[256];
    so_client *warm = tenant_client(prefix, sizeof prefix, "warm", "", 1000, 5000, 0);
    CHECK_RC(send1(warm), SO_OK);
    so_client_free(warm);
    long before = rss_kib();
    so_client *c = tenant_client(prefix, sizeof prefix, "okbody", "ok_body=314572800", 1000, 20000, 0);
    double t0 = now_ms();
    CHECK_RC(send1(c), SO_OK);
    double took = now_ms() - t0;
    long grew = rss_kib() - before;
    so_client_free(c);
    CHECK(grew < 16 * 1024);
    CHECK(took < 10000.0);
    CHECK(stub_count(prefix) == 1);
}

static void test_header_floods(void) {
    char prefix[256];
    so_client *c = tenant_client(prefix, sizeof prefix, "flood", "header_flood=100", 1000, 5000, 0);
    CHECK_RC(send1(c), SO_OK);
    so_client_free(c);
    c = tenant_client(prefix, sizeof prefix, "flood", "header_flood=100000", 1000, 10000, 5);
    CHECK_RC(send1(c), SO_ERR_IO);
    CHECK(strstr(so_last_error_message(), "header") != NULL);
    so_client_free(c);
    CHECK(stub_count(prefix) == 1);
}

/* ---------- retries ---------- */

static void test_retry_after_http_date(void) {
    time_t when = time(NULL) + 2;
    struct tm tm;
    utc_time(when, &tm);
    char date[64], directives[128], prefix[256];
    strftime(date, sizeof date, "%a,_%d_%b_%Y_%H:%M:%S_GMT", &tm);
    snprintf(directives, sizeof directives, "status=503/fail_first=1/retry_after=%s", date);
    so_client *c = tenant_client(prefix, sizeof prefix, "radate", directives, 1000, 10000, 2);
    double t0 = now_ms();
    CHECK_RC(send1(c), SO_OK);
    double took = now_ms() - t0;
    so_client_free(c);
    CHECK(took >= 900.0 && took < 3000.0);
    CHECK(stub_count(prefix) == 2);
}

static void test_retries_never_pass_the_total_timeout(void) {
    const char *cases[] = {"status=503", "status=429", "status=503/retry_after=1"};
    for (size_t i = 0; i < 3; i++) {
        char prefix[256];
        so_client *c = tenant_client(prefix, sizeof prefix, "bounded", cases[i], 1000, 700, 10);
        double t0 = now_ms();
        so_result r = send1(c);
        double took = now_ms() - t0;
        CHECK(r == SO_ERR_SERVER || r == SO_ERR_RATE_LIMITED || r == SO_ERR_TIMEOUT);
        CHECK(took < 1000.0);
        CHECK(strstr(so_last_error_message(), "total timeout") != NULL);
        so_client_free(c);
        CHECK(stub_count(prefix) >= 1);
    }
}

static void test_other_5xx_are_never_resent(void) {
    const char *cases[] = {"status=500", "status=502", "status=504", "status=500/retry_after=0"};
    for (size_t i = 0; i < 4; i++) {
        char prefix[256];
        so_client *c = tenant_client(prefix, sizeof prefix, "once", cases[i], 1000, 5000, 10);
        CHECK_RC(send1(c), SO_ERR_SERVER);
        so_client_free(c);
        CHECK(stub_count(prefix) == 1);
    }
}

int main(void) {
    if (!stub_from_env()) return 1;

    RUN(test_broken_connections_are_io_and_never_resent);
    RUN(test_a_truncated_2xx_counts_as_sent);
    RUN(test_timeouts_are_bounded_and_never_resent);
    RUN(test_connect_timeout_on_a_full_backlog);
    RUN(test_every_status_family_with_every_body);
    RUN(test_a_2xx_of_300_mib_is_not_buffered);
    RUN(test_header_floods);
    RUN(test_retry_after_http_date);
    RUN(test_retries_never_pass_the_total_timeout);
    RUN(test_other_5xx_are_never_resent);

    return summary();
}
