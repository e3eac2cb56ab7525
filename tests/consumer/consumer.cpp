// Sends one Customer Centre password e-mail to SO_BASE_URL (the stub in the tests) through
// the C++17 wrapper, as a std::future (a standard library with threads: on mingw-w64 the
// posix thread model). Exit status 0 when sent.
#include <cstdlib>
#include <iostream>

#include "superoffice.hpp"

int main() {
    const char *base_url = std::getenv("SO_BASE_URL");
    if (!base_url || !*base_url) {
        std::cerr << "consumer: set SO_BASE_URL\n";
        return 2;
    }
    try {
        superoffice::Client client(superoffice::Options(base_url).ticket("7T:dGVzdA=="));
        client.send_cc_password_email_async(670, "support@example.com", "kari@example.com", "consumer").get();
        std::cout << "consumer (C++): sent with libsuperoffice " << so_version() << "\n";
        return 0;
    } catch (const superoffice::Error &e) {
        std::cerr << "consumer: " << e.what() << "\n";
        return 1;
    }
}
