//! A client's settings, validated as they are set.
//!
//! - [`url`]: the base URL, its host name in ASCII form (IDNA);
//! - [`auth`]: secrets, authentication schemes, the provider of fresh credentials;
//! - [`proxy`]: the proxy choice and its URL;
//! - [`limits`]: timeouts, retries, sends in flight.
//!
//! [`Settings`] holds one of each; its setters check what they are given.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::log::Logger;
use crate::redact::Secrets;

pub mod auth;
pub mod limits;
pub mod proxy;
/// The base URL and host names (IDNA); a module of its own below the settings.
pub use crate::url;

pub use auth::{check_header_value, Auth, CredentialsProvider, Secret};
pub use limits::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RETRIES, DEFAULT_TOTAL_TIMEOUT, MAX_IN_FLIGHT_LIMIT,
    MAX_RETRIES_LIMIT,
};
pub use proxy::ProxySetting;
pub use url::BaseUrl;

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

    /// `Authorization: Basic`, checked; replaces any scheme set before.
    pub fn set_basic_auth(&mut self, user: &str, password: &str) -> Result<(), Error> {
        self.set_auth(Auth::basic(user, password)?);
        Ok(())
    }

    /// `Authorization: SOTicket`, checked; replaces any scheme set before.
    pub fn set_ticket(&mut self, ticket: &str) -> Result<(), Error> {
        self.set_auth(Auth::ticket(ticket)?);
        Ok(())
    }

    /// `Authorization: Bearer`, checked; replaces any scheme set before.
    pub fn set_bearer_token(&mut self, token: &str) -> Result<(), Error> {
        self.set_auth(Auth::bearer(token)?);
        Ok(())
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
        self.connect_timeout = limits::timeout_from_ms(connect_ms);
        self.total_timeout = limits::timeout_from_ms(total_ms);
    }

    /// The total and connect limits for a request that may take at most `total`: the
    /// connect timeout never outlasts the total.
    pub fn limits_within(&self, total: Option<Duration>) -> (Option<Duration>, Option<Duration>) {
        (total, limits::connect_within(self.connect_timeout, total))
    }

    /// Asynchronous sends on the network at once: 1 to [`MAX_IN_FLIGHT_LIMIT`].
    pub fn set_max_in_flight(&mut self, n: u32) -> Result<(), Error> {
        self.max_in_flight = limits::check_max_in_flight(n)?;
        Ok(())
    }

    /// Retries of unprocessed requests.
    pub fn set_max_retries(&mut self, n: u32) -> Result<(), Error> {
        self.max_retries = limits::check_max_retries(n)?;
        Ok(())
    }

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
        self.proxy = ProxySetting::parse(url)?;
        Ok(())
    }

    /// The secrets of these settings: every value whose text must never reach a
    /// message, a log line or a batch result (the authentication's, a system user's or
    /// OAuth refresh token's, the app token, the XSRF token, the proxy's password).
    pub fn secrets(&self) -> Secrets {
        let mut s = Secrets::default();
        self.auth.add_secrets(&mut s);
        if let Some(scheme) = &self.login_scheme {
            for secret in scheme.secrets() {
                s.add(secret);
            }
        }
        for t in [&self.app_token, &self.xsrf_token].into_iter().flatten() {
            s.add(t.expose());
        }
        self.proxy.add_secrets(&mut s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn every_configured_secret_is_hidden() {
        let mut s = Settings::new("https://h/Cust1").unwrap();
        s.auth = Auth::basic("tje0", "Tje0-secret").unwrap();
        s.set_app_token(Some("app-tok-1")).unwrap();
        s.set_xsrf_token(Some("xsrf-tok-1")).unwrap();
        s.proxy = ProxySetting::Url(Secret::new("http://pu:pr%40xy-pw@proxy:3128"));
        let mut secrets = s.secrets();
        secrets.add("fresh-from-callback");
        let text = "Basic dGplMDpUamUwLXNlY3JldA== tje0:Tje0-secret app-tok-1 xsrf-tok-1 pr%40xy-pw pr@xy-pw fresh-from-callback";
        let hidden = secrets.hide(text);
        for gone in ["Tje0-secret", "dGplMDpUamUwLXNlY3JldA", "app-tok-1", "xsrf-tok-1", "pr%40xy-pw", "pr@xy-pw", "fresh-from"] {
            assert!(!hidden.contains(gone), "{gone} in {hidden}");
        }
        assert!(hidden.starts_with("Basic ***"), "{hidden}");
        for t in ["SOTicket 7T:abc", "Bearer 8A:abc"] {
            let mut s = Settings::new("https://h").unwrap();
            s.auth = Auth::ticket(&t[t.find(' ').unwrap() + 1..]).unwrap();
            assert_eq!(s.secrets().hide(&format!("got {t}!")), format!("got {} ***!", &t[..t.find(' ').unwrap()]));
        }
    }

}
