/*
 * Keep-alive against a real nginx (started by tests/nginx/keepalive.sh): a server that
 * closes every third connection, and one whose idle timeout races the client's reuse of
 * a pooled connection. Under ASan and UBSan. Prints "N passed, N failed".
 */
#include "harness.h"

#include <pthread.h>

static const char *env_or_die(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run me through tests/nginx/keepalive.sh\n", name);
        exit(2);
    }
    return v;
}

/* Lines in nginx's access log: one per request it read. */
static int log_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

/* nginx writes a request's access-log line after it has sent the answer, so the client can
 * read the log before the last line is there. Wait (up to 5 s) until at least `at_least`
 * lines are in, then once more briefly so that a line logged twice is counted too. */
static int log_lines_settled(const char *path, int at_least) {
    const struct timespec pause = {0, 10 * 1000 * 1000};
    int n = log_lines(path);
    for (int i = 0; i < 500 && n < at_least; i++) {
        nanosleep(&pause, NULL);
        n = log_lines(path);
    }
    for (int i = 0; i < 10; i++) nanosleep(&pause, NULL);
    return log_lines(path);
}

static so_client *client_for(const char *base) { return ticket_client(base, 2000, 10000); }

#define EVERY3_SENDS 3000

static void test_server_closing_every_third_connection(void) {
    so_client *c = client_for(env_or_die("SO_EVERY3_URL"));
    CHECK(c != NULL);
    int failed = 0;
    for (int i = 0; i < EVERY3_SENDS; i++) {
        if (so_send_cc_password_email(c, 670, NULL, NULL, NULL) != SO_OK) {
            if (failed++ < 3) fprintf(stderr, "    send %d failed: %s\n", i, so_last_error_message());
        }
    }
    so_client_free(c);
    int seen = log_lines_settled(env_or_die("SO_EVERY3_LOG"), EVERY3_SENDS);
    printf("    keepalive_requests 3: %d sends, %d failed, nginx logged %d\n", EVERY3_SENDS, failed, seen);
    CHECK(failed == 0);
    CHECK(seen == EVERY3_SENDS);
}

/* ---------- the idle-timeout race ---------- */

#define IDLE_THREADS 4
#define IDLE_SENDS 50 /* per thread: 200 sends in all, each after a pause of 0.97-1.03 s */

struct idle_run {
    unsigned seed;
    int ok, failed, failed_unexplained;
};

static void *idle_sender(void *p) {
    struct idle_run *r = p;
    so_client *c = client_for(env_or_die("SO_IDLE_URL"));
    if (!c) {
        r->failed_unexplained = IDLE_SENDS;
        return NULL;
    }
    for (int i = 0; i < IDLE_SENDS; i++) {
        r->seed = r->seed * 1103515245u + 12345u;
        long pause_us = 970000 + (long)((r->seed >> 8) % 60001); /* 0.97 .. 1.03 s */
        struct timespec t = {pause_us / 1000000, (pause_us % 1000000) * 1000};
        nanosleep(&t, NULL);
        so_result rc = so_send_cc_password_email(c, 670, NULL, NULL, NULL);
        if (rc == SO_OK) {
            r->ok++;
            continue;
        }
        r->failed++;
        const char *m = so_last_error_message();
        printf("    a send raced the server's close: %s: %s\n", so_result_str(rc), m);
        /* The documented outcome: an I/O error, not sent again, with advice a user can act on. */
        if (rc != SO_ERR_IO || !strstr(m, "safe to send again if a duplicate e-mail is acceptable"))
            r->failed_unexplained++;
    }
    so_client_free(c);
    return NULL;
}

static void test_idle_timeout_race_is_reported_never_resent(void) {
    pthread_t t[IDLE_THREADS];
    struct idle_run runs[IDLE_THREADS];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < IDLE_THREADS; i++) {
        runs[i].seed = (unsigned)(now_ms() * 1000.0) + (unsigned)i * 7919u;
        pthread_create(&t[i], NULL, idle_sender, &runs[i]);
    }
    int ok = 0, failed = 0, unexplained = 0;
    for (int i = 0; i < IDLE_THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += runs[i].ok;
        failed += runs[i].failed;
        unexplained += runs[i].failed_unexplained;
    }
    int seen = log_lines_settled(env_or_die("SO_IDLE_LOG"), ok);
    printf("    keepalive_timeout 1s, pauses of 0.97-1.03 s: %d sends, %d failed (%.2f%%), nginx logged %d\n",
           ok + failed, failed, 100.0 * failed / (ok + failed), seen);
    CHECK(ok + failed == IDLE_THREADS * IDLE_SENDS);
    CHECK(unexplained == 0);
    /* Never a double send: nginx read every success once, and at most once each failure. */
    CHECK(seen >= ok && seen <= ok + failed);
}

int main(void) {
    RUN(test_server_closing_every_third_connection);
    RUN(test_idle_timeout_race_is_reported_never_resent);
    return summary();
}
