//! Sending: one e-mail, or the rows of a CSV over worker threads sharing one client,
//! with a journal, a shared pause for rate limits, and Ctrl-C handling.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use superoffice::person::single_person;
use superoffice::{Client, Delivery, Error, PasswordEmail, PersonMatch};

use crate::input::Row;
use crate::journal::{Key, Previous, Writer};
use crate::outcome::{judge, Outcome, State, Unresolved, Verdict};
use crate::progress::{Progress, Tally};
use crate::report::{Listed, Report};

/// Longest pause the run makes for one answer (a `Retry-After` of days is cut to this).
const LONGEST_PAUSE: Duration = Duration::from_secs(3600);

/// What every worker honours before it sends: a shared "not before" instant (set by
/// 429, 503 and failed connections) and the request to stop.
#[derive(Default)]
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// Rows committed as being sent whose outcome is not committed yet.
    pub in_flight: AtomicUsize,
}

#[derive(Default)]
struct GateState {
    until: Option<Instant>,
    why: String,
    stopping: bool,
    /// Why the run stops on its own; `None` when it was interrupted.
    stop_reason: Option<String>,
    /// Pauses without a `Retry-After` since the last accepted e-mail (for the backoff).
    streak: u32,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stop taking rows (`reason`: why the run stops on its own; `None` for Ctrl-C);
    /// wakes every waiting worker. The first reason is kept.
    pub fn stop(&self, reason: Option<String>) {
        let mut s = self.lock();
        s.stopping = true;
        if s.stop_reason.is_none() {
            s.stop_reason = reason;
        }
        drop(s);
        self.changed.notify_all();
    }

    pub fn stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Whether the run stops, and why when it stops on its own.
    fn stopped(&self) -> Option<Option<String>> {
        let s = self.lock();
        s.stopping.then(|| s.stop_reason.clone())
    }

    /// Blocks until the run may send. False when the run stops instead.
    fn wait_turn(&self) -> bool {
        let mut s = self.lock();
        loop {
            if s.stopping {
                return false;
            }
            let now = Instant::now();
            match s.until {
                Some(t) if t > now => s = self.changed.wait_timeout(s, t - now).unwrap_or_else(|p| p.into_inner()).0,
                _ => return true,
            }
        }
    }

    /// The whole run waits: for the server's `Retry-After` when given, else for a
    /// backoff that grows with each pause. The longest wait asked for wins. Returns the
    /// wait when it moved the instant on.
    fn pause(&self, retry_after: Option<Duration>, why: &str) -> Option<Duration> {
        let mut s = self.lock();
        let wait = match retry_after {
            Some(w) => w.min(LONGEST_PAUSE),
            None => {
                s.streak = s.streak.saturating_add(1);
                superoffice::retry::backoff(s.streak - 1)
            }
        };
        let until = Instant::now() + wait;
        if s.until.is_some_and(|t| t >= until) {
            return None;
        }
        s.until = Some(until);
        s.why = why.to_string();
        Some(wait)
    }

    fn calm(&self) {
        let mut s = self.lock();
        s.streak = 0;
    }

    /// How long the run still waits, and why.
    fn waiting(&self) -> Option<(Duration, String)> {
        let s = self.lock();
        let left = s.until?.checked_duration_since(Instant::now())?;
        (!left.is_zero()).then(|| (left, s.why.clone()))
    }
}

/// Why the whole run pauses, for the progress line (no status: a connection that could
/// not be made, or a connect timeout).
fn pause_reason(o: &Outcome) -> String {
    match o.http_status {
        0 => "no connection to the server".to_string(),
        429 => "rate limited: HTTP 429".to_string(),
        status => format!("server busy: HTTP {status}"),
    }
}

fn email(row: &Row) -> PasswordEmail<'_> {
    PasswordEmail {
        person_id: row.person_id,
        from: row.from.as_deref(),
        to: row.to.as_deref(),
        subject: row.subject.as_deref(),
    }
}

/// Sends one row, again while the server provably did not take it (at most
/// `max_retries` times), honouring the gate before each attempt. `before` runs just
/// before each request and may refuse it; `after` records each attempt's outcome.
/// Returns the last outcome, or `None` when no request was made.
///
/// A journal failure stops the row: before a request, nothing is sent; after one, the
/// row is reported unknown (the journal still says it is being sent, so a re-run does
/// not resend it).
fn send_row(
    client: &Client,
    gate: &Gate,
    row: &Row,
    max_retries: u32,
    mut before: impl FnMut() -> Result<bool, String>,
    mut after: impl FnMut(&Outcome) -> Result<(), String>,
    mut paused: impl FnMut(Duration, &str),
) -> Result<Option<Outcome>, JournalStop> {
    let mut last: Option<Outcome> = None;
    let mut retries = 0;
    let unrecorded = |outcome: Outcome, e: String| JournalStop {
        outcome: Some(Outcome {
            state: State::Unknown,
            code: "Journal".into(),
            message: format!(
                "the server answered ({}), but the journal could not record it",
                crate::progress::outcome_text(&outcome)
            ),
            ..outcome
        }),
        reason: e,
    };
    loop {
        if !gate.wait_turn() {
            return Ok(last);
        }
        match before() {
            Ok(true) => {}
            Ok(false) => return Ok(last),
            Err(reason) => return Err(JournalStop { reason, outcome: last }),
        }
        // In flight from the committed mark to the committed outcome.
        gate.in_flight.fetch_add(1, Ordering::SeqCst);
        let result = client.send_cc_password_email(&email(row));
        let verdict = judge(result);
        let recorded = match &verdict {
            Verdict::Done(outcome) | Verdict::Again { outcome, .. } => after(outcome),
        };
        gate.in_flight.fetch_sub(1, Ordering::SeqCst);
        match verdict {
            Verdict::Done(outcome) => {
                if let Err(e) = recorded {
                    return Err(unrecorded(outcome, e));
                }
                if outcome.state == State::Accepted {
                    gate.calm();
                }
                return Ok(Some(outcome));
            }
            Verdict::Again { outcome, retry_after } => {
                if let Err(e) = recorded {
                    return Err(unrecorded(outcome, e));
                }
                if retries >= max_retries {
                    return Ok(Some(outcome));
                }
                retries += 1;
                let why = pause_reason(&outcome);
                if let Some(wait) = gate.pause(retry_after, &why) {
                    paused(wait, &why);
                }
                last = Some(outcome);
            }
        }
    }
}

/// A journal failure: why, and the row's outcome to report, if a request was made.
struct JournalStop {
    reason: String,
    outcome: Option<Outcome>,
}

/// One e-mail, no journal. Prints one line; returns the exit status.
pub fn single(client: &Client, row: &Row, max_retries: u32, json: bool) -> i32 {
    let gate = Gate::default();
    let outcome = send_row(client, &gate, row, max_retries, || Ok(true), |_| Ok(()), |wait, why| {
        eprintln!("{why}: waiting {} before sending again", superoffice::retry::human(wait));
    })
    .ok()
    .flatten()
    .expect("a single send always makes a request");
    if json {
        println!("{:#}", crate::report::single_json(row, &outcome));
    } else if outcome.state == State::Accepted {
        println!("{}: {}", row.describe(), crate::progress::outcome_text(&outcome));
    } else {
        eprintln!("{}: {}", row.describe(), crate::progress::outcome_text(&outcome));
    }
    i32::from(outcome.state != State::Accepted)
}

/// One e-mail by address whose address has no single person: prints why (with the
/// candidate ids); returns the exit status (1).
pub fn unresolved_single(row: &Row, u: &Unresolved, json: bool) -> i32 {
    if json {
        let mut v = crate::report::single_json(row, &u.outcome);
        v["candidates"] = serde_json::json!(u.candidates);
        println!("{v:#}");
    } else {
        let candidates = if u.candidates.is_empty() {
            String::new()
        } else {
            format!(" (candidates: {})", superoffice::person::listed_ids(&u.candidates))
        };
        eprintln!("{}: {}{candidates}", row.describe(), crate::progress::outcome_text(&u.outcome));
    }
    1
}

/// How each CSV row is to be treated, from the journal of earlier runs.
pub struct Plan {
    pub to_send: Vec<Row>,
}

/// Sorts the rows: duplicates of an earlier row, accepted before, unknown before (not
/// resent unless asked), and the rest to send.
pub fn plan(rows: Vec<Row>, previous: &std::collections::HashMap<Key, Previous>, resend_unknown: bool, report: &mut Report) -> Plan {
    let mut seen = HashSet::new();
    let mut to_send = Vec::new();
    for row in rows {
        let key = Key::of(&row);
        if !seen.insert(key.clone()) {
            report.counts.duplicates += 1;
            continue;
        }
        match previous.get(&key) {
            Some(p) if p.state == State::Accepted => report.counts.already_accepted += 1,
            Some(p) if matches!(p.state, State::Unknown | State::Sending) && !resend_unknown => {
                report.counts.unknown_not_resent += 1;
                let mut outcome = p.outcome.clone();
                outcome.state = State::Unknown;
                report.unknown.push(Listed { row, outcome, earlier_run: Some(p.updated_at.clone()), candidates: Vec::new() });
            }
            _ => to_send.push(row),
        }
    }
    report.counts.to_send = to_send.len();
    Plan { to_send }
}

/// Stops a run whose every row would end the same bad way: refused credentials, a TLS
/// failure (a certificate the client does not trust), or no answer for many rows in a
/// row (each of which becomes unknown and needs checking). Credentials and TLS are told
/// by the error's kind, whatever its delivery (a refused certificate is not sent, another
/// TLS failure unknown).
struct Breaker {
    unknown_in_a_row: AtomicUsize,
    limit: usize,
}

impl Breaker {
    fn new(concurrency: usize) -> Breaker {
        Breaker { unknown_in_a_row: AtomicUsize::new(0), limit: concurrency.max(10) }
    }

    /// Why the run should stop after this outcome, if it should.
    fn verdict(&self, o: &Outcome) -> Option<String> {
        if o.state != State::Unknown {
            self.unknown_in_a_row.store(0, Ordering::SeqCst);
        }
        if o.http_status == 401 {
            return Some("the server refused the credentials (HTTP 401 Unauthorized); check them and run again".into());
        }
        if o.code == crate::outcome::code(superoffice::ErrorKind::Credentials) {
            // No credential could be had: every other row would fail the same way. When
            // the message names this machine's clock, the settings are not to blame.
            if o.message.contains("so the login service refuses it: correct the clock") {
                return Some(format!("{}; run again once this machine's clock is right", o.message));
            }
            return Some(format!("{}; check the system user settings and run again", o.message));
        }
        if o.code == crate::outcome::code(superoffice::ErrorKind::Tls) {
            return Some(format!("{}; check the server's certificate or give --ca-file, then run again", o.message));
        }
        if o.state != State::Unknown {
            return None;
        }
        let n = self.unknown_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
        (n == self.limit).then(|| {
            format!(
                "{n} e-mails in a row got no answer (the last: {}); the server may be down or slower than \
                 --timeout, so the run stops before more rows become unknown",
                o.message
            )
        })
    }
}

/// One address's search, shared by the rows that have it (the first one does it).
type Search = Arc<OnceLock<Result<Vec<PersonMatch>, Error>>>;

/// Finds the person of each row of a CSV of addresses: one search per address in a run
/// (two rows with one address wait for the same search), resent on the run's rules.
pub struct Resolver<'a> {
    client: &'a Client,
    max_retries: u32,
    cache: Mutex<HashMap<String, Search>>,
}


impl<'a> Resolver<'a> {
    pub fn new(client: &'a Client, max_retries: u32) -> Resolver<'a> {
        Resolver { client, max_retries, cache: Mutex::new(HashMap::new()) }
    }

    fn search(&self, address: &str, gate: &Gate, mut paused: impl FnMut(Duration, &str)) -> Result<Vec<PersonMatch>, Error> {
        let mut retries = 0;
        loop {
            let result = self.client.find_persons_by_email(address);
            let Err(e) = &result else { return result };
            let again = matches!(e.http_status, 429 | 503) || superoffice::retry::may_resend(e);
            if !again || retries >= self.max_retries {
                return result;
            }
            retries += 1;
            let why = if e.http_status == 0 { "no connection to the server".to_string() } else { format!("server busy: HTTP {}", e.http_status) };
            if let Some(wait) = gate.pause(e.retry_after, &why) {
                paused(wait, &why);
            }
            if !gate.wait_turn() {
                return result;
            }
        }
    }

    /// The row with its person, or why it has none. The search's own failures (and no
    /// person, or several) are "failed (not sent)".
    pub fn resolve(&self, row: &Row, gate: &Gate, paused: impl FnMut(Duration, &str)) -> Result<Row, Unresolved> {
        let address = row.to.as_deref().unwrap_or("").trim();
        let cell = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(cache.entry(address.to_lowercase()).or_default())
        };
        let found = cell.get_or_init(|| self.search(address, gate, paused));
        let unresolved = |e: &Error, candidates: Vec<i32>| Unresolved {
            outcome: Outcome {
                state: State::Failed,
                code: crate::outcome::code(e.kind),
                http_status: e.http_status,
                error_type: e.error_type.clone(),
                message: e.message.clone(),
                delivery: Delivery::NotSent,
            },
            candidates,
        };
        match found {
            Err(e) => Err(unresolved(e, Vec::new())),
            Ok(persons) => match single_person(address, persons) {
                Ok(person_id) => Ok(Row { person_id, ..row.clone() }),
                Err(e) => Err(unresolved(&e, persons.iter().map(|p| p.person_id).collect())),
            },
        }
    }
}

enum Event {
    Done(Row, Outcome),
    Unresolved(Row, Unresolved),
    Paused(Duration, String),
}

/// Sends the planned rows with `concurrency` workers. Fills the report's outcome
/// counts and lists.
pub fn batch(client: &Client, journal: &Writer, plan: Plan, concurrency: usize, max_retries: u32, resend_unknown: bool, report: &mut Report) {
    let resolver = Resolver::new(client, max_retries);
    let resolver = &resolver;
    let rows = plan.to_send;
    let gate = Arc::new(Gate::default());
    let interrupts = Arc::new(AtomicUsize::new(0));
    {
        let gate = Arc::clone(&gate);
        let interrupts = Arc::clone(&interrupts);
        let installed = ctrlc::set_handler(move || {
            if interrupts.fetch_add(1, Ordering::SeqCst) == 0 {
                gate.stop(None);
            } else {
                eprintln!(
                    "\nsuperoffice: aborted; {} e-mail(s) were being sent: the journal marks them as being sent, \
                     and a re-run counts them as unknown",
                    gate.in_flight.load(Ordering::SeqCst)
                );
                std::process::exit(130);
            }
        });
        if let Err(e) = installed {
            eprintln!("superoffice: warning: Ctrl-C cannot be handled ({e}); it will stop the run at once");
        }
    }

    let breaker = Breaker::new(concurrency);
    let breaker = &breaker;
    let mut progress = Progress::new(rows.len());
    let mut tally = Tally::default();
    let next = AtomicUsize::new(0);
    let mut done = 0usize;
    let (tx, rx) = mpsc::channel::<Event>();
    std::thread::scope(|scope| {
        for _ in 0..concurrency.min(rows.len()) {
            let tx = tx.clone();
            let (rows, next, gate) = (&rows, &next, &*gate);
            scope.spawn(move || loop {
                if gate.stopping() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(row) = rows.get(i) else { break };
                let resolved;
                let row = if row.by_address {
                    let pause = |wait: Duration, why: &str| {
                        let _ = tx.send(Event::Paused(wait, why.to_string()));
                    };
                    match resolver.resolve(row, gate, pause) {
                        Ok(r) => {
                            resolved = r;
                            &resolved
                        }
                        Err(u) => {
                            if tx.send(Event::Unresolved(row.clone(), u)).is_err() {
                                break;
                            }
                            continue;
                        }
                    }
                } else {
                    row
                };
                let sent = send_row(
                    client,
                    gate,
                    row,
                    max_retries,
                    || journal.mark_sending(row, resend_unknown),
                    |o| journal.record(row, o),
                    |wait, why| {
                        let _ = tx.send(Event::Paused(wait, why.to_string()));
                    },
                );
                match sent {
                    Ok(Some(outcome)) => {
                        if let Some(why) = breaker.verdict(&outcome) {
                            gate.stop(Some(why));
                        }
                        if tx.send(Event::Done(row.clone(), outcome)).is_err() {
                            break;
                        }
                    }
                    Ok(None) => {}
                    Err(stop) => {
                        gate.stop(Some(stop.reason));
                        if let Some(outcome) = stop.outcome {
                            let _ = tx.send(Event::Done(row.clone(), outcome));
                        }
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut announced = false;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Event::Done(row, outcome)) => {
                    done += 1;
                    match outcome.state {
                        State::Accepted => tally.accepted += 1,
                        State::Failed => tally.failed += 1,
                        _ => tally.unknown += 1,
                    }
                    progress.row_done(&row, &outcome, &tally);
                    report.add_outcome(row, outcome);
                }
                Ok(Event::Unresolved(row, u)) => {
                    done += 1;
                    tally.failed += 1;
                    progress.row_done(&row, &u.outcome, &tally);
                    report.add_unresolved(row, u);
                }
                Ok(Event::Paused(wait, why)) => progress.pause_started(wait, &why),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let waiting = gate.waiting();
            progress.waiting(waiting.as_ref().map(|(d, w)| (*d, w.as_str())), &tally);
            match gate.stopped() {
                Some(reason) if !announced => {
                    announced = true;
                    let in_flight = gate.in_flight.load(Ordering::SeqCst);
                    match reason {
                        Some(why) => {
                            progress.note(&format!(
                                "superoffice: stopping: {why}; no new e-mails, waiting for the {in_flight} being sent"
                            ));
                            report.fatal = Some(why);
                        }
                        None => {
                            report.interrupted = true;
                            progress.note(&format!(
                                "superoffice: interrupted: no new e-mails; waiting for the {in_flight} being sent \
                                 (Ctrl-C again to abort)"
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    });
    progress.finish();
    match gate.stopped() {
        Some(Some(why)) => report.fatal = Some(why),
        Some(None) => report.interrupted = true,
        None => {}
    }
    report.counts.not_started = rows.len() - done;
}
