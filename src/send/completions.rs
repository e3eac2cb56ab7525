//! A queue of completed asynchronous sends that one thread waits on: the way for a
//! runtime with a global lock (Python's) to learn of completions in batches, without
//! the library's worker threads ever entering that runtime. Workers push; a waiter takes
//! everything that arrived, at most a given number at a time.
//!
//! On Unix the queue can also show its state on a file descriptor ([`CompletionQueue::readiness_fd`]),
//! readable while completions wait, so that an event loop (asyncio's selector) takes them
//! itself, with no thread of its own waiting: one end of a socket pair holds one byte
//! exactly while the queue is not empty (written by the push that fills an empty queue,
//! read back by the take that empties it, both under the queue's lock).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::net::UnixStream;

/// The two ends of the readiness signal: `readable` is the one an event loop watches.
#[cfg(unix)]
#[derive(Debug)]
struct Signal {
    readable: UnixStream,
    writer: UnixStream,
}

#[cfg(unix)]
impl Signal {
    fn new() -> std::io::Result<Signal> {
        let (readable, writer) = UnixStream::pair()?;
        readable.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Signal { readable, writer })
    }

    /// Makes the readable end readable (the queue is no longer empty).
    fn raise(&self) {
        let _ = (&self.writer).write(&[1]);
    }

    /// Makes it unreadable again (the queue is empty).
    fn lower(&self) {
        let mut sink = [0u8; 16];
        while matches!((&self.readable).read(&mut sink), Ok(n) if n > 0) {}
    }
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    waiting: usize,
    #[cfg(unix)]
    signal: Option<Signal>,
}

/// Completions waiting to be taken.
#[derive(Debug)]
pub struct CompletionQueue<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

impl<T> Default for CompletionQueue<T> {
    fn default() -> Self {
        CompletionQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
                waiting: 0,
                #[cfg(unix)]
                signal: None,
            }),
            ready: Condvar::new(),
        }
    }
}

impl<T> CompletionQueue<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a completion; wakes a waiter only when one waits and the queue was empty
    /// (a waiter that is awake takes everything anyway).
    pub fn push(&self, item: T) {
        let mut state = self.lock();
        let was_empty = state.items.is_empty();
        state.items.push_back(item);
        if was_empty {
            #[cfg(unix)]
            if let Some(signal) = &state.signal {
                signal.raise();
            }
            if state.waiting > 0 {
                self.ready.notify_one();
            }
        }
    }

    /// A file descriptor that is readable exactly while completions wait in the queue
    /// (made on the first call; the same one afterwards; closed with the queue). The
    /// caller only watches it (poll, epoll, an event loop's reader) and takes the
    /// completions with [`CompletionQueue::take`]: it must not read or write it.
    #[cfg(unix)]
    pub fn readiness_fd(&self) -> std::io::Result<std::os::unix::io::RawFd> {
        use std::os::unix::io::AsRawFd;
        let mut state = self.lock();
        if state.signal.is_none() {
            let signal = Signal::new()?;
            if !state.items.is_empty() {
                signal.raise();
            }
            state.signal = Some(signal);
        }
        Ok(state.signal.as_ref().map_or(-1, |s| s.readable.as_raw_fd()))
    }

    /// Waits until something is queued, the queue is closed, or `timeout` passes; then
    /// moves at most `max` items into `out` (in the order pushed) and returns how many.
    pub fn take(&self, timeout: Duration, max: usize, mut out: impl FnMut(T)) -> usize {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.lock();
        while state.items.is_empty() && !state.closed {
            let left = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return 0,
                },
                None => Duration::from_secs(3600),
            };
            state.waiting += 1;
            state = self.ready.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
            state.waiting -= 1;
        }
        let n = state.items.len().min(max);
        for item in state.items.drain(..n) {
            out(item);
        }
        #[cfg(unix)]
        if n > 0 && state.items.is_empty() {
            if let Some(signal) = &state.signal {
                signal.lower();
            }
        }
        n
    }

    /// Wakes every waiter; from now on `take` does not wait (it still returns what is
    /// queued, and pushes are still kept).
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn takes_in_order_at_most_max_and_waits_for_a_push() {
        let q = Arc::new(CompletionQueue::default());
        for i in 0..5 {
            q.push(i);
        }
        let mut got = Vec::new();
        assert_eq!(q.take(Duration::ZERO, 3, |i| got.push(i)), 3);
        assert_eq!(q.take(Duration::ZERO, 3, |i| got.push(i)), 2);
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(q.take(Duration::from_millis(20), 3, |i| got.push(i)), 0, "times out when empty");
        let pusher = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                q.push(7);
            })
        };
        assert_eq!(q.take(Duration::from_secs(10), 3, |i| got.push(i)), 1);
        assert_eq!(got.last(), Some(&7));
        pusher.join().unwrap();
    }

    #[test]
    fn close_wakes_a_waiter_and_keeps_what_is_queued() {
        let q: Arc<CompletionQueue<u32>> = Arc::new(CompletionQueue::default());
        let waiter = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || q.take(Duration::from_secs(30), 8, |_| {}))
        };
        std::thread::sleep(Duration::from_millis(50));
        q.close();
        assert_eq!(waiter.join().unwrap(), 0);
        q.push(1);
        let mut got = Vec::new();
        assert_eq!(q.take(Duration::from_secs(30), 8, |i| got.push(i)), 1);
        assert_eq!(got, [1]);
    }
}
