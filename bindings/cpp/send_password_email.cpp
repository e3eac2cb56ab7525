// send_password_email (C++): sends a SuperOffice Customer Centre password e-mail through
// libsuperoffice's C++ wrapper (superoffice.hpp) and prints the outcome.
//
// Settings come from the environment, as for the C sample: SO_BASE_URL (required),
// SO_TICKET, SO_BEARER_TOKEN or SO_USERNAME and SO_PASSWORD, SO_APP_TOKEN, SO_LANGUAGE,
// SO_PERSON_ID (default 670), SO_FROM, SO_TO, SO_SUBJECT. Exit status: 0 sent, 1 failed,
// 2 usage.
//
//   c++ -std=c++17 send_password_email.cpp $(pkg-config --cflags --libs superoffice)
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "superoffice.hpp"

static std::optional<std::string> env(const char *name) {
    const char *v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

int main() {
    const auto base_url = env("SO_BASE_URL");
    if (!base_url) {
        std::cerr << "no base URL: set SO_BASE_URL (and SO_TICKET, SO_BEARER_TOKEN or SO_USERNAME/SO_PASSWORD)\n";
        return 2;
    }
    const std::string person = env("SO_PERSON_ID").value_or("670");
    char *end = nullptr;
    const long person_id = std::strtol(person.c_str(), &end, 10);
    if (*end || person_id <= 0 || person_id > 2147483647L) {
        std::cerr << "person id '" << person << "' is not a positive 32-bit number\n";
        return 2;
    }
    if (std::string(superoffice::version()) != SO_VERSION)
        std::cerr << "warning: header " << SO_VERSION << ", library " << superoffice::version() << "\n";

    try {
        superoffice::Options options(*base_url);
        if (auto ticket = env("SO_TICKET")) options.ticket(*ticket);
        else if (auto bearer = env("SO_BEARER_TOKEN")) options.bearer_token(*bearer);
        else if (auto user = env("SO_USERNAME")) options.basic_auth(*user, env("SO_PASSWORD").value_or(""));
        if (auto app_token = env("SO_APP_TOKEN")) options.app_token(*app_token);
        if (auto language = env("SO_LANGUAGE")) options.language(*language);
        const superoffice::Client client(options);

        const auto from = env("SO_FROM"), to = env("SO_TO"), subject = env("SO_SUBJECT");
        client.send_cc_password_email(static_cast<std::int32_t>(person_id), from, to, subject);
        std::cout << "C++: sent the Customer Centre password e-mail for person " << person_id << " via " << *base_url
                  << " (libsuperoffice " << superoffice::version() << ")\n";
        return 0;
    } catch (const superoffice::Error &e) {
        std::cerr << "sending failed: " << superoffice::to_string(e.code()) << " (code " << static_cast<int>(e.code());
        if (e.http_status() != 0) std::cerr << ", HTTP " << e.http_status();
        if (!e.error_type().empty()) std::cerr << ", " << e.error_type();
        std::cerr << ")\n  " << e.what() << "\n";
        return 1;
    }
}
