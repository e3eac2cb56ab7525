//! A client's settings, validated as they are set.
//!
//! - [`url`]: the base URL, its host name in ASCII form (IDNA);
//! - [`auth`]: secrets, authentication schemes, the provider of fresh credentials;
//! - [`proxy`]: the proxy choice and its URL;
//! - [`limits`]: timeouts, retries, sends in flight.
//!
//! [`Settings`] holds one of each and is read-only: [`SettingsBuilder`] (`builder.rs`) makes
//! it, checking each value as it is given.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::log::Logger;
use crate::redact::Secrets;

pub mod auth;
mod builder;
pub mod limits;
pub mod proxy;
/// The base URL and host names (IDNA); a module of its own below the settings.
pub use crate::url;

pub use builder::SettingsBuilder;
pub use auth::{check_header_value, Auth, CredentialsProvider, Secret};
pub use limits::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_RETRIES, DEFAULT_TOTAL_TIMEOUT, MAX_IN_FLIGHT_LIMIT,
    MAX_RETRIES_LIMIT,
};
pub use proxy::ProxySetting;
pub use url::BaseUrl;

/// Every setting of a client, read-only: made by [`SettingsBuilder`]. Its `Debug` shows
/// no secret (each secret's own `Debug` hides it; callbacks show as `callback`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the installation or tenant lives.
    pub(crate) base: BaseUrl,
    /// The authentication scheme.
    pub(crate) auth: Auth,
    /// `SO-AppToken`.
    pub(crate) app_token: Option<Secret>,
    /// `X-XSRF-TOKEN`.
    pub(crate) xsrf_token: Option<Secret>,
    /// `Accept-Language` and `SO-Language`.
    pub(crate) language: Option<String>,
    /// `SO-Culture`.
    pub(crate) culture: Option<String>,
    /// `SO-TimeZone`.
    pub(crate) timezone: Option<String>,
    /// `$select`, as given.
    pub(crate) select: Option<String>,
    /// Connect timeout; `None` for no limit.
    pub(crate) connect_timeout: Option<Duration>,
    /// Total timeout of one call, retries included; `None` for no limit.
    pub(crate) total_timeout: Option<Duration>,
    /// Retries of requests the server provably did not process.
    pub(crate) max_retries: u32,
    /// Extra trusted certificate authorities (PEM file).
    pub(crate) ca_file: Option<String>,
    /// Proxy choice.
    pub(crate) proxy: ProxySetting,
    /// Fresh credentials after a 401.
    pub(crate) credentials: Option<Arc<dyn CredentialsProvider>>,
    /// A credential the client gets itself from SuperOffice's login service (system
    /// user or OAuth refresh token); replaces `auth` when set.
    pub(crate) login_scheme: Option<crate::credentials::Scheme>,
    /// The login service; `None`: derived from the base URL's host.
    pub(crate) login_url: Option<String>,
    /// The tenant (`Cust12345`); `None`: the base URL's first path segment.
    pub(crate) context_identifier: Option<String>,
    /// Whether a credential from the login service is shared with the process's other
    /// clients of the same identity (default) or kept by the client alone.
    pub(crate) shared_credentials: bool,
    /// Where request lines are logged.
    pub(crate) logger: Option<Arc<dyn Logger>>,
    /// Most asynchronous sends on the network at once (1 to [`MAX_IN_FLIGHT_LIMIT`]).
    pub(crate) max_in_flight: usize,
}

impl Settings {
    /// A builder for the settings of the installation or tenant at `base_url`, every
    /// other setting at its default.
    pub fn builder(base_url: &str) -> Result<SettingsBuilder, Error> {
        Ok(SettingsBuilder::new(Settings {
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
            shared_credentials: true,
            logger: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }))
    }

    /// Settings for a base URL, everything else at its default (`builder(url)?.build()`).
    pub fn new(base_url: &str) -> Result<Settings, Error> {
        Ok(Settings::builder(base_url)?.build())
    }

    /// A builder that starts from these settings.
    pub fn to_builder(&self) -> SettingsBuilder {
        SettingsBuilder::new(self.clone())
    }

    /// Where the installation or tenant lives.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// The fixed authentication scheme (`Auth::None` with a login scheme).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Whether the client gets its credential from the login service (system user, OAuth).
    pub fn has_login_scheme(&self) -> bool {
        self.login_scheme.is_some()
    }

    /// Whether credentials from the login service are shared in the process (default).
    pub fn shared_credentials(&self) -> bool {
        self.shared_credentials
    }

    /// `$select`, as given.
    pub fn select(&self) -> Option<&str> {
        self.select.as_deref()
    }

    /// Connect timeout; `None` for no limit.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// Total timeout of one call, retries included; `None` for no limit.
    pub fn total_timeout(&self) -> Option<Duration> {
        self.total_timeout
    }

    /// Retries of requests the server provably did not process.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Most asynchronous sends on the network at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The proxy choice.
    pub fn proxy(&self) -> &ProxySetting {
        &self.proxy
    }

    /// The total and connect limits for a request that may take at most `total`: the
    /// connect timeout never outlasts the total.
    pub fn limits_within(&self, total: Option<Duration>) -> (Option<Duration>, Option<Duration>) {
        (total, limits::connect_within(self.connect_timeout, total))
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

    fn builder(url: &str) -> SettingsBuilder {
        Settings::builder(url).unwrap()
    }

    /// Settings with a basic user and password, an app token, an XSRF token and a proxy URL.
    fn with_secrets(user: &str, password: &str, app: &str, xsrf: &str, proxy: &str) -> Result<Settings, Error> {
        let mut b = builder("https://h/Cust1");
        b.basic_auth(user, password)?.app_token(Some(app))?.xsrf_token(Some(xsrf))?.proxy(Some(proxy))?;
        Ok(b.build())
    }

    #[test]
    fn max_in_flight_is_1_to_1024_default_16() {
        let mut b = builder("https://h/Cust1");
        assert_eq!(b.build().max_in_flight, DEFAULT_MAX_IN_FLIGHT);
        assert_eq!(DEFAULT_MAX_IN_FLIGHT, 16);
        assert!(b.max_in_flight(0).is_err());
        assert!(b.max_in_flight(1025).is_err());
        assert!(b.max_in_flight(1).is_ok());
        assert!(b.max_in_flight(1024).is_ok());
        assert_eq!(b.build().max_in_flight, 1024);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let proxy = "http://puser:ppass-secret@proxy:3128";
        let s = with_secrets("someuser", "hunter2-password", "app-secret-xyz", "xsrf-secret-xyz", proxy).unwrap();
        let shown = format!("{s:?}");
        for secret in ["someuser", "hunter2", "app-secret", "xsrf-secret", "ppass-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn proxy_urls_are_checked_without_echoing_them() {
        let mut b = builder("https://h");
        for good in [
            "http://proxy:3128",
            "http://u:p@proxy:3128/",
            "proxy:3128",
            "proxy",
            "HTTPS://proxy",
            "socks5://127.0.0.1:1080",
            "http://[::1]:3128",
        ] {
            assert!(b.proxy(Some(good)).is_ok(), "{good}");
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
            let e = b.proxy(Some(bad)).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.message.contains("secret-pw"), "{}", e.message);
        }
    }

    #[test]
    fn timeouts_zero_means_no_limit() {
        let mut b = builder("https://h");
        assert_eq!(b.build().connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
        assert_eq!(b.build().total_timeout, Some(DEFAULT_TOTAL_TIMEOUT));
        let s = b.timeouts_ms(0, 1500).build();
        assert_eq!(s.connect_timeout, None);
        assert_eq!(s.total_timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn the_connect_limit_never_outlasts_the_total() {
        let mut b = builder("https://h");
        let ms = Duration::from_millis;
        let s = b.timeouts_ms(10_000, 300).build();
        assert_eq!(s.limits_within(s.total_timeout), (Some(ms(300)), Some(ms(300))));
        let s = b.timeouts_ms(100, 300).build();
        assert_eq!(s.limits_within(Some(ms(50))), (Some(ms(50)), Some(ms(50))));
        assert_eq!(s.limits_within(Some(ms(250))), (Some(ms(250)), Some(ms(100))));
        let s = b.timeouts_ms(0, 0).build();
        assert_eq!(s.limits_within(None), (None, None));
        let s = b.timeouts_ms(0, 300).build();
        assert_eq!(s.limits_within(Some(ms(200))), (Some(ms(200)), Some(ms(200))));
    }

    #[test]
    fn retries_are_bounded() {
        let mut b = builder("https://h");
        assert!(b.max_retries(0).is_ok());
        assert!(b.max_retries(10).is_ok());
        assert!(b.max_retries(11).is_err());
    }

    #[test]
    fn select_can_be_cleared() {
        let mut b = builder("https://h");
        assert_eq!(b.select(Some("name,department")).unwrap().build().select(), Some("name,department"));
        assert_eq!(b.select(None).unwrap().build().select(), None);
        assert!(b.select(Some("")).is_err());
    }

    #[test]
    fn every_configured_secret_is_hidden() {
        let s = with_secrets("tje0", "Tje0-secret", "app-tok-1", "xsrf-tok-1", "http://pu:pr%40xy-pw@proxy:3128").unwrap();
        let mut secrets = s.secrets();
        secrets.add("fresh-from-callback");
        let text = "Basic dGplMDpUamUwLXNlY3JldA== tje0:Tje0-secret app-tok-1 xsrf-tok-1 pr%40xy-pw pr@xy-pw fresh-from-callback";
        let hidden = secrets.hide(text);
        for gone in ["Tje0-secret", "dGplMDpUamUwLXNlY3JldA", "app-tok-1", "xsrf-tok-1", "pr%40xy-pw", "pr@xy-pw", "fresh-from"] {
            assert!(!hidden.contains(gone), "{gone} in {hidden}");
        }
        assert!(hidden.starts_with("Basic ***"), "{hidden}");
        for t in ["SOTicket 7T:abc", "Bearer 8A:abc"] {
            let s = builder("https://h").ticket(&t[t.find(' ').unwrap() + 1..]).unwrap().build();
            assert_eq!(s.secrets().hide(&format!("got {t}!")), format!("got {} ***!", &t[..t.find(' ').unwrap()]));
        }
    }
}
