//! What a ureq failure means for the caller, and whether the server may have the
//! request: the one place that decides the [`Delivery`] of a transport failure.
//!
//! What ureq 3.5 and rustls 0.23 guarantee (read in their sources):
//! - ureq's `run` resolves, connects and, for https, wraps the TCP stream in TLS through
//!   `RustlsConnector::connect`, which calls rustls' `ClientConnection::complete_io` until
//!   the handshake is complete (certificate verification included) before returning the
//!   connection; only then does `send_request` write the request. ureq never enables
//!   rustls' early data (0-RTT), so no byte of the request leaves before the handshake.
//! - ureq names the phase of its own timeouts (`Timeout::Resolve`, `Timeout::Connect`, the
//!   latter covering TCP and the TLS handshake), but reports `Timeout::Global` (or
//!   `PerCall`) when that deadline is the nearer one, in whatever phase: such a timeout is
//!   `Unknown`, though it may have hit while connecting.
//! - Other failures carry no phase: an I/O error or a rustls error may come from the
//!   handshake or from reading the answer. Only those that cannot happen once connected
//!   are `NotSent`: a refused connection, a failed name lookup, an unreachable network,
//!   a refused certificate (rustls checks certificates during the handshake only).

use std::io;

use ureq::Timeout;

use crate::error::{Delivery, Error, ErrorKind};
use crate::redact::hide_userinfo;
use crate::retry::human;
use crate::settings::Settings;

/// Maps a ureq failure to an error of the contract, with its delivery (the sender adds
/// it in words with [`Error::with_delivery_words`]).
pub fn classify(err: &ureq::Error, shown_url: &str, settings: &Settings) -> Error {
    use Delivery::{NotSent, Unknown};
    let at = |what: String| format!("POST {shown_url}: {what}");
    let (kind, what, delivery) = match err {
        ureq::Error::Timeout(which) => {
            // The connect phase (resolving, TCP, TLS) ends before the request is written,
            // so a timeout there proves the server never saw it.
            match which {
                Timeout::Resolve | Timeout::Connect => (
                    ErrorKind::Timeout,
                    format!(
                        "could not connect within the connect timeout of {}",
                        settings.connect_timeout.map(human).unwrap_or_else(|| "no".into())
                    ),
                    NotSent,
                ),
                _ => (
                    ErrorKind::Timeout,
                    format!(
                        "no complete answer within the total timeout of {}",
                        settings.total_timeout.map(human).unwrap_or_else(|| "no".into())
                    ),
                    Unknown,
                ),
            }
        }
        ureq::Error::HostNotFound => (ErrorKind::Connect, "could not resolve the host name".into(), NotSent),
        ureq::Error::ConnectionFailed => (ErrorKind::Connect, "could not connect".into(), NotSent),
        ureq::Error::Io(e) => classify_io(e),
        // ureq writes the request head through its output buffer; a header longer than the
        // buffer stops it before the buffer is written, so the server never had a byte of it.
        ureq::Error::Protocol(p) if p.to_string().contains("output too small") => (
            ErrorKind::InvalidArgument,
            format!(
                "the request head is larger than {} KiB, the most the library sends (a token, ticket or \
                 header value is too long); it was not sent whole, so the server did not process it",
                super::agent::MAX_REQUEST_HEAD / 1024
            ),
            NotSent,
        ),
        ureq::Error::Protocol(p) => (ErrorKind::Io, format!("the answer is not valid HTTP ({p})"), Unknown),
        ureq::Error::Rustls(e) => describe_tls(e),
        // ureq's own TLS messages: a host name TLS cannot carry, a PEM without a
        // certificate; both before any connection.
        ureq::Error::Tls(m) => (ErrorKind::Tls, format!("TLS failed: {m}"), NotSent),
        ureq::Error::Pem(_) => (ErrorKind::Tls, "a certificate could not be read".into(), NotSent),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            (ErrorKind::InvalidArgument, "the request could not be built".into(), NotSent)
        }
        ureq::Error::InvalidProxyUrl => (ErrorKind::InvalidArgument, "the proxy URL is not valid".into(), NotSent),
        ureq::Error::ConnectProxyFailed(m) => (
            ErrorKind::Connect,
            format!("the proxy refused the tunnel: {}", m.chars().take(200).collect::<String>()),
            NotSent,
        ),
        other => (ErrorKind::Io, format!("the request failed: {}", hide_userinfo(&other.to_string())), Unknown),
    };
    Error { delivery, ..Error::new(kind, at(what)) }
}

/// What a connection closed under a request means, in words a user can act on. The
/// usual cause is a reused keep-alive connection the server closed (its idle timeout)
/// just as the request went out; ureq cannot prove the request was not read, so the
/// library never sends it again by itself.
const CLOSED_ADVICE: &str = "if the connection was a reused keep-alive connection, the server most likely \
closed it as the request went out and did not process the request; it was not sent again, because the \
server may have received it: it is safe to send again if a duplicate e-mail is acceptable";

/// Transport I/O failures. Only failures to connect prove the request was not sent.
fn classify_io(e: &io::Error) -> (ErrorKind, String, Delivery) {
    use Delivery::{NotSent, Unknown};
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return describe_tls(tls);
    }
    use io::ErrorKind as K;
    match e.kind() {
        // Only a connect gets these (an established connection is reset, not refused; an
        // unreachable network is reported on an established one only after TCP gives up
        // retransmitting, some 15 minutes, past any total timeout).
        K::ConnectionRefused => (ErrorKind::Connect, "connection refused".into(), NotSent),
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable | K::NetworkDown => {
            (ErrorKind::Connect, format!("host unreachable ({e})"), NotSent)
        }
        K::TimedOut => (ErrorKind::Timeout, "the connection timed out".into(), Unknown),
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            (ErrorKind::Io, format!("the connection was reset before an answer arrived; {CLOSED_ADVICE}"), Unknown)
        }
        K::UnexpectedEof => (
            ErrorKind::Io,
            format!("the server closed the connection before an answer arrived; {CLOSED_ADVICE}"),
            Unknown,
        ),
        K::InvalidData => (ErrorKind::Io, format!("the answer is not valid ({e})"), Unknown),
        _ => {
            let text = e.to_string();
            if text.contains("lookup address")
                || text.contains("resolve")
                || text.contains("Name or service")
                || windows_lookup_failed(e)
            {
                (ErrorKind::Connect, format!("could not resolve the host name ({text})"), NotSent)
            } else {
                (ErrorKind::Io, format!("I/O error: {}", hide_userinfo(&text)), Unknown)
            }
        }
    }
}

/// Windows reports a failed name lookup as WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY
/// or WSANO_DATA (11001 to 11004), in words that name no lookup ("No such host is known.").
fn windows_lookup_failed(e: &io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(11001..=11004))
}

/// Says which TLS check failed, and its delivery: a refused certificate can only come
/// from the handshake (rustls verifies the server's certificate there and nowhere else),
/// so nothing was sent; any other TLS failure may come after it.
fn describe_tls(e: &rustls::Error) -> (ErrorKind, String, Delivery) {
    let delivery = match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => Delivery::NotSent,
        _ => Delivery::Unknown,
    };
    (ErrorKind::Tls, describe_tls_text(e), delivery)
}

fn describe_tls_text(e: &rustls::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_io(&refused).0, ErrorKind::Connect);
        assert_eq!(classify_io(&refused).2, Delivery::NotSent);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_io(&reset).0, ErrorKind::Io);
        assert_eq!(classify_io(&reset).2, Delivery::Unknown);
        let (kind, text, delivery) = classify_io(&io::Error::from(io::ErrorKind::UnexpectedEof));
        assert_eq!(kind, ErrorKind::Io);
        assert_eq!(delivery, Delivery::Unknown);
        assert!(text.contains("safe to send again if a duplicate e-mail is acceptable"), "{text}");
        let dns = io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(classify_io(&dns).0, ErrorKind::Connect);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let (k, m, delivery) = classify_io(&tls);
        assert_eq!(k, ErrorKind::Tls);
        assert!(m.contains("unknown issuer"));
        assert_eq!(delivery, Delivery::NotSent, "a refused certificate ends the handshake");
        let alert = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(classify_io(&alert).2, Delivery::Unknown, "may come after the handshake");
    }

    #[test]
    fn timeouts_by_phase_and_words() {
        let s = Settings::new("http://127.0.0.1:1/Cust1").unwrap();
        for (which, delivery) in [
            (Timeout::Resolve, Delivery::NotSent),
            (Timeout::Connect, Delivery::NotSent),
            (Timeout::SendRequest, Delivery::Unknown),
            (Timeout::RecvResponse, Delivery::Unknown),
            (Timeout::Global, Delivery::Unknown),
            (Timeout::PerCall, Delivery::Unknown),
        ] {
            let e = classify(&ureq::Error::Timeout(which), "u", &s).with_delivery_words();
            assert_eq!((e.kind, e.delivery), (ErrorKind::Timeout, delivery), "{which:?}");
            let words = if delivery == Delivery::NotSent { "; it was not sent" } else { "; it may have been processed" };
            assert!(e.message.ends_with(words), "{}", e.message);
        }
        let e = classify(&ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset)), "u", &s).with_delivery_words();
        assert_eq!(e.delivery, Delivery::Unknown);
        assert!(e.message.ends_with("it may have been processed"), "{}", e.message);
    }
}
