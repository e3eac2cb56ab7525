//! The core of the asynchronous send (`send::workers::Pool`, `send::operation::Operation`) against the
//! stub server: completion exactly once, on a thread of the pool; FIFO order under
//! `max_in_flight`; cancellation before and during the send; `close` with operations
//! outstanding. The C ABI's own tests are tests/c/test_async.c.

use superoffice_stub as stub;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use superoffice::send::operation::{Job, Operation};
use superoffice::send::workers::Pool;
use superoffice::{Client, ErrorKind, PasswordEmail, Settings};

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// When an operation ended, on which thread, and how (the status or the error's kind).
type Ended = (Instant, ThreadId, Result<u16, ErrorKind>);

/// A job that records how its operation ended.
struct Recorder {
    op: Operation,
    calls: AtomicUsize,
    ended: Mutex<Option<Ended>>,
}

impl Job for Recorder {
    fn operation(&self) -> &Operation {
        &self.op
    }

    fn completed(self: Arc<Self>) {
        let outcome = self.op.outcome().expect("an outcome before the completion");
        *self.ended.lock().unwrap() =
            Some((Instant::now(), std::thread::current().id(), outcome.map(|s| s.http_status).map_err(|e| e.kind)));
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

fn pool_for(s: &stub::Stub, name: &str, directives: &str, max_in_flight: u32) -> (String, Pool) {
    let prefix = format!("/rs-async-{}-{name}", UNIQUE.fetch_add(1, Ordering::Relaxed));
    let base = format!("{}{prefix}/{directives}/Cust12345", s.url());
    let mut settings = Settings::builder(&base).unwrap();
    settings.ticket("7T:dGVzdA==").unwrap();
    settings.timeouts_ms(2000, 0);
    settings.max_in_flight(max_in_flight).unwrap();
    (prefix, Pool::new(Arc::new(Client::new(&settings.build()).unwrap())))
}

fn start(pool: &Pool, person_id: i32) -> Arc<Recorder> {
    let body = PasswordEmail { person_id, from: None, to: None, subject: None }.json_body().unwrap();
    let job = Arc::new(Recorder { op: pool.operation(body), calls: AtomicUsize::new(0), ended: Mutex::new(None) });
    pool.submit(job.clone()).unwrap();
    job
}

fn wait(job: &Recorder) -> Ended {
    let until = Instant::now() + Duration::from_secs(10);
    while job.calls.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < until, "no completion");
        std::thread::sleep(Duration::from_millis(1));
    }
    job.ended.lock().unwrap().unwrap()
}

#[test]
fn completions_come_once_on_a_pool_thread_in_fifo_order() {
    let s = stub::Stub::start();
    let (prefix, pool) = pool_for(&s, "fifo", "delay_ms=100", 2);
    assert_eq!(pool.worker_count(), 0);
    let jobs: Vec<_> = (1..=6).map(|i| start(&pool, i)).collect();
    let ends: Vec<_> = jobs.iter().map(|j| wait(j)).collect();
    assert!(pool.worker_count() <= 2);
    for (_, thread, outcome) in &ends {
        assert_ne!(*thread, std::thread::current().id());
        assert_eq!(*outcome, Ok(204));
    }
    // two at a time: the last pair ended at least two delays after the first pair
    assert!(ends[5].0 >= ends[0].0 + Duration::from_millis(150));
    pool.close();
    assert!(jobs.iter().all(|j| j.calls.load(Ordering::SeqCst) == 1));
    assert_eq!(s.count(&prefix), 6);
}

#[test]
fn cancel_before_and_during_the_send() {
    let s = stub::Stub::start();
    let (prefix, pool) = pool_for(&s, "cancel", "hang", 1);
    let on_network = start(&pool, 1);
    let queued = start(&pool, 2);
    let until = Instant::now() + Duration::from_secs(5);
    while s.count(&prefix) < 1 {
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(2));
    }
    queued.op.cancel();
    assert_eq!(wait(&queued).2, Err(ErrorKind::Cancelled));
    let cancelled_at = Instant::now();
    on_network.op.cancel();
    on_network.op.cancel(); // twice: a no-op
    let (ended, _, outcome) = wait(&on_network);
    assert_eq!(outcome, Err(ErrorKind::Cancelled));
    assert!(ended - cancelled_at < Duration::from_secs(1));
    let message = on_network.op.outcome().unwrap().unwrap_err().message;
    assert!(message.contains("may already have received"), "{message}");
    pool.close();
    assert_eq!(s.count(&prefix), 1);
    assert_eq!(on_network.calls.load(Ordering::SeqCst) + queued.calls.load(Ordering::SeqCst), 2);
}

#[test]
fn close_cancels_what_is_outstanding_and_joins() {
    let s = stub::Stub::start();
    let (_, pool) = pool_for(&s, "close", "hang", 3);
    let jobs: Vec<_> = (1..=8).map(|i| start(&pool, i)).collect();
    std::thread::sleep(Duration::from_millis(100));
    pool.close();
    assert_eq!(pool.worker_count(), 0);
    for j in &jobs {
        assert_eq!(j.calls.load(Ordering::SeqCst), 1);
        assert_eq!(j.op.outcome().unwrap().unwrap_err().kind, ErrorKind::Cancelled);
    }
    // after close: refused, and never completed
    let body = PasswordEmail { person_id: 9, from: None, to: None, subject: None }.json_body().unwrap();
    let late = Arc::new(Recorder { op: pool.operation(body), calls: AtomicUsize::new(0), ended: Mutex::new(None) });
    assert_eq!(pool.submit(late.clone()).unwrap_err().kind, ErrorKind::Cancelled);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(late.calls.load(Ordering::SeqCst), 0);
}
