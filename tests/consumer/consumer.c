/* Sends one Customer Centre password e-mail to SO_BASE_URL (the stub in the tests) with a
 * ticket, through the C ABI; prints the library's version. Exit status 0 when sent. */
#include <stdio.h>
#include <stdlib.h>

#include "superoffice.h"

int main(void) {
    const char *base_url = getenv("SO_BASE_URL");
    if (!base_url || !*base_url) {
        fprintf(stderr, "consumer: set SO_BASE_URL\n");
        return 2;
    }
    so_options *options = so_options_new(base_url);
    if (!options || so_options_set_ticket(options, "7T:dGVzdA==") != SO_OK) {
        fprintf(stderr, "consumer: options: %s\n", so_last_error_message());
        so_options_free(options);
        return 1;
    }
    so_client *client = so_client_new(options);
    so_options_free(options);
    if (!client) {
        fprintf(stderr, "consumer: so_client_new: %s\n", so_last_error_message());
        return 1;
    }
    so_result r = so_send_cc_password_email(client, 670, "support@example.com", "kari@example.com", "consumer");
    if (r != SO_OK) fprintf(stderr, "consumer: send: %s: %s\n", so_result_str(r), so_last_error_message());
    else printf("consumer (C): sent with libsuperoffice %s\n", so_version());
    so_client_free(client);
    return r == SO_OK ? 0 : 1;
}
