//! One credential provider per client: asked for a valid credential before each request,
//! it hands out the one its slot holds, or logs in while every other client of the same
//! slot waits for that one login (single flight). Told that the server refused the
//! credential of a generation, it renews once for every client that saw the refusal.
//!
//! A slot (`shared.rs`) is shared by the clients of one identity in the process, or is a
//! client's own when it opted out of sharing. **No lock is held across the network**: a
//! client that starts a login marks the slot as logging in, lets go of its lock, logs in
//! with its own agent, timeouts and log callback, then stores the outcome and wakes the
//! waiters. Waiters wait within their own total timeout. A failed login is not shared: a
//! client that waited for it makes its own attempt, once (or waits for another waiter's
//! attempt already under way, and makes its own only if that one fails too).
//!
//! A system user ticket lives 6 hours with sliding expiry and each exchange creates a
//! record in the tenant's database, so it is kept while it is used at least every 6 hours
//! (less a minute) and renewed when refused. An OAuth access token is renewed a minute
//! before `expires_in` runs out, and when refused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::JwkSet;
use ureq::Agent;

use super::exchange;
use super::jwt::{self, JwtRefusal};
use super::shared::{self, Key, Slot};
use super::{CredentialsError, Scheme};
use crate::log::{Level, Logger};
use crate::secret::Secret;

/// How long before `expires_in` runs out an OAuth access token is renewed, and how long
/// before its 6 idle hours a ticket is.
pub const OAUTH_MARGIN: Duration = Duration::from_secs(60);
/// A system user ticket's life: 6 hours, sliding from its last use (SuperOffice's
/// best-practices page).
pub const TICKET_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// Generations of credentials, unique in the process (a client tells a new credential
/// from the one it already took by its generation, whichever slot it came from).
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

/// A credential handed out for requests.
#[derive(Debug)]
pub struct Issued {
    /// The whole `Authorization` value: `SOTicket 7T:...` or `Bearer 8A:...`.
    pub authorization: Secret,
    /// The `SO-AppToken` value: the client secret.
    pub app_token: Secret,
    /// Unique in the process; given back in [`Provider::refused`].
    pub generation: u64,
    /// Where the tenant's API lives now (the system user JWT's `webapi_url` claim).
    pub webapi_url: Option<String>,
    /// The secrets this generation brought (ticket, token, JWT, new refresh token), for
    /// the client's redaction.
    pub secrets: Vec<Secret>,
    /// Until when it is kept: for a ticket, as of when it was obtained (it slides).
    pub expires: SystemTime,
}

/// A credential for one send, and whether this call logged in for it.
#[derive(Clone, Debug)]
pub struct Taken {
    pub issued: Arc<Issued>,
    /// This call made the login (else it took what the slot held or another client got).
    pub obtained_here: bool,
}

/// When a held credential stops being handed out.
#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// A ticket: kept while used at least every [`TICKET_LIFETIME`] less the margin.
    Sliding { last_used: Instant },
    /// An access token: renewed at this moment.
    At(Instant),
}

struct Held {
    issued: Arc<Issued>,
    expiry: Expiry,
}

impl Held {
    fn fresh(&self, now: Instant) -> bool {
        match self.expiry {
            Expiry::Sliding { last_used } => now.saturating_duration_since(last_used) < TICKET_LIFETIME - OAUTH_MARGIN,
            Expiry::At(at) => now < at,
        }
    }
}

/// The state of a slot (see `shared.rs`): what it holds and whether a login is under way.
#[derive(Default)]
pub struct SlotState {
    current: Option<Held>,
    /// The server refused the current credential.
    refused: bool,
    /// A client is logging in for this slot now.
    flying: bool,
    /// The slot was wiped (`so_credentials_forget_all`): a login landing here keeps nothing.
    forgotten: bool,
    /// The login service's JWKS, fetched on the first exchange.
    jwks: Option<JwkSet>,
    /// A newer OAuth refresh token the service gave (else the scheme's is used).
    refresh_token: Option<Secret>,
}

impl SlotState {
    /// Drops (and so wipes) everything the slot holds.
    pub(super) fn wipe(&mut self) {
        self.current = None;
        self.refresh_token = None;
        self.jwks = None;
        self.refused = false;
        self.forgotten = true;
    }

    /// Whether it holds a credential (refused or not).
    pub(super) fn holds_credential(&self) -> bool {
        self.current.is_some() || self.refresh_token.is_some()
    }

    /// Whether a slot no client holds is worth keeping in the table: a credential still
    /// valid, a newer refresh token, or a login under way.
    pub(super) fn worth_keeping(&self) -> bool {
        self.flying || self.refresh_token.is_some() || self.current.as_ref().is_some_and(|h| !self.refused && h.fresh(Instant::now()))
    }
}

/// Clears the slot's "logging in" mark and wakes its waiters when a login ends in any
/// way, a panic included.
struct Landing<'a> {
    slot: &'a Slot,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        self.slot.lock().flying = false;
        self.slot.landed.notify_all();
    }
}

/// What one login brought.
struct Obtained {
    held: Held,
    /// The JWKS, when this login fetched it.
    jwks: Option<JwkSet>,
    /// A newer refresh token.
    refresh_token: Option<Secret>,
}

/// A provider of system user tickets or OAuth access tokens for one client.
pub struct Provider {
    scheme: Scheme,
    login_url: String,
    context_identifier: String,
    key: Key,
    logger: Option<Arc<dyn Logger>>,
    /// Logins this client made.
    exchanges: AtomicU64,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("scheme", &self.scheme)
            .field("login_url", &self.login_url)
            .field("shared", &matches!(self.key, Key::Shared(_)))
            .finish_non_exhaustive()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        shared::remove(self.key);
    }
}

impl Provider {
    /// A provider for this scheme, login service and tenant, whose credentials live in
    /// the slot of `key` (an identity's digest, or [`shared::private_key`]). Nothing is
    /// sent yet.
    pub fn new(scheme: Scheme, login_url: String, context_identifier: String, key: Key, logger: Option<Arc<dyn Logger>>) -> Provider {
        Provider { scheme, login_url, context_identifier, key, logger, exchanges: AtomicU64::new(0) }
    }

    /// The login service's URL.
    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// Whether the credential is shared with the process's other clients of its identity.
    pub fn is_shared(&self) -> bool {
        matches!(self.key, Key::Shared(_))
    }

    /// How many exchanges (login or token requests) this client has made.
    pub fn exchanges(&self) -> u64 {
        self.exchanges.load(Ordering::Relaxed)
    }

    /// "system user" or "OAuth refresh token".
    pub fn kind(&self) -> &'static str {
        match self.scheme {
            Scheme::SystemUser { .. } => "system user",
            Scheme::OAuthRefresh { .. } => "OAuth refresh token",
        }
    }

    /// The tenant sent to the login service.
    pub fn context_identifier(&self) -> &str {
        &self.context_identifier
    }

    /// The identity as a log line may show it: tenant and kind, no secret.
    pub fn describe(&self) -> String {
        format!("tenant {} ({})", self.context_identifier, self.kind())
    }

    fn log(&self, level: Level, message: impl FnOnce() -> String) {
        if let Some(logger) = &self.logger {
            logger.log(level, &message());
        }
    }

    /// A valid credential: the slot's, or a new one. One login however many clients of
    /// the slot ask at once; a waiter gives up at `deadline`.
    pub fn credential(&self, agent: &Agent, deadline: Option<Instant>) -> Result<Taken, CredentialsError> {
        let slot = shared::slot(self.key);
        let mut state = slot.lock();
        loop {
            let now = Instant::now();
            if !state.refused {
                if let Some(held) = &mut state.current {
                    if held.fresh(now) {
                        if let Expiry::Sliding { last_used } = &mut held.expiry {
                            *last_used = now;
                        }
                        return Ok(Taken { issued: Arc::clone(&held.issued), obtained_here: false });
                    }
                }
            }
            if !state.flying {
                break;
            }
            // Another client of the slot is logging in: wait for it, within this call's time.
            state = match deadline {
                None => slot.landed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(now);
                    if left.is_zero() {
                        return Err(CredentialsError::new(format!(
                            "gave up waiting for another client's login to the login service at {} (the total timeout expired)",
                            self.login_url
                        )));
                    }
                    slot.landed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0
                }
            };
        }
        // This call logs in: mark the slot, take what the login needs, let go of the lock.
        state.flying = true;
        let jwks = state.jwks.clone();
        let refresh_token = state.refresh_token.clone();
        drop(state);
        let landing = Landing { slot: &slot };
        self.exchanges.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = self.obtain(agent, jwks, refresh_token);
        let mut state = slot.lock();
        match outcome {
            Ok(obtained) => {
                let issued = Arc::clone(&obtained.held.issued);
                if obtained.jwks.is_some() {
                    state.jwks = obtained.jwks;
                }
                if !state.forgotten {
                    if obtained.refresh_token.is_some() {
                        state.refresh_token = obtained.refresh_token;
                    }
                    state.current = Some(obtained.held);
                    state.refused = false;
                }
                let kept = if state.forgotten { "kept by no one (the credentials were forgotten meanwhile)".to_string() } else { self.kept(&issued) };
                drop(state);
                drop(landing); // the waiters take it now, before the log line is written
                self.log(Level::Info, || {
                    format!(
                        "login for {} at {}: obtained in {:.1} ms; {kept}",
                        self.describe(),
                        self.login_url,
                        started.elapsed().as_secs_f64() * 1000.0
                    )
                });
                Ok(Taken { issued, obtained_here: true })
            }
            Err(e) => {
                drop(state);
                drop(landing);
                self.log(Level::Warn, || format!("login for {} at {}: refused: {e}", self.describe(), self.login_url));
                Err(e)
            }
        }
    }

    /// How long a credential is kept, as the login line says it.
    fn kept(&self, issued: &Issued) -> String {
        let whose = if self.is_shared() { "shared with this process's clients of the same identity" } else { "kept by this client only" };
        match self.scheme {
            Scheme::SystemUser { .. } => format!("ticket kept while it is used at least every 6 hours (sliding), or until refused; {whose}"),
            Scheme::OAuthRefresh { .. } => {
                let left = issued.expires.duration_since(SystemTime::now()).unwrap_or_default();
                format!("access token kept {} (expires_in less a minute), or until refused; {whose}", crate::retry::human(Duration::from_secs(left.as_secs())))
            }
        }
    }

    /// The server refused the credential of `generation`: the next [`credential`] call
    /// of any client of the slot renews it (once, however many clients report the same
    /// generation; a client that already holds a newer one renews nothing).
    ///
    /// [`credential`]: Provider::credential
    pub fn refused(&self, generation: u64) {
        let slot = shared::slot(self.key);
        let mut state = slot.lock();
        if state.current.as_ref().is_some_and(|h| h.issued.generation == generation) {
            state.refused = true;
        }
    }

    /// One login, with no lock held.
    fn obtain(&self, agent: &Agent, jwks: Option<JwkSet>, refresh_token: Option<Secret>) -> Result<Obtained, CredentialsError> {
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.scheme {
            Scheme::SystemUser { token, key, client_secret } => {
                let signed = exchange::signed_system_token(token.expose(), key, SystemTime::now())?;
                let jwt = exchange::authenticate(agent, &self.login_url, &signed, client_secret, &self.context_identifier)?;
                let (claims, fetched) = self.check_jwt(agent, jwks, &jwt)?;
                let issued = issue(
                    "SOTicket",
                    &claims.ticket,
                    client_secret,
                    generation,
                    claims.webapi_url,
                    vec![claims.ticket.clone(), jwt.token],
                    SystemTime::now() + TICKET_LIFETIME,
                );
                Ok(Obtained { held: Held { issued, expiry: Expiry::Sliding { last_used: Instant::now() } }, jwks: fetched, refresh_token: None })
            }
            Scheme::OAuthRefresh { client_id, client_secret, refresh_token: given } => {
                let refresh_token = refresh_token.unwrap_or_else(|| given.clone());
                let answer = exchange::refresh_access_token(agent, &self.login_url, client_id, client_secret, &refresh_token)?;
                let mut secrets = vec![answer.access_token.clone()];
                if let Some(new) = &answer.refresh_token {
                    secrets.push(new.clone());
                }
                // An `expires_in` of a minute or less is renewed at once (never reused).
                let life = answer.expires_in.map_or(Duration::from_secs(3600), Duration::from_secs).saturating_sub(OAUTH_MARGIN);
                let issued = issue("Bearer", &answer.access_token, client_secret, generation, None, secrets, SystemTime::now() + life);
                Ok(Obtained {
                    held: Held { issued, expiry: Expiry::At(Instant::now() + life) },
                    jwks: None,
                    refresh_token: answer.refresh_token,
                })
            }
        }
    }

    /// Checks the JWT against the JWKS; fetches the JWKS first when there is none, and
    /// once more when the token names a key it lacks. Gives the JWKS it fetched, if any.
    fn check_jwt(
        &self,
        agent: &Agent,
        jwks: Option<JwkSet>,
        jwt: &exchange::LoginJwt,
    ) -> Result<(jwt::SystemUserClaims, Option<JwkSet>), CredentialsError> {
        let refused = |refusal: JwtRefusal| {
            let (timing, why) = match refusal {
                JwtRefusal::Timing(why) => (true, why),
                JwtRefusal::UnknownKey(why) | JwtRefusal::Check(why) => (false, why),
            };
            let mut message = format!("the login service's JWT was refused: {why}");
            if timing {
                if let Some(claim) = exchange::clock_claim(jwt.server_date, SystemTime::now()) {
                    message.push_str(&format!(
                        "; {claim}; the JWT's validity (nbf/exp) is checked against this machine's time, so it fails: correct the clock"
                    ));
                }
            }
            CredentialsError::new(message)
        };
        let mut fetched = None;
        let jwks = match jwks {
            Some(j) => j,
            None => {
                let j = exchange::fetch_jwks(agent, &self.login_url)?;
                fetched = Some(j.clone());
                j
            }
        };
        match jwt::validate(jwt.token.expose(), &jwks) {
            Ok(claims) => Ok((claims, fetched)),
            Err(JwtRefusal::UnknownKey(_)) => {
                // Keys rotate (and a cache may be stale): fetch the JWKS again, once.
                let jwks = exchange::fetch_jwks(agent, &self.login_url)?;
                let claims = jwt::validate(jwt.token.expose(), &jwks).map_err(refused)?;
                Ok((claims, Some(jwks)))
            }
            Err(other) => Err(refused(other)),
        }
    }
}

/// A new credential, sent as `Authorization: {scheme} {credential}` (allocated at its
/// final size: a growing buffer would leave an unwiped copy of its start behind).
fn issue(
    scheme: &str,
    credential: &Secret,
    app_token: &Secret,
    generation: u64,
    webapi_url: Option<String>,
    secrets: Vec<Secret>,
    expires: SystemTime,
) -> Arc<Issued> {
    let mut authorization = String::with_capacity(scheme.len() + 1 + credential.expose().len());
    authorization.push_str(scheme);
    authorization.push(' ');
    authorization.push_str(credential.expose());
    Arc::new(Issued { authorization: Secret::new(authorization), app_token: app_token.clone(), generation, webapi_url, secrets, expires })
}
