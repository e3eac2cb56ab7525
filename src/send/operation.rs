//! One asynchronous send: its body, its stage, its outcome, and its cancellation.
//!
//! An operation is queued, then claimed by exactly one party: a worker that sends it, or
//! a cancellation that ends it before it was sent. Whoever claims it delivers its
//! completion, so the completion happens exactly once. A cancellation of an operation on
//! the network shuts down the agent of the worker sending it (that agent serves this one
//! request only), which interrupts the wait for the answer at once.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use ureq::Agent;

use crate::client::{Lane, Sent};
use crate::error::Error;

/// What the pool runs: the core operation, and what to do once it has ended (the C
/// callback, in the ABI). `completed` is called exactly once, on a thread of the
/// library, with no lock of the library held.
pub trait Job: Send + Sync {
    /// The operation.
    fn operation(&self) -> &Operation;
    /// Called once the operation's outcome is set.
    fn completed(self: Arc<Self>);
}

/// Where an operation cancelled while still queued is handed, to be delivered (the
/// pool: its notifier thread completes it).
pub(crate) trait Deliver: Send + Sync + std::fmt::Debug {
    /// Takes a job whose operation will never be sent; `closing` when its client is
    /// being freed.
    fn deliver_cancelled(&self, job: Arc<dyn Job>, closing: bool);
}

/// Where an operation is.
#[derive(Debug)]
enum Stage {
    /// In the pool's queue, not claimed yet.
    Queued,
    /// Claimed by a worker, sent through this agent (shut down to interrupt it).
    Sending(Agent),
    /// Ended (its outcome is set, or is about to be delivered).
    Ended,
}

#[derive(Debug)]
struct State {
    stage: Stage,
    cancelled: bool,
    outcome: Option<Result<Sent, Error>>,
}

/// One asynchronous send.
#[derive(Debug)]
pub struct Operation {
    body: Vec<u8>,
    state: Mutex<State>,
    wake: Condvar,
    pool: Weak<dyn Deliver>,
    /// The job this operation belongs to (set when it is queued), for the notifier.
    job: OnceLock<Weak<dyn Job>>,
}

impl Operation {
    /// A queued operation sending `body` (checked and built by
    /// [`crate::request::PasswordEmail::json_body`]), for the pool `pool`.
    pub(crate) fn new(body: Vec<u8>, pool: Weak<dyn Deliver>) -> Operation {
        Operation {
            body,
            state: Mutex::new(State { stage: Stage::Queued, cancelled: false, outcome: None }),
            wake: Condvar::new(),
            pool,
            job: OnceLock::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The request body.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Cancels: a queued operation is never sent and ends with [`crate::ErrorKind::Cancelled`]
    /// (delivered by the pool's notifier thread); one on the network has its worker's
    /// agent shut down, which ends the wait for the answer at once. An ended operation,
    /// or a second cancel, is left as it is.
    pub fn cancel(&self) {
        let mut state = self.lock();
        if state.cancelled {
            return;
        }
        match &state.stage {
            Stage::Ended => {}
            Stage::Queued => {
                state.cancelled = true;
                state.stage = Stage::Ended;
                drop(state);
                let job = self.job.get().and_then(Weak::upgrade);
                if let (Some(pool), Some(job)) = (self.pool.upgrade(), job) {
                    pool.deliver_cancelled(job, false);
                }
            }
            Stage::Sending(agent) => {
                let agent = agent.clone();
                state.cancelled = true;
                // Under the lock: the worker cannot move on to another request with this
                // agent before the shutdown is done.
                agent.shutdown();
                self.wake.notify_all();
            }
        }
    }

    /// Whether a cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.lock().cancelled
    }

    /// Whether it has ended, and how; `None` while it runs.
    pub fn outcome(&self) -> Option<Result<Sent, Error>> {
        self.lock().outcome.clone()
    }

    /// Reads the outcome without cloning it.
    pub fn with_outcome<T>(&self, read: impl FnOnce(Option<&Result<Sent, Error>>) -> T) -> T {
        read(self.lock().outcome.as_ref())
    }

    /// Remembers the job this operation belongs to.
    pub(crate) fn set_job(&self, job: Weak<dyn Job>) {
        let _ = self.job.set(job);
    }

    /// A worker claims a queued operation to send it through `agent`; false when it was
    /// cancelled (and so claimed) before.
    pub(crate) fn claim(&self, agent: &Agent) -> bool {
        let mut state = self.lock();
        if !matches!(state.stage, Stage::Queued) {
            return false;
        }
        state.stage = Stage::Sending(agent.clone());
        true
    }

    /// The closing pool claims an operation still queued (false when a cancellation
    /// claimed it first).
    pub(crate) fn claim_for_close(&self) -> bool {
        let mut state = self.lock();
        if !matches!(state.stage, Stage::Queued) {
            return false;
        }
        state.stage = Stage::Ended;
        state.cancelled = true;
        true
    }

    /// Ends a claimed operation with its outcome. True when a cancellation shut the
    /// worker's agent down meanwhile (the worker then needs a new one).
    pub(crate) fn finish(&self, outcome: Result<Sent, Error>) -> bool {
        let mut state = self.lock();
        let was_sending = matches!(state.stage, Stage::Sending(_));
        state.stage = Stage::Ended;
        state.outcome = Some(outcome);
        was_sending && state.cancelled
    }

    /// Sets the outcome of an operation cancelled before it was claimed (or refused by a
    /// closing pool).
    pub(crate) fn set_cancelled_outcome(&self, error: Error) {
        let mut state = self.lock();
        state.cancelled = true;
        state.stage = Stage::Ended;
        if state.outcome.is_none() {
            state.outcome = Some(Err(error));
        }
    }
}

/// The lane of a worker sending one operation: the worker's agent, and waits that a
/// cancellation of the operation ends.
pub(crate) struct WorkerLane<'a> {
    pub(crate) agent: &'a Agent,
    pub(crate) operation: &'a Operation,
}

impl Lane for WorkerLane<'_> {
    fn agent(&self) -> Agent {
        self.agent.clone()
    }

    fn pause(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        let mut state = self.operation.lock();
        loop {
            if state.cancelled {
                return false;
            }
            let Some(left) = until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
                return true;
            };
            state = self.operation.wake.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn cancelled(&self) -> bool {
        self.operation.is_cancelled()
    }
}
