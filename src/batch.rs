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
