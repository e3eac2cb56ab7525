//! The client's credentials: what the provider (system user, OAuth refresh token) issues,
//! the tenant's API followed to another host, and the credentials callback's refresh after
//! a 401.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use ureq::http::HeaderValue;
use ureq::Agent;

use super::Client;
use crate::credentials::{Issued, Provider};
use crate::error::{Error, ErrorKind};
use crate::log::Level;
use crate::request::{secret_header_value, PreparedRequest};
use crate::settings::Auth;

/// What [`Client::check_credential`] obtained: never a secret.
#[derive(Clone, Debug)]
pub struct CredentialInfo {
    /// "system user" or "OAuth refresh token".
    pub kind: &'static str,
    /// The login service.
    pub login_url: String,
    /// Until when it is kept (a ticket: if unused until then; each use extends it).
    pub expires: std::time::SystemTime,
    /// Whether each use extends it (a ticket).
    pub sliding: bool,
    /// The tenant's API as the login service names it (a system user's `webapi_url`).
    pub webapi_url: Option<String>,
    /// The endpoint the client sends to now (followed to `webapi_url`'s host).
    pub api_url: String,
}

impl Client {
    /// How many exchanges with the login service this client made (0 without a system
    /// user or OAuth refresh token).
    pub fn login_exchanges(&self) -> u64 {
        self.provider.as_ref().map_or(0, Provider::exchanges)
    }

    /// A credential from the provider for the next attempt: `Authorization` and its
    /// generation. A new generation's secrets join the redaction list, and its
    /// `webapi_url` is followed when it names another host. A client that takes a
    /// credential another client obtained says so in its log, once per credential.
    pub(super) fn provided_auth(&self, provider: &Provider, agent: &Agent, deadline: Option<Instant>) -> Result<(HeaderValue, Arc<Issued>), Error> {
        // No credential: no request goes to the API, so the e-mail was not sent.
        let taken = provider.credential(agent, deadline).map_err(|e| {
            Error::not_sent(ErrorKind::Credentials, self.hide(&e.0)).with_delivery_words()
        })?;
        let issued = &taken.issued;
        if self.provider_seen.swap(issued.generation, Ordering::AcqRel) != issued.generation {
            {
                let mut secrets = self.secrets.write().unwrap_or_else(|p| p.into_inner());
                for secret in &issued.secrets {
                    secrets.add(secret.expose());
                }
            }
            if let Some(url) = &issued.webapi_url {
                self.follow(url);
            }
            if !taken.obtained_here {
                self.log(Level::Info, || format!(
                    "took a shared credential for {} from the login service at {} (another client of the same identity obtained it)",
                    provider.describe(),
                    provider.login_url()
                ));
            }
        }
        let header = secret_header_value(zeroize::Zeroizing::new(issued.authorization.expose().to_string()))?;
        Ok((header, taken.issued))
    }

    /// Gets the credential now (a login, or the shared one) without sending anything to
    /// the API; nothing to do for a ticket, token or Basic credentials given.
    pub fn authenticate(&self) -> Result<(), Error> {
        self.check_credential().map(drop)
    }

    /// [`Client::authenticate`], and what was obtained (no secret): `None` for a ticket,
    /// token or Basic credentials given, which are neither obtained nor verified.
    pub fn check_credential(&self) -> Result<Option<CredentialInfo>, Error> {
        let Some(provider) = &self.provider else { return Ok(None) };
        let started = Instant::now();
        let deadline = self.settings.total_timeout.map(|t| started + t);
        let agent = self.agent.get();
        match self.provided_auth(provider, &agent, deadline) {
            Ok((_, issued)) => Ok(Some(CredentialInfo {
                kind: provider.kind(),
                login_url: provider.login_url().to_string(),
                expires: issued.expires,
                sliding: provider.kind() == "system user",
                webapi_url: issued.webapi_url.clone(),
                api_url: self.prepared().shown_url.clone(),
            })),
            Err(mut e) => {
                // Nothing was to be sent: the delivery's words ("it was not sent") say nothing here.
                if let Some(words) = e.delivery.words() {
                    if let Some(head) = e.message.strip_suffix(&format!("; {words}")) {
                        e.message = head.to_string();
                    }
                }
                self.log(Level::Error, || format!("{} [{:.1} ms]", e.message, started.elapsed().as_secs_f64() * 1000.0));
                Err(e)
            }
        }
    }

    /// Whether the client gets its credential from the login service (system user, OAuth).
    pub fn provider(&self) -> Option<&Provider> {
        self.provider.as_ref()
    }

    /// Sends requests to the tenant's API where the login service says it lives now,
    /// when that is another host (tenants move; the old host answers 421).
    fn follow(&self, webapi_url: &str) {
        let Ok(target) = crate::settings::BaseUrl::parse(webapi_url) else {
            self.log(Level::Warn, || "the login service's webapi_url is not a valid URL; kept the base URL".into());
            return;
        };
        let current = self.prepared();
        let base = &self.settings.base;
        if target.scheme == base.scheme && target.authority == base.authority {
            return;
        }
        let mut moved = self.settings.clone();
        moved.base = target;
        match PreparedRequest::new(&moved) {
            Ok(p) if p.uri != current.uri => {
                let shown = p.shown_url.clone();
                *self.prepared.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
                self.log(Level::Warn, || format!(
                    "the tenant's API lives at another host now (the login service's webapi_url): requests go to {shown}"
                ));
            }
            Ok(_) => {}
            Err(_) => self.log(Level::Warn, || "the login service's webapi_url cannot be used; kept the base URL".into()),
        }
    }

    pub(super) fn current_auth(&self) -> (Option<HeaderValue>, u64) {
        let state = self.auth.read().unwrap_or_else(|p| p.into_inner());
        (state.header.clone(), state.generation)
    }

    /// After a 401: asks for a fresh credential once per generation, however many threads
    /// saw the 401. True when a fresh credential is in place to retry with.
    pub(super) fn refresh_credentials(&self, seen_generation: u64) -> bool {
        let Some(provider) = &self.settings.credentials else { return false };
        let _one_at_a_time = self.refresh.lock().unwrap_or_else(|p| p.into_inner());
        {
            let state = self.auth.read().unwrap_or_else(|p| p.into_inner());
            if state.generation != seen_generation {
                return true; // another thread refreshed while this one waited
            }
            if !matches!(state.auth, Auth::Ticket(_) | Auth::Bearer(_)) {
                return false;
            }
        }
        let Some(fresh) = provider.fresh_credential() else {
            self.log(Level::Warn, || "the credentials callback gave no fresh credential".into());
            return false;
        };
        self.secrets.write().unwrap_or_else(|p| p.into_inner()).add(fresh.expose());
        let mut state = self.auth.write().unwrap_or_else(|p| p.into_inner());
        let refreshed = match state.auth.refreshed(fresh.expose()) {
            Some(Ok(a)) => a,
            _ => {
                drop(state);
                self.log(Level::Warn, || "the credentials callback gave an unusable credential".into());
                return false;
            }
        };
        let header = match refreshed.header_value().map(secret_header_value) {
            Some(Ok(h)) => h,
            _ => return false,
        };
        state.auth = refreshed;
        state.header = Some(header);
        state.generation += 1;
        drop(state);
        self.log(Level::Warn, || "credentials refreshed after 401 Unauthorized".into());
        true
    }
}
