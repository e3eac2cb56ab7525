//! The HTTP requests to SuperOffice's login service: the system user exchange
//! (`PartnerSystemUser/Authenticate`), the discovery document, the JWKS, and the OAuth
//! token endpoint. Through the client's own ureq agent (its proxy, TLS roots, timeouts).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::Value;
use ureq::Agent;
use zeroize::Zeroizing;

use super::key::PartnerKey;
use super::CredentialsError;
use crate::secret::Secret;

/// Most bytes of a login service answer read.
const ANSWER_LIMIT: u64 = 1024 * 1024;

/// `yyyyMMddHHmm` of a moment, in UTC (24-hour clock, 12 digits).
pub fn utc_minute_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // A clock past the year 9999 (which `time` cannot show) signs as the epoch: refused.
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}{:02}{:02}{:02}{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// `token + "." + yyyyMMddHHmm + "." + base64(RSA-SHA256(token + "." + yyyyMMddHHmm))`.
pub fn signed_system_token(
    system_user_token: &str,
    key: &PartnerKey,
    now: SystemTime,
) -> Result<Zeroizing<String>, CredentialsError> {
    let mut sign_this = Zeroizing::new(String::with_capacity(system_user_token.len() + 13));
    sign_this.push_str(system_user_token);
    sign_this.push('.');
    sign_this.push_str(&utc_minute_stamp(now));
    let signature = base64::engine::general_purpose::STANDARD
        .encode(key.sign(sign_this.as_bytes()).map_err(|e| CredentialsError::new(e.0))?);
    let mut out = Zeroizing::new(String::with_capacity(sign_this.len() + 1 + signature.len()));
    out.push_str(&sign_this);
    out.push('.');
    out.push_str(&signature);
    Ok(out)
}

/// An answer of the login service: its status, its `Date` header and (bounded) body,
/// wiped when dropped.
struct Answer {
    status: u16,
    date: Option<SystemTime>,
    body: Zeroizing<Vec<u8>>,
}

/// The JWT of a successful system user login, and the login service's clock then.
pub struct LoginJwt {
    pub token: Secret,
    /// The answer's `Date` header.
    pub server_date: Option<SystemTime>,
}

/// How far this machine's clock may differ from the login service's before a refusal
/// that depends on the time names the clock.
pub const CLOCK_CLAIM_OVER: Duration = Duration::from_secs(120);

/// "this machine's clock is 20 minutes behind the login service's" when `now` (this
/// machine's clock) and `server` (the login service's `Date`) differ by more than
/// [`CLOCK_CLAIM_OVER`]; `None` otherwise or without a `Date`.
pub fn clock_claim(server: Option<SystemTime>, now: SystemTime) -> Option<String> {
    let server = server?;
    let (apart, way) = match server.duration_since(now) {
        Ok(d) => (d, "behind"),
        Err(e) => (e.duration(), "ahead of"),
    };
    if apart <= CLOCK_CLAIM_OVER {
        return None;
    }
    let minutes = (apart.as_secs() + 30) / 60;
    let amount = if minutes >= 120 && minutes % 60 == 0 {
        format!("{} hours", minutes / 60)
    } else {
        format!("{minutes} minutes")
    };
    Some(format!("this machine's clock is {amount} {way} the login service's"))
}

/// The body of `PartnerSystemUser/Authenticate`'s answer; the token is read straight into
/// a zeroizing string.
#[derive(Deserialize)]
struct AuthenticateAnswer {
    #[serde(rename = "IsSuccessful", default)]
    is_successful: Option<bool>,
    #[serde(rename = "ErrorMessage", default)]
    error_message: Option<String>,
    #[serde(rename = "Token", default)]
    token: Option<Zeroizing<String>>,
}

/// The body of the token endpoint's answer (OAuth 2.0); tokens read into zeroizing strings.
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    access_token: Option<Zeroizing<String>>,
    #[serde(default)]
    refresh_token: Option<Zeroizing<String>>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// A secret out of a zeroizing string, without a copy.
fn take_secret(mut text: Zeroizing<String>) -> Secret {
    Secret::new(std::mem::take(&mut *text))
}

/// `text` as a JSON string, appended to `out` (no intermediate copy).
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn unreachable(what: &str, url: &str, e: &ureq::Error) -> CredentialsError {
    let why = match e {
        ureq::Error::Timeout(_) => "it did not answer in time".to_string(),
        ureq::Error::Io(io) => format!("{}", io.kind()),
        ureq::Error::ConnectionFailed => "the connection failed".to_string(),
        ureq::Error::HostNotFound => "its host name was not found".to_string(),
        other => other.to_string().chars().take(200).collect(),
    };
    CredentialsError::new(format!("the login service could not be reached ({what} {url}): {why}"))
}

/// POSTs `body` (of `content_type`) to the login service and reads its answer.
fn post(agent: &Agent, url: &str, content_type: &str, body: &[u8]) -> Result<Answer, CredentialsError> {
    let response = agent
        .post(url)
        .header("Content-Type", content_type)
        .header("Accept", "application/json")
        .send(body)
        .map_err(|e| unreachable("POST", url, &e))?;
    Ok(read(response))
}

fn read(response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok());
    let body = Zeroizing::new(response.into_body().with_config().limit(ANSWER_LIMIT).read_to_vec().unwrap_or_default());
    Answer { status, date, body }
}

fn get_json(agent: &Agent, url: &str, what: &str) -> Result<Value, CredentialsError> {
    let response = agent
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| unreachable("GET", url, &e))?;
    let answer = read(response);
    if !(200..300).contains(&answer.status) {
        return Err(CredentialsError::new(format!(
            "the login service's {what} (GET {url}) answered {}",
            answer.status
        )));
    }
    serde_json::from_slice(&answer.body)
        .map_err(|_| CredentialsError::new(format!("the login service's {what} (GET {url}) is not JSON")))
}

/// The JWKS, found through `{login}/.well-known/openid-configuration`'s `jwks_uri`.
pub fn fetch_jwks(agent: &Agent, login_url: &str) -> Result<JwkSet, CredentialsError> {
    let discovery_url = format!("{login_url}/.well-known/openid-configuration");
    let discovery = get_json(agent, &discovery_url, "discovery document")?;
    let jwks_uri = discovery.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| {
        CredentialsError::new(format!("the login service's discovery document ({discovery_url}) names no jwks_uri"))
    })?;
    let jwks = get_json(agent, jwks_uri, "JWKS")?;
    serde_json::from_value::<JwkSet>(jwks)
        .map_err(|_| CredentialsError::new(format!("the login service's JWKS ({jwks_uri}) is not a JWK set")))
}

/// POSTs the signed system token; returns the JWT of a successful answer.
pub fn authenticate(
    agent: &Agent,
    login_url: &str,
    signed: &str,
    client_secret: &Secret,
    context_identifier: &str,
) -> Result<LoginJwt, CredentialsError> {
    let url = format!("{login_url}/api/PartnerSystemUser/Authenticate");
    // Built at its final size (at most 6 bytes per character escaped), wiped when dropped.
    let mut body = Zeroizing::new(String::with_capacity(
        120 + 6 * (signed.len() + client_secret.expose().len() + context_identifier.len()),
    ));
    body.push_str("{\"SignedSystemToken\":");
    push_json_string(&mut body, signed);
    body.push_str(",\"ApplicationToken\":");
    push_json_string(&mut body, client_secret.expose());
    body.push_str(",\"ContextIdentifier\":");
    push_json_string(&mut body, context_identifier);
    body.push_str(",\"ReturnTokenType\":\"JWT\"}");
    let answer = post(agent, &url, "application/json", body.as_bytes())?;
    let parsed: Option<AuthenticateAnswer> = serde_json::from_slice(&answer.body).ok();
    let error_message = parsed.as_ref().and_then(|p| p.error_message.as_deref()).filter(|m| !m.is_empty());
    let successful = parsed.as_ref().and_then(|p| p.is_successful) == Some(true);
    if !(200..300).contains(&answer.status) || !successful {
        let mut said = match error_message {
            Some(m) => format!(": {}", m.chars().take(500).collect::<String>()),
            None if (200..300).contains(&answer.status) => ": IsSuccessful is not true".into(),
            None => String::new(),
        };
        if error_message.is_some_and(|m| m.contains("InvalidTimestamp")) {
            if let Some(claim) = clock_claim(answer.date, SystemTime::now()) {
                said.push_str(&format!(
                    "; {claim}; the system user token is stamped with this machine's time, so the login service refuses it: correct the clock"
                ));
            }
        }
        return Err(CredentialsError::new(format!(
            "the login service refused the system user (POST {url} answered {}){said}",
            answer.status
        )));
    }
    let token = parsed.and_then(|p| p.token).filter(|t| !t.is_empty()).ok_or_else(|| {
        CredentialsError::new(format!("the login service's answer (POST {url}) carries no Token"))
    })?;
    Ok(LoginJwt { token: take_secret(token), server_date: answer.date })
}

/// An OAuth access token and what came with it.
pub struct OAuthAnswer {
    pub access_token: Secret,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
}

/// `grant_type=refresh_token` at `{login}/common/oauth/tokens`.
pub fn refresh_access_token(
    agent: &Agent,
    login_url: &str,
    client_id: &str,
    client_secret: &Secret,
    refresh_token: &Secret,
) -> Result<OAuthAnswer, CredentialsError> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let url = format!("{login_url}/common/oauth/tokens");
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let body = Zeroizing::new(format!(
        "grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={}",
        enc(client_id),
        Zeroizing::new(enc(client_secret.expose())).as_str(),
        Zeroizing::new(enc(refresh_token.expose())).as_str(),
    ));
    let answer = post(agent, &url, "application/x-www-form-urlencoded", body.as_bytes())?;
    let parsed: Option<TokenAnswer> = serde_json::from_slice(&answer.body).ok();
    let text = |f: fn(&TokenAnswer) -> &Option<String>| parsed.as_ref().and_then(|p| f(p).as_deref()).filter(|s| !s.is_empty());
    if !(200..300).contains(&answer.status) {
        let said = match (text(|p| &p.error), text(|p| &p.error_description)) {
            (Some(e), Some(d)) => format!(": {e}: {}", d.chars().take(300).collect::<String>()),
            (Some(e), None) => format!(": {e}"),
            _ => String::new(),
        };
        return Err(CredentialsError::new(format!(
            "the login service refused the refresh token (POST {url} answered {}){said}",
            answer.status
        )));
    }
    if let Some(kind) = text(|p| &p.token_type).filter(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err(CredentialsError::new(format!(
            "the login service's token (POST {url}) is of type {kind:?}, not Bearer"
        )));
    }
    let Some(parsed) = parsed else {
        return Err(CredentialsError::new(format!("the login service's answer (POST {url}) is not JSON")));
    };
    let access_token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CredentialsError::new(format!("the login service's answer (POST {url}) carries no access_token")))?;
    Ok(OAuthAnswer {
        access_token: take_secret(access_token),
        expires_in: parsed.expires_in,
        refresh_token: parsed.refresh_token.filter(|t| !t.is_empty()).map(take_secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_named_past_two_minutes_only() {
        let now = UNIX_EPOCH + Duration::from_secs(1_796_363_434);
        let min = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(clock_claim(Some(now + min(20)), now).as_deref(), Some("this machine's clock is 20 minutes behind the login service's"));
        assert_eq!(clock_claim(Some(now - min(20)), now).as_deref(), Some("this machine's clock is 20 minutes ahead of the login service's"));
        assert_eq!(clock_claim(Some(now + min(180)), now).as_deref(), Some("this machine's clock is 3 hours behind the login service's"));
        assert_eq!(clock_claim(Some(now + Duration::from_secs(150)), now).as_deref(), Some("this machine's clock is 3 minutes behind the login service's"));
        assert_eq!(clock_claim(Some(now + min(1)), now), None);
        assert_eq!(clock_claim(Some(now - min(2)), now), None);
        assert_eq!(clock_claim(None, now), None);
    }

    #[test]
    fn the_stamp_is_utc_year_to_minute() {
        assert_eq!(utc_minute_stamp(UNIX_EPOCH), "197001010000");
        // 2026-12-04 05:50:34 UTC
        assert_eq!(utc_minute_stamp(UNIX_EPOCH + Duration::from_secs(1_796_363_434)), "202612040550");
        // 2000-02-29 23:59:59 UTC (a leap day, 24-hour clock)
        assert_eq!(utc_minute_stamp(UNIX_EPOCH + Duration::from_secs(951_868_799)), "200002292359");
    }

    #[test]
    fn the_signed_token_is_token_stamp_signature() {
        let key = PartnerKey::parse(include_str!("../../tests/keys/partner.xml")).unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_796_363_434);
        let signed = signed_system_token("Partner App-8k8Q7DmBgo", &key, now).unwrap();
        let (signed_part, signature) = signed.rsplit_once('.').unwrap();
        assert_eq!(signed_part, "Partner App-8k8Q7DmBgo.202612040550");
        let sig = base64::engine::general_purpose::STANDARD.decode(signature).unwrap();
        let (n, e) = key.public_components();
        ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, signed_part.as_bytes(), &sig)
            .unwrap();
    }
}

#[cfg(test)]
mod json_tests {
    use super::push_json_string;

    #[test]
    fn json_strings_match_serde_json() {
        for text in ["", "plain", "a\"b\\c", "tab\tnew\nline\u{1}", "é 日本 \u{7f}"] {
            let mut out = String::new();
            push_json_string(&mut out, text);
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, text);
        }
    }
}
