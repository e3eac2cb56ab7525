//! When a request may be sent again, and how long to wait first.
//!
//! Only what the server provably did not process is retried: a connection that could not
//! be made, 429 and 503. Everything else that may have reached the server is final.

use std::time::{Duration, SystemTime};

use crate::error::{Delivery, Error, ErrorKind};

/// Whether a transport failure may be sent again: a connection that could not be made
/// (`Connect`, or a `Timeout` of the connect phase), which is always `NotSent`. A
/// `NotSent` failure of another kind (a refused certificate, a request head too large)
/// would fail the same way again, and nothing `Unknown` is ever sent again.
pub fn may_resend(error: &Error) -> bool {
    error.delivery == Delivery::NotSent && matches!(error.kind, ErrorKind::Connect | ErrorKind::Timeout)
}

/// First backoff step when the server gives no `Retry-After`.
pub const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Longest backoff step.
pub const BACKOFF_CAP: Duration = Duration::from_secs(10);
/// Longest `Retry-After` wait made when the caller set no total timeout.
pub const MAX_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(120);

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX / 4)));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter for retry number `attempt` (0 for the first retry):
/// a random wait between half and all of `base * 2^attempt`, capped.
pub fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(BACKOFF_CAP);
    let millis = step.as_millis() as u64;
    Duration::from_millis(millis / 2 + fastrand::u64(0..=millis / 2))
}

/// Says a duration the way a person would read it in a message.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert!(parse_retry_after("99999999999999999999999", now).unwrap() > Duration::from_secs(1 << 40));
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:42 GMT", now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..40 {
            let step = BACKOFF_BASE.saturating_mul(1 << attempt.min(16)).min(BACKOFF_CAP);
            let b = backoff(attempt);
            assert!(b >= step / 2 && b <= step, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(250)), "250 ms");
        assert_eq!(human(Duration::from_secs(30)), "30 s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
    }
}
