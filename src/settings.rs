//! A client's settings, validated as they are set.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::log::Logger;

/// Default connect timeout (the .NET client's).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout (the .NET client's request timeout).
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of retries of requests the server provably did not process.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Most retries a caller may ask for.
pub const MAX_RETRIES_LIMIT: u32 = 10;
/// Default number of asynchronous sends of one client on the network at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Most asynchronous sends of one client on the network at once (and its worker threads).
pub const MAX_IN_FLIGHT_LIMIT: usize = 1024;

/// A secret string: wiped from memory when dropped, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself, for building the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The base URL of an installation or tenant, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and optional port, the host lower-cased and in its ASCII form (an
    /// international name converted by IDNA, `xn--...`): what goes on the wire.
    pub authority: String,
    /// Host and optional port as the user wrote them (ASCII lower-cased): what
    /// messages show.
    pub shown_authority: String,
    /// The tenant path without a trailing `/` or `/api`, e.g. `/Cust12345` or ``.
    pub path: String,
}

impl BaseUrl {
    /// Parses and normalises a base URL such as `https://sod.superoffice.com/Cust12345/api/`.
    pub fn parse(input: &str) -> Result<BaseUrl, Error> {
        let bad = |why: &str| Error::invalid(format!("base URL '{}' {why}", shown_url(input)));
        if input.is_empty() {
            return Err(bad("is empty"));
        }
        if input.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("contains a space or control character"));
        }
        let (ascii_input, shown_authority) = match idna_host(input) {
            Ok(Some((converted, shown))) => (converted, Some(shown)),
            Ok(None) => (input.to_string(), None),
            Err(why) => return Err(bad(&why)),
        };
        let uri: ureq::http::Uri = ascii_input
            .parse()
            .map_err(|_| bad("is not a valid URL"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => "http",
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            Some(_) => return Err(bad("must start with http:// or https://")),
            None => return Err(bad("must be absolute (http:// or https://)")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "must not contain credentials; use so_options_set_basic_auth",
            ));
        }
        if authority.host().is_empty() {
            return Err(bad("has no host"));
        }
        // The URI parser takes any text after the host's ':' as a port.
        let port = authority.as_str()[authority.as_str().rfind(']').unwrap_or(0)..]
            .rsplit_once(':')
            .map(|(_, p)| p);
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            if !p.bytes().all(|b| b.is_ascii_digit()) || !matches!(p.parse::<u16>(), Ok(1..)) {
                return Err(bad("has an invalid port (expected a number from 1 to 65535)"));
            }
        }
        if uri.query().is_some() || input.contains('#') {
            return Err(bad("must not have a query or fragment"));
        }
        let mut path = uri.path().trim_end_matches('/').to_string();
        // Compared as bytes: the path may end in a multi-byte character (found by
        // fuzz/fuzz_targets/base_url.rs: slicing the string there panicked).
        if path.len() >= 4 && path.as_bytes()[path.len() - 4..].eq_ignore_ascii_case(b"/api") {
            path.truncate(path.len() - 4);
        }
        let path = path.trim_end_matches('/').to_string();
        let authority = authority.as_str().to_ascii_lowercase();
        Ok(BaseUrl {
            scheme: scheme.to_string(),
            shown_authority: shown_authority.unwrap_or_else(|| authority.clone()),
            authority,
            path,
        })
    }

    /// `scheme://authority/path` of this base, without `/api`: the URL requests go to.
    pub fn root(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }

    /// [`root`](Self::root) with the host as the user wrote it: the URL messages show.
    pub fn shown_root(&self) -> String {
        format!("{}://{}{}", self.scheme, self.shown_authority, self.path)
    }
}

/// An international host name (one with non-ASCII characters, or an `xn--` label) in
/// its ASCII form, as browsers, curl and .NET's `Uri` send it (IDNA, UTS 46 with the
/// URL standard's rules). `Ok(None)` when the host needs no conversion; otherwise the
/// input with its host converted, and the authority as written (lower-cased where
/// ASCII). `Err` names what IDNA refuses.
fn idna_host(input: &str) -> Result<Option<(String, String)>, String> {
    let Some(start) = input.find("://").map(|i| i + 3) else { return Ok(None) };
    let end = input[start..].find(['/', '?', '#']).map_or(input.len(), |i| start + i);
    let authority = &input[start..end];
    if authority.contains('@') || authority.starts_with('[') {
        return Ok(None); // refused later (credentials), or an IPv6 literal
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let needs = !host.is_ascii()
        || host.split('.').any(|label| label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    if !needs {
        return Ok(None);
    }
    let ascii = idna::domain_to_ascii_cow(host.as_bytes(), idna::AsciiDenyList::URL).map_err(|_| {
        let label = host
            .split('.')
            .find(|l| idna::domain_to_ascii_cow(l.as_bytes(), idna::AsciiDenyList::URL).is_err());
        match label {
            Some(l) => format!(
                "has a host name that is not valid under IDNA (UTS 46): the label '{}' is refused \
                 (a character not allowed in host names, or bad punycode)",
                l.chars().take(64).collect::<String>()
            ),
            None => "has a host name that is not valid under IDNA (UTS 46): its labels mix \
                     writing directions or break the joining rules"
                .to_string(),
        }
    })?;
    if ascii.is_empty() {
        return Err("has no host".into());
    }
    let converted = format!("{}{}{}{}", &input[..start], ascii, &authority[host.len()..], &input[end..]);
    Ok(Some((converted, authority.to_ascii_lowercase())))
}

/// What of a URL may be shown in a message: never its user information.
///
/// The rule is [`crate::redact::hide_userinfo_of_url`]'s (the whole input is one URL,
/// spaces included); at most 200 characters are shown.
fn shown_url(input: &str) -> String {
    crate::redact::hide_userinfo_of_url(input).chars().take(200).collect()
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

/// Checks a value that goes into an HTTP header: not empty, no control characters.
pub fn check_header_value(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "{what} must not contain CR, LF or other control characters"
        )));
    }
    Ok(())
}

/// How requests authenticate; one scheme at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (an XSRF token may still be sent).
    #[default]
    None,
    /// `Authorization: Basic base64(user:password)`.
    Basic { user: Secret, password: Secret },
    /// `Authorization: SOTicket <ticket>`.
    Ticket(Secret),
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

impl Auth {
    /// Basic authentication, checked.
    pub fn basic(user: &str, password: &str) -> Result<Auth, Error> {
        if user.contains(':') {
            return Err(Error::invalid("the user name for basic authentication must not contain ':'"));
        }
        if user.chars().chain(password.chars()).any(|c| c.is_control()) {
            return Err(Error::invalid(
                "the user name and password must not contain control characters",
            ));
        }
        if user.is_empty() {
            return Err(Error::invalid("the user name for basic authentication must not be empty"));
        }
        Ok(Auth::Basic { user: Secret::new(user), password: Secret::new(password) })
    }

    /// Ticket authentication, checked.
    pub fn ticket(ticket: &str) -> Result<Auth, Error> {
        check_header_value("the ticket", ticket)?;
        Ok(Auth::Ticket(Secret::new(ticket)))
    }

    /// Bearer authentication, checked.
    pub fn bearer(token: &str) -> Result<Auth, Error> {
        check_header_value("the access token", token)?;
        Ok(Auth::Bearer(Secret::new(token)))
    }

    /// The `Authorization` header value, if any; wiped when dropped.
    ///
    /// Every buffer is allocated at its final size: a `String` that grows leaves its old
    /// block, with the part of the secret written so far, unwiped on the heap
    /// (`tests/zeroize.rs` checks this).
    pub fn header_value(&self) -> Option<Zeroizing<String>> {
        fn joined(parts: &[&str]) -> Zeroizing<String> {
            let mut out = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
            for p in parts {
                out.push_str(p);
            }
            out
        }
        match self {
            Auth::None => None,
            Auth::Basic { user, password } => {
                let pair = joined(&[user.expose(), ":", password.expose()]);
                let encoded = base64::encoded_len(pair.len(), true).unwrap_or(0);
                let mut v = Zeroizing::new(String::with_capacity("Basic ".len() + encoded));
                v.push_str("Basic ");
                base64::engine::general_purpose::STANDARD.encode_string(pair.as_bytes(), &mut v);
                Some(v)
            }
            Auth::Ticket(t) => Some(joined(&["SOTicket ", t.expose()])),
            Auth::Bearer(t) => Some(joined(&["Bearer ", t.expose()])),
        }
    }

    /// The same scheme with a fresh credential, for ticket and bearer; `None` otherwise.
    pub fn refreshed(&self, fresh: &str) -> Option<Result<Auth, Error>> {
        match self {
            Auth::Ticket(_) => Some(Auth::ticket(fresh)),
            Auth::Bearer(_) => Some(Auth::bearer(fresh)),
            _ => None,
        }
    }
}

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

/// Asks the host program for a fresh ticket or token after a 401.
pub trait CredentialsProvider: Send + Sync {
    /// A fresh credential, or `None` when there is none.
    fn fresh_credential(&self) -> Option<Secret>;
}

/// Every setting of a client.
#[derive(Clone)]
pub struct Settings {
    /// Where the installation or tenant lives.
    pub base: BaseUrl,
    /// The authentication scheme.
    pub auth: Auth,
    /// `SO-AppToken`.
    pub app_token: Option<Secret>,
    /// `X-XSRF-TOKEN`.
    pub xsrf_token: Option<Secret>,
    /// `Accept-Language` and `SO-Language`.
    pub language: Option<String>,
    /// `SO-Culture`.
    pub culture: Option<String>,
    /// `SO-TimeZone`.
    pub timezone: Option<String>,
    /// `$select`, as given.
    pub select: Option<String>,
    /// Connect timeout; `None` for no limit.
    pub connect_timeout: Option<Duration>,
    /// Total timeout of one call, retries included; `None` for no limit.
    pub total_timeout: Option<Duration>,
    /// Retries of requests the server provably did not process.
    pub max_retries: u32,
    /// Extra trusted certificate authorities (PEM file).
    pub ca_file: Option<String>,
    /// Proxy choice.
    pub proxy: ProxySetting,
    /// Fresh credentials after a 401.
    pub credentials: Option<Arc<dyn CredentialsProvider>>,
    /// A credential the client gets itself from SuperOffice's login service (system
    /// user or OAuth refresh token); replaces `auth` when set.
    pub login_scheme: Option<crate::credentials::Scheme>,
    /// The login service; `None`: derived from the base URL's host.
    pub login_url: Option<String>,
    /// The tenant (`Cust12345`); `None`: the base URL's first path segment.
    pub context_identifier: Option<String>,
    /// Where request lines are logged.
    pub logger: Option<Arc<dyn Logger>>,
    /// Most asynchronous sends on the network at once (1 to [`MAX_IN_FLIGHT_LIMIT`]).
    pub max_in_flight: usize,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .field("app_token", &self.app_token)
            .field("xsrf_token", &self.xsrf_token)
            .field("language", &self.language)
            .field("culture", &self.culture)
            .field("timezone", &self.timezone)
            .field("select", &self.select)
            .field("connect_timeout", &self.connect_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("max_retries", &self.max_retries)
            .field("ca_file", &self.ca_file)
            .field("proxy", &self.proxy)
            .field("credentials", &self.credentials.as_ref().map(|_| "callback"))
            .field("login_scheme", &self.login_scheme)
            .field("login_url", &self.login_url)
            .field("context_identifier", &self.context_identifier)
            .field("logger", &self.logger.as_ref().map(|_| "callback"))
            .field("max_in_flight", &self.max_in_flight)
            .finish()
    }
}

impl Settings {
    /// Settings for a base URL, everything else at its default.
    pub fn new(base_url: &str) -> Result<Settings, Error> {
        Ok(Settings {
            base: BaseUrl::parse(base_url)?,
            auth: Auth::None,
            app_token: None,
            xsrf_token: None,
            language: None,
            culture: None,
            timezone: None,
            select: None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
            max_retries: DEFAULT_MAX_RETRIES,
            ca_file: None,
            proxy: ProxySetting::FromEnvironment,
            credentials: None,
            login_scheme: None,
            login_url: None,
            context_identifier: None,
            logger: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        })
    }

    /// Sets an optional header-valued setting; `None` clears it.
    fn header_setting(what: &str, value: Option<&str>) -> Result<Option<String>, Error> {
        match value {
            None => Ok(None),
            Some(v) => {
                check_header_value(what, v)?;
                Ok(Some(v.to_string()))
            }
        }
    }

    /// `SO-AppToken`; `None` clears it.
    pub fn set_app_token(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.app_token = Self::header_setting("the app token", v)?.map(Secret::new);
        Ok(())
    }

    /// The SuperOffice Online system user: the key is read now; the client secret also
    /// becomes the app token (until the app token is set again). Replaces any other scheme.
    pub fn set_system_user(&mut self, token: &str, private_key: &str, client_secret: &str) -> Result<(), Error> {
        let scheme = crate::credentials::Scheme::system_user(token, private_key, client_secret).map_err(Error::invalid)?;
        self.app_token = Some(scheme.client_secret().clone());
        self.auth = Auth::None;
        self.login_scheme = Some(scheme);
        Ok(())
    }

    /// The OAuth 2.0 refresh token flow; the client secret also becomes the app token
    /// (until the app token is set again). Replaces any other scheme.
    pub fn set_oauth_refresh(&mut self, client_id: &str, client_secret: &str, refresh_token: &str) -> Result<(), Error> {
        let scheme =
            crate::credentials::Scheme::oauth_refresh(client_id, client_secret, refresh_token).map_err(Error::invalid)?;
        self.app_token = Some(scheme.client_secret().clone());
        self.auth = Auth::None;
        self.login_scheme = Some(scheme);
        Ok(())
    }

    /// Sets a fixed scheme (basic, ticket, bearer): replaces a system user or OAuth one.
    pub fn set_auth(&mut self, auth: Auth) {
        self.auth = auth;
        self.login_scheme = None;
    }

    /// The login service's URL; `None`: derived from the base URL's host.
    pub fn set_login_url(&mut self, url: Option<&str>) -> Result<(), Error> {
        self.login_url = match url {
            None => None,
            Some(u) => Some(crate::credentials::check_login_url(u).map_err(Error::invalid)?),
        };
        Ok(())
    }

    /// The tenant (`Cust12345`); `None`: the base URL's first path segment.
    pub fn set_context_identifier(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.context_identifier = Self::header_setting("the context identifier", v)?;
        Ok(())
    }

    /// `X-XSRF-TOKEN`; `None` clears it.
    pub fn set_xsrf_token(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.xsrf_token = Self::header_setting("the XSRF token", v)?.map(Secret::new);
        Ok(())
    }

    /// `Accept-Language` and `SO-Language`; `None` clears it.
    pub fn set_language(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.language = Self::header_setting("the language", v)?;
        Ok(())
    }

    /// `SO-Culture`; `None` clears it.
    pub fn set_culture(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.culture = Self::header_setting("the culture", v)?;
        Ok(())
    }

    /// `SO-TimeZone`; `None` clears it.
    pub fn set_timezone(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.timezone = Self::header_setting("the time zone", v)?;
        Ok(())
    }

    /// `$select`; `None` clears it.
    pub fn set_select(&mut self, v: Option<&str>) -> Result<(), Error> {
        self.select = match v {
            None => None,
            Some(s) => {
                if s.is_empty() {
                    return Err(Error::invalid("$select must not be empty (pass NULL to clear it)"));
                }
                if s.chars().any(|c| c.is_control()) {
                    return Err(Error::invalid("$select must not contain control characters"));
                }
                Some(s.to_string())
            }
        };
        Ok(())
    }

    /// Timeouts in milliseconds; 0 means no limit.
    pub fn set_timeouts_ms(&mut self, connect_ms: u32, total_ms: u32) {
        let d = |ms: u32| (ms != 0).then(|| Duration::from_millis(u64::from(ms)));
        self.connect_timeout = d(connect_ms);
        self.total_timeout = d(total_ms);
    }

    /// The total and connect limits for a request that may take at most `total`: the
    /// connect timeout never outlasts the total.
    pub fn limits_within(&self, total: Option<Duration>) -> (Option<Duration>, Option<Duration>) {
        let connect = match (self.connect_timeout, total) {
            (Some(c), Some(t)) => Some(c.min(t)),
            (None, t) => t,
            (c, None) => c,
        };
        (total, connect)
    }

    /// Asynchronous sends on the network at once: 1 to [`MAX_IN_FLIGHT_LIMIT`].
    pub fn set_max_in_flight(&mut self, n: u32) -> Result<(), Error> {
        match usize::try_from(n) {
            Ok(n) if (1..=MAX_IN_FLIGHT_LIMIT).contains(&n) => {
                self.max_in_flight = n;
                Ok(())
            }
            _ => Err(Error::invalid(format!(
                "max_in_flight {n} is out of range (1 to {MAX_IN_FLIGHT_LIMIT})"
            ))),
        }
    }

    /// Retries of unprocessed requests.
    pub fn set_max_retries(&mut self, n: u32) -> Result<(), Error> {
        if n > MAX_RETRIES_LIMIT {
            return Err(Error::invalid(format!(
                "max_retries {n} is out of range (0 to {MAX_RETRIES_LIMIT})"
            )));
        }
        self.max_retries = n;
        Ok(())
    }

    /// Extra trusted CAs from a PEM file; checked now so a bad file fails early.
    pub fn set_ca_file(&mut self, path: Option<&str>) -> Result<(), Error> {
        self.ca_file = match path {
            None => None,
            Some(p) => {
                crate::tls::load_pem_file(p)?;
                Some(p.to_string())
            }
        };
        Ok(())
    }

    /// Proxy: `None` for the environment's, `""` for none, else a proxy URL.
    pub fn set_proxy(&mut self, url: Option<&str>) -> Result<(), Error> {
        self.proxy = match url {
            None => ProxySetting::FromEnvironment,
            Some("") => ProxySetting::Direct,
            Some(u) => {
                check_proxy_url(u)?;
                ureq::Proxy::new(u).map_err(|_| {
                    Error::invalid("the proxy URL is not valid (expected http://[user:password@]host:port)")
                })?;
                ProxySetting::Url(Secret::new(u))
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> BaseUrl {
        BaseUrl::parse(s).unwrap()
    }

    #[test]
    fn max_in_flight_is_1_to_1024_default_16() {
        let mut s = Settings::new("https://h/Cust1").unwrap();
        assert_eq!(s.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
        assert_eq!(DEFAULT_MAX_IN_FLIGHT, 16);
        assert!(s.set_max_in_flight(0).is_err());
        assert!(s.set_max_in_flight(1025).is_err());
        assert!(s.set_max_in_flight(1).is_ok());
        assert!(s.set_max_in_flight(1024).is_ok());
        assert_eq!(s.max_in_flight, 1024);
    }

    #[test]
    fn base_url_forms_mean_the_same() {
        for form in [
            "https://sod.superoffice.com/Cust12345",
            "https://sod.superoffice.com/Cust12345/",
            "https://sod.superoffice.com/Cust12345/api",
            "https://sod.superoffice.com/Cust12345/api/",
            "https://SOD.superoffice.com/Cust12345/API/",
        ] {
            assert_eq!(base(form).root(), "https://sod.superoffice.com/Cust12345", "{form}");
        }
        assert_eq!(base("http://127.0.0.1:8080").root(), "http://127.0.0.1:8080");
        assert_eq!(base("http://127.0.0.1:8080/api").root(), "http://127.0.0.1:8080");
        assert_eq!(base("https://crm.example.com/SuperOffice/").root(), "https://crm.example.com/SuperOffice");
        assert_eq!(base("https://h/apis").root(), "https://h/apis");
        assert_eq!(base("https://[::1]:8443/x").root(), "https://[::1]:8443/x");
        assert_eq!(base("http://h:65535").root(), "http://h:65535");
        // A path that ends in a multi-byte character (found by fuzzing: it panicked).
        assert_eq!(base("http://1/27xt\u{44b}080").path, "/27xt\u{44b}080");
        assert_eq!(base("http://h/\u{44b}").path, "/\u{44b}");
    }

    #[test]
    fn international_host_names_go_out_in_their_ascii_form() {
        let b = base("https://crm.bæk.no/SuperOffice");
        assert_eq!(b.root(), "https://crm.xn--bk-1ia.no/SuperOffice");
        assert_eq!(b.shown_root(), "https://crm.bæk.no/SuperOffice");
        let b = base("http://Sø.BÆK.no:8080/api");
        assert_eq!(b.root(), "http://xn--s-5ga.xn--bk-1ia.no:8080");
        assert_eq!(b.shown_root(), "http://sø.bÆk.no:8080");
        assert_eq!(base("https://crm.xn--bk-1ia.no/x").root(), "https://crm.xn--bk-1ia.no/x");
        assert_eq!(base("https://crm.xn--bk-1ia.no/x").shown_root(), "https://crm.xn--bk-1ia.no/x");
        assert_eq!(base("https://plain.example.com").shown_root(), "https://plain.example.com");
        for bad in ["https://xn--zz-.no/x", "https://a\u{200d}b.no/", "https://bæk\u{fffd}.no/", "https://a.xn--a-ecp.ru/"] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(e.message.contains("not valid under IDNA"), "{bad}: {}", e.message);
        }
        let e = BaseUrl::parse("https://ok.xn--zz-.no/x").unwrap_err();
        assert!(e.message.contains("the label 'xn--zz-' is refused"), "{}", e.message);
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in [
            "",
            "sod.superoffice.com/Cust1",
            "ftp://host/x",
            "https://",
            "https://host/a b",
            "https://host/x?y=1",
            "https://host/x#frag",
            "https://user:pw@host/x",
            "https://host/\r\nX: y",
            "http:/host",
            "https://host:port/x",
            "https://host:99999/x",
            "https://host:0/x",
            "https://[::1]:x/y",
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.message.contains("pw@"), "{}", e.message);
        }
    }

    #[test]
    fn refused_base_urls_never_show_user_information() {
        for (bad, secret) in [
            ("https://user:secret@host/x", "secret"),
            ("https://us@er:secret@host/x", "secret"),
            ("https://user:sec/ret@host/x", "sec/ret"),
            ("https://user:secret@host/x y", "secret"),
            ("https://user:sec ret@host/x", "sec"),
            ("user:sec ret@host", "sec"),
            ("user:secret@host", "secret"),
            ("user:secret@host://x", "secret"),
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert!(!e.message.contains(secret), "{bad}: {}", e.message);
        }
        let e = BaseUrl::parse("https://host/\r\nX: y").unwrap_err();
        assert!(!e.message.contains('\n') && !e.message.contains('\r'), "{}", e.message);
    }

    #[test]
    fn header_values_refuse_control_characters() {
        assert!(check_header_value("x", "7T:abc==").is_ok());
        for bad in ["", "a\rb", "a\nb", "a\u{0}b", "a\tb", "a\u{7f}"] {
            assert!(check_header_value("x", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn basic_auth_header_matches_the_reference_sample() {
        let auth = Auth::basic("tje0", "Tje0").unwrap();
        assert_eq!(auth.header_value().unwrap().as_str(), "Basic dGplMDpUamUw");
        assert!(Auth::basic("a:b", "x").is_err());
        assert!(Auth::basic("", "x").is_err());
        assert!(Auth::basic("a", "x\ny").is_err());
    }

    #[test]
    fn ticket_and_bearer_headers() {
        assert_eq!(
            Auth::ticket("7T:dGVzdA==").unwrap().header_value().unwrap().as_str(),
            "SOTicket 7T:dGVzdA=="
        );
        assert_eq!(Auth::bearer("8A:x").unwrap().header_value().unwrap().as_str(), "Bearer 8A:x");
        assert!(Auth::ticket("a\nb").is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut s = Settings::new("https://h/Cust1").unwrap();
        s.auth = Auth::basic("someuser", "hunter2-password").unwrap();
        s.set_app_token(Some("app-secret-xyz")).unwrap();
        s.set_xsrf_token(Some("xsrf-secret-xyz")).unwrap();
        s.set_proxy(Some("http://puser:ppass-secret@proxy:3128")).unwrap();
        let shown = format!("{s:?}");
        for secret in ["someuser", "hunter2", "app-secret", "xsrf-secret", "ppass-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn proxy_urls_are_checked_without_echoing_them() {
        let mut s = Settings::new("https://h").unwrap();
        for good in [
            "http://proxy:3128",
            "http://u:p@proxy:3128/",
            "proxy:3128",
            "proxy",
            "HTTPS://proxy",
            "socks5://127.0.0.1:1080",
            "http://[::1]:3128",
        ] {
            assert!(s.set_proxy(Some(good)).is_ok(), "{good}");
        }
        for bad in [
            "http://u:secret-pw@:3128",
            "http://u:secret-pw@h:99999",
            "http://u:secret-pw@h:0",
            "http://u:secret-pw@h:x",
            "http://u:secret-pw@h:",
            "http://u:secret-pw@h:3128/path",
            "http://u:secret-pw@h?q",
            "ftp://u:secret-pw@h",
            "http://u:secret-pw@[::1",
            "http://u:secret-pw@[nothex]:1",
            "http://",
        ] {
            let e = s.set_proxy(Some(bad)).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.message.contains("secret-pw"), "{}", e.message);
        }
    }

    #[test]
    fn timeouts_zero_means_no_limit() {
        let mut s = Settings::new("https://h").unwrap();
        assert_eq!(s.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(s.total_timeout, Some(DEFAULT_TOTAL_TIMEOUT));
        s.set_timeouts_ms(0, 1500);
        assert_eq!(s.connect_timeout, None);
        assert_eq!(s.total_timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn the_connect_limit_never_outlasts_the_total() {
        let mut s = Settings::new("https://h").unwrap();
        let ms = Duration::from_millis;
        s.set_timeouts_ms(10_000, 300);
        assert_eq!(s.limits_within(s.total_timeout), (Some(ms(300)), Some(ms(300))));
        s.set_timeouts_ms(100, 300);
        assert_eq!(s.limits_within(Some(ms(50))), (Some(ms(50)), Some(ms(50))));
        assert_eq!(s.limits_within(Some(ms(250))), (Some(ms(250)), Some(ms(100))));
        s.set_timeouts_ms(0, 0);
        assert_eq!(s.limits_within(None), (None, None));
        s.set_timeouts_ms(0, 300);
        assert_eq!(s.limits_within(Some(ms(200))), (Some(ms(200)), Some(ms(200))));
    }

    #[test]
    fn retries_are_bounded() {
        let mut s = Settings::new("https://h").unwrap();
        assert!(s.set_max_retries(0).is_ok());
        assert!(s.set_max_retries(10).is_ok());
        assert!(s.set_max_retries(11).is_err());
    }

    #[test]
    fn select_can_be_cleared() {
        let mut s = Settings::new("https://h").unwrap();
        s.set_select(Some("name,department")).unwrap();
        assert_eq!(s.select.as_deref(), Some("name,department"));
        s.set_select(None).unwrap();
        assert_eq!(s.select, None);
        assert!(s.set_select(Some("")).is_err());
    }
}
