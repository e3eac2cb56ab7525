//! Sending: one ureq `Agent` per client, shared by every thread that uses the client.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use ureq::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use ureq::http::{HeaderValue, Method, Request, StatusCode, Uri};
use ureq::Agent;

use crate::credentials::{self as login, Provider};
use crate::error::{Delivery, Error, ErrorKind};
use crate::error_body;
use crate::log::Level;
use crate::redact::Secrets;
use crate::request::{secret_header_value, PasswordEmail, PreparedRequest};
use crate::retry;
use crate::settings::{Auth, BaseUrl, Settings};
use crate::http::{self, read_bounded, status_line, ClientAgent};

/// The Person archive's path below the base URL.
pub const PERSON_PATH: &str = "/api/v1/Person";

mod credentials;
pub use credentials::CredentialInfo;

/// Most bytes of an error answer read (the message keeps less).
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Most bytes of a 2xx answer read so the connection can be reused; a longer body is
/// dropped unread and its connection closed.
const SUCCESS_DRAIN_LIMIT: u64 = 64 * 1024;
/// Idle keep-alive connections kept per host: enough for many threads sharing a client.
const POOL_PER_HOST: usize = 64;

/// The current `Authorization` header and its generation (bumped by every refresh).
struct AuthState {
    auth: Auth,
    header: Option<HeaderValue>,
    generation: u64,
}

/// A client: immutable settings, a prepared request, one connection pool.
pub struct Client {
    settings: Settings,
    /// The URL and fixed headers; replaced once when the login service says the tenant's
    /// API lives on another host (its `webapi_url` claim).
    prepared: RwLock<Arc<PreparedRequest>>,
    /// The credential the client gets itself (system user or OAuth refresh token).
    provider: Option<Provider>,
    /// The provider's generation whose secrets and `webapi_url` were taken in.
    provider_seen: AtomicU64,
    agent: ClientAgent,
    auth: RwLock<AuthState>,
    refresh: Mutex<()>,
    /// Every secret of the settings, and every credential the callback returned: hidden
    /// from whatever the server or a library below says.
    secrets: RwLock<Secrets>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Most bytes of a person search's answer read (51 rows need far less).
const SEARCH_ANSWER_LIMIT: u64 = 1024 * 1024;

/// What a request of the client is for: its method and URL follow from it and from the
/// prepared request (which moves when the tenant's API does).
pub(crate) enum Target<'a> {
    /// `POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail[?$select=...]`.
    Send,
    /// `GET {base}/api/v1/Person?{query}`: the person search (the query already encoded).
    PersonSearch(&'a str),
}

impl Target<'_> {
    fn method(&self) -> Method {
        match self {
            Target::Send => Method::POST,
            Target::PersonSearch(_) => Method::GET,
        }
    }

    fn uri(&self, prepared: &PreparedRequest) -> Result<Uri, Error> {
        match self {
            Target::Send => Ok(prepared.uri.clone()),
            Target::PersonSearch(query) => format!("{}{}?{query}", prepared.root, PERSON_PATH)
                .parse()
                .map_err(|_| Error::invalid("the person search's URL could not be built")),
        }
    }

    /// The method and URL as messages and logs show them: `GET https://...`.
    fn at(&self, prepared: &PreparedRequest) -> String {
        match self {
            Target::Send => format!("POST {}", prepared.shown_url),
            Target::PersonSearch(query) => {
                format!("GET {}{}?{query}", prepared.shown_root, PERSON_PATH)
            }
        }
    }
}

/// What the server answered to one attempt.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    retry_after: Option<Duration>,
    location: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Where one asynchronous send goes out and how it waits: a worker's own agent, and a
/// wait before a retry that a cancellation ends at once. The synchronous send uses the
/// client's shared agent and plain sleeps instead.
pub trait Lane {
    /// The agent to send through.
    fn agent(&self) -> Agent;
    /// Waits `wait` before a retry; false when the send was cancelled meanwhile.
    fn pause(&self, wait: Duration) -> bool;
    /// Whether the send was cancelled.
    fn cancelled(&self) -> bool;
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
        let agent = ClientAgent::new(settings, POOL_PER_HOST)?;
        let header = match settings.auth.header_value() {
            Some(v) => Some(secret_header_value(v)?),
            None => None,
        };
        let provider = match &settings.login_scheme {
            None => None,
            Some(scheme) => {
                // The value set, else the one the base URL implies, else a message naming
                // the setter.
                let given_or_derived = |given: &Option<String>, derive: fn(&BaseUrl) -> Option<String>, missing: fn(&str) -> String| {
                    let base = &settings.base;
                    given.clone().or_else(|| derive(base)).ok_or_else(|| Error::invalid(missing(&base.shown_root())))
                };
                let login_url = given_or_derived(&settings.login_url, login::derive_login_url, |root| {
                    format!("no login service is known for {root}: set it with so_options_set_login_url")
                })?;
                let context = given_or_derived(&settings.context_identifier, login::derive_context_identifier, |root| {
                    format!("the base URL {root} names no tenant: set it with so_options_set_context_identifier")
                })?;
                let key = if settings.shared_credentials {
                    let ca = match &settings.ca_file {
                        Some(path) => Some(std::fs::read(path).map_err(|e| {
                            Error::invalid(format!("the CA file could not be read again: {}", e.kind()))
                        })?),
                        None => None,
                    };
                    scheme.identity(&login_url, &context, ca.as_deref(), &settings.proxy)
                } else {
                    login::shared::private_key()
                };
                Some(Provider::new(scheme.clone(), login_url, context, key, settings.logger.clone()))
            }
        };
        Ok(Client {
            settings: settings.clone(),
            prepared: RwLock::new(Arc::new(prepared)),
            provider,
            provider_seen: AtomicU64::new(0),
            agent,
            auth: RwLock::new(AuthState { auth: settings.auth.clone(), header, generation: 0 }),
            refresh: Mutex::new(()),
            secrets: RwLock::new(settings.secrets()),
        })
    }

    fn prepared(&self) -> Arc<PreparedRequest> {
        self.prepared.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn log(&self, level: Level, message: impl FnOnce() -> String) {
        if let Some(logger) = &self.settings.logger {
            logger.log(level, &message());
        }
    }

    /// A new agent with this client's configuration and a pool of its own (for a worker
    /// of the asynchronous send, whose in-flight request can then be interrupted alone).
    pub fn fresh_agent(&self) -> Agent {
        self.agent.fresh()
    }

    /// Closes idle connections and interrupts every request in progress; sends after
    /// this fail. In a process forked after the client was made, it leaves the parent's
    /// connections alone.
    pub fn shutdown(&self) {
        self.agent.shutdown();
    }

    /// Sends one Customer Centre password e-mail, with the retries the settings allow.
    pub fn send_cc_password_email(&self, email: &PasswordEmail) -> Result<Sent, Error> {
        let body = email.json_body()?;
        self.send_body(&body, None)
    }

    /// Sends a prepared body (from [`PasswordEmail::json_body`]) with the retries the
    /// settings allow: through the client's agent, or through `lane`, which may cancel it.
    pub fn send_body(&self, body: &[u8], lane: Option<&dyn Lane>) -> Result<Sent, Error> {
        let (answer, retries) = self.exchange(&Target::Send, body, lane)?;
        Ok(Sent { http_status: answer.status.as_u16(), retries })
    }

    /// One request to the tenant's API with the retries the settings allow: the client's
    /// credentials (renewed once after a 401), resent when it provably never reached the
    /// server and after 429 or 503, within the total timeout. Returns the 2xx answer.
    pub(crate) fn exchange(&self, target: &Target, body: &[u8], lane: Option<&dyn Lane>) -> Result<(Answer, u32), Error> {
        let started = Instant::now();
        let deadline = self.settings.total_timeout.map(|t| started + t);
        let mut retries = 0u32;
        let mut refreshed = false;
        loop {
            let remaining = match deadline {
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(r) if !r.is_zero() => Some(r),
                    _ => return Err(self.fail(started, retries, self.timeout_error(&target.at(&self.prepared()), "total"))),
                },
                None => None,
            };
            let first = retries == 0 && !refreshed;
            if lane.is_some_and(|l| l.cancelled()) {
                return Err(self.fail(started, retries, self.cancelled_at(&target.at(&self.prepared()), !first)));
            }
            let (credential, generation) = match &self.provider {
                None => self.current_auth(),
                Some(provider) => {
                    let agent = match lane {
                        Some(l) => l.agent(),
                        None => self.agent.get(),
                    };
                    match self.provided_auth(provider, &agent, deadline) {
                        Ok((h, issued)) => (Some(h), issued.generation),
                        // No credential: no request goes to the API.
                        Err(e) => return Err(self.fail(started, retries, e)),
                    }
                }
            };
            // After the credential: the login service may have moved the tenant's API.
            let prepared = self.prepared();
            let at = target.at(&prepared);
            match self.attempt(target, &prepared, &at, body, credential, remaining, first, lane) {
                Ok(answer) if answer.status.is_success() => {
                    self.log(Level::Info, || {
                        format!(
                            "{at} -> {} in {:.1} ms, {} retries",
                            status_line(answer.status),
                            started.elapsed().as_secs_f64() * 1000.0,
                            retries
                        )
                    });
                    return Ok((answer, retries));
                }
                Ok(answer) => {
                    let status = answer.status.as_u16();
                    if status == 401 && !refreshed {
                        if let Some(provider) = &self.provider {
                            // Renewed once and sent once more; a second 401 is the answer.
                            provider.refused(generation);
                            refreshed = true;
                            self.log(Level::Warn, || "401 Unauthorized: getting a new credential from the login service".into());
                            continue;
                        }
                    }
                    if status == 401 && !refreshed && self.refresh_credentials(generation) {
                        refreshed = true;
                        continue;
                    }
                    let error = self.status_error(&at, &answer);
                    if (status == 429 || status == 503) && retries < self.settings.max_retries {
                        let wait = answer.retry_after.unwrap_or_else(|| retry::backoff(retries));
                        self.wait_before_retry(&at, wait, answer.retry_after.is_some(), deadline, &error, started, retries, lane)?;
                        retries += 1;
                        continue;
                    }
                    return Err(self.fail(started, retries, error));
                }
                Err(error) => {
                    if lane.is_some_and(|l| l.cancelled()) {
                        // Interrupted by the cancellation; what it interrupted decides.
                        return Err(self.fail(started, retries, self.cancelled_at(&at, error.delivery != Delivery::NotSent)));
                    }
                    if retry::may_resend(&error) && retries < self.settings.max_retries {
                        let wait = retry::backoff(retries);
                        self.wait_before_retry(&at, wait, false, deadline, &error, started, retries, lane)?;
                        retries += 1;
                        continue;
                    }
                    return Err(self.fail(started, retries, error));
                }
            }
        }
    }

    /// A request's method and URL as messages show them.
    pub(crate) fn request_at(&self, target: &Target) -> String {
        target.at(&self.prepared())
    }

    /// Text from the server or a library below, with every secret hidden.
    fn hide(&self, text: &str) -> String {
        self.secrets.read().unwrap_or_else(|p| p.into_inner()).hide(text)
    }

    /// Sleeps before a retry, or fails at once when the wait would pass the deadline (or
    /// when the send is cancelled during the wait).
    #[allow(clippy::too_many_arguments)]
    fn wait_before_retry(
        &self,
        at: &str,
        wait: Duration,
        server_asked: bool,
        deadline: Option<Instant>,
        error: &Error,
        started: Instant,
        retries: u32,
        lane: Option<&dyn Lane>,
    ) -> Result<(), Error> {
        let limit = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => retry::MAX_WAIT_WITHOUT_DEADLINE,
        };
        if wait >= limit {
            let e = error.clone().with_note(&if server_asked {
                format!(
                    "; the server asked to retry after {}, longer than the {} left of the total timeout",
                    retry::human(wait),
                    retry::human(limit)
                )
            } else {
                "; no time left to retry within the total timeout".to_string()
            });
            return Err(self.fail(started, retries, e));
        }
        self.log(Level::Warn, || {
            format!("{}; retrying in {}", error.message, retry::human(wait))
        });
        match lane {
            None => std::thread::sleep(wait),
            Some(l) if !l.pause(wait) => return Err(self.fail(started, retries, self.cancelled_at(at, true))),
            Some(_) => {}
        }
        Ok(())
    }

    fn fail(&self, started: Instant, retries: u32, mut error: Error) -> Error {
        if retries > 0 {
            error = error.with_note(&format!(" (after {} {})", retries, if retries == 1 { "retry" } else { "retries" }));
        }
        self.log(Level::Error, || {
            format!("{} [{:.1} ms]", error.message, started.elapsed().as_secs_f64() * 1000.0)
        });
        error
    }

    /// The error of a cancelled send: whether the server may have received it matters to
    /// a caller deciding to send again (`Unknown` once a byte may have been written).
    pub(crate) fn cancelled_error(&self, maybe_sent: bool) -> Error {
        self.cancelled_at(&Target::Send.at(&self.prepared()), maybe_sent)
    }

    /// The error of a cancelled request (`at` is its method and URL).
    fn cancelled_at(&self, at: &str, maybe_sent: bool) -> Error {
        if maybe_sent {
            Error::new(
                ErrorKind::Cancelled,
                format!("{at}: cancelled while it was on the network; the server may already have received the request"),
            )
        } else {
            Error::not_sent(ErrorKind::Cancelled, format!("{at}: cancelled before it was sent"))
        }
        .with_delivery_words()
    }

    /// The total timeout expired before an attempt: every earlier attempt was not sent or
    /// answered 429/503 (nothing else is retried), so this one was not sent.
    fn timeout_error(&self, at: &str, which: &str) -> Error {
        let limit = self.settings.total_timeout.map(retry::human).unwrap_or_else(|| "no".into());
        Error::not_sent(ErrorKind::Timeout, format!("{at}: the {which} timeout of {limit} expired")).with_delivery_words()
    }

    /// One request and its answer; a transport failure carries its delivery (decided by
    /// [`http::classify`]).
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        target: &Target,
        prepared: &PreparedRequest,
        at: &str,
        body: &[u8],
        auth_header: Option<HeaderValue>,
        remaining: Option<Duration>,
        first: bool,
        lane: Option<&dyn Lane>,
    ) -> Result<Answer, Error> {
        let agent = match lane {
            Some(l) => l.agent(),
            None => self.agent.get(),
        };
        let mut request = Request::new(body);
        *request.method_mut() = target.method();
        *request.uri_mut() = target.uri(prepared)?;
        *request.headers_mut() = prepared.headers.clone();
        if target.method() == Method::GET {
            request.headers_mut().remove(CONTENT_TYPE);
        }
        if let Some(h) = auth_header {
            request.headers_mut().insert(AUTHORIZATION, h);
        }
        let request = match remaining {
            // The agent's own limits already fit the first attempt.
            Some(rem) if !first => {
                let (_, connect) = self.settings.limits_within(Some(rem));
                agent
                    .configure_request(request)
                    .timeout_global(Some(rem))
                    .timeout_connect(connect)
                    .build()
            }
            _ => request,
        };
        let response = agent
            .run(request)
            .map_err(|e| {
                let mut error = http::classify(&e, at, &self.settings).with_delivery_words();
                error.message = self.hide(&error.message);
                error
            })?;
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
        let (limit, keep) = match (status.is_success(), target) {
            (true, Target::Send) => (SUCCESS_DRAIN_LIMIT, false),
            (true, Target::PersonSearch(_)) => (SEARCH_ANSWER_LIMIT, true),
            (false, _) => (ERROR_BODY_LIMIT, true),
        };
        let kept = read_bounded(&mut body, limit, keep);
        Ok(Answer { status, retry_after, location, body: kept })
    }

    fn status_error(&self, at: &str, answer: &Answer) -> Error {
        let mut message = format!("{at}: {}", status_line(answer.status));
        // What the server said may quote a credential: hidden before it goes anywhere.
        let parsed = error_body::parse(&answer.body).map(|p| error_body::ErrorBody {
            error_type: p.error_type.map(|t| self.hide(&t)),
            message: p.message.map(|m| self.hide(&m)),
        });
        if let Some(p) = &parsed {
            match (&p.error_type, &p.message) {
                (Some(t), Some(m)) => message.push_str(&format!(": {t}: {m}")),
                (Some(t), None) => message.push_str(&format!(": {t}")),
                (None, Some(m)) => message.push_str(&format!(": {m}")),
                (None, None) => {}
            }
        } else if let Some(text) = error_body::excerpt(&answer.body) {
            message.push_str(&format!(": {}", self.hide(&text)));
        }
        if answer.status.is_redirection() {
            match &answer.location {
                Some(loc) => message.push_str(&format!(" (redirect to {} not followed)", self.hide(loc))),
                None => message.push_str(" (redirect not followed)"),
            }
        }
        if let Some(wait) = answer.retry_after {
            message.push_str(&format!(" (Retry-After {})", retry::human(wait)));
        }
        let mut e = Error::new(ErrorKind::from_status(answer.status.as_u16()), message);
        e.delivery = Delivery::Answered;
        e.http_status = answer.status.as_u16();
        e.error_type = parsed.and_then(|p| p.error_type);
        e.retry_after = answer.retry_after;
        e
    }
}
