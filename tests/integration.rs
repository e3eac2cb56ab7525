//! The core against the stub server on loopback: wire requests, errors, batch,
//! credential refresh, logging, tenant lookup.

use superoffice_stub as stub;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use superoffice::log::{Level, Logger};
use superoffice::settings::{Auth, CredentialsProvider, Secret};
use superoffice::send::batch;
use superoffice::{tenant, Client, ErrorKind, PasswordEmail, Settings, SettingsBuilder};

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// A fresh tenant prefix and the base URL with directives after it.
fn tenant_url(s: &stub::Stub, name: &str, directives: &str) -> (String, String) {
    let prefix = format!("/rs-{}-{name}", UNIQUE.fetch_add(1, Ordering::Relaxed));
    let sep = if directives.is_empty() { "" } else { "/" };
    (prefix.clone(), format!("{}{prefix}{sep}{directives}/Cust12345", s.url()))
}

fn ticket_settings(base: &str) -> SettingsBuilder {
    let mut settings = Settings::builder(base).unwrap();
    settings.ticket("7T:dGVzdA==").unwrap().timeouts_ms(2000, 5000);
    settings
}

fn email(person_id: i32) -> PasswordEmail<'static> {
    PasswordEmail { person_id, from: Some("support@example.com"), to: Some("kari@example.com"), subject: Some("Your password") }
}

#[test]
fn ticket_request_matches_the_official_client() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant_url(&s, "ticket", "auth=ticket");
    let mut settings = ticket_settings(&(base.clone() + "/api/"));
    settings.app_token(Some("app-secret-123")).unwrap();
    settings.language(Some("sv")).unwrap();
    let client = Client::new(&settings.build()).unwrap();
    let sent = client
        .send_cc_password_email(&PasswordEmail { person_id: 670, from: Some("autem"), to: Some("et"), subject: Some("eos") })
        .unwrap();
    assert_eq!(sent.http_status, 204);
    assert_eq!(sent.retries, 0);
    let reqs = s.requests(&prefix);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert!(r.path.ends_with("/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"), "{}", r.path);
    assert_eq!(r.query, "");
    assert_eq!(r.header("authorization"), Some("SOTicket 7T:dGVzdA=="));
    assert_eq!(r.header("so-apptoken"), Some("app-secret-123"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(r.header("accept-language"), Some("sv"));
    assert_eq!(r.header("so-language"), Some("sv"));
    assert_eq!(r.header("x-xsrf-token"), None);
    assert_eq!(r.body_str(), r#"{"PersonId":670,"From":"autem","To":"et","Subject":"eos"}"#);
}

#[test]
fn basic_and_bearer_and_xsrf_requests() {
    let s = stub::Stub::start();
    let cases: [(&str, Auth, Option<&str>, &str); 3] = [
        ("auth=basic", Auth::basic("tje0", "Tje0").unwrap(), None, "Basic dGplMDpUamUw"),
        ("auth=bearer", Auth::bearer("8A:Cust12345.token").unwrap(), None, "Bearer 8A:Cust12345.token"),
        ("auth=xsrf", Auth::None, Some("xsrf-123"), ""),
    ];
    for (directive, auth, xsrf, want) in cases {
        let (prefix, base) = tenant_url(&s, "schemes", directive);
        let mut settings = Settings::builder(&base).unwrap();
        settings.auth(auth);
        settings.xsrf_token(xsrf).unwrap();
        Client::new(&settings.build()).unwrap().send_cc_password_email(&email(670)).unwrap();
        let r = &s.requests(&prefix)[0];
        if want.is_empty() {
            assert_eq!(r.header("authorization"), None);
            assert_eq!(r.header("x-xsrf-token"), Some("xsrf-123"));
        } else {
            assert_eq!(r.header("authorization"), Some(want), "{directive}");
        }
    }
}

#[test]
fn culture_timezone_select_and_null_fields() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant_url(&s, "extras", "");
    let mut settings = ticket_settings(&base);
    settings.culture(Some("nb-NO")).unwrap();
    settings.timezone(Some("UTC")).unwrap();
    settings.select(Some("name,department,category/id")).unwrap();
    let client = Client::new(&settings.build()).unwrap();
    client
        .send_cc_password_email(&PasswordEmail { person_id: 5, from: None, to: None, subject: None })
        .unwrap();
    let r = &s.requests(&prefix)[0];
    assert_eq!(r.header("so-culture"), Some("nb-NO"));
    assert_eq!(r.header("so-timezone"), Some("UTC"));
    assert_eq!(r.query, "$select=name,department,category/id");
    assert_eq!(r.body_str(), r#"{"PersonId":5,"From":null,"To":null,"Subject":null}"#);
}

#[test]
fn errors_carry_status_type_and_a_useful_message() {
    let s = stub::Stub::start();
    let (_, base) = tenant_url(&s, "notfound", "");
    let client = Client::new(&ticket_settings(&base).build()).unwrap();
    let e = client.send_cc_password_email(&email(99999)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.http_status, 404);
    assert_eq!(e.error_type.as_deref(), Some("SoNotFoundException"));
    assert_eq!(
        e.message,
        format!("POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail: 404 Not Found: SoNotFoundException: Person id 99999 not found")
    );

    let (_, base) = tenant_url(&s, "badreq", "status=400/body=message");
    let e = Client::new(&ticket_settings(&base).build()).unwrap().send_cc_password_email(&email(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.ends_with("400 Bad Request: SoStubException: stub status 400"), "{}", e.message);

    let (_, base) = tenant_url(&s, "redirect", "status=307/location=https%3A%2F%2Felsewhere.example%2Fx");
    let e = Client::new(&ticket_settings(&base).build()).unwrap().send_cc_password_email(&email(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::HttpStatus);
    assert_eq!(e.http_status, 307);
    assert!(e.message.contains("redirect to https://elsewhere.example/x not followed"), "{}", e.message);
}

#[test]
fn wrong_credentials_are_401_without_the_secret() {
    let s = stub::Stub::start();
    let (_, base) = tenant_url(&s, "wrong", "");
    let mut settings = Settings::builder(&base).unwrap();
    settings.basic_auth("tje0", "not-the-Password-xyz").unwrap();
    let e = Client::new(&settings.build()).unwrap().send_cc_password_email(&email(1)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(e.error_type.as_deref(), Some("UnauthorizedAccessException"));
    assert!(!e.message.contains("not-the-Password"));
    assert!(!format!("{e:?}").contains("not-the-Password"));
}

#[test]
fn batch_gives_every_item_exactly_one_result() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant_url(&s, "batch", "");
    let client = Client::new(&ticket_settings(&base).build()).unwrap();
    let mut items: Vec<PasswordEmail> = (1..=200).map(email).collect();
    items[10].person_id = 99999;
    let mut seen = vec![0u32; items.len()];
    let mut last_done = 0;
    batch::send_many(&client, &items, 8, |i, outcome, done| {
        seen[i] += 1;
        assert_eq!(done, last_done + 1);
        last_done = done;
        if i == 10 {
            assert_eq!(outcome.unwrap_err().kind, ErrorKind::NotFound);
        } else {
            outcome.unwrap();
        }
    });
    assert!(seen.iter().all(|&n| n == 1));
    assert_eq!(last_done, 200);
    assert_eq!(s.count(&prefix), 200);
}

struct Counter {
    calls: AtomicUsize,
}

impl CredentialsProvider for Counter {
    fn fresh_credential(&self) -> Option<Secret> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        Some(Secret::new("fresh-from-callback"))
    }
}

#[test]
fn a_401_refreshes_credentials_once_for_many_threads() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant_url(&s, "refresh", "");
    let mut settings = Settings::builder(&base).unwrap();
    settings.bearer_token("8A:expired").unwrap();
    let counter = Arc::new(Counter { calls: AtomicUsize::new(0) });
    settings.credentials(Some(counter.clone()));
    let client = Client::new(&settings.build()).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| client.send_cc_password_email(&email(670)).unwrap());
        }
    });
    assert_eq!(counter.calls.load(Ordering::SeqCst), 1);
    let reqs = s.requests(&prefix);
    let fresh = reqs.iter().filter(|r| r.header("authorization") == Some("Bearer fresh-from-callback")).count();
    assert_eq!(fresh, 8);
    assert!(reqs.len() <= 16);
}

struct Lines(Mutex<Vec<(Level, String)>>);

impl Logger for Lines {
    fn log(&self, level: Level, message: &str) {
        self.0.lock().unwrap().push((level, message.to_string()));
    }
}

#[test]
fn one_log_line_per_request_and_retries_logged() {
    let s = stub::Stub::start();
    let (_, base) = tenant_url(&s, "log", "status=503/fail_first=1/retry_after=0");
    let lines = Arc::new(Lines(Mutex::new(Vec::new())));
    let mut settings = ticket_settings(&base);
    settings.app_token(Some("app-secret-logged?")).unwrap();
    settings.logger(Some(lines.clone()));
    let client = Client::new(&settings.build()).unwrap();
    let sent = client.send_cc_password_email(&email(1)).unwrap();
    assert_eq!(sent.retries, 1);
    let lines = lines.0.lock().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].0, Level::Warn);
    assert!(lines[0].1.contains("503 Service Unavailable") && lines[0].1.contains("retrying in 0 ms"), "{}", lines[0].1);
    assert_eq!(lines[1].0, Level::Info);
    assert!(lines[1].1.contains("-> 204 No Content") && lines[1].1.ends_with("1 retries"), "{}", lines[1].1);
    assert!(lines.iter().all(|(_, l)| !l.contains("app-secret") && !l.contains("dGVzdA")));
}

#[test]
fn tenant_lookup_against_the_state_endpoint() {
    let s = stub::Stub::start();
    assert_eq!(tenant::lookup_api_url(Some(&s.url()), "Cust12345").unwrap(), format!("{}/Cust12345/api", s.url()));
    let e = tenant::lookup_api_url(Some(&s.url()), "CustMaint").unwrap_err();
    assert_eq!(e.kind, ErrorKind::TenantUnavailable);
    let e = tenant::lookup_api_url(Some(&s.url()), "Cust999").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.starts_with("GET "), "{}", e.message);
    assert_eq!(tenant::lookup_api_url(Some(&s.url()), "../x").unwrap_err().kind, ErrorKind::InvalidArgument);
}

#[test]
fn threads_share_one_pool() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant_url(&s, "pool", "");
    let client = Client::new(&ticket_settings(&base).build()).unwrap();
    let before = s.accepted_connections();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for i in 1..=200 {
                    client.send_cc_password_email(&email(i)).unwrap();
                }
            });
        }
    });
    assert_eq!(s.count(&prefix), 1600);
    let opened = s.accepted_connections() - before;
    // keep-alive: a handful of connections, not one per request
    assert!(opened <= 32, "{opened} connections for 1600 requests in {:?}", started.elapsed());
}

/// A server that answers one request per connection with a keep-alive 204, then closes it.
fn one_request_per_connection_server() -> (String, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/Cust1", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            // headers, then the body by its Content-Length
            loop {
                let n = conn.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                        .unwrap_or(0);
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
            drop(conn); // close without saying so: the client's pooled connection goes stale
        }
    });
    (url, requests)
}

#[test]
fn a_pooled_connection_the_server_closed_is_not_used() {
    let (base, requests) = one_request_per_connection_server();
    let mut settings = Settings::builder(&base).unwrap();
    settings.max_retries(0).unwrap(); // a send on a stale connection would not be retried
    settings.proxy(Some("")).unwrap();
    let client = Client::new(&settings.build()).unwrap();
    for i in 1..=5 {
        client.send_cc_password_email(&email(i)).unwrap();
        std::thread::sleep(Duration::from_millis(100)); // let the server's FIN arrive
    }
    assert_eq!(requests.load(Ordering::SeqCst), 5);
}

/// Freeing a client closes its pooled keep-alive connection at once, and a request in
/// progress on another thread ends instead of waiting for its answer.
#[test]
fn shutting_a_client_down_closes_its_connections_and_ends_waiting_sends() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel::<std::net::TcpStream>();
    std::thread::spawn(move || {
        for (i, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !(got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}")) {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            // The first connection is answered and kept; later ones are never answered.
            if tx.send(conn.try_clone().unwrap()).is_err() {
                return;
            }
            if i == 0 {
                let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
            }
        }
    });
    let mut settings = ticket_settings(&format!("http://127.0.0.1:{port}/Cust1"));
    settings.proxy(Some("")).unwrap();
    settings.timeouts_ms(2000, 0);
    let client = Client::new(&settings.build()).unwrap();
    client.send_cc_password_email(&email(670)).unwrap();
    let mut pooled = rx.recv().unwrap();
    pooled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    drop(client);
    let mut byte = [0u8; 1];
    assert_eq!(pooled.read(&mut byte).unwrap(), 0, "the pooled connection is closed when the client is freed");

    // A send waiting for an answer that never comes, with no timeout: shutdown ends it.
    let client = Arc::new(Client::new(&settings.build()).unwrap());
    let sender = {
        let client = Arc::clone(&client);
        std::thread::spawn(move || client.send_cc_password_email(&email(670)))
    };
    let _waiting = rx.recv().unwrap(); // the request arrived
    let started = Instant::now();
    client.shutdown();
    let result = sender.join().unwrap();
    assert!(result.is_err(), "a send interrupted by shutdown fails");
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown ended the wait: {:?}", started.elapsed());
}
