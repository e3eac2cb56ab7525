//! The fork handlers behind [`crate::process`] and the table of shared credentials
//! (`credentials/shared.rs`): registered once, with `pthread_atfork`, when the first
//! client is made, so that a send reads the process id from memory instead of asking
//! the system each time and still notices a `fork()`, and so that a child starts with
//! no credential of its parent's table (none half obtained, no lock held).

use std::sync::Once;

#[cfg(unix)]
extern "C" fn in_child() {
    crate::process::forked();
    // The child starts with no table of credentials: none half obtained, no lock or
    // login of a thread that does not exist there.
    crate::credentials::shared::after_fork_in_child();
}

#[cfg(unix)]
extern "C" fn before_fork() {
    crate::credentials::shared::before_fork();
}

#[cfg(unix)]
extern "C" fn in_parent() {
    crate::credentials::shared::after_fork_in_parent();
}

/// Registers the handler (once per process; a failed registration leaves every read of
/// the id to the system).
pub(crate) fn watch() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        {
            // SAFETY: the handlers are plain functions that live as long as the process.
            // The child's does only async-signal-safe work (getpid, an atomic store, and
            // a mutex unlock by the thread that locked it in the prepare handler).
            if unsafe { libc::pthread_atfork(Some(before_fork), Some(in_parent), Some(in_child)) } == 0 {
                crate::process::watch_forks();
            }
        }
        #[cfg(not(unix))]
        crate::process::watch_forks(); // no fork() there
    });
}
