//! Reading what a server answered: the status line as messages show it, and a body read
//! up to a limit.

use std::io::Read;

use ureq::http::StatusCode;
use ureq::Body;

/// `404 Not Found`.
pub fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {}", status.as_u16(), reason),
        None => status.as_u16().to_string(),
    }
}

/// Reads at most `limit` bytes of a body. The bytes are kept when `keep`, else dropped.
/// A body longer than the limit is left unread (its connection is then closed).
pub fn read_bounded(body: &mut Body, limit: u64, keep: bool) -> Vec<u8> {
    let mut reader = body.as_reader().take(limit);
    if keep {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        out
    } else {
        // Not `io::copy`: it clears an 8 KiB buffer on every call, for bodies mostly empty.
        let mut buf = [0u8; 512];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        Vec::new()
    }
}
