//! What a ureq failure means for the caller, and whether the request provably never
//! left (only then may it be sent again).

use std::io;

use ureq::Timeout;

use crate::error::{Error, ErrorKind};
use crate::redact::hide_userinfo;
use crate::retry::human;
use crate::settings::Settings;

/// Maps a ureq failure to an error of the contract, and says whether the request
/// provably never reached the server (a connection that could not be made). `request` is
/// the request's method and URL as messages show them (`GET https://...`).
pub fn classify(err: &ureq::Error, request: &str, settings: &Settings) -> (Error, bool) {
    let at = |what: String| format!("{request}: {what}");
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
        // ureq writes the request head through its output buffer; a header longer than the
        // buffer stops it mid-head, so the server never had a whole request.
        ureq::Error::Protocol(p) if p.to_string().contains("output too small") => (
            ErrorKind::InvalidArgument,
            format!(
                "the request head is larger than {} KiB, the most the library sends (a token, ticket or \
                 header value is too long); it was not sent whole, so the server did not process it",
                super::agent::MAX_REQUEST_HEAD / 1024
            ),
            false,
        ),
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
        other => (ErrorKind::Io, format!("the request failed: {}", hide_userinfo(&other.to_string())), false),
    };
    (Error::new(kind, at(what)), not_sent)
}

/// What a connection closed under a request means, in words a user can act on. The
/// usual cause is a reused keep-alive connection the server closed (its idle timeout)
/// just as the request went out; ureq cannot prove the request was not read, so the
/// library never sends it again by itself.
const CLOSED_ADVICE: &str = "if the connection was a reused keep-alive connection, the server most likely \
closed it as the request went out and did not process the request; it was not sent again, because the \
server may have received it: it is safe to send again if a duplicate e-mail is acceptable";

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
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            (ErrorKind::Io, format!("the connection was reset before an answer arrived; {CLOSED_ADVICE}"), false)
        }
        K::UnexpectedEof => (
            ErrorKind::Io,
            format!("the server closed the connection before an answer arrived; {CLOSED_ADVICE}"),
            false,
        ),
        K::InvalidData => (ErrorKind::Io, format!("the answer is not valid ({e})"), false),
        _ => {
            let text = e.to_string();
            if text.contains("lookup address")
                || text.contains("resolve")
                || text.contains("Name or service")
                || windows_lookup_failed(e)
            {
                (ErrorKind::Connect, format!("could not resolve the host name ({text})"), true)
            } else {
                (ErrorKind::Io, format!("I/O error: {}", hide_userinfo(&text)), false)
            }
        }
    }
}

/// Windows reports a failed name lookup as WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY
/// or WSANO_DATA (11001 to 11004), in words that name no lookup ("No such host is known.").
fn windows_lookup_failed(e: &io::Error) -> bool {
    cfg!(windows) && matches!(e.raw_os_error(), Some(11001..=11004))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_kinds() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(classify_io(&refused).0, ErrorKind::Connect);
        assert!(classify_io(&refused).2);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(classify_io(&reset).0, ErrorKind::Io);
        assert!(!classify_io(&reset).2);
        let (kind, text, not_sent) = classify_io(&io::Error::from(io::ErrorKind::UnexpectedEof));
        assert_eq!(kind, ErrorKind::Io);
        assert!(!not_sent);
        assert!(text.contains("safe to send again if a duplicate e-mail is acceptable"), "{text}");
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
