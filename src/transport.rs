//! The ureq agent of a client, and what its failures mean.

use std::io;

use ureq::config::Config;
use ureq::tls::TlsConfig;
use ureq::{Agent, Proxy, Timeout};

use crate::error::{Error, ErrorKind};
use crate::request::USER_AGENT_VALUE;
use crate::retry::human;
use crate::settings::{ProxySetting, Settings};

/// The agent for a client: statuses are answers, no redirects, the client's timeouts,
/// TLS through rustls with verified certificates, a pool sized for many threads.
pub fn agent(settings: &Settings, pool_per_host: usize) -> Result<Agent, Error> {
    let connect = match (settings.connect_timeout, settings.total_timeout) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, _) => c,
    };
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
        .timeout_global(settings.total_timeout)
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
            (ErrorKind::Timeout, what, false)
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
