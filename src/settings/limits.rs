//! Limits: timeouts, retries and sends in flight, their defaults and their ranges.

use std::time::Duration;

use crate::error::Error;

/// Default connect timeout (the .NET client's).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout (the .NET client's request timeout).
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries of requests the server provably did not process.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Most retries a caller may ask for.
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// Default number of asynchronous sends of one client on the network at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Most asynchronous sends of one client on the network at once (and its worker threads).
pub const MAX_IN_FLIGHT_LIMIT: usize = 1024;

/// A timeout in milliseconds; 0 means no limit.
pub fn timeout_from_ms(ms: u32) -> Option<Duration> {
    (ms != 0).then(|| Duration::from_millis(u64::from(ms)))
}

/// The connect limit of a request that may take at most `total`: the connect timeout
/// never outlasts the total.
pub fn connect_within(connect: Option<Duration>, total: Option<Duration>) -> Option<Duration> {
    match (connect, total) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (None, t) => t,
        (c, None) => c,
    }
}

/// Asynchronous sends on the network at once: 1 to [`MAX_IN_FLIGHT_LIMIT`].
pub fn check_max_in_flight(n: u32) -> Result<usize, Error> {
    match usize::try_from(n) {
        Ok(n) if (1..=MAX_IN_FLIGHT_LIMIT).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "max_in_flight {n} is out of range (1 to {MAX_IN_FLIGHT_LIMIT})"
        ))),
    }
}

/// Retries of unprocessed requests: 0 to [`MAX_RETRIES_LIMIT`].
pub fn check_max_retries(n: u32) -> Result<u32, Error> {
    if n > MAX_RETRIES_LIMIT {
        return Err(Error::invalid(format!(
            "max_retries {n} is out of range (0 to {MAX_RETRIES_LIMIT})"
        )));
    }
    Ok(n)
}
