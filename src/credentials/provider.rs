//! One credential provider per client: asked for a valid credential before each request,
//! it hands out the cached one, or gets a new one from the login service while every
//! other thread that asks waits for that one exchange (single flight). Told that the
//! server refused the credential of a generation, it renews once for all the threads
//! that saw the refusal.
//!
//! A system user ticket lives 6 hours with sliding expiry and each exchange creates a
//! record in the tenant's database, so it is renewed only when refused. An OAuth access
//! token is renewed a minute before `expires_in` runs out, and when refused.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::JwkSet;
use ureq::Agent;

use super::exchange;
use super::jwt::{self, JwtRefusal};
use super::{CredentialsError, Scheme};
use crate::secret::Secret;

/// How long before `expires_in` runs out an OAuth access token is renewed.
pub const OAUTH_MARGIN: Duration = Duration::from_secs(60);

/// A credential handed out for one request.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The whole `Authorization` value: `SOTicket 7T:...` or `Bearer 8A:...`.
    pub authorization: Secret,
    /// The `SO-AppToken` value: the client secret.
    pub app_token: Secret,
    /// Bumped by every new credential; given back in [`Provider::refused`].
    pub generation: u64,
    /// Where the tenant's API lives now (the system user JWT's `webapi_url` claim).
    pub webapi_url: Option<String>,
    /// The secrets this generation brought (ticket, token, JWT, new refresh token), for
    /// the client's redaction.
    pub secrets: Vec<Secret>,
}

struct Held {
    issued: Issued,
    /// When an OAuth access token should be renewed.
    renew_at: Option<Instant>,
}

impl Held {
    /// A new credential, sent as `Authorization: {scheme} {credential}` (allocated at its
    /// final size: a growing buffer would leave an unwiped copy of its start behind).
    fn new(scheme: &str, credential: &Secret, app_token: &Secret, webapi_url: Option<String>, secrets: Vec<Secret>) -> Held {
        let mut authorization = String::with_capacity(scheme.len() + 1 + credential.expose().len());
        authorization.push_str(scheme);
        authorization.push(' ');
        authorization.push_str(credential.expose());
        let issued = Issued { authorization: Secret::new(authorization), app_token: app_token.clone(), generation: 0, webapi_url, secrets };
        Held { issued, renew_at: None }
    }
}

#[derive(Default)]
struct State {
    current: Option<Held>,
    generation: u64,
    /// The server refused the current credential.
    refused: bool,
    /// The last exchange's failure and when it ended: threads that were waiting for that
    /// exchange get its answer instead of starting one each.
    failure: Option<(Instant, CredentialsError)>,
    /// The login service's JWKS, fetched on the first exchange.
    jwks: Option<JwkSet>,
    /// The OAuth refresh token in use (the scheme's, or a newer one the service gave).
    refresh_token: Option<Secret>,
    /// Exchanges made (login requests sent), for the log and the tests.
    exchanges: u64,
}

/// A provider of system user tickets or OAuth access tokens for one client.
pub struct Provider {
    scheme: Scheme,
    login_url: String,
    context_identifier: String,
    state: Mutex<State>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("scheme", &self.scheme)
            .field("login_url", &self.login_url)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// A provider for this scheme, login service and tenant. Nothing is sent yet.
    pub fn new(scheme: Scheme, login_url: String, context_identifier: String) -> Provider {
        let refresh_token = match &scheme {
            Scheme::OAuthRefresh { refresh_token, .. } => Some(refresh_token.clone()),
            Scheme::SystemUser { .. } => None,
        };
        Provider {
            scheme,
            login_url,
            context_identifier,
            state: Mutex::new(State { refresh_token, ..State::default() }),
        }
    }

    /// The login service's URL.
    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// How many exchanges (login or token requests) this provider has made.
    pub fn exchanges(&self) -> u64 {
        self.lock().exchanges
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A valid credential: the cached one, or a new one (one exchange however many
    /// threads ask at once; those that waited for a failed exchange get its error).
    pub fn credential(&self, agent: &Agent) -> Result<Issued, CredentialsError> {
        let asked = Instant::now();
        let mut state = self.lock();
        if let Some(held) = &state.current {
            let expiring = held.renew_at.is_some_and(|at| Instant::now() >= at);
            if !state.refused && !expiring {
                return Ok(held.issued.clone());
            }
        }
        if let Some((ended, error)) = &state.failure {
            if *ended >= asked {
                return Err(error.clone());
            }
        }
        state.exchanges += 1;
        match self.obtain(agent, &mut state) {
            Ok(mut held) => {
                state.generation += 1;
                held.issued.generation = state.generation;
                state.refused = false;
                state.failure = None;
                let issued = held.issued.clone();
                state.current = Some(held);
                Ok(issued)
            }
            Err(e) => {
                state.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// The server refused the credential of `generation`: the next [`credential`] call
    /// renews it (once, however many threads report the same generation).
    ///
    /// [`credential`]: Provider::credential
    pub fn refused(&self, generation: u64) {
        let mut state = self.lock();
        if state.generation == generation && state.current.is_some() {
            state.refused = true;
        }
    }

    fn obtain(&self, agent: &Agent, state: &mut State) -> Result<Held, CredentialsError> {
        match &self.scheme {
            Scheme::SystemUser { token, key, client_secret } => {
                let signed = exchange::signed_system_token(token.expose(), key, SystemTime::now())?;
                let jwt = exchange::authenticate(agent, &self.login_url, &signed, client_secret, &self.context_identifier)?;
                let claims = self.check_jwt(agent, state, &jwt)?;
                Ok(Held::new("SOTicket", &claims.ticket, client_secret, claims.webapi_url, vec![claims.ticket.clone(), jwt]))
            }
            Scheme::OAuthRefresh { client_id, client_secret, .. } => {
                let refresh_token = state.refresh_token.clone().ok_or_else(|| CredentialsError::new("no refresh token"))?;
                let answer = exchange::refresh_access_token(agent, &self.login_url, client_id, client_secret, &refresh_token)?;
                let mut secrets = vec![answer.access_token.clone()];
                if let Some(new) = answer.refresh_token {
                    secrets.push(new.clone());
                    state.refresh_token = Some(new);
                }
                let renew_at = answer
                    .expires_in
                    .map(|s| Instant::now() + Duration::from_secs(s).saturating_sub(OAUTH_MARGIN));
                Ok(Held { renew_at, ..Held::new("Bearer", &answer.access_token, client_secret, None, secrets) })
            }
        }
    }

    /// Checks the JWT against the cached JWKS; fetches the JWKS first when there is none,
    /// and once more when the token names a key it lacks (once per exchange).
    fn check_jwt(&self, agent: &Agent, state: &mut State, token: &Secret) -> Result<jwt::SystemUserClaims, CredentialsError> {
        let refused = |why: String| CredentialsError::new(format!("the login service's JWT was refused: {why}"));
        if state.jwks.is_none() {
            state.jwks = Some(exchange::fetch_jwks(agent, &self.login_url)?);
        }
        let jwks = state.jwks.as_ref().expect("fetched above");
        match jwt::validate(token.expose(), jwks) {
            Ok(claims) => Ok(claims),
            Err(JwtRefusal::UnknownKey(_)) => {
                // Keys rotate (and a cache may be stale): fetch the JWKS again, once.
                state.jwks = Some(exchange::fetch_jwks(agent, &self.login_url)?);
                let jwks = state.jwks.as_ref().expect("fetched above");
                jwt::validate(token.expose(), jwks).map_err(|r| match r {
                    JwtRefusal::UnknownKey(why) | JwtRefusal::Check(why) => refused(why),
                })
            }
            Err(JwtRefusal::Check(why)) => Err(refused(why)),
        }
    }
}
