//! The fork handler behind [`crate::process`]: registered once, with `pthread_atfork`,
//! when the first client is made, so that a send reads the process id from memory
//! instead of asking the system each time, and still notices a `fork()`.

use std::sync::Once;

#[cfg(unix)]
extern "C" fn in_child() {
    crate::process::forked();
}

/// Registers the handler (once per process; a failed registration leaves every read of
/// the id to the system).
pub(crate) fn watch() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(unix)]
        {
            // SAFETY: `in_child` is a plain function that lives as long as the process,
            // and does only async-signal-safe work (getpid, an atomic store).
            if unsafe { libc::pthread_atfork(None, None, Some(in_child)) } == 0 {
                crate::process::watch_forks();
            }
        }
        #[cfg(not(unix))]
        crate::process::watch_forks(); // no fork() there
    });
}
