/*
 * What only POSIX systems do to a library: signals that interrupt its system calls
 * (garbage-collected runtimes such as Mono signal native threads), and fork() of a
 * process that holds a client (prefork servers: gunicorn, uWSGI, Celery, PHP-FPM).
 * Against the stub server ($SO_STUB_URL), under ASan and UBSan. Prints "N passed, N failed".
 */
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

static int g_unique;

static void tenant(char *prefix, size_t plen, char *base, size_t blen, const char *name, const char *directives) {
    snprintf(prefix, plen, "/posix-%d-%ld-%s", ++g_unique, (long)getpid(), name);
    snprintf(base, blen, "%s%s%s%s/Cust12345", g_stub, prefix, directives && *directives ? "/" : "",
             directives ? directives : "");
}

static so_client *client_with_timeouts(const char *base, uint32_t connect_ms, uint32_t total_ms) {
    so_options *o = ticket_options(base, connect_ms, total_ms);
    if (o) so_options_set_max_retries(o, 0);
    return client_of(o);
}

/* ---------- signals ---------- */

static volatile sig_atomic_t g_signals_caught;
static void on_signal(int sig) {
    (void)sig;
    g_signals_caught++;
}

struct pester {
    pthread_t target;
    volatile int stop;
    int sent;
};

/* Sends SIGUSR1 to the target thread every 0.3 s until told to stop. */
static void *pester_thread(void *p) {
    struct pester *ps = p;
    while (!ps->stop) {
        struct timespec t = {0, 300 * 1000 * 1000};
        nanosleep(&t, NULL);
        if (ps->stop) break;
        pthread_kill(ps->target, SIGUSR1);
        ps->sent++;
    }
    return NULL;
}

/* A handler that does nothing, installed without SA_RESTART: every signal makes the
   system call it interrupts fail with EINTR. */
static void install_interrupting_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
}

/* Sends person 670 with a client for `base` (these timeouts, no retries) while another
   thread signals this one (pester_thread) through a handler that interrupts system calls,
   counting the signals caught afresh; prints the outcome after `what` and frees the client.
   `*took` is the send's time in ms; a client that cannot be made gives its error code. */
static so_result send_while_pestered(const char *what, const char *base, uint32_t connect_ms, uint32_t total_ms,
                                     double *took) {
    install_interrupting_handler();
    g_signals_caught = 0;
    *took = 0;
    so_client *c = client_with_timeouts(base, connect_ms, total_ms);
    if (!c) return so_last_error_code();
    struct pester ps = {pthread_self(), 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, pester_thread, &ps);
    double t0 = now_ms();
    so_result rc = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
    *took = now_ms() - t0;
    ps.stop = 1;
    pthread_join(t, NULL);
    printf("    %s, SIGUSR1 every 0.3 s: %s after %.0f ms, %d signals caught\n", what, so_result_str(rc), *took,
           (int)g_signals_caught);
    so_client_free(c);
    return rc;
}

static void test_total_timeout_holds_under_signals(void) {
    /* A listening socket that never accepts: the kernel completes the handshake, the
       request is written, and no answer ever comes. */
    int port = 0;
    sock_t s = listen_loopback(16, &port);
    CHECK(s != SOCK_INVALID);
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/Cust12345", port);
    double took = 0;
    so_result rc = send_while_pestered("2 s total timeout", base, 1000, 2000, &took);
    sock_close(s);
    CHECK(g_signals_caught >= 3);
    CHECK_RC(rc, SO_ERR_TIMEOUT);
    /* The limit plus a margin for a busy machine; it never ends early. */
    CHECK(took >= 1900 && took <= 3000);
}

static void test_no_timeout_survives_signals(void) {
    char prefix[256], base[512];
    tenant(prefix, sizeof prefix, base, sizeof base, "slow", "delay_ms=1000");
    double took = 0;
    so_result rc = send_while_pestered("no timeout, answer after 1 s", base, 0, 0, &took); /* 0: no limit */
    CHECK(g_signals_caught >= 2);
    CHECK_RC(rc, SO_OK);
    CHECK(stub_count(prefix) == 1);
}

/* ---------- fork ---------- */

#define FORK_CHILDREN 4
#define FORK_SENDS 200

/* Sends FORK_SENDS times; the number of failures (at most 255). */
static int send_many(so_client *c) {
    int failed = 0;
    for (int i = 0; i < FORK_SENDS; i++) {
        if (so_send_cc_password_email(c, 670, NULL, NULL, NULL) != SO_OK) {
            if (failed < 3) fprintf(stderr, "    [pid %ld] send failed: %s\n", (long)getpid(), so_last_error_message());
            failed++;
        }
    }
    return failed > 255 ? 255 : failed;
}

static void fork_and_send(const char *name, int free_in_child) {
    char prefix[256], base[512];
    tenant(prefix, sizeof prefix, base, sizeof base, name, NULL);
    so_client *c = client_with_timeouts(base, 2000, 10000);
    CHECK(c != NULL);
    /* A send first, so that a keep-alive connection sits in the pool when we fork. */
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    fflush(NULL);
    pid_t kids[FORK_CHILDREN];
    for (int k = 0; k < FORK_CHILDREN; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            int failed = send_many(c);
            if (free_in_child) so_client_free(c);
            fflush(NULL);
            _exit(failed);
        }
    }
    int parent_failed = send_many(c);
    int child_failed = 0;
    for (int k = 0; k < FORK_CHILDREN; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k]);
        CHECK(WIFEXITED(status));
        child_failed += WEXITSTATUS(status);
    }
    /* The parent's pool still works after children freed their copies. */
    CHECK_RC(so_send_cc_password_email(c, 670, NULL, NULL, NULL), SO_OK);
    so_client_free(c);
    int seen = stub_count(prefix);
    int want = 2 + (FORK_CHILDREN + 1) * FORK_SENDS;
    printf("    %d processes x %d sends after fork: %d failed in the parent, %d in children; the stub saw %d of %d\n",
           FORK_CHILDREN + 1, FORK_SENDS, parent_failed, child_failed, seen, want);
    CHECK(parent_failed == 0);
    CHECK(child_failed == 0);
    CHECK(seen == want);
}

static void test_fork_each_process_gets_its_own_pool(void) { fork_and_send("fork", 0); }
static void test_fork_child_frees_the_client(void) { fork_and_send("forkfree", 1); }

int main(void) {
    if (!stub_from_env()) return 1;
    RUN(test_total_timeout_holds_under_signals);
    RUN(test_no_timeout_survives_signals);
    RUN(test_fork_each_process_gets_its_own_pool);
    RUN(test_fork_child_frees_the_client);
    return summary();
}
