//! Result codes, the thread's last error, and the library's version.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

use super::reader;
pub use crate::error::code::so_result;
use crate::error::Error;

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
            ErrorKind::Server, ErrorKind::TenantUnavailable, ErrorKind::Credentials, ErrorKind::RecipientNotFound,
            ErrorKind::AmbiguousRecipient, ErrorKind::Panic,
        ];
        for kind in kinds {
            assert_eq!(so_result::from(kind) as i32, kind as i32, "{kind:?}");
        }
    }
}
