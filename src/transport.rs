//! The ureq agent of a client, and what its failures mean.

use std::fmt;
use std::io;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::tls::TlsConfig;
use ureq::{Agent, Proxy, Timeout};

use crate::error::{Error, ErrorKind};
use crate::request::USER_AGENT_VALUE;
use crate::retry::human;
use crate::settings::{ProxySetting, Settings};

/// The agent for a client: statuses are answers, no redirects, the client's timeouts,
/// TLS through rustls with verified certificates, a pool sized for many threads.
pub fn agent(settings: &Settings, pool_per_host: usize) -> Result<Agent, Error> {
    let (total, connect) = settings.limits_within(settings.total_timeout);
    let proxy = match &settings.proxy {
        ProxySetting::FromEnvironment => Proxy::try_from_env(),
        ProxySetting::Direct => None,
        ProxySetting::Url(url) => Some(
            Proxy::new(url.expose())
                .map_err(|_| Error::invalid("the proxy URL is not valid"))?,
        ),
    };
    let tls = TlsConfig::builder()
        .root_certs(crate::tls::root_certs(settings.ca_file.as_deref())?)
        .build();
    let config: Config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(connect)
        .timeout_global(total)
        .user_agent(USER_AGENT_VALUE)
        .max_idle_connections(pool_per_host * 2)
        .max_idle_connections_per_host(pool_per_host)
        .proxy(proxy)
        .tls_config(tls)
        .build();
    Ok(crate::resolver::agent_with_fast_resolver(config))
}

/// Maps a ureq failure to an error of the contract, and says whether the request
/// provably never reached the server (a connection that could not be made).
pub fn classify(err: &ureq::Error, shown_url: &str, settings: &Settings) -> (Error, bool) {
    let at = |what: String| format!("POST {shown_url}: {what}");
    let (kind, what, not_sent) = match err {
        ureq::Error::Timeout(which) => {
            // The connect phase (resolving, TCP, TLS) ends before the request is written,
            // so a timeout there proves the server never saw it.
            let connecting = matches!(which, Timeout::Resolve | Timeout::Connect);
            let what = match which {
                Timeout::Resolve | Timeout::Connect => format!(
                    "could not connect within the connect timeout of {}",
                    settings.connect_timeout.map(human).unwrap_or_else(|| "no".into())
                ),
                _ => format!(
                    "no complete answer within the total timeout of {}",
                    settings.total_timeout.map(human).unwrap_or_else(|| "no".into())
                ),
            };
            (ErrorKind::Timeout, what, connecting)
        }
        ureq::Error::HostNotFound => (ErrorKind::Connect, "could not resolve the host name".into(), true),
        ureq::Error::ConnectionFailed => (ErrorKind::Connect, "could not connect".into(), true),
        ureq::Error::Io(e) => classify_io(e),
        ureq::Error::Protocol(p) => (ErrorKind::Io, format!("the answer is not valid HTTP ({p})"), false),
        ureq::Error::Rustls(e) => (ErrorKind::Tls, describe_tls(e), false),
        ureq::Error::Tls(m) => (ErrorKind::Tls, format!("TLS failed: {m}"), false),
        ureq::Error::Pem(_) => (ErrorKind::Tls, "a certificate could not be read".into(), false),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            (ErrorKind::InvalidArgument, "the request could not be built".into(), false)
        }
        ureq::Error::InvalidProxyUrl => (ErrorKind::InvalidArgument, "the proxy URL is not valid".into(), false),
        ureq::Error::ConnectProxyFailed(m) => (
            ErrorKind::Connect,
            format!("the proxy refused the tunnel: {}", m.chars().take(200).collect::<String>()),
            true,
        ),
        other => (ErrorKind::Io, format!("the request failed: {}", scrub(&other.to_string())), false),
    };
    (Error::new(kind, at(what)), not_sent)
}

/// Transport I/O failures. Only failures to connect prove the request was not sent.
fn classify_io(e: &io::Error) -> (ErrorKind, String, bool) {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return (ErrorKind::Tls, describe_tls(tls), false);
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => (ErrorKind::Connect, "connection refused".into(), true),
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable | K::NetworkDown => {
            (ErrorKind::Connect, format!("host unreachable ({e})"), true)
        }
        K::TimedOut => (ErrorKind::Timeout, "the connection timed out".into(), false),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => (
            ErrorKind::Io,
            "the connection was reset before a complete answer arrived".into(),
            false,
        ),
        K::UnexpectedEof => (
            ErrorKind::Io,
            "the server closed the connection before a complete answer arrived".into(),
            false,
        ),
        K::InvalidData => (ErrorKind::Io, format!("the answer is not valid ({e})"), false),
        _ => {
            let text = e.to_string();
            if text.contains("lookup address") || text.contains("resolve") || text.contains("Name or service") {
                (ErrorKind::Connect, format!("could not resolve the host name ({text})"), true)
            } else {
                (ErrorKind::Io, format!("I/O error: {}", scrub(&text)), false)
            }
        }
    }
}

/// Says which TLS check failed.
fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "TLS certificate verification failed: the certificate is not trusted (unknown issuer)".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "TLS certificate verification failed: the certificate is not valid for this host name".into()
            }
            C::Expired | C::ExpiredContext { .. } => {
                "TLS certificate verification failed: the certificate has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS certificate verification failed: the certificate is not valid yet".into()
            }
            C::Revoked => "TLS certificate verification failed: the certificate is revoked".into(),
            C::BadSignature => "TLS certificate verification failed: bad signature".into(),
            other => format!("TLS certificate verification failed: {other:?}"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "TLS handshake failed: the server did not answer with TLS".into()
        }
        rustls::Error::AlertReceived(a) => format!("TLS handshake failed: the server sent alert {a:?}"),
        other => format!("TLS handshake failed: {other}"),
    }
}

/// Library texts may echo a URL; cut anything that looks like user information.
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        match (word.find("://"), word.find('@')) {
            (Some(s), Some(at)) if at > s => {
                out.push_str(&word[..s + 3]);
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
    }
    out.chars().take(300).collect()
}


// ---------------------------------------------------------------------------------------
// The direct path: the request of every send, over a pooled keep-alive connection
// ---------------------------------------------------------------------------------------
//
// A send over ureq's `Agent::run` costs about 30,000 instructions and 12 system calls on
// a reused connection (the request head formatted field by field, the answer parsed into
// an `http::Response`, the socket switched to non-blocking and back twice to probe it,
// its timeouts set again before every read and write). The request of a client never
// changes but for its body and `Authorization`, so without a proxy it is written here from
// bytes prepared once, in one write; a clean 2xx answer (HTTP/1.1, a `Content-Length` or a
// 204 without one, no `Transfer-Encoding`) is read with `httparse` alone; every other
// answer is handed, byte for byte, to ureq's own protocol state machine (`ureq-proto`,
// the one `Agent::run` uses), so statuses, bodies and failures read exactly as before.
// Connections are made by ureq's connectors (its rustls one for https) over a TCP
// transport that probes a pooled connection with one `recv(MSG_PEEK | MSG_DONTWAIT)` and
// sets a socket timeout only when the one in place could outlast the deadline.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use ureq::http::{HeaderValue, Method, Request, Response, StatusCode};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::time::{Duration as UDuration, Instant as UInstant};
use ureq::unversioned::transport::{
    Buffers, ChainedConnector, ConnectionDetails, Connector, LazyBuffers, NextTimeout, RustlsConnector,
    ShutdownHandle, Transport,
};
use ureq_proto::client::state::{RecvBody, RecvResponse};
use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult};
use zeroize::Zeroizing;

use crate::resolver::FastResolver;

/// A socket timeout in place is kept while it is at most this much shorter than the time
/// left (an expiry with time left just waits again for the rest).
const TIMEOUT_SLACK: StdDuration = StdDuration::from_millis(200);
/// Most headers of an answer read by the fast parser; more go to ureq's parser.
const FAST_HEADERS: usize = 24;

/// When the current phase of a request must end, and what is said when it does.
#[derive(Clone, Copy, Debug)]
struct Deadline {
    at: Option<StdInstant>,
    reason: Timeout,
}

impl Deadline {
    fn next(&self) -> NextTimeout {
        self.next_from(StdInstant::now())
    }

    /// The timeout as of `now` (a moment ago: the clock is not read again).
    fn next_from(&self, now: StdInstant) -> NextTimeout {
        let after = match self.at {
            Some(at) => UDuration::Exact(at.saturating_duration_since(now)),
            None => UDuration::NotHappening,
        };
        NextTimeout { after, reason: self.reason, per_read: None, per_write: None }
    }
}

/// Sets a socket timeout only when the one in place could outlast `left`, or is much
/// shorter: the value set is rounded down to 100 ms so the next request keeps it.
fn lazy_timeout(
    current: &mut Option<StdDuration>,
    left: Option<StdDuration>,
    set: impl FnOnce(Option<StdDuration>) -> io::Result<()>,
) -> io::Result<()> {
    let keep = match (*current, left) {
        (None, None) => true,
        (Some(c), Some(l)) => c <= l && l - c < TIMEOUT_SLACK,
        _ => false,
    };
    if !keep {
        let value = left.map(|l| {
            if l >= TIMEOUT_SLACK {
                StdDuration::from_millis((l.as_millis() / 100 * 100) as u64)
            } else {
                l
            }
        });
        set(value)?;
        *current = value;
    }
    Ok(())
}

/// What is left of one I/O's timeout. The clock is read only once a socket timeout has
/// expired with time left (the first try needs none): the I/O then began at least that
/// socket timeout ago.
struct Budget {
    timeout: NextTimeout,
    began: Option<StdInstant>,
}

impl Budget {
    fn new(timeout: NextTimeout) -> Budget {
        Budget { timeout, began: None }
    }

    /// Time left, `None` for no limit; an error when none is left.
    fn left(&self) -> Result<Option<StdDuration>, ureq::Error> {
        match self.timeout.after {
            UDuration::NotHappening => Ok(None),
            UDuration::Exact(d) => {
                let spent = self.began.map_or(StdDuration::ZERO, |b| b.elapsed());
                match d.checked_sub(spent) {
                    Some(l) if !l.is_zero() => Ok(Some(l)),
                    _ => Err(ureq::Error::Timeout(self.timeout.reason)),
                }
            }
        }
    }

    /// A socket timeout of `waited` expired.
    fn expired(&mut self, waited: Option<StdDuration>) {
        if self.began.is_none() {
            let now = StdInstant::now();
            self.began = Some(waited.and_then(|w| now.checked_sub(w)).unwrap_or(now));
        }
    }
}

/// A plain TCP connection of the direct path.
struct DirectTcp {
    stream: TcpStream,
    buffers: LazyBuffers,
    read_timeout: Option<StdDuration>,
    write_timeout: Option<StdDuration>,
}

impl Drop for DirectTcp {
    /// The output buffer held the last request head, `Authorization` included.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.buffers.output());
    }
}

impl fmt::Debug for DirectTcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectTcp").field("addr", &self.stream.peer_addr().ok()).finish()
    }
}

impl Transport for DirectTcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let mut budget = Budget::new(timeout);
        let mut done = 0;
        while done < amount {
            let left = budget.left()?;
            let stream = &self.stream;
            lazy_timeout(&mut self.write_timeout, left, |t| stream.set_write_timeout(t))?;
            match (&self.stream).write(&self.buffers.output()[done..amount]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The socket timeout may be shorter than the time left: `budget` decides.
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    if left.is_none() {
                        return Err(ureq::Error::Timeout(timeout.reason));
                    }
                    budget.expired(self.write_timeout);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let mut budget = Budget::new(timeout);
        loop {
            let left = budget.left()?;
            let stream = &self.stream;
            lazy_timeout(&mut self.read_timeout, left, |t| stream.set_read_timeout(t))?;
            let input = self.buffers.input_append_buf();
            match (&self.stream).read(input) {
                Ok(n) => {
                    self.buffers.input_appended(n);
                    return Ok(n > 0);
                }
                // As ureq: an interrupted read is tried again only within a timeout.
                Err(e) if e.kind() == io::ErrorKind::Interrupted && left.is_some() => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    if left.is_none() {
                        return Err(ureq::Error::Timeout(timeout.reason));
                    }
                    budget.expired(self.read_timeout);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Open when a read would block: no byte and no end of stream is waiting. One system
    /// call, where ureq's probe makes three.
    fn is_open(&mut self) -> bool {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
        let peek = socket2::SockRef::from(&self.stream).recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
        matches!(peek, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// Opens the TCP connection of the direct path: each resolved address in turn with a
/// share of the connect timeout, as ureq's `TcpConnector` does.
#[derive(Debug, Default)]
struct DirectTcpConnector;

impl Connector<()> for DirectTcpConnector {
    type Out = DirectTcp;

    fn connect(&self, details: &ConnectionDetails, _chained: Option<()>) -> Result<Option<DirectTcp>, ureq::Error> {
        let stream = connect_any(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(DirectTcp { stream, buffers, read_timeout: None, write_timeout: None }))
    }
}

/// ureq's `try_connect_with`: the connect timeout shared between the addresses in a
/// geometric series (1/2, 1/4, ...), at least 10 ms each.
fn connect_any(addrs: &ResolvedSocketAddrs, timeout: NextTimeout) -> Result<TcpStream, ureq::Error> {
    const MIN_PER_ADDRESS: StdDuration = StdDuration::from_millis(10);
    let started = StdInstant::now();
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(addrs.len() as i32));
    let mut weight = 1.0_f64;
    let mut last_err: Option<ureq::Error> = None;
    for addr in addrs.iter() {
        let per_addr = timeout.not_zero().map(|t| {
            let secs = t.as_secs_f64() * weight / total_weight;
            StdDuration::from_millis((secs * 1000.0) as u64).max(MIN_PER_ADDRESS)
        });
        let result = match per_addr {
            Some(t) => TcpStream::connect_timeout(addr, t),
            None => TcpStream::connect(addr),
        };
        match result {
            Ok(s) => return Ok(s),
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                if started.elapsed() > *timeout.after {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                last_err = Some(ureq::Error::Timeout(Timeout::Connect));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::HostUnreachable
                        | io::ErrorKind::NetworkUnreachable
                        | io::ErrorKind::NetworkDown
                        | io::ErrorKind::AddrNotAvailable
                ) =>
            {
                last_err = Some(ureq::Error::Io(e));
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        weight /= 2.0;
    }
    Err(last_err.unwrap_or_else(|| {
        ureq::Error::Io(io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused"))
    }))
}

type DirectConnector = ChainedConnector<(), DirectTcpConnector, RustlsConnector>;
type RunConnector = dyn Fn(&ConnectionDetails) -> Result<Box<dyn Transport>, ureq::Error> + Send + Sync;
type RegisterShutdown = dyn Fn(Weak<dyn ShutdownHandle>) -> Result<(), ureq::Error> + Send + Sync;

struct Idle {
    conn: Box<dyn Transport>,
    since: StdInstant,
}

/// What the server answered, as the client needs it.
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// `Location`, as sent (lossy UTF-8).
    pub location: Option<String>,
    /// The body bytes kept (only for a status outside 2xx).
    pub body: Vec<u8>,
}

/// The request bytes of a client but for the body and its length: the part before the
/// `Content-Length` value, and the part after it (the other headers, `Authorization` last).
pub struct Head {
    before_length: Vec<u8>,
    after_length: Zeroizing<Vec<u8>>,
}

impl Head {
    /// The bytes after the `Content-Length` value (for tests).
    #[cfg(test)]
    pub fn after_length(&self) -> &[u8] {
        &self.after_length
    }
}

/// The direct path of one client: its connector, resolver and pool.
pub struct Direct {
    connector: DirectConnector,
    resolver: FastResolver,
    run_connector: Arc<RunConnector>,
    register_shutdown: Arc<RegisterShutdown>,
    current_time: Arc<dyn Fn() -> UInstant + Send + Sync + 'static>,
    pool: Mutex<Vec<Idle>>,
    pool_max: usize,
    /// Most bytes of a 2xx body drained for the connection to be reused.
    drain_limit: u64,
    /// Most bytes of another status's body kept.
    keep_limit: u64,
    uri: Uri,
    shown_url: String,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct").field("url", &self.shown_url).finish_non_exhaustive()
    }
}

impl Direct {
    /// The direct path for an agent's requests to `uri`; `None` when a proxy is in use
    /// (those requests go through `Agent::run`, which speaks to proxies). A 2xx body is
    /// drained up to `drain_limit` bytes, another status's body kept up to `keep_limit`.
    pub fn new(agent: &Agent, uri: &Uri, shown_url: &str, pool_max: usize, drain_limit: u64, keep_limit: u64) -> Option<Direct> {
        if agent.config().proxy().is_some() {
            return None;
        }
        let run_connector: Arc<RunConnector> = Arc::new(|_: &ConnectionDetails| Err(ureq::Error::ConnectionFailed));
        let register_shutdown: Arc<RegisterShutdown> = Arc::new(|_| Ok(()));
        Some(Direct {
            connector: DirectTcpConnector.chain(RustlsConnector::default()),
            resolver: FastResolver::default(),
            run_connector,
            register_shutdown,
            current_time: Arc::new(UInstant::now),
            pool: Mutex::new(Vec::new()),
            pool_max,
            drain_limit,
            keep_limit,
            uri: uri.clone(),
            shown_url: shown_url.to_string(),
        })
    }

    /// The request head for these headers (`Authorization` included when given), in the
    /// order and form ureq writes it.
    pub fn head(&self, headers: &ureq::http::HeaderMap, auth: Option<&HeaderValue>) -> Head {
        let uri = &self.uri;
        let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut before = Vec::with_capacity(target.len() + 40);
        before.extend_from_slice(b"POST ");
        before.extend_from_slice(target.as_bytes());
        before.extend_from_slice(b" HTTP/1.1\r\ncontent-length: ");
        let mut after = Zeroizing::new(Vec::with_capacity(512));
        after.extend_from_slice(b"\r\nhost: ");
        after.extend_from_slice(uri.host().unwrap_or("").as_bytes());
        if let Some(port) = uri.port_u16() {
            let default = if uri.scheme_str() == Some("https") { 443 } else { 80 };
            if port != default {
                after.extend_from_slice(format!(":{port}").as_bytes());
            }
        }
        after.extend_from_slice(b"\r\n");
        let auth = auth.map(|v| (&AUTHORIZATION_NAME, v));
        for (name, value) in headers.iter().filter(|(n, _)| **n != AUTHORIZATION_NAME).chain(auth) {
            after.extend_from_slice(name.as_str().as_bytes());
            after.extend_from_slice(b": ");
            after.extend_from_slice(value.as_bytes());
            after.extend_from_slice(b"\r\n");
        }
        after.extend_from_slice(b"\r\n");
        Head { before_length: before, after_length: after }
    }

    fn take_idle(&self, config: &Config, now: StdInstant) -> Option<Box<dyn Transport>> {
        let max_age = config.max_idle_age();
        loop {
            // The lock covers the pop only: the probe is a system call.
            let idle = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop()?;
            let mut conn = idle.conn;
            if now.saturating_duration_since(idle.since) < max_age && conn.is_open() {
                return Some(conn);
            }
        }
    }

    /// Pools a connection; `now` is when its request began (its idle age counts from
    /// there, a little early).
    fn give_back(&self, conn: Box<dyn Transport>, config: &Config, now: StdInstant) {
        let max_age = config.max_idle_age();
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.retain(|i| now.saturating_duration_since(i.since) < max_age);
        if pool.len() < self.pool_max {
            pool.push(Idle { conn, since: now });
        }
    }

    /// Resolves within the total timeout, then connects (and shakes hands) within the
    /// connect timeout counted from there, or the total when that ends first.
    fn connect(&self, config: &Config, global: Deadline, connect: Option<StdDuration>) -> Result<Box<dyn Transport>, ureq::Error> {
        let addrs = self.resolver.resolve(&self.uri, config, global.next())?;
        let connect_at = connect.map(|c| StdInstant::now() + c);
        let phase = match (connect_at, global.at) {
            (Some(c), Some(g)) if c <= g => Deadline { at: Some(c), reason: Timeout::Connect },
            (Some(c), None) => Deadline { at: Some(c), reason: Timeout::Connect },
            _ => global,
        };
        let details = ConnectionDetails {
            uri: &self.uri,
            addrs,
            config,
            request_level: false,
            resolver: &self.resolver,
            now: UInstant::now(),
            timeout: phase.next(),
            current_time: self.current_time.clone(),
            run_connector: self.run_connector.clone(),
            register_shutdown: self.register_shutdown.clone(),
        };
        let conn = self.connector.connect(&details, None)?.ok_or(ureq::Error::ConnectionFailed)?;
        if details.needs_tls() && !conn.is_tls() {
            return Err(ureq::Error::TlsRequired);
        }
        Ok(Box::new(conn))
    }

    /// Sends the request and reads the answer: `total` is the time left for the whole
    /// attempt, `connect` the connect timeout.
    pub fn exchange(
        &self,
        config: &Config,
        head: &Head,
        body: &[u8],
        total: Option<StdDuration>,
        connect: Option<StdDuration>,
    ) -> Result<Reply, ureq::Error> {
        let started = StdInstant::now();
        let global = Deadline { at: total.map(|t| started + t), reason: Timeout::Global };
        let (mut conn, sending) = match self.take_idle(config, started) {
            Some(c) => (c, global.next_from(started)),
            None => (self.connect(config, global, connect)?, global.next()),
        };
        self.send(&mut *conn, head, body, sending, global)?;
        self.receive(conn, config, body.len(), global, started)
    }

    /// Writes the request, in one write when it fits the output buffer; `first` is what
    /// is left of the total for that write.
    fn send(
        &self,
        conn: &mut dyn Transport,
        head: &Head,
        body: &[u8],
        first: NextTimeout,
        global: Deadline,
    ) -> Result<(), ureq::Error> {
        let mut timeout = first;
        let mut digits = itoa::Buffer::new();
        let length = digits.format(body.len()).as_bytes();
        let parts: [&[u8]; 4] = [&head.before_length, length, &head.after_length, body];
        let mut filled = 0;
        for part in parts {
            let mut part = part;
            while !part.is_empty() {
                let out = conn.buffers().output();
                if filled == out.len() {
                    conn.transmit_output(filled, timeout)?;
                    timeout = global.next();
                    filled = 0;
                    continue;
                }
                let n = part.len().min(out.len() - filled);
                out[filled..filled + n].copy_from_slice(&part[..n]);
                filled += n;
                part = &part[n..];
            }
        }
        if filled > 0 {
            conn.transmit_output(filled, timeout)?;
        }
        Ok(())
    }

    fn receive(
        &self,
        mut conn: Box<dyn Transport>,
        config: &Config,
        body_len: usize,
        global: Deadline,
        started: StdInstant,
    ) -> Result<Reply, ureq::Error> {
        loop {
            match fast_parse(conn.buffers().input(), self.drain_limit, config.max_response_header_size()) {
                Fast::NeedMore => {
                    if !conn.await_input(global.next())? {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Peer disconnected").into());
                    }
                }
                Fast::Clean { head_len, status, content_length, close } => {
                    conn.buffers().input_consume(head_len);
                    let mut reusable = !close;
                    let mut left = content_length;
                    while left > 0 {
                        let buffers = conn.buffers();
                        let have = buffers.input().len() as u64;
                        if have > 0 {
                            let n = have.min(left);
                            buffers.input_consume(n as usize);
                            left -= n;
                            continue;
                        }
                        // As before: a short or failed 2xx body still counts as sent,
                        // and its connection is not reused.
                        match conn.await_input(global.next()) {
                            Ok(true) => {}
                            Ok(false) | Err(_) => {
                                reusable = false;
                                break;
                            }
                        }
                    }
                    if reusable && conn.buffers().input().is_empty() {
                        self.give_back(conn, config, started);
                    }
                    return Ok(Reply { status, retry_after: None, location: None, body: Vec::new() });
                }
                Fast::Other => return self.receive_slow(conn, config, body_len, global, started),
            }
        }
    }

    /// Reads the answer with ureq's protocol state machine, as `Agent::run` does.
    fn receive_slow(
        &self,
        mut conn: Box<dyn Transport>,
        config: &Config,
        body_len: usize,
        global: Deadline,
        started: StdInstant,
    ) -> Result<Reply, ureq::Error> {
        let mut call = self.call_awaiting_response(body_len)?;
        // run::recv_response
        let response: Response<()> = loop {
            let input = conn.buffers().input();
            let (amount, maybe_response) = call.try_response(input, false)?;
            let check_size = if maybe_response.is_some() { amount } else { input.len() };
            if check_size > config.max_response_header_size() {
                return Err(ureq::Error::LargeResponseHeader(input.len(), config.max_response_header_size()));
            }
            conn.buffers().input_consume(amount);
            if let Some(response) = maybe_response {
                break response;
            }
            if amount > 0 && !conn.buffers().input().is_empty() {
                continue;
            }
            if !conn.await_input(global.next())? {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Peer disconnected").into());
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(ureq::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let location = response
            .headers()
            .get(ureq::http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).chars().take(512).collect());
        let reply = |body| Reply { status, retry_after, location, body };
        let Some(next) = call.proceed() else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the answer could not be read").into());
        };
        let recv = match next {
            RecvResponseResult::RecvBody(c) => c,
            RecvResponseResult::Redirect(c) => {
                self.cleanup(conn, c.must_close_connection(), config, started);
                return Ok(reply(Vec::new()));
            }
            RecvResponseResult::Cleanup(c) => {
                self.cleanup(conn, c.must_close_connection(), config, started);
                return Ok(reply(Vec::new()));
            }
        };
        let keep = !status.is_success();
        let limit = if keep { self.keep_limit } else { self.drain_limit };
        let mut reader = SlowBody { call: Some(recv), conn: Some(conn), remote_closed: false, global, started };
        let mut kept = Vec::new();
        let mut buf = vec![0u8; 8192];
        let mut total = 0u64;
        // client::read_bounded over `Body::as_reader().take(limit)`: errors end the body.
        while total < limit {
            let want = (limit - total).min(buf.len() as u64) as usize;
            match reader.read(&mut buf[..want], self, config) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    total += n as u64;
                    if keep {
                        kept.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
        Ok(reply(kept))
    }

    /// A ureq-proto call for this request, advanced to where the answer is read.
    fn call_awaiting_response(&self, body_len: usize) -> Result<Call<RecvResponse>, ureq::Error> {
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        request
            .headers_mut()
            .insert(ureq::http::header::CONTENT_LENGTH, HeaderValue::from(body_len as u64));
        let mut call = Call::new(request)?.proceed();
        let mut scratch = vec![0u8; 4096];
        while !call.can_proceed() {
            call.write(&mut scratch)?;
        }
        let broken = || ureq::Error::Io(io::Error::new(io::ErrorKind::InvalidData, "request state"));
        let call = match call.proceed()?.ok_or_else(broken)? {
            SendRequestResult::SendBody(mut c) => {
                c.consume_direct_write(body_len)?;
                c.proceed().ok_or_else(broken)?
            }
            SendRequestResult::RecvResponse(c) => c,
            SendRequestResult::Await100(_) => return Err(broken()),
        };
        Ok(call)
    }

    /// run::cleanup, with ureq's check that nothing unread is left.
    fn cleanup(&self, mut conn: Box<dyn Transport>, must_close: bool, config: &Config, started: StdInstant) {
        if !must_close && conn.buffers().input().is_empty() {
            self.give_back(conn, config, started);
        }
    }
}

/// The body of an answer read by ureq-proto: run::BodyHandler.
struct SlowBody {
    call: Option<Call<RecvBody>>,
    conn: Option<Box<dyn Transport>>,
    remote_closed: bool,
    global: Deadline,
    started: StdInstant,
}

impl SlowBody {
    fn read(&mut self, buf: &mut [u8], direct: &Direct, config: &Config) -> Result<usize, ureq::Error> {
        use ureq_proto::BodyMode;
        let (Some(call), Some(conn)) = (&mut self.call, &mut self.conn) else {
            return Ok(0);
        };
        loop {
            let fulfilled = match call.body_mode() {
                BodyMode::NoBody => true,
                BodyMode::LengthDelimited(_) | BodyMode::Chunked => call.can_proceed(),
                BodyMode::CloseDelimited => false,
            };
            if fulfilled {
                self.ended(direct, config)?;
                return Ok(0);
            }
            if conn.buffers().can_use_input() {
                let (used, out) = call.read(conn.buffers().input(), buf)?;
                conn.buffers().input_consume(used);
                if out > 0 {
                    return Ok(out);
                }
                if used > 0 {
                    continue;
                }
            }
            if self.remote_closed {
                self.ended(direct, config)?;
                return Ok(0);
            }
            let made_progress = match conn.maybe_await_input(self.global.next()) {
                Ok(v) => v,
                Err(ureq::Error::Io(e)) => match e.kind() {
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset => {
                        self.remote_closed = true;
                        true
                    }
                    _ => return Err(ureq::Error::Io(e)),
                },
                Err(e) => return Err(e),
            };
            let input = conn.buffers().input();
            let input_ended = input.is_empty();
            let (used, out) = call.read(input, buf)?;
            conn.buffers().input_consume(used);
            if out > 0 {
                return Ok(out);
            } else if input_ended {
                self.ended(direct, config)?;
                return Ok(0);
            } else if made_progress {
                continue;
            } else {
                return Err(ureq::Error::BodyStalled);
            }
        }
    }

    fn ended(&mut self, direct: &Direct, config: &Config) -> Result<(), ureq::Error> {
        let call = self.call.take().expect("ended() called with a body");
        let ended_chunked = call.is_ended_chunked();
        let mut force_close = false;
        if !call.can_proceed() {
            if ended_chunked {
                force_close = true;
            } else {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "Peer disconnected").into());
            }
        }
        let must_close = force_close
            || match call.proceed() {
                Some(RecvBodyResult::Redirect(c)) => c.must_close_connection(),
                Some(RecvBodyResult::Cleanup(c)) => c.must_close_connection(),
                None => true,
            };
        if let Some(conn) = self.conn.take() {
            direct.cleanup(conn, must_close, config, self.started);
        }
        Ok(())
    }
}

/// What the fast parser made of the input so far.
#[derive(Debug, PartialEq, Eq)]
enum Fast {
    /// An incomplete head that may still be clean.
    NeedMore,
    /// A clean 2xx: HTTP/1.1, no `Transfer-Encoding`, one plain `Content-Length` below the
    /// drain limit (or a 204 without one), `Connection` absent, `keep-alive` or `close`.
    Clean { head_len: usize, status: StatusCode, content_length: u64, close: bool },
    /// Anything else: for ureq's parser.
    Other,
}

fn fast_parse(input: &[u8], drain_limit: u64, max_head: usize) -> Fast {
    let mut headers = [httparse::EMPTY_HEADER; FAST_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if input.len() <= max_head => return Fast::NeedMore,
        _ => return Fast::Other,
    };
    let code = response.code.unwrap_or(0);
    if response.version != Some(1) || !(200..300).contains(&code) || head_len > max_head {
        return Fast::Other;
    }
    let Ok(status) = StatusCode::from_u16(code) else { return Fast::Other };
    let mut content_length = None;
    let mut close = false;
    for h in response.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = h.value;
            if content_length.is_some() || v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
                return Fast::Other;
            }
            content_length = Some(v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')));
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Fast::Other;
        } else if name.eq_ignore_ascii_case(b"connection") {
            let v = trim_ascii(h.value);
            if v.eq_ignore_ascii_case(b"close") {
                close = true;
            } else if !v.eq_ignore_ascii_case(b"keep-alive") {
                return Fast::Other;
            }
        }
    }
    let content_length = match (code, content_length) {
        (204, None) => 0,
        (204, Some(_)) | (_, None) => return Fast::Other,
        (_, Some(n)) if n >= drain_limit => return Fast::Other,
        (_, Some(n)) => n,
    };
    Fast::Clean { head_len, status, content_length, close }
}

fn trim_ascii(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &v[start..end]
}


static AUTHORIZATION_NAME: ureq::http::HeaderName = ureq::http::header::AUTHORIZATION;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_user_information() {
        assert_eq!(scrub("via http://u:p@proxy:3128 failed"), "via http://***@proxy:3128 failed");
        assert_eq!(scrub("plain text"), "plain text");
    }

    #[test]
    fn io_kinds() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_io(&refused).0, ErrorKind::Connect);
        assert!(classify_io(&refused).2);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_io(&reset).0, ErrorKind::Io);
        assert!(!classify_io(&reset).2);
        let dns = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(classify_io(&dns).0, ErrorKind::Connect);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let (k, m, again) = classify_io(&tls);
        assert_eq!(k, ErrorKind::Tls);
        assert!(m.contains("unknown issuer"));
        assert!(!again);
    }
}
