/*
 * Finding a person by e-mail address and sending to an address through the C ABI, against
 * the stub server's Person archive ($SO_STUB_URL; docs/stub-protocol.md): the sized call
 * (SO_ERR_BUFFER_TOO_SMALL, *count, the count-only call), the recipient codes, the
 * untrusted answers, and the stub's send count proving what was (not) sent.
 * Built with -fsanitize=address,undefined. Prints "N passed, N failed".
 */
#include "harness.h"

static int g_unique;

/* A client of a fresh tenant with these directives; prefix gets the tenant's prefix. */
static so_client *person_client(char *prefix, size_t plen, const char *name, const char *directives) {
    char base[1024];
    snprintf(prefix, plen, "/cp-%d-%ld-%s", ++g_unique, process_id(), name);
    snprintf(base, sizeof base, "%s%s%s%s/Cust12345", g_stub, prefix, *directives ? "/" : "", directives);
    so_options *o = ticket_options(base, 2000, 5000);
    if (!o) return NULL;
    so_options_set_proxy(o, "");
    return client_of(o);
}

/* The e-mail requests the stub received under a prefix, -1 on failure. */
static int stub_sends(const char *prefix) {
    char path[512];
    snprintf(path, sizeof path, "/_stub/sends?prefix=%s", prefix);
    char *body = http_get(path);
    if (!body) return -1;
    char *p = strstr(body, "\"total\":");
    int n = p ? atoi(p + 8) : -1;
    free(body);
    return n;
}

static void test_find_writes_the_ids_and_the_count(void) {
    char prefix[256];
    so_client *c = person_client(prefix, sizeof prefix, "find", "");
    CHECK(c != NULL);
    int32_t ids[4] = {-1, -1, -1, -1};
    size_t count = 99;
    CHECK_RC(so_find_persons_by_email(c, "Shared@EXAMPLE.com", ids, 4, &count), SO_OK);
    CHECK(count == 2 && ids[0] == 12 && ids[1] == 13 && ids[2] == -1);
    /* A search sends no e-mail. */
    CHECK(so_last_delivery() == SO_DELIVERY_NONE);
    CHECK(strcmp(so_last_error_message(), "") == 0);
    CHECK_RC(so_find_persons_by_email(c, "finn.o'brien@example.com", ids, 4, &count), SO_OK);
    CHECK(count == 1 && ids[0] == 16);
    /* No person is not an error here: the count is 0. */
    count = 99;
    CHECK_RC(so_find_persons_by_email(c, "retired@example.com", ids, 4, &count), SO_OK);
    CHECK(count == 0);
    CHECK(stub_sends(prefix) == 0);
    so_client_free(c);
}

static void test_find_is_a_sized_call(void) {
    char prefix[256];
    so_client *c = person_client(prefix, sizeof prefix, "sized", "");
    CHECK(c != NULL);
    /* The count alone. */
    size_t count = 0;
    CHECK_RC(so_find_persons_by_email(c, "shared@example.com", NULL, 0, &count), SO_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 2);
    CHECK(strstr(so_last_error_message(), "2 persons") != NULL);
    /* Too small: nothing written, the count needed. */
    int32_t ids[2] = {-7, -7};
    count = 0;
    CHECK_RC(so_find_persons_by_email(c, "shared@example.com", ids, 1, &count), SO_ERR_BUFFER_TOO_SMALL);
    CHECK(count == 2 && ids[0] == -7 && ids[1] == -7);
    /* Then large enough. */
    CHECK_RC(so_find_persons_by_email(c, "shared@example.com", ids, count, &count), SO_OK);
    CHECK(count == 2 && ids[0] == 12 && ids[1] == 13);
    /* The count-only call of an address nobody has is SO_OK with 0. */
    CHECK_RC(so_find_persons_by_email(c, "nobody@example.com", NULL, 0, &count), SO_OK);
    CHECK(count == 0);
    /* NULL and bad arguments. */
    CHECK_RC(so_find_persons_by_email(c, "a@example.com", ids, 2, NULL), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_find_persons_by_email(c, "a@example.com", NULL, 2, &count), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_find_persons_by_email(NULL, "a@example.com", ids, 2, &count), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_find_persons_by_email(c, NULL, ids, 2, &count), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_find_persons_by_email(c, "no-at-sign", ids, 2, &count), SO_ERR_INVALID_ARGUMENT);
    CHECK(count == 0);
    CHECK_RC(so_find_persons_by_email(c, "a@b\r\nX: y", ids, 2, &count), SO_ERR_INVALID_ARGUMENT);
    CHECK_RC(so_find_persons_by_email(c, "\xff@example.com", ids, 2, &count), SO_ERR_INVALID_ARGUMENT);
    CHECK(strstr(so_last_error_message(), "UTF-8") != NULL);
    so_client_free(c);
    /* Only the searches that passed the checks reached the stub. */
    CHECK(stub_count(prefix) == 4);
}

static void test_untrusted_answers_fail_the_search(void) {
    const char *directives[] = {"archive=filter_ignored", "archive=no_email"};
    const char *said[] = {"did not apply the e-mail filter", "no e-mail column"};
    for (size_t i = 0; i < 2; i++) {
        char prefix[256];
        so_client *c = person_client(prefix, sizeof prefix, "untrusted", directives[i]);
        CHECK(c != NULL);
        int32_t ids[64];
        size_t count = 5;
        CHECK_RC(so_find_persons_by_email(c, "ann.able@example.com", ids, 64, &count), SO_ERR_IO);
        CHECK(count == 0);
        CHECK(strstr(so_last_error_message(), said[i]) != NULL);
        CHECK(strncmp(so_last_error_message(), "GET http://127.0.0.1:", 21) == 0);
        int32_t person = -1;
        CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "ann.able@example.com", NULL, &person), SO_ERR_IO);
        CHECK(person == 0);
        CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
        CHECK(strstr(so_last_error_message(), "no e-mail was sent") != NULL);
        so_client_free(c);
        CHECK(stub_sends(prefix) == 0);
    }
    /* $jsonSafe ignored and PrimaryKey as a string are read as they are. */
    char prefix[256];
    so_client *c = person_client(prefix, sizeof prefix, "readable", "archive=jsonsafe_ignored/archive=key_string");
    int32_t id = 0;
    size_t count = 0;
    CHECK_RC(so_find_persons_by_email(c, "eve.mixed@example.com", &id, 1, &count), SO_OK);
    CHECK(count == 1 && id == 15);
    so_client_free(c);
}

static void test_send_to_an_address(void) {
    char prefix[256];
    so_client *c = person_client(prefix, sizeof prefix, "send", "");
    CHECK(c != NULL);
    int32_t person = -1;
    CHECK_RC(so_send_cc_password_email_to_address(c, "support@example.com", "IDA@example.com", "Hi", &person), SO_OK);
    CHECK(person == 20);
    CHECK(so_last_delivery() == SO_DELIVERY_ANSWERED);
    CHECK(stub_sends(prefix) == 1);
    char *log = stub_log(prefix);
    CHECK(log != NULL);
    CHECK(strstr(log, "\\\"PersonId\\\":20,\\\"From\\\":\\\"support@example.com\\\",\\\"To\\\":\\\"IDA@example.com\\\"") != NULL);
    free(log);
    /* out_person_id may be NULL. */
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "ann.able@example.com", NULL, NULL), SO_OK);
    CHECK(stub_sends(prefix) == 2);
    so_client_free(c);
}

static void test_no_person_or_several_send_nothing(void) {
    char prefix[256];
    so_client *c = person_client(prefix, sizeof prefix, "codes", "");
    CHECK(c != NULL);
    int32_t person = -1;
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "retired@example.com", NULL, &person), SO_ERR_RECIPIENT_NOT_FOUND);
    CHECK(person == 0);
    CHECK(strstr(so_last_error_message(), "no person has the e-mail address retired@example.com") != NULL);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
    CHECK(so_last_error_code() == SO_ERR_RECIPIENT_NOT_FOUND);
    person = -1;
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "shared@example.com", NULL, &person), SO_ERR_AMBIGUOUS_RECIPIENT);
    CHECK(person == 0);
    CHECK(strstr(so_last_error_message(), "person ids 12, 13") != NULL);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
    CHECK(strcmp(so_result_str(SO_ERR_RECIPIENT_NOT_FOUND), "unknown result code") != 0);
    CHECK(strcmp(so_result_str(SO_ERR_AMBIGUOUS_RECIPIENT), "unknown result code") != 0);
    CHECK(SO_ERR_RECIPIENT_NOT_FOUND == 29 && SO_ERR_AMBIGUOUS_RECIPIENT == 30);
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, NULL, NULL, &person), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_send_cc_password_email_to_address(NULL, NULL, "a@example.com", NULL, &person), SO_ERR_NULL_ARGUMENT);
    CHECK_RC(so_send_cc_password_email_to_address(c, "\xfe", "a@example.com", NULL, &person), SO_ERR_INVALID_ARGUMENT);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
    so_client_free(c);
    CHECK(stub_sends(prefix) == 0);
}

static void test_the_person_id_is_known_before_a_send_that_fails(void) {
    char prefix[256];
    /* The search goes well, the e-mail request's connection drops after it was sent. */
    so_client *c = person_client(prefix, sizeof prefix, "unknown", "drop=after/archive=clean");
    CHECK(c != NULL);
    int32_t person = -1;
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "ann.able@example.com", NULL, &person), SO_ERR_IO);
    CHECK(person == 11);
    CHECK(strstr(so_last_error_message(), "POST ") != NULL);
    CHECK(so_last_delivery() == SO_DELIVERY_UNKNOWN);
    so_client_free(c);
    CHECK(stub_sends(prefix) == 1);
}

static void test_a_search_timeout_is_not_sent(void) {
    char prefix[256], base[1024];
    snprintf(prefix, sizeof prefix, "/cp-%d-%ld-slow", ++g_unique, process_id());
    snprintf(base, sizeof base, "%s%s/delay_ms=3000/Cust12345", g_stub, prefix);
    so_options *o = ticket_options(base, 500, 700);
    CHECK(o != NULL);
    so_options_set_proxy(o, "");
    so_options_set_max_retries(o, 0);
    so_client *c = client_of(o);
    CHECK(c != NULL);
    int32_t person = -1;
    CHECK_RC(so_send_cc_password_email_to_address(c, NULL, "ann.able@example.com", NULL, &person), SO_ERR_TIMEOUT);
    CHECK(person == 0);
    CHECK(so_last_delivery() == SO_DELIVERY_NOT_SENT);
    CHECK(strncmp(so_last_error_message(), "GET ", 4) == 0);
    CHECK(strstr(so_last_error_message(), "no e-mail was sent") != NULL);
    so_client_free(c);
    CHECK(stub_sends(prefix) == 0);
}

int main(void) {
    if (!stub_from_env()) return 1;

    RUN(test_find_writes_the_ids_and_the_count);
    RUN(test_find_is_a_sized_call);
    RUN(test_untrusted_answers_fail_the_search);
    RUN(test_send_to_an_address);
    RUN(test_no_person_or_several_send_nothing);
    RUN(test_the_person_id_is_known_before_a_send_that_fails);
    RUN(test_a_search_timeout_is_not_sent);
    return summary();
}
