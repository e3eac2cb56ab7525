//! Request logging through a callback of the host program's (never a global logger).

/// How important a log line is; the numbers are the C ABI's `SO_LOG_*` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i32)]
pub enum Level {
    /// A call failed.
    Error = 1,
    /// A request failed and will be retried, or credentials were refreshed.
    Warn = 2,
    /// One line per request: method, URL, status, duration, retries.
    Info = 3,
    /// Details such as waits before retries.
    Debug = 4,
}

/// Receives log lines. Lines never contain passwords, tickets, tokens or app tokens.
pub trait Logger: Send + Sync {
    /// One line.
    fn log(&self, level: Level, message: &str);
}

/// Shown as `callback` (what it holds is the host program's).
impl std::fmt::Debug for dyn Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("callback")
    }
}
