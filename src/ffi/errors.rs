//! Result codes, the thread's last error, and the library's version.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::error::{Error, ErrorKind};

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
    /// A bug inside the library, caught at the boundary.
    SO_ERR_PANIC = 99,
}

impl From<ErrorKind> for so_result {
    fn from(kind: ErrorKind) -> so_result {
        match kind {
            ErrorKind::NullArgument => so_result::SO_ERR_NULL_ARGUMENT,
            ErrorKind::InvalidArgument => so_result::SO_ERR_INVALID_ARGUMENT,
            ErrorKind::BufferTooSmall => so_result::SO_ERR_BUFFER_TOO_SMALL,
            ErrorKind::Connect => so_result::SO_ERR_CONNECT,
            ErrorKind::Tls => so_result::SO_ERR_TLS,
            ErrorKind::Timeout => so_result::SO_ERR_TIMEOUT,
            ErrorKind::Io => so_result::SO_ERR_IO,
            ErrorKind::Cancelled => so_result::SO_ERR_CANCELLED,
            ErrorKind::HttpStatus => so_result::SO_ERR_HTTP_STATUS,
            ErrorKind::BadRequest => so_result::SO_ERR_BAD_REQUEST,
            ErrorKind::Unauthorized => so_result::SO_ERR_UNAUTHORIZED,
            ErrorKind::Forbidden => so_result::SO_ERR_FORBIDDEN,
            ErrorKind::NotFound => so_result::SO_ERR_NOT_FOUND,
            ErrorKind::RateLimited => so_result::SO_ERR_RATE_LIMITED,
            ErrorKind::Server => so_result::SO_ERR_SERVER,
            ErrorKind::TenantUnavailable => so_result::SO_ERR_TENANT_UNAVAILABLE,
            ErrorKind::Panic => so_result::SO_ERR_PANIC,
        }
    }
}

struct LastError {
    code: so_result,
    message: CString,
    http_status: i32,
    error_type: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        code: so_result::SO_OK,
        message: CString::default(),
        http_status: 0,
        error_type: CString::default(),
    });
}

/// A C string from text that might hold a NUL (replaced by a space).
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|e| {
        let mut e = e.borrow_mut();
        if e.code != so_result::SO_OK {
            e.code = so_result::SO_OK;
            e.message = CString::default();
            e.http_status = 0;
            e.error_type = CString::default();
        }
    });
}

pub(crate) fn set_last_error(error: &Error) {
    let _ = LAST_ERROR.try_with(|e| {
        let mut e = e.borrow_mut();
        e.code = so_result::from(error.kind);
        e.message = c_string(&error.message);
        e.http_status = i32::from(error.http_status);
        e.error_type = c_string(error.error_type.as_deref().unwrap_or(""));
    });
}

/// The message of this thread's last failure, or "" when the last call succeeded.
///
/// The text says what failed, for which URL, and what the server said; it is at most
/// 4 KiB and never holds a password, ticket, token or app token. The pointer stays
/// valid until the next `so_*` call on this thread that clears the last error (every
/// call but the `so_last_error_*` readers, `so_result_str`, `so_version` and the
/// `_free` functions). Never free it.
#[no_mangle]
pub extern "C" fn so_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().message.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The code of this thread's last failure, or `SO_OK` when the last call succeeded.
/// Useful after the functions that return NULL on failure (`so_options_new`,
/// `so_client_new`).
#[no_mangle]
pub extern "C" fn so_last_error_code() -> so_result {
    LAST_ERROR.try_with(|e| e.borrow().code).unwrap_or(so_result::SO_OK)
}

/// The HTTP status of this thread's last failure, or 0 when there was no HTTP answer
/// (or no failure).
#[no_mangle]
pub extern "C" fn so_last_error_http_status() -> i32 {
    LAST_ERROR.try_with(|e| e.borrow().http_status).unwrap_or(0)
}

/// The `ErrorType` of the SuperOffice error body of this thread's last failure (for
/// example "SoNotFoundException"), or "" when the server sent none. Same lifetime as
/// `so_last_error_message()`. Never free it.
#[no_mangle]
pub extern "C" fn so_last_error_type() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().error_type.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// Static English text for a result code, e.g. "not found (404)". Any value is
/// accepted: unknown ones give "unknown result code". Never free it.
#[no_mangle]
pub extern "C" fn so_result_str(r: i32) -> *const c_char {
    let text: &'static std::ffi::CStr = match r {
        0 => c"success",
        1 => c"a required argument was NULL",
        2 => c"invalid argument",
        3 => c"output buffer too small",
        10 => c"could not connect",
        11 => c"TLS handshake or certificate verification failed",
        12 => c"timed out",
        13 => c"connection broken or invalid HTTP answer",
        14 => c"cancelled",
        20 => c"unexpected HTTP status",
        21 => c"bad request (400)",
        22 => c"unauthorized (401)",
        23 => c"forbidden (403)",
        24 => c"not found (404)",
        25 => c"rate limited (429)",
        26 => c"server error (5xx)",
        27 => c"tenant unavailable",
        99 => c"internal error (panic caught)",
        _ => c"unknown result code",
    };
    text.as_ptr()
}

/// The library's version, e.g. "0.1.0" (static; never free it). Compare it with
/// `SO_VERSION` from the header to check the library a program loaded.
#[no_mangle]
pub extern "C" fn so_version() -> *const c_char {
    static VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    VERSION.as_ptr()
}
