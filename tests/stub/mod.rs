//! SuperOffice-shaped HTTP/1.1 stub server, as specified in `docs/stub-protocol.md`.
//!
//! Used in-process by Rust integration tests (`mod stub;` then `stub::Stub::start()`) and
//! as a standalone process by `examples/stub_server.rs` (C, Python, C#, demo, load tests).
//!
//! Self-contained: std, `httparse` (dev-dependency) and `serde_json` only.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

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
// Connection handling
// ---------------------------------------------------------------------------------------

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Reads more bytes into `buf`; returns how many (0 = peer closed).
    fn fill(&mut self) -> io::Result<usize> {
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        loop {
            match self.stream.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data)
    }
}

/// What to do with the connection after a request.
enum Flow {
    KeepAlive,
    /// Graceful close: FIN, then drain what the client still sends (bounded).
    Close,
    /// Just drop the socket.
    Abort,
}

fn serve_connection(sh: &Shared, stream: TcpStream) {
    let mut c = Conn { stream, buf: Vec::with_capacity(16 * 1024) };
    loop {
        if sh.stopping.load(Ordering::Relaxed) {
            return;
        }
        match handle_request(sh, &mut c) {
            Ok(Flow::KeepAlive) => continue,
            Ok(Flow::Close) => {
                lingering_close(&c.stream);
                return;
            }
            Ok(Flow::Abort) | Err(_) => return,
        }
    }
}

fn lingering_close(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut tmp = [0u8; 8192];
    let mut total = 0usize;
    let mut r: &TcpStream = s;
    loop {
        match r.read(&mut tmp) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                if total > (4 << 20) || Instant::now() > deadline {
                    break;
                }
            }
        }
    }
}

/// Blocks until the client closes the connection (or it fails).
fn hang_until_closed(c: &mut Conn) {
    let mut tmp = [0u8; 8192];
    loop {
        match c.stream.read(&mut tmp) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

struct Head {
    method: String,
    target: String,
    minor: u8,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

enum HeadResult {
    Req(Head),
    Eof,
    TooLarge,
    Bad(String),
}

fn read_head(c: &mut Conn) -> io::Result<HeadResult> {
    loop {
        if !c.buf.is_empty() {
            let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut hdrs);
            match req.parse(&c.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let head = Head {
                        method: req.method.unwrap_or("").to_string(),
                        target: req.path.unwrap_or("").to_string(),
                        minor: req.version.unwrap_or(1),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                    };
                    c.buf.drain(..n);
                    return Ok(HeadResult::Req(head));
                }
                Ok(httparse::Status::Partial) => {
                    if c.buf.len() > MAX_HEAD_BYTES {
                        return Ok(HeadResult::TooLarge);
                    }
                }
                Err(httparse::Error::TooManyHeaders) => return Ok(HeadResult::TooLarge),
                Err(e) => return Ok(HeadResult::Bad(e.to_string())),
            }
        }
        if c.fill()? == 0 {
            return Ok(HeadResult::Eof);
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Framing {
    Length(usize),
    Chunked,
}

fn framing(head: &Head) -> Result<Framing, String> {
    let te: Vec<&str> = head.headers_named("transfer-encoding").collect();
    if !te.is_empty() {
        let last = te
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|t| !t.is_empty())
            .unwrap_or("");
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(format!("stub: unsupported Transfer-Encoding: {}", te.join(", ")))
        };
    }
    let mut len: Option<usize> = None;
    for v in head.headers_named("content-length").flat_map(|v| v.split(',')) {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("stub: invalid Content-Length: {v:?}"));
        }
        let n: usize = v.parse().map_err(|_| format!("stub: invalid Content-Length: {v:?}"))?;
        if matches!(len, Some(prev) if prev != n) {
            return Err("stub: conflicting Content-Length headers".to_string());
        }
        len = Some(n);
    }
    Ok(Framing::Length(len.unwrap_or(0)))
}

enum BodyError {
    Io(io::Error),
    Eof,
    TooLarge,
    Bad(String),
}

impl From<io::Error> for BodyError {
    fn from(e: io::Error) -> Self {
        BodyError::Io(e)
    }
}

fn read_body(c: &mut Conn, f: Framing) -> Result<Vec<u8>, BodyError> {
    match f {
        Framing::Length(n) => {
            if n > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            while c.buf.len() < n {
                if c.fill()? == 0 {
                    return Err(BodyError::Eof);
                }
            }
            Ok(c.buf.drain(..n).collect())
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            loop {
                let line = read_line(c)?;
                let size_txt = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_txt, 16)
                    .map_err(|_| BodyError::Bad(format!("stub: bad chunk size {size_txt:?}")))?;
                if size == 0 {
                    // Trailer section, up to the empty line.
                    loop {
                        if read_line(c)?.is_empty() {
                            return Ok(body);
                        }
                    }
                }
                if body.len().saturating_add(size) > MAX_BODY_BYTES {
                    return Err(BodyError::TooLarge);
                }
                while c.buf.len() < size + 2 {
                    if c.fill()? == 0 {
                        return Err(BodyError::Eof);
                    }
                }
                if &c.buf[size..size + 2] != b"\r\n" {
                    return Err(BodyError::Bad("stub: chunk not followed by CRLF".into()));
                }
                body.extend_from_slice(&c.buf[..size]);
                c.buf.drain(..size + 2);
            }
        }
    }
}

/// One line (without CRLF / LF) from the buffer.
fn read_line(c: &mut Conn) -> Result<String, BodyError> {
    loop {
        if let Some(pos) = c.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = c.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
        if c.buf.len() > 8192 {
            return Err(BodyError::Bad("stub: chunk line too long".into()));
        }
        if c.fill()? == 0 {
            return Err(BodyError::Eof);
        }
    }
}

/// Per-request answer context.
struct Ctx {
    minor: u8,
    keep_alive: bool,
}

impl Ctx {
    fn connection_header(&self) -> &'static str {
        if !self.keep_alive {
            "Connection: close\r\n"
        } else if self.minor == 0 {
            "Connection: keep-alive\r\n"
        } else {
            ""
        }
    }

    fn flow(&self) -> Flow {
        if self.keep_alive {
            Flow::KeepAlive
        } else {
            Flow::Close
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Stub Status",
    }
}

fn status_has_body(code: u16) -> bool {
    !(code == 204 || code == 304 || (100..200).contains(&code))
}

/// Writes a complete answer in one write.
fn respond(
    c: &mut Conn,
    ctx: &Ctx,
    status: u16,
    content_type: Option<&str>,
    extra: &[(String, String)],
    body: &[u8],
) -> io::Result<Flow> {
    let mut out = Vec::with_capacity(256 + body.len());
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", status, reason(status));
    if let Some(ct) = content_type {
        let _ = write!(out, "Content-Type: {ct}\r\n");
    }
    let with_body = status_has_body(status);
    if with_body {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    for (n, v) in extra {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    out.extend_from_slice(ctx.connection_header().as_bytes());
    out.extend_from_slice(b"\r\n");
    if with_body {
        out.extend_from_slice(body);
    }
    c.write_all(&out)?;
    Ok(ctx.flow())
}

// ---------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum BodyStyle {
    #[default]
    Json,
    Message,
    None,
    Html,
    Big,
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// (content type, body) of an error answer in the given style.
fn error_payload(
    style: BodyStyle,
    status: u16,
    etype: &str,
    msg: &str,
    message_key: bool,
) -> (Option<&'static str>, Vec<u8>) {
    let key = if message_key || style == BodyStyle::Message { "Message" } else { "ErrorMessage" };
    let base = format!(
        "{{\"Error\":true,\"ErrorType\":{},\"{}\":{},\"ErrorSource\":\"Stub\"",
        js(etype),
        key,
        js(msg)
    );
    match style {
        BodyStyle::Json | BodyStyle::Message => (Some(JSON_CT), format!("{base}}}").into_bytes()),
        BodyStyle::None => (None, Vec::new()),
        BodyStyle::Html => {
            let page = format!(
                "<!DOCTYPE html>\n<html><head><title>{status} {r}</title></head>\
                 <body><h1>{status} {r}</h1><p>The stub was told to answer with an HTML page.</p></body></html>\n",
                r = reason(status)
            );
            (Some("text/html; charset=utf-8"), page.into_bytes())
        }
        BodyStyle::Big => {
            let open = ",\"Padding\":\"";
            let close = "\"}";
            let mut out = Vec::with_capacity(BIG_BODY_BYTES);
            out.extend_from_slice(base.as_bytes());
            out.extend_from_slice(open.as_bytes());
            let pad = BIG_BODY_BYTES.saturating_sub(base.len() + open.len() + close.len());
            out.resize(out.len() + pad, b'x');
            out.extend_from_slice(close.as_bytes());
            (Some(JSON_CT), out)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn respond_error(
    c: &mut Conn,
    ctx: &Ctx,
    style: BodyStyle,
    status: u16,
    etype: &str,
    msg: &str,
    message_key: bool,
    extra: &[(String, String)],
) -> io::Result<Flow> {
    let (ct, body) = error_payload(style, status, etype, msg, message_key);
    respond(c, ctx, status, ct, extra, &body)
}

// ---------------------------------------------------------------------------------------
// Directives
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthKind {
    Basic,
    Ticket,
    Bearer,
    Xsrf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Hang,
    DropBefore,
    DropAfter,
    DropDuring,
    Garbage,
    Truncate,
}

/// Directives that are gated by `fail_first`.
#[derive(Clone, Debug, Default)]
struct Behaviour {
    status: Option<u16>,
    location: Option<String>,
    retry_after: Option<String>,
    delay_ms: Option<u64>,
    fault: Option<Fault>,
    ok_body: Option<u64>,
    header_flood: Option<usize>,
}

#[derive(Clone, Debug, Default)]
struct Directives {
    // Always in force.
    body_style: BodyStyle,
    auth: Option<AuthKind>,
    null_body: bool,
    /// `echo_credentials`: error messages quote the credentials received.
    echo_credentials: bool,
    fail_first: Option<u64>,
    // In force for the first `fail_first` requests (always when there is no fail_first).
    act: Behaviour,
}

fn header_safe(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn parse_directives(tenant: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    for seg in tenant.split('/') {
        if seg.is_empty() {
            continue;
        }
        // A segment without `=` is a directive only when it is one of the bare ones;
        // anything else (`auth`, `Cust12345`, `status`) is just a name.
        let (key, raw) = match seg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None if matches!(seg, "hang" | "garbage" | "truncate" | "null_body" | "echo_credentials") => (seg, None),
            None => continue,
        };
        let bad = |why: &str| format!("stub: bad directive {seg:?}: {why}");
        let value = raw.map(percent_decode);
        let need = || value.clone().ok_or_else(|| bad("needs a value"));
        let num = |what: &str| -> Result<u64, String> {
            need()?.trim().parse::<u64>().map_err(|_| bad(&format!("{what} must be a non-negative integer")))
        };
        match key {
            "hang" | "garbage" | "truncate" | "null_body" | "echo_credentials" if raw.is_none() => match key {
                "echo_credentials" => d.echo_credentials = true,
                "hang" => d.act.fault = Some(Fault::Hang),
                "garbage" => d.act.fault = Some(Fault::Garbage),
                "truncate" => d.act.fault = Some(Fault::Truncate),
                _ => d.null_body = true,
            },
            "status" => {
                let n = num("status")?;
                if !(200..=599).contains(&n) {
                    return Err(bad("status must be 200..=599"));
                }
                d.act.status = Some(n as u16);
            }
            "body" => {
                d.body_style = match need()?.as_str() {
                    "message" => BodyStyle::Message,
                    "none" => BodyStyle::None,
                    "html" => BodyStyle::Html,
                    "big" => BodyStyle::Big,
                    "json" => BodyStyle::Json,
                    _ => return Err(bad("body must be message, none, html, big or json")),
                }
            }
            "location" => {
                let v = need()?;
                if !header_safe(&v) {
                    return Err(bad("control characters are not allowed"));
                }
                d.act.location = Some(v);
            }
            "retry_after" => {
                let v = need()?.replace('_', " ");
                if !header_safe(&v) {
                    return Err(bad("control characters are not allowed"));
                }
                d.act.retry_after = Some(v);
            }
            "fail_first" => d.fail_first = Some(num("fail_first")?),
            "delay_ms" => {
                let n = num("delay_ms")?;
                if n > 3_600_000 {
                    return Err(bad("delay_ms is at most 3600000"));
                }
                d.act.delay_ms = Some(n);
            }
            "drop" => {
                d.act.fault = Some(match need()?.as_str() {
                    "before" => Fault::DropBefore,
                    "after" => Fault::DropAfter,
                    "during" => Fault::DropDuring,
                    _ => return Err(bad("drop must be before, after or during")),
                })
            }
            "ok_body" => d.act.ok_body = Some(num("ok_body")?),
            "header_flood" => {
                let n = num("header_flood")?;
                if n > 1_000_000 {
                    return Err(bad("header_flood is at most 1000000"));
                }
                d.act.header_flood = Some(n as usize);
            }
            "auth" => {
                d.auth = Some(match need()?.to_ascii_lowercase().as_str() {
                    "basic" => AuthKind::Basic,
                    "ticket" | "soticket" => AuthKind::Ticket,
                    "bearer" => AuthKind::Bearer,
                    "xsrf" => AuthKind::Xsrf,
                    _ => return Err(bad("auth must be basic, ticket, bearer or xsrf")),
                })
            }
            // Anything else is just a name.
            _ => {}
        }
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

struct Rejection {
    status: u16,
    etype: &'static str,
    msg: String,
    message_key: bool,
    extra: Vec<(String, String)>,
}

fn reject(status: u16, etype: &'static str, msg: impl Into<String>) -> Rejection {
    Rejection { status, etype, msg: msg.into(), message_key: false, extra: Vec::new() }
}

fn credentials(head: &Head) -> Option<AuthKind> {
    let auths: Vec<&str> = head.headers_named("authorization").collect();
    match auths.len() {
        0 => {
            let xsrf: Vec<&str> = head.headers_named("x-xsrf-token").collect();
            (xsrf.len() == 1 && xsrf[0].trim() == "xsrf-123").then_some(AuthKind::Xsrf)
        }
        1 => {
            let v = auths[0].trim();
            let (scheme, cred) = match v.find([' ', '\t']) {
                Some(i) => (&v[..i], v[i..].trim()),
                None => (v, ""),
            };
            let fresh = cred.starts_with("fresh-");
            match scheme.to_ascii_lowercase().as_str() {
                "basic" if cred == "dGplMDpUamUw" => Some(AuthKind::Basic),
                "soticket" if cred == "7T:dGVzdA==" || fresh => Some(AuthKind::Ticket),
                "bearer" if cred == "8A:Cust12345.token" || fresh => Some(AuthKind::Bearer),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Validates an endpoint request; on success returns the body's PersonId.
fn validate(head: &Head, body: &[u8], required: Option<AuthKind>) -> Result<Value, Rejection> {
    if head.method != "POST" {
        let mut r = reject(
            405,
            "MethodNotAllowed",
            format!("stub: method {} is not allowed here, use POST", head.method),
        );
        r.extra.push(("Allow".into(), "POST".into()));
        return Err(r);
    }
    let ct = head.header("content-type").unwrap_or("").trim();
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(reject(
            415,
            "UnsupportedMediaType",
            format!("stub: Content-Type must be application/json, got {ct:?}"),
        ));
    }
    let person_id = check_body(body).map_err(|msg| Rejection {
        status: 400,
        etype: "ArgumentException",
        msg,
        message_key: true,
        extra: Vec::new(),
    })?;
    match credentials(head) {
        Some(kind) if required.is_none() || required == Some(kind) => {}
        _ => return Err(reject(401, "UnauthorizedAccessException", "Invalid credentials")),
    }
    if person_id.as_i64() == Some(99999) {
        return Err(reject(404, "SoNotFoundException", "Person id 99999 not found"));
    }
    Ok(person_id)
}

/// `echo_credentials`: what a careless server says back, every credential it received
/// (and the request's `Subject`, for secrets no header carries to this server).
fn echoed_credentials(head: &Head, body: &[u8]) -> String {
    let mut out = String::from(": received");
    for name in ["authorization", "so-apptoken", "x-xsrf-token", "proxy-authorization"] {
        if let Some(v) = head.header(name) {
            out.push_str(&format!(" {name}={v}"));
            if let Some(b64) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")) {
                if let Some(pair) = base64_decode(b64.trim()) {
                    out.push_str(&format!(" (that is {pair})"));
                }
            }
        }
    }
    let subject = serde_json::from_slice::<Value>(body).ok().and_then(|v| v["Subject"].as_str().map(String::from));
    if let Some(subject) = subject {
        out.push_str(&format!(" subject={subject}"));
    }
    out
}

fn base64_decode(text: &str) -> Option<String> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for b in text.bytes().filter(|b| *b != b'=') {
        bits = (bits << 6) | ABC.iter().position(|c| *c == b)? as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

fn check_body(body: &[u8]) -> Result<Value, String> {
    const KEYS: [&str; 4] = ["PersonId", "From", "To", "Subject"];
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("stub: the body is not valid JSON: {e}"))?;
    let obj = v.as_object().ok_or("stub: the body must be a JSON object")?;
    for k in obj.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(format!("stub: unexpected key {k:?} (expected PersonId, From, To, Subject)"));
        }
    }
    for k in KEYS {
        if !obj.contains_key(k) {
            return Err(format!("stub: missing key {k:?}"));
        }
    }
    let pid = &obj["PersonId"];
    if !(pid.is_i64() || pid.is_u64()) {
        return Err(format!("stub: PersonId must be an integer, got {pid}"));
    }
    for k in ["From", "To", "Subject"] {
        if !(obj[k].is_string() || obj[k].is_null()) {
            return Err(format!("stub: {k} must be a string or null, got {}", obj[k]));
        }
    }
    Ok(pid.clone())
}

// ---------------------------------------------------------------------------------------
// Request dispatch
// ---------------------------------------------------------------------------------------

fn split_target(target: &str) -> (String, String) {
    // Absolute form (http://host/path) is reduced to its path.
    let mut t = target;
    for scheme in ["http://", "https://"] {
        if t.get(..scheme.len()).is_some_and(|p| p.eq_ignore_ascii_case(scheme)) {
            let rest = &t[scheme.len()..];
            t = match rest.find(['/', '?']) {
                Some(i) => &rest[i..],
                None => "/",
            };
            break;
        }
    }
    match t.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (t.to_string(), String::new()),
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn cut_body(mut body: Vec<u8>) -> Vec<u8> {
    body.truncate(RECORDED_BODY_CAP);
    body
}

fn handle_request(sh: &Shared, c: &mut Conn) -> io::Result<Flow> {
    let closing = Ctx { minor: 1, keep_alive: false };
    let head = match read_head(c)? {
        HeadResult::Req(h) => h,
        HeadResult::Eof => return Ok(Flow::Abort),
        HeadResult::TooLarge => {
            return respond_error(
                c,
                &closing,
                BodyStyle::Json,
                431,
                "BadRequest",
                "stub: request head too large",
                false,
                &[],
            )
        }
        HeadResult::Bad(e) => {
            return respond_error(
                c,
                &closing,
                BodyStyle::Json,
                400,
                "BadRequest",
                &format!("stub: malformed request: {e}"),
                false,
                &[],
            )
        }
    };
    let keep_alive = if head.minor == 0 {
        head.has_token("connection", "keep-alive")
    } else {
        !head.has_token("connection", "close")
    };
    let (path, query) = split_target(&head.target);
    let record = |body: Vec<u8>| RecordedRequest {
        method: head.method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: head.headers.clone(),
        body: cut_body(body),
    };

    if !path.starts_with('/') {
        sh.record(record(Vec::new()));
        return respond_error(
            c,
            &closing,
            BodyStyle::Json,
            400,
            "BadRequest",
            &format!("stub: bad request target {:?}", head.target),
            false,
            &[],
        );
    }

    let framing = match framing(&head) {
        Ok(f) => f,
        Err(msg) => {
            if !path.starts_with("/_stub/") {
                sh.record(record(Vec::new()));
            }
            return respond_error(c, &closing, BodyStyle::Json, 400, "BadRequest", &msg, false, &[]);
        }
    };
    // A request with both Transfer-Encoding and Content-Length must not be reused.
    let keep_alive = keep_alive
        && !(matches!(framing, Framing::Chunked) && head.header("content-length").is_some());
    let ctx = Ctx { minor: head.minor, keep_alive };

    if path.starts_with("/_stub/") {
        let _ = match read_request_body(c, &head, framing) {
            Ok(b) => b,
            Err(e) => return body_error(c, e),
        };
        return control(sh, c, &ctx, &head.method, &path, &query);
    }

    if let Some(tenant) = path.strip_suffix(ENDPOINT) {
        return endpoint(sh, c, &ctx, &head, framing, tenant, &record);
    }

    // Not the endpoint: read the body, record, answer.
    let body = match read_request_body(c, &head, framing) {
        Ok(b) => b,
        Err(e) => {
            sh.record(record(Vec::new()));
            return body_error(c, e);
        }
    };
    sh.record(record(body));
    if let Some(cust) = path.strip_prefix("/api/state/") {
        if head.method != "GET" {
            return respond_error(
                c,
                &ctx,
                BodyStyle::Json,
                405,
                "MethodNotAllowed",
                "stub: use GET",
                false,
                &[("Allow".into(), "GET".into())],
            );
        }
        return tenant_state(sh, c, &ctx, cust);
    }
    respond_error(
        c,
        &ctx,
        BodyStyle::Json,
        404,
        "NotFound",
        &format!("stub: no such endpoint: {path}"),
        false,
        &[],
    )
}

fn expects_continue(head: &Head, f: Framing) -> bool {
    head.minor >= 1
        && head.header("expect").is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
        && !matches!(f, Framing::Length(0))
}

fn read_request_body(c: &mut Conn, head: &Head, f: Framing) -> Result<Vec<u8>, BodyError> {
    if expects_continue(head, f) {
        if let Framing::Length(n) = f {
            if n > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
        }
        c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    read_body(c, f)
}

fn body_error(c: &mut Conn, e: BodyError) -> io::Result<Flow> {
    let closing = Ctx { minor: 1, keep_alive: false };
    match e {
        BodyError::Io(e) => Err(e),
        BodyError::Eof => Ok(Flow::Abort),
        BodyError::TooLarge => respond_error(
            c,
            &closing,
            BodyStyle::Json,
            413,
            "BadRequest",
            "stub: request body too large",
            false,
            &[],
        ),
        BodyError::Bad(msg) => {
            respond_error(c, &closing, BodyStyle::Json, 400, "BadRequest", &msg, false, &[])
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn endpoint(
    sh: &Shared,
    c: &mut Conn,
    ctx: &Ctx,
    head: &Head,
    framing: Framing,
    tenant: &str,
    record: &dyn Fn(Vec<u8>) -> RecordedRequest,
) -> io::Result<Flow> {
    let d = match parse_directives(tenant) {
        Ok(d) => d,
        Err(msg) => {
            let body = match read_request_body(c, head, framing) {
                Ok(b) => b,
                Err(e) => {
                    sh.record(record(Vec::new()));
                    return body_error(c, e);
                }
            };
            sh.record(record(body));
            return respond_error(c, ctx, BodyStyle::Json, 400, "ArgumentException", &msg, true, &[]);
        }
    };
    let active = match d.fail_first {
        Some(k) => sh.fail_first_active(tenant, k),
        None => true,
    };
    let act = if active { d.act.clone() } else { Behaviour::default() };

    if act.fault == Some(Fault::DropBefore) {
        sh.record(record(Vec::new()));
        return Ok(Flow::Abort);
    }

    let body = match read_request_body(c, head, framing) {
        Ok(b) => b,
        Err(e) => {
            sh.record(record(Vec::new()));
            return body_error(c, e);
        }
    };
    let validation = validate(head, &body, d.auth);
    let echo = if d.echo_credentials { echoed_credentials(head, &body) } else { String::new() };
    sh.record(record(body));

    if let Some(ms) = act.delay_ms {
        thread::sleep(Duration::from_millis(ms));
    }

    match act.fault {
        Some(Fault::Hang) => {
            hang_until_closed(c);
            return Ok(Flow::Abort);
        }
        Some(Fault::DropAfter) => return Ok(Flow::Close),
        Some(Fault::DropDuring) => {
            let full = format!(
                "HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n\r\n"
            );
            let half = &full.as_bytes()[..full.len() / 2];
            let _ = c.write_all(half);
            return Ok(Flow::Close);
        }
        Some(Fault::Garbage) => {
            let _ = c.write_all(b"this is not HTTP\r\n\r\n");
            return Ok(Flow::Close);
        }
        Some(Fault::Truncate) => {
            let msg = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {JSON_CT}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789"
            );
            let _ = c.write_all(msg.as_bytes());
            return Ok(Flow::Close);
        }
        Some(Fault::DropBefore) | None => {}
    }

    let person_id = match validation {
        Ok(p) => p,
        Err(r) => {
            let msg = format!("{}{echo}", r.msg);
            return respond_error(c, ctx, d.body_style, r.status, r.etype, &msg, r.message_key, &r.extra)
        }
    };

    let mut extra: Vec<(String, String)> = Vec::new();
    if let Some(l) = &act.location {
        extra.push(("Location".into(), l.clone()));
    }
    if let Some(r) = &act.retry_after {
        extra.push(("Retry-After".into(), r.clone()));
    }

    if let Some(status) = act.status {
        let (etype, msg) = if status == 404 {
            ("SoNotFoundException", format!("Person id {person_id} not found"))
        } else {
            ("SoStubException", format!("stub status {status}"))
        };
        let msg = format!("{msg}{echo}");
        return respond_error(c, ctx, d.body_style, status, etype, &msg, false, &extra);
    }

    if let Some(n) = act.ok_body {
        return stream_ok_body(c, ctx, n, &extra);
    }

    if let Some(n) = act.header_flood {
        let mut w = BufWriter::with_capacity(64 << 10, &c.stream);
        write!(w, "HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n")?;
        for (k, v) in &extra {
            write!(w, "{k}: {v}\r\n")?;
        }
        for i in 0..n {
            write!(w, "X-Flood-{i}: flood-value-{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")?;
        }
        w.write_all(ctx.connection_header().as_bytes())?;
        w.write_all(b"\r\n")?;
        w.flush()?;
        return Ok(ctx.flow());
    }

    if d.null_body {
        // The reference page's literal sample: a 204 carrying `null`. Bytes after a 204
        // head are not part of any message, so the connection is closed after them.
        let mut out = format!("HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n");
        for (k, v) in &extra {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\nnull");
        c.write_all(out.as_bytes())?;
        return Ok(Flow::Close);
    }

    respond(c, ctx, 204, Some(JSON_CT), &extra, b"")
}

fn stream_ok_body(c: &mut Conn, ctx: &Ctx, n: u64, extra: &[(String, String)]) -> io::Result<Flow> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n"
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(ctx.connection_header());
    head.push_str("\r\n");
    if c.write_all(head.as_bytes()).is_err() {
        return Ok(Flow::Abort);
    }
    let mut left = n;
    while left > 0 {
        let k = left.min(STREAM_CHUNK as u64) as usize;
        if c.write_all(&FILL[..k]).is_err() {
            // The client hung up: stop quietly.
            return Ok(Flow::Abort);
        }
        left -= k as u64;
    }
    Ok(ctx.flow())
}

fn control(
    sh: &Shared,
    c: &mut Conn,
    ctx: &Ctx,
    method: &str,
    path: &str,
    query: &str,
) -> io::Result<Flow> {
    let want = |m: &str| method == m;
    let wrong_method = |c: &mut Conn, allow: &str| {
        respond_error(
            c,
            ctx,
            BodyStyle::Json,
            405,
            "MethodNotAllowed",
            &format!("stub: use {allow}"),
            false,
            &[("Allow".into(), allow.into())],
        )
    };
    let prefix = query_param(query, "prefix").unwrap_or_default();
    match path {
        "/_stub/requests" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let list: Vec<Value> = lock(&sh.log)
                .iter()
                .filter(|r| r.path.starts_with(&prefix))
                .map(RecordedRequest::to_json)
                .collect();
            let body = serde_json::to_vec(&Value::Array(list)).unwrap_or_else(|_| b"[]".to_vec());
            respond(c, ctx, 200, Some(JSON_CT), &[], &body)
        }
        "/_stub/count" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let body = json!({ "count": sh.count(&prefix) }).to_string();
            respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
        }
        "/_stub/reset" => {
            if !want("POST") {
                return wrong_method(c, "POST");
            }
            sh.reset();
            respond(c, ctx, 200, Some(JSON_CT), &[], br#"{"reset":true}"#)
        }
        "/_stub/connections" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let body = json!({
                "open": lock(&sh.conns).len(),
                "accepted": sh.next_conn.load(Ordering::SeqCst),
            })
            .to_string();
            respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
        }
        _ => respond_error(
            c,
            ctx,
            BodyStyle::Json,
            404,
            "NotFound",
            &format!("stub: no such control endpoint: {path}"),
            false,
            &[],
        ),
    }
}

fn tenant_state(sh: &Shared, c: &mut Conn, ctx: &Ctx, cust: &str) -> io::Result<Flow> {
    let (state, running) = match cust {
        "Cust12345" => ("Running", true),
        "CustMaint" => ("InMaintenance", false),
        "CustSusp" => ("Suspended", false),
        "CustOM" => ("OnlineMaintenance", true),
        _ => {
            return respond_error(
                c,
                ctx,
                BodyStyle::Json,
                404,
                "NotFound",
                &format!("stub: unknown tenant {cust:?}"),
                false,
                &[],
            )
        }
    };
    let root = format!("http://127.0.0.1:{}/{}", sh.port, cust);
    let body = json!({
        "ContextIdentifier": cust,
        "Endpoint": root,
        "State": state,
        "IsRunning": running,
        "ValidUntil": rfc3339_utc(SystemTime::now() + Duration::from_secs(3600)),
        "Api": format!("{root}/api"),
    })
    .to_string();
    respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
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
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let mut y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    if month <= 2 {
        y += 1;
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        y,
        month,
        day,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_nanos() / 100
    )
}
