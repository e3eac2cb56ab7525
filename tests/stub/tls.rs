//! The untrusted TLS listener (feature `tls`): a TLS server on 127.0.0.1 whose certificate
//! is signed by a certificate authority made at start (rcgen), which no client trusts
//! unless given its PEM. It answers every request it decrypts `204 No Content` and counts
//! them: a client that refuses the certificate must leave the count unchanged.

use super::*;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A running listener; it stops with its stub.
pub(super) struct TlsListener {
    stop: Arc<AtomicBool>,
    pub(super) port: u16,
    pub(super) ca_pem: String,
    pub(super) decrypted: Arc<AtomicUsize>,
    pub(super) handshakes_failed: Arc<AtomicUsize>,
}

impl TlsListener {
    pub(super) fn start() -> io::Result<TlsListener> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let other = |e: String| io::Error::other(e);
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| other(e.to_string()))?;
        ca.distinguished_name.push(DnType::CommonName, "superoffice-stub untrusted CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_key = KeyPair::generate().map_err(|e| other(e.to_string()))?;
        let issuer = CertifiedIssuer::self_signed(ca, ca_key).map_err(|e| other(e.to_string()))?;
        let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(|e| other(e.to_string()))?;
        leaf.distinguished_name.push(DnType::CommonName, "127.0.0.1");
        let leaf_key = KeyPair::generate().map_err(|e| other(e.to_string()))?;
        let cert = leaf.signed_by(&leaf_key, &issuer).map_err(|e| other(e.to_string()))?;
        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| other(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| other(e.to_string()))?;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let decrypted = Arc::new(AtomicUsize::new(0));
        let handshakes_failed = Arc::new(AtomicUsize::new(0));
        let (d, h) = (Arc::clone(&decrypted), Arc::clone(&handshakes_failed));
        thread::Builder::new().name("stub-tls-accept".into()).spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let (config, d, h) = (Arc::clone(&config), Arc::clone(&d), Arc::clone(&h));
                let _ = thread::Builder::new().name("stub-tls-conn".into()).spawn(move || serve(config, tcp, &d, &h));
            }
        })?;
        Ok(TlsListener { stop, port, ca_pem: issuer.pem(), decrypted, handshakes_failed })
    }

    /// Stops accepting (connections open end with their clients).
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(2));
    }

    pub(super) fn to_json(&self) -> Value {
        json!({
            "url": format!("https://127.0.0.1:{}", self.port),
            "port": self.port,
            "decrypted": self.decrypted.load(Ordering::SeqCst),
            "handshakes_failed": self.handshakes_failed.load(Ordering::SeqCst),
            "ca_pem": self.ca_pem,
        })
    }
}

/// One connection: the handshake, then requests (a head and `Content-Length` bytes of
/// body), each counted once decrypted whole and answered 204.
fn serve(config: Arc<rustls::ServerConfig>, tcp: TcpStream, decrypted: &AtomicUsize, failed: &AtomicUsize) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let (head_len, body_len) = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let body = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, body);
            }
            let handshaking = tls.conn.is_handshaking();
            match tls.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => {
                    if handshaking {
                        failed.fetch_add(1, Ordering::SeqCst);
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
        decrypted.fetch_add(1, Ordering::SeqCst);
        if tls.write_all(b"HTTP/1.1 204 No Content\r\nContent-Type: application/json; charset=utf-8\r\n\r\n").is_err() {
            return;
        }
        let _ = tls.flush();
    }
}
