//! SuperOffice's login service, as the stub plays it (docs/stub-protocol.md, "Login
//! service"): the discovery document, the JWKS, `PartnerSystemUser/Authenticate` (which
//! checks the RSA signature against the registered partner key and the timestamp
//! window) and the OAuth token endpoint, with directives for each failure.
//!
//! Its keys are test-only keys committed under `tests/keys/`.

use std::sync::OnceLock;

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};

use super::*;

/// The `kid` of the key the stub's login service signs its JWTs with.
pub const LOGIN_KID: &str = "stub-login-key-1";
/// The `kid` of the key no JWKS of the stub publishes (`jwt=unknown_key`).
pub const ROGUE_KID: &str = "stub-rogue-key";
/// The refresh token the stub's OAuth endpoint accepts from the start.
pub const REFRESH_TOKEN: &str = "stub-refresh-token";
/// The serial of the stub's tenants (the JWT's audience is `spn:` + this).
pub const SERIAL: &str = "1234567890";
/// The claims' prefix.
pub const CLAIM: &str = "http://schemes.superoffice.net/identity/";

const LOGIN_DER: &[u8] = include_bytes!("../keys/login.pkcs8.der");
const ROGUE_DER: &[u8] = include_bytes!("../keys/rogue.pkcs8.der");
const PARTNER_DER: &[u8] = include_bytes!("../keys/partner.pkcs8.der");

/// Which of the stub's keys signs a JWT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The login service's key, published in its JWKS under [`LOGIN_KID`].
    Login,
    /// A key no JWKS publishes.
    Rogue,
}

fn pair(der: &'static [u8], cell: &'static OnceLock<RsaKeyPair>) -> &'static RsaKeyPair {
    cell.get_or_init(|| RsaKeyPair::from_pkcs8(der).expect("test key"))
}

fn login_key() -> &'static RsaKeyPair {
    static K: OnceLock<RsaKeyPair> = OnceLock::new();
    pair(LOGIN_DER, &K)
}

fn rogue_key() -> &'static RsaKeyPair {
    static K: OnceLock<RsaKeyPair> = OnceLock::new();
    pair(ROGUE_DER, &K)
}

fn partner_public() -> &'static PublicKeyComponents<Vec<u8>> {
    static K: OnceLock<PublicKeyComponents<Vec<u8>>> = OnceLock::new();
    K.get_or_init(|| {
        static P: OnceLock<RsaKeyPair> = OnceLock::new();
        PublicKeyComponents::from(pair(PARTNER_DER, &P).public())
    })
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT (RS256) with these claims and this `kid`, signed by `signer`.
pub fn mint_jwt(claims: &Value, signer: Signer, kid: &str) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
    let signing_input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let key = match signer {
        Signer::Login => login_key(),
        Signer::Rogue => rogue_key(),
    };
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut sig).expect("sign");
    format!("{signing_input}.{}", b64url(&sig))
}

fn jwk(pair: &RsaKeyPair, kid: &str) -> Value {
    let public = PublicKeyComponents::<Vec<u8>>::from(pair.public());
    json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64url(&public.n), "e": b64url(&public.e) })
}

/// The JWKS the stub publishes: the login key under [`LOGIN_KID`].
pub fn jwks() -> Value {
    json!({ "keys": [jwk(login_key(), LOGIN_KID)] })
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The claims of a good system user JWT.
pub fn good_claims(ticket: &str, webapi_url: &str, ctx: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": "SuperOffice AS",
        "aud": format!("spn:{SERIAL}"),
        "iat": now,
        "nbf": now - 60,
        "exp": now + 3600,
        format!("{CLAIM}ticket"): ticket,
        format!("{CLAIM}webapi_url"): webapi_url,
        format!("{CLAIM}netserver_url"): webapi_url.replace("/api/", "/Remote/Services88/"),
        format!("{CLAIM}ctx"): ctx,
        format!("{CLAIM}serial"): SERIAL,
        format!("{CLAIM}is_administrator"): "False",
    })
}

/// A credential the login service issued: valid at the endpoint with its app token,
/// unless revoked.
#[derive(Clone, Debug)]
pub(super) struct IssuedCredential {
    pub(super) app_token: String,
    pub(super) revoked: bool,
}

/// The login service's directives, read from the path segments before `/login`.
#[derive(Clone, Debug, Default)]
struct LoginDirectives {
    login: Option<String>,
    login_delay_ms: Option<u64>,
    jwt: Option<String>,
    revoke_first: Option<u64>,
    webapi_host: Option<String>,
    jwks_stale_first: Option<u64>,
    oauth: Option<String>,
    oauth_expires_in: Option<u64>,
    oauth_rotate: bool,
    /// Minutes the login service's clock is off (`clock_min=N`, N may be negative).
    clock_min: i64,
    login_refuse_first: Option<u64>,
}

fn login_directives(prefix: &str) -> Result<LoginDirectives, String> {
    let mut d = LoginDirectives::default();
    for seg in prefix.split('/').filter(|s| !s.is_empty()) {
        let (key, value) = match seg.split_once('=') {
            Some((k, v)) => (k, percent_decode(v)),
            None if seg == "oauth_rotate" => {
                d.oauth_rotate = true;
                continue;
            }
            None => continue,
        };
        let bad = |why: &str| format!("stub: bad directive {seg:?}: {why}");
        let num = || value.parse::<u64>().map_err(|_| bad("must be a non-negative integer"));
        match key {
            "login" if matches!(value.as_str(), "refused" | "500" | "invalid_timestamp") => d.login = Some(value),
            "login" => return Err(bad("login must be refused, 500 or invalid_timestamp")),
            "login_refuse_first" => d.login_refuse_first = Some(num()?),
            "clock_min" => {
                d.clock_min = value.parse::<i64>().ok().filter(|m| m.abs() <= 10_000).ok_or_else(|| bad("clock_min must be an integer of minutes, -10000 to 10000"))?
            }
            "login_delay_ms" => d.login_delay_ms = Some(num()?.min(600_000)),
            "jwt" if matches!(value.as_str(), "unknown_key" | "expired" | "not_yet" | "wrong_iss" | "wrong_aud" | "no_ticket" | "garbage") => {
                d.jwt = Some(value)
            }
            "jwt" => return Err(bad("jwt must be unknown_key, expired, not_yet, wrong_iss, wrong_aud, no_ticket or garbage")),
            "revoke_first" => d.revoke_first = Some(num()?),
            "webapi_host" if header_safe(&value) && !value.contains('/') => d.webapi_host = Some(value),
            "webapi_host" => return Err(bad("webapi_host must be a host name")),
            "jwks_stale_first" => d.jwks_stale_first = Some(num()?),
            "oauth" if value == "invalid_grant" => d.oauth = Some(value),
            "oauth" => return Err(bad("oauth must be invalid_grant")),
            "oauth_expires_in" => d.oauth_expires_in = Some(num()?),
            _ => {}
        }
    }
    Ok(d)
}

/// `(prefix, rest)` of a login service path `{prefix}/login/{rest}`.
pub(super) fn split_login(path: &str) -> Option<(&str, &str)> {
    let i = path.find("/login/")?;
    Some((&path[..i], &path[i + "/login/".len()..]))
}

/// Now + `minutes`.
fn now_plus(minutes: i64) -> SystemTime {
    if minutes >= 0 {
        SystemTime::now() + Duration::from_secs(minutes as u64 * 60)
    } else {
        SystemTime::now() - Duration::from_secs(minutes.unsigned_abs() * 60)
    }
}

/// `yyyyMMddHHmm` of now + `minutes`.
fn minute_stamp(minutes: i64) -> String {
    rfc3339_utc(now_plus(minutes)).chars().take(16).filter(char::is_ascii_digit).collect()
}

/// An HTTP `Date` (IMF-fixdate) of a moment.
pub fn http_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[u8::from(t.month()) as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The timestamp window the stub allows around its own clock, in minutes.
pub const STAMP_WINDOW_MINUTES: i64 = 5;

fn check_signed_system_token(signed: &str, clock_min: i64) -> Result<(), &'static str> {
    let (sign_this, signature) = signed.rsplit_once('.').ok_or("InvalidSignature")?;
    let (token, stamp) = sign_this.rsplit_once('.').ok_or("InvalidTimestamp")?;
    if token.is_empty() {
        return Err("InvalidSystemUserToken");
    }
    if stamp.len() != 12 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err("InvalidTimestamp");
    }
    let sig = base64::engine::general_purpose::STANDARD.decode(signature).map_err(|_| "InvalidSignature")?;
    let public = partner_public();
    RsaPublicKeyComponents { n: &public.n, e: &public.e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, sign_this.as_bytes(), &sig)
        .map_err(|_| "InvalidSignature")?;
    if !(-STAMP_WINDOW_MINUTES..=STAMP_WINDOW_MINUTES).any(|m| minute_stamp(clock_min + m) == stamp) {
        return Err("InvalidTimestamp");
    }
    Ok(())
}

/// A JSON answer with a `Date` header of the login service's clock (`clock_min`).
fn json_answer(c: &mut Conn, ctx: &Ctx, d: &LoginDirectives, status: u16, body: &Value) -> io::Result<Flow> {
    let date = ("Date".to_string(), http_date(now_plus(d.clock_min)));
    respond(c, ctx, status, Some(JSON_CT), &[date], body.to_string().as_bytes())
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let decode = |s: &str| percent_decode(&s.replace('+', " "));
        (decode(k) == name).then(|| decode(v))
    })
}

/// Serves one request to `{prefix}/login/{rest}`.
pub(super) fn serve(sh: &Shared, c: &mut Conn, ctx: &Ctx, head: &Head, prefix: &str, rest: &str, body: &[u8]) -> io::Result<Flow> {
    let d = match login_directives(prefix) {
        Ok(d) => d,
        Err(msg) => return json_answer(c, ctx, &LoginDirectives::default(), 400, &json!({ "error": "invalid_request", "error_description": msg })),
    };
    let base = format!("http://127.0.0.1:{}{prefix}/login", sh.port);
    let method_is = |m: &str| head.method == m;
    match rest {
        ".well-known/openid-configuration" if method_is("GET") => json_answer(
            c,
            ctx,
            &d,
            200,
            &json!({
                "issuer": "SuperOffice AS",
                "jwks_uri": format!("{base}/.well-known/jwks"),
                "token_endpoint": format!("{base}/common/oauth/tokens"),
                "authorization_endpoint": format!("{base}/common/oauth/authorize"),
                "id_token_signing_alg_values_supported": ["RS256"],
            }),
        ),
        ".well-known/jwks" if method_is("GET") => {
            let stale = d.jwks_stale_first.is_some_and(|k| sh.fail_first_active(&format!("jwks:{prefix}"), k));
            if stale {
                // An old JWKS: it lacks the key the service signs with now.
                json_answer(c, ctx, &d, 200, &json!({ "keys": [jwk(rogue_key(), "stub-retired-key")] }))
            } else {
                json_answer(c, ctx, &d, 200, &jwks())
            }
        }
        "api/PartnerSystemUser/Authenticate" if method_is("POST") => authenticate(sh, c, ctx, head, prefix, &d, body),
        "common/oauth/tokens" if method_is("POST") => oauth_tokens(sh, c, ctx, prefix, &d, body),
        _ => respond_error(c, ctx, BodyStyle::Json, 404, "NotFound", &format!("stub: no such login endpoint: {rest}"), false, &[]),
    }
}

fn authenticate(sh: &Shared, c: &mut Conn, ctx: &Ctx, head: &Head, prefix: &str, d: &LoginDirectives, body: &[u8]) -> io::Result<Flow> {
    if let Some(ms) = d.login_delay_ms {
        thread::sleep(Duration::from_millis(ms));
    }
    if d.login.as_deref() == Some("500") {
        return respond_error(c, ctx, BodyStyle::Json, 500, "SoStubException", "stub: login service failure (login=500)", false, &[]);
    }
    let refuse = |c: &mut Conn, message: &str| {
        json_answer(c, ctx, d, 200, &json!({ "IsSuccessful": false, "ErrorMessage": message, "Token": null }))
    };
    let ct = head.header("content-type").unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return respond_error(c, ctx, BodyStyle::Json, 415, "UnsupportedMediaType", "stub: Content-Type must be application/json", false, &[]);
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return refuse(c, "stub: the body is not JSON");
    };
    let text = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (signed, app_token, context) = (text("SignedSystemToken"), text("ApplicationToken"), text("ContextIdentifier"));
    if text("ReturnTokenType") != "JWT" {
        return refuse(c, "stub: ReturnTokenType must be JWT");
    }
    if app_token.is_empty() {
        return refuse(c, "InvalidApplicationToken");
    }
    if context.is_empty() {
        return refuse(c, "InvalidContextIdentifier");
    }
    if let Err(code) = check_signed_system_token(&signed, d.clock_min) {
        return refuse(c, code);
    }
    if d.login.as_deref() == Some("refused") {
        return refuse(c, "stub: the system user of this tenant is not approved (login=refused)");
    }
    if d.login.as_deref() == Some("invalid_timestamp") {
        return refuse(c, "InvalidTimestamp");
    }
    if d.login_refuse_first.is_some_and(|k| sh.fail_first_active(&format!("login:{prefix}"), k)) {
        return refuse(c, "stub: refused (login_refuse_first)");
    }
    let n = sh.next_ticket.fetch_add(1, Ordering::SeqCst) + 1;
    let ticket = format!("7T:stub-ticket-{n}");
    let revoked = d.revoke_first.is_some_and(|k| sh.fail_first_active(&format!("revoke:{prefix}"), k));
    lock(&sh.issued).insert(ticket.clone(), IssuedCredential { app_token, revoked });
    let host = d.webapi_host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let webapi_url = format!("http://{host}:{}{prefix}/{context}/api/", sh.port);
    let mut claims = good_claims(&ticket, &webapi_url, &context);
    let now = (unix_now() as i64 + d.clock_min * 60) as u64;
    if d.clock_min != 0 {
        claims["iat"] = json!(now);
        claims["nbf"] = json!(now - 60);
        claims["exp"] = json!(now + 3600);
    }
    let mut signer = (Signer::Login, LOGIN_KID);
    match d.jwt.as_deref() {
        Some("unknown_key") => signer = (Signer::Rogue, ROGUE_KID),
        Some("expired") => {
            claims["exp"] = json!(now - 3600);
            claims["nbf"] = json!(now - 7200);
        }
        Some("not_yet") => claims["nbf"] = json!(now + 3600),
        Some("wrong_iss") => claims["iss"] = json!("Not SuperOffice"),
        Some("wrong_aud") => claims["aud"] = json!("spn:some-other-serial"),
        Some("no_ticket") => {
            claims.as_object_mut().map(|o| o.remove(&format!("{CLAIM}ticket")));
        }
        _ => {}
    }
    let token = if d.jwt.as_deref() == Some("garbage") { "not.a-jwt".to_string() } else { mint_jwt(&claims, signer.0, signer.1) };
    json_answer(c, ctx, d, 200, &json!({ "IsSuccessful": true, "ErrorMessage": "", "Token": token }))
}

fn oauth_tokens(sh: &Shared, c: &mut Conn, ctx: &Ctx, prefix: &str, d: &LoginDirectives, body: &[u8]) -> io::Result<Flow> {
    let form = String::from_utf8_lossy(body).into_owned();
    let field = |k: &str| form_field(&form, k).unwrap_or_default();
    let invalid = |c: &mut Conn, error: &str, why: &str| json_answer(c, ctx, d, 400, &json!({ "error": error, "error_description": why }));
    if field("grant_type") != "refresh_token" {
        return invalid(c, "unsupported_grant_type", "stub: grant_type must be refresh_token");
    }
    let (client_id, client_secret, refresh_token) = (field("client_id"), field("client_secret"), field("refresh_token"));
    if client_id.is_empty() || client_secret.is_empty() {
        return invalid(c, "invalid_client", "stub: client_id and client_secret are required");
    }
    let known = refresh_token == REFRESH_TOKEN || lock(&sh.refresh_tokens).contains(&refresh_token);
    if d.oauth.is_some() || !known {
        return invalid(c, "invalid_grant", "stub: the refresh token is not valid");
    }
    let n = sh.next_ticket.fetch_add(1, Ordering::SeqCst) + 1;
    let access = format!("8A:stub-access-{n}");
    let revoked = d.revoke_first.is_some_and(|k| sh.fail_first_active(&format!("revoke:{prefix}"), k));
    lock(&sh.issued).insert(access.clone(), IssuedCredential { app_token: client_secret, revoked });
    let mut answer = json!({
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": d.oauth_expires_in.unwrap_or(3600),
        "id_token": mint_jwt(&json!({ "iss": "SuperOffice AS", "exp": unix_now() + 3600 }), Signer::Login, LOGIN_KID),
    });
    if d.oauth_rotate {
        let fresh = format!("stub-refresh-{n}");
        let mut tokens = lock(&sh.refresh_tokens);
        tokens.remove(&refresh_token);
        tokens.insert(fresh.clone());
        answer["refresh_token"] = json!(fresh);
    }
    json_answer(c, ctx, d, 200, &answer)
}
