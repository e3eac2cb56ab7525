/*
 * C tests of libsuperoffice against the stub server ($SO_STUB_URL): every exported
 * function, every auth scheme's wire request, every error code the stub can produce,
 * NULL and invalid input, a client shared by threads. Built with -Wall -Wextra -Werror
 * -fsanitize=address,undefined. Prints "N passed, N failed".
 */
#include "harness.h"

#include <stdarg.h>

static int g_unique;

/* Counts occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* A fresh tenant prefix, e.g. "/c-7-auth", and the base URL with directives after it. */
static void tenant(char *prefix, size_t plen, char *base, size_t blen, const char *name, const char *directives) {
    snprintf(prefix, plen, "/c-%d-%ld-%s", ++g_unique, process_id(), name);
    snprintf(base, blen, "%s%s%s%s/Cust12345", g_stub, prefix, directives && *directives ? "/" : "",
             directives ? directives : "");
}

static so_options *options_for(const char *base) { return ticket_options(base, 2000, 5000); }
static so_client *client_for(const char *base) { return client_of(options_for(base)); }

/* Sends person 670 with these e-mail fields through a client of `o` (freed here): the
   stub's log of `prefix` afterwards (caller frees), NULL when the send failed (said on stderr). */
static char *sent_log(so_options *o, const char *prefix, const char *from, const char *to, const char *subject) {
    so_client *c = client_of(o);
    so_result rc = c ? so_send_cc_password_email(c, 670, from, to, subject) : so_last_error_code();
    so_client_free(c);
    if (rc == SO_OK) return stub_log(prefix);
    fprintf(stderr, "    send to %s: %s: %s\n", prefix, so_result_str(rc), so_last_error_message());
    return NULL;
}

/* `ok`, a check of the stub log `log`: prints the log when it failed, frees it. */
static int log_ok(char *log, int ok) {
    if (!ok) fprintf(stderr, "    log: %s\n", log ? log : "(none)");
    free(log);
    return ok;
}

/* One send of person 670 (no e-mail fields) by a client of `o` (freed here) to the tenant
   `prefix`: its code must be `want`, its message hold `in_message` (unless NULL), and the
   stub must have counted `sent` requests (unless negative). */
static void check_send(so_options *o, const char *prefix, so_result want, const char *in_message, int sent) {
    so_client *c = client_of(o);
    so_result rc = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
    char message[1024];
    snprintf(message, sizeof message, "%s", so_last_error_message());
    so_client_free(c);
    int count = stub_count(prefix);
    int message_ok = !in_message || strstr(message, in_message) != NULL;
    if (rc != want || !message_ok || (sent >= 0 && count != sent))
        fprintf(stderr, "    %s: %s (want %s), message [%s], %d requests (want %d)\n", prefix, so_result_str(rc),
                so_result_str(want), message, count, sent);
    CHECK_RC(rc, want);
    CHECK(message_ok);
    CHECK(sent < 0 || count == sent);
}

#define RETENANT(name, directives) tenant(prefix, sizeof prefix, base, sizeof base, name, directives)
#define TENANT(name, directives)                      \
    char prefix[256], base[512];                      \
    tenant(prefix, sizeof prefix, base, sizeof base, name, directives)

/* ---------- version, codes, last error ---------- */

static void test_version_and_result_strings(void) {
    CHECK(strcmp(so_version(), SO_VERSION) == 0);
    int codes[] = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25, 26, 27, 99};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = so_result_str(codes[i]);
        CHECK(s && *s && strcmp(s, "unknown result code") != 0);
    }
    CHECK(strcmp(so_result_str(42), "unknown result code") == 0);
    CHECK(strcmp(so_result_str(-1), "unknown result code") == 0);
    CHECK(SO_OK == 0 && SO_ERR_NULL_ARGUMENT == 1 && SO_ERR_INVALID_ARGUMENT == 2 && SO_ERR_CONNECT == 10 &&
          SO_ERR_TLS == 11 && SO_ERR_TIMEOUT == 12 && SO_ERR_IO == 13 && SO_ERR_HTTP_STATUS == 20 &&
          SO_ERR_BAD_REQUEST == 21 && SO_ERR_UNAUTHORIZED == 22 && SO_ERR_FORBIDDEN == 23 &&
          SO_ERR_NOT_FOUND == 24 && SO_ERR_RATE_LIMITED == 25 && SO_ERR_SERVER == 26 && SO_ERR_PANIC == 99);
}

static void test_last_error_is_cleared_by_each_call(void) {
    CHECK(so_options_new(NULL) == NULL);
    CHECK(strstr(so_last_error_message(), "base_url") != NULL);
    CHECK(so_last_error_code() == SO_ERR_NULL_ARGUMENT);
    /* readers do not clear it */
    (void)so_last_error_http_status();
    (void)so_last_error_type();
    (void)so_result_str(1);
    (void)so_version();
    so_options_free(NULL);
    so_client_free(NULL);
    CHECK(strstr(so_last_error_message(), "base_url") != NULL);
    CHECK(so_last_error_code() == SO_ERR_NULL_ARGUMENT);
    CHECK(so_options_new("ftp://x") == NULL);
    CHECK(so_last_error_code() == SO_ERR_INVALID_ARGUMENT);
    /* a successful call clears it */
    so_options *o = so_options_new("http://127.0.0.1:1");
    CHECK(o != NULL);
    CHECK(strcmp(so_last_error_message(), "") == 0);
    CHECK(so_last_error_http_status() == 0);
    CHECK(strcmp(so_last_error_type(), "") == 0);
    CHECK(so_last_error_code() == SO_OK);
    so_options_free(o);
}

static void *thread_sets_error(void *arg) {
    (void)arg;
    so_options_new("ftp://elsewhere");
    return NULL;
}
static void test_last_error_is_per_thread(void) {
    CHECK(so_options_new(NULL) == NULL);
    test_thread t;
    CHECK(thread_start(&t, thread_sets_error, NULL) == 0);
    thread_join(t);
    CHECK(strstr(so_last_error_message(), "base_url must not be NULL") != NULL);
}

/* ---------- options: NULL, bad input ---------- */

static void test_options_new_rejects_bad_urls(void) {
    CHECK(so_options_new(NULL) == NULL);
    CHECK(strstr(so_last_error_message(), "NULL") != NULL);
    const char *bad[] = {"", "not a url", "ftp://host/x", "https://", "https://host/x?y=1", "https://host/#f",
                         "https://user:secretpw@host/x", "host/Cust1", "https://host/a\r\nX: y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(so_options_new(bad[i]) == NULL);
        CHECK(*so_last_error_message() != 0);
        CHECK(strstr(so_last_error_message(), "secretpw") == NULL);
    }
    const char invalid_utf8[] = {'h', 't', 't', 'p', ':', '/', '/', (char)0xff, 'x', 0};
    CHECK(so_options_new(invalid_utf8) == NULL);
    CHECK(strstr(so_last_error_message(), "UTF-8") != NULL);
    const char *good[] = {"https://sod.superoffice.com/Cust12345", "https://sod.superoffice.com/Cust12345/",
                          "https://sod.superoffice.com/Cust12345/api", "http://127.0.0.1:8080/api/",
                          "https://crm.example.com/SuperOffice"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        so_options *o = so_options_new(good[i]);
        CHECK(o != NULL);
        so_options_free(o);
    }
}

static void test_setters_reject_null_options(void) {
    CHECK_RC(so_options_set_basic_auth(NULL, "u", "p"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_ticket(NULL, "t"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_bearer_token(NULL, "t"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_app_token(NULL, "t"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_xsrf_token(NULL, "t"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_language(NULL, "sv"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_culture(NULL, "sv"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_timezone(NULL, "UTC"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_select(NULL, "a"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_timeout_ms(NULL, 1, 1), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_max_retries(NULL, 1), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_ca_file(NULL, "x"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_proxy(NULL, ""), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_credentials_callback(NULL, NULL, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_log_callback(NULL, NULL, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK(so_client_new(NULL) == NULL);
    CHECK(strstr(so_last_error_message(), "options") != NULL);
    CHECK_RC(so_send_cc_password_email(NULL, 1, NULL, NULL, NULL), SO_ERR_NULL_ARGUMENT);
}

static void test_setters_validate_values(void) {
    so_options *o = so_options_new("http://127.0.0.1:1/Cust1");
    CHECK(o != NULL);
    const char bad_utf8[] = {'a', (char)0xc3, 0};
    /* required strings */
    CHECK_RC(so_options_set_ticket(o, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_bearer_token(o, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_basic_auth(o, NULL, "p"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_basic_auth(o, "u", NULL), SO_ERR_NULL_ARGUMENT);
    /* CR, LF, control characters, empty, bad UTF-8 */
    CHECK_RC(so_options_set_ticket(o, "7T:abc\r\nX-Injected: 1"), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "X-Injected") == NULL);
    CHECK_RC(so_options_set_ticket(o, ""), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_ticket(o, bad_utf8), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_bearer_token(o, "a\nb"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_basic_auth(o, "a:b", "p"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_basic_auth(o, "u", "p\r\n"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_app_token(o, "a\tb"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_xsrf_token(o, "a\rb"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_language(o, "sv\n"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_culture(o, bad_utf8), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_timezone(o, "\x01UTC"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_select(o, "a\nb"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_max_retries(o, 11), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_ca_file(o, "/nonexistent/ca.pem"), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "/nonexistent/ca.pem") != NULL);
    CHECK_RC(so_options_set_proxy(o, "not a proxy url"), SO_ERR_INVALID_ARGUMENT);
    /* optional values clear with NULL */
    CHECK_RC(so_options_set_app_token(o, NULL), SO_OK);
    CHECK_RC(so_options_set_xsrf_token(o, NULL), SO_OK);
    CHECK_RC(so_options_set_language(o, NULL), SO_OK);
    CHECK_RC(so_options_set_culture(o, NULL), SO_OK);
    CHECK_RC(so_options_set_timezone(o, NULL), SO_OK);
    CHECK_RC(so_options_set_select(o, NULL), SO_OK);
    CHECK_RC(so_options_set_ca_file(o, NULL), SO_OK);
    CHECK_RC(so_options_set_proxy(o, NULL), SO_OK);
    CHECK_RC(so_options_set_proxy(o, ""), SO_OK);
    CHECK_RC(so_options_set_proxy(o, "http://user:pw@127.0.0.1:3128"), SO_OK);
    CHECK_RC(so_options_set_timeout_ms(o, 0, 0), SO_OK);
    CHECK_RC(so_options_set_timeout_ms(o, UINT32_MAX, UINT32_MAX), SO_OK);
    CHECK_RC(so_options_set_max_retries(o, 0), SO_OK);
    CHECK_RC(so_options_set_max_retries(o, 10), SO_OK);
    CHECK_RC(so_options_set_credentials_callback(o, NULL, NULL), SO_OK);
    CHECK_RC(so_options_set_log_callback(o, NULL, NULL), SO_OK);
    so_client *c = so_client_new(o);
    CHECK(c != NULL);
    so_options_free(o);
    /* the client's own copy outlives the options */
    CHECK_RC(so_send_cc_password_email(c, 0, NULL, NULL, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "person_id") != NULL);
    CHECK_RC(so_send_cc_password_email(c, -5, NULL, NULL, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email(c, 1, bad_utf8, NULL, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email(c, 1, NULL, bad_utf8, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_email(c, 1, NULL, NULL, bad_utf8), SO_ERR_INVALID_ARGUMENT);
    so_client_free(c);
}

/* ---------- the wire request of each auth scheme ---------- */

static void test_wire_ticket_app_token_language(void) {
    TENANT("ticket", "");
    so_options *o = so_options_new(base);
    CHECK_RC(so_options_set_ticket(o, "7T:dGVzdA=="), SO_OK);
    CHECK_RC(so_options_set_app_token(o, "app-secret-123"), SO_OK);
    CHECK_RC(so_options_set_language(o, "sv"), SO_OK);
    CHECK_RC(so_options_set_culture(o, "sv-SE"), SO_OK);
    CHECK_RC(so_options_set_timezone(o, "UTC"), SO_OK);
    char *log = sent_log(o, prefix, "autem", "et", "eos");
    CHECK(log != NULL);
    CHECK(log_ok(log, count_of(log, "\"method\":\"POST\"") == 1 &&
                      find_nocase(log, "/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail\"") != NULL &&
                      find_nocase(log, "[\"authorization\",\"SOTicket 7T:dGVzdA==\"]") != NULL &&
                      find_nocase(log, "[\"so-apptoken\",\"app-secret-123\"]") != NULL &&
                      find_nocase(log, "[\"accept-language\",\"sv\"]") != NULL &&
                      find_nocase(log, "[\"so-language\",\"sv\"]") != NULL &&
                      find_nocase(log, "[\"so-culture\",\"sv-SE\"]") != NULL &&
                      find_nocase(log, "[\"so-timezone\",\"UTC\"]") != NULL &&
                      find_nocase(log, "[\"content-type\",\"application/json; charset=utf-8\"]") != NULL &&
                      find_nocase(log, "[\"accept\",\"application/json\"]") != NULL &&
                      strstr(log, "\\\"PersonId\\\":670,\\\"From\\\":\\\"autem\\\",\\\"To\\\":\\\"et\\\",\\\"Subject\\\":\\\"eos\\\"") != NULL &&
                      find_nocase(log, "x-xsrf-token") == NULL));
}

static void test_wire_bearer(void) {
    TENANT("bearer", "auth=bearer");
    so_options *o = so_options_new(base);
    CHECK_RC(so_options_set_bearer_token(o, "8A:Cust12345.token"), SO_OK);
    char *log = sent_log(o, prefix, NULL, NULL, NULL);
    CHECK(log_ok(log, log && find_nocase(log, "[\"authorization\",\"Bearer 8A:Cust12345.token\"]") &&
                 strstr(log, "\\\"PersonId\\\":670,\\\"From\\\":null,\\\"To\\\":null,\\\"Subject\\\":null")));
}

static void test_wire_basic_matches_reference_sample(void) {
    TENANT("basic", "auth=basic");
    so_options *o = so_options_new(base);
    CHECK_RC(so_options_set_basic_auth(o, "tje0", "Tje0"), SO_OK);
    char *log = sent_log(o, prefix, "autem", "et", "eos");
    CHECK(log_ok(log, log && find_nocase(log, "[\"authorization\",\"Basic dGplMDpUamUw\"]")));
}

static void test_wire_xsrf_alone_and_beside_auth(void) {
    TENANT("xsrf", "auth=xsrf");
    so_options *o = so_options_new(base);
    CHECK_RC(so_options_set_xsrf_token(o, "xsrf-123"), SO_OK);
    char *log = sent_log(o, prefix, NULL, NULL, NULL);
    CHECK(log_ok(log, log && find_nocase(log, "[\"x-xsrf-token\",\"xsrf-123\"]") && !find_nocase(log, "authorization")));
    /* beside a ticket, both headers go */
    RETENANT("xsrf2", "");
    o = so_options_new(base);
    so_options_set_xsrf_token(o, "xsrf-123");
    so_options_set_ticket(o, "7T:dGVzdA==");
    log = sent_log(o, prefix, NULL, NULL, NULL);
    CHECK(log_ok(log, log && find_nocase(log, "[\"x-xsrf-token\",\"xsrf-123\"]") && find_nocase(log, "SOTicket 7T:dGVzdA==")));
}

static void test_later_auth_scheme_replaces_earlier(void) {
    TENANT("replace", "auth=ticket");
    so_options *o = so_options_new(base);
    so_options_set_basic_auth(o, "tje0", "Tje0");
    so_options_set_bearer_token(o, "8A:Cust12345.token");
    so_options_set_ticket(o, "7T:dGVzdA==");
    char *log = sent_log(o, prefix, NULL, NULL, NULL);
    CHECK(log_ok(log, log && count_of(log, "uthorization") == 1 && strstr(log, "SOTicket") && !strstr(log, "Basic") &&
                 !strstr(log, "Bearer")));
}

static void test_base_url_forms_and_select(void) {
    const char *suffixes[] = {"", "/", "/api", "/api/"};
    for (size_t i = 0; i < 4; i++) {
        TENANT("forms", "");
        char url[600];
        snprintf(url, sizeof url, "%s%s", base, suffixes[i]);
        so_options *o = so_options_new(url);
        CHECK(o != NULL);
        so_options_set_ticket(o, "7T:dGVzdA==");
        CHECK_RC(so_options_set_select(o, "name,department,category/id"), SO_OK);
        char *log = sent_log(o, prefix, NULL, NULL, NULL);
        int ok = log && strstr(log, "/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail\"") &&
                 strstr(log, "\"query\":\"$select=name,department,category/id\"");
        if (!ok) fprintf(stderr, "    %s -> %s\n", url, log ? log : "(none)");
        free(log);
        CHECK(ok);
    }
    TENANT("select-enc", "");
    so_options *o = so_options_new(base);
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_select(o, "a b&c");
    char *log = sent_log(o, prefix, NULL, NULL, NULL);
    CHECK(log_ok(log, log && strstr(log, "\"query\":\"$select=a%20b%26c\"")));
}

static void test_204_with_a_null_body_is_success(void) {
    /* the reference page's sample answer: 204 with the body "null" */
    TENANT("nullbody", "null_body");
    so_client *c = client_for(base);
    for (int i = 0; i < 3; i++) CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    so_client_free(c);
    CHECK(stub_count(prefix) == 3);
}

static void test_unicode_and_escaping_in_body(void) {
    TENANT("unicode", "");
    so_client *c = client_for(base);
    CHECK_RC(so_send_cc_password_email(c, 670, "støtte@example.no", "kari\"quoted\"@example.com", "Ditt passord\n"), SO_OK);
    so_client_free(c);
    char *log = stub_log(prefix);
    CHECK(log_ok(log, log && strstr(log, "støtte@example.no") && strstr(log, "kari\\\\\\\"quoted") && strstr(log, "passord\\\\n")));
}

/* ---------- errors ---------- */

static void expect_status(const char *directives, so_result want, int status, const char *type, const char *text) {
    TENANT("status", directives);
    so_client *c = client_for(base);
    CHECK(c != NULL);
    so_result r = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
    if (r != want || so_last_error_http_status() != status || (type && strcmp(so_last_error_type(), type) != 0) ||
        (text && !strstr(so_last_error_message(), text)) ||
        !strstr(so_last_error_message(), "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail")) {
        fprintf(stderr, "    %s: got %d status %d type [%s] message [%s]\n", directives, (int)r,
                so_last_error_http_status(), so_last_error_type(), so_last_error_message());
        g_current_failed = 1;
    }
    so_client_free(c);
}

static void test_every_status_maps_to_its_code(void) {
    expect_status("status=400", SO_ERR_BAD_REQUEST, 400, "SoStubException", "400 Bad Request");
    expect_status("status=401", SO_ERR_UNAUTHORIZED, 401, NULL, "401 Unauthorized");
    expect_status("status=403", SO_ERR_FORBIDDEN, 403, NULL, "403 Forbidden");
    expect_status("status=404", SO_ERR_NOT_FOUND, 404, "SoNotFoundException", "404 Not Found: SoNotFoundException");
    expect_status("status=418", SO_ERR_HTTP_STATUS, 418, NULL, "418");
    expect_status("status=429/retry_after=100", SO_ERR_RATE_LIMITED, 429, NULL, "429 Too Many Requests");
    expect_status("status=500", SO_ERR_SERVER, 500, "SoStubException", "500 Internal Server Error");
    expect_status("status=502", SO_ERR_SERVER, 502, NULL, "502");
    expect_status("status=503/retry_after=100", SO_ERR_SERVER, 503, NULL, "503 Service Unavailable");
    expect_status("status=302/location=https%3A%2F%2Fother.example%2Flogin", SO_ERR_HTTP_STATUS, 302, NULL,
                  "https://other.example/login");
    expect_status("status=307", SO_ERR_HTTP_STATUS, 307, NULL, "redirect");
    expect_status("status=400/body=message", SO_ERR_BAD_REQUEST, 400, "SoStubException", "stub status 400");
    expect_status("status=500/body=none", SO_ERR_SERVER, 500, "", "500 Internal Server Error");
    expect_status("status=502/body=html", SO_ERR_SERVER, 502, "", "<html");
    expect_status("status=500/body=big", SO_ERR_SERVER, 500, "SoStubException", "500");
}

static void test_not_found_message_matches_the_documented_form(void) {
    TENANT("notfound", "");
    so_client *c = client_for(base);
    CHECK_RC(so_send_cc_password_email(c, 99999, NULL, NULL, NULL), SO_ERR_NOT_FOUND);
    char want[1024];
    snprintf(want, sizeof want,
             "POST %s/api/v1/Agents/Person/SendCustomerCentrePasswordEmail: 404 Not Found: SoNotFoundException: "
             "Person id 99999 not found",
             base);
    if (strcmp(so_last_error_message(), want) != 0) fprintf(stderr, "    want [%s]\n", want);
    CHECK(strcmp(so_last_error_message(), want) == 0);
    CHECK(so_last_error_http_status() == 404);
    CHECK(strcmp(so_last_error_type(), "SoNotFoundException") == 0);
    so_client_free(c);
}

static void test_big_error_body_gives_a_bounded_message(void) {
    TENANT("bigbody", "status=500/body=big");
    so_client *c = client_for(base);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_SERVER);
    CHECK(strlen(so_last_error_message()) < 4096);
    so_client_free(c);
}

static void test_wrong_credentials_never_leak(void) {
    TENANT("wrongcreds", "");
    so_options *o = so_options_new(base);
    so_options_set_basic_auth(o, "someone", "Sup3r-Secret-Pw");
    so_options_set_app_token(o, "app-token-secret-777");
    so_client *c = so_client_new(o);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_UNAUTHORIZED);
    CHECK(strcmp(so_last_error_type(), "UnauthorizedAccessException") == 0);
    CHECK(!strstr(so_last_error_message(), "Sup3r") && !strstr(so_last_error_message(), "app-token-secret") &&
          !strstr(so_last_error_message(), "someone"));
    so_client_free(c);
    so_options_set_ticket(o, "7T:wrong-ticket-secret");
    c = so_client_new(o);
    so_options_free(o);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_UNAUTHORIZED);
    CHECK(!strstr(so_last_error_message(), "wrong-ticket-secret"));
    so_client_free(c);
}

static void test_transport_failures(void) {
    /* refused: a port nobody listens on */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/Cust1", unused_port());
    so_client *c = client_for(url);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_CONNECT);
    CHECK(strstr(so_last_error_message(), "refused") != NULL);
    CHECK(so_last_error_http_status() == 0);
    so_client_free(c);

    c = client_for("http://no-such-host.invalid/Cust1");
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_CONNECT);
    so_client_free(c);

    TENANT("garbage", "garbage");
    check_send(options_for(base), prefix, SO_ERR_IO, NULL, -1);
    RETENANT("dropafter", "drop=after");
    check_send(options_for(base), prefix, SO_ERR_IO, NULL, 1); /* may have been processed: never resent */
    RETENANT("dropduring", "drop=during");
    check_send(options_for(base), prefix, SO_ERR_IO, NULL, -1);
    RETENANT("truncate", "truncate");
    c = client_for(base);
    so_result r = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
    /* a 200 whose body is cut short: the status arrived, so the send counts as done */
    CHECK(r == SO_OK || r == SO_ERR_IO);
    so_client_free(c);
}

static void test_timeouts(void) {
    TENANT("slow", "delay_ms=3000");
    so_client *c = ticket_client(base, 1000, 300);
    double t0 = now_ms();
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_TIMEOUT);
    double ms = now_ms() - t0;
    CHECK(ms < 2900.0); /* bounded by the total timeout, not the server's delay */
    CHECK(strstr(so_last_error_message(), "300 ms") != NULL);
    so_client_free(c);
    CHECK(stub_count(prefix) == 1); /* a timeout waiting for the answer is never resent */

    RETENANT("hang", "hang");
    check_send(ticket_options(base, 1000, 300), prefix, SO_ERR_TIMEOUT, NULL, -1);
}


/* ---------- delivery: whether the e-mail may have gone out ---------- */

/* One send of person `person_id` by a client of `o` (freed here): its code and delivery
   must be `want` and `delivery`, and its message end with `words` (unless NULL). */
static void check_delivery(so_options *o, int32_t person_id, so_result want, so_delivery delivery, const char *words) {
    so_client *c = client_of(o);
    CHECK(c != NULL);
    so_result rc = so_send_cc_password_email(c, person_id, NULL, NULL, NULL);
    so_delivery got = so_last_delivery();
    char message[1024];
    snprintf(message, sizeof message, "%s", so_last_error_message());
    /* the readers do not clear it */
    CHECK(so_last_delivery() == got);
    so_client_free(c);
    if (rc != want || got != delivery) fprintf(stderr, "    %s, delivery %d (want %d): [%s]\n", so_result_str(rc), (int)got, (int)delivery, message);
    CHECK_RC(rc, want);
    CHECK(got == delivery);
    if (words) {
        size_t n = strlen(message), w = strlen(words);
        CHECK(n >= w && strcmp(message + n - w, words) == 0);
    }
}

static void test_last_delivery_of_each_failure(void) {
    static const char *not_sent = "it was not sent", *unknown = "it may have been processed";
    CHECK(so_last_delivery() == SO_DELIVERY_NONE || so_last_delivery() != SO_DELIVERY_NONE); /* any start */
    TENANT("d204", "");
    check_delivery(options_for(base), 670, SO_OK, SO_DELIVERY_ANSWERED, NULL);
    RETENANT("d404", "status=404");
    check_delivery(options_for(base), 670, SO_ERR_NOT_FOUND, SO_DELIVERY_ANSWERED, NULL);
    RETENANT("d503", "status=503/retry_after=0");
    so_options *o = options_for(base);
    so_options_set_max_retries(o, 0);
    check_delivery(o, 670, SO_ERR_SERVER, SO_DELIVERY_ANSWERED, NULL);
    CHECK(stub_count(prefix) == 1);
    RETENANT("dreset", "drop=reset");
    check_delivery(options_for(base), 670, SO_ERR_IO, SO_DELIVERY_UNKNOWN, unknown);
    CHECK(stub_count(prefix) == 1); /* recorded, so read: never resent */
    RETENANT("dclose", "drop=after");
    check_delivery(options_for(base), 670, SO_ERR_IO, SO_DELIVERY_UNKNOWN, unknown);
    RETENANT("dhang", "hang");
    check_delivery(ticket_options(base, 1000, 300), 670, SO_ERR_TIMEOUT, SO_DELIVERY_UNKNOWN, unknown);
    RETENANT("dgarbage", "garbage");
    check_delivery(options_for(base), 670, SO_ERR_IO, SO_DELIVERY_UNKNOWN, unknown);
    RETENANT("dperson0", "");
    check_delivery(options_for(base), 0, SO_ERR_INVALID_ARGUMENT, SO_DELIVERY_NOT_SENT, NULL);
    CHECK(stub_count(prefix) == 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/Cust1", unused_port());
    o = options_for(url);
    so_options_set_max_retries(o, 0);
    check_delivery(o, 670, SO_ERR_CONNECT, SO_DELIVERY_NOT_SENT, not_sent);
    CHECK_RC(so_send_cc_password_email(NULL, 670, NULL, NULL, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
}

static void test_last_delivery_is_cleared_by_the_next_call(void) {
    TENANT("dclear", "drop=after");
    so_options *o = options_for(base);
    so_client *c = client_of(so_options_new(base));
    CHECK(c != NULL);
    so_client_free(c);
    c = client_of(options_for(base));
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_IO);
    CHECK(so_last_delivery() == SO_DELIVERY_UNKNOWN);
    (void)so_last_error_message();
    (void)so_last_error_code();
    CHECK(so_last_delivery() == SO_DELIVERY_UNKNOWN);
    /* a setter sends no e-mail request: NONE, even when it succeeds */
    CHECK_RC(so_options_set_language(o, "en"), SO_OK);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE);
    CHECK_RC(so_send_cc_password_email(c, 0, NULL, NULL, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
    /* a failing setter is NONE too */
    CHECK_RC(so_options_set_language(NULL, "en"), SO_ERR_NULL_ARGUMENT);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE);
    so_client_free(c);
    so_options_free(o);
}

static void test_may_have_been_sent(void) {
    CHECK(so_may_have_been_sent(SO_DELIVERY_NOT_SENT, 0) == 0);
    CHECK(so_may_have_been_sent(SO_DELIVERY_UNKNOWN, 0) == 1);
    CHECK(so_may_have_been_sent(SO_DELIVERY_NONE, 0) == 0);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 204) == 1);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 404) == 0);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 429) == 0);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 503) == 0);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 500) == 1);
    CHECK(so_may_have_been_sent(SO_DELIVERY_ANSWERED, 502) == 1);
    CHECK(so_may_have_been_sent(77, 0) == 1); /* an unknown value is taken as may have */
}


/* A batch of `n` persons through a client of `o` (freed here): the deliveries written,
   and the code of each item in `codes`. */
static so_result batch_deliveries(so_options *o, const int32_t *persons, size_t n, so_result *codes, int32_t *deliveries) {
    so_client *c = client_of(o);
    so_batch_item items[8];
    so_batch_result results[8];
    for (size_t i = 0; i < n; i++) items[i] = (so_batch_item){persons[i], NULL, NULL, NULL};
    size_t failed = 0;
    so_result rc = so_send_cc_password_email_batch_with_deliveries(c, items, n, 4, NULL, NULL, results, deliveries, &failed);
    for (size_t i = 0; i < n; i++) codes[i] = (so_result)results[i].code;
    so_batch_results_clear(results, n);
    so_client_free(c);
    return rc;
}

static void test_batch_deliveries(void) {
    so_result codes[8];
    int32_t d[8];
    TENANT("bdeliv", "");
    const int32_t mixed[] = {670, 0, 99999};
    CHECK_RC(batch_deliveries(options_for(base), mixed, 3, codes, d), SO_OK);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE); /* the batch call itself */
    CHECK(codes[0] == SO_OK && d[0] == SO_DELIVERY_ANSWERED);
    CHECK(codes[1] == SO_ERR_INVALID_ARGUMENT && d[1] == SO_DELIVERY_NOT_SENT);
    CHECK(codes[2] == SO_ERR_NOT_FOUND && d[2] == SO_DELIVERY_ANSWERED);
    CHECK(stub_count(prefix) == 2);
    RETENANT("breset", "drop=reset");
    const int32_t two[] = {670, 671};
    CHECK_RC(batch_deliveries(options_for(base), two, 2, codes, d), SO_OK);
    CHECK(codes[0] == SO_ERR_IO && d[0] == SO_DELIVERY_UNKNOWN);
    CHECK(codes[1] == SO_ERR_IO && d[1] == SO_DELIVERY_UNKNOWN);
    CHECK(stub_count(prefix) == 2); /* read, and never resent */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/Cust1", unused_port());
    so_options *o = options_for(url);
    so_options_set_max_retries(o, 0);
    CHECK_RC(batch_deliveries(o, two, 2, codes, d), SO_OK);
    CHECK(codes[0] == SO_ERR_CONNECT && d[0] == SO_DELIVERY_NOT_SENT && d[1] == SO_DELIVERY_NOT_SENT);
    /* a refused batch: every slot NOT_SENT; NULL deliveries is allowed */
    so_client *c = client_for(base);
    so_batch_item items[2] = {{670, NULL, NULL, NULL}, {671, NULL, NULL, NULL}};
    so_batch_result results[2];
    d[0] = d[1] = -1;
    CHECK_RC(so_send_cc_password_email_batch_with_deliveries(c, items, 2, 0, NULL, NULL, results, d, NULL), SO_ERR_INVALID_ARGUMENT);
    CHECK(d[0] == SO_DELIVERY_NOT_SENT && d[1] == SO_DELIVERY_NOT_SENT);
    so_batch_results_clear(results, 2);
    CHECK_RC(so_send_cc_password_email_batch_with_deliveries(c, items, 2, 2, NULL, NULL, results, NULL, NULL), SO_OK);
    so_batch_results_clear(results, 2);
    so_client_free(c);
}

/* The value of `"key":N` in a JSON text, -1 when absent. */
static long json_number(const char *json, const char *key) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    const char *p = json ? strstr(json, needle) : NULL;
    return p ? strtol(p + strlen(needle), NULL, 10) : -1;
}

static void test_untrusted_certificate_is_not_sent(void) {
    char *tls = http_get("/_stub/tls");
    CHECK(tls != NULL);
    long port = json_number(tls, "port"), decrypted = json_number(tls, "decrypted"), failed = json_number(tls, "handshakes_failed");
    free(tls);
    CHECK(port > 0 && decrypted >= 0);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%ld/Cust12345", port);
    check_delivery(options_for(url), 670, SO_ERR_TLS, SO_DELIVERY_NOT_SENT, "it was not sent");
    CHECK(strstr(so_last_error_message(), "not trusted") != NULL);
    tls = http_get("/_stub/tls");
    long decrypted_after = json_number(tls, "decrypted"), failed_after = json_number(tls, "handshakes_failed");
    free(tls);
    CHECK(decrypted_after == decrypted); /* the listener decrypted nothing */
    CHECK(failed_after > failed);        /* though the client did reach it */
}

static void test_connect_phase_timeout_is_not_sent(void) {
    char *u = http_get("/_stub/unaccepting");
    long port = json_number(u, "port");
    free(u);
    if (port <= 0) {
        skip("this kernel completes connections beyond a full backlog");
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%ld/Cust1", port);
    so_options *o = ticket_options(url, 300, 5000);
    so_options_set_max_retries(o, 0);
    check_delivery(o, 670, SO_ERR_TIMEOUT, SO_DELIVERY_NOT_SENT, "it was not sent");
}

/* ---------- retries ---------- */

static void test_retries_only_what_was_not_processed(void) {
    TENANT("retry503", "status=503/fail_first=2/retry_after=0");
    check_send(options_for(base), prefix, SO_OK, NULL, 3);
    RETENANT("retry429", "status=429/fail_first=1");
    check_send(options_for(base), prefix, SO_OK, NULL, 2);
    RETENANT("noretry500", "status=500/fail_first=1");
    check_send(options_for(base), prefix, SO_ERR_SERVER, NULL, 1);
    RETENANT("exhausted", "status=503/retry_after=0");
    check_send(options_for(base), prefix, SO_ERR_SERVER, "after 2 retries", 3);
    RETENANT("disabled", "status=429/retry_after=0");
    so_options *o = so_options_new(base);
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_max_retries(o, 0);
    check_send(o, prefix, SO_ERR_RATE_LIMITED, NULL, 1);
    {
        /* the server asks for longer than the time left: fail at once and say so */
        RETENANT("toolong", "status=429/retry_after=120");
        so_client *c = client_for(base);
        double t0 = now_ms();
        CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_RATE_LIMITED);
        CHECK(now_ms() - t0 < 2000.0);
        CHECK(strstr(so_last_error_message(), "retry after 120 s") != NULL);
        so_client_free(c);
        CHECK(stub_count(prefix) == 1);
    }
}

/* ---------- threads ---------- */

struct thread_arg {
    const so_client *c;
    int ok;
    int sends;
};

static void *sender(void *p) {
    struct thread_arg *a = p;
    for (int i = 0; i < a->sends; i++)
        if (so_send_cc_password_email(a->c, 670 + i, "from@example.com", "to@example.com", "s") == SO_OK) a->ok++;
    return NULL;
}

/* Eight threads send `sends` times each through `c`: the sends that succeeded, -1 when a
   thread could not start. */
static int send_from_eight_threads(const so_client *c, int sends) {
    test_thread t[8];
    struct thread_arg args[8];
    int started = 0, ok = 0;
    for (int i = 0; i < 8; i++) {
        args[i] = (struct thread_arg){c, 0, sends};
        if (thread_start(&t[i], sender, &args[i]) != 0) break;
        started++;
    }
    for (int i = 0; i < started; i++) {
        thread_join(t[i]);
        ok += args[i].ok;
    }
    return started == 8 ? ok : -1;
}

static void test_one_client_shared_by_threads(void) {
    TENANT("threads", "");
    so_client *c = client_for(base);
    int ok = send_from_eight_threads(c, 50);
    so_client_free(c);
    CHECK(ok == 400);
    CHECK(stub_count(prefix) == 400);
}

/* ---------- batch ---------- */

static size_t g_progress_calls, g_progress_last_done, g_progress_total;
static void on_progress(void *userdata, size_t done, size_t total) {
    (void)userdata;
    g_progress_calls++;
    g_progress_last_done = done;
    g_progress_total = total;
}

static void test_batch_sends_every_item_once(void) {
    TENANT("batch", "");
    so_client *c = client_for(base);
    enum { N = 40 };
    so_batch_item items[N];
    so_batch_result results[N];
    for (int i = 0; i < N; i++) items[i] = (so_batch_item){1000 + i, "f@example.com", "t@example.com", "s"};
    items[7].person_id = 0;      /* invalid: its own result, not sent */
    items[9].person_id = 99999;  /* the stub's missing person: 404 */
    g_progress_calls = 0;
    CHECK_RC(so_send_cc_password_emails_with_progress(c, items, N, 8, on_progress, NULL, results), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "2 of 40") != NULL);
    CHECK(g_progress_calls >= 2 && g_progress_last_done == N && g_progress_total == N);
    for (int i = 0; i < N; i++) {
        if (i == 7) {
            CHECK(results[i].code == SO_ERR_INVALID_ARGUMENT && results[i].http_status == 0 && results[i].message);
        } else if (i == 9) {
            CHECK(results[i].code == SO_ERR_NOT_FOUND && results[i].http_status == 404);
            CHECK(results[i].error_type && strcmp(results[i].error_type, "SoNotFoundException") == 0);
        } else {
            CHECK(results[i].code == SO_OK && results[i].message == NULL && results[i].error_type == NULL);
        }
    }
    so_batch_results_clear(results, N);
    so_batch_results_clear(results, N); /* twice is fine */
    CHECK(results[9].message == NULL);
    CHECK(stub_count(prefix) == N - 1);

    /* the plain form, all good */
    for (int i = 0; i < N; i++) items[i].person_id = 2000 + i;
    CHECK_RC(so_send_cc_password_emails(c, items, N, 3, results), SO_OK);
    so_batch_results_clear(results, N);
    CHECK(stub_count(prefix) == 2 * N - 1);

    CHECK_RC(so_send_cc_password_emails(c, NULL, 1, 3, results), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_send_cc_password_emails(c, items, 1, 3, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_send_cc_password_emails(NULL, items, 1, 3, results), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_send_cc_password_emails(c, items, 1, 0, results), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_send_cc_password_emails(c, items, 0, 3, NULL), SO_OK);
    so_batch_results_clear(NULL, 5);
    so_client_free(c);
    CHECK(stub_count(prefix) == 2 * N - 1);
}

static void test_batch_rate_limited_slows_down(void) {
    TENANT("batch429", "status=429/fail_first=4/retry_after=0");
    so_options *o = so_options_new(base);
    so_options_set_ticket(o, "7T:dGVzdA==");
    so_options_set_max_retries(o, 5); /* any item may meet every 429 */
    so_client *c = so_client_new(o);
    so_options_free(o);
    so_batch_item items[6];
    so_batch_result results[6];
    for (int i = 0; i < 6; i++) items[i] = (so_batch_item){100 + i, NULL, NULL, NULL};
    CHECK_RC(so_send_cc_password_emails(c, items, 6, 2, results), SO_OK);
    so_batch_results_clear(results, 6);
    so_client_free(c);
    CHECK(stub_count(prefix) == 10);
}

/* ---------- credentials refresh and logging ---------- */

static int g_refreshes;
static test_mutex g_refresh_lock = TEST_MUTEX_INIT;
static int32_t fresh_ticket(void *userdata, char *buffer, size_t len) {
    mutex_lock(&g_refresh_lock);
    g_refreshes++;
    mutex_unlock(&g_refresh_lock);
    const char *t = userdata;
    size_t n = strlen(t);
    if (n > len) return -1;
    memcpy(buffer, t, n);
    sleep_ms(20);
    return (int32_t)n;
}

static void test_credentials_refresh_once_then_resend(void) {
    TENANT("refresh", "");
    so_options *o = so_options_new(base);
    so_options_set_ticket(o, "7T:expired");
    CHECK_RC(so_options_set_credentials_callback(o, fresh_ticket, (void *)"fresh-ticket-1"), SO_OK);
    so_client *c = so_client_new(o);
    so_options_free(o);
    g_refreshes = 0;
    CHECK(send_from_eight_threads(c, 1) == 8);
    CHECK(g_refreshes == 1);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    CHECK(g_refreshes == 1);
    so_client_free(c);
    char *log = stub_log(prefix);
    int fresh = log ? count_of(log, "SOTicket fresh-ticket-1") : -1;
    int old = log ? count_of(log, "SOTicket 7T:expired") : -1;
    free(log);
    CHECK(fresh == 9 && old >= 1 && old <= 8);
}

static int32_t no_ticket(void *userdata, char *buffer, size_t len) {
    (void)userdata, (void)buffer, (void)len;
    return 0;
}

static void test_credentials_callback_without_answer_gives_401(void) {
    TENANT("refresh-none", "");
    so_options *o = so_options_new(base);
    so_options_set_ticket(o, "7T:expired");
    so_options_set_credentials_callback(o, no_ticket, NULL);
    so_client *c = so_client_new(o);
    so_options_free(o);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_UNAUTHORIZED);
    so_client_free(c);
    CHECK(stub_count(prefix) == 1);
}

static char g_log_lines[8192];
static int g_log_count;
static void on_log(void *userdata, int32_t level, const char *message) {
    (void)userdata;
    g_log_count++;
    size_t used = strlen(g_log_lines);
    snprintf(g_log_lines + used, sizeof g_log_lines - used, "%d %s\n", (int)level, message);
}

static void test_log_callback(void) {
    TENANT("log", "");
    so_options *o = so_options_new(base);
    so_options_set_basic_auth(o, "tje0", "Tje0");
    so_options_set_app_token(o, "app-secret-123");
    CHECK_RC(so_options_set_log_callback(o, on_log, NULL), SO_OK);
    so_client *c = so_client_new(o);
    so_options_free(o);
    g_log_lines[0] = 0;
    g_log_count = 0;
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    CHECK(g_log_count == 1);
    CHECK(strstr(g_log_lines, "3 POST ") && strstr(g_log_lines, "SendCustomerCentrePasswordEmail -> 204 No Content"));
    CHECK(!strstr(g_log_lines, "dGplMDpUamUw") && !strstr(g_log_lines, "app-secret") && !strstr(g_log_lines, "Tje0"));
    so_client_free(c);
}

/* ---------- tenant lookup ---------- */

static void test_tenant_lookup(void) {
    char url[256];
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust12345", url, sizeof url), SO_OK);
    char want[300];
    snprintf(want, sizeof want, "%s/Cust12345/api", g_stub);
    CHECK(strcmp(url, want) == 0);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "CustOM", url, sizeof url), SO_OK);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "CustMaint", url, sizeof url), SO_ERR_TENANT_UNAVAILABLE);
    CHECK(strstr(so_last_error_message(), "CustMaint") != NULL);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "CustSusp", url, sizeof url), SO_ERR_TENANT_UNAVAILABLE);
    CHECK(strstr(so_last_error_message(), "Suspended") != NULL);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust404", url, sizeof url), SO_ERR_NOT_FOUND);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust12345", url, 8), SO_ERR_BUFFER_TOO_SMALL);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, NULL, url, sizeof url), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust12345", NULL, 10), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust/../x", url, sizeof url), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_lookup_tenant_api_url("ftp://x", "Cust1", url, sizeof url), SO_ERR_INVALID_ARGUMENT);
    /* the looked-up URL works for a send */
    CHECK_RC(so_lookup_tenant_api_url(g_stub, "Cust12345", url, sizeof url), SO_OK);
    so_client *c = client_for(url);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    so_client_free(c);
}

static void test_many_clients_created_and_freed(void) {
    for (int i = 0; i < 2000; i++) {
        so_options *o = so_options_new("https://sod.superoffice.com/Cust12345");
        so_options_set_ticket(o, "7T:dGVzdA==");
        so_options_set_app_token(o, "app");
        so_client *c = so_client_new(o);
        so_options_free(o);
        CHECK(c != NULL);
        so_client_free(c);
    }
}

/* ---------- contract hardening ---------- */

/* A server that quotes the credentials back (the stub's echo_credentials): no secret in
   the message, the log callback or the batch results. */
static void test_secrets_quoted_by_the_server_are_hidden(void) {
    static const char *const ticket = "7T:c-redact-ticket", *const bearer = "8A:c-redact-bearer",
                             *const password = "c-redact-password", *const app = "c-redact-app-token",
                             *const xsrf = "c-redact-xsrf";
    /* base64("c-user:c-redact-password") */
    static const char *const basic64 = "Yy11c2VyOmMtcmVkYWN0LXBhc3N3b3Jk";
    for (int scheme = 0; scheme < 3; scheme++) {
        TENANT("redact", "echo_credentials");
        so_options *o = so_options_new(base);
        CHECK(o != NULL);
        if (scheme == 0) CHECK_RC(so_options_set_ticket(o, ticket), SO_OK);
        if (scheme == 1) CHECK_RC(so_options_set_bearer_token(o, bearer), SO_OK);
        if (scheme == 2) CHECK_RC(so_options_set_basic_auth(o, "c-user", password), SO_OK);
        CHECK_RC(so_options_set_app_token(o, app), SO_OK);
        CHECK_RC(so_options_set_xsrf_token(o, xsrf), SO_OK);
        CHECK_RC(so_options_set_log_callback(o, on_log, NULL), SO_OK);
        so_client *c = so_client_new(o);
        so_options_free(o);
        CHECK(c != NULL);
        g_log_lines[0] = 0;
        CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_UNAUTHORIZED);
        char m[4096];
        snprintf(m, sizeof m, "%s", so_last_error_message()); /* the next call clears it */
        CHECK(strstr(m, "received authorization=") && strstr(m, "***"));
        so_batch_item items[2] = {{670, NULL, NULL, NULL}, {671, NULL, NULL, NULL}};
        so_batch_result results[2];
        size_t failed = 0;
        CHECK_RC(so_send_cc_password_email_batch(c, items, 2, 1, NULL, NULL, results, &failed), SO_OK);
        CHECK(failed == 2);
        const char *texts[4] = {m, results[0].message, results[1].message, g_log_lines};
        const char *secrets[6] = {ticket, bearer, password, basic64, app, xsrf};
        for (int t = 0; t < 4; t++) {
            CHECK(texts[t] != NULL && strstr(texts[t], "received authorization=") != NULL);
            for (int k = 0; k < 6; k++) CHECK(strstr(texts[t], secrets[k]) == NULL);
        }
        so_batch_results_clear(results, 2);
        so_client_free(c);
    }
}

/* The batch's return tells a refused batch from failed items, and every slot is
   initialised, so clearing is always safe. */
static void test_batch_refused_or_ran(void) {
    TENANT("batch-outcome", "");
    so_client *c = client_for(base);
    so_batch_item items[3] = {{670, NULL, NULL, NULL}, {0, NULL, NULL, NULL}, {99999, NULL, NULL, NULL}};
    so_batch_result results[3];
    memset(results, 0xA5, sizeof results); /* garbage pointers */
    size_t failed = 42;
    CHECK_RC(so_send_cc_password_email_batch(c, items, 3, 0, NULL, NULL, results, &failed), SO_ERR_INVALID_ARGUMENT);
    CHECK(failed == 42);
    for (int i = 0; i < 3; i++)
        CHECK(results[i].code == SO_ERR_INVALID_ARGUMENT && results[i].message == NULL && results[i].error_type == NULL);
    so_batch_results_clear(results, 3);
    memset(results, 0xA5, sizeof results);
    CHECK_RC(so_send_cc_password_emails(c, items, 3, 0, results), SO_ERR_INVALID_ARGUMENT);
    so_batch_results_clear(results, 3); /* safe after the first function's refusal too */
    CHECK(stub_count(prefix) == 0);
    CHECK_RC(so_send_cc_password_email_batch(c, items, 3, 2, NULL, NULL, results, &failed), SO_OK);
    CHECK(failed == 2);
    CHECK(results[0].code == SO_OK && results[1].code == SO_ERR_INVALID_ARGUMENT && results[2].code == SO_ERR_NOT_FOUND);
    CHECK(sizeof results[0].code == 4);
    so_batch_results_clear(results, 3);
    so_client_free(c);
}

/* The tenant lookup says through *needed how large the buffer must be. */
static void test_tenant_lookup_reports_the_size_needed(void) {
    size_t needed = 0;
    CHECK_RC(so_lookup_tenant_api_url_sized(g_stub, "Cust12345", NULL, 0, &needed), SO_ERR_BUFFER_TOO_SMALL);
    char want[300];
    snprintf(want, sizeof want, "%s/Cust12345/api", g_stub);
    CHECK(needed == strlen(want) + 1);
    char *url = malloc(needed);
    CHECK_RC(so_lookup_tenant_api_url_sized(g_stub, "Cust12345", url, needed, &needed), SO_OK);
    CHECK(strcmp(url, want) == 0);
    free(url);
    char small[4] = "abc";
    CHECK_RC(so_lookup_tenant_api_url_sized(g_stub, "Cust12345", small, sizeof small, &needed), SO_ERR_BUFFER_TOO_SMALL);
    CHECK(needed == strlen(want) + 1 && strcmp(small, "abc") == 0);
    CHECK_RC(so_lookup_tenant_api_url_sized(g_stub, "Cust12345", small, sizeof small, NULL), SO_ERR_NULL_ARGUMENT);
}

/* International host names: the ASCII form on the wire, the name as written in messages.
   Against the stub when tests/ensure-idna-host.sh made so-stub.bæk.test resolve (make
   test-c runs it), else the conversion alone. */
static void test_international_host_name(void) {
    so_options *o = so_options_new("https://crm.b\xc3\xa6k.no/SuperOffice");
    CHECK(o != NULL);
    so_options_free(o);
    CHECK(so_options_new("https://ok.xn--zz-.no/x") == NULL);
    CHECK(so_last_error_code() == SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "not valid under IDNA") && strstr(so_last_error_message(), "'xn--zz-'"));
    if (!resolves("so-stub.xn--bk-1ia.test")) {
        printf("     so-stub.xn--bk-1ia.test does not resolve: conversion tested alone\n");
        return;
    }
    char prefix[64], base[256], shown[256];
    snprintf(prefix, sizeof prefix, "/c-%d-%ld-idna", ++g_unique, process_id());
    snprintf(base, sizeof base, "http://so-stub.b\xc3\xa6k.test:%d%s/status=404/Cust1", g_stub_port, prefix);
    snprintf(shown, sizeof shown, "http://so-stub.b\xc3\xa6k.test:%d%s", g_stub_port, prefix);
    so_client *c = client_for(base);
    CHECK(c != NULL);
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_ERR_NOT_FOUND);
    CHECK(strstr(so_last_error_message(), shown) != NULL && strstr(so_last_error_message(), "xn--") == NULL);
    so_client_free(c);
    char *log = stub_log(prefix);
    CHECK(log && strstr(log, "so-stub.xn--bk-1ia.test"));
    free(log);
}

int main(void) {
    if (!stub_from_env()) return 1;

    RUN(test_version_and_result_strings);
    RUN(test_last_error_is_cleared_by_each_call);
    RUN(test_last_error_is_per_thread);
    RUN(test_options_new_rejects_bad_urls);
    RUN(test_setters_reject_null_options);
    RUN(test_setters_validate_values);
    RUN(test_wire_ticket_app_token_language);
    RUN(test_wire_bearer);
    RUN(test_wire_basic_matches_reference_sample);
    RUN(test_wire_xsrf_alone_and_beside_auth);
    RUN(test_later_auth_scheme_replaces_earlier);
    RUN(test_base_url_forms_and_select);
    RUN(test_204_with_a_null_body_is_success);
    RUN(test_unicode_and_escaping_in_body);
    RUN(test_every_status_maps_to_its_code);
    RUN(test_not_found_message_matches_the_documented_form);
    RUN(test_big_error_body_gives_a_bounded_message);
    RUN(test_wrong_credentials_never_leak);
    RUN(test_transport_failures);
    RUN(test_timeouts);
    RUN(test_retries_only_what_was_not_processed);
    RUN(test_last_delivery_of_each_failure);
    RUN(test_last_delivery_is_cleared_by_the_next_call);
    RUN(test_may_have_been_sent);
    RUN(test_batch_deliveries);
    RUN(test_untrusted_certificate_is_not_sent);
    RUN(test_connect_phase_timeout_is_not_sent);
    RUN(test_one_client_shared_by_threads);
    RUN(test_batch_sends_every_item_once);
    RUN(test_batch_rate_limited_slows_down);
    RUN(test_credentials_refresh_once_then_resend);
    RUN(test_credentials_callback_without_answer_gives_401);
    RUN(test_log_callback);
    RUN(test_tenant_lookup);
    RUN(test_many_clients_created_and_freed);
    RUN(test_secrets_quoted_by_the_server_are_hidden);
    RUN(test_batch_refused_or_ran);
    RUN(test_tenant_lookup_reports_the_size_needed);
    RUN(test_international_host_name);

    return summary();
}
