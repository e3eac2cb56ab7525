//! The one error type of the core, and the kinds it maps onto the C ABI's codes.

use std::fmt;
use std::time::Duration;

/// Longest message kept, in bytes (the C ABI promises at most 4 KiB with its NUL).
pub const MAX_MESSAGE_LEN: usize = 4095;

pub mod code;

// The one table of result codes is `so_result` (exported by the C ABI); each kind is
// numbered with its code.
use code::so_result as C;

/// What went wrong, one kind per result code of the C ABI.
///
/// The numbers are the C ABI's `so_result` values (taken from that enum, never written
/// here); they are never changed or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorKind {
    /// A required argument was missing.
    NullArgument = C::SO_ERR_NULL_ARGUMENT as i32,
    /// An argument was malformed or out of range.
    InvalidArgument = C::SO_ERR_INVALID_ARGUMENT as i32,
    /// An output buffer was too small.
    BufferTooSmall = C::SO_ERR_BUFFER_TOO_SMALL as i32,
    /// Name resolution failed, or the connection was refused or unreachable.
    Connect = C::SO_ERR_CONNECT as i32,
    /// TLS handshake or certificate verification failed.
    Tls = C::SO_ERR_TLS as i32,
    /// A connect or total timeout expired.
    Timeout = C::SO_ERR_TIMEOUT as i32,
    /// The connection broke, or the answer was not valid HTTP.
    Io = C::SO_ERR_IO as i32,
    /// An asynchronous send was cancelled (or its client freed) before it ended.
    Cancelled = C::SO_ERR_CANCELLED as i32,
    /// A status outside 2xx not covered by a more precise kind.
    HttpStatus = C::SO_ERR_HTTP_STATUS as i32,
    /// 400.
    BadRequest = C::SO_ERR_BAD_REQUEST as i32,
    /// 401.
    Unauthorized = C::SO_ERR_UNAUTHORIZED as i32,
    /// 403.
    Forbidden = C::SO_ERR_FORBIDDEN as i32,
    /// 404.
    NotFound = C::SO_ERR_NOT_FOUND as i32,
    /// 429, after the retries allowed.
    RateLimited = C::SO_ERR_RATE_LIMITED as i32,
    /// 5xx.
    Server = C::SO_ERR_SERVER as i32,
    /// The online tenant is not running.
    TenantUnavailable = C::SO_ERR_TENANT_UNAVAILABLE as i32,
    /// No credential could be obtained from the login service.
    Credentials = C::SO_ERR_CREDENTIALS as i32,
    /// No person has the e-mail address a send to an address was given.
    RecipientNotFound = C::SO_ERR_RECIPIENT_NOT_FOUND as i32,
    /// Several persons (or more than 50) have the e-mail address.
    AmbiguousRecipient = C::SO_ERR_AMBIGUOUS_RECIPIENT as i32,
    /// A bug in the library.
    Panic = C::SO_ERR_PANIC as i32,
}

impl ErrorKind {
    /// The kind for an HTTP status outside 2xx.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::HttpStatus,
        }
    }
}

/// A failure, with everything the caller is told about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Which result code.
    pub kind: ErrorKind,
    /// A sentence the user can act on; never holds a secret; at most 4 KiB.
    pub message: String,
    /// The HTTP status the server answered, 0 when there was no answer.
    pub http_status: u16,
    /// The `ErrorType` of the server's SuperOffice error body, if any.
    pub error_type: Option<String>,
    /// The wait the server's `Retry-After` asked for, when it sent a readable one.
    pub retry_after: Option<Duration>,
}

impl Error {
    /// A failure without an HTTP answer.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: bound_message(message.into()),
            http_status: 0,
            error_type: None,
            retry_after: None,
        }
    }

    /// An invalid argument.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// A missing argument.
    pub fn null(what: &str) -> Error {
        Error::new(ErrorKind::NullArgument, format!("{what} must not be NULL"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Cuts a message to [`MAX_MESSAGE_LEN`] bytes on a character boundary.
pub fn bound_message(mut message: String) -> String {
    if message.len() > MAX_MESSAGE_LEN {
        let mut end = MAX_MESSAGE_LEN - 3;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push_str("...");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_kinds() {
        assert_eq!(ErrorKind::from_status(400), ErrorKind::BadRequest);
        assert_eq!(ErrorKind::from_status(401), ErrorKind::Unauthorized);
        assert_eq!(ErrorKind::from_status(403), ErrorKind::Forbidden);
        assert_eq!(ErrorKind::from_status(404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status(429), ErrorKind::RateLimited);
        assert_eq!(ErrorKind::from_status(500), ErrorKind::Server);
        assert_eq!(ErrorKind::from_status(503), ErrorKind::Server);
        assert_eq!(ErrorKind::from_status(418), ErrorKind::HttpStatus);
        assert_eq!(ErrorKind::from_status(302), ErrorKind::HttpStatus);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let m = bound_message("é".repeat(5000));
        assert!(m.len() <= MAX_MESSAGE_LEN);
        assert!(m.ends_with("..."));
        let short = bound_message("short".into());
        assert_eq!(short, "short");
    }
}
