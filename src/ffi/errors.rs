//! Result codes, the thread's last error, and the library's version.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CStr, CString};

use super::reader;
pub use crate::error::code::{so_delivery, so_result};
use crate::error::{Delivery, Error};

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

thread_local! {
    /// The delivery of this thread's last send (`SO_DELIVERY_NONE` after any other call).
    static LAST_DELIVERY: Cell<so_delivery> = const { Cell::new(so_delivery::SO_DELIVERY_NONE) };
}

/// Records the delivery of this thread's send (cleared with the last error).
pub(crate) fn set_last_delivery(delivery: so_delivery) {
    let _ = LAST_DELIVERY.try_with(|d| d.set(delivery));
}

/// The delivery of a send's outcome: `ANSWERED` on success, the error's otherwise.
pub(crate) fn delivery_of<T>(outcome: Result<T, &Error>) -> so_delivery {
    match outcome {
        Ok(_) => so_delivery::SO_DELIVERY_ANSWERED,
        Err(e) => e.delivery.code(),
    }
}

/// A C string from text that might hold a NUL (replaced by a space).
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

pub(crate) fn clear_last_error() {
    set_last_delivery(so_delivery::SO_DELIVERY_NONE);
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
/// 4 KiB and never holds a password, ticket, token, app token or any other configured
/// secret (the library hides them even when the server quotes them). The pointer stays
/// valid until the next `so_*` call on this thread that clears the last error (every
/// call but the `so_last_error_*` readers, `so_result_str`, `so_version` and the
/// `_free` functions). Never free it.
#[no_mangle]
pub extern "C" fn so_last_error_message() -> *const c_char {
    reader(c"".as_ptr(), || LAST_ERROR.try_with(|e| e.borrow().message.as_ptr()).unwrap_or(c"".as_ptr()))
}

/// The code of this thread's last failure, or `SO_OK` when the last call succeeded.
/// Useful after the functions that return NULL on failure (`so_options_new`,
/// `so_client_new`).
#[no_mangle]
pub extern "C" fn so_last_error_code() -> so_result {
    reader(so_result::SO_ERR_PANIC, || LAST_ERROR.try_with(|e| e.borrow().code).unwrap_or(so_result::SO_OK))
}

/// The HTTP status of this thread's last failure, or 0 when there was no HTTP answer
/// (or no failure).
#[no_mangle]
pub extern "C" fn so_last_error_http_status() -> i32 {
    reader(0, || LAST_ERROR.try_with(|e| e.borrow().http_status).unwrap_or(0))
}

/// The `ErrorType` of the SuperOffice error body of this thread's last failure (for
/// example "SoNotFoundException"), or "" when the server sent none. Same lifetime as
/// `so_last_error_message()`. Never free it.
#[no_mangle]
pub extern "C" fn so_last_error_type() -> *const c_char {
    reader(c"".as_ptr(), || LAST_ERROR.try_with(|e| e.borrow().error_type.as_ptr()).unwrap_or(c"".as_ptr()))
}

/// Whether the server may have the e-mail request of this thread's last send
/// (`so_send_cc_password_email`):
/// - `SO_DELIVERY_ANSWERED` after `SO_OK` or any HTTP status;
/// - `SO_DELIVERY_NOT_SENT` when the server provably never had it (an argument error, no
///   credential from the login service, no connection, a connect timeout, a refused
///   certificate): safe to send again;
/// - `SO_DELIVERY_UNKNOWN` when it may have been read and processed (a reset or closed
///   connection, an answer timeout, an answer that is not HTTP, another TLS failure);
/// - `SO_DELIVERY_NONE` after any call that sends no e-mail request (the option setters,
///   a lookup, a batch call itself, the start of an asynchronous send: see
///   `so_operation_delivery`). Every call clears it when it starts, as it clears the last
///   error; the readers (`so_last_error_*`, `so_last_delivery`) do not.
#[no_mangle]
pub extern "C" fn so_last_delivery() -> so_delivery {
    reader(so_delivery::SO_DELIVERY_UNKNOWN, || {
        LAST_DELIVERY.try_with(Cell::get).unwrap_or(so_delivery::SO_DELIVERY_NONE)
    })
}

/// Whether a send that ended with `delivery` (an `so_delivery` value) and `http_status`
/// (0 when none) may have e-mailed the customer: 1 for `SO_DELIVERY_UNKNOWN`, for an
/// answered 2xx, and for an answered 5xx other than 503 (the server may have sent the
/// e-mail before it failed); 0 for `SO_DELIVERY_NOT_SENT`, answered 3xx, 4xx (429
/// included) and 503, and for `SO_DELIVERY_NONE`. Any unknown value gives 1. Does not
/// touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_may_have_been_sent(delivery: i32, http_status: i32) -> i32 {
    reader(1, || {
        let status = u16::try_from(http_status).unwrap_or(0);
        let sent = match so_delivery::from_code(delivery) {
            Some(so_delivery::SO_DELIVERY_NONE) => false,
            Some(so_delivery::SO_DELIVERY_NOT_SENT) => Delivery::NotSent.may_have_been_sent(status),
            Some(so_delivery::SO_DELIVERY_ANSWERED) => Delivery::Answered.may_have_been_sent(status),
            Some(so_delivery::SO_DELIVERY_UNKNOWN) | None => true,
        };
        i32::from(sent)
    })
}

/// Static English text for a result code, e.g. "not found (404)". Any value is
/// accepted: unknown ones give "unknown result code". Never free it.
#[no_mangle]
pub extern "C" fn so_result_str(r: i32) -> *const c_char {
    reader(c"unknown result code".as_ptr(), || {
        so_result::from_code(r).map_or(c"unknown result code", so_result::text).as_ptr()
    })
}

/// The library's version, e.g. "0.1.0" (static; never free it). Compare it with
/// `SO_VERSION` from the header to check the library a program loaded.
#[no_mangle]
pub extern "C" fn so_version() -> *const c_char {
    reader(c"unknown".as_ptr(), || {
        static VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
        VERSION.as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code::ALL_CODES;
    use crate::error::ErrorKind;

    #[test]
    fn every_kind_has_its_code_and_every_code_its_text() {
        for &code in ALL_CODES {
            assert_eq!(so_result::from_code(code as i32), Some(code));
            assert_ne!(code.text(), c"unknown result code");
        }
        assert_eq!(so_result::from_code(1000), None);
        let kinds = [
            ErrorKind::NullArgument, ErrorKind::InvalidArgument, ErrorKind::BufferTooSmall, ErrorKind::Connect,
            ErrorKind::Tls, ErrorKind::Timeout, ErrorKind::Io, ErrorKind::HttpStatus, ErrorKind::BadRequest,
            ErrorKind::Unauthorized, ErrorKind::Forbidden, ErrorKind::NotFound, ErrorKind::RateLimited,
            ErrorKind::Server, ErrorKind::TenantUnavailable, ErrorKind::Credentials, ErrorKind::Panic,
        ];
        for kind in kinds {
            assert_eq!(so_result::from(kind) as i32, kind as i32, "{kind:?}");
        }
    }
}
