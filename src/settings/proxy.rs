//! How to reach the server: the proxy choice, its URL checked, and its password kept
//! among a client's [`Secrets`].

use zeroize::Zeroizing;

use super::auth::Secret;
use crate::error::Error;
use crate::redact::Secrets;

/// How to reach the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, when set.
    #[default]
    FromEnvironment,
    /// Never a proxy.
    Direct,
    /// This proxy (may carry credentials).
    Url(Secret),
}

impl ProxySetting {
    /// The choice a caller's text means: `None` for the environment's, `""` for none,
    /// else a proxy URL (checked; messages never echo it).
    pub fn parse(url: Option<&str>) -> Result<ProxySetting, Error> {
        Ok(match url {
            None => ProxySetting::FromEnvironment,
            Some("") => ProxySetting::Direct,
            Some(u) => {
                check_proxy_url(u)?;
                ureq::Proxy::new(u).map_err(|_| {
                    Error::invalid("the proxy URL is not valid (expected http://[user:password@]host:port)")
                })?;
                ProxySetting::Url(Secret::new(u))
            }
        })
    }

    /// Adds the proxy's password (of an explicit proxy URL, or of the proxy environment
    /// variables the client reads).
    pub fn add_secrets(&self, s: &mut Secrets) {
        match self {
            ProxySetting::Url(url) => s.add_proxy_password(url.expose()),
            ProxySetting::FromEnvironment => {
                for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
                    if let Ok(url) = std::env::var(var) {
                        s.add_proxy_password(&Zeroizing::new(url));
                    }
                }
            }
            ProxySetting::Direct => {}
        }
    }
}

/// Checks a proxy URL, `[scheme://][user[:password]@]host[:port][/]`, more strictly than
/// ureq does (it takes an empty host or a port out of range as port 80). Messages never
/// echo the URL: it may hold a password.
fn check_proxy_url(url: &str) -> Result<(), Error> {
    let bad = || Error::invalid("the proxy URL is not valid (expected http://[user:password@]host:port)");
    if url.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::invalid("the proxy URL must not contain spaces or control characters"));
    }
    let rest = match url.find("://") {
        Some(i) => {
            const SCHEMES: [&str; 6] = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"];
            if !SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(&url[..i])) {
                return Err(Error::invalid(
                    "the proxy URL must start with http://, https://, socks4://, socks4a://, socks5:// or socks5h://",
                ));
            }
            &url[i + 3..]
        }
        None => url,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if !matches!(&rest[end..], "" | "/") {
        return Err(Error::invalid("the proxy URL must not have a path, query or fragment"));
    }
    let authority = &rest[..end];
    let host_port = authority.rfind('@').map_or(authority, |at| &authority[at + 1..]);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let close = v6.find(']').ok_or_else(bad)?;
            let after = &v6[close + 1..];
            if v6[..close].parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad());
            }
            (&v6[..close], if after.is_empty() { None } else { Some(after.strip_prefix(':').ok_or_else(bad)?) })
        }
        None => match host_port.rfind(':') {
            Some(i) => (&host_port[..i], Some(&host_port[i + 1..])),
            None => (host_port, None),
        },
    };
    if host.is_empty() || (!host_port.starts_with('[') && host.contains(['[', ']', ':'])) {
        return Err(bad());
    }
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || !matches!(p.parse::<u16>(), Ok(1..)) {
            return Err(Error::invalid("the proxy URL's port must be a number from 1 to 65535"));
        }
    }
    Ok(())
}
