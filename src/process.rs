//! The id of the current process, without a system call per send.
//!
//! Clients check before each send that they still run in the process that made their
//! connections (after `fork()` the child must not use the parent's sockets). glibc does
//! not cache the process id, so `std::process::id()` is a `getpid` system call each time.
//! Here the id is kept in an atomic, and refreshed in a child by a handler that runs in
//! every `fork()` ([`forked`], registered by the C shell with `pthread_atfork`). Until
//! that handler is in place ([`watch_forks`]), every read asks the system.
//!
//! A child made by a raw `clone` system call, which runs no fork handlers, is not seen;
//! `fork()`, `posix_spawn` and every runtime's fork (Python's `os.fork`) are.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

static PID: AtomicU32 = AtomicU32::new(0);
static WATCHED: AtomicBool = AtomicBool::new(false);

/// The id of the current process.
pub fn id() -> u32 {
    if WATCHED.load(Ordering::Acquire) {
        let pid = PID.load(Ordering::Acquire);
        if pid != 0 {
            return pid;
        }
    }
    std::process::id()
}

/// Called once [`forked`] runs in the child of every `fork()`: from now on [`id`] reads
/// the kept id.
pub fn watch_forks() {
    PID.store(std::process::id(), Ordering::Release);
    WATCHED.store(true, Ordering::Release);
}

/// Runs in the child right after `fork()`, before anything else there: keeps the child's
/// id (one `getpid` and one atomic store: async-signal-safe).
pub fn forked() {
    PID.store(std::process::id(), Ordering::Release);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kept_id_is_this_process_s() {
        assert_eq!(super::id(), std::process::id());
        super::watch_forks();
        assert_eq!(super::id(), std::process::id());
    }
}
