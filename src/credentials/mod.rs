//! Credentials the library gets itself: the SuperOffice Online system user (sign, exchange,
//! validate, renew) and the OAuth 2.0 refresh token. Pure, safe Rust.
//!
//! - [`key`]: the partner's RSA key in its three forms, and RSA-SHA256 signing (`ring`).
//! - [`exchange`]: the login service's endpoints, through the client's ureq agent.
//! - [`jwt`]: the JWT check (jsonwebtoken on `ring`), the JWKS key chosen by `kid`/`x5t`.
//! - [`provider`]: one provider per client: the credential of its slot, one login for
//!   many waiting clients, renewed once when the server refused it.
//! - [`shared`]: the process-wide table of slots, keyed by the digest of an identity.

pub mod exchange;
pub mod jwt;
pub mod key;
pub mod provider;
pub mod shared;

use std::sync::Arc;

use crate::secret::Secret;
use crate::url::BaseUrl;
use key::PartnerKey;

pub use provider::{Issued, Provider, Taken};

/// No credential could be had: the message says which step failed, never a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsError(pub String);

impl CredentialsError {
    pub fn new(message: impl Into<String>) -> CredentialsError {
        CredentialsError(message.into())
    }
}

impl std::fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the library gets its credential from SuperOffice's login service.
#[derive(Clone)]
pub enum Scheme {
    /// A system user: token, partner key, client secret.
    SystemUser { token: Secret, key: Arc<PartnerKey>, client_secret: Secret },
    /// An OAuth 2.0 refresh token.
    OAuthRefresh { client_id: String, client_secret: Secret, refresh_token: Secret },
}

impl Scheme {
    /// The system user scheme; the key is read now (an unreadable key is refused with a
    /// message that quotes none of it).
    pub fn system_user(token: &str, private_key: &str, client_secret: &str) -> Result<Scheme, String> {
        check_value("the system user token", token)?;
        check_value("the client secret", client_secret)?;
        let key = PartnerKey::parse(private_key).map_err(|e| e.0)?;
        Ok(Scheme::SystemUser {
            token: Secret::new(token),
            key: Arc::new(key),
            client_secret: Secret::new(client_secret),
        })
    }

    /// The OAuth refresh token scheme.
    pub fn oauth_refresh(client_id: &str, client_secret: &str, refresh_token: &str) -> Result<Scheme, String> {
        check_value("the client id", client_id)?;
        check_value("the client secret", client_secret)?;
        check_value("the refresh token", refresh_token)?;
        Ok(Scheme::OAuthRefresh {
            client_id: client_id.to_string(),
            client_secret: Secret::new(client_secret),
            refresh_token: Secret::new(refresh_token),
        })
    }

    /// The client secret, which is also the app token sent with every request.
    pub fn client_secret(&self) -> &Secret {
        match self {
            Scheme::SystemUser { client_secret, .. } | Scheme::OAuthRefresh { client_secret, .. } => client_secret,
        }
    }

    /// The key of the shared slot of this scheme at this login service and tenant,
    /// reached through this trust (the CA file's contents) and this proxy: the SHA-256
    /// digest of all of it (never the secrets themselves).
    pub fn identity(&self, login_url: &str, context_identifier: &str, ca_file: Option<&[u8]>, proxy: &crate::settings::ProxySetting) -> shared::Key {
        use crate::settings::ProxySetting;
        let mut d = match self {
            Scheme::SystemUser { token, key, client_secret } => {
                let (n, e) = key.public_components();
                let mut d = shared::IdentityDigest::new("system user");
                d.part(token.expose().as_bytes()).part(&n).part(&e).part(client_secret.expose().as_bytes());
                d
            }
            Scheme::OAuthRefresh { client_id, client_secret, refresh_token } => {
                let mut d = shared::IdentityDigest::new("OAuth refresh token");
                d.part(client_id.as_bytes()).part(client_secret.expose().as_bytes()).part(refresh_token.expose().as_bytes());
                d
            }
        };
        d.part(login_url.as_bytes()).part(context_identifier.as_bytes()).optional(ca_file);
        match proxy {
            ProxySetting::Direct => {
                d.part(b"direct");
            }
            ProxySetting::Url(url) => {
                d.part(b"proxy").part(url.expose().as_bytes());
            }
            ProxySetting::FromEnvironment => {
                d.part(b"environment");
                for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] {
                    let value = std::env::var(var).ok().map(zeroize::Zeroizing::new);
                    d.optional(value.as_ref().map(|v| v.as_bytes()));
                }
            }
        }
        d.finish()
    }

    /// Every secret of the scheme, for redaction.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Scheme::SystemUser { token, client_secret, .. } => vec![token.expose(), client_secret.expose()],
            Scheme::OAuthRefresh { client_secret, refresh_token, .. } => {
                vec![client_secret.expose(), refresh_token.expose()]
            }
        }
    }
}

impl std::fmt::Debug for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scheme::SystemUser { .. } => f.write_str("SystemUser(***)"),
            Scheme::OAuthRefresh { client_id, .. } => write!(f, "OAuthRefresh({client_id:?}, ***)"),
        }
    }
}

/// Not empty, no control characters (it goes into JSON, a form and a header); the
/// message names the value, never quotes it.
fn check_value(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} must not contain CR, LF or other control characters"));
    }
    Ok(())
}

/// Checks and normalises a login service URL (`https://sod.superoffice.com/login`): http
/// or https, a host, no user information, query or fragment; the trailing `/` dropped.
pub fn check_login_url(url: &str) -> Result<String, String> {
    let shown: String = crate::redact::hide_userinfo_of_url(url).chars().take(200).collect();
    let bad = |why: &str| format!("login URL '{shown}' {why}");
    let base = BaseUrl::parse(url).map_err(|_| bad("is not a valid http:// or https:// URL"))?;
    if url.contains('?') {
        return Err(bad("must not have a query or fragment"));
    }
    // BaseUrl drops a trailing /api, which a login URL never has: keep the path as given.
    let path_start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let path = url[path_start..].find('/').map(|i| &url[path_start + i..]).unwrap_or("");
    Ok(format!("{}://{}{}", base.scheme, base.authority, path.trim_end_matches('/')))
}

/// The login service of a SuperOffice Online host: `sod*.superoffice.com` is
/// `https://sod.superoffice.com/login`, `online*` is `online`, `qaonline*` and `stage*`
/// are the stage environment. None for any other host.
pub fn derive_login_url(base: &BaseUrl) -> Option<String> {
    let host = base.authority.rsplit_once(':').map_or(base.authority.as_str(), |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) { h } else { base.authority.as_str() }
    });
    let first = host.strip_suffix(".superoffice.com")?;
    if first.contains('.') {
        return None;
    }
    let env = ["qaonline", "stage", "sod", "online"].into_iter().find(|env| {
        first.strip_prefix(env).is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
    })?;
    Some(format!("https://{env}.superoffice.com/login"))
}

/// The tenant of a base URL: its first path segment (`Cust12345`).
pub fn derive_context_identifier(base: &BaseUrl) -> Option<String> {
    base.path.split('/').find(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_url_follows_the_host() {
        let login = |u: &str| derive_login_url(&BaseUrl::parse(u).unwrap());
        assert_eq!(login("https://sod2.superoffice.com/Cust1/api/").as_deref(), Some("https://sod.superoffice.com/login"));
        assert_eq!(login("https://sod.superoffice.com/Cust1").as_deref(), Some("https://sod.superoffice.com/login"));
        assert_eq!(login("https://online3.superoffice.com/Cust1").as_deref(), Some("https://online.superoffice.com/login"));
        assert_eq!(login("https://qaonline.superoffice.com/Cust1").as_deref(), Some("https://qaonline.superoffice.com/login"));
        assert_eq!(login("https://stage2.superoffice.com:443/Cust1").as_deref(), Some("https://stage.superoffice.com/login"));
        assert_eq!(login("https://crm.example.com/Cust1"), None);
        assert_eq!(login("https://sodx.superoffice.com/Cust1"), None);
        assert_eq!(login("https://a.sod.superoffice.com/Cust1"), None);
    }

    #[test]
    fn the_tenant_is_the_first_path_segment() {
        let ctx = |u: &str| derive_context_identifier(&BaseUrl::parse(u).unwrap());
        assert_eq!(ctx("https://sod2.superoffice.com/Cust12345/api/").as_deref(), Some("Cust12345"));
        assert_eq!(ctx("https://sod2.superoffice.com/"), None);
    }

    #[test]
    fn login_urls_are_checked() {
        assert_eq!(check_login_url("https://sod.superoffice.com/login/").unwrap(), "https://sod.superoffice.com/login");
        assert_eq!(check_login_url("http://127.0.0.1:8080/t/login").unwrap(), "http://127.0.0.1:8080/t/login");
        for bad in ["", "ftp://x/login", "https://u:pw-secret@h/login", "https://h/login?x=1", "login"] {
            let e = check_login_url(bad).unwrap_err();
            assert!(!e.contains("pw-secret"), "{e}");
        }
    }

    #[test]
    fn schemes_refuse_empty_and_control_values_without_quoting() {
        let key = include_str!("../../tests/keys/partner.pkcs8.pem");
        assert!(Scheme::system_user("tok", key, "secret").is_ok());
        assert!(Scheme::system_user("", key, "secret").is_err());
        assert!(Scheme::system_user("tok\n", key, "secret").is_err());
        let e = Scheme::system_user("tok", "garbage-key-text", "secret").unwrap_err();
        assert!(!e.contains("garbage-key-text"), "{e}");
        assert!(Scheme::oauth_refresh("id", "s", "").is_err());
        assert!(format!("{:?}", Scheme::oauth_refresh("id", "s3cr3t", "r3fr3sh").unwrap()).find("s3cr3t").is_none());
    }
}
