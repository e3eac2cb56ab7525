// Tests of include/superoffice.hpp against the stub server ($SO_STUB_URL): every method
// of Options, Client, Operation and the free functions; one exception class per error
// family, each produced by the stub (the panic code, which no server can produce, through
// the mapping alone); moves; futures completed, cancelled and destroyed early; 64
// asynchronous sends at once; the client destroyed while sends are outstanding; a second
// translation unit. Built with g++ and clang++ (-std=c++17 -Wall -Wextra -Werror
// -pedantic) under ASan and UBSan by `make test-cpp` (tests/cpp/run.sh). Prints
// "N passed, N failed".
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "harness.hpp"

using namespace std::chrono_literals;
using harness::contains;
using harness::Tenant;
using superoffice::ErrorCode;

void second_tu_send(const std::string &base_url, std::int32_t person_id);
const char *second_tu_version();

namespace {

const char *const kTicket = "7T:dGVzdA==";

superoffice::Options ticketed(const std::string &base, std::chrono::milliseconds total = 5000ms) {
    superoffice::Options o(base);
    o.ticket(kTicket).timeouts(2000ms, total);
    return o;
}

/// Waits until the stub has recorded `n` requests under `prefix` (false after 10 s).
bool stub_reaches(const std::string &prefix, int n) {
    for (int i = 0; i < 1000; i++) {
        if (harness::stub_count(prefix) >= n) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

template <class R>
bool ready(const std::future<R> &f, std::chrono::milliseconds within = 0ms) {
    return f.wait_for(within) == std::future_status::ready;
}

/* ---------- types ---------- */

static_assert(!std::is_copy_constructible_v<superoffice::Options> && !std::is_copy_assignable_v<superoffice::Options>);
static_assert(!std::is_copy_constructible_v<superoffice::Client> && !std::is_copy_assignable_v<superoffice::Client>);
static_assert(!std::is_copy_constructible_v<superoffice::Operation>);
static_assert(std::is_nothrow_move_constructible_v<superoffice::Options> &&
              std::is_nothrow_move_assignable_v<superoffice::Options>);
static_assert(std::is_nothrow_move_constructible_v<superoffice::Client> &&
              std::is_nothrow_move_assignable_v<superoffice::Client>);
static_assert(std::is_nothrow_move_constructible_v<superoffice::Operation> &&
              std::is_nothrow_move_assignable_v<superoffice::Operation>);
static_assert(std::is_base_of_v<std::runtime_error, superoffice::Error>);
static_assert(std::is_base_of_v<superoffice::HttpStatusError, superoffice::NotFoundError>);
static_assert(!std::is_convertible_v<std::string_view, superoffice::Options>, "explicit Options(base_url)");
static_assert(!std::is_convertible_v<const superoffice::Options &, superoffice::Client>, "explicit Client(options)");
static_assert(static_cast<int>(ErrorCode::not_found) == SO_ERR_NOT_FOUND);

/* ---------- free functions ---------- */

void test_version_and_code_texts() {
    CHECK(std::string(superoffice::version()) == SO_VERSION);
    CHECK(std::string(second_tu_version()) == SO_VERSION);
    CHECK(std::string(superoffice::to_string(ErrorCode::not_found)) == so_result_str(SO_ERR_NOT_FOUND));
    CHECK(contains(superoffice::to_string(ErrorCode::not_found), "404"));
    CHECK(std::string(superoffice::to_string(static_cast<ErrorCode>(12345))) == "unknown result code");
}

void test_lookup_tenant_api_url() {
    CHECK(superoffice::lookup_tenant_api_url("Cust12345", harness::stub_url) == harness::stub_url + "/Cust12345/api");
    CHECK(superoffice::lookup_tenant_api_url("CustOM", harness::stub_url) == harness::stub_url + "/CustOM/api");
    auto e = CHECK_THROWS(superoffice::TenantUnavailableError, ErrorCode::tenant_unavailable,
                          superoffice::lookup_tenant_api_url("CustMaint", harness::stub_url));
    CHECK(contains(e.what(), "CustMaint"));
    CHECK_THROWS(superoffice::TenantUnavailableError, ErrorCode::tenant_unavailable,
                 superoffice::lookup_tenant_api_url("CustSusp", harness::stub_url));
    auto nf = CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found,
                           superoffice::lookup_tenant_api_url("CustNobody", harness::stub_url));
    CHECK(nf.http_status() == 404);
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 superoffice::lookup_tenant_api_url(std::string_view("Cust\0x", 6), harness::stub_url));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 superoffice::lookup_tenant_api_url("Cust12345", "not a url"));
}

/* ---------- Options ---------- */

void test_every_setter_reaches_the_request() {
    Tenant t("setters");
    superoffice::Options o(t.base);
    o.basic_auth("tje0", "Tje0")
        .app_token("app-cpp-1")
        .xsrf_token("xsrf-123")
        .language("sv")
        .culture("sv-SE")
        .timezone("Europe/Oslo")
        .select("name,department")
        .timeouts(2000ms, 5000ms)
        .max_retries(0)
        .max_in_flight(4)
        .ca_file("/etc/ssl/certs/ca-certificates.crt")
        .proxy("");
    superoffice::Client(o).send_cc_password_email(670, "support@example.com", "kari@example.com", "Your password");
    std::string log = harness::stub_log(t.prefix);
    CHECK(contains(log, "Basic dGplMDpUamUw"));
    CHECK(contains(log, "app-cpp-1"));
    CHECK(contains(log, "xsrf-123"));
    CHECK(contains(log, "\"sv\""));
    CHECK(contains(log, "\"sv-SE\""));
    CHECK(contains(log, "Europe/Oslo"));
    CHECK(contains(log, "$select=name,department"));
    CHECK(contains(log, "\\\"PersonId\\\":670"));
    CHECK(contains(log, "kari@example.com"));
    CHECK(contains(log, "Your password"));

    // The other schemes replace the one set before; std::nullopt clears a header.
    o.ticket(kTicket).app_token(std::nullopt).language(std::nullopt).ca_file(std::nullopt).proxy(std::nullopt);
    superoffice::Client(o).send_cc_password_email(671);
    o.bearer_token("8A:Cust12345.token").xsrf_token(std::nullopt).culture(std::nullopt).timezone(std::nullopt).select(
        std::nullopt);
    superoffice::Client(o).send_cc_password_email(672);
    CHECK(harness::stub_count(t.prefix) == 3);
    std::string all = harness::stub_log(t.prefix);
    std::string third = all.substr(all.rfind("{\"body\""));  // the last request
    CHECK(contains(all, "SOTicket 7T:dGVzdA=="));
    CHECK(contains(third, "Bearer 8A:Cust12345.token"));
    CHECK(!contains(third, "app-cpp-1") && !contains(third, "xsrf-123") && !contains(third, "sv-SE") &&
          !contains(third, "Europe/Oslo") && !contains(third, "$select"));
    CHECK(contains(third, "\\\"PersonId\\\":672"));
}

void test_proxy_and_timeouts_take_effect() {
    Tenant t("proxy");
    // A proxy nobody listens on: the send goes to it, and cannot connect.
    superoffice::Options o = ticketed(t.base);
    o.max_retries(0).proxy("http://127.0.0.1:1");
    CHECK_THROWS(superoffice::ConnectError, ErrorCode::connect, superoffice::Client(o).send_cc_password_email(670));
    o.proxy("");
    superoffice::Client(o).send_cc_password_email(670);
    CHECK(harness::stub_count(t.prefix) == 1);

    Tenant slow("timeouts", "delay_ms=1500");
    superoffice::Options s = ticketed(slow.base);
    s.timeouts(2000ms, 300ms);
    CHECK_THROWS(superoffice::TimeoutError, ErrorCode::timeout, superoffice::Client(s).send_cc_password_email(670));
    s.timeouts(2000ms, 0ms);  // no limit
    superoffice::Client(s).send_cc_password_email(670);
}

void test_setters_refuse_what_the_library_refuses() {
    auto url = CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, superoffice::Options("not a url"));
    CHECK(url.http_status() == 0 && url.error_type().empty() && std::string(url.what()) != "");
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, superoffice::Options("ftp://127.0.0.1/x"));
    Tenant t("refusals");
    superoffice::Options o = ticketed(t.base);
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.basic_auth("a:b", "pw"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.ticket("bad\r\nX-Injected: 1"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.bearer_token("bad\ntoken"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.app_token("a\rb"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.xsrf_token("a\x01"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.language("sv\r\nX: y"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.culture("sv\n"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.timezone("U\nTC"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.max_retries(11));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.max_in_flight(0));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.max_in_flight(1025));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.ca_file("/nonexistent/ca.pem"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.proxy("not a proxy url"));
    // What C cannot be given: a negative or too long duration, a string with a NUL.
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.timeouts(-1ms, 1000ms));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, o.timeouts(1000ms, 4294967296ms));
    auto nul = CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                            o.ticket(std::string_view("7T:dGVzdA==\0tail", 16)));
    CHECK(contains(nul.what(), "NUL") && contains(nul.what(), "ticket"));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 superoffice::Options(std::string_view("http://127.0.0.1/\0x", 19)));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 o.language(std::optional<std::string_view>(std::string_view("s\0v", 3))));
    // Every refusal left the settings as they were: they still send.
    superoffice::Client(o).send_cc_password_email(670);
    std::string log = harness::stub_log(t.prefix);
    CHECK(contains(log, "SOTicket 7T:dGVzdA==") && !contains(log, "X-Injected") && !contains(log, "tail"));
}

void test_credentials_callback() {
    Tenant t("refresh", "auth=ticket");
    std::atomic<int> calls{0};
    std::optional<superoffice::Client> client;
    {
        superoffice::Options o(t.base);
        o.ticket("expired-ticket").credentials_callback([&calls]() -> std::optional<std::string> {
            calls++;
            return std::string("fresh-cpp-1");
        });
        client.emplace(o);
    }  // the options are gone; the client keeps the callback
    client->send_cc_password_email(670);
    CHECK(calls == 1);
    CHECK(contains(harness::stub_log(t.prefix), "SOTicket fresh-cpp-1"));

    // None, a value too long for the buffer, an exception: the 401 stands.
    const std::vector<superoffice::CredentialsCallback> refusing = {
        [&calls]() -> std::optional<std::string> { calls++; return std::nullopt; },
        [&calls]() -> std::optional<std::string> { calls++; return std::string(SO_CREDENTIALS_BUFFER_LEN + 1, 'x'); },
        [&calls]() -> std::optional<std::string> { calls++; throw std::runtime_error("vault unreachable"); },
    };
    for (const auto &cb : refusing) {
        calls = 0;
        superoffice::Options o(t.base);
        o.ticket("expired-ticket").credentials_callback(cb);
        auto e = CHECK_THROWS(superoffice::UnauthorizedError, ErrorCode::unauthorized,
                              superoffice::Client(o).send_cc_password_email(670));
        CHECK(e.http_status() == 401 && e.error_type() == "UnauthorizedAccessException");
        CHECK(calls == 1);
    }
    // An empty function clears it.
    calls = 0;
    superoffice::Options o(t.base);
    o.ticket("expired-ticket").credentials_callback(refusing[0]).credentials_callback({});
    CHECK_THROWS(superoffice::UnauthorizedError, ErrorCode::unauthorized,
                 superoffice::Client(o).send_cc_password_email(670));
    CHECK(calls == 0);
}

void test_log_callback() {
    Tenant t("log");
    std::mutex m;
    std::vector<std::pair<superoffice::LogLevel, std::string>> lines;
    superoffice::Options o = ticketed(t.base);
    o.log_callback([&](superoffice::LogLevel level, std::string_view message) {
        std::lock_guard<std::mutex> g(m);
        lines.emplace_back(level, std::string(message));
    });
    superoffice::Client c(o);
    c.send_cc_password_email(670);
    CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found, c.send_cc_password_email(99999));
    {
        std::lock_guard<std::mutex> g(m);
        bool info = false, error = false;
        for (const auto &[level, text] : lines) {
            CHECK(!contains(text, kTicket));
            if (level == superoffice::LogLevel::info && contains(text, "POST") && contains(text, t.prefix)) info = true;
            if (level == superoffice::LogLevel::error && contains(text, "99999")) error = true;
        }
        CHECK(info && error);
    }
    // A callback that throws loses its line, not the send; an empty one clears it.
    superoffice::Options thrower = ticketed(t.base);
    thrower.log_callback([](superoffice::LogLevel, std::string_view) { throw std::runtime_error("disk full"); });
    superoffice::Client(thrower).send_cc_password_email(671);
    size_t before = lines.size();
    o.log_callback({});
    superoffice::Client(o).send_cc_password_email(672);
    CHECK(lines.size() == before);
    CHECK(harness::stub_count(t.prefix) == 4);
}

/* ---------- errors ---------- */

void test_an_exception_per_error_family() {
    using namespace superoffice;
    Tenant ok("families");
    Client c(ticketed(ok.base));
    auto arg = CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument, c.send_cc_password_email(0));
    CHECK(contains(arg.what(), "person_id"));
    CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument,
                 c.send_cc_password_email(670, std::string_view("a\0b", 3)));
    CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument, c.send_cc_password_email(670, "\xC3\x28"));

    auto nf = CHECK_THROWS(NotFoundError, ErrorCode::not_found, c.send_cc_password_email(99999));
    CHECK(nf.http_status() == 404 && nf.error_type() == "SoNotFoundException");
    CHECK(contains(nf.what(), "Person id 99999 not found") && contains(nf.what(), ok.prefix));

    struct Case {
        const char *directives;
        std::int32_t status;
        std::function<void(const std::string &)> expect;
    };
    const Case cases[] = {
        {"status=400", 400, [](const std::string &base) {
             auto e = CHECK_THROWS(BadRequestError, ErrorCode::bad_request, Client(ticketed(base)).send_cc_password_email(670));
             CHECK(e.http_status() == 400 && e.error_type() == "SoStubException");
         }},
        {"status=403", 403, [](const std::string &base) {
             CHECK_THROWS(ForbiddenError, ErrorCode::forbidden, Client(ticketed(base)).send_cc_password_email(670));
         }},
        {"status=418", 418, [](const std::string &base) {
             auto e = CHECK_THROWS(HttpStatusError, ErrorCode::http_status, Client(ticketed(base)).send_cc_password_email(670));
             CHECK(e.http_status() == 418);
         }},
        {"status=429", 429, [](const std::string &base) {
             CHECK_THROWS(RateLimitedError, ErrorCode::rate_limited,
                          Client(ticketed(base).max_retries(0)).send_cc_password_email(670));
         }},
        {"status=500", 500, [](const std::string &base) {
             auto e = CHECK_THROWS(ServerError, ErrorCode::server, Client(ticketed(base)).send_cc_password_email(670));
             CHECK(e.http_status() == 500);
         }},
        {"garbage", 0, [](const std::string &base) {
             auto e = CHECK_THROWS(IoError, ErrorCode::io, Client(ticketed(base)).send_cc_password_email(670));
             CHECK(e.http_status() == 0 && e.error_type().empty());
         }},
        {"hang", 0, [](const std::string &base) {
             CHECK_THROWS(TimeoutError, ErrorCode::timeout, Client(ticketed(base, 300ms)).send_cc_password_email(670));
         }},
    };
    for (const Case &k : cases) {
        Tenant t("family", k.directives);
        k.expect(t.base);
    }
    Tenant unauthorized("unauthorized");
    auto e401 = CHECK_THROWS(UnauthorizedError, ErrorCode::unauthorized,
                             Client(Options(unauthorized.base).ticket("wrong")).send_cc_password_email(670));
    CHECK(e401.http_status() == 401 && e401.error_type() == "UnauthorizedAccessException");
    CHECK_THROWS(ConnectError, ErrorCode::connect,
                 Client(Options("http://127.0.0.1:1/Cust12345").ticket(kTicket).max_retries(0)).send_cc_password_email(670));
    Tenant tls("tls");
    std::string https = "https://" + tls.base.substr(std::string("http://").size());
    auto te = CHECK_THROWS(TlsError, ErrorCode::tls, Client(ticketed(https)).send_cc_password_email(670));
    CHECK(contains(te.what(), "TLS"));
    // Every family is a superoffice::Error and a std::runtime_error.
    try {
        c.send_cc_password_email(99999);
        CHECK(false);
    } catch (const std::runtime_error &e) {
        CHECK(dynamic_cast<const HttpStatusError *>(&e) != nullptr);
        CHECK(dynamic_cast<const Error &>(e).code() == ErrorCode::not_found);
    }
}

void test_every_code_maps_to_its_class() {
    using namespace superoffice;
    struct Want {
        ErrorCode code;
        const std::type_info &type;
    };
    const Want table[] = {
        {ErrorCode::null_argument, typeid(ArgumentError)},  {ErrorCode::invalid_argument, typeid(ArgumentError)},
        {ErrorCode::buffer_too_small, typeid(ArgumentError)}, {ErrorCode::connect, typeid(ConnectError)},
        {ErrorCode::tls, typeid(TlsError)},                  {ErrorCode::timeout, typeid(TimeoutError)},
        {ErrorCode::io, typeid(IoError)},                    {ErrorCode::cancelled, typeid(CancelledError)},
        {ErrorCode::http_status, typeid(HttpStatusError)},   {ErrorCode::bad_request, typeid(BadRequestError)},
        {ErrorCode::unauthorized, typeid(UnauthorizedError)}, {ErrorCode::forbidden, typeid(ForbiddenError)},
        {ErrorCode::not_found, typeid(NotFoundError)},       {ErrorCode::rate_limited, typeid(RateLimitedError)},
        {ErrorCode::server, typeid(ServerError)},            {ErrorCode::tenant_unavailable, typeid(TenantUnavailableError)},
        {ErrorCode::credentials, typeid(CredentialsError)},
        {ErrorCode::recipient_not_found, typeid(RecipientNotFoundError)},
        {ErrorCode::ambiguous_recipient, typeid(AmbiguousRecipientError)},
        {ErrorCode::panic, typeid(PanicError)},              {static_cast<ErrorCode>(12345), typeid(Error)},
    };
    for (const Want &w : table) {
        try {
            std::rethrow_exception(detail::make_error(static_cast<std::int32_t>(w.code), "m", 418, "T"));
        } catch (const Error &e) {
            CHECK(typeid(e) == w.type);
            CHECK(e.code() == w.code && e.http_status() == 418 && e.error_type() == "T" && std::string(e.what()) == "m");
        }
    }
    // Without a message, what() is the code's text.
    Error e(ErrorCode::timeout, "");
    CHECK(std::string(e.what()) == to_string(ErrorCode::timeout) && e.http_status() == 0 && e.error_type().empty());
}

/// The e-mail requests the stub received under a prefix (every one, whatever its answer).
int stub_sends(const std::string &prefix) {
    std::string body = harness::http_get("/_stub/sends?prefix=" + prefix);
    auto p = body.find("\"total\":");
    return p == std::string::npos ? -1 : std::atoi(body.c_str() + p + 8);
}

void test_find_person_ids_by_email() {
    Tenant t("find-person");
    superoffice::Client c(ticketed(t.base));
    CHECK((c.find_person_ids_by_email("SHARED@example.com") == std::vector<std::int32_t>{12, 13}));
    CHECK((c.find_person_ids_by_email("finn.o'brien@example.com") == std::vector<std::int32_t>{16}));
    CHECK(c.find_person_ids_by_email("retired@example.com").empty());
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, c.find_person_ids_by_email("no-at-sign"));
    // More persons than the first call has room for: asked again with the count.
    Tenant crowd("find-crowd", "crowd=9");
    superoffice::Client many(ticketed(crowd.base));
    std::vector<std::int32_t> ids = many.find_person_ids_by_email("crowd@example.com");
    CHECK(ids.size() == 9 && ids.front() == 100001 && ids.back() == 100009);
    // An answer the server did not filter is refused, whole.
    Tenant ignored("find-ignored", "archive=filter_ignored");
    superoffice::Client bad(ticketed(ignored.base));
    auto e = CHECK_THROWS(superoffice::IoError, ErrorCode::io, bad.find_person_ids_by_email("ann.able@example.com"));
    CHECK(contains(e.what(), "did not apply the e-mail filter") && contains(e.what(), "GET http://"));
    CHECK(stub_sends(t.prefix) == 0 && stub_sends(crowd.prefix) == 0 && stub_sends(ignored.prefix) == 0);
}

void test_send_cc_password_email_to_address() {
    Tenant t("send-to-address");
    superoffice::Client c(ticketed(t.base));
    CHECK(c.send_cc_password_email_to_address("support@example.com", "ida@example.com", "Hi") == 20);
    CHECK(stub_sends(t.prefix) == 1);
    auto nf = CHECK_THROWS(superoffice::RecipientNotFoundError, ErrorCode::recipient_not_found,
                           c.send_cc_password_email_to_address(std::nullopt, "retired@example.com"));
    CHECK(contains(nf.what(), "no person has the e-mail address retired@example.com"));
    CHECK(nf.delivery() == superoffice::Delivery::not_sent && !nf.may_have_been_sent());
    auto am = CHECK_THROWS(superoffice::AmbiguousRecipientError, ErrorCode::ambiguous_recipient,
                           c.send_cc_password_email_to_address(std::nullopt, "shared@example.com"));
    CHECK(contains(am.what(), "person ids 12, 13"));
    static_assert(std::is_base_of_v<superoffice::RecipientError, superoffice::AmbiguousRecipientError>);
    static_assert(!std::is_base_of_v<superoffice::HttpStatusError, superoffice::RecipientError>);
    Tenant none("send-no-email", "archive=no_email");
    superoffice::Client nc(ticketed(none.base));
    CHECK_THROWS(superoffice::IoError, ErrorCode::io, nc.send_cc_password_email_to_address(std::nullopt, "ann.able@example.com"));
    CHECK(stub_sends(t.prefix) == 1 && stub_sends(none.prefix) == 0);
}

void test_secrets_stay_out_of_messages() {
    Tenant t("secrets", "echo_credentials/status=400");
    superoffice::Options o = ticketed(t.base);
    o.app_token("app-secret-cpp");
    superoffice::Client c(o);
    auto e = CHECK_THROWS(superoffice::BadRequestError, ErrorCode::bad_request, c.send_cc_password_email(670));
    CHECK(contains(e.what(), "received authorization="));  // the server did quote them
    CHECK(!contains(e.what(), kTicket) && !contains(e.what(), "app-secret-cpp") && contains(e.what(), "***"));
    auto f = c.send_cc_password_email_async(670);
    try {
        f.get();
        CHECK(false);
    } catch (const superoffice::BadRequestError &a) {
        CHECK(!contains(a.what(), kTicket) && !contains(a.what(), "app-secret-cpp") && contains(a.what(), "***"));
    }
}

/* ---------- moves ---------- */

void test_moves() {
    using namespace superoffice;
    Tenant t("moves");
    // Options: the handle moves, the moved-from object holds NULL, which the library refuses.
    Options a = ticketed(t.base);
    so_options *raw = a.native_handle();
    Options b(std::move(a));
    CHECK(b.native_handle() == raw && a.native_handle() == nullptr);  // NOLINT(bugprone-use-after-move)
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, a.language("sv"));
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, Client{a});
    Options c("http://127.0.0.1:1/unused");
    c = std::move(b);  // the old settings are freed
    CHECK(c.native_handle() == raw && b.native_handle() == nullptr);

    // Client: the same, and a client moved over another frees (and cancels) the old one.
    Client first(c);
    const so_client *craw = first.native_handle();
    Client second(std::move(first));
    CHECK(second.native_handle() == craw && first.native_handle() == nullptr);
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, first.send_cc_password_email(670));
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, first.send_cc_password_email_async(670));
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, first.send_many({{670, {}, {}, {}}}));
    second.send_cc_password_email(670);

    Tenant hang("moves-hang", "hang");
    Client busy(ticketed(hang.base, 30000ms));
    std::future<void> pending = busy.send_cc_password_email_async(670);
    CHECK(stub_reaches(hang.prefix, 1));
    busy = std::move(second);  // so_client_free on the busy client: its send is cancelled
    CHECK(ready(pending));
    CHECK_THROWS(CancelledError, ErrorCode::cancelled, pending.get());
    busy.send_cc_password_email(671);
    CHECK(harness::stub_count(t.prefix) == 2);


    // A client moved over one whose sends are on the network keeps that client's log and
    // credentials callbacks alive until its sends have ended (their failures are logged).
    {
        Tenant logged("moves-logged", "hang");
        auto lines = std::make_shared<std::atomic<int>>(0);
        Options lo = ticketed(logged.base, 30000ms);
        lo.log_callback([lines](LogLevel, std::string_view) { (*lines)++; })
            .credentials_callback([]() -> std::optional<std::string> { return std::nullopt; });
        std::optional<Options> holder(std::move(lo));
        Client target(*holder);
        holder.reset();  // the client holds the only reference to the callbacks now
        std::vector<std::future<void>> outstanding;
        for (int i = 0; i < 4; i++) outstanding.push_back(target.send_cc_password_email_async(680 + i));
        CHECK(stub_reaches(logged.prefix, 4));
        target = Client(ticketed(t.base));
        for (auto &f : outstanding) CHECK_THROWS(CancelledError, ErrorCode::cancelled, f.get());
        CHECK(*lines >= 4);
        target.send_cc_password_email(673);
    }

    // Operation: default-made and moved-from ones hold nothing.
    Operation none;
    CHECK(!none && none.native_handle() == nullptr);
    CHECK_THROWS(ArgumentError, ErrorCode::null_argument, none.cancel());
    CHECK(none.http_status() == 0 && none.error_message().empty() && none.error_type().empty());
    std::promise<std::exception_ptr> done;
    Operation op = busy.send_cc_password_email_async(99999, std::nullopt, std::nullopt, std::nullopt,
                                                     [&done](std::exception_ptr e) { done.set_value(e); });
    so_operation *oraw = op.native_handle();
    Operation moved(std::move(op));
    CHECK(!op && moved && moved.native_handle() == oraw);
    Operation assigned;
    assigned = std::move(moved);
    CHECK(!moved && assigned.native_handle() == oraw);
    auto f = done.get_future();
    CHECK(ready(f, 10000ms));
    CHECK(f.get() != nullptr);
    CHECK(assigned.http_status() == 404);
}

/* ---------- asynchronous sends ---------- */

void test_callback_overload() {
    Tenant t("callback");
    superoffice::Client c(ticketed(t.base));
    const auto caller = std::this_thread::get_id();
    std::atomic<int> calls{0};
    std::promise<std::pair<std::exception_ptr, bool>> ok_done, nf_done;
    superoffice::Operation ok = c.send_cc_password_email_async(
        670, "support@example.com", "kari@example.com", "Your password", [&](std::exception_ptr e) {
            calls++;
            ok_done.set_value({e, std::this_thread::get_id() != caller});
        });
    superoffice::Operation nf =
        c.send_cc_password_email_async(99999, std::nullopt, std::nullopt, std::nullopt, [&](std::exception_ptr e) {
            calls++;
            nf_done.set_value({e, std::this_thread::get_id() != caller});
        });
    auto okf = ok_done.get_future();
    auto nff = nf_done.get_future();
    CHECK(ready(okf, 10000ms) && ready(nff, 10000ms));
    const auto ok_outcome = okf.get();
    const auto nf_outcome = nff.get();
    const std::exception_ptr nf_error = nf_outcome.first;
    CHECK(ok_outcome.first == nullptr && ok_outcome.second && nf_outcome.second);
    CHECK(nf_error != nullptr);
    CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found, std::rethrow_exception(nf_error));
    // The operation's readers, after its end.
    CHECK(ok.http_status() == 204 && ok.error_message().empty() && ok.error_type().empty());
    CHECK(nf.http_status() == 404 && nf.error_type() == "SoNotFoundException" && contains(nf.error_message(), "99999"));
    nf.cancel();  // after the end: a no-op, the outcome stays
    CHECK(nf.http_status() == 404);
    CHECK(contains(harness::stub_log(t.prefix), "kari@example.com"));

    // A bad argument throws at once and never calls back; so does an empty callback.
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 c.send_cc_password_email_async(0, std::nullopt, std::nullopt, std::nullopt,
                                                [&](std::exception_ptr) { calls++; }));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 c.send_cc_password_email_async(670, std::string_view("a\0b", 3), std::nullopt, std::nullopt,
                                                [&](std::exception_ptr) { calls++; }));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::null_argument,
                 c.send_cc_password_email_async(670, std::nullopt, std::nullopt, std::nullopt,
                                                superoffice::CompletionCallback{}));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, c.send_cc_password_email_async(-5));
    superoffice::Client gone(std::move(c));
    { superoffice::Client end(std::move(gone)); }  // so_client_free: every callback has returned
    CHECK(calls == 2);
    CHECK(harness::stub_count(t.prefix) == 2);
}

void test_futures_completed() {
    Tenant t("future-done");
    superoffice::Client c(ticketed(t.base));
    std::future<void> ok = c.send_cc_password_email_async(670, "support@example.com", "kari@example.com", "Subject");
    std::future<void> nf = c.send_cc_password_email_async(99999);
    CHECK(ready(ok, 10000ms) && ready(nf, 10000ms));
    ok.get();
    auto e = CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found, nf.get());
    CHECK(e.http_status() == 404 && e.error_type() == "SoNotFoundException" && contains(e.what(), "99999"));
    // The overload with an Operation completes the same way.
    superoffice::Operation op;
    std::future<void> with_op = c.send_cc_password_email_async(671, std::nullopt, std::nullopt, std::nullopt, op);
    CHECK(op);
    CHECK(ready(with_op, 10000ms));
    with_op.get();
    CHECK(op.http_status() == 204);
    CHECK(harness::stub_count(t.prefix) == 3);
}

void test_futures_cancelled() {
    Tenant t("future-cancel", "hang");
    superoffice::Options o = ticketed(t.base, 30000ms);
    o.max_in_flight(1);
    superoffice::Client c(o);
    // The first send is on the network (the stub holds it); the second waits for the worker.
    superoffice::Operation on_network, queued;
    std::future<void> first = c.send_cc_password_email_async(670, std::nullopt, std::nullopt, std::nullopt, on_network);
    CHECK(stub_reaches(t.prefix, 1));
    std::future<void> second = c.send_cc_password_email_async(671, std::nullopt, std::nullopt, std::nullopt, queued);
    queued.cancel();
    CHECK(ready(second, 10000ms));
    auto q = CHECK_THROWS(superoffice::CancelledError, ErrorCode::cancelled, second.get());
    CHECK(q.http_status() == 0);
    queued.cancel();  // twice: a no-op
    CHECK(!ready(first));
    on_network.cancel();
    CHECK(ready(first, 10000ms));
    auto n = CHECK_THROWS(superoffice::CancelledError, ErrorCode::cancelled, first.get());
    CHECK(contains(n.what(), "may already"));
    CHECK(on_network.error_message() == n.what());
    CHECK(harness::stub_count(t.prefix) == 1);  // the queued one was never sent
}

void test_futures_destroyed_early() {
    Tenant t("future-drop", "delay_ms=1000");
    std::optional<superoffice::Client> c(std::in_place, ticketed(t.base, 30000ms));
    // A future dropped while its send is on the network: its destructor does not wait; the
    // send goes on and is answered.
    double before = harness::now_ms();
    { std::future<void> dropped = c->send_cc_password_email_async(670); }
    double dropped_after = harness::now_ms() - before;
    CHECK(dropped_after < 500);
    std::printf("     (a future dropped with its send on the network: destroyed in %.2f ms)\n", dropped_after);
    CHECK(stub_reaches(t.prefix, 1));

    // An Operation dropped early cancels its send, without waiting; its completion comes.
    Tenant h("op-drop", "hang");
    superoffice::Client hc(ticketed(h.base, 30000ms));
    std::promise<std::exception_ptr> done;
    {
        superoffice::Operation op = hc.send_cc_password_email_async(
            670, std::nullopt, std::nullopt, std::nullopt, [&done](std::exception_ptr e) { done.set_value(e); });
        CHECK(stub_reaches(h.prefix, 1));
        before = harness::now_ms();
    }
    CHECK(harness::now_ms() - before < 500);
    auto f = done.get_future();
    CHECK(ready(f, 10000ms));
    CHECK_THROWS(superoffice::CancelledError, ErrorCode::cancelled, std::rethrow_exception(f.get()));

    // Futures dropped, then their client destroyed: nothing is left behind (ASan's leak check).
    for (int i = 0; i < 8; i++) (void)hc.send_cc_password_email_async(700 + i);
    c.reset();
}

void test_64_async_sends_at_once() {
    Tenant t("sixty-four", "delay_ms=200");
    superoffice::Options o = ticketed(t.base, 30000ms);
    o.max_in_flight(64);
    superoffice::Client c(o);
    std::vector<std::future<void>> futures;
    double start = harness::now_ms();
    for (int i = 0; i < 64; i++) futures.push_back(c.send_cc_password_email_async(1000 + i));
    int ok = 0;
    for (auto &f : futures) {
        CHECK(ready(f, 20000ms));
        f.get();
        ok++;
    }
    std::printf("     (64 sends to a server answering in 200 ms: %.0f ms in all)\n", harness::now_ms() - start);
    CHECK(ok == 64);
    CHECK(harness::stub_count(t.prefix) == 64);
    std::string log = harness::stub_log(t.prefix);
    for (int i = 0; i < 64; i++) CHECK(contains(log, "\\\"PersonId\\\":" + std::to_string(1000 + i)));
}

void test_client_destroyed_with_sends_outstanding() {
    Tenant t("client-free", "hang");
    superoffice::Options o = ticketed(t.base, 30000ms);
    o.max_in_flight(4);
    std::optional<superoffice::Client> c(std::in_place, o);
    std::vector<std::future<void>> futures;
    for (int i = 0; i < 12; i++) futures.push_back(c->send_cc_password_email_async(670 + i));
    std::atomic<int> calls{0}, cancelled{0};
    std::vector<superoffice::Operation> ops;
    for (int i = 0; i < 4; i++)
        ops.push_back(c->send_cc_password_email_async(800 + i, std::nullopt, std::nullopt, std::nullopt,
                                                      [&](std::exception_ptr e) {
                                                          calls++;
                                                          try {
                                                              std::rethrow_exception(e);
                                                          } catch (const superoffice::CancelledError &) {
                                                              cancelled++;
                                                          } catch (...) {
                                                          }
                                                      }));
    CHECK(stub_reaches(t.prefix, 4));  // 4 on the network, 12 waiting
    c.reset();                          // so_client_free: returns after every completion
    CHECK(calls == 4 && cancelled == 4);
    for (auto &f : futures) {
        CHECK(ready(f));
        CHECK_THROWS(superoffice::CancelledError, ErrorCode::cancelled, f.get());
    }
    // The operations outlive their client.
    for (auto &op : ops) {
        CHECK(op.http_status() == 0 && !op.error_message().empty());
        op.cancel();
    }
    CHECK(harness::stub_count(t.prefix) == 4);
}

/* ---------- batches, threads, two translation units ---------- */

void test_send_many() {
    Tenant t("many");
    superoffice::Client c(ticketed(t.base));
    std::vector<std::pair<size_t, size_t>> progress;
    const auto caller = std::this_thread::get_id();
    bool on_caller = true;
    std::vector<superoffice::BatchResult> results = c.send_many(
        {
            {670, "support@example.com", "kari@example.com", "Your password"},
            {99999, std::nullopt, "gone@example.com", std::nullopt},
            {0, std::nullopt, std::nullopt, std::nullopt},
            {671, std::nullopt, std::nullopt, std::nullopt},
        },
        2, [&](size_t done, size_t total) {
            on_caller = on_caller && std::this_thread::get_id() == caller;
            progress.emplace_back(done, total);
        });
    CHECK(results.size() == 4);
    CHECK(results[0].ok() && results[0].http_status == 204 && results[0].message.empty() && !results[0].error());
    CHECK(results[1].code == ErrorCode::not_found && results[1].http_status == 404 &&
          results[1].error_type == "SoNotFoundException" && contains(results[1].message, "99999"));
    auto nf = CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found, std::rethrow_exception(results[1].error()));
    CHECK(nf.http_status() == 404 && nf.error_type() == "SoNotFoundException");
    CHECK(!results[2].ok() && results[2].http_status == 0);
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, std::rethrow_exception(results[2].error()));
    CHECK(results[3].ok());
    CHECK(progress.size() == 4 && progress.back() == std::make_pair(size_t{4}, size_t{4}) && on_caller);
    CHECK(harness::stub_count(t.prefix) == 3);  // the bad item is not sent

    // Refused batches send nothing and throw.
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, c.send_many({{672, {}, {}, {}}}, 0));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument, c.send_many({{672, {}, {}, {}}}, 65));
    CHECK_THROWS(superoffice::ArgumentError, ErrorCode::invalid_argument,
                 c.send_many({{672, {}, std::string("a\0b", 3), {}}}));
    CHECK(c.send_many({}).empty());
    CHECK(harness::stub_count(t.prefix) == 3);

    // A progress callback that throws: the batch runs to its end, then the exception comes.
    int told = 0;
    try {
        c.send_many({{673, {}, {}, {}}, {674, {}, {}, {}}}, 1, [&](size_t, size_t) {
            told++;
            throw std::logic_error("progress bar broke");
        });
        CHECK(false);
    } catch (const std::logic_error &e) {
        CHECK(std::string(e.what()) == "progress bar broke");
    }
    CHECK(told == 1);
    CHECK(harness::stub_count(t.prefix) == 5);
}

void test_one_client_many_threads() {
    Tenant t("threads");
    const superoffice::Client c(ticketed(t.base));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; i++)
        threads.emplace_back([&c, &failures, i] {
            for (int k = 0; k < 10; k++) {
                try {
                    c.send_cc_password_email(1 + i * 10 + k);
                } catch (const superoffice::Error &) {
                    failures++;
                }
            }
        });
    for (auto &th : threads) th.join();
    CHECK(failures == 0);
    CHECK(harness::stub_count(t.prefix) == 80);
}

void test_two_translation_units() {
    Tenant t("second-tu");
    second_tu_send(t.base, 670);
    auto e = CHECK_THROWS(superoffice::NotFoundError, ErrorCode::not_found, second_tu_send(t.base, 99999));
    CHECK(e.http_status() == 404);
    std::string log = harness::stub_log(t.prefix);
    CHECK(harness::stub_count(t.prefix) == 2 && contains(log, "from the second unit"));
}

}  // namespace

// The test-only partner key of tests/keys (or $SO_KEYS_DIR), as text.
std::string test_key(const char *name) {
    const char *dir = std::getenv("SO_KEYS_DIR");
    std::ifstream in(std::string(dir ? dir : "tests/keys") + "/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void test_system_user_and_credentials_error() {
    using namespace superoffice;
    const std::string key = test_key("partner.pkcs1.pem");
    CHECK(!key.empty());
    const std::string secret = "cpp-client-secret-4711";

    // A key that cannot be read is refused when it is set, quoting none of it.
    Options bad_key(Tenant("badkey").base);
    auto e = CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument,
                          bad_key.system_user("Partner App-8k8Q7DmBgo", "not-a-key-SECRETKEYTEXT", secret));
    CHECK(!contains(e.what(), "SECRETKEYTEXT") && !contains(e.what(), secret));

    // The library signs, logs in once, checks the JWT and sends with the ticket it got.
    Tenant ok("sysuser");
    Options o(ok.base);
    o.system_user("Partner App-8k8Q7DmBgo", key, secret)
        .login_url(harness::stub_url + ok.prefix + "/login")
        .context_identifier("Cust12345")
        .timeouts(1000ms, 5000ms);
    Client c(o);
    c.send_cc_password_email(670, "from@example.com", "to@example.com", "Subject");
    c.send_cc_password_email(670, std::nullopt, std::nullopt, std::nullopt);
    CHECK(harness::stub_count(ok.prefix + "/login/api/PartnerSystemUser/Authenticate") == 1);
    CHECK(harness::stub_count(ok.prefix + "/Cust12345") == 2);

    // The login service refuses: CredentialsError with its message, no e-mail request sent.
    Tenant refused("sysuser-refused", "login=refused");
    const std::string under = refused.prefix + "/login=refused";  // where the directive applies
    Options r(refused.base);
    r.system_user("Partner App-8k8Q7DmBgo", key, secret)
        .login_url(harness::stub_url + under + "/login")
        .context_identifier(std::nullopt)
        .timeouts(1000ms, 5000ms);
    Client rc(r);
    auto ce = CHECK_THROWS(CredentialsError, ErrorCode::credentials, rc.send_cc_password_email(670));
    CHECK(!contains(ce.what(), secret) && !contains(ce.what(), "Partner App-8k8Q7DmBgo"));
    CHECK(harness::stub_count(under + "/Cust12345") == 0);
    CHECK(harness::stub_count(under + "/login/api/PartnerSystemUser/Authenticate") == 1);

    // The OAuth refresh flow's setter takes its three strings (its wire is tested in C).
    Options oauth(ok.base);
    oauth.oauth_refresh("client-id", secret, "refresh-token").login_url(std::nullopt);
}


/// The port of the stub's untrusted TLS listener and how many requests it decrypted.
std::pair<int, long> stub_tls() {
    const std::string json = harness::http_get("/_stub/tls");
    auto number = [&](const std::string &key) {
        const std::size_t at = json.find("\"" + key + "\":");
        return at == std::string::npos ? -1L : std::strtol(json.c_str() + at + key.size() + 3, nullptr, 10);
    };
    return {static_cast<int>(number("port")), number("decrypted")};
}

void test_delivery_of_each_failure() {
    using namespace superoffice;
    using D = Delivery;
    struct Case {
        const char *directives;
        std::int32_t total_ms;
        ErrorCode code;
        D delivery;
        bool may;
    };
    const Case cases[] = {
        {"status=404", 5000, ErrorCode::not_found, D::answered, false},
        {"status=503/retry_after=0", 5000, ErrorCode::server, D::answered, false},
        {"status=500", 5000, ErrorCode::server, D::answered, true},
        {"drop=after", 5000, ErrorCode::io, D::unknown, true},
        {"drop=reset", 5000, ErrorCode::io, D::unknown, true},
        {"hang", 300, ErrorCode::timeout, D::unknown, true},
    };
    for (const Case &k : cases) {
        Tenant t("delivery", k.directives);
        Options o = ticketed(t.base, std::chrono::milliseconds(k.total_ms));
        o.max_retries(0);
        try {
            Client(o).send_cc_password_email(670);
            CHECK(false);
        } catch (const Error &e) {
            if (e.code() != k.code || e.delivery() != k.delivery || e.may_have_been_sent() != k.may)
                std::fprintf(stderr, "    %s: code %d delivery %d: %s\n", k.directives, static_cast<int>(e.code()),
                             static_cast<int>(e.delivery()), e.what());
            CHECK(e.code() == k.code && e.delivery() == k.delivery && e.may_have_been_sent() == k.may);
        }
        CHECK(harness::stub_count(t.prefix) == 1);
    }
    // Not sent: person id 0, a refused port, an untrusted certificate.
    Tenant zero("delivery-zero");
    auto arg = CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument, Client(ticketed(zero.base)).send_cc_password_email(0));
    CHECK(arg.delivery() == D::not_sent && !arg.may_have_been_sent());
    CHECK(harness::stub_count(zero.prefix) == 0);
    const std::string refused = harness::http_get("/_stub/refused_port");
    const std::string port = refused.substr(refused.find(':') + 1, refused.find('}') - refused.find(':') - 1);
    Options ro = ticketed("http://127.0.0.1:" + port + "/Cust1");
    ro.max_retries(0);
    auto ce = CHECK_THROWS(ConnectError, ErrorCode::connect, Client(ro).send_cc_password_email(670));
    CHECK(ce.delivery() == D::not_sent && contains(ce.what(), "it was not sent"));
    const std::pair<int, long> tls = stub_tls();
    const int tls_port = tls.first;
    const long decrypted = tls.second;
    CHECK(tls_port > 0);
    auto te = CHECK_THROWS(TlsError, ErrorCode::tls,
                           Client(ticketed("https://127.0.0.1:" + std::to_string(tls_port) + "/Cust1")).send_cc_password_email(670));
    CHECK(te.delivery() == D::not_sent && contains(te.what(), "not trusted"));
    CHECK(stub_tls().second == decrypted);  // the listener decrypted nothing
}

void test_delivery_of_batches_and_cancelled_sends() {
    using namespace superoffice;
    Tenant t("delivery-many");
    Client c(ticketed(t.base));
    auto results = c.send_many({{670, {}, {}, {}}, {0, {}, {}, {}}, {99999, {}, {}, {}}});
    CHECK(results[0].delivery == Delivery::answered && results[0].may_have_been_sent());
    CHECK(results[1].delivery == Delivery::not_sent && !results[1].may_have_been_sent());
    CHECK(results[2].delivery == Delivery::answered && !results[2].may_have_been_sent());
    auto rethrown = CHECK_THROWS(ArgumentError, ErrorCode::invalid_argument, std::rethrow_exception(results[1].error()));
    CHECK(rethrown.delivery() == Delivery::not_sent);

    // Cancelled before it started: not sent; on the network: unknown.
    Tenant h("delivery-cancel", "hang");
    Options o = ticketed(h.base, 30000ms);
    o.max_in_flight(1);
    Client hc(o);
    Operation on_network, queued;
    std::future<void> first = hc.send_cc_password_email_async(670, std::nullopt, std::nullopt, std::nullopt, on_network);
    CHECK(stub_reaches(h.prefix, 1));
    std::future<void> second = hc.send_cc_password_email_async(671, std::nullopt, std::nullopt, std::nullopt, queued);
    CHECK(queued.delivery() == Delivery::none);  // still waiting
    queued.cancel();
    CHECK(ready(second, 10000ms));
    auto q = CHECK_THROWS(CancelledError, ErrorCode::cancelled, second.get());
    CHECK(q.delivery() == Delivery::not_sent && queued.delivery() == Delivery::not_sent);
    on_network.cancel();
    CHECK(ready(first, 10000ms));
    auto n = CHECK_THROWS(CancelledError, ErrorCode::cancelled, first.get());
    CHECK(n.delivery() == Delivery::unknown && n.may_have_been_sent() && on_network.delivery() == Delivery::unknown);
    CHECK(harness::stub_count(h.prefix) == 1);
}


void test_shared_credentials_authenticate_and_forget() {
    using namespace superoffice;
    const std::string key = test_key("partner.xml");
    CHECK(!key.empty());
    const std::string secret = "cpp-client-secret-4712";
    Tenant t("shared");
    const std::string logins = t.prefix + "/login/api/PartnerSystemUser/Authenticate";
    auto options = [&](bool shared) {
        Options o(t.base);
        o.system_user("Partner App-8k8Q7DmBgo", key, secret)
            .shared_credentials(shared)
            .login_url(harness::stub_url + t.prefix + "/login")
            .context_identifier("Cust12345")
            .timeouts(1000ms, 5000ms);
        return o;
    };
    // Clients in turn share one login; authenticate() sends no e-mail.
    for (int i = 0; i < 5; i++) {
        Client c(options(true));
        c.authenticate();
    }
    CHECK(harness::stub_count(logins) == 1);
    CHECK(harness::stub_count(t.prefix + "/Cust12345") == 0);
    // forget_all_credentials(): the next client logs in again.
    forget_all_credentials();
    {
        Client c(options(true));
        c.send_cc_password_email(670);
    }
    CHECK(harness::stub_count(logins) == 2);
    // shared_credentials(false): a login per client.
    for (int i = 0; i < 2; i++) {
        Client c(options(false));
        c.authenticate();
    }
    CHECK(harness::stub_count(logins) == 4);

    // The clock named: CredentialsError from authenticate().
    Tenant clock("clock", "clock_min=20");
    const std::string under = clock.prefix + "/clock_min=20";
    Options o(clock.base);
    o.system_user("Partner App-8k8Q7DmBgo", key, secret)
        .login_url(harness::stub_url + under + "/login")
        .context_identifier("Cust12345")
        .timeouts(1000ms, 5000ms);
    Client cc(o);
    auto ce = CHECK_THROWS(CredentialsError, ErrorCode::credentials, cc.authenticate());
    CHECK(contains(ce.what(), "this machine's clock is 20 minutes behind the login service's"));

    // A ticket given: nothing to obtain, nothing sent.
    Tenant given("given");
    Options g(given.base);
    g.ticket("7T:dGVzdA==");
    Client gc(g);
    gc.authenticate();
    CHECK(harness::stub_count(given.prefix) == 0);
}

int main() {
    if (!harness::stub_from_env()) {
        std::printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_version_and_code_texts);
    RUN(test_lookup_tenant_api_url);
    RUN(test_every_setter_reaches_the_request);
    RUN(test_proxy_and_timeouts_take_effect);
    RUN(test_setters_refuse_what_the_library_refuses);
    RUN(test_credentials_callback);
    RUN(test_log_callback);
    RUN(test_an_exception_per_error_family);
    RUN(test_every_code_maps_to_its_class);
    RUN(test_secrets_stay_out_of_messages);
    RUN(test_find_person_ids_by_email);
    RUN(test_send_cc_password_email_to_address);
    RUN(test_moves);
    RUN(test_callback_overload);
    RUN(test_futures_completed);
    RUN(test_futures_cancelled);
    RUN(test_futures_destroyed_early);
    RUN(test_64_async_sends_at_once);
    RUN(test_client_destroyed_with_sends_outstanding);
    RUN(test_send_many);
    RUN(test_one_client_many_threads);
    RUN(test_two_translation_units);
    RUN(test_system_user_and_credentials_error);
    RUN(test_delivery_of_each_failure);
    RUN(test_delivery_of_batches_and_cancelled_sends);
    RUN(test_shared_credentials_authenticate_and_forget);
    return harness::summary();
}
