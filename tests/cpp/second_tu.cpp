// A second translation unit that includes superoffice.hpp: the program links only when
// every function the header defines is inline (no duplicate symbols), and an exception
// thrown here is caught by its class in test_superoffice.cpp. The header comes first: it
// includes everything it needs.
#include "superoffice.hpp"

#include <string>

// Sends one e-mail through a client made here; throws what the send throws.
void second_tu_send(const std::string &base_url, std::int32_t person_id) {
    superoffice::Client client(superoffice::Options(base_url).ticket("7T:dGVzdA=="));
    client.send_cc_password_email(person_id, "second@example.com", std::nullopt, "from the second unit");
}

const char *second_tu_version() { return superoffice::version(); }
