// What the C++ tests share: the pass/fail runner (the C tests' output: "ok   name",
// "FAIL name", then "N passed, N failed"), a clock, and a tiny HTTP client for the stub
// server's control endpoints ($SO_STUB_URL, see docs/stub-protocol.md). POSIX only.
#ifndef SO_CPP_TEST_HARNESS_HPP
#define SO_CPP_TEST_HARNESS_HPP

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <typeinfo>

#include "superoffice.hpp"

namespace harness {

/// A failed check: the test that threw it fails, the next one runs.
struct Failure {
    std::string what;
};

inline int passed = 0, failed = 0;
inline std::string stub_url;  // "http://127.0.0.1:PORT"
inline int stub_port = 0;

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            std::ostringstream os_;                                                               \
            os_ << __FILE__ << ":" << __LINE__ << ": CHECK failed: " << #cond;                    \
            throw ::harness::Failure{os_.str()};                                                  \
        }                                                                                         \
    } while (0)

/// Runs `expr`, which must throw exactly `Class` (not a subclass of it, not a base) with
/// code `want`; gives a copy of the exception for further checks.
template <class Class, class F>
Class expect_throw(F &&fn, superoffice::ErrorCode want, const char *file, int line, const char *expr) {
    const std::string where = std::string(file) + ":" + std::to_string(line) + ": " + expr;
    try {
        fn();
    } catch (const Class &e) {
        if (typeid(e) != typeid(Class))
            throw Failure{where + " threw " + typeid(e).name() + ", not exactly " + typeid(Class).name()};
        if (e.code() != want)
            throw Failure{where + " gave code " + std::to_string(static_cast<int>(e.code())) + ": " + e.what()};
        return e;
    } catch (const std::exception &e) {
        throw Failure{where + " threw " + typeid(e).name() + " (" + e.what() + "), not " + typeid(Class).name()};
    }
    throw Failure{where + " did not throw " + typeid(Class).name()};
}
#define CHECK_THROWS(Class, want, expr) \
    ::harness::expect_throw<Class>([&] { expr; }, want, __FILE__, __LINE__, #expr)

inline void run(const char *name, const std::function<void()> &fn) {
    try {
        fn();
        passed++;
        std::printf("ok   %s\n", name);
    } catch (const Failure &f) {
        failed++;
        std::printf("FAIL %s\n    %s\n", name, f.what.c_str());
    } catch (const superoffice::Error &e) {
        failed++;
        std::printf("FAIL %s\n    unexpected %s (code %d, HTTP %d): %s\n", name, typeid(e).name(),
                    static_cast<int>(e.code()), e.http_status(), e.what());
    } catch (const std::exception &e) {
        failed++;
        std::printf("FAIL %s\n    unexpected exception: %s\n", name, e.what());
    }
    std::fflush(stdout);
}
#define RUN(fn) ::harness::run(#fn, fn)

inline int summary() {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

inline double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

/// Reads $SO_STUB_URL; false when it does not point at the stub.
inline bool stub_from_env() {
    const char *url = std::getenv("SO_STUB_URL");
    const std::string prefix = "http://127.0.0.1:";
    if (!url || std::string(url).rfind(prefix, 0) != 0) {
        std::fprintf(stderr, "SO_STUB_URL must point at the stub (run through tests/with-stub.sh)\n");
        return false;
    }
    stub_url = url;
    stub_port = std::atoi(url + prefix.size());
    return true;
}

/// GET path on the stub: the answer's body, "" on failure.
inline std::string http_get(const std::string &path) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return "";
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(stub_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        close(s);
        return "";
    }
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(s, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
        close(s);
        return "";
    }
    std::string answer;
    char buf[65536];
    for (;;) {
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0) break;
        answer.append(buf, static_cast<size_t>(n));
    }
    close(s);
    auto body = answer.find("\r\n\r\n");
    return body == std::string::npos ? "" : answer.substr(body + 4);
}

/// The stub's request log under a tenant prefix, as JSON text.
inline std::string stub_log(const std::string &prefix) { return http_get("/_stub/requests?prefix=" + prefix); }

/// How many requests the stub recorded under a tenant prefix; -1 on failure.
inline int stub_count(const std::string &prefix) {
    std::string body = http_get("/_stub/count?prefix=" + prefix);
    auto p = body.find("\"count\":");
    return p == std::string::npos ? -1 : std::atoi(body.c_str() + p + 8);
}

/// A unique tenant path ("/cpp-N-PID-name") and its base URL with directives
/// ("http://127.0.0.1:PORT/cpp-N-PID-name/DIRECTIVES/Cust12345").
struct Tenant {
    std::string prefix;
    std::string base;
    Tenant(const std::string &name, const std::string &directives = "") {
        static int unique = 0;
        prefix = "/cpp-" + std::to_string(++unique) + "-" + std::to_string(getpid()) + "-" + name;
        base = stub_url + prefix + (directives.empty() ? "" : "/" + directives) + "/Cust12345";
    }
};

inline bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

}  // namespace harness

#endif
