/*
 * superoffice.hpp: a header-only C++17 wrapper over superoffice.h, the C ABI of
 * superoffice-ffi (a native client for the SuperOffice CRM WebAPI).
 *
 * It adds C++ idioms and nothing else: every rule (what a valid URL, person id or header
 * value is, retries, timeouts, secrets hidden from messages) stays in the library, and
 * the C reference manual (superoffice.h) stays the reference for what each call does.
 *
 * - Handles are RAII: superoffice::Options, superoffice::Client and superoffice::Operation
 *   own an so_options, so_client and so_operation (std::unique_ptr with the C _free
 *   function as deleter); they are movable and not copyable. A moved-from object holds
 *   NULL, which the library refuses (superoffice::ArgumentError, code null_argument).
 * - Failures are exceptions derived from superoffice::Error (a std::runtime_error), built
 *   in one place (detail::make_error) from the library's code, message, HTTP status and
 *   ErrorType; one class per family of codes.
 * - Strings come as std::string_view (optional ones as std::optional<std::string_view>,
 *   std::nullopt being C's NULL). They are copied to NUL-terminated strings for the call;
 *   a string containing a NUL character cannot be passed to C and gives ArgumentError
 *   (code invalid_argument) before any call.
 * - Threads: an Options is used by one thread at a time; a Client is safe to share (its
 *   send methods are const), as the C client is.
 *
 *   #include "superoffice.hpp"
 *   superoffice::Client client(superoffice::Options("https://sod.superoffice.com/Cust12345")
 *                                  .ticket("7T:...").app_token("app-secret").language("sv"));
 *   try {
 *       client.send_cc_password_email(670, "support@example.com", "kari@example.com", "Your password");
 *   } catch (const superoffice::NotFoundError& e) { ... }
 *
 * Link with -lsuperoffice (pkg-config superoffice); compile with -std=c++17 or later.
 */
#ifndef SUPEROFFICE_HPP
#define SUPEROFFICE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "superoffice.h"

/* SUPEROFFICE_HAS_STD_FUTURE: 1 when the standard library has threads, and with them
 * std::future and std::promise; 0 when it has none (GCC's win32 thread model, as Debian's
 * default x86_64-w64-mingw32-g++ has it, or a libc++ built without threads). Told by the
 * library's own feature macros, not by the compiler's name; define it to 0 or 1 before
 * including this header to decide yourself. Without it the future-returning
 * send_cc_password_email_async members are left out (the callback one stays), and a call
 * of one fails to compile with a message naming the posix thread model. */
#ifndef SUPEROFFICE_HAS_STD_FUTURE
#if defined(__GLIBCXX__) && !defined(_GLIBCXX_HAS_GTHREADS)
#define SUPEROFFICE_HAS_STD_FUTURE 0
#elif defined(_LIBCPP_VERSION) && (defined(_LIBCPP_HAS_NO_THREADS) || (defined(_LIBCPP_HAS_THREADS) && !_LIBCPP_HAS_THREADS))
#define SUPEROFFICE_HAS_STD_FUTURE 0
#else
#define SUPEROFFICE_HAS_STD_FUTURE 1
#endif
#endif

namespace superoffice {

/* ---------------------------------------------------------------------------------------
 * Codes and errors
 * ------------------------------------------------------------------------------------- */

/// The `so_result` codes, each defined as its C value (tests/contract.rs checks that every
/// code of the header is here).
enum class ErrorCode : std::int32_t {
    ok = SO_OK,
    null_argument = SO_ERR_NULL_ARGUMENT,
    invalid_argument = SO_ERR_INVALID_ARGUMENT,
    buffer_too_small = SO_ERR_BUFFER_TOO_SMALL,
    connect = SO_ERR_CONNECT,
    tls = SO_ERR_TLS,
    timeout = SO_ERR_TIMEOUT,
    io = SO_ERR_IO,
    cancelled = SO_ERR_CANCELLED,
    http_status = SO_ERR_HTTP_STATUS,
    bad_request = SO_ERR_BAD_REQUEST,
    unauthorized = SO_ERR_UNAUTHORIZED,
    forbidden = SO_ERR_FORBIDDEN,
    not_found = SO_ERR_NOT_FOUND,
    rate_limited = SO_ERR_RATE_LIMITED,
    server = SO_ERR_SERVER,
    tenant_unavailable = SO_ERR_TENANT_UNAVAILABLE,
    credentials = SO_ERR_CREDENTIALS,
    recipient_not_found = SO_ERR_RECIPIENT_NOT_FOUND,
    ambiguous_recipient = SO_ERR_AMBIGUOUS_RECIPIENT,
    panic = SO_ERR_PANIC,
};

/// Whether the server may have a send's request (so_delivery), each defined as its C value:
/// not_sent (provably never had it: safe to send again), unknown (it may have been
/// processed), answered (an HTTP status), none (the failing call sends no e-mail). Which
/// failure is which is the library's table (docs/c-api.md, "Delivery").
enum class Delivery : std::int32_t {
    none = SO_DELIVERY_NONE,
    not_sent = SO_DELIVERY_NOT_SENT,
    unknown = SO_DELIVERY_UNKNOWN,
    answered = SO_DELIVERY_ANSWERED,
};

/// The library's rule (so_may_have_been_sent): whether a send that ended with `delivery`
/// and `http_status` may have e-mailed the customer (true for unknown, an answered 2xx, and
/// an answered 5xx other than 503; false for not_sent, none, 3xx, 4xx, 429 and 503).
inline bool may_have_been_sent(Delivery delivery, std::int32_t http_status) noexcept {
    return so_may_have_been_sent(static_cast<std::int32_t>(delivery), http_status) != 0;
}

/// The library's static English text for a code (so_result_str), e.g. "not found (404)".
inline const char *to_string(ErrorCode code) noexcept {
    return so_result_str(static_cast<std::int32_t>(code));
}

/// The version of the library this program loaded (so_version), e.g. "0.1.0"; compare it
/// with SO_VERSION, the version of the header it was compiled with.
inline const char *version() noexcept { return so_version(); }

/// A failure reported by the library: what() is its message (what failed, for which URL,
/// what the server said; never a configured secret), code() its so_result code,
/// http_status() the HTTP status answered (0 when there was no HTTP answer), error_type()
/// the server's ErrorType (e.g. "SoNotFoundException", "" when none), delivery() whether
/// the server may have the e-mail request (Delivery::not_sent: safe to send again), and
/// may_have_been_sent() the library's rule on it.
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string &message, std::int32_t http_status = 0, std::string error_type = {},
          Delivery delivery = Delivery::none)
        : std::runtime_error(message.empty() ? std::string(to_string(code)) : message),
          code_(code),
          http_status_(http_status),
          error_type_(std::move(error_type)),
          delivery_(delivery) {}

    ErrorCode code() const noexcept { return code_; }
    std::int32_t http_status() const noexcept { return http_status_; }
    const std::string &error_type() const noexcept { return error_type_; }
    Delivery delivery() const noexcept { return delivery_; }
    bool may_have_been_sent() const noexcept { return superoffice::may_have_been_sent(delivery_, http_status_); }

private:
    ErrorCode code_;
    std::int32_t http_status_;
    std::string error_type_;
    Delivery delivery_;
};

/// null_argument, invalid_argument (a malformed URL, a control character in a header
/// value, a value out of range, a NUL character in a string), buffer_too_small.
class ArgumentError : public Error { using Error::Error; };
/// connect: name resolution failed, connection refused or unreachable.
class ConnectError : public Error { using Error::Error; };
/// tls: TLS handshake or certificate verification failed.
class TlsError : public Error { using Error::Error; };
/// timeout: a connect or total timeout expired.
class TimeoutError : public Error { using Error::Error; };
/// io: the connection broke, or the answer was not valid HTTP.
class IoError : public Error { using Error::Error; };
/// cancelled: an asynchronous send was cancelled (Operation::cancel, the Operation
/// destroyed before the end, or the Client destroyed); the message says whether the
/// server may already have received the request.
class CancelledError : public Error { using Error::Error; };
/// http_status: an answer outside 2xx (3xx included); the subclasses below are the
/// statuses the library names.
class HttpStatusError : public Error { using Error::Error; };
/// bad_request: 400.
class BadRequestError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// unauthorized: 401.
class UnauthorizedError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// forbidden: 403.
class ForbiddenError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// not_found: 404.
class NotFoundError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// rate_limited: 429, after the retries allowed.
class RateLimitedError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// server: 5xx.
class ServerError : public HttpStatusError { using HttpStatusError::HttpStatusError; };
/// tenant_unavailable: the online tenant is not running (maintenance, suspended).
class TenantUnavailableError : public Error { using Error::Error; };
/// credentials: no credential could be obtained (the login service refused or could not be
/// reached, or its token failed a check); no e-mail request was sent. The message says
/// which step failed.
class CredentialsError : public Error { using Error::Error; };
/// A send to an e-mail address found no single person with it, so nothing was sent: a
/// family apart from the HTTP errors (the person search answered and was checked).
class RecipientError : public Error { using Error::Error; };
/// recipient_not_found: no person has the e-mail address.
class RecipientNotFoundError : public RecipientError { using RecipientError::RecipientError; };
/// ambiguous_recipient: several persons have the e-mail address (the message lists up to
/// 10 of their ids), or more than 50 persons have an address searched for.
class AmbiguousRecipientError : public RecipientError { using RecipientError::RecipientError; };
/// panic: a bug inside the library, caught at its boundary.
class PanicError : public Error { using Error::Error; };

namespace detail {

/// The one place where a code becomes an exception: the class of its family, or Error
/// itself for a code this header does not know.
inline std::exception_ptr make_error(std::int32_t code, std::string message, std::int32_t http_status,
                                     std::string error_type, Delivery delivery = Delivery::none) {
    const auto c = static_cast<ErrorCode>(code);
    switch (c) {
#define SUPEROFFICE_ERROR_CASE_(name, cls) \
    case ErrorCode::name:                 \
        return std::make_exception_ptr(cls(c, message, http_status, std::move(error_type), delivery))
        SUPEROFFICE_ERROR_CASE_(null_argument, ArgumentError);
        SUPEROFFICE_ERROR_CASE_(invalid_argument, ArgumentError);
        SUPEROFFICE_ERROR_CASE_(buffer_too_small, ArgumentError);
        SUPEROFFICE_ERROR_CASE_(connect, ConnectError);
        SUPEROFFICE_ERROR_CASE_(tls, TlsError);
        SUPEROFFICE_ERROR_CASE_(timeout, TimeoutError);
        SUPEROFFICE_ERROR_CASE_(io, IoError);
        SUPEROFFICE_ERROR_CASE_(cancelled, CancelledError);
        SUPEROFFICE_ERROR_CASE_(http_status, HttpStatusError);
        SUPEROFFICE_ERROR_CASE_(bad_request, BadRequestError);
        SUPEROFFICE_ERROR_CASE_(unauthorized, UnauthorizedError);
        SUPEROFFICE_ERROR_CASE_(forbidden, ForbiddenError);
        SUPEROFFICE_ERROR_CASE_(not_found, NotFoundError);
        SUPEROFFICE_ERROR_CASE_(rate_limited, RateLimitedError);
        SUPEROFFICE_ERROR_CASE_(server, ServerError);
        SUPEROFFICE_ERROR_CASE_(tenant_unavailable, TenantUnavailableError);
        SUPEROFFICE_ERROR_CASE_(credentials, CredentialsError);
        SUPEROFFICE_ERROR_CASE_(recipient_not_found, RecipientNotFoundError);
        SUPEROFFICE_ERROR_CASE_(ambiguous_recipient, AmbiguousRecipientError);
        SUPEROFFICE_ERROR_CASE_(panic, PanicError);
#undef SUPEROFFICE_ERROR_CASE_
    case ErrorCode::ok:
        break;
    }
    return std::make_exception_ptr(Error(c, message, http_status, std::move(error_type), delivery));
}

/// Throws this thread's last error, which the failed call `code` has just set.
[[noreturn]] inline void throw_last_error(std::int32_t code) {
    std::rethrow_exception(make_error(code, so_last_error_message(), so_last_error_http_status(), so_last_error_type(),
                                      static_cast<Delivery>(so_last_delivery())));
}

/// Throws unless `code` is SO_OK.
inline void check(so_result code) {
    if (code != SO_OK) throw_last_error(code);
}

[[noreturn]] inline void throw_argument(const char *what, const char *why) {
    throw ArgumentError(ErrorCode::invalid_argument, std::string(what) + ": " + why);
}

/// A C function's `_free` as a std::unique_ptr deleter.
template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T *p) const noexcept {
        Free(p);
    }
};

/// Arguments as C takes them; each holder lives until the end of the call's full expression.
struct CString {
    std::string value;
    const char *get() const noexcept { return value.c_str(); }
};
struct OptionalCString {
    std::optional<std::string> value;
    const char *get() const noexcept { return value ? value->c_str() : nullptr; }
};
template <class T>
struct Plain {
    T value;
    T get() const noexcept { return value; }
};

inline CString hold(std::string_view s, const char *what) {
    if (s.find('\0') != std::string_view::npos) throw_argument(what, "a string must not contain a NUL character");
    return CString{std::string(s)};
}
inline OptionalCString hold(const std::optional<std::string_view> &s, const char *what) {
    if (!s) return OptionalCString{};
    return OptionalCString{hold(*s, what).value};
}
inline Plain<std::uint32_t> hold(std::uint32_t n, const char *) { return {n}; }
/// Milliseconds as C's uint32_t: 0 to 4294967295.
inline Plain<std::uint32_t> hold(std::chrono::milliseconds ms, const char *what) {
    if (ms.count() < 0 || ms.count() > static_cast<long long>(std::numeric_limits<std::uint32_t>::max()))
        throw_argument(what, "a duration must be between 0 and 4294967295 ms");
    return {static_cast<std::uint32_t>(ms.count())};
}

}  // namespace detail

/* ---------------------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------------------- */

/// Log levels of the log callback (SO_LOG_*).
enum class LogLevel : std::int32_t {
    error = SO_LOG_ERROR,
    warn = SO_LOG_WARN,
    info = SO_LOG_INFO,
    debug = SO_LOG_DEBUG,
};

/// Asked for a fresh ticket or access token after a 401 (see
/// so_options_set_credentials_callback); std::nullopt or "" when there is none. A value
/// longer than SO_CREDENTIALS_BUFFER_LEN bytes, or an exception, counts as none.
using CredentialsCallback = std::function<std::optional<std::string>()>;
/// Receives one log line (see so_options_set_log_callback); `message` is valid during the
/// call only. An exception it throws drops the line.
using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

namespace detail {
inline std::int32_t credentials_trampoline(void *userdata, char *buffer, std::size_t buffer_len) noexcept {
    try {
        std::optional<std::string> token = (*static_cast<const CredentialsCallback *>(userdata))();
        if (!token || token->empty() || token->size() > buffer_len ||
            token->size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
            return 0;
        std::memcpy(buffer, token->data(), token->size());
        return static_cast<std::int32_t>(token->size());
    } catch (...) {
        return 0;
    }
}
inline void log_trampoline(void *userdata, std::int32_t level, const char *message) noexcept {
    try {
        (*static_cast<const LogCallback *>(userdata))(static_cast<LogLevel>(level), message);
    } catch (...) {
    }
}
}  // namespace detail

/// A client's settings (so_options): one chained method per so_options_set_*, each
/// throwing the library's refusal at once. Build it in place or as a named object:
///
///   superoffice::Client c(superoffice::Options(url).ticket(t).language("sv"));
///   superoffice::Options o(url); o.bearer_token(token).max_retries(0);
///
/// (The methods return Options&, so `auto o = Options(url).ticket(t);` does not compile:
/// Options cannot be copied.)
class Options {
public:
    /// so_options_new: the installation or tenant URL, e.g.
    /// "https://sod.superoffice.com/Cust12345". Throws ArgumentError when it is malformed.
    explicit Options(std::string_view base_url) {
        handle_.reset(so_options_new(detail::hold(base_url, "Options").get()));
        if (!handle_) detail::throw_last_error(so_last_error_code());
    }

    /// Authorization: Basic base64(username:password); replaces any other scheme.
    Options &basic_auth(std::string_view username, std::string_view password) {
        return set("basic_auth", so_options_set_basic_auth, username, password);
    }
    /// Authorization: SOTicket <ticket>; replaces any other scheme.
    Options &ticket(std::string_view ticket) { return set("ticket", so_options_set_ticket, ticket); }
    /// Authorization: Bearer <access_token>; replaces any other scheme.
    Options &bearer_token(std::string_view access_token) {
        return set("bearer_token", so_options_set_bearer_token, access_token);
    }
    /// SuperOffice Online system user: the library signs, exchanges, validates and renews
    /// the ticket (so_options_set_system_user). private_key: PEM PKCS#1, PEM PKCS#8 or .NET
    /// RSAKeyValue XML, read now (ArgumentError when it cannot be read). Also sets the app
    /// token to client_secret; replaces any other scheme.
    Options &system_user(std::string_view system_user_token, std::string_view private_key,
                         std::string_view client_secret) {
        return set("system_user", so_options_set_system_user, system_user_token, private_key, client_secret);
    }
    /// OAuth 2.0 refresh token flow (so_options_set_oauth_refresh); replaces any other scheme.
    Options &oauth_refresh(std::string_view client_id, std::string_view client_secret,
                           std::string_view refresh_token) {
        return set("oauth_refresh", so_options_set_oauth_refresh, client_id, client_secret, refresh_token);
    }
    /// SuperOffice's login service, e.g. "https://sod.superoffice.com/login"; std::nullopt:
    /// derived from the base URL's host.
    Options &login_url(std::optional<std::string_view> url) {
        return set("login_url", so_options_set_login_url, url);
    }
    /// Whether a ticket or token from the login service is shared with this process's other
    /// clients of the same identity (true, the default: one login for all of them, kept after
    /// the clients are gone until refused, expired or forget_all_credentials()), or kept by
    /// the client alone (false). so_options_set_shared_credentials.
    Options &shared_credentials(bool shared) {
        detail::check(so_options_set_shared_credentials(handle_.get(), shared ? 1 : 0));
        return *this;
    }
    /// The tenant, e.g. "Cust12345"; std::nullopt: the base URL's first path segment.
    Options &context_identifier(std::optional<std::string_view> context_identifier) {
        return set("context_identifier", so_options_set_context_identifier, context_identifier);
    }
    /// SO-AppToken; std::nullopt clears it.
    Options &app_token(std::optional<std::string_view> app_token) {
        return set("app_token", so_options_set_app_token, app_token);
    }
    /// X-XSRF-TOKEN, beside any scheme; std::nullopt clears it.
    Options &xsrf_token(std::optional<std::string_view> xsrf_token) {
        return set("xsrf_token", so_options_set_xsrf_token, xsrf_token);
    }
    /// Accept-Language and SO-Language (e.g. "sv"); std::nullopt clears them.
    Options &language(std::optional<std::string_view> language) {
        return set("language", so_options_set_language, language);
    }
    /// SO-Culture (e.g. "sv-SE"); std::nullopt clears it.
    Options &culture(std::optional<std::string_view> culture) {
        return set("culture", so_options_set_culture, culture);
    }
    /// SO-TimeZone (e.g. "UTC"); std::nullopt clears it.
    Options &timezone(std::optional<std::string_view> timezone) {
        return set("timezone", so_options_set_timezone, timezone);
    }
    /// ?$select=...; std::nullopt clears it.
    Options &select(std::optional<std::string_view> select) {
        return set("select", so_options_set_select, select);
    }
    /// Connect and total timeouts (so_options_set_timeout_ms); 0 means no limit.
    Options &timeouts(std::chrono::milliseconds connect, std::chrono::milliseconds total) {
        return set("timeouts", so_options_set_timeout_ms, connect, total);
    }
    /// How many times a request the server provably did not process is sent again (0 to 10).
    Options &max_retries(std::uint32_t n) { return set("max_retries", so_options_set_max_retries, n); }
    /// How many asynchronous sends of one client are on the network at once (1 to 1024).
    Options &max_in_flight(std::uint32_t n) { return set("max_in_flight", so_options_set_max_in_flight, n); }
    /// PEM file of extra certificate authorities, read now; std::nullopt clears it.
    Options &ca_file(std::optional<std::string_view> pem_path) {
        return set("ca_file", so_options_set_ca_file, pem_path);
    }
    /// The proxy URL; "" for none; std::nullopt for the *_PROXY environment variables.
    Options &proxy(std::optional<std::string_view> proxy_url) {
        return set("proxy", so_options_set_proxy, proxy_url);
    }

    /// Called for a fresh ticket or token after a 401 (so_options_set_credentials_callback),
    /// from any thread that sends; an empty function clears it. Clients made from these
    /// options keep their own reference to it.
    Options &credentials_callback(CredentialsCallback callback) {
        auto held = callback ? std::make_shared<const CredentialsCallback>(std::move(callback)) : nullptr;
        detail::check(so_options_set_credentials_callback(
            handle_.get(), held ? detail::credentials_trampoline : nullptr, const_cast<CredentialsCallback *>(held.get())));
        credentials_ = std::move(held);
        return *this;
    }
    /// Receives the log lines of clients made from these options (so_options_set_log_callback),
    /// on the thread that sends; an empty function clears it.
    Options &log_callback(LogCallback callback) {
        auto held = callback ? std::make_shared<const LogCallback>(std::move(callback)) : nullptr;
        detail::check(so_options_set_log_callback(handle_.get(), held ? detail::log_trampoline : nullptr,
                                                  const_cast<LogCallback *>(held.get())));
        log_ = std::move(held);
        return *this;
    }

    /// The so_options, still owned by this object.
    so_options *native_handle() const noexcept { return handle_.get(); }

private:
    friend class Client;

    /// One so_options_set_* call: the arguments converted for C, the code checked.
    template <class F, class... A>
    Options &set(const char *what, F setter, const A &...args) {
        detail::check(setter(handle_.get(), detail::hold(args, what).get()...));
        return *this;
    }

    std::unique_ptr<so_options, detail::Deleter<so_options_free>> handle_;
    std::shared_ptr<const CredentialsCallback> credentials_;
    std::shared_ptr<const LogCallback> log_;
};

/* ---------------------------------------------------------------------------------------
 * Operations, batches, the client
 * ------------------------------------------------------------------------------------- */

/// Called once when an asynchronous send has ended, on a thread of the library: a null
/// std::exception_ptr on success, else the error (std::rethrow_exception it, or catch it
/// by class). It must not throw: an exception escaping it calls std::terminate, as one
/// escaping a std::thread does. It must not destroy the Client that started the send.
using CompletionCallback = std::function<void(std::exception_ptr error)>;
/// Told after each item of a batch, on the calling thread: `done` of `total`.
using ProgressCallback = std::function<void(std::size_t done, std::size_t total)>;

/// One asynchronous send (so_operation). Destroying it (so_operation_free) never waits:
/// before the send has ended it cancels it, and the completion still comes, with
/// CancelledError.
class Operation {
public:
    Operation() noexcept = default;

    /// so_operation_cancel: a send not started is never sent; one on the network is
    /// interrupted. Its completion comes with CancelledError. A no-op once it has ended.
    void cancel() { detail::check(so_operation_cancel(handle_.get())); }
    /// The HTTP status answered, 0 while it runs or without an HTTP answer.
    std::int32_t http_status() const noexcept { return so_operation_http_status(handle_.get()); }
    /// The message of a failed send; "" on success or while it runs.
    std::string error_message() const { return so_operation_error_message(handle_.get()); }
    /// The server's ErrorType; "" when none or while it runs.
    std::string error_type() const { return so_operation_error_type(handle_.get()); }
    /// Whether the server may have the request (so_operation_delivery): not_sent for a send
    /// cancelled before it started, unknown for one cancelled on the network; none while
    /// it runs.
    Delivery delivery() const noexcept { return static_cast<Delivery>(so_operation_delivery(handle_.get())); }

    /// Whether this object holds an operation (not default-made nor moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }
    so_operation *native_handle() const noexcept { return handle_.get(); }

private:
    friend class Client;
    explicit Operation(so_operation *op) noexcept : handle_(op) {}

    std::unique_ptr<so_operation, detail::Deleter<so_operation_free>> handle_;
};

/// One e-mail of a batch; std::nullopt strings are sent as JSON null.
struct BatchItem {
    std::int32_t person_id = 0;
    std::optional<std::string> from;
    std::optional<std::string> to;
    std::optional<std::string> subject;
};

/// The outcome of one item of a batch (so_batch_result).
struct BatchResult {
    ErrorCode code = ErrorCode::ok;
    std::int32_t http_status = 0;
    std::string message;
    std::string error_type;
    /// Whether the server may have the item's request (answered when ok()).
    Delivery delivery = Delivery::none;

    bool ok() const noexcept { return code == ErrorCode::ok; }
    /// Whether the item's e-mail may have gone out (the library's rule).
    bool may_have_been_sent() const noexcept { return superoffice::may_have_been_sent(delivery, http_status); }
    /// The item's failure as the exception a single send would have thrown; null when ok().
    std::exception_ptr error() const {
        if (ok()) return nullptr;
        return detail::make_error(static_cast<std::int32_t>(code), message, http_status, error_type, delivery);
    }
};

namespace detail {
struct AsyncContext {
    CompletionCallback on_done;
    bool frees_operation;  // true when no Operation object owns the so_operation
};
inline void async_trampoline(void *userdata, so_operation *op, so_result code) noexcept {
    std::unique_ptr<AsyncContext> ctx(static_cast<AsyncContext *>(userdata));
    std::exception_ptr error;
    if (code != SO_OK)
        error = make_error(code, so_operation_error_message(op), so_operation_http_status(op),
                           so_operation_error_type(op), static_cast<Delivery>(so_operation_delivery(op)));
    if (ctx->frees_operation) so_operation_free(op);
    ctx->on_done(std::move(error));
}

struct ProgressContext {
    const ProgressCallback *progress;
    std::exception_ptr error;
};
inline void progress_trampoline(void *userdata, std::size_t done, std::size_t total) noexcept {
    auto *ctx = static_cast<ProgressContext *>(userdata);
    if (ctx->error) return;
    try {
        (*ctx->progress)(done, total);
    } catch (...) {
        ctx->error = std::current_exception();
    }
}

/// so_batch_results_clear when the batch call's scope ends, whatever happened.
struct BatchResults {
    std::vector<so_batch_result> slots;
    explicit BatchResults(std::size_t n) : slots(n) {}
    ~BatchResults() { so_batch_results_clear(slots.data(), slots.size()); }
    BatchResults(const BatchResults &) = delete;
    BatchResults &operator=(const BatchResults &) = delete;
};

/// False, but only once instantiated: the static_assert of a member left out without threads.
template <typename>
constexpr bool no_std_future = false;
/// What such a member returns, so that `auto f = ...; f.get();` fails by its static_assert only.
struct NoStdFuture {
    void get() {}
    void wait() const {}
    bool valid() const noexcept { return false; }
};
}  // namespace detail

/// A client (so_client): immutable and safe to share between threads. Destroying it
/// (so_client_free) cancels the asynchronous sends still outstanding (their completions
/// come with CancelledError) and returns once every completion has returned.
class Client {
public:
    /// so_client_new: copies what it needs from `options`, which may be destroyed after.
    explicit Client(const Options &options)
        : credentials_(options.credentials_), log_(options.log_), handle_(so_client_new(options.native_handle())) {
        if (!handle_) detail::throw_last_error(so_last_error_code());
    }

    Client(Client &&) noexcept = default;
    /// Frees the client held first (so_client_free: its outstanding sends cancelled, their
    /// completions returned), and only then the callbacks it used.
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            handle_.reset();
            credentials_ = std::move(other.credentials_);
            log_ = std::move(other.log_);
            handle_ = std::move(other.handle_);
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() = default;

    /// Sends the Customer Centre password e-mail of `person_id` and waits for the answer
    /// (so_send_cc_password_email); throws the failure.
    void send_cc_password_email(std::int32_t person_id, std::optional<std::string_view> from = std::nullopt,
                                std::optional<std::string_view> to = std::nullopt,
                                std::optional<std::string_view> subject = std::nullopt) const {
        detail::check(so_send_cc_password_email(handle_.get(), person_id, detail::hold(from, "from").get(),
                                                detail::hold(to, "to").get(),
                                                detail::hold(subject, "subject").get()));
    }

    /// The ids of the persons whose e-mail address is `email` (so_find_persons_by_email:
    /// SuperOffice's person search, every row of whose answer the library checks); empty
    /// when no person has it. Throws IoError when the answer cannot be trusted (the server
    /// did not apply the e-mail filter, or its rows carry no e-mail column).
    std::vector<std::int32_t> find_person_ids_by_email(std::string_view email) const {
        auto address = detail::hold(email, "email");
        // Room for a few, then (should more be found) exactly as many as the library says.
        std::vector<std::int32_t> ids(4);
        for (;;) {
            std::size_t count = 0;
            so_result r = so_find_persons_by_email(handle_.get(), address.get(), ids.data(), ids.size(), &count);
            if (r == SO_OK) {
                ids.resize(count);
                return ids;
            }
            if (r != SO_ERR_BUFFER_TOO_SMALL || count <= ids.size()) detail::throw_last_error(r);
            ids.assign(count, 0);
        }
    }

    /// Sends the Customer Centre password e-mail of the one person whose e-mail address is
    /// `to`, to `to` (so_send_cc_password_email_to_address); returns the person id. Throws
    /// RecipientNotFoundError (no person has it) or AmbiguousRecipientError (several do),
    /// and then nothing was sent; other failures as for send_cc_password_email.
    std::int32_t send_cc_password_email_to_address(std::optional<std::string_view> from, std::string_view to,
                                                   std::optional<std::string_view> subject = std::nullopt) const {
        std::int32_t person_id = 0;
        detail::check(so_send_cc_password_email_to_address(handle_.get(), detail::hold(from, "from").get(),
                                                           detail::hold(to, "to").get(),
                                                           detail::hold(subject, "subject").get(), &person_id));
        return person_id;
    }

    /// Gets the credential now, without sending an e-mail (so_client_authenticate): for a
    /// system user the login and the JWT check, for an OAuth refresh token the token request.
    /// Throws CredentialsError naming the step that failed. For a ticket, token or Basic
    /// credentials it returns at once: nothing to obtain, nothing verified.
    void authenticate() const { detail::check(so_client_authenticate(handle_.get())); }

    /// Starts the send on a thread of the library (so_send_cc_password_email_async) and
    /// calls `on_done` once when it has ended. Throws at once (and never calls `on_done`)
    /// on a bad argument. The Operation it returns cancels it.
    Operation send_cc_password_email_async(std::int32_t person_id, std::optional<std::string_view> from,
                                           std::optional<std::string_view> to,
                                           std::optional<std::string_view> subject,
                                           CompletionCallback on_done) const {
        return Operation(start(person_id, from, to, subject, std::move(on_done), false));
    }

#if SUPEROFFICE_HAS_STD_FUTURE
    /// The same send as a std::future: get() returns when it has ended, or throws its
    /// error (CancelledError when the Client was destroyed first). Destroying the future
    /// never waits for the network: the send goes on, its outcome unread.
    std::future<void> send_cc_password_email_async(std::int32_t person_id,
                                                   std::optional<std::string_view> from = std::nullopt,
                                                   std::optional<std::string_view> to = std::nullopt,
                                                   std::optional<std::string_view> subject = std::nullopt) const {
        auto promise = std::make_shared<std::promise<void>>();
        std::future<void> result = promise->get_future();
        start(person_id, from, to, subject, fulfil(std::move(promise)), true);
        return result;
    }

    /// A future as above whose send `operation` receives, to cancel it (get() then throws
    /// CancelledError); destroying `operation` before the end cancels it too.
    std::future<void> send_cc_password_email_async(std::int32_t person_id, std::optional<std::string_view> from,
                                                   std::optional<std::string_view> to,
                                                   std::optional<std::string_view> subject,
                                                   Operation &operation) const {
        auto promise = std::make_shared<std::promise<void>>();
        std::future<void> result = promise->get_future();
        operation = Operation(start(person_id, from, to, subject, fulfil(std::move(promise)), false));
        return result;
    }
#else
    /// Without threads in the standard library there is no std::future: a call of the
    /// future-returning send fails to compile with this message (the overload with a
    /// CompletionCallback is there).
    template <typename Never = void>
    detail::NoStdFuture send_cc_password_email_async(std::int32_t, std::optional<std::string_view> = std::nullopt,
                                                     std::optional<std::string_view> = std::nullopt,
                                                     std::optional<std::string_view> = std::nullopt) const {
        static_assert(detail::no_std_future<Never>,
                      "superoffice.hpp: send_cc_password_email_async returning std::future needs a standard library "
                      "with threads; this one has none (GCC's win32 thread model). Compile with the posix thread "
                      "model (x86_64-w64-mingw32-g++-posix), or pass a CompletionCallback.");
        return {};
    }
    template <typename Never = void>
    detail::NoStdFuture send_cc_password_email_async(std::int32_t, std::optional<std::string_view>,
                                                     std::optional<std::string_view>,
                                                     std::optional<std::string_view>, Operation &) const {
        static_assert(detail::no_std_future<Never>,
                      "superoffice.hpp: send_cc_password_email_async returning std::future needs a standard library "
                      "with threads; this one has none (GCC's win32 thread model). Compile with the posix thread "
                      "model (x86_64-w64-mingw32-g++-posix), or pass a CompletionCallback.");
        return {};
    }
#endif

    /// Sends many e-mails concurrently (so_send_cc_password_email_batch_with_deliveries), at most
    /// `max_concurrency` (1 to 64) at a time: one result per item, in order. Throws only
    /// when the batch was refused (nothing sent). `progress` runs on this thread; an
    /// exception it throws is rethrown once the batch has ended (it does not stop it).
    std::vector<BatchResult> send_many(const std::vector<BatchItem> &items, std::uint32_t max_concurrency = 8,
                                       const ProgressCallback &progress = {}) const {
        std::vector<so_batch_item> c_items(items.size());
        for (std::size_t i = 0; i < items.size(); i++) {
            const BatchItem &item = items[i];
            for (const auto *s : {&item.from, &item.to, &item.subject})
                if (*s && s->value().find('\0') != std::string::npos)
                    detail::throw_argument("send_many", "a string must not contain a NUL character");
            c_items[i] = so_batch_item{item.person_id, item.from ? item.from->c_str() : nullptr,
                                       item.to ? item.to->c_str() : nullptr,
                                       item.subject ? item.subject->c_str() : nullptr};
        }
        detail::BatchResults slots(items.size());
        std::vector<std::int32_t> deliveries(items.size());
        detail::ProgressContext ctx{&progress, nullptr};
        so_result r = so_send_cc_password_email_batch_with_deliveries(
            handle_.get(), c_items.data(), c_items.size(), max_concurrency,
            progress ? detail::progress_trampoline : nullptr, &ctx, slots.slots.data(), deliveries.data(), nullptr);
        if (r != SO_OK) detail::throw_last_error(r);
        if (ctx.error) std::rethrow_exception(ctx.error);
        std::vector<BatchResult> results;
        results.reserve(items.size());
        for (std::size_t i = 0; i < slots.slots.size(); i++) {
            const so_batch_result &s = slots.slots[i];
            results.push_back(BatchResult{static_cast<ErrorCode>(s.code), s.http_status, s.message ? s.message : "",
                                          s.error_type ? s.error_type : "", static_cast<Delivery>(deliveries[i])});
        }
        return results;
    }

    /// The so_client, still owned by this object.
    const so_client *native_handle() const noexcept { return handle_.get(); }

private:
#if SUPEROFFICE_HAS_STD_FUTURE
    static CompletionCallback fulfil(std::shared_ptr<std::promise<void>> promise) {
        return [promise = std::move(promise)](std::exception_ptr error) {
            if (error)
                promise->set_exception(std::move(error));
            else
                promise->set_value();
        };
    }
#endif

    so_operation *start(std::int32_t person_id, const std::optional<std::string_view> &from,
                        const std::optional<std::string_view> &to, const std::optional<std::string_view> &subject,
                        CompletionCallback on_done, bool frees_operation) const {
        if (!on_done) throw ArgumentError(ErrorCode::null_argument, "send_cc_password_email_async: on_done is empty");
        auto ctx = std::make_unique<detail::AsyncContext>(detail::AsyncContext{std::move(on_done), frees_operation});
        so_operation *op = nullptr;
        detail::check(so_send_cc_password_email_async(handle_.get(), person_id, detail::hold(from, "from").get(),
                                                      detail::hold(to, "to").get(),
                                                      detail::hold(subject, "subject").get(),
                                                      detail::async_trampoline, ctx.get(), &op));
        ctx.release();  // the completion owns it now (and may already have run)
        return op;
    }

    // Declared before the handle so that they outlive so_client_free.
    std::shared_ptr<const CredentialsCallback> credentials_;
    std::shared_ptr<const LogCallback> log_;
    std::unique_ptr<so_client, detail::Deleter<so_client_free>> handle_;
};

/// Drops and wipes every credential the library obtained from the login service in this
/// process, shared ones and each client's own (so_credentials_forget_all): every client logs
/// in again on its next send.
inline void forget_all_credentials() noexcept { so_credentials_forget_all(); }

/* ---------------------------------------------------------------------------------------
 * Tenant lookup
 * ------------------------------------------------------------------------------------- */

/// Where an online tenant lives (so_lookup_tenant_api_url_sized): its current API URL,
/// ready for Options. `state_endpoint` std::nullopt means "https://sod.superoffice.com".
/// Throws TenantUnavailableError when the tenant is not running.
inline std::string lookup_tenant_api_url(std::string_view customer_id,
                                         std::optional<std::string_view> state_endpoint = std::nullopt) {
    auto endpoint = detail::hold(state_endpoint, "lookup_tenant_api_url");
    auto customer = detail::hold(customer_id, "lookup_tenant_api_url");
    // First the size alone (a buffer of 0 bytes), then the URL; it may have grown between
    // two lookups, so ask again while the library says the buffer is too small.
    std::string url;
    for (;;) {
        std::size_t needed = 0;
        so_result r = so_lookup_tenant_api_url_sized(endpoint.get(), customer.get(), url.empty() ? nullptr : &url[0],
                                                     url.size(), &needed);
        if (r == SO_OK) {
            url.resize(needed - 1);
            return url;
        }
        if (r != SO_ERR_BUFFER_TOO_SMALL || needed <= url.size()) detail::throw_last_error(r);
        url.assign(needed, '\0');
    }
}

}  // namespace superoffice

#endif /* SUPEROFFICE_HPP */
