//! The one error type of the core, and the kinds it maps onto the C ABI's codes.

use std::fmt;
use std::time::Duration;

/// Longest message kept, in bytes (the C ABI promises at most 4 KiB with its NUL).
pub const MAX_MESSAGE_LEN: usize = 4095;

pub mod code;

// The one table of result codes is `so_result` (exported by the C ABI); each kind is
// numbered with its code. Deliveries likewise are numbered from `so_delivery`.
use code::so_delivery as D;
use code::so_result as C;

/// Whether the server may have the e-mail request of a failed send: what a caller needs
/// to keep sends exactly-once.
///
/// It is decided in one place for the network ([`crate::http::classify`]), in the
/// credential step (no credential: nothing sent), for argument errors ([`Error::invalid`],
/// [`Error::null`]) and for an HTTP answer (`Answered`). Anything not proven `NotSent` is
/// `Unknown` ([`Error::new`]'s default).
///
/// | failure | kind | delivery |
/// | --- | --- | --- |
/// | null or invalid argument, buffer too small, person id not positive | `NullArgument`, `InvalidArgument`, `BufferTooSmall` | `NotSent` |
/// | a request head too large to send whole | `InvalidArgument` | `NotSent` |
/// | no credential from the login service (refused, unreachable, bad JWT) | `Credentials` | `NotSent` |
/// | name resolution failed, connection refused or unreachable | `Connect` | `NotSent` |
/// | the proxy refused the tunnel | `Connect` | `NotSent` |
/// | ureq's resolve or connect timeout (TCP and TLS handshake) | `Timeout` | `NotSent` |
/// | certificate refused (unknown issuer, expired, not valid yet, wrong name, revoked, bad signature) | `Tls` | `NotSent` |
/// | another TLS failure: an alert, a server that does not speak TLS, a TLS error after the handshake | `Tls` | `Unknown` |
/// | the connection reset, aborted or closed (EOF) before an answer | `Io` | `Unknown` |
/// | an answer that is not valid HTTP | `Io` | `Unknown` |
/// | any timeout after the connect phase, ureq's global timeout (its phase is not known), an OS timeout | `Timeout` | `Unknown` |
/// | the total timeout expiring between attempts (every earlier attempt not sent, or answered 429/503) | `Timeout` | `NotSent` |
/// | an asynchronous send cancelled before any byte was written | `Cancelled` | `NotSent` |
/// | an asynchronous send cancelled later | `Cancelled` | `Unknown` |
/// | a panic caught inside the library | `Panic` | `Unknown` |
/// | an HTTP status outside 2xx: 3xx, 4xx, 429, 5xx, 503 | `HttpStatus`, `BadRequest`, ... `Server` | `Answered` |
///
/// Retries do not follow from it: the client resends only after a failure to connect
/// (`Connect`, or a connect-phase `Timeout`, both `NotSent`) and after 429/503. `NotSent`
/// is the precondition for a resend of a transport failure, never the reason for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Delivery {
    /// The server provably never had the request: safe to send again.
    NotSent = D::SO_DELIVERY_NOT_SENT as i32,
    /// The request may have been read and processed.
    Unknown = D::SO_DELIVERY_UNKNOWN as i32,
    /// The server answered with an HTTP status.
    Answered = D::SO_DELIVERY_ANSWERED as i32,
}

impl Delivery {
    /// Whether a send that ended with this delivery and HTTP status (0 for none) may have
    /// e-mailed the customer: true for `Unknown`, for a 2xx, and for a 5xx other than 503
    /// (the server may have sent the e-mail before it failed); false for `NotSent`, 3xx,
    /// 4xx (429 included) and 503.
    pub fn may_have_been_sent(self, http_status: u16) -> bool {
        match self {
            Delivery::NotSent => false,
            Delivery::Unknown => true,
            Delivery::Answered => (200..300).contains(&http_status) || ((500..600).contains(&http_status) && http_status != 503),
        }
    }

    /// The C ABI's value.
    pub fn code(self) -> D {
        match self {
            Delivery::NotSent => D::SO_DELIVERY_NOT_SENT,
            Delivery::Unknown => D::SO_DELIVERY_UNKNOWN,
            Delivery::Answered => D::SO_DELIVERY_ANSWERED,
        }
    }

    /// Words for a message: "it was not sent" or "it may have been processed" (nothing
    /// for an answer, whose status says it).
    pub fn words(self) -> Option<&'static str> {
        match self {
            Delivery::NotSent => Some("it was not sent"),
            Delivery::Unknown => Some("it may have been processed"),
            Delivery::Answered => None,
        }
    }
}

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
    /// Whether the server may have the request (see [`Delivery`]).
    pub delivery: Delivery,
}

impl Error {
    /// A failure without an HTTP answer whose request may have been processed
    /// (`Delivery::Unknown`, the conservative default; see [`Error::not_sent`]).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: bound_message(message.into()),
            http_status: 0,
            error_type: None,
            retry_after: None,
            delivery: Delivery::Unknown,
        }
    }

    /// A failure that provably sent nothing (`Delivery::NotSent`).
    pub fn not_sent(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { delivery: Delivery::NotSent, ..Error::new(kind, message) }
    }

    /// An invalid argument: nothing was sent.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::not_sent(ErrorKind::InvalidArgument, message)
    }

    /// A missing argument: nothing was sent.
    pub fn null(what: &str) -> Error {
        Error::not_sent(ErrorKind::NullArgument, format!("{what} must not be NULL"))
    }

    /// The message followed by the delivery in words ("...; it was not sent", "...; it
    /// may have been processed"), for a failure of a send.
    pub fn with_delivery_words(mut self) -> Error {
        if let Some(words) = self.delivery.words() {
            if !self.message.ends_with(words) {
                self.message = bound_message(format!("{}; {words}", self.message));
            }
        }
        self
    }

    /// Adds `note` to the message ("{message}{note}"), before the delivery in words when
    /// the message ends with them, so that they stay last.
    pub fn with_note(mut self, note: &str) -> Error {
        let tail = self.delivery.words().map(|w| format!("; {w}")).filter(|t| self.message.ends_with(t.as_str()));
        let head = &self.message[..self.message.len() - tail.as_ref().map_or(0, String::len)];
        self.message = bound_message(format!("{head}{note}{}", tail.as_deref().unwrap_or("")));
        self
    }

    /// Whether the e-mail may have gone out (see [`Delivery::may_have_been_sent`]).
    pub fn may_have_been_sent(&self) -> bool {
        self.delivery.may_have_been_sent(self.http_status)
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
    fn may_have_been_sent_by_delivery_and_status() {
        assert!(!Delivery::NotSent.may_have_been_sent(0));
        assert!(Delivery::Unknown.may_have_been_sent(0));
        for (status, sent) in [(204, true), (302, false), (400, false), (404, false), (429, false), (500, true), (502, true), (503, false), (504, true)] {
            assert_eq!(Delivery::Answered.may_have_been_sent(status), sent, "{status}");
        }
        assert_eq!(Error::invalid("x").delivery, Delivery::NotSent);
        assert_eq!(Error::null("x").delivery, Delivery::NotSent);
        assert_eq!(Error::new(ErrorKind::Io, "x").delivery, Delivery::Unknown);
        let e = Error::not_sent(ErrorKind::Connect, "refused").with_delivery_words().with_note(" (after 2 retries)");
        assert_eq!(e.message, "refused (after 2 retries); it was not sent");
        assert_eq!(Error::invalid("bad").with_note(" (x)").message, "bad (x)");
        for d in [Delivery::NotSent, Delivery::Unknown, Delivery::Answered] {
            assert_eq!(d.code() as i32, d as i32);
        }
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
