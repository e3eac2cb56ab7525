/*
 * Credentials the library gets itself, through the C ABI, against the stub server's
 * login service ($SO_STUB_URL; docs/stub-protocol.md, "Login service"):
 * so_options_set_system_user, so_options_set_oauth_refresh, so_options_set_login_url and
 * so_options_set_context_identifier with NULLs and bad UTF-8; each key form (PEM PKCS#1,
 * PEM PKCS#8, .NET XML, from tests/keys/ or $SO_KEYS_DIR); one login for 32 threads; the
 * renewal after a 401; each failure directive as SO_ERR_CREDENTIALS with nothing sent to
 * the API; secrets never in messages or log lines. One credential per identity in the
 * process: clients in turn share one login, so_options_set_shared_credentials(o, 0) gives
 * each its own, so_credentials_forget_all makes the next send log in; so_client_authenticate;
 * the clock named; fork() during a login in flight, 100 times (POSIX).
 * Built with -fsanitize=address,undefined. Prints "N passed, N failed".
 */
#include "harness.h"

#ifndef _WIN32
#include <sys/wait.h>
#endif

#define TOKEN "Partner App-8k8Q7DmBgo"
#define CLIENT_SECRET "c-client-secret-leak-check"

static int g_unique;
static char *g_pkcs1, *g_pkcs8, *g_xml;

static char *read_file(const char *name) {
    const char *dir = getenv("SO_KEYS_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/keys", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* A log callback that keeps every line, to look for secrets and messages in. */
typedef struct {
    test_mutex lock;
    char text[65536];
    size_t len;
} log_lines;

static log_lines *new_lines(void) {
    log_lines *l = calloc(1, sizeof *l);
    if (l) {
        test_mutex init = TEST_MUTEX_INIT;
        l->lock = init;
    }
    return l;
}

static void keep_line(void *userdata, int level, const char *message) {
    (void)level;
    log_lines *l = userdata;
    mutex_lock(&l->lock);
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", message);
    if (n > 0 && l->len + (size_t)n < sizeof l->text) l->len += (size_t)n;
    mutex_unlock(&l->lock);
}

/* Options for a fresh prefix with these login directives (and tenant directives). */
static so_options *options(char *prefix, size_t plen, const char *name, const char *login_directives,
                           const char *tenant_directives) {
    char base[1024], login[1024];
    snprintf(prefix, plen, "/ccred-%d-%ld-%s%s%s", ++g_unique, process_id(), name,
             *login_directives ? "/" : "", login_directives);
    snprintf(base, sizeof base, "%s%s/%sCust12345", g_stub, prefix, tenant_directives);
    snprintf(login, sizeof login, "%s%s/login", g_stub, prefix);
    so_options *o = so_options_new(base);
    if (!o) return NULL;
    so_options_set_proxy(o, "");
    so_options_set_timeout_ms(o, 1000, 3000);
    if (so_options_set_login_url(o, login) != SO_OK || so_options_set_context_identifier(o, "Cust12345") != SO_OK) {
        so_options_free(o);
        return NULL;
    }
    return o;
}

/* The same options with the system user of this key; NULL when either fails. */
static so_options *system_user(char *prefix, size_t plen, const char *name, const char *login_directives,
                               const char *tenant_directives, const char *key) {
    so_options *o = options(prefix, plen, name, login_directives, tenant_directives);
    if (o && so_options_set_system_user(o, TOKEN, key, CLIENT_SECRET) != SO_OK) {
        so_options_free(o);
        return NULL;
    }
    return o;
}

/* The same options with an OAuth refresh token; NULL when either fails. */
static so_options *oauth(char *prefix, size_t plen, const char *name, const char *login_directives) {
    so_options *o = options(prefix, plen, name, login_directives, "");
    if (o && so_options_set_oauth_refresh(o, "client-id", CLIENT_SECRET, "stub-refresh-token") != SO_OK) {
        so_options_free(o);
        return NULL;
    }
    return o;
}

static so_result send1(const so_client *c) {
    return so_send_cc_password_email(c, 670, "from@example.com", "to@example.com", "Subject");
}

/* One send1 through a client of `o` (freed here; NULL gives SO_ERR_NULL_ARGUMENT, the last
   error left as it was), its log lines kept in `lines` unless NULL, the last error message
   copied to `message` unless NULL. */
/* The delivery of send_once's send (so_last_delivery right after it). */
static so_delivery g_delivery;

static so_result send_once(so_options *o, log_lines *lines, char *message, size_t mlen) {
    so_result rc = !o ? SO_ERR_NULL_ARGUMENT : lines ? so_options_set_log_callback(o, keep_line, lines) : SO_OK;
    so_client *c = rc == SO_OK ? so_client_new(o) : NULL;
    so_options_free(o);
    if (rc == SO_OK) rc = c ? send1(c) : so_last_error_code();
    g_delivery = so_last_delivery();
    if (message) snprintf(message, mlen, "%s", so_last_error_message());
    so_client_free(c);
    return rc;
}

static int count_under(const char *prefix, const char *suffix) {
    char p[1024];
    snprintf(p, sizeof p, "%s%s", prefix, suffix);
    return stub_count(p);
}

static int logins(const char *prefix) { return count_under(prefix, "/login/api/PartnerSystemUser/Authenticate"); }
static int api_requests(const char *prefix) { return count_under(prefix, "/Cust12345/api/v1/"); }

/* ---------- the setters' arguments ---------- */

static void test_setters_refuse_nulls_and_bad_utf8(void) {
    so_options *o = so_options_new("https://sod2.superoffice.com/Cust12345");
    CHECK(o);
    const char bad[] = {'a', (char)0xff, 'b', 0};
    CHECK_RC(so_options_set_system_user(NULL, TOKEN, g_xml, CLIENT_SECRET), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, NULL, g_xml, CLIENT_SECRET), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, TOKEN, NULL, CLIENT_SECRET), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, TOKEN, g_xml, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, bad, g_xml, CLIENT_SECRET), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, TOKEN, bad, CLIENT_SECRET), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, TOKEN, g_xml, bad), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_system_user(o, "", g_xml, CLIENT_SECRET), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(NULL, "id", "s", "r"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(o, NULL, "s", "r"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(o, "id", NULL, "r"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(o, "id", "s", NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(o, bad, "s", "r"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_oauth_refresh(o, "id", "s", bad), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_login_url(NULL, "https://sod.superoffice.com/login"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_login_url(o, bad), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_login_url(o, "ftp://sod.superoffice.com/login"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_login_url(o, "https://user:pw-c-secret@sod.superoffice.com/login"), SO_ERR_INVALID_ARGUMENT);
    CHECK(!strstr(so_last_error_message(), "pw-c-secret"));
    CHECK_RC(so_options_set_login_url(o, NULL), SO_OK);
    CHECK_RC(so_options_set_context_identifier(NULL, "Cust1"), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_options_set_context_identifier(o, bad), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_context_identifier(o, "Cust\n1"), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_options_set_context_identifier(o, NULL), SO_OK);
    so_options_free(o);
}

static void test_an_unreadable_key_is_invalid_and_never_quoted(void) {
    so_options *o = so_options_new("https://sod2.superoffice.com/Cust12345");
    CHECK(o);
    char *broken = strdup(g_pkcs1);
    CHECK(broken);
    broken[40] = '!';
    const char *keys[] = {"not a key", "<RSAKeyValue><Modulus>c2VjcmV0LWtleS10ZXh0</Modulus></RSAKeyValue>", broken};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        so_result rc = so_options_set_system_user(o, TOKEN, keys[i], CLIENT_SECRET);
        if (rc != SO_ERR_INVALID_ARGUMENT) {
            free(broken);
            so_options_free(o);
            CHECK_RC(rc, SO_ERR_INVALID_ARGUMENT);
        }
        const char *m = so_last_error_message();
        if (strstr(m, "c2VjcmV0LWtleS10ZXh0") || strstr(m, "not a key") || !strstr(m, "private key")) {
            free(broken);
            so_options_free(o);
            CHECK(!"the message quotes the key or does not name it");
        }
    }
    free(broken);
    so_options_free(o);
}

static void test_no_login_service_known_fails_when_the_client_is_made(void) {
    so_options *o = so_options_new("https://crm.example.com/Cust12345");
    CHECK(o);
    CHECK_RC(so_options_set_system_user(o, TOKEN, g_pkcs8, CLIENT_SECRET), SO_OK);
    so_client *c = so_client_new(o);
    so_options_free(o);
    CHECK(c == NULL);
    CHECK(strstr(so_last_error_message(), "so_options_set_login_url"));
}

/* ---------- the system user flow ---------- */

static void test_each_key_form_logs_in_once(void) {
    const char *keys[] = {g_pkcs1, g_pkcs8, g_xml};
    for (int i = 0; i < 3; i++) {
        char prefix[512];
        so_client *c = client_of(system_user(prefix, sizeof prefix, "forms", "", "", keys[i]));
        CHECK(c);
        so_result a = send1(c), b = send1(c);
        so_client_free(c);
        CHECK_RC(a, SO_OK);
        CHECK_RC(b, SO_OK);
        CHECK(logins(prefix) == 1);
        CHECK(api_requests(prefix) == 2);
        char *log = stub_log(prefix);
        CHECK(log);
        int ok = strstr(log, "SOTicket 7T:stub-ticket-") && strstr(log, CLIENT_SECRET);
        free(log);
        CHECK(ok);
    }
}

typedef struct {
    const so_client *client;
    so_result rc;
} sender;

static void *send_thread(void *arg) {
    sender *s = arg;
    s->rc = send1(s->client);
    return NULL;
}

static void test_thirty_two_threads_make_one_login(void) {
    char prefix[512];
    so_client *c = client_of(system_user(prefix, sizeof prefix, "flight", "login_delay_ms=300", "", g_xml));
    CHECK(c);
    test_thread threads[32];
    sender senders[32];
    for (int i = 0; i < 32; i++) {
        senders[i].client = c;
        senders[i].rc = SO_ERR_PANIC;
        CHECK(thread_start(&threads[i], send_thread, &senders[i]) == 0);
    }
    for (int i = 0; i < 32; i++) thread_join(threads[i]);
    so_client_free(c);
    for (int i = 0; i < 32; i++) CHECK_RC(senders[i].rc, SO_OK);
    CHECK(logins(prefix) == 1);
    CHECK(api_requests(prefix) == 32);
}

static void test_a_401_renews_the_ticket_once_and_resends_once(void) {
    char prefix[512];
    so_options *o = system_user(prefix, sizeof prefix, "revoked", "revoke_first=1", "", g_pkcs8);
    CHECK_RC(send_once(o, NULL, NULL, 0), SO_OK);
    CHECK(logins(prefix) == 2);
    CHECK(api_requests(prefix) == 2);

    o = system_user(prefix, sizeof prefix, "always-revoked", "revoke_first=100", "", g_pkcs8);
    CHECK_RC(send_once(o, NULL, NULL, 0), SO_ERR_UNAUTHORIZED);
    CHECK(logins(prefix) == 2);
    CHECK(api_requests(prefix) == 2);
}

static void test_each_failure_is_a_credentials_error_and_nothing_is_sent(void) {
    static const struct {
        const char *directives, *piece;
    } cases[] = {
        {"login=refused", "not approved"},   {"login=500", "answered 500"},
        {"login_delay_ms=5000", "in time"},  {"jwt=unknown_key", "does not publish"},
        {"jwt=expired", "expired"},          {"jwt=wrong_iss", "issuer"},
        {"jwt=wrong_aud", "audience"},       {"jwt=garbage", "malformed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char prefix[512];
        log_lines *lines = new_lines();
        CHECK(lines);
        so_options *o = system_user(prefix, sizeof prefix, "fail", cases[i].directives, "echo_credentials/", g_xml);
        char message[4096];
        so_result rc = send_once(o, lines, message, sizeof message);
        int clean = !strstr(message, CLIENT_SECRET) && !strstr(message, TOKEN) && !strstr(lines->text, CLIENT_SECRET) &&
                    !strstr(lines->text, TOKEN);
        free(lines);
        if (rc != SO_ERR_CREDENTIALS || !strstr(message, cases[i].piece)) {
            fprintf(stderr, "    %s: rc %d, message [%s]\n", cases[i].directives, (int)rc, message);
        }
        CHECK_RC(rc, SO_ERR_CREDENTIALS);
        CHECK(strstr(message, cases[i].piece));
        CHECK(clean);
        CHECK(api_requests(prefix) == 0);
        /* no credential, no e-mail request: safe to send again */
        CHECK(g_delivery == SO_DELIVERY_NOT_SENT);
        CHECK(strstr(message, "it was not sent"));
    }
    CHECK(strcmp(so_result_str(SO_ERR_CREDENTIALS), "no credential could be obtained from the login service") == 0);
}

static void test_tickets_are_hidden_when_the_server_quotes_them(void) {
    char prefix[512];
    log_lines *lines = new_lines();
    CHECK(lines);
    so_options *o = system_user(prefix, sizeof prefix, "echo", "", "echo_credentials/status=500/", g_pkcs1);
    char message[4096];
    so_result rc = send_once(o, lines, message, sizeof message);
    int clean = !strstr(message, "7T:stub-ticket-") && !strstr(lines->text, "7T:stub-ticket-") &&
                !strstr(message, CLIENT_SECRET);
    free(lines);
    CHECK_RC(rc, SO_ERR_SERVER);
    CHECK(strstr(message, "authorization=SOTicket ***"));
    CHECK(clean);
}

static void test_a_moved_tenant_is_followed_and_logged(void) {
    char prefix[512];
    log_lines *lines = new_lines();
    CHECK(lines);
    so_options *o = system_user(prefix, sizeof prefix, "moved", "webapi_host=localhost", "", g_xml);
    so_result rc = send_once(o, lines, NULL, 0);
    int logged = strstr(lines->text, "another host") && strstr(lines->text, "http://localhost:");
    free(lines);
    CHECK_RC(rc, SO_OK);
    CHECK(logged);
    char *log = stub_log(prefix);
    CHECK(log);
    int via_localhost = strstr(log, "\"localhost:") != NULL;
    free(log);
    CHECK(via_localhost);
}

/* ---------- OAuth refresh token ---------- */

static void test_oauth_refresh_gets_a_bearer_token(void) {
    char prefix[512];
    CHECK_RC(send_once(oauth(prefix, sizeof prefix, "oauth", "oauth_rotate"), NULL, NULL, 0), SO_OK);
    CHECK(count_under(prefix, "/login/common/oauth/tokens") == 1);
    char *log = stub_log(prefix);
    CHECK(log);
    int bearer = strstr(log, "Bearer 8A:stub-access-") != NULL;
    free(log);
    CHECK(bearer);

    char message[4096];
    so_result rc = send_once(oauth(prefix, sizeof prefix, "oauth-bad", "oauth=invalid_grant"), NULL, message, sizeof message);
    CHECK_RC(rc, SO_ERR_CREDENTIALS);
    CHECK(strstr(message, "invalid_grant"));
    CHECK(!strstr(message, "stub-refresh-token") && !strstr(message, CLIENT_SECRET));
    CHECK(api_requests(prefix) == 0);
}


/* ---------- one credential per identity in the process ---------- */

static void test_five_clients_in_turn_make_one_login(void) {
    char prefix[512];
    log_lines *lines = new_lines();
    CHECK(lines);
    if (!lines) return;
    /* The same prefix (identity) each time: the options are made once per client. */
    so_options *o = system_user(prefix, sizeof prefix, "turn", "", "", g_xml);
    CHECK(o);
    for (int i = 0; i < 5 && o; i++) {
        so_result rc = so_options_set_log_callback(o, keep_line, lines);
        so_client *c = rc == SO_OK ? so_client_new(o) : NULL;
        CHECK(c);
        CHECK_RC(send1(c), SO_OK);
        so_client_free(c); /* the next client is made after this one is freed */
    }
    so_options_free(o);
    CHECK(logins(prefix) == 1);
    CHECK(api_requests(prefix) == 5);
    int took = 0;
    for (const char *p = lines->text; (p = strstr(p, "took a shared credential for tenant Cust12345 (system user)")); p++) took++;
    CHECK(took == 4);
    CHECK(strstr(lines->text, "login for tenant Cust12345 (system user)"));
    CHECK(!strstr(lines->text, "7T:stub-ticket-") && !strstr(lines->text, CLIENT_SECRET));
    free(lines);
}

static void test_opting_out_gives_each_client_its_own_login(void) {
    CHECK_RC(so_options_set_shared_credentials(NULL, 0), SO_ERR_NULL_ARGUMENT);
    char prefix[512];
    so_options *o = system_user(prefix, sizeof prefix, "optout", "", "", g_pkcs8);
    CHECK(o);
    if (!o) return;
    CHECK_RC(so_options_set_shared_credentials(o, 2), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "0 or 1"));
    CHECK_RC(so_options_set_shared_credentials(o, 0), SO_OK);
    for (int i = 0; i < 3; i++) {
        so_client *c = so_client_new(o);
        CHECK(c);
        CHECK_RC(send1(c), SO_OK);
        CHECK_RC(send1(c), SO_OK);
        so_client_free(c);
    }
    CHECK(logins(prefix) == 3);
    CHECK_RC(so_options_set_shared_credentials(o, 1), SO_OK);
    so_client *a = so_client_new(o), *b = so_client_new(o);
    CHECK_RC(send1(a), SO_OK);
    CHECK_RC(send1(b), SO_OK);
    CHECK(logins(prefix) == 4);
    so_client_free(a);
    so_client_free(b);
    so_options_free(o);
}

static void test_forget_all_makes_the_next_send_log_in(void) {
    char prefix[512];
    so_client *c = client_of(system_user(prefix, sizeof prefix, "forget", "", "", g_xml));
    CHECK(c);
    CHECK_RC(send1(c), SO_OK);
    CHECK_RC(send1(c), SO_OK);
    CHECK(logins(prefix) == 1);
    so_credentials_forget_all();
    CHECK(so_last_error_code() == SO_OK);
    CHECK_RC(send1(c), SO_OK);
    CHECK(logins(prefix) == 2);
    so_client_free(c);
    so_credentials_forget_all();
}

static void test_authenticate_gets_the_credential_without_an_email(void) {
    CHECK_RC(so_client_authenticate(NULL), SO_ERR_NULL_ARGUMENT);
    char prefix[512];
    so_client *c = client_of(system_user(prefix, sizeof prefix, "auth", "", "", g_pkcs1));
    CHECK(c);
    CHECK_RC(so_client_authenticate(c), SO_OK);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE);
    CHECK_RC(send1(c), SO_OK);
    CHECK(so_last_delivery() == SO_DELIVERY_ANSWERED);
    CHECK_RC(so_client_authenticate(c), SO_OK);
    CHECK(so_last_delivery() == SO_DELIVERY_NONE); /* cleared: no e-mail request */
    CHECK(logins(prefix) == 1);
    CHECK(api_requests(prefix) == 1);
    CHECK_RC(send1(c), SO_OK);
    CHECK(logins(prefix) == 1);
    CHECK(api_requests(prefix) == 2);
    so_client_free(c);

    /* A ticket given: SO_OK at once, nothing sent. */
    char base[1024];
    snprintf(base, sizeof base, "%s%s-ticket/Cust12345", g_stub, prefix);
    c = client_of(ticket_options(base, 1000, 3000));
    CHECK(c);
    CHECK_RC(so_client_authenticate(c), SO_OK);
    so_client_free(c);
    CHECK(count_under(prefix, "-ticket") == 0);

    /* Refused: the send's message, and nothing sent to the API. */
    c = client_of(system_user(prefix, sizeof prefix, "auth-refused", "login=refused", "", g_pkcs1));
    CHECK_RC(so_client_authenticate(c), SO_ERR_CREDENTIALS);
    CHECK(strstr(so_last_error_message(), "not approved"));
    CHECK(so_last_delivery() == SO_DELIVERY_NONE);
    CHECK(api_requests(prefix) == 0);
    so_client_free(c);
}

static void test_the_clock_is_named(void) {
    char prefix[512], message[2048];
    so_client *c = client_of(system_user(prefix, sizeof prefix, "clock", "clock_min=-20", "", g_xml));
    CHECK_RC(so_client_authenticate(c), SO_ERR_CREDENTIALS);
    snprintf(message, sizeof message, "%s", so_last_error_message());
    so_client_free(c);
    CHECK(strstr(message, "InvalidTimestamp; this machine's clock is 20 minutes ahead of the login service's; the system "
                          "user token is stamped with this machine's time, so the login service refuses it: correct the clock"));
}

#ifndef _WIN32
typedef struct {
    so_client *client;
    so_result rc;
} login_in_flight;

static void *send_in_flight(void *arg) {
    login_in_flight *f = arg;
    f->rc = send1(f->client);
    return NULL;
}

/* fork() while another thread of the parent is logging in: each child sends (its own
   login: it starts with no table) through the inherited client and a new one, with no
   deadlock (alarm), 10 rounds of 10 children. */
static void test_fork_during_a_login_in_flight(void) {
    int forks = 0, children_ok = 0;
    for (int round = 0; round < 10; round++) {
        char prefix[512];
        so_options *o = system_user(prefix, sizeof prefix, "forklogin", "login_delay_ms=200", "", g_xml);
        CHECK(o);
        if (!o) return;
        so_client *c = so_client_new(o);
        CHECK(c);
        login_in_flight f = {c, SO_ERR_PANIC};
        pthread_t t;
        CHECK(pthread_create(&t, NULL, send_in_flight, &f) == 0);
        sleep_ms(20 + (unsigned)round * 10);
        pid_t kids[10];
        for (int k = 0; k < 10; k++) {
            kids[k] = fork();
            if (kids[k] == 0) {
                alarm(30); /* a deadlock ends as SIGALRM, counted as a failure */
                so_result a = send1(c);
                so_client *fresh = so_client_new(o);
                so_result b = fresh ? send1(fresh) : SO_ERR_PANIC;
                _exit(a == SO_OK && b == SO_OK ? 0 : 1);
            }
            if (kids[k] > 0) forks++;
        }
        for (int k = 0; k < 10; k++) {
            int status = 0;
            if (kids[k] > 0 && waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                children_ok++;
        }
        pthread_join(t, NULL);
        CHECK_RC(f.rc, SO_OK);
        /* The parent's login, and one per child (the inherited client and the new one
           share the child's). */
        CHECK(logins(prefix) == 11);
        so_client_free(c);
        so_options_free(o);
    }
    printf("    %d forks during a login in flight, %d children sent\n", forks, children_ok);
    CHECK(forks == 100);
    CHECK(children_ok == 100);
}
#endif

int main(void) {
    if (!stub_from_env()) return 1;
    g_pkcs1 = read_file("partner.pkcs1.pem");
    g_pkcs8 = read_file("partner.pkcs8.pem");
    g_xml = read_file("partner.xml");
    if (!g_pkcs1 || !g_pkcs8 || !g_xml) {
        fprintf(stderr, "the test keys were not found (run from the repository root, or set SO_KEYS_DIR)\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }

    RUN(test_setters_refuse_nulls_and_bad_utf8);
    RUN(test_an_unreadable_key_is_invalid_and_never_quoted);
    RUN(test_no_login_service_known_fails_when_the_client_is_made);
    RUN(test_each_key_form_logs_in_once);
    RUN(test_thirty_two_threads_make_one_login);
    RUN(test_a_401_renews_the_ticket_once_and_resends_once);
    RUN(test_each_failure_is_a_credentials_error_and_nothing_is_sent);
    RUN(test_tickets_are_hidden_when_the_server_quotes_them);
    RUN(test_a_moved_tenant_is_followed_and_logged);
    RUN(test_oauth_refresh_gets_a_bearer_token);
    RUN(test_five_clients_in_turn_make_one_login);
    RUN(test_opting_out_gives_each_client_its_own_login);
    RUN(test_forget_all_makes_the_next_send_log_in);
    RUN(test_authenticate_gets_the_credential_without_an_email);
    RUN(test_the_clock_is_named);
#ifndef _WIN32
    RUN(test_fork_during_a_login_in_flight);
#endif

    free(g_pkcs1);
    free(g_pkcs8);
    free(g_xml);
    return summary();
}
