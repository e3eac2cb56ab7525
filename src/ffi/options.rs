//! `so_options`: the builder of a client's settings.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{free_box, guard_new, guard_result, opt_str_arg, so_result, str_arg, try_mut};
use crate::error::Error;
use crate::log::{Level, Logger};
use crate::settings::{CredentialsProvider, Secret, Settings, SettingsBuilder};

/// Opaque builder for a client's settings. Not thread-safe: one thread fills it in,
/// then hands it to `so_client_new` (which copies what it needs). Free it with
/// `so_options_free`.
pub struct so_options {
    pub(crate) builder: SettingsBuilder,
}

/// Size of the buffer handed to a credentials callback.
pub const SO_CREDENTIALS_BUFFER_LEN: usize = 8192;

/// Asked for a fresh ticket or access token after a 401 Unauthorized: write it (UTF-8,
/// no NUL needed) into `buffer` (`buffer_len` bytes, 8 KiB) and return its length in
/// bytes; return 0 or less when there is none. May be called from any thread that sends
/// through the client, one call at a time per client.
pub type so_credentials_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buffer: *mut c_char, buffer_len: usize) -> i32>;

/// Receives one log line: `level` is one of `SO_LOG_ERROR` (1), `SO_LOG_WARN` (2),
/// `SO_LOG_INFO` (3), `SO_LOG_DEBUG` (4); `message` is valid only during the call.
/// Called on the thread that sends. Lines never hold secrets.
pub type so_log_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, level: i32, message: *const c_char)>;

/// Log level: a call failed.
pub const SO_LOG_ERROR: i32 = 1;
/// Log level: a request will be retried, or credentials were refreshed.
pub const SO_LOG_WARN: i32 = 2;
/// Log level: one line per request (method, URL, status, duration, retries).
pub const SO_LOG_INFO: i32 = 3;
/// Log level: details.
pub const SO_LOG_DEBUG: i32 = 4;

struct CCredentials {
    callback: unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> i32,
    userdata: *mut c_void,
}

// SAFETY: the header requires the callback and its userdata to be usable from any thread.
unsafe impl Send for CCredentials {}
// SAFETY: as above; the client calls it one thread at a time.
unsafe impl Sync for CCredentials {}

impl CredentialsProvider for CCredentials {
    fn fresh_credential(&self) -> Option<Secret> {
        let mut buffer = Zeroizing::new(vec![0u8; SO_CREDENTIALS_BUFFER_LEN]);
        // SAFETY: the buffer is valid for its length for the duration of the call.
        let n = unsafe { (self.callback)(self.userdata, buffer.as_mut_ptr().cast(), buffer.len()) };
        if n <= 0 || n as usize > buffer.len() {
            return None;
        }
        let text = std::str::from_utf8(&buffer[..n as usize]).ok()?;
        Some(Secret::new(text))
    }
}

struct CLogger {
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    userdata: *mut c_void,
}

// SAFETY: the header requires the callback and its userdata to be usable from any thread.
unsafe impl Send for CLogger {}
// SAFETY: as above.
unsafe impl Sync for CLogger {}

impl Logger for CLogger {
    fn log(&self, level: Level, message: &str) {
        let line = CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the line is a valid C string for the duration of the call.
        unsafe { (self.callback)(self.userdata, level as i32, line.as_ptr()) }
    }
}

/// Creates settings for the installation or tenant at `base_url`, e.g.
/// "https://sod.superoffice.com/Cust12345" (a trailing "/", "/api" or "/api/" is
/// accepted). Only http and https; no user information, query or fragment.
///
/// Returns NULL on error (NULL, not UTF-8, malformed URL) with the thread's last error
/// set. Free the result with `so_options_free`.
#[no_mangle]
pub extern "C" fn so_options_new(base_url: *const c_char) -> *mut so_options {
    guard_new(|| Ok(so_options { builder: Settings::builder(str_arg(base_url, "base_url")?)? }))
}

/// The body of a setter: the options checked for NULL, then one builder method.
pub(crate) fn with_options(
    o: *mut so_options,
    set: impl FnOnce(&mut SettingsBuilder) -> Result<&mut SettingsBuilder, Error>,
) -> so_result {
    guard_result(|| set(&mut try_mut(o, "options")?.builder).map(drop))
}

/// Authenticates with `Authorization: Basic base64(username:password)` (onsite
/// installations). Replaces any other scheme set before. The user name must not be
/// empty or contain ':'; neither may contain control characters.
#[no_mangle]
pub extern "C" fn so_options_set_basic_auth(
    o: *mut so_options,
    username: *const c_char,
    password: *const c_char,
) -> so_result {
    with_options(o, |b| b.basic_auth(str_arg(username, "username")?, str_arg(password, "password")?))
}

/// Authenticates with `Authorization: SOTicket <ticket>` (the ticket is sent as is).
/// Replaces any other scheme set before.
#[no_mangle]
pub extern "C" fn so_options_set_ticket(o: *mut so_options, ticket: *const c_char) -> so_result {
    with_options(o, |b| b.ticket(str_arg(ticket, "ticket")?))
}

/// Authenticates with `Authorization: Bearer <access_token>` (SuperOffice Online).
/// Replaces any other scheme set before.
#[no_mangle]
pub extern "C" fn so_options_set_bearer_token(o: *mut so_options, access_token: *const c_char) -> so_result {
    with_options(o, |b| b.bearer_token(str_arg(access_token, "access_token")?))
}

/// SuperOffice Online system user: the library signs, exchanges, validates and renews.
///
/// `system_user_token` is the tenant's system user token, signed exactly as received;
/// `private_key` is the partner's RSA key's text (PEM PKCS#1 `BEGIN RSA PRIVATE KEY`,
/// PEM PKCS#8 `BEGIN PRIVATE KEY`, or .NET `<RSAKeyValue>` XML), read now: a key that
/// cannot be read is `SO_ERR_INVALID_ARGUMENT` and the message quotes none of it.
/// `client_secret` is sent as `ApplicationToken` to the login service and becomes the
/// app token (`SO-AppToken`) unless `so_options_set_app_token` is called later.
/// Replaces any other scheme (the last one set wins).
///
/// The client gets its ticket on its first send or `so_client_authenticate` (one login
/// request however many threads, and clients of the same identity, need it at once: see
/// `so_options_set_shared_credentials`), validates the login service's JWT (RS256, a JWKS key chosen by `kid`,
/// issuer "SuperOffice AS", audience "spn:" + serial, expiry with 5 minutes of skew),
/// sends `Authorization: SOTicket <ticket>`, and reuses the ticket: on a 401 it gets a
/// new one and sends that request once more, never twice. When no ticket can be had the
/// send fails with `SO_ERR_CREDENTIALS` and nothing is sent to the API. Every value
/// here, and every ticket obtained, is a secret: never in messages or log lines.
#[no_mangle]
pub extern "C" fn so_options_set_system_user(
    o: *mut so_options,
    system_user_token: *const c_char,
    private_key: *const c_char,
    client_secret: *const c_char,
) -> so_result {
    with_options(o, |b| {
        let token = str_arg(system_user_token, "system_user_token")?;
        let key = str_arg(private_key, "private_key")?;
        b.system_user(token, key, str_arg(client_secret, "client_secret")?)
    })
}

/// OAuth 2.0 refresh token flow (an app a user consented to): the client gets a Bearer
/// access token from `{login}/common/oauth/tokens` on its first send (shared with the
/// process's clients of the same identity, see `so_options_set_shared_credentials`), renews it a minute
/// before `expires_in` runs out and on a 401 (then sends that request once more), and
/// uses a new refresh token when the answer carries one. `client_secret` becomes the
/// app token unless `so_options_set_app_token` is called later. Replaces any other
/// scheme. Failures to get a token are `SO_ERR_CREDENTIALS`.
#[no_mangle]
pub extern "C" fn so_options_set_oauth_refresh(
    o: *mut so_options,
    client_id: *const c_char,
    client_secret: *const c_char,
    refresh_token: *const c_char,
) -> so_result {
    with_options(o, |b| {
        let id = str_arg(client_id, "client_id")?;
        let secret = str_arg(client_secret, "client_secret")?;
        b.oauth_refresh(id, secret, str_arg(refresh_token, "refresh_token")?)
    })
}

/// SuperOffice's login service, e.g. "https://sod.superoffice.com/login" (http or https,
/// no user information, query or fragment). NULL: derived from the base URL's host
/// (`sod*.superoffice.com` is `sod`, `online*` is `online`, `qaonline*` and `stage*`
/// the stage environment); `so_client_new` fails with `SO_ERR_INVALID_ARGUMENT` when a
/// system user or OAuth scheme is set and no login service is known.
#[no_mangle]
pub extern "C" fn so_options_set_login_url(o: *mut so_options, url: *const c_char) -> so_result {
    with_options(o, |b| b.login_url(opt_str_arg(url, "url")?))
}

/// The tenant, e.g. "Cust12345", sent to the login service as `ContextIdentifier`. NULL:
/// the base URL's first path segment.
#[no_mangle]
pub extern "C" fn so_options_set_context_identifier(o: *mut so_options, context_identifier: *const c_char) -> so_result {
    with_options(o, |b| b.context_identifier(opt_str_arg(context_identifier, "context_identifier")?))
}

/// Whether a credential the client gets from the login service (a system user ticket, an
/// OAuth access token) is shared with this process's other clients of the same identity:
/// 1 (the default) shares it, 0 makes the client keep its own (one login per client).
///
/// The identity is everything that decides what the login service answers: the scheme
/// (system user or OAuth), the login URL and the tenant, the system user token, the
/// private key and the client secret (or the OAuth client id, client secret and refresh
/// token), the CA file's contents and the proxy. Clients that differ in any of it never
/// share. Shared are the ticket or access token, its expiry and the tenant's
/// `webapi_url`, in memory only; the table's keys are SHA-256 digests, never the
/// secrets. A shared credential is kept until the server refuses it (a 401 on any
/// client renews it once for all of them), until it expires (an access token's
/// `expires_in`; a ticket's 6 hours, sliding from its last use), or until
/// `so_credentials_forget_all`; it outlives the clients that used it (see
/// `so_client_free`). One login however many clients of an identity need it at once:
/// the others wait for it within their own total timeout; a failed login is not shared
/// (each waiting client then tries once itself). Any other value than 0 or 1 is
/// `SO_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn so_options_set_shared_credentials(o: *mut so_options, shared: i32) -> so_result {
    with_options(o, |b| match shared {
        0 | 1 => Ok(b.shared_credentials(shared == 1)),
        _ => Err(Error::invalid(format!("shared must be 0 or 1, not {shared}"))),
    })
}

/// Sends `SO-AppToken: <app_token>` (the partner application's secret). NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_app_token(o: *mut so_options, app_token: *const c_char) -> so_result {
    with_options(o, |b| b.app_token(opt_str_arg(app_token, "app_token")?))
}

/// Sends `X-XSRF-TOKEN: <xsrf_token>`, beside any authentication scheme. NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_xsrf_token(o: *mut so_options, xsrf_token: *const c_char) -> so_result {
    with_options(o, |b| b.xsrf_token(opt_str_arg(xsrf_token, "xsrf_token")?))
}

/// Sends `Accept-Language` and `SO-Language` (e.g. "sv", "nb-no"). NULL clears them.
#[no_mangle]
pub extern "C" fn so_options_set_language(o: *mut so_options, language: *const c_char) -> so_result {
    with_options(o, |b| b.language(opt_str_arg(language, "language")?))
}

/// Sends `SO-Culture` (number and date formatting, e.g. "sv-SE"). NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_culture(o: *mut so_options, culture: *const c_char) -> so_result {
    with_options(o, |b| b.culture(opt_str_arg(culture, "culture")?))
}

/// Sends `SO-TimeZone` (e.g. "UTC"). NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_timezone(o: *mut so_options, timezone: *const c_char) -> so_result {
    with_options(o, |b| b.timezone(opt_str_arg(timezone, "timezone")?))
}

/// Adds `?$select=<select>` to the URL, percent-encoded where a query needs it (commas
/// and slashes stay as they are). NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_select(o: *mut so_options, select: *const c_char) -> so_result {
    with_options(o, |b| b.select(opt_str_arg(select, "select")?))
}

/// Sets the connect and total timeouts in milliseconds; 0 means no limit. Defaults:
/// 10,000 and 30,000. The total covers the whole call: connecting, sending, reading the
/// answer, every retry and every `Retry-After` wait. A connect limit larger than the
/// total is cut to the total.
///
/// Both hold under signals: a system call interrupted by a signal (EINTR, as a garbage
/// collector's signals cause) is resumed within the same deadline. A total of 0 is
/// therefore passed to the HTTP stack as a finite limit of 30 days, because it gives up
/// on an interrupted call when it has no limit at all; a connect of 0 has no limit.
///
/// Name lookups: an IP literal in the base URL is used as is (no lookup); a host name's
/// answer is kept 60 seconds, so only the first send in that time spends part of the
/// timeouts on the lookup; a failed lookup is not kept.
#[no_mangle]
pub extern "C" fn so_options_set_timeout_ms(o: *mut so_options, connect_ms: u32, total_ms: u32) -> so_result {
    with_options(o, |b| Ok(b.timeouts_ms(connect_ms, total_ms)))
}

/// Sets how many times a request the server provably did not process (the connection
/// could not be made, 429, 503) is sent again; default 2, 0 disables, at most 10.
/// Waits honour `Retry-After`, else exponential backoff with jitter, never past the
/// total timeout.
#[no_mangle]
pub extern "C" fn so_options_set_max_retries(o: *mut so_options, max_retries: u32) -> so_result {
    with_options(o, |b| b.max_retries(max_retries))
}

/// Trusts the certificate authorities of the PEM file `pem_path` in addition to the
/// default ones (the operating system's trust store, or Mozilla's roots bundled in the
/// library when the system has none). The file is read now and again by
/// `so_client_new`. NULL clears it.
#[no_mangle]
pub extern "C" fn so_options_set_ca_file(o: *mut so_options, pem_path: *const c_char) -> so_result {
    with_options(o, |b| b.ca_file(opt_str_arg(pem_path, "pem_path")?))
}

/// Chooses the proxy: a URL such as "http://user:password@proxy:3128" (https targets go
/// through CONNECT; the credentials are never logged), "" for no proxy at all, or NULL
/// for the default: the `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`
/// environment variables, read when the client is created.
#[no_mangle]
pub extern "C" fn so_options_set_proxy(o: *mut so_options, proxy_url: *const c_char) -> so_result {
    with_options(o, |b| b.proxy(opt_str_arg(proxy_url, "proxy_url")?))
}

/// Sets the callback asked for a fresh ticket or access token when the server answers
/// 401 to a client using ticket or bearer authentication; the request is then sent once
/// more with it (a 401 was not processed, so this is safe). When many threads meet a 401
/// at once, the callback is called once. `userdata` is passed back as is; it and the
/// callback must stay valid, and usable from any thread, while a client made from these
/// options lives. NULL `callback` clears it.
#[no_mangle]
pub extern "C" fn so_options_set_credentials_callback(
    o: *mut so_options,
    callback: so_credentials_callback,
    userdata: *mut c_void,
) -> so_result {
    with_options(o, |b| {
        Ok(b.credentials(callback.map(|callback| {
            Arc::new(CCredentials { callback, userdata }) as Arc<dyn CredentialsProvider>
        })))
    })
}

/// Sets the callback that receives log lines of clients made from these options: one
/// line per request at `SO_LOG_INFO` with method, URL, status, duration and retries;
/// failures at `SO_LOG_ERROR`; retries and credential refreshes at `SO_LOG_WARN`. Lines
/// never hold passwords, tickets, tokens or app tokens. `userdata` is passed back as
/// is; both must stay valid, and usable from any thread, while such a client lives.
/// NULL `callback` clears it. There is no global logger.
#[no_mangle]
pub extern "C" fn so_options_set_log_callback(
    o: *mut so_options,
    callback: so_log_callback,
    userdata: *mut c_void,
) -> so_result {
    with_options(o, |b| Ok(b.logger(callback.map(|callback| Arc::new(CLogger { callback, userdata }) as Arc<dyn Logger>))))
}

/// Frees settings made by `so_options_new`, wiping the secrets they hold. NULL is a
/// no-op. `o` must not be used afterwards.
#[no_mangle]
pub extern "C" fn so_options_free(o: *mut so_options) {
    free_box(o);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_match_the_core() {
        assert_eq!(SO_LOG_ERROR, Level::Error as i32);
        assert_eq!(SO_LOG_WARN, Level::Warn as i32);
        assert_eq!(SO_LOG_INFO, Level::Info as i32);
        assert_eq!(SO_LOG_DEBUG, Level::Debug as i32);
    }
}
