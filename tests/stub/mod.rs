//! SuperOffice-shaped HTTP/1.1 stub server, as specified in `docs/stub-protocol.md`.
//!
//! Used in-process by Rust integration tests (`use superoffice_stub as stub;` then
//! `stub::Stub::start()`) and
//! as a standalone process by `examples/stub_server.rs` (C, Python, C#, demo, load tests).
//!
//! A crate of its own (`tests/stub/Cargo.toml`): std, `httparse` and `serde_json` only.
//! Files by concern: `connection.rs` (reading requests), `directives.rs` (faults chosen
//! by the tenant path), `validation.rs` (what the service refuses), `answers.rs` (status
//! lines and error bodies), `dispatch.rs` (the endpoints).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The parser the stub reads requests with, for tests that read answers byte by byte.
pub use httparse;

mod answers;
mod connection;
mod directives;
mod dispatch;
pub mod login;
#[cfg(feature = "tls")]
mod tls;
mod validation;

use answers::*;
use connection::*;
use directives::*;
use dispatch::*;
use validation::*;

/// The endpoint suffix; everything before it in the path is the tenant path.
pub const ENDPOINT: &str = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";
/// Default maximum number of recorded requests kept (the oldest are dropped).
pub const DEFAULT_LOG_CAP: usize = 200_000;
/// Recorded bodies are cut to this many bytes.
pub const RECORDED_BODY_CAP: usize = 1 << 20;
/// Largest request head (request line + headers) accepted; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 1 << 20;
/// Most request headers accepted; more gets 431.
pub const MAX_HEADERS: usize = 256;
/// Largest request body accepted; larger gets 413.
pub const MAX_BODY_BYTES: usize = 64 << 20;
/// Size of a `body=big` error body.
pub const BIG_BODY_BYTES: usize = 2 << 20;

const STREAM_CHUNK: usize = 64 << 10;
static FILL: [u8; STREAM_CHUNK] = [b'x'; STREAM_CHUNK];
const JSON_CT: &str = "application/json; charset=utf-8";

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/// One request as the stub received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path as received (still percent-encoded), without the query.
    pub path: String,
    /// Query string as received, without the `?` ("" when there is none).
    pub query: String,
    /// Headers in order, names as received.
    pub headers: Vec<(String, String)>,
    /// Body (chunked bodies decoded), cut to `RECORDED_BODY_CAP` bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header with this name (case-insensitive), in order.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Body as text (lossy UTF-8).
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `/_stub/requests` representation.
    pub fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "body": self.body_str(),
        })
    }
}

/// The login service's issued credentials, for tests: how many were issued.
impl Stub {
    pub fn issued_credentials(&self) -> usize {
        lock(&self.shared.issued).len()
    }
}

/// A running stub server. Stops (and closes every open connection) on drop.
pub struct Stub {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl Stub {
    /// Starts on an ephemeral port of 127.0.0.1. Panics if it cannot bind.
    pub fn start() -> Stub {
        Stub::start_on(0).expect("stub: cannot bind 127.0.0.1")
    }

    /// Starts on 127.0.0.1:`port` (0 = ephemeral).
    pub fn start_on(port: u16) -> io::Result<Stub> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            port: addr.port(),
            stopping: AtomicBool::new(false),
            log: Mutex::new(VecDeque::new()),
            log_cap: AtomicUsize::new(DEFAULT_LOG_CAP),
            fail_counts: Mutex::new(HashMap::new()),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            next_ticket: AtomicU64::new(0),
            issued: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashSet::new()),
            #[cfg(feature = "tls")]
            tls: std::sync::OnceLock::new(),
            unaccepting: std::sync::OnceLock::new(),
        });
        let sh = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("stub-accept".into())
            .spawn(move || accept_loop(listener, sh))?;
        Ok(Stub { shared, addr, accept: Some(accept) })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Full endpoint URL for a tenant path: `url() + tenant + ENDPOINT`
    /// (`tenant` is "" or starts with `/`).
    pub fn endpoint(&self, tenant: &str) -> String {
        format!("{}{}{}", self.url(), tenant, ENDPOINT)
    }

    /// Recorded requests whose path starts with `prefix`, oldest first.
    pub fn requests(&self, prefix: &str) -> Vec<RecordedRequest> {
        self.shared.requests(prefix)
    }

    /// Number of recorded requests whose path starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.shared.count(prefix)
    }

    /// Forgets every recorded request and every `fail_first` counter.
    pub fn reset(&self) {
        self.shared.reset()
    }

    /// Changes how many recorded requests are kept (default `DEFAULT_LOG_CAP`).
    pub fn set_log_cap(&self, cap: usize) {
        self.shared.log_cap.store(cap, Ordering::SeqCst);
        self.shared.trim_log();
    }

    /// Connections currently open (accepted and not yet finished).
    pub fn open_connections(&self) -> usize {
        lock(&self.shared.conns).len()
    }

    /// Connections accepted since start.
    pub fn accepted_connections(&self) -> u64 {
        self.shared.next_conn.load(Ordering::SeqCst)
    }

    /// The untrusted TLS listener (started on first use): `{"url","port","decrypted",
    /// "handshakes_failed","ca_pem"}`, as `GET /_stub/tls` gives it.
    pub fn tls(&self) -> Result<Value, String> {
        self.shared.tls_state()
    }

    /// A port of 127.0.0.1 whose accept queue is full (a connect there times out); `None`
    /// where this machine completes such connections anyway.
    pub fn unaccepting_port(&self) -> Option<u16> {
        Some(self.shared.unaccepting_port()).filter(|p| *p != 0)
    }

    /// Serves until the process is killed.
    pub fn serve_forever(mut self) -> ! {
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        loop {
            thread::park();
        }
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        let conns: Vec<TcpStream> = lock(&self.shared.conns).drain().map(|(_, s)| s).collect();
        for s in conns {
            let _ = s.shutdown(Shutdown::Both);
        }
        #[cfg(feature = "tls")]
        if let Some(Ok(t)) = self.shared.tls.get() {
            t.stop();
        }
    }
}

/// A listening socket of 127.0.0.1 that never accepts, its accept queue filled, so that
/// a new connection attempt never completes: the loopback way to meet a connect timeout.
pub(crate) struct Unaccepting {
    pub(crate) port: u16,
    _listener: TcpListener,
    _fillers: Vec<TcpStream>,
}

impl Unaccepting {
    /// `None` where the kernel completes connections even with a full queue (or the
    /// backlog cannot be set).
    fn start() -> Option<Unaccepting> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let listener = TcpListener::bind("127.0.0.1:0").ok()?;
            // SAFETY: listen() again on a socket this function owns: a backlog of 0.
            if unsafe { libc::listen(listener.as_raw_fd(), 0) } != 0 {
                return None;
            }
            let addr = listener.local_addr().ok()?;
            let mut fillers = Vec::new();
            for _ in 0..16 {
                match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                    Ok(s) => fillers.push(s),
                    Err(_) => return Some(Unaccepting { port: addr.port(), _listener: listener, _fillers: fillers }),
                }
            }
            None
        }
        #[cfg(not(unix))]
        None
    }
}

impl Shared {
    /// The port of [`Unaccepting`], 0 when this machine cannot make one.
    fn unaccepting_port(&self) -> u16 {
        self.unaccepting.get_or_init(Unaccepting::start).as_ref().map_or(0, |u| u.port)
    }

    /// The untrusted TLS listener's state, started on first use.
    fn tls_state(&self) -> Result<Value, String> {
        #[cfg(feature = "tls")]
        {
            match self.tls.get_or_init(tls::TlsListener::start) {
                Ok(t) => Ok(t.to_json()),
                Err(e) => Err(format!("stub: the TLS listener could not start: {e}")),
            }
        }
        #[cfg(not(feature = "tls"))]
        Err("stub: built without the tls feature".to_string())
    }
}

/// Percent-decodes `%XX` sequences (invalid ones are kept as they are); lossy UTF-8.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Shared state
// ---------------------------------------------------------------------------------------

struct Shared {
    port: u16,
    stopping: AtomicBool,
    log: Mutex<VecDeque<RecordedRequest>>,
    log_cap: AtomicUsize,
    fail_counts: Mutex<HashMap<String, u64>>,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    /// Tickets and access tokens the login service issued (login.rs).
    next_ticket: AtomicU64,
    issued: Mutex<HashMap<String, login::IssuedCredential>>,
    /// Refresh tokens the OAuth endpoint handed out (`oauth_rotate`).
    refresh_tokens: Mutex<HashSet<String>>,
    /// The untrusted TLS listener (`GET /_stub/tls`), started on first use.
    #[cfg(feature = "tls")]
    tls: std::sync::OnceLock<io::Result<tls::TlsListener>>,
    /// A port whose accept queue is full (`GET /_stub/unaccepting`), made on first use.
    unaccepting: std::sync::OnceLock<Option<Unaccepting>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn record(&self, r: RecordedRequest) {
        let cap = self.log_cap.load(Ordering::Relaxed);
        let mut log = lock(&self.log);
        log.push_back(r);
        while log.len() > cap {
            log.pop_front();
        }
    }

    fn trim_log(&self) {
        let cap = self.log_cap.load(Ordering::Relaxed);
        let mut log = lock(&self.log);
        while log.len() > cap {
            log.pop_front();
        }
    }

    fn requests(&self, prefix: &str) -> Vec<RecordedRequest> {
        lock(&self.log).iter().filter(|r| r.path.starts_with(prefix)).cloned().collect()
    }

    fn count(&self, prefix: &str) -> usize {
        lock(&self.log).iter().filter(|r| r.path.starts_with(prefix)).count()
    }

    fn reset(&self) {
        lock(&self.log).clear();
        lock(&self.fail_counts).clear();
    }

    /// Whether `credential` is a ticket or access token the login service issued, not
    /// revoked, sent with the app token it was issued for.
    fn issued_valid(&self, credential: &str, app_token: Option<&str>) -> bool {
        lock(&self.issued)
            .get(credential)
            .is_some_and(|i| !i.revoked && app_token.map(str::trim) == Some(i.app_token.as_str()))
    }

    /// Counts one request to `tenant`; true while it is among the first `k`.
    fn fail_first_active(&self, tenant: &str, k: u64) -> bool {
        let mut m = lock(&self.fail_counts);
        let n = m.entry(tenant.to_string()).or_insert(0);
        *n += 1;
        *n <= k
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for incoming in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(s) => s,
            Err(_) => {
                // EMFILE and friends: back off a little instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let sh = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("stub-conn".into())
            .stack_size(512 << 10)
            .spawn(move || {
                serve_connection(&sh, stream);
                lock(&sh.conns).remove(&id);
            });
        if spawned.is_err() {
            // The stream went down with the closure; forget the clone too.
            lock(&shared.conns).remove(&id);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `2020-10-05T09:52:01.9342965Z` (7 fractional digits, like the real service).
fn rfc3339_utc(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}
