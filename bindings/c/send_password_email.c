/*
 * send_password_email: sends a SuperOffice Customer Centre password e-mail through
 * libsuperoffice and prints the outcome.
 *
 *   send_password_email [--base-url URL] [--ticket T | --bearer T | --user U --password P]
 *                       [--app-token A] [--language L] [--person-id N]
 *                       [--from ADDR] [--to ADDR] [--subject TEXT]
 *
 * Every option falls back to an environment variable: SO_BASE_URL, SO_TICKET,
 * SO_BEARER_TOKEN, SO_USERNAME, SO_PASSWORD, SO_APP_TOKEN, SO_LANGUAGE, SO_PERSON_ID,
 * SO_FROM, SO_TO, SO_SUBJECT. Exit status: 0 sent, 1 failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "superoffice.h"

static const char *env_or(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return (v && *v) ? v : fallback;
}

static int usage(const char *prog) {
    fprintf(stderr,
            "usage: %s [--base-url URL] [--ticket T | --bearer T | --user U --password P]\n"
            "          [--app-token A] [--language L] [--person-id N] [--from A] [--to A] [--subject S]\n"
            "Options fall back to SO_BASE_URL, SO_TICKET, SO_BEARER_TOKEN, SO_USERNAME, SO_PASSWORD,\n"
            "SO_APP_TOKEN, SO_LANGUAGE, SO_PERSON_ID, SO_FROM, SO_TO, SO_SUBJECT.\n",
            prog);
    return 2;
}

static int fail(const char *what, so_result r) {
    fprintf(stderr, "%s failed: %s (code %d", what, so_result_str(r), (int)r);
    if (so_last_error_http_status() != 0) fprintf(stderr, ", HTTP %d", so_last_error_http_status());
    if (*so_last_error_type()) fprintf(stderr, ", %s", so_last_error_type());
    fprintf(stderr, ")\n  %s\n", so_last_error_message());
    return 1;
}

int main(int argc, char **argv) {
    const char *base_url = env_or("SO_BASE_URL", NULL);
    const char *ticket = env_or("SO_TICKET", NULL);
    const char *bearer = env_or("SO_BEARER_TOKEN", NULL);
    const char *user = env_or("SO_USERNAME", NULL);
    const char *password = env_or("SO_PASSWORD", NULL);
    const char *app_token = env_or("SO_APP_TOKEN", NULL);
    const char *language = env_or("SO_LANGUAGE", NULL);
    const char *person = env_or("SO_PERSON_ID", "670");
    const char *from = env_or("SO_FROM", NULL);
    const char *to = env_or("SO_TO", NULL);
    const char *subject = env_or("SO_SUBJECT", NULL);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "--base-url")) slot = &base_url;
        else if (!strcmp(a, "--ticket")) slot = &ticket;
        else if (!strcmp(a, "--bearer")) slot = &bearer;
        else if (!strcmp(a, "--user")) slot = &user;
        else if (!strcmp(a, "--password")) slot = &password;
        else if (!strcmp(a, "--app-token")) slot = &app_token;
        else if (!strcmp(a, "--language")) slot = &language;
        else if (!strcmp(a, "--person-id")) slot = &person;
        else if (!strcmp(a, "--from")) slot = &from;
        else if (!strcmp(a, "--to")) slot = &to;
        else if (!strcmp(a, "--subject")) slot = &subject;
        else return usage(argv[0]);
        if (++i >= argc) return usage(argv[0]);
        *slot = argv[i];
    }
    if (!base_url) {
        fprintf(stderr, "no base URL: set SO_BASE_URL or pass --base-url\n");
        return usage(argv[0]);
    }
    char *end = NULL;
    long person_id = strtol(person, &end, 10);
    if (!end || *end || person_id <= 0 || person_id > 2147483647L) {
        fprintf(stderr, "person id '%s' is not a positive 32-bit number\n", person);
        return 2;
    }
    if (strcmp(so_version(), SO_VERSION) != 0) {
        fprintf(stderr, "warning: header %s, library %s\n", SO_VERSION, so_version());
    }

    so_options *o = so_options_new(base_url);
    if (!o) return fail("so_options_new", SO_ERR_INVALID_ARGUMENT);
    so_result r = SO_OK;
    if (ticket) r = so_options_set_ticket(o, ticket);
    else if (bearer) r = so_options_set_bearer_token(o, bearer);
    else if (user) r = so_options_set_basic_auth(o, user, password ? password : "");
    if (r == SO_OK && app_token) r = so_options_set_app_token(o, app_token);
    if (r == SO_OK && language) r = so_options_set_language(o, language);
    if (r != SO_OK) {
        int rc = fail("setting options", r);
        so_options_free(o);
        return rc;
    }
    so_client *c = so_client_new(o);
    so_options_free(o);
    if (!c) return fail("so_client_new", SO_ERR_INVALID_ARGUMENT);

    r = so_send_cc_password_email(c, (int32_t)person_id, from, to, subject);
    int rc = 0;
    if (r == SO_OK) {
        printf("C: sent the Customer Centre password e-mail for person %ld via %s (libsuperoffice %s)\n",
               person_id, base_url, so_version());
    } else {
        rc = fail("so_send_cc_password_email", r);
    }
    so_client_free(c);
    return rc;
}
