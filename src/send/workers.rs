//! The asynchronous send's workers: a per-client pool of threads, started lazily, at most
//! `max_in_flight` of them, taking operations from one FIFO queue.
//!
//! Each worker owns a ureq `Agent` made from the client's configuration, with a pool of
//! its own (so it keeps its own keep-alive connection). ureq's stable way to interrupt a
//! request is `Agent::shutdown()`, which interrupts every request of that agent: with one
//! agent per worker, cancelling an operation on the network interrupts that request alone.
//! The worker then makes a fresh agent (measured: see `BENCHMARKS.md`).
//!
//! Operations cancelled before a worker took them, and those still queued when the client
//! is freed, are delivered by one more thread, the notifier, so that their completion
//! comes promptly, never on the thread that cancelled them, even while every worker waits
//! on the network.
//!
//! [`Pool::close`] cancels everything outstanding, interrupts the workers' agents, and
//! joins every thread: no completion runs after it returns, and no thread of the pool is
//! left.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use ureq::Agent;

use crate::client::{Client, Sent};
use crate::error::{Error, ErrorKind};
use super::operation::{Deliver, Job, Operation, WorkerLane};

/// The state the pool's threads share.
#[derive(Debug)]
pub struct Shared {
    client: Arc<Client>,
    max_workers: usize,
    state: Mutex<PoolState>,
    /// Workers wait here for work.
    work: Condvar,
    /// The notifier waits here for cancelled operations to deliver.
    notices: Condvar,
}

struct PoolState {
    queue: VecDeque<Arc<dyn Job>>,
    cancelled: VecDeque<Arc<dyn Job>>,
    /// What each worker is sending now (by worker index), for `close`.
    sending: Vec<Option<Arc<dyn Job>>>,
    workers: usize,
    idle: usize,
    /// Idle workers woken (notified) that have not run yet.
    waking: usize,
    threads: Vec<JoinHandle<()>>,
    notifier: Option<JoinHandle<()>>,
    closing: bool,
    workers_gone: bool,
    /// The process the threads belong to: after `fork()` the child has none of them.
    pid: u32,
}

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolState")
            .field("queued", &self.queue.len())
            .field("workers", &self.workers)
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

/// A client's pool for asynchronous sends.
#[derive(Debug)]
pub struct Pool {
    shared: Arc<Shared>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Deliver for Shared {
    /// Hands an operation that will never be sent to the notifier, which delivers it.
    fn deliver_cancelled(&self, job: Arc<dyn Job>, closing: bool) {
        let mut error = self.client.cancelled_error(false);
        if closing {
            error.message = crate::error::bound_message(format!("{} (its client was freed)", error.message));
        }
        job.operation().set_cancelled_outcome(error);
        let mut state = self.lock();
        state.cancelled.push_back(job);
        self.notices.notify_one();
    }
}

impl Pool {
    /// A pool for `client`; no thread is started until the first send.
    pub fn new(client: Arc<Client>) -> Pool {
        let max_workers = client.settings().max_in_flight.max(1);
        Pool {
            shared: Arc::new(Shared {
                client,
                max_workers,
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    cancelled: VecDeque::new(),
                    sending: Vec::new(),
                    workers: 0,
                    idle: 0,
                    waking: 0,
                    threads: Vec::new(),
                    notifier: None,
                    closing: false,
                    workers_gone: false,
                    pid: crate::process::id(),
                }),
                work: Condvar::new(),
                notices: Condvar::new(),
            }),
        }
    }

    /// The client the pool sends for.
    pub fn client(&self) -> &Arc<Client> {
        &self.shared.client
    }

    /// A new operation for this pool, sending `body`; queue it with [`Pool::submit`].
    pub fn operation(&self, body: Vec<u8>) -> Operation {
        Operation::new(body, Arc::downgrade(&self.shared) as std::sync::Weak<dyn Deliver>)
    }

    /// How many worker threads run now (for tests and benchmarks).
    pub fn worker_count(&self) -> usize {
        self.shared.lock().workers
    }

    /// Queues a job: it will be completed exactly once, on a thread of the pool. Fails
    /// (and will never complete the job) when no thread could be started at all, or when
    /// the pool is closed.
    pub fn submit(&self, job: Arc<dyn Job>) -> Result<(), Error> {
        job.operation().set_job(Arc::downgrade(&job));
        let shared = &self.shared;
        let mut state = shared.lock();
        if state.pid != crate::process::id() {
            forget_parent_threads(&mut state);
        }
        if state.closing {
            if state.workers_gone || state.notifier.is_none() {
                // Closed: no thread is left to complete it (the C ABI cannot get here:
                // its client is freed).
                return Err(Error::not_sent(ErrorKind::Cancelled, "the client is closed; nothing was sent"));
            }
            // A callback started a send while the client is being freed: the notifier,
            // still running, completes it as cancelled.
            drop(state);
            shared.deliver_cancelled(job, true);
            return Ok(());
        }
        if state.notifier.is_none() {
            let s = Arc::clone(shared);
            let handle = std::thread::Builder::new()
                .name("so-notifier".into())
                .spawn(move || notifier(&s))
                .map_err(|e| Error::not_sent(ErrorKind::Io, format!("could not start a thread of the library: {e}; it was not sent")))?;
            state.notifier = Some(handle);
        }
        state.queue.push_back(job);
        if state.queue.len() > state.idle && state.workers < shared.max_workers {
            let index = state.sending.len();
            let s = Arc::clone(shared);
            match std::thread::Builder::new()
                .name("so-worker".into())
                .spawn(move || worker(&s, index))
            {
                Ok(handle) => {
                    state.threads.push(handle);
                    state.sending.push(None);
                    state.workers += 1;
                }
                Err(e) if state.workers == 0 => {
                    state.queue.pop_back();
                    return Err(Error::not_sent(ErrorKind::Io, format!("could not start a thread of the library: {e}; it was not sent")));
                }
                Err(_) => shared.work.notify_one(), // the workers there will get to it
            }
        } else if state.idle > 0 && state.waking == 0 {
            // A wake-up only for a worker that waits, and only when none is being woken
            // already: a woken worker wakes the next idle one itself when it finds more
            // queued (see `worker`). So a burst of sends (an event loop starting every
            // send whose predecessor completed) costs its caller one wake-up, not one
            // per send: the others happen on the library's threads. Busy workers take the
            // queue's next operation when they finish theirs.
            state.waking += 1;
            shared.work.notify_one();
        }
        Ok(())
    }

    /// Cancels every outstanding operation, waits until every completion has returned,
    /// and joins every thread of the pool. Idempotent. Must not be called from a
    /// completion of this pool.
    pub fn close(&self) {
        let shared = &self.shared;
        let (queued, sending) = {
            let mut state = shared.lock();
            if state.pid != crate::process::id() {
                forget_parent_threads(&mut state);
            }
            if state.closing {
                return;
            }
            state.closing = true;
            let queued: Vec<_> = state.queue.drain(..).collect();
            let sending: Vec<_> = state.sending.iter().flatten().cloned().collect();
            shared.work.notify_all();
            (queued, sending)
        };
        for job in queued {
            if job.operation().claim_for_close() {
                shared.deliver_cancelled(job, true);
            }
        }
        for job in sending {
            job.operation().cancel();
        }
        // A thread of the pool cannot wait for itself: should a completion free the
        // client after all (the header forbids it; a garbage collector running a
        // finalizer on that thread could), that one thread is left to end on its own.
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut shared.lock().threads);
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
        let notifier = {
            let mut state = shared.lock();
            state.workers_gone = true;
            shared.notices.notify_all();
            state.notifier.take()
        };
        if let Some(t) = notifier.filter(|t| t.thread().id() != me) {
            let _ = t.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

/// In a child process after `fork()`: the parent's threads do not exist here, and its
/// queued operations are the parent's to send. Forget them all (never run, drop or shut
/// down what belongs to the parent: its workers' agents hold the parent's sockets), and
/// start afresh.
fn forget_parent_threads(state: &mut PoolState) {
    std::mem::forget(std::mem::take(&mut state.threads));
    std::mem::forget(state.notifier.take());
    std::mem::forget(std::mem::take(&mut state.queue));
    std::mem::forget(std::mem::take(&mut state.cancelled));
    std::mem::forget(std::mem::take(&mut state.sending));
    state.workers = 0;
    state.idle = 0;
    state.waking = 0;
    state.pid = crate::process::id();
}

/// A worker: takes the next queued operation, sends it through its own agent, delivers
/// its completion; exits when the pool closes. One lock of the pool per operation: the
/// end of one send and the start of the next share it.
fn worker(shared: &Arc<Shared>, index: usize) {
    let mut agent: Agent = shared.client.fresh_agent();
    let mut state = shared.lock();
    loop {
        state.sending[index] = None;
        let job = loop {
            if let Some(job) = state.queue.pop_front() {
                if !state.queue.is_empty() && state.idle > state.waking {
                    // More is queued and a worker waits: pass the wake-up on.
                    state.waking += 1;
                    shared.work.notify_one();
                }
                break job;
            }
            if state.closing {
                state.workers -= 1;
                drop(state);
                agent.shutdown();
                return;
            }
            state.idle += 1;
            state = shared.work.wait(state).unwrap_or_else(|p| p.into_inner());
            state.idle -= 1;
            state.waking = state.waking.saturating_sub(1);
        };
        let op = job.operation();
        if !op.claim(&agent) {
            continue; // cancelled while queued: the notifier delivers it
        }
        state.sending[index] = Some(Arc::clone(&job));
        // `close` may have taken its list of operations to cancel before this one started.
        let closing = state.closing;
        drop(state);
        if closing {
            op.cancel();
        }
        let outcome: Result<Sent, Error> = catch_unwind(AssertUnwindSafe(|| {
            shared.client.send_body(op.body(), Some(&WorkerLane { agent: &agent, operation: op }))
        }))
        .unwrap_or_else(|_| Err(panic_error()));
        if op.finish(outcome) {
            // The cancellation shut this agent down; later requests need a new one.
            agent = shared.client.fresh_agent();
        }
        deliver(job);
        state = shared.lock();
    }
}

/// The notifier: delivers operations that ended without being sent.
fn notifier(shared: &Arc<Shared>) {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if let Some(job) = state.cancelled.pop_front() {
                    break job;
                }
                if state.workers_gone {
                    return;
                }
                state = shared.notices.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        };
        deliver(job);
    }
}

/// Calls the job's completion, with no lock held; a panic in it is contained.
fn deliver(job: Arc<dyn Job>) {
    let _ = catch_unwind(AssertUnwindSafe(|| job.completed()));
}

fn panic_error() -> Error {
    Error::new(
        ErrorKind::Panic,
        "internal error: a bug inside superoffice-ffi was caught in a worker thread (panic); please report it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;
    use std::time::Instant;

    /// What a cancel on the network costs the worker besides the interrupted request: a
    /// fresh agent (the next request then opens a new connection, and over https makes a
    /// new TLS session). Printed, not asserted.
    #[test]
    fn a_fresh_agent_is_cheap() {
        let client = Client::new(&Settings::new("https://127.0.0.1:1/Cust1").unwrap()).unwrap();
        let started = Instant::now();
        for _ in 0..1000 {
            drop(client.fresh_agent());
        }
        println!("a fresh agent: {:.1} µs", started.elapsed().as_secs_f64() * 1e6 / 1000.0);
    }

    #[test]
    fn a_pool_without_sends_starts_no_thread() {
        let client = Arc::new(Client::new(&Settings::new("http://127.0.0.1:1/Cust1").unwrap()).unwrap());
        let pool = Pool::new(client);
        assert_eq!(pool.worker_count(), 0);
        pool.close();
        pool.close();
    }
}
