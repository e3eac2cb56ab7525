//! The fault matrix: every way the network or the server can fail, each with one
//! expected error kind (the C ABI's `so_result`), message content and HTTP status, in a
//! time bounded by the configured timeouts, and never sent twice where the first request
//! may have reached the server. The server is the in-process stub (`tests/stub`) and its
//! fault directives (`docs/stub-protocol.md`).

use superoffice_stub as stub;
mod support;

use std::time::{Duration, Instant};

use superoffice::{Client, Error, ErrorKind, Sent};
use support::*;

const EP: &str = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";

/// A client of the stub for a fresh tenant with these directives; its prefix.
fn tenant(stub: &stub::Stub, name: &str, directives: &str, connect_ms: u32, total_ms: u32) -> (Client, String, String) {
    let prefix = unique(name);
    let base = if directives.is_empty() {
        format!("{}{prefix}/Cust12345", stub.url())
    } else {
        format!("{}{prefix}/{directives}/Cust12345", stub.url())
    };
    let client = Client::new(&settings(&base, connect_ms, total_ms)).unwrap();
    (client, prefix, base)
}

// ---------------------------------------------------------------------------------------
// No connection
// ---------------------------------------------------------------------------------------

/// One timed send with no retries, so that a failure shows as it is.
fn send_once(base: &str, connect_ms: u32, total_ms: u32) -> (Result<Sent, Error>, Duration) {
    let mut s = builder(base, connect_ms, total_ms);
    s.max_retries(0).unwrap();
    timed_send(&Client::new(&s.build()).unwrap())
}

#[test]
fn refused_connection_is_connect_with_no_status() {
    let port = closed_port();
    let base = format!("http://127.0.0.1:{port}/Cust1");
    let (r, took) = send_once(&base, 1000, 5000);
    let e = expect_err(r, "refused");
    assert_error(&e, ErrorKind::Connect, 0, &["connection refused", &format!("127.0.0.1:{port}")], "refused");
    assert_eq!(e.error_type, None);
    assert!(took < Duration::from_secs(1), "a refused connection fails at once: {took:?}");
}

#[test]
fn unresolvable_host_is_connect() {
    // `.invalid` is reserved (RFC 2606): it never resolves.
    let (r, took) = send_once("http://no-such-host.invalid/Cust1", 2000, 5000);
    let e = expect_err(r, "dns");
    assert_error(&e, ErrorKind::Connect, 0, &["resolve", "no-such-host.invalid"], "dns");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn connect_timeout_on_a_full_backlog_is_timeout_within_the_limit() {
    let Some(full) = FullBacklog::start() else {
        // Some network stacks complete every loopback connection; then there is no way
        // to meet a connect timeout on this machine without leaving loopback.
        eprintln!("SKIPPED: this kernel accepts connections beyond a full backlog");
        return;
    };
    let base = format!("http://{}/Cust1", full.addr);
    let (r, took) = send_once(&base, 300, 5000);
    let e = expect_err(r, "connect timeout");
    assert_error(&e, ErrorKind::Timeout, 0, &["connect timeout of 300 ms"], "connect timeout");
    assert!(took >= Duration::from_millis(250), "{took:?}");
    assert!(took < Duration::from_secs(2), "a 300 ms connect timeout took {took:?}");
}

#[test]
fn connect_timeout_larger_than_the_total_is_cut_to_the_total() {
    let Some(full) = FullBacklog::start() else {
        eprintln!("SKIPPED: this kernel accepts connections beyond a full backlog");
        return;
    };
    let base = format!("http://{}/Cust1", full.addr);
    let (r, took) = send_once(&base, 10_000, 400);
    let e = expect_err(r, "connect > total");
    assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
    assert!(took < Duration::from_secs(2), "a 400 ms total timeout took {took:?}");
}

// ---------------------------------------------------------------------------------------
// Slow or silent servers
// ---------------------------------------------------------------------------------------

#[test]
fn a_server_that_never_answers_times_out_within_the_total_and_is_not_resent() {
    let stub = stub::Stub::start();
    let (c, prefix, _) = tenant(&stub, "hang", "hang", 1000, 300);
    let (r, took) = timed_send(&c);
    let e = expect_err(r, "hang");
    assert_error(&e, ErrorKind::Timeout, 0, &["total timeout of 300 ms"], "hang");
    assert!(took >= Duration::from_millis(280), "{took:?}");
    assert!(took < Duration::from_secs(2), "total timeout 300 ms took {took:?}");
    assert_eq!(stub.count(&prefix), 1, "a request that may have been processed is never resent");
}

#[test]
fn a_slow_answer_past_the_total_timeout_is_timeout_and_not_resent() {
    let stub = stub::Stub::start();
    let (c, prefix, _) = tenant(&stub, "slow", "delay_ms=3000", 1000, 300);
    let (r, took) = timed_send(&c);
    let e = expect_err(r, "delay");
    assert_error(&e, ErrorKind::Timeout, 0, &["300 ms"], "delay");
    assert!(took < Duration::from_secs(2), "total timeout 300 ms took {took:?}");
    assert_eq!(stub.count(&prefix), 1);
}

#[test]
fn a_slow_answer_within_the_total_timeout_succeeds() {
    let stub = stub::Stub::start();
    let (c, prefix, _) = tenant(&stub, "slowok", "delay_ms=200", 1000, 3000);
    let (r, took) = timed_send(&c);
    assert_eq!(r.unwrap().http_status, 204);
    assert!(took >= Duration::from_millis(200));
    assert_eq!(stub.count(&prefix), 1);
}

// ---------------------------------------------------------------------------------------
// Broken connections and broken answers: none of them is ever sent again
// ---------------------------------------------------------------------------------------

#[test]
fn dropped_connections_are_io_and_never_resent() {
    let stub = stub::Stub::start();
    for (directive, pieces) in [
        ("drop=before", &["closed the connection" as &str][..]),
        ("drop=during", &["closed the connection"][..]),
        ("drop=after", &["closed the connection"][..]),
    ] {
        let (c, prefix, _) = tenant(&stub, "drop", directive, 1000, 5000);
        let (r, took) = timed_send(&c);
        let e = expect_err(r, directive);
        // drop=before may reach the client as a reset rather than a clean close.
        if directive == "drop=before" {
            assert_eq!(e.kind, ErrorKind::Io, "{directive}: {}", e.message);
            assert!(
                e.message.contains("closed the connection") || e.message.contains("reset"),
                "{directive}: {}",
                e.message
            );
        } else {
            assert_error(&e, ErrorKind::Io, 0, pieces, directive);
        }
        assert!(e.message.contains(EP), "{directive}: the message names the URL: {}", e.message);
        assert!(took < Duration::from_secs(2), "{directive}: {took:?}");
        assert_eq!(stub.count(&prefix), 1, "{directive}: never resent");
    }
}

#[test]
fn a_non_http_answer_is_io() {
    let stub = stub::Stub::start();
    let (c, prefix, _) = tenant(&stub, "garbage", "garbage", 1000, 5000);
    let e = expect_err(send(&c), "garbage");
    assert_error(&e, ErrorKind::Io, 0, &["not valid HTTP"], "garbage");
    assert_eq!(stub.count(&prefix), 1);
}

#[test]
fn a_2xx_with_a_truncated_body_counts_as_sent() {
    // The status line says the server processed the request; the body of a success is
    // not needed, so a short body does not turn it into a failure (nor into a resend).
    let stub = stub::Stub::start();
    let (c, prefix, _) = tenant(&stub, "truncate", "truncate", 1000, 5000);
    let sent = send(&c).expect("a 200 whose body is cut short");
    assert_eq!(sent.http_status, 200);
    assert_eq!(sent.retries, 0);
    assert_eq!(stub.count(&prefix), 1);
}

// ---------------------------------------------------------------------------------------
// Statuses: every family, with and without a SuperOffice error body
// ---------------------------------------------------------------------------------------

/// The kind the C ABI documents for each status, written out here as a table (the test's
/// own statement, not the library's mapping).
fn expected_kind(status: u16) -> ErrorKind {
    use ErrorKind::*;
    const NAMED: [(u16, ErrorKind); 5] =
        [(400, BadRequest), (401, Unauthorized), (403, Forbidden), (404, NotFound), (429, RateLimited)];
    match NAMED.iter().find(|(named, _)| *named == status) {
        Some((_, kind)) => *kind,
        None if (500..600).contains(&status) => Server,
        None => HttpStatus,
    }
}

#[test]
fn every_status_family_and_body_style() {
    let stub = stub::Stub::start();
    let statuses = [
        300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 413, 415, 418,
        422, 425, 429, 431, 451, 500, 501, 502, 503, 504, 505, 507, 511, 599,
    ];
    for status in statuses {
        for body in ["", "body=none", "body=html", "body=message", "body=big"] {
            let mut directives = format!("status={status}/retry_after=0");
            if !body.is_empty() {
                directives.push('/');
                directives.push_str(body);
            }
            let (c, prefix, _) = tenant(&stub, "status", &directives, 1000, 10_000);
            let what = directives.clone();
            let t = Instant::now();
            let e = expect_err(send(&c), &what);
            assert!(t.elapsed() < Duration::from_secs(5), "{what}: {:?}", t.elapsed());
            assert_eq!(e.kind, expected_kind(status), "{what}: {}", e.message);
            assert_eq!(e.http_status, status, "{what}");
            assert!(e.message.len() <= 4095, "{what}: message of {} bytes", e.message.len());
            assert!(e.message.starts_with(&format!("POST {}{prefix}/", stub.url())), "{what}: {}", e.message);
            assert!(e.message.contains(&format!(": {status}")), "{what}: {}", e.message);
            // 304 carries no body whatever the server meant to send.
            let has_json_body = status != 304 && (body.is_empty() || body == "body=message" || body == "body=big");
            if has_json_body {
                let etype = if status == 404 { "SoNotFoundException" } else { "SoStubException" };
                assert_eq!(e.error_type.as_deref(), Some(etype), "{what}: {}", e.message);
                let text = if status == 404 { "Person id 670 not found".to_string() } else { format!("stub status {status}") };
                assert!(e.message.contains(&format!("{etype}: {text}")), "{what}: {}", e.message);
            } else {
                assert_eq!(e.error_type, None, "{what}: {}", e.message);
            }
            if body == "body=html" && status != 304 {
                assert!(e.message.contains("<html"), "{what}: an HTML answer is quoted: {}", e.message);
            }
            if (300..400).contains(&status) {
                assert!(e.message.contains("not followed"), "{what}: {}", e.message);
            }
            // Only 429 and 503 are retried (here at once: Retry-After 0).
            let sends = if status == 429 || status == 503 { 3 } else { 1 };
            assert_eq!(stub.count(&prefix), sends, "{what}: sends");
            if sends > 1 {
                assert!(e.message.contains("after 2 retries"), "{what}: {}", e.message);
            }
        }
    }
}

#[test]
fn a_redirect_names_its_location_and_is_not_followed() {
    let stub = stub::Stub::start();
    let elsewhere = stub::Stub::start();
    for status in [301, 302, 303, 307, 308] {
        let target = format!("{}/stolen{EP}", elsewhere.url());
        let encoded = target.replace(':', "%3A").replace('/', "%2F");
        let (c, prefix, _) = tenant(&stub, "redirect", &format!("status={status}/location={encoded}"), 1000, 5000);
        let e = expect_err(send(&c), "redirect");
        assert_error(&e, ErrorKind::HttpStatus, status, &[&target, "not followed"], "redirect");
        assert_eq!(stub.count(&prefix), 1);
    }
    assert_eq!(elsewhere.count(""), 0, "nothing, and so no credential, went to the Location");
}

// ---------------------------------------------------------------------------------------
// Large answers
// ---------------------------------------------------------------------------------------

#[test]
fn a_2xx_with_hundreds_of_mib_of_body_is_not_buffered() {
    let stub = stub::Stub::start();
    // Warm up: the first client loads the trust store, the first send sets up the pool.
    let (warm, _, _) = tenant(&stub, "warm", "", 1000, 5000);
    send(&warm).unwrap();
    drop(warm);

    let before = rss_bytes();
    let (c, prefix, _) = tenant(&stub, "okbody", "ok_body=314572800", 1000, 20_000);
    let (r, took) = timed_send(&c);
    let after = rss_bytes();
    let sent = r.expect("a 200 with a 300 MiB body");
    assert_eq!(sent.http_status, 200);
    assert_eq!(stub.count(&prefix), 1);
    let grew = after.saturating_sub(before);
    assert!(grew < 16 << 20, "RSS grew by {} KiB for a 300 MiB body", grew >> 10);
    assert!(took < Duration::from_secs(10), "{took:?}");
    // The connection that carried the unread body is not reused: the next send works.
    let (c2, prefix2, _) = tenant(&stub, "after-okbody", "", 1000, 5000);
    send(&c2).unwrap();
    assert_eq!(send(&c).unwrap().http_status, 200);
    assert_eq!(stub.count(&prefix2), 1);
    assert_eq!(stub.count(&prefix), 2);
}

#[test]
fn an_error_body_of_mib_gives_a_message_bounded_to_4_kib() {
    let stub = stub::Stub::start();
    let before = rss_bytes();
    for status in [400, 500] {
        let (c, _, _) = tenant(&stub, "bigerr", &format!("status={status}/body=big"), 1000, 10_000);
        let e = expect_err(send(&c), "big error body");
        assert!(e.message.len() <= 4095, "{} bytes", e.message.len());
        assert_eq!(e.error_type.as_deref(), Some("SoStubException"));
        assert!(e.message.contains(&format!("stub status {status}")), "{}", e.message);
    }
    let grew = rss_bytes().saturating_sub(before);
    assert!(grew < 16 << 20, "RSS grew by {} KiB", grew >> 10);
}

#[test]
fn header_floods() {
    let stub = stub::Stub::start();
    // A hundred extra headers are an ordinary answer (the HTTP stack's limit is 128).
    let (c, prefix, _) = tenant(&stub, "flood-small", "header_flood=100", 1000, 5000);
    assert_eq!(send(&c).unwrap().http_status, 204);
    assert_eq!(stub.count(&prefix), 1);
    // More headers, up to megabytes of them, are refused, not buffered, and not resent.
    for n in [200, 5_000, 100_000] {
        let (c, prefix, _) = tenant(&stub, "flood", &format!("header_flood={n}"), 1000, 10_000);
        let before = rss_bytes();
        let (r, took) = timed_send(&c);
        let e = expect_err(r, "header flood");
        assert_eq!(e.kind, ErrorKind::Io, "header_flood={n}: {}", e.message);
        assert_eq!(e.http_status, 0);
        assert!(e.message.contains(EP), "{}", e.message);
        assert!(e.message.contains("header"), "header_flood={n}: says what was wrong: {}", e.message);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(rss_bytes().saturating_sub(before) < 16 << 20);
        assert_eq!(stub.count(&prefix), 1, "header_flood={n}: never resent");
    }
}

// ---------------------------------------------------------------------------------------
// The total timeout bounds everything
// ---------------------------------------------------------------------------------------

#[test]
fn no_fault_takes_longer_than_the_total_timeout() {
    let stub = stub::Stub::start();
    for directives in ["hang", "delay_ms=5000", "status=503", "status=429", "status=503/retry_after=1"] {
        let (c, _, _) = tenant(&stub, "bounded", directives, 200, 500);
        let mut s = c.settings().to_builder();
        s.max_retries(10).unwrap();
        let c = Client::new(&s.build()).unwrap();
        let (r, took) = timed_send(&c);
        let e = expect_err(r, directives);
        assert!(took < Duration::from_millis(500 + 400), "{directives}: a 500 ms total took {took:?} ({})", e.message);
    }
}
