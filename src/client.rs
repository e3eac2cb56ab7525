//! Sending: one ureq `Agent` per client, shared by every thread that uses the client.

use std::io::Read;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use ureq::http::header::{AUTHORIZATION, LOCATION, RETRY_AFTER};
use ureq::http::{HeaderValue, Method, Request, StatusCode};
use ureq::{Agent, Body};

use crate::error::{Error, ErrorKind};
use crate::error_body;
use crate::log::Level;
use crate::request::{secret_header_value, PasswordEmail, PreparedRequest};
use crate::retry;
use crate::settings::{Auth, Settings};
use crate::transport::{self, Direct, Head};

/// Most bytes of an error answer read (the message keeps less).
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Most bytes of a 2xx answer drained so the connection can be reused; a longer body
/// is dropped unread and its connection closed.
const SUCCESS_DRAIN_LIMIT: u64 = 64 * 1024;
/// Idle keep-alive connections kept per host: enough for many threads sharing a client.
const POOL_PER_HOST: usize = 64;

/// The current `Authorization` header and its generation (bumped by every refresh).
struct AuthState {
    auth: Auth,
    header: Option<HeaderValue>,
    /// The request head of the direct path, with this `Authorization`.
    head: Option<Arc<Head>>,
    generation: u64,
}

/// A client: immutable settings, a prepared request, one connection pool.
pub struct Client {
    settings: Settings,
    prepared: PreparedRequest,
    agent: Agent,
    /// Sends without ureq's per-request machinery when no proxy is in use.
    direct: Option<Direct>,
    auth: RwLock<AuthState>,
    refresh: Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// What the server answered to one attempt.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    location: Option<String>,
    body: Vec<u8>,
}

/// How a successful send went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The 2xx status.
    pub http_status: u16,
    /// How many times the request was sent again.
    pub retries: u32,
}

impl Client {
    /// Builds a client: checks the settings, prepares the request, creates the pool.
    pub fn new(settings: &Settings) -> Result<Client, Error> {
        let prepared = PreparedRequest::new(settings)?;
        let agent = transport::agent(settings, POOL_PER_HOST)?;
        let header = match settings.auth.header_value() {
            Some(v) => Some(secret_header_value(v)?),
            None => None,
        };
        let direct = Direct::new(
            &agent,
            &prepared.uri,
            &prepared.shown_url,
            POOL_PER_HOST,
            SUCCESS_DRAIN_LIMIT,
            ERROR_BODY_LIMIT,
        );
        let head = direct.as_ref().map(|d| Arc::new(d.head(&prepared.headers, header.as_ref())));
        Ok(Client {
            settings: settings.clone(),
            prepared,
            agent,
            direct,
            auth: RwLock::new(AuthState { auth: settings.auth.clone(), header, head, generation: 0 }),
            refresh: Mutex::new(()),
        })
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn log(&self, level: Level, message: impl FnOnce() -> String) {
        if let Some(logger) = &self.settings.logger {
            logger.log(level, &message());
        }
    }

    fn current_auth(&self) -> (Credential, u64) {
        let state = self.auth.read().unwrap_or_else(|p| p.into_inner());
        let credential = match &state.head {
            Some(head) => Credential::Head(Arc::clone(head)),
            None => Credential::Header(state.header.clone()),
        };
        (credential, state.generation)
    }

    /// After a 401: asks for a fresh credential once per generation, however many threads
    /// saw the 401. True when a fresh credential is in place to retry with.
    fn refresh_credentials(&self, seen_generation: u64) -> bool {
        let Some(provider) = &self.settings.credentials else { return false };
        let _one_at_a_time = self.refresh.lock().unwrap_or_else(|p| p.into_inner());
        {
            let state = self.auth.read().unwrap_or_else(|p| p.into_inner());
            if state.generation != seen_generation {
                return true; // another thread refreshed while this one waited
            }
            if !matches!(state.auth, Auth::Ticket(_) | Auth::Bearer(_)) {
                return false;
            }
        }
        let Some(fresh) = provider.fresh_credential() else {
            self.log(Level::Warn, || "the credentials callback gave no fresh credential".into());
            return false;
        };
        let mut state = self.auth.write().unwrap_or_else(|p| p.into_inner());
        let refreshed = match state.auth.refreshed(fresh.expose()) {
            Some(Ok(a)) => a,
            _ => {
                drop(state);
                self.log(Level::Warn, || "the credentials callback gave an unusable credential".into());
                return false;
            }
        };
        let header = match refreshed.header_value().map(secret_header_value) {
            Some(Ok(h)) => h,
            _ => return false,
        };
        state.head = self.direct.as_ref().map(|d| Arc::new(d.head(&self.prepared.headers, Some(&header))));
        state.auth = refreshed;
        state.header = Some(header);
        state.generation += 1;
        drop(state);
        self.log(Level::Warn, || "credentials refreshed after 401 Unauthorized".into());
        true
    }

    /// Sends one Customer Centre password e-mail, with the retries the settings allow.
    pub fn send_cc_password_email(&self, email: &PasswordEmail) -> Result<Sent, Error> {
        let body = email.json_body()?;
        let started = Instant::now();
        let deadline = self.settings.total_timeout.map(|t| started + t);
        let mut retries = 0u32;
        let mut refreshed = false;
        loop {
            let remaining = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => Some(r),
                    _ => return Err(self.fail(started, retries, self.timeout_error("total", retries))),
                },
                None => None,
            };
            let (credential, generation) = self.current_auth();
            let first = retries == 0 && !refreshed;
            match self.attempt(&body, credential, remaining, first) {
                Ok(answer) if answer.status.is_success() => {
                    let status = answer.status.as_u16();
                    self.log(Level::Info, || {
                        format!(
                            "POST {} -> {} in {:.1} ms, {} retries",
                            self.prepared.shown_url,
                            status_line(answer.status),
                            started.elapsed().as_secs_f64() * 1000.0,
                            retries
                        )
                    });
                    return Ok(Sent { http_status: status, retries });
                }
                Ok(answer) => {
                    let status = answer.status.as_u16();
                    if status == 401 && !refreshed && self.refresh_credentials(generation) {
                        refreshed = true;
                        continue;
                    }
                    let error = self.status_error(&answer);
                    if (status == 429 || status == 503) && retries < self.settings.max_retries {
                        let wait = answer.retry_after.unwrap_or_else(|| retry::backoff(retries));
                        self.wait_before_retry(wait, answer.retry_after.is_some(), deadline, &error, started, retries)?;
                        retries += 1;
                        continue;
                    }
                    return Err(self.fail(started, retries, error));
                }
                Err((error, not_sent)) => {
                    if not_sent && retries < self.settings.max_retries {
                        let wait = retry::backoff(retries);
                        self.wait_before_retry(wait, false, deadline, &error, started, retries)?;
                        retries += 1;
                        continue;
                    }
                    return Err(self.fail(started, retries, error));
                }
            }
        }
    }

    /// Sleeps before a retry, or fails at once when the wait would pass the deadline.
    fn wait_before_retry(
        &self,
        wait: Duration,
        server_asked: bool,
        deadline: Option<Instant>,
        error: &Error,
        started: Instant,
        retries: u32,
    ) -> Result<(), Error> {
        let limit = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => retry::MAX_WAIT_WITHOUT_DEADLINE,
        };
        if wait >= limit {
            let mut e = error.clone();
            e.message = crate::error::bound_message(if server_asked {
                format!(
                    "{}; the server asked to retry after {}, longer than the {} left of the total timeout",
                    error.message,
                    retry::human(wait),
                    retry::human(limit)
                )
            } else {
                format!("{}; no time left to retry within the total timeout", error.message)
            });
            return Err(self.fail(started, retries, e));
        }
        self.log(Level::Warn, || {
            format!("{}; retrying in {}", error.message, retry::human(wait))
        });
        std::thread::sleep(wait);
        Ok(())
    }

    fn fail(&self, started: Instant, retries: u32, mut error: Error) -> Error {
        if retries > 0 {
            error.message = crate::error::bound_message(format!(
                "{} (after {} {})",
                error.message,
                retries,
                if retries == 1 { "retry" } else { "retries" }
            ));
        }
        self.log(Level::Error, || {
            format!("{} [{:.1} ms]", error.message, started.elapsed().as_secs_f64() * 1000.0)
        });
        error
    }

    fn timeout_error(&self, which: &str, _retries: u32) -> Error {
        let limit = self.settings.total_timeout.map(retry::human).unwrap_or_else(|| "no".into());
        Error::new(
            ErrorKind::Timeout,
            format!("POST {}: the {which} timeout of {limit} expired", self.prepared.shown_url),
        )
    }

    /// One request and its answer. On a transport failure, says whether the request
    /// provably never reached the server (only then may it be sent again).
    fn attempt(
        &self,
        body: &[u8],
        credential: Credential,
        remaining: Option<Duration>,
        first: bool,
    ) -> Result<Answer, (Error, bool)> {
        let auth_header = match credential {
            Credential::Head(head) => return self.attempt_direct(body, &head, remaining, first),
            Credential::Header(h) => h,
        };
        let mut request = Request::new(body);
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.prepared.uri.clone();
        *request.headers_mut() = self.prepared.headers.clone();
        if let Some(h) = auth_header {
            request.headers_mut().insert(AUTHORIZATION, h);
        }
        let request = match remaining {
            // The agent's own limits already fit the first attempt.
            Some(rem) if !first => {
                let (_, connect) = self.settings.limits_within(Some(rem));
                self.agent
                    .configure_request(request)
                    .timeout_global(Some(rem))
                    .timeout_connect(connect)
                    .build()
            }
            _ => request,
        };
        let response = self
            .agent
            .run(request)
            .map_err(|e| transport::classify(&e, &self.prepared.shown_url, &self.settings))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).chars().take(512).collect());
        let mut body = response.into_body();
        let limit = if status.is_success() { SUCCESS_DRAIN_LIMIT } else { ERROR_BODY_LIMIT };
        let kept = read_bounded(&mut body, limit, !status.is_success());
        Ok(Answer { status, retry_after, location, body: kept })
    }

    /// [`Client::attempt`] over the direct path: the same request, timeouts and answer.
    fn attempt_direct(
        &self,
        body: &[u8],
        head: &Head,
        remaining: Option<Duration>,
        first: bool,
    ) -> Result<Answer, (Error, bool)> {
        let direct = self.direct.as_ref().expect("a head exists only with the direct path");
        let config = self.agent.config();
        // The agent's limits for the first attempt, what is left of them for a retry.
        let (total, connect) =
            self.settings.limits_within(if first { self.settings.total_timeout } else { remaining });
        let reply = direct
            .exchange(config, head, body, total, connect)
            .map_err(|e| transport::classify(&e, &self.prepared.shown_url, &self.settings))?;
        let retry_after = reply
            .retry_after
            .as_deref()
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
        Ok(Answer { status: reply.status, retry_after, location: reply.location, body: reply.body })
    }

    fn status_error(&self, answer: &Answer) -> Error {
        let mut message = format!("POST {}: {}", self.prepared.shown_url, status_line(answer.status));
        let parsed = error_body::parse(&answer.body);
        if let Some(p) = &parsed {
            match (&p.error_type, &p.message) {
                (Some(t), Some(m)) => message.push_str(&format!(": {t}: {m}")),
                (Some(t), None) => message.push_str(&format!(": {t}")),
                (None, Some(m)) => message.push_str(&format!(": {m}")),
                (None, None) => {}
            }
        } else if let Some(text) = error_body::excerpt(&answer.body) {
            message.push_str(&format!(": {text}"));
        }
        if answer.status.is_redirection() {
            match &answer.location {
                Some(loc) => message.push_str(&format!(" (redirect to {loc} not followed)")),
                None => message.push_str(" (redirect not followed)"),
            }
        }
        if let Some(wait) = answer.retry_after {
            message.push_str(&format!(" (Retry-After {})", retry::human(wait)));
        }
        let mut e = Error::new(ErrorKind::from_status(answer.status.as_u16()), message);
        e.http_status = answer.status.as_u16();
        e.error_type = parsed.and_then(|p| p.error_type);
        e
    }
}

/// What a request authenticates with: the direct path's prepared head, or ureq's header.
enum Credential {
    Head(Arc<Head>),
    Header(Option<HeaderValue>),
}

/// `404 Not Found`.
fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {}", status.as_u16(), reason),
        None => status.as_u16().to_string(),
    }
}

/// Reads at most `limit` bytes of a body. The bytes are kept when `keep`, else dropped.
/// A body longer than the limit is left unread (its connection is then closed).
fn read_bounded(body: &mut Body, limit: u64, keep: bool) -> Vec<u8> {
    let mut reader = body.as_reader().take(limit);
    if keep {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        out
    } else {
        // Not `io::copy`: it clears an 8 KiB buffer on every call, for bodies mostly empty.
        let mut buf = [0u8; 512];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        Vec::new()
    }
}


#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use super::*;
    use crate::request::PasswordEmail;

    /// A server that records every request's bytes and answers 204, keeping connections.
    fn recorder() -> (String, mpsc::Receiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Ok(n) = conn.read(&mut chunk) else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if buf.len() < end + 4 + len {
                            continue;
                        }
                        let request: Vec<u8> = buf.drain(..end + 4 + len).collect();
                        let _ = tx.send(request);
                        if conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://127.0.0.1:{port}"), rx)
    }

    /// The direct path writes, byte for byte, the request ureq writes for the same client.
    #[test]
    fn the_direct_path_sends_the_bytes_ureq_sends() {
        let (url, rx) = recorder();
        let email = PasswordEmail { person_id: 670, from: Some("a\"b"), to: None, subject: Some("Ämne") };
        let mut variants = Vec::new();
        let mut s = Settings::new(&format!("{url}/Cust12345")).unwrap();
        s.auth = Auth::ticket("7T:dGVzdA==").unwrap();
        s.set_app_token(Some("app")).unwrap();
        s.set_language(Some("sv")).unwrap();
        variants.push(s.clone());
        s.set_xsrf_token(Some("xsrf")).unwrap();
        s.set_culture(Some("sv-SE")).unwrap();
        s.set_timezone(Some("UTC")).unwrap();
        s.set_select(Some("name,category/id, x&y")).unwrap();
        variants.push(s.clone());
        s.auth = Auth::basic("user", "pässword").unwrap();
        variants.push(s.clone());
        variants.push(Settings::new(&format!("{url}/api/")).unwrap());
        // A body larger than a connection's 128 KiB output buffer goes out in pieces.
        let big = "x".repeat(300_000);
        let big_email = PasswordEmail { person_id: 1, from: None, to: None, subject: Some(&big) };
        for (i, mut settings) in variants.into_iter().enumerate() {
            settings.set_proxy(Some("")).unwrap();
            let client = Client::new(&settings).unwrap();
            assert!(client.direct.is_some());
            let body = if i == 0 { big_email.json_body().unwrap() } else { email.json_body().unwrap() };
            let (Credential::Head(head), _) = client.current_auth() else { panic!("a direct client") };
            let header = client.auth.read().unwrap().header.clone();
            let direct = client.attempt(&body, Credential::Head(head), None, true).unwrap();
            let via_ureq = client.attempt(&body, Credential::Header(header), None, true).unwrap();
            assert_eq!((direct.status.as_u16(), via_ureq.status.as_u16()), (204, 204));
            let (a, b) = (rx.recv().unwrap(), rx.recv().unwrap());
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        }
    }

    #[test]
    fn the_host_header_carries_only_a_port_that_is_not_the_default() {
        for (url, host) in [
            ("http://h.example/x", "h.example"),
            ("http://h.example:80/x", "h.example"),
            ("http://h.example:8080/x", "h.example:8080"),
            ("https://h.example:443/x", "h.example"),
            ("https://h.example:80/x", "h.example:80"),
            ("http://[::1]:81/x", "[::1]:81"),
        ] {
            let mut s = Settings::new(url).unwrap();
            s.set_proxy(Some("")).unwrap();
            let client = Client::new(&s).unwrap();
            let (Credential::Head(head), _) = client.current_auth() else { panic!("a direct client") };
            let text = String::from_utf8_lossy(head.after_length()).into_owned();
            assert!(text.starts_with(&format!("\r\nhost: {host}\r\n")), "{url}: {text}");
        }
    }

    /// A socket timeout kept from an earlier request is shorter than the time left: when
    /// it expires the read goes on for the rest, and the total timeout still holds.
    #[test]
    fn a_kept_socket_timeout_neither_cuts_nor_stretches_the_total() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let mut buf = [0u8; 4096];
            for delay_ms in [0u64, 950, 1300] {
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") || !got.ends_with(b"}") {
                    let Ok(n) = conn.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                std::thread::sleep(Duration::from_millis(delay_ms));
                let _ = conn.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
            }
        });
        let mut s = Settings::new(&format!("http://127.0.0.1:{port}/Cust1")).unwrap();
        s.set_proxy(Some("")).unwrap();
        s.set_timeouts_ms(1000, 1000);
        s.set_max_retries(0).unwrap();
        let client = Client::new(&s).unwrap();
        let email = PasswordEmail { person_id: 1, from: None, to: None, subject: None };
        client.send_cc_password_email(&email).unwrap();
        // The socket now has a 900 ms timeout; an answer after 950 ms is within the 1 s.
        let started = Instant::now();
        assert_eq!(client.send_cc_password_email(&email).unwrap().http_status, 204);
        assert!(started.elapsed() >= Duration::from_millis(900));
        // An answer after 1.3 s is past it: a timeout at 1 s.
        let started = Instant::now();
        let e = client.send_cc_password_email(&email).unwrap_err();
        let took = started.elapsed();
        assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
        assert!(took >= Duration::from_millis(990) && took < Duration::from_millis(1250), "{took:?}");
    }

    #[test]
    fn a_proxy_keeps_requests_on_ureq() {
        let mut s = Settings::new("http://h.example/x").unwrap();
        s.set_proxy(Some("http://proxy.example:3128")).unwrap();
        assert!(Client::new(&s).unwrap().direct.is_none());
    }
}
