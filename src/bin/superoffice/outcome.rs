//! What one answer means for one row: accepted, failed, unknown, or send it again.

use std::time::Duration;

use superoffice::{Delivery, Error, ErrorKind, Sent};

/// A row's recorded state, as the journal stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Committed before the request goes out; left so only by a run that stopped
    /// before the answer was recorded.
    Sending,
    /// A 2xx answer.
    Accepted,
    /// A non-2xx answer (delivery `Answered`), or a request that provably never reached
    /// the server (delivery `NotSent`: "failed (not sent)").
    Failed,
    /// The request may have reached the server, but no answer came.
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Sending => "sending",
            State::Accepted => "accepted",
            State::Failed => "failed",
            State::Unknown => "unknown",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "sending" => State::Sending,
            "accepted" => State::Accepted,
            "failed" => State::Failed,
            "unknown" => State::Unknown,
            _ => return None,
        })
    }
}

/// The outcome of one row, as recorded and reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    /// The core's code: `Ok`, `NotFound`, `Timeout`, ...
    pub code: String,
    /// 0 when there was no HTTP answer.
    pub http_status: u16,
    pub error_type: Option<String>,
    /// The library's message (never a secret); empty when accepted.
    pub message: String,
    /// Whether the server may have the request (the core's, recorded in the journal).
    pub delivery: Delivery,
}

/// The journal's and `--json`'s word for a delivery.
pub fn delivery_str(d: Delivery) -> &'static str {
    match d {
        Delivery::NotSent => "not_sent",
        Delivery::Unknown => "unknown",
        Delivery::Answered => "answered",
    }
}

/// A delivery from its word; `None` for anything else (a journal of an older version
/// has none).
pub fn parse_delivery(text: &str) -> Option<Delivery> {
    Some(match text {
        "not_sent" => Delivery::NotSent,
        "unknown" => Delivery::Unknown,
        "answered" => Delivery::Answered,
        _ => return None,
    })
}

impl Outcome {
    /// A failure that provably never reached the server: "failed (not sent)".
    pub fn not_sent(&self) -> bool {
        self.state == State::Failed && self.delivery == Delivery::NotSent
    }
}

/// What to do after one attempt.
#[derive(Debug)]
pub enum Verdict {
    /// Final.
    Done(Outcome),
    /// The server provably did not take it (429, 503, no connection): send it again,
    /// after this wait (the server's `Retry-After`, when it gave one) for every worker.
    Again { outcome: Outcome, retry_after: Option<Duration> },
}

/// The code recorded for an error kind: its name, `NotFound`, `Timeout`, ...
pub fn code(kind: ErrorKind) -> String {
    format!("{kind:?}")
}

fn outcome_of(state: State, e: &Error) -> Outcome {
    Outcome {
        state,
        code: code(e.kind),
        http_status: e.http_status,
        error_type: e.error_type.clone(),
        message: e.message.clone(),
        delivery: e.delivery,
    }
}

/// Decides what one send's result means, from the core's delivery and kind.
///
/// - 2xx: accepted.
/// - 429 and 503: not processed (HTTP says so); sent again after a pause of the whole run.
/// - any other HTTP answer: failed (the server answered; a re-run tries again).
/// - no connection could be made, or the connect timeout expired (`NotSent`, `Connect` or
///   `Timeout`: what the core itself resends): sent again, then "failed (not sent)".
/// - any other `NotSent` failure (a bad argument, no credential from the login service, a
///   refused certificate): "failed (not sent)"; a re-run sends it again.
/// - `Unknown` (a reset or closed connection, an answer timeout, an answer that is not
///   HTTP, another TLS failure): the server may have it; a re-run does not resend it
///   unless told to.
pub fn judge(result: Result<Sent, Error>) -> Verdict {
    let e = match result {
        Ok(sent) => {
            return Verdict::Done(Outcome {
                state: State::Accepted,
                code: "Ok".into(),
                http_status: sent.http_status,
                error_type: None,
                message: String::new(),
                delivery: Delivery::Answered,
            })
        }
        Err(e) => e,
    };
    match (e.http_status, e.delivery) {
        (429 | 503, _) => Verdict::Again { retry_after: e.retry_after, outcome: outcome_of(State::Failed, &e) },
        (1.., _) | (0, Delivery::Answered) => Verdict::Done(outcome_of(State::Failed, &e)),
        (0, Delivery::NotSent) if superoffice::retry::may_resend(&e) => {
            Verdict::Again { retry_after: None, outcome: outcome_of(State::Failed, &e) }
        }
        (0, Delivery::NotSent) => Verdict::Done(outcome_of(State::Failed, &e)),
        (0, Delivery::Unknown) => Verdict::Done(outcome_of(State::Unknown, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> Error {
        let mut e = Error::new(ErrorKind::from_status(code), message);
        e.http_status = code;
        e.delivery = Delivery::Answered;
        e
    }

    fn asking(code: u16, wait: Duration) -> Error {
        let mut e = status(code, "x");
        e.retry_after = Some(wait);
        e
    }

    #[test]
    fn answers_are_judged() {
        let sent = Sent { http_status: 204, retries: 0 };
        assert!(matches!(judge(Ok(sent)), Verdict::Done(Outcome { state: State::Accepted, .. })));
        assert!(matches!(judge(Err(status(404, "x"))), Verdict::Done(Outcome { state: State::Failed, .. })));
        assert!(matches!(judge(Err(status(500, "x"))), Verdict::Done(Outcome { state: State::Failed, .. })));
        assert!(matches!(
            judge(Err(asking(429, Duration::from_secs(2)))),
            Verdict::Again { retry_after: Some(d), .. } if d == Duration::from_secs(2)
        ));
        assert!(matches!(judge(Err(status(503, "x"))), Verdict::Again { retry_after: None, .. }));
        // Connect failures and connect-phase timeouts (not sent) are sent again.
        for kind in [ErrorKind::Connect, ErrorKind::Timeout] {
            assert!(matches!(judge(Err(Error::not_sent(kind, "x"))), Verdict::Again { .. }));
        }
        // Whatever may have reached the server is unknown, whatever its kind.
        for kind in [ErrorKind::Timeout, ErrorKind::Io, ErrorKind::Tls, ErrorKind::Connect] {
            assert!(matches!(judge(Err(Error::new(kind, "x"))), Verdict::Done(Outcome { state: State::Unknown, .. })));
        }
        // Not sent, and not a connection: failed (not sent), not retried within the run.
        for e in [Error::invalid("x"), Error::not_sent(ErrorKind::Credentials, "x"), Error::not_sent(ErrorKind::Tls, "x")] {
            match judge(Err(e)) {
                Verdict::Done(o) => assert!(o.not_sent(), "{o:?}"),
                v => panic!("{v:?}"),
            }
        }
    }

    #[test]
    fn the_server_s_wait_is_the_core_s_field_not_the_message_text() {
        let again = |e: Error| match judge(Err(e)) {
            Verdict::Again { retry_after, .. } => retry_after,
            Verdict::Done(_) => panic!("not retried"),
        };
        assert_eq!(again(asking(503, Duration::from_millis(250))), Some(Duration::from_millis(250)));
        assert_eq!(again(asking(429, Duration::from_millis(1500))), Some(Duration::from_millis(1500)));
        assert_eq!(again(status(429, "a (Retry-After 30 s)")), None);
    }
}

/// A row by address that has no single person: why (failed, not sent), and the candidate
/// person ids.
pub struct Unresolved {
    pub outcome: Outcome,
    pub candidates: Vec<i32>,
}
