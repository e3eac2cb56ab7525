//! [`SettingsBuilder`]: the one way to make [`Settings`]. Every method checks its value at
//! once (so a C setter can report the error when it is called) and returns the builder
//! for the next one; [`SettingsBuilder::build`] gives the settings a client is made from.

use std::sync::Arc;

use super::auth::{check_header_value, Auth, CredentialsProvider, Secret};
use super::{limits, ProxySetting, Settings};
use crate::error::Error;
use crate::log::Logger;

/// Builds [`Settings`], checking each value as it is given.
///
/// ```
/// let settings = superoffice::Settings::builder("https://sod.superoffice.com/Cust12345")?
///     .ticket("7T:dGVzdA==")?
///     .timeouts_ms(2_000, 10_000)
///     .language(Some("sv"))?
///     .build();
/// # Ok::<(), superoffice::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SettingsBuilder {
    settings: Settings,
}

/// An optional header-valued setting, checked; `None` clears it.
fn header_setting(what: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    value.map(|v| check_header_value(what, v).map(|()| v.to_string())).transpose()
}

impl SettingsBuilder {
    pub(super) fn new(settings: Settings) -> SettingsBuilder {
        SettingsBuilder { settings }
    }

    /// The settings made so far; the builder stays usable (one `so_options` may make
    /// several clients).
    pub fn build(&self) -> Settings {
        self.settings.clone()
    }

    /// A fixed scheme (basic, ticket, bearer), already checked: replaces any other one,
    /// a system user or OAuth one included.
    pub fn auth(&mut self, auth: Auth) -> &mut Self {
        self.settings.auth = auth;
        self.settings.login_scheme = None;
        self
    }

    /// `Authorization: Basic`, checked; replaces any scheme set before.
    pub fn basic_auth(&mut self, user: &str, password: &str) -> Result<&mut Self, Error> {
        Ok(self.auth(Auth::basic(user, password)?))
    }

    /// `Authorization: SOTicket`, checked; replaces any scheme set before.
    pub fn ticket(&mut self, ticket: &str) -> Result<&mut Self, Error> {
        Ok(self.auth(Auth::ticket(ticket)?))
    }

    /// `Authorization: Bearer`, checked; replaces any scheme set before.
    pub fn bearer_token(&mut self, token: &str) -> Result<&mut Self, Error> {
        Ok(self.auth(Auth::bearer(token)?))
    }

    /// A credential the client gets from the login service; its client secret also
    /// becomes the app token (until the app token is set again). Replaces any other scheme.
    fn login_scheme(&mut self, scheme: Result<crate::credentials::Scheme, String>) -> Result<&mut Self, Error> {
        let scheme = scheme.map_err(Error::invalid)?;
        self.settings.app_token = Some(scheme.client_secret().clone());
        self.settings.auth = Auth::None;
        self.settings.login_scheme = Some(scheme);
        Ok(self)
    }

    /// The SuperOffice Online system user: the key is read now; the client secret also
    /// becomes the app token (until the app token is set again). Replaces any other scheme.
    pub fn system_user(&mut self, token: &str, private_key: &str, client_secret: &str) -> Result<&mut Self, Error> {
        self.login_scheme(crate::credentials::Scheme::system_user(token, private_key, client_secret))
    }

    /// The OAuth 2.0 refresh token flow; the client secret also becomes the app token
    /// (until the app token is set again). Replaces any other scheme.
    pub fn oauth_refresh(&mut self, client_id: &str, client_secret: &str, refresh_token: &str) -> Result<&mut Self, Error> {
        self.login_scheme(crate::credentials::Scheme::oauth_refresh(client_id, client_secret, refresh_token))
    }

    /// The login service's URL; `None`: derived from the base URL's host.
    pub fn login_url(&mut self, url: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.login_url = url.map(crate::credentials::check_login_url).transpose().map_err(Error::invalid)?;
        Ok(self)
    }

    /// The tenant (`Cust12345`); `None`: the base URL's first path segment.
    pub fn context_identifier(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.context_identifier = header_setting("the context identifier", v)?;
        Ok(self)
    }

    /// Whether a credential the client gets from the login service is shared with the
    /// process's other clients of the same identity (`true`, the default) or kept by the
    /// client alone.
    pub fn shared_credentials(&mut self, shared: bool) -> &mut Self {
        self.settings.shared_credentials = shared;
        self
    }

    /// `SO-AppToken`; `None` clears it.
    pub fn app_token(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.app_token = header_setting("the app token", v)?.map(Secret::new);
        Ok(self)
    }

    /// `X-XSRF-TOKEN`; `None` clears it.
    pub fn xsrf_token(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.xsrf_token = header_setting("the XSRF token", v)?.map(Secret::new);
        Ok(self)
    }

    /// `Accept-Language` and `SO-Language`; `None` clears it.
    pub fn language(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.language = header_setting("the language", v)?;
        Ok(self)
    }

    /// `SO-Culture`; `None` clears it.
    pub fn culture(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.culture = header_setting("the culture", v)?;
        Ok(self)
    }

    /// `SO-TimeZone`; `None` clears it.
    pub fn timezone(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.timezone = header_setting("the time zone", v)?;
        Ok(self)
    }

    /// `$select`; `None` clears it.
    pub fn select(&mut self, v: Option<&str>) -> Result<&mut Self, Error> {
        if let Some(s) = v {
            if s.is_empty() {
                return Err(Error::invalid("$select must not be empty (pass NULL to clear it)"));
            }
            if s.chars().any(|c| c.is_control()) {
                return Err(Error::invalid("$select must not contain control characters"));
            }
        }
        self.settings.select = v.map(str::to_string);
        Ok(self)
    }

    /// Timeouts in milliseconds; 0 means no limit.
    pub fn timeouts_ms(&mut self, connect_ms: u32, total_ms: u32) -> &mut Self {
        self.settings.connect_timeout = limits::timeout_from_ms(connect_ms);
        self.settings.total_timeout = limits::timeout_from_ms(total_ms);
        self
    }

    /// Asynchronous sends on the network at once: 1 to [`limits::MAX_IN_FLIGHT_LIMIT`].
    pub fn max_in_flight(&mut self, n: u32) -> Result<&mut Self, Error> {
        self.settings.max_in_flight = limits::check_max_in_flight(n)?;
        Ok(self)
    }

    /// Retries of unprocessed requests: 0 to [`limits::MAX_RETRIES_LIMIT`].
    pub fn max_retries(&mut self, n: u32) -> Result<&mut Self, Error> {
        self.settings.max_retries = limits::check_max_retries(n)?;
        Ok(self)
    }

    /// Extra trusted certificate authorities: a PEM file, read now; `None` clears it.
    pub fn ca_file(&mut self, path: Option<&str>) -> Result<&mut Self, Error> {
        if let Some(p) = path {
            crate::tls::load_pem_file(p)?;
        }
        self.settings.ca_file = path.map(str::to_string);
        Ok(self)
    }

    /// Proxy: `None` for the environment's, `""` for none, else a proxy URL.
    pub fn proxy(&mut self, url: Option<&str>) -> Result<&mut Self, Error> {
        self.settings.proxy = ProxySetting::parse(url)?;
        Ok(self)
    }

    /// Who gives a fresh ticket or token after a 401; `None` clears it.
    pub fn credentials(&mut self, provider: Option<Arc<dyn CredentialsProvider>>) -> &mut Self {
        self.settings.credentials = provider;
        self
    }

    /// Where request lines are logged; `None` clears it.
    pub fn logger(&mut self, logger: Option<Arc<dyn Logger>>) -> &mut Self {
        self.settings.logger = logger;
        self
    }

    /// Whether a login scheme (system user, OAuth) is set.
    pub fn has_login_scheme(&self) -> bool {
        self.settings.login_scheme.is_some()
    }
}
