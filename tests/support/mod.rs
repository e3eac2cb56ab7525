//! Helpers shared by the reliability and security tests: a settings builder, a log
//! capture, process memory, ports that refuse or never accept, a test certificate
//! authority with a small rustls server, and a tinyproxy started on demand.
//!
//! Everything listens on 127.0.0.1 only.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use superoffice::log::{Level, Logger};
use superoffice::settings::Auth;
use superoffice::{Client, Error, ErrorKind, PasswordEmail, Sent, Settings, SettingsBuilder};

/// The stub's valid ticket.
pub const TICKET: &str = "7T:dGVzdA==";

/// The secrets the redaction tests configure and then look for in every message, log
/// line and result.
pub mod secrets {
    pub const USER: &str = "leaky-user-name";
    pub const PASSWORD: &str = "Pa55w0rd-leak-check";
    pub const APP_TOKEN: &str = "app-token-leak-check";
    pub const XSRF: &str = "xsrf-leak-check";
    pub const PROXY_PASSWORD: &str = "proxy-pw-leak-check";
}

/// A unique tenant prefix for this process, e.g. `/fm-1234-7-refused`.
pub fn unique(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("/{}-{}-{}", name, std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A fresh folder under the system's temporary one, unique to this process and call
/// (the test removes it when done).
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("so-{}{}", name, unique("")));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A settings builder for `base` with the stub's ticket, no proxy (tests never depend
/// on the caller's environment) and the given timeouts.
pub fn builder(base: &str, connect_ms: u32, total_ms: u32) -> SettingsBuilder {
    let mut b = Settings::builder(base).expect("base URL");
    b.ticket(TICKET).unwrap().proxy(Some("")).unwrap().timeouts_ms(connect_ms, total_ms);
    b
}

/// The settings of [`builder`].
pub fn settings(base: &str, connect_ms: u32, total_ms: u32) -> Settings {
    builder(base, connect_ms, total_ms).build()
}

/// A [`builder`] with `auth`, an app token, an XSRF token and a log capture: every
/// secret a redaction test looks for.
pub fn with_tokens(base: &str, timeouts_ms: (u32, u32), auth: Auth, app_token: &str, xsrf: &str) -> (SettingsBuilder, Arc<Lines>) {
    let mut s = builder(base, timeouts_ms.0, timeouts_ms.1);
    let lines = Arc::new(Lines::default());
    s.auth(auth).app_token(Some(app_token)).unwrap().xsrf_token(Some(xsrf)).unwrap().logger(Some(lines.clone()));
    (s, lines)
}

/// Asserts that `text` holds none of `secrets`.
pub fn assert_hidden(text: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(!text.contains(s), "{what} shows the secret {s:?}: {text}");
    }
}

/// The base64 of `user:password`, as `Authorization: Basic` sends it.
pub fn basic_b64(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// One send of a fixed e-mail.
pub fn send(client: &Client) -> Result<Sent, Error> {
    client.send_cc_password_email(&PasswordEmail {
        person_id: 670,
        from: Some("from@example.com"),
        to: Some("to@example.com"),
        subject: Some("Your password"),
    })
}

/// One send, and how long it took.
pub fn timed_send(client: &Client) -> (Result<Sent, Error>, Duration) {
    let t = Instant::now();
    let r = send(client);
    (r, t.elapsed())
}

/// The error of a send that must fail, with a readable panic otherwise.
pub fn expect_err(r: Result<Sent, Error>, what: &str) -> Error {
    match r {
        Ok(sent) => panic!("{what}: expected a failure, got {sent:?}"),
        Err(e) => e,
    }
}

/// Asserts the kind, HTTP status and message pieces of an error.
pub fn assert_error(e: &Error, kind: ErrorKind, status: u16, pieces: &[&str], what: &str) {
    assert_eq!(e.kind, kind, "{what}: kind; message: {}", e.message);
    assert_eq!(e.http_status, status, "{what}: HTTP status; message: {}", e.message);
    for p in pieces {
        assert!(e.message.contains(p), "{what}: message lacks {p:?}: {}", e.message);
    }
    assert!(e.message.len() <= 4095, "{what}: message longer than 4 KiB");
}

/// Captures log lines.
#[derive(Default)]
pub struct Lines(pub Mutex<Vec<(Level, String)>>);

impl Logger for Lines {
    fn log(&self, level: Level, message: &str) {
        self.0.lock().unwrap().push((level, message.to_string()));
    }
}

impl Lines {
    pub fn all(&self) -> Vec<(Level, String)> {
        self.0.lock().unwrap().clone()
    }

    /// The waits announced by "retrying in N ms" / "retrying in N.N s" lines.
    pub fn retry_waits(&self) -> Vec<Duration> {
        self.all()
            .iter()
            .filter_map(|(_, l)| l.split("retrying in ").nth(1).map(str::to_string))
            .map(|w| {
                if let Some(ms) = w.strip_suffix(" ms") {
                    Duration::from_millis(ms.parse().unwrap())
                } else {
                    Duration::from_secs_f64(w.strip_suffix(" s").unwrap().parse().unwrap())
                }
            })
            .collect()
    }
}

/// Resident set size of this process in bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

/// A port of 127.0.0.1 where nothing listens (it was bound and released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A listening socket that never accepts, with its accept queue filled, so that a new
/// connection attempt is never completed: the loopback way to meet a connect timeout.
/// (A non-routable address such as 10.255.255.1 must not be used here: this machine
/// may only send traffic to loopback.)
pub struct FullBacklog {
    pub addr: SocketAddr,
    _listener: std::os::fd::OwnedFd,
    _fillers: Vec<TcpStream>,
}

impl FullBacklog {
    /// `None` when this kernel completes connections even with a full queue.
    pub fn start() -> Option<FullBacklog> {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket calls on a descriptor this function owns.
        let (fd, addr) = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let mut a: libc::sockaddr_in = std::mem::zeroed();
            a.sin_family = libc::AF_INET as libc::sa_family_t;
            a.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            assert_eq!(libc::bind(fd, &a as *const _ as *const libc::sockaddr, len), 0);
            assert_eq!(libc::listen(fd, 0), 0);
            let mut got: libc::sockaddr_in = std::mem::zeroed();
            let mut glen = len;
            libc::getsockname(fd, &mut got as *mut _ as *mut libc::sockaddr, &mut glen);
            let port = u16::from_be(got.sin_port);
            (std::os::fd::OwnedFd::from_raw_fd(fd), SocketAddr::from(([127, 0, 0, 1], port)))
        };
        let mut fillers = Vec::new();
        for _ in 0..16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(s) => fillers.push(s),
                Err(_) => {
                    return Some(FullBacklog { addr, _listener: fd, _fillers: fillers });
                }
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------
// TLS: a test certificate authority and a small rustls server
// ---------------------------------------------------------------------------------------

pub mod tls {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    /// A certificate authority made at test time.
    pub struct TestCa {
        issuer: CertifiedIssuer<'static, KeyPair>,
    }

    /// A server certificate and its key.
    pub struct Leaf {
        pub chain: Vec<CertificateDer<'static>>,
        pub key_der: Vec<u8>,
    }

    impl Leaf {
        pub fn key(&self) -> PrivateKeyDer<'static> {
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
        }
    }

    impl TestCa {
        pub fn new(name: &str) -> TestCa {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.distinguished_name.push(DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages =
                vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
            let key = KeyPair::generate().unwrap();
            TestCa { issuer: CertifiedIssuer::self_signed(params, key).unwrap() }
        }

        pub fn pem(&self) -> String {
            self.issuer.pem()
        }

        /// Writes the CA certificate as a PEM file and returns its path.
        pub fn write_pem(&self, dir: &Path) -> PathBuf {
            let path = dir.join("ca.pem");
            std::fs::write(&path, self.pem()).unwrap();
            path
        }

        /// The CA certificate's PEM file in a fresh temporary folder: (folder, file).
        pub fn pem_in_temp_dir(&self, name: &str) -> (PathBuf, PathBuf) {
            let dir = super::temp_dir(name);
            let file = self.write_pem(&dir);
            (dir, file)
        }

        /// A server certificate for `names` (IP addresses or DNS names), valid between
        /// the two years (inclusive-exclusive, 1 January).
        pub fn leaf(&self, names: &[&str], from_year: i32, to_year: i32) -> Leaf {
            let mut params =
                CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
            params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
            params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
            let key = KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            Leaf { chain: vec![cert.der().clone()], key_der: key.serialize_der() }
        }
    }

    /// A TLS server on 127.0.0.1 that answers every request `204 No Content` and counts
    /// the requests it received (only requests that got through the handshake).
    pub struct TlsServer {
        pub addr: SocketAddr,
        requests: Arc<AtomicUsize>,
        handshake_errors: Arc<Mutex<Vec<String>>>,
        stop: Arc<AtomicBool>,
        accept: Option<JoinHandle<()>>,
    }

    impl TlsServer {
        pub fn start(leaf: &Leaf) -> TlsServer {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(leaf.chain.clone(), leaf.key())
                .unwrap();
            let config = Arc::new(config);
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let requests = Arc::new(AtomicUsize::new(0));
            let handshake_errors = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let (r, h, st) = (requests.clone(), handshake_errors.clone(), stop.clone());
            let accept = thread::spawn(move || {
                for conn in listener.incoming() {
                    if st.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = conn else { continue };
                    let (config, r, h) = (config.clone(), r.clone(), h.clone());
                    thread::spawn(move || serve(config, tcp, r, h));
                }
            });
            TlsServer { addr, requests, handshake_errors, stop, accept: Some(accept) }
        }

        pub fn url(&self) -> String {
            format!("https://127.0.0.1:{}", self.addr.port())
        }

        pub fn port(&self) -> u16 {
            self.addr.port()
        }

        pub fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }

        pub fn handshake_errors(&self) -> Vec<String> {
            self.handshake_errors.lock().unwrap().clone()
        }
    }

    impl Drop for TlsServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr);
            if let Some(h) = self.accept.take() {
                let _ = h.join();
            }
        }
    }

    fn serve(
        config: Arc<rustls::ServerConfig>,
        tcp: TcpStream,
        requests: Arc<AtomicUsize>,
        errors: Arc<Mutex<Vec<String>>>,
    ) {
        tcp.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            // One request: head, then Content-Length bytes of body.
            let (head_len, body_len) = loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let cl = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (end + 4, cl);
                }
                match tls.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) => {
                        if !tls.conn.is_handshaking() || buf.is_empty() {
                            errors.lock().unwrap().push(e.to_string());
                        }
                        return;
                    }
                }
            };
            while buf.len() < head_len + body_len {
                match tls.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            buf.drain(..head_len + body_len);
            requests.fetch_add(1, Ordering::SeqCst);
            if tls.write_all(b"HTTP/1.1 204 No Content\r\nContent-Type: application/json; charset=utf-8\r\n\r\n").is_err() {
                return;
            }
            let _ = tls.flush();
        }
    }
}

// ---------------------------------------------------------------------------------------
// tinyproxy
// ---------------------------------------------------------------------------------------

/// Makes sure Debian's tinyproxy is installed (installing it with apt-get when missing,
/// as root); the path of the binary.
pub fn tinyproxy_binary() -> PathBuf {
    let found = |p: &str| Path::new(p).exists().then(|| PathBuf::from(p));
    if let Some(p) = found("/usr/bin/tinyproxy").or_else(|| found("/usr/sbin/tinyproxy")) {
        return p;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ensure-tinyproxy.sh");
    let status = Command::new("bash").arg(script).status().expect("run tests/ensure-tinyproxy.sh");
    assert!(status.success(), "tinyproxy is not installed and could not be installed");
    found("/usr/bin/tinyproxy").or_else(|| found("/usr/sbin/tinyproxy")).expect("tinyproxy after install")
}

/// A tinyproxy in the foreground on a free port of 127.0.0.1, stopped on drop.
pub struct Tinyproxy {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Tinyproxy {
    /// `auth`: `BasicAuth user password`; `connect_ports`: the ports CONNECT may reach.
    pub fn start(auth: Option<(&str, &str)>, connect_ports: &[u16]) -> Tinyproxy {
        let bin = tinyproxy_binary();
        let dir = std::env::temp_dir().join(format!("so-tinyproxy-{}-{}", std::process::id(), closed_port()));
        std::fs::create_dir_all(&dir).unwrap();
        for _attempt in 0..5 {
            let port = closed_port();
            let mut conf = format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 64\n\
                 LogLevel Info\nLogFile \"{}\"\n",
                dir.join("tinyproxy.log").display()
            );
            for p in connect_ports {
                conf.push_str(&format!("ConnectPort {p}\n"));
            }
            if let Some((u, p)) = auth {
                conf.push_str(&format!("BasicAuth {u} {p}\n"));
            }
            let conf_path = dir.join("tinyproxy.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let mut child = Command::new(&bin)
                .arg("-d")
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start tinyproxy");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Tinyproxy { child, port, dir };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken meanwhile: try another
                }
                thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("tinyproxy did not start; see {}", dir.display());
    }

    /// `http://127.0.0.1:PORT`, with `user:password@` when given.
    pub fn url(&self, creds: Option<(&str, &str)>) -> String {
        match creds {
            Some((u, p)) => format!("http://{u}:{p}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// tinyproxy's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads an HTTP/1.1 answer head from a raw stream (for checks that bypass the library).
pub fn raw_status(stream: &mut TcpStream) -> Option<u16> {
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}
