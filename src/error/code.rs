//! The table of result codes: the C ABI's `so_result`, defined in the core so that the
//! core's kinds are numbered from it without depending on the C shell (which re-exports
//! it and maps errors onto it).

#![allow(non_camel_case_types)]

use std::ffi::CStr;

use super::ErrorKind;

/// The outcome of a call. `SO_OK` is 0; every other value is a failure whose details
/// `so_last_error_message()`, `so_last_error_http_status()` and `so_last_error_type()`
/// give on the same thread. Values are fixed and never reused.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum so_result {
    /// Success (the server answered 2xx).
    SO_OK = 0,
    /// A required pointer was NULL.
    SO_ERR_NULL_ARGUMENT = 1,
    /// Not UTF-8, a CR, LF or control character in a header value, a malformed URL,
    /// a value out of range.
    SO_ERR_INVALID_ARGUMENT = 2,
    /// An output buffer is too small; the message says how large it must be.
    SO_ERR_BUFFER_TOO_SMALL = 3,
    /// Name resolution failed, connection refused or unreachable.
    SO_ERR_CONNECT = 10,
    /// TLS handshake or certificate verification failed.
    SO_ERR_TLS = 11,
    /// A connect or total timeout expired.
    SO_ERR_TIMEOUT = 12,
    /// The connection broke, or the server's answer was not valid HTTP.
    SO_ERR_IO = 13,
    /// An asynchronous send was cancelled (`so_operation_cancel`, `so_operation_free`
    /// before its end, or `so_client_free`) before it ended; its message says whether
    /// the server may already have received the request.
    SO_ERR_CANCELLED = 14,
    /// The server answered with a status outside 2xx not listed below (3xx included:
    /// redirects are not followed).
    SO_ERR_HTTP_STATUS = 20,
    /// 400 Bad Request.
    SO_ERR_BAD_REQUEST = 21,
    /// 401 Unauthorized.
    SO_ERR_UNAUTHORIZED = 22,
    /// 403 Forbidden.
    SO_ERR_FORBIDDEN = 23,
    /// 404 Not Found.
    SO_ERR_NOT_FOUND = 24,
    /// 429 Too Many Requests, after any retries the client was allowed.
    SO_ERR_RATE_LIMITED = 25,
    /// 5xx.
    SO_ERR_SERVER = 26,
    /// The online tenant is not running (maintenance, suspended).
    SO_ERR_TENANT_UNAVAILABLE = 27,
    /// No credential could be obtained from SuperOffice's login service (system user or
    /// OAuth refresh token); the message says which step failed: the login service's
    /// `ErrorMessage`, the JWT check that failed, or an unreachable login service. No
    /// request was sent to the API.
    SO_ERR_CREDENTIALS = 28,
    /// A bug inside the library, caught at the boundary.
    SO_ERR_PANIC = 99,
}

/// Every code, for looking one up by its number (not exported: C has the enum).
///
/// A new code is one variant above, one line here, one arm in [`so_result::text`] (the
/// compiler asks for it) and one `ErrorKind` numbered from it; `tests/contract.rs` fails
/// when this list or a binding's copy misses a code of the header.
pub(crate) const ALL_CODES: &[so_result] = &[
    so_result::SO_OK,
    so_result::SO_ERR_NULL_ARGUMENT,
    so_result::SO_ERR_INVALID_ARGUMENT,
    so_result::SO_ERR_BUFFER_TOO_SMALL,
    so_result::SO_ERR_CONNECT,
    so_result::SO_ERR_TLS,
    so_result::SO_ERR_TIMEOUT,
    so_result::SO_ERR_IO,
    so_result::SO_ERR_CANCELLED,
    so_result::SO_ERR_HTTP_STATUS,
    so_result::SO_ERR_BAD_REQUEST,
    so_result::SO_ERR_UNAUTHORIZED,
    so_result::SO_ERR_FORBIDDEN,
    so_result::SO_ERR_NOT_FOUND,
    so_result::SO_ERR_RATE_LIMITED,
    so_result::SO_ERR_SERVER,
    so_result::SO_ERR_TENANT_UNAVAILABLE,
    so_result::SO_ERR_CREDENTIALS,
    so_result::SO_ERR_PANIC,
];

impl so_result {
    /// The code with this number, if there is one.
    pub fn from_code(code: i32) -> Option<so_result> {
        ALL_CODES.iter().copied().find(|r| *r as i32 == code)
    }

    /// Static English text for the code, e.g. "not found (404)" (what `so_result_str`
    /// returns).
    pub fn text(self) -> &'static CStr {
        match self {
            so_result::SO_OK => c"success",
            so_result::SO_ERR_NULL_ARGUMENT => c"a required argument was NULL",
            so_result::SO_ERR_INVALID_ARGUMENT => c"invalid argument",
            so_result::SO_ERR_BUFFER_TOO_SMALL => c"output buffer too small",
            so_result::SO_ERR_CONNECT => c"could not connect",
            so_result::SO_ERR_TLS => c"TLS handshake or certificate verification failed",
            so_result::SO_ERR_TIMEOUT => c"timed out",
            so_result::SO_ERR_IO => c"connection broken or invalid HTTP answer",
            so_result::SO_ERR_CANCELLED => c"cancelled",
            so_result::SO_ERR_HTTP_STATUS => c"unexpected HTTP status",
            so_result::SO_ERR_BAD_REQUEST => c"bad request (400)",
            so_result::SO_ERR_UNAUTHORIZED => c"unauthorized (401)",
            so_result::SO_ERR_FORBIDDEN => c"forbidden (403)",
            so_result::SO_ERR_NOT_FOUND => c"not found (404)",
            so_result::SO_ERR_RATE_LIMITED => c"rate limited (429)",
            so_result::SO_ERR_SERVER => c"server error (5xx)",
            so_result::SO_ERR_TENANT_UNAVAILABLE => c"tenant unavailable",
            so_result::SO_ERR_CREDENTIALS => c"no credential could be obtained from the login service",
            so_result::SO_ERR_PANIC => c"internal error (panic caught)",
        }
    }
}

/// The core's kinds are numbered with these codes (`ErrorKind`'s discriminants are
/// `so_result` values), so the conversion is by number; a kind without a code (a bug
/// the tests catch) would become `SO_ERR_PANIC`.
impl From<ErrorKind> for so_result {
    fn from(kind: ErrorKind) -> so_result {
        so_result::from_code(kind as i32).unwrap_or(so_result::SO_ERR_PANIC)
    }
}

/// Whether the server may have the e-mail request of a failed send: what a caller needs
/// to keep sends exactly-once. Read it with `so_last_delivery()` after
/// `so_send_cc_password_email`, `so_operation_delivery()` for an asynchronous send, and
/// `so_send_cc_password_email_batch_with_deliveries()` for a batch. Stored as `int32_t` in any
/// array or struct. Values are fixed and never reused.
///
/// | failure | delivery |
/// | --- | --- |
/// | an argument error (`SO_ERR_NULL_ARGUMENT`, `SO_ERR_INVALID_ARGUMENT`, `SO_ERR_BUFFER_TOO_SMALL`), a request head too large to send whole | `NOT_SENT` |
/// | no credential from the login service (`SO_ERR_CREDENTIALS`) | `NOT_SENT` |
/// | name resolution failed, connection refused or unreachable, the proxy refused the tunnel (`SO_ERR_CONNECT`) | `NOT_SENT` |
/// | the connect timeout (resolve, TCP, TLS handshake) expired (`SO_ERR_TIMEOUT`) | `NOT_SENT` |
/// | the certificate was refused (`SO_ERR_TLS`: unknown issuer, expired, wrong name, ...) | `NOT_SENT` |
/// | another TLS failure (`SO_ERR_TLS`: an alert, a server that does not speak TLS) | `UNKNOWN` |
/// | the connection was reset or closed after the request was written (`SO_ERR_IO`) | `UNKNOWN` |
/// | the answer is not valid HTTP (`SO_ERR_IO`) | `UNKNOWN` |
/// | the total timeout expired (`SO_ERR_TIMEOUT`) | `UNKNOWN` |
/// | an asynchronous send cancelled before a byte was written / later (`SO_ERR_CANCELLED`) | `NOT_SENT` / `UNKNOWN` |
/// | an HTTP status: 2xx (`SO_OK`), 4xx, 5xx, 429, 503 | `ANSWERED` |
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum so_delivery {
    /// No e-mail request was involved: the last call was not a send, or it succeeded
    /// before sending anything (an asynchronous send just started).
    SO_DELIVERY_NONE = 0,
    /// The server provably never had the request: it is safe to send it again.
    SO_DELIVERY_NOT_SENT = 1,
    /// The request may have been read and processed: sending it again may e-mail the
    /// customer twice.
    SO_DELIVERY_UNKNOWN = 2,
    /// The server answered with an HTTP status (2xx, 3xx, 4xx, 5xx).
    SO_DELIVERY_ANSWERED = 3,
}

impl so_delivery {
    /// The value with this number, if there is one.
    pub fn from_code(code: i32) -> Option<so_delivery> {
        [
            so_delivery::SO_DELIVERY_NONE,
            so_delivery::SO_DELIVERY_NOT_SENT,
            so_delivery::SO_DELIVERY_UNKNOWN,
            so_delivery::SO_DELIVERY_ANSWERED,
        ]
        .into_iter()
        .find(|d| *d as i32 == code)
    }
}
