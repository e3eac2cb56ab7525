//! Many e-mails at once, concurrently over one client's connection pool.
//!
//! Each item is sent with the same rules as a single send (retries of what the server
//! provably did not process, within the total timeout), so a rate-limited batch waits
//! and goes on rather than failing. Every item ends with exactly one result.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::client::{Client, Sent};
use crate::error::Error;
use crate::request::PasswordEmail;

/// Most sending threads one batch starts.
pub const MAX_CONCURRENCY: usize = 64;

/// Checks a caller's concurrency: 1 to [`MAX_CONCURRENCY`].
pub fn check_concurrency(max_concurrency: u64) -> Result<usize, Error> {
    match usize::try_from(max_concurrency) {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(Error::invalid(format!(
            "max_concurrency {max_concurrency} is out of range (1 to {MAX_CONCURRENCY})"
        ))),
    }
}

/// Sends every item, at most `max_concurrency` at a time. `on_result(index, result, done)`
/// is called on the calling thread once per item, as items finish, in completion order.
pub fn send_many<F>(client: &Client, items: &[PasswordEmail<'_>], max_concurrency: usize, mut on_result: F)
where
    F: FnMut(usize, Result<Sent, Error>, usize),
{
    if items.is_empty() {
        return;
    }
    let workers = max_concurrency.clamp(1, MAX_CONCURRENCY).min(items.len());
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Result<Sent, Error>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let outcome = client.send_cc_password_email(item);
                if tx.send((i, outcome)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut done = 0;
        for (i, outcome) in rx {
            done += 1;
            on_result(i, outcome, done);
        }
    });
}

/// The failed items of a batch: how many, and the first by index.
#[derive(Debug, Default)]
pub struct Failures {
    count: usize,
    first: Option<(usize, Error)>,
}

impl Failures {
    /// Notes that item `index` failed.
    pub fn record(&mut self, index: usize, error: Error) {
        self.count += 1;
        if self.first.as_ref().is_none_or(|(i, _)| index < *i) {
            self.first = Some((index, error));
        }
    }

    /// How many items failed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// `Ok` when no item failed; else the first failure's kind and status, with a summary.
    pub fn into_result(self, total: usize) -> Result<(), Error> {
        match self.first {
            None => Ok(()),
            Some((index, first)) => Err(Error {
                message: crate::error::bound_message(format!(
                    "{} of {} e-mails failed; the first, item {}: {}",
                    self.count, total, index, first.message
                )),
                ..first
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn concurrency_is_checked() {
        assert_eq!(check_concurrency(1), Ok(1));
        assert_eq!(check_concurrency(64), Ok(64));
        assert_eq!(check_concurrency(0).unwrap_err().kind, ErrorKind::InvalidArgument);
        assert_eq!(check_concurrency(65).unwrap_err().kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn failures_report_the_first_by_index() {
        assert_eq!(Failures::default().into_result(3), Ok(()));
        let mut f = Failures::default();
        f.record(5, Error::new(ErrorKind::Server, "five"));
        f.record(2, Error::new(ErrorKind::NotFound, "two"));
        f.record(7, Error::new(ErrorKind::Timeout, "seven"));
        let e = f.into_result(10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "3 of 10 e-mails failed; the first, item 2: two");
    }
}
