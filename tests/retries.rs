//! Safe retries: only what the server provably did not process (a connection that could
//! not be made, 429, 503) is sent again, waiting as `Retry-After` asks (seconds or an
//! HTTP-date) or with exponential backoff and jitter, never past the total timeout.
//! Everything that may have reached the server is sent exactly once: the stub's request
//! log proves it case by case.

use superoffice_stub as stub;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use superoffice::settings::CredentialsProvider;
use superoffice::settings::Secret;
use superoffice::{Client, ErrorKind};
use support::*;

fn base(stub: &stub::Stub, prefix: &str, directives: &str) -> String {
    format!("{}{prefix}/{directives}/Cust12345", stub.url())
}

/// A client with a log capture.
fn client(base: &str, connect_ms: u32, total_ms: u32, retries: u32) -> (Client, Arc<Lines>) {
    let mut s = builder(base, connect_ms, total_ms);
    s.max_retries(retries).unwrap();
    let lines = Arc::new(Lines::default());
    s.logger(Some(lines.clone()));
    (Client::new(&s.build()).unwrap(), lines)
}

// ---------------------------------------------------------------------------------------
// What is retried
// ---------------------------------------------------------------------------------------

#[test]
fn default_is_two_retries_and_zero_disables() {
    let s = superoffice::Settings::new("http://127.0.0.1:1/x").unwrap();
    assert_eq!(s.max_retries(), 2);
    let stub = stub::Stub::start();
    for (retries, sends) in [(None, 3), (Some(0), 1), (Some(1), 2), (Some(5), 6)] {
        let prefix = unique("count");
        let mut s = builder(&base(&stub, &prefix, "status=503/retry_after=0"), 1000, 10_000);
        if let Some(n) = retries {
            s.max_retries(n).unwrap();
        }
        let e = expect_err(send(&Client::new(&s.build()).unwrap()), "503");
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.http_status, 503);
        assert_eq!(stub.count(&prefix), sends, "max_retries {retries:?}");
        if sends > 1 {
            let n = sends - 1;
            assert!(e.message.ends_with(&format!("(after {n} {})", if n == 1 { "retry" } else { "retries" })), "{}", e.message);
        }
    }
    assert!(superoffice::Settings::builder("http://h").unwrap().max_retries(11).is_err());
}

#[test]
fn status_429_and_503_are_retried_until_success() {
    let stub = stub::Stub::start();
    for (directives, sends) in [
        ("status=503/fail_first=1/retry_after=0", 2),
        ("status=503/fail_first=2/retry_after=0", 3),
        ("status=429/fail_first=1/retry_after=0", 2),
        ("status=429/fail_first=2", 3), // no Retry-After: backoff
    ] {
        let prefix = unique("ok-after");
        let (c, _) = client(&base(&stub, &prefix, directives), 1000, 10_000, 2);
        let sent = send(&c).unwrap_or_else(|e| panic!("{directives}: {}", e.message));
        assert_eq!(sent.http_status, 204);
        assert_eq!(sent.retries as usize, sends - 1, "{directives}");
        assert_eq!(stub.count(&prefix), sends, "{directives}");
    }
}

#[test]
fn rate_limited_after_the_retries_allowed_is_rate_limited() {
    let stub = stub::Stub::start();
    let prefix = unique("ratelimited");
    let (c, _) = client(&base(&stub, &prefix, "status=429/retry_after=0"), 1000, 10_000, 2);
    let e = expect_err(send(&c), "429");
    assert_error(&e, ErrorKind::RateLimited, 429, &["429 Too Many Requests", "after 2 retries"], "429");
    assert_eq!(e.retry_after, Some(Duration::ZERO));
    assert_eq!(stub.count(&prefix), 3);
}

#[test]
fn what_may_have_reached_the_server_is_never_resent() {
    let stub = stub::Stub::start();
    let cases: &[(&str, ErrorKind)] = &[
        ("drop=before", ErrorKind::Io),
        ("drop=during", ErrorKind::Io),
        ("drop=after", ErrorKind::Io),
        ("garbage", ErrorKind::Io),
        ("hang", ErrorKind::Timeout),
        ("delay_ms=2000", ErrorKind::Timeout),
        ("header_flood=1000", ErrorKind::Io),
        ("status=500", ErrorKind::Server),
        ("status=501", ErrorKind::Server),
        ("status=502", ErrorKind::Server),
        ("status=504", ErrorKind::Server),
        ("status=507", ErrorKind::Server),
        ("status=500/retry_after=0", ErrorKind::Server),
        ("status=502/retry_after=0", ErrorKind::Server),
        ("status=400", ErrorKind::BadRequest),
        ("status=401", ErrorKind::Unauthorized),
        ("status=403", ErrorKind::Forbidden),
        ("status=404", ErrorKind::NotFound),
        ("status=408", ErrorKind::HttpStatus),
        ("status=409", ErrorKind::HttpStatus),
        ("status=425", ErrorKind::HttpStatus),
        ("status=307/location=%2Fx", ErrorKind::HttpStatus),
    ];
    for (directives, kind) in cases {
        let prefix = unique("once");
        // The most retries allowed, and time enough for them: none may happen.
        let (c, lines) = client(&base(&stub, &prefix, directives), 1000, 400, 10);
        let e = expect_err(send(&c), directives);
        assert_eq!(e.kind, *kind, "{directives}: {}", e.message);
        assert_eq!(stub.count(&prefix), 1, "{directives}: sent once, never again");
        assert!(lines.retry_waits().is_empty(), "{directives}: no retry announced");
        assert!(!e.message.contains("(after "), "{directives}: {}", e.message);
    }
}

#[test]
fn a_refused_connection_is_retried_and_then_sent_once() {
    // Nothing listens on the port at first; a stub starts there while the client backs
    // off. The request reaches the server exactly once.
    let port = closed_port();
    let prefix = unique("refused-then-up");
    let url = format!("http://127.0.0.1:{port}{prefix}/Cust12345");
    let (c, lines) = client(&url, 1000, 10_000, 5);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(60));
        let stub = stub::Stub::start_on(port).expect("bind the released port");
        rx.recv().unwrap();
        stub.count(&prefix)
    });
    let sent = send(&c).expect("sent once the server is up");
    tx.send(()).unwrap();
    assert!(sent.retries >= 1, "{sent:?}");
    assert_eq!(server.join().unwrap(), 1, "exactly one request reached the server");
    assert_eq!(lines.retry_waits().len(), sent.retries as usize);
}

#[test]
fn connection_failures_are_retried_with_backoff() {
    for url in [format!("http://127.0.0.1:{}/Cust1", closed_port()), "http://no-such-host.invalid/Cust1".to_string()] {
        let (c, lines) = client(&url, 1000, 10_000, 2);
        let (r, took) = timed_send(&c);
        let e = expect_err(r, &url);
        assert_eq!(e.kind, ErrorKind::Connect, "{}", e.message);
        assert!(e.message.ends_with("(after 2 retries); it was not sent"), "{}", e.message);
        let waits = lines.retry_waits();
        assert_eq!(waits.len(), 2, "{url}: {:?}", lines.all());
        assert!(took >= waits.iter().sum::<Duration>(), "{took:?} {waits:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

#[test]
fn a_connect_timeout_is_retried_within_the_total() {
    // A connect timeout means the connection was never made (ureq's connect phase ends
    // before the request is written), so the contract allows a retry.
    let Some(full) = FullBacklog::start() else { return };
    let (c, lines) = client(&format!("http://{}/Cust1", full.addr), 200, 3000, 2);
    let e = expect_err(send(&c), "connect timeout");
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert_eq!(lines.retry_waits().len(), 2, "{:?}", lines.all());
}

// ---------------------------------------------------------------------------------------
// How long to wait
// ---------------------------------------------------------------------------------------

#[test]
fn retry_after_in_seconds_is_honoured() {
    let stub = stub::Stub::start();
    let prefix = unique("ra-seconds");
    let (c, lines) = client(&base(&stub, &prefix, "status=503/fail_first=1/retry_after=1"), 1000, 10_000, 2);
    let (r, took) = timed_send(&c);
    assert_eq!(r.unwrap().retries, 1);
    assert_eq!(lines.retry_waits(), vec![Duration::from_secs(1)]);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_millis(1800), "{took:?}");
    assert_eq!(stub.count(&prefix), 2);
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let stub = stub::Stub::start();
    // Two seconds ahead (HTTP-dates have whole seconds, so the wait is 1 to 2 s).
    let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    let prefix = unique("ra-date");
    let directives = format!("status=429/fail_first=1/retry_after={}", when.replace(' ', "_"));
    let (c, lines) = client(&base(&stub, &prefix, &directives), 1000, 10_000, 2);
    let (r, took) = timed_send(&c);
    assert_eq!(r.unwrap().retries, 1);
    let waits = lines.retry_waits();
    assert_eq!(waits.len(), 1);
    assert!(waits[0] > Duration::from_millis(900) && waits[0] <= Duration::from_secs(2), "{waits:?}");
    // (the log line rounds the wait to a tenth of a second)
    assert!(took + Duration::from_millis(100) >= waits[0] && took < Duration::from_secs(3), "{took:?}");
    assert_eq!(stub.count(&prefix), 2);

    // A date in the past means now.
    let prefix = unique("ra-past");
    let directives = "status=503/fail_first=1/retry_after=Sun,_06_Nov_1994_08:49:37_GMT";
    let (c, lines) = client(&base(&stub, &prefix, directives), 1000, 10_000, 2);
    let (r, took) = timed_send(&c);
    assert_eq!(r.unwrap().retries, 1);
    assert_eq!(lines.retry_waits(), vec![Duration::ZERO]);
    assert!(took < Duration::from_millis(500), "{took:?}");
}

#[test]
fn retry_after_longer_than_the_time_left_fails_at_once_and_says_so() {
    let stub = stub::Stub::start();
    let far = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600)).replace(' ', "_");
    for (directives, kind, status, asked) in [
        ("status=429/retry_after=120".to_string(), ErrorKind::RateLimited, 429, "retry after 120 s"),
        ("status=503/retry_after=31".to_string(), ErrorKind::Server, 503, "retry after 31 s"),
        (format!("status=503/retry_after={far}"), ErrorKind::Server, 503, "retry after"),
    ] {
        let asked_for = if asked.ends_with(" s") { asked["retry after ".len()..asked.len() - 2].parse().ok() } else { None };
        let prefix = unique("ra-long");
        let (c, lines) = client(&base(&stub, &prefix, &directives), 1000, 30_000, 2);
        let (r, took) = timed_send(&c);
        let e = expect_err(r, &directives);
        assert_error(&e, kind, status, &[asked, "longer than the", "left of the total timeout"], &directives);
        match asked_for {
            Some(secs) => assert_eq!(e.retry_after, Some(Duration::from_secs(secs)), "{directives}"),
            None => assert!(e.retry_after.is_some_and(|w| w > Duration::from_secs(3000)), "{directives}"),
        }
        assert!(took < Duration::from_millis(500), "{directives}: did not wait: {took:?}");
        assert!(lines.retry_waits().is_empty());
        assert_eq!(stub.count(&prefix), 1, "{directives}");
    }
}

#[test]
fn an_unreadable_retry_after_falls_back_to_backoff() {
    let stub = stub::Stub::start();
    let prefix = unique("ra-bad");
    let (c, lines) = client(&base(&stub, &prefix, "status=503/fail_first=1/retry_after=soon"), 1000, 10_000, 2);
    assert_eq!(send(&c).unwrap().retries, 1);
    let waits = lines.retry_waits();
    assert_eq!(waits.len(), 1);
    assert!(waits[0] >= Duration::from_millis(50) && waits[0] <= Duration::from_millis(100), "{waits:?}");
}

#[test]
fn backoff_is_exponential_with_jitter() {
    let stub = stub::Stub::start();
    let mut firsts = Vec::new();
    for _ in 0..8 {
        let prefix = unique("backoff");
        let (c, lines) = client(&base(&stub, &prefix, "status=503/fail_first=3"), 1000, 10_000, 3);
        let (r, took) = timed_send(&c);
        assert_eq!(r.unwrap().retries, 3);
        let waits = lines.retry_waits();
        assert_eq!(waits.len(), 3);
        // Retry n waits between half and all of 100 ms * 2^n.
        for (n, w) in waits.iter().enumerate() {
            let step = Duration::from_millis(100 << n);
            assert!(*w >= step / 2 && *w <= step, "retry {n}: {w:?}");
        }
        assert!(took >= waits.iter().sum::<Duration>());
        assert_eq!(stub.count(&prefix), 4);
        firsts.push(waits[0]);
    }
    firsts.sort();
    firsts.dedup();
    assert!(firsts.len() > 1, "jitter: eight first waits were all {firsts:?}");
}

#[test]
fn retries_never_pass_the_total_timeout() {
    let stub = stub::Stub::start();
    for directives in ["status=503", "status=429", "status=503/delay_ms=100", "status=429/retry_after=1"] {
        let prefix = unique("bounded");
        let (c, lines) = client(&base(&stub, &prefix, directives), 1000, 700, 10);
        let (r, took) = timed_send(&c);
        let e = expect_err(r, directives);
        assert!(took < Duration::from_millis(700 + 300), "{directives}: {took:?}");
        assert!(
            e.message.contains("total timeout") || e.message.contains("700 ms"),
            "{directives}: says the total timeout ended it: {}",
            e.message
        );
        // Every announced wait fitted in what was left.
        assert!(lines.retry_waits().iter().sum::<Duration>() < Duration::from_millis(700), "{directives}");
        let sends = stub.count(&prefix);
        assert_eq!(sends, lines.retry_waits().len() + 1, "{directives}: one send per announced retry");
    }
}

#[test]
fn a_401_is_resent_once_with_a_fresh_credential() {
    struct Fresh(std::sync::atomic::AtomicUsize);
    impl CredentialsProvider for Fresh {
        fn fresh_credential(&self) -> Option<Secret> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Some(Secret::new("fresh-1"))
        }
    }
    let stub = stub::Stub::start();
    let prefix = unique("refresh");
    let mut s = builder(&base(&stub, &prefix, "auth=ticket"), 1000, 5000);
    s.auth(superoffice::settings::Auth::ticket("expired-ticket").unwrap());
    let provider = Arc::new(Fresh(Default::default()));
    s.credentials(Some(provider.clone()));
    let c = Client::new(&s.build()).unwrap();
    assert_eq!(send(&c).unwrap().http_status, 204);
    assert_eq!(stub.count(&prefix), 2, "the 401 (not processed), then the resend");
    assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 1);

    // A second 401 is final: no loop.
    let prefix = unique("refresh-fails");
    let mut s = builder(&base(&stub, &prefix, "status=401"), 1000, 5000);
    s.credentials(Some(provider.clone()));
    let e = expect_err(send(&Client::new(&s.build()).unwrap()), "401 twice");
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(stub.count(&prefix), 2);
}

#[test]
fn the_total_timeout_covers_the_waits() {
    // Retry-After 1 s twice cannot fit in 1.5 s: the second wait is refused up front.
    let stub = stub::Stub::start();
    let prefix = unique("covers");
    let (c, lines) = client(&base(&stub, &prefix, "status=503/retry_after=1"), 1000, 1500, 5);
    let t = Instant::now();
    let e = expect_err(send(&c), "covers");
    assert!(t.elapsed() < Duration::from_millis(1500 + 300), "{:?}", t.elapsed());
    assert!(e.message.contains("retry after 1 s"), "{}", e.message);
    assert_eq!(lines.retry_waits(), vec![Duration::from_secs(1)]);
    assert_eq!(stub.count(&prefix), 2);
}
