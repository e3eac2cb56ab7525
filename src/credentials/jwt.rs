//! The login service's JWT: checked with jsonwebtoken (which verifies with `ring`) against
//! a key of SuperOffice's JWKS chosen by `kid` (or `x5t`), never by position.

use std::collections::HashSet;

use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
/// The JWKS type the check takes (jsonwebtoken's).
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::secret::Secret;

/// The prefix of SuperOffice's claim names.
pub const CLAIM_PREFIX: &str = "http://schemes.superoffice.net/identity/";
/// The issuer SuperOffice's login service signs as.
pub const ISSUER: &str = "SuperOffice AS";
/// The clock skew allowed on `exp` and `nbf` (SuperOffice's sample allows 5 minutes).
pub const LEEWAY_SECONDS: u64 = 300;
/// Longest JWT read (a real one is under 4 KiB).
pub const MAX_JWT_LEN: usize = 64 * 1024;

/// The claims read from a verified token: the ticket straight into a zeroizing string.
#[derive(serde::Deserialize)]
struct Claims {
    #[serde(rename = "http://schemes.superoffice.net/identity/ticket", default)]
    ticket: Option<zeroize::Zeroizing<String>>,
    #[serde(rename = "http://schemes.superoffice.net/identity/webapi_url", default)]
    webapi_url: Option<String>,
}

/// What a checked JWT gives.
#[derive(Debug)]
pub struct SystemUserClaims {
    /// The ticket (`7T:...`), the credential itself.
    pub ticket: Secret,
    /// Where the tenant's API lives now, when the token says.
    pub webapi_url: Option<String>,
}

/// Why a JWT was refused: which check failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtRefusal {
    /// The JWKS has no key with the token's `kid`/`x5t` (or the token names none).
    UnknownKey(String),
    /// `exp` or `nbf` failed: this machine's clock and the login service's may differ.
    Timing(String),
    /// Any other failed check, as a sentence.
    Check(String),
}

impl JwtRefusal {
    /// The sentence, whichever check failed.
    pub fn why(&self) -> &str {
        match self {
            JwtRefusal::UnknownKey(w) | JwtRefusal::Timing(w) | JwtRefusal::Check(w) => w,
        }
    }
}

/// How the token names its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyId {
    Kid(String),
    X5t(String),
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyId::Kid(k) => write!(f, "kid {:?}", shorten(k)),
            KeyId::X5t(k) => write!(f, "x5t {:?}", shorten(k)),
        }
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The key the token's header names; refused when the header is unreadable, its
/// algorithm is not RS256, or it names no key.
pub fn key_id(token: &str) -> Result<KeyId, JwtRefusal> {
    if token.len() > MAX_JWT_LEN {
        return Err(JwtRefusal::Check(format!("the JWT is longer than {MAX_JWT_LEN} bytes")));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| JwtRefusal::Check(describe(&e)))?;
    if header.alg != Algorithm::RS256 {
        return Err(JwtRefusal::Check(format!("the JWT's algorithm is {:?}, not RS256", header.alg)));
    }
    match (header.kid, header.x5t) {
        (Some(kid), _) => Ok(KeyId::Kid(kid)),
        (None, Some(x5t)) => Ok(KeyId::X5t(x5t)),
        (None, None) => Err(JwtRefusal::UnknownKey("the JWT names no key (no kid or x5t)".into())),
    }
}

/// The JWKS key named `id`: an RSA key, for RS256 when it says.
pub fn find_key<'a>(jwks: &'a JwkSet, id: &KeyId) -> Option<&'a Jwk> {
    jwks.keys.iter().find(|k| {
        let named = match id {
            KeyId::Kid(kid) => k.common.key_id.as_deref() == Some(kid.as_str()),
            KeyId::X5t(x5t) => k.common.x509_sha1_fingerprint.as_deref() == Some(x5t.as_str()),
        };
        named
            && matches!(k.algorithm, AlgorithmParameters::RSA(_))
            && matches!(k.common.key_algorithm, None | Some(KeyAlgorithm::RS256))
    })
}

/// Checks a JWT against a JWKS and returns its claims.
///
/// The checks, each spelled out here: the signature, RS256 only, with the key the token
/// names (by `kid` or `x5t`); `iss` = "SuperOffice AS"; `aud` = "spn:" + the token's own
/// serial claim; `exp` required and `nbf` checked when present, both with 300 s of skew.
pub fn validate(token: &str, jwks: &JwkSet) -> Result<SystemUserClaims, JwtRefusal> {
    let id = key_id(token)?;
    let jwk = find_key(jwks, &id).ok_or_else(|| {
        JwtRefusal::UnknownKey(format!("the JWT is signed with a key ({id}) that the login service's JWKS does not publish"))
    })?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| JwtRefusal::Check(format!("the JWKS key {id} is not a usable RSA key")))?;
    // The audience is "spn:" + the serial claim of the token itself: read it first
    // (unverified, only to build the expected audience), then verify everything.
    let serial = unverified_serial(token)?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = vec![Algorithm::RS256];
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[format!("spn:{serial}")]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECONDS;
    validation.required_spec_claims = HashSet::from(["exp".to_string(), "iss".to_string(), "aud".to_string()]);

    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
        JwtErrorKind::ExpiredSignature | JwtErrorKind::ImmatureSignature => JwtRefusal::Timing(describe(&e)),
        _ => JwtRefusal::Check(describe(&e)),
    })?;
    let mut ticket = data
        .claims
        .ticket
        .filter(|t| !t.is_empty())
        .ok_or_else(|| JwtRefusal::Check("the JWT carries no ticket claim".into()))?;
    Ok(SystemUserClaims { ticket: Secret::new(std::mem::take(&mut *ticket)), webapi_url: data.claims.webapi_url })
}

/// The serial claim, read before the signature is checked (only to build the audience
/// the verified token must then name).
fn unverified_serial(token: &str) -> Result<String, JwtRefusal> {
    let mut peek = Validation::new(Algorithm::RS256);
    peek.insecure_disable_signature_validation();
    peek.validate_exp = false;
    peek.validate_nbf = false;
    peek.validate_aud = false;
    peek.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(&[]), &peek)
        .map_err(|e| JwtRefusal::Check(describe(&e)))?;
    match data.claims.get(format!("{CLAIM_PREFIX}serial")) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(JwtRefusal::Check("the JWT carries no serial claim, so its audience cannot be checked".into())),
    }
}

/// Which check a jsonwebtoken error stands for, as a sentence (never the token).
fn describe(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        JwtErrorKind::InvalidSignature => "the JWT's signature does not verify with the JWKS key it names".into(),
        JwtErrorKind::ExpiredSignature => "the JWT has expired (exp is in the past, beyond 300 s of clock skew)".into(),
        JwtErrorKind::ImmatureSignature => "the JWT is not valid yet (nbf is in the future, beyond 300 s of clock skew)".into(),
        JwtErrorKind::InvalidIssuer => format!("the JWT's issuer is not {ISSUER:?}"),
        JwtErrorKind::InvalidAudience => "the JWT's audience is not spn: followed by its serial claim".into(),
        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::InvalidAlgorithmName => "the JWT's algorithm is not RS256".into(),
        JwtErrorKind::MissingRequiredClaim(c) => format!("the JWT has no {c} claim"),
        JwtErrorKind::InvalidToken => "the JWT is malformed (not three dot-separated parts)".into(),
        JwtErrorKind::Base64(_) => "the JWT is malformed (a part is not base64url)".into(),
        JwtErrorKind::Json(_) | JwtErrorKind::Utf8(_) => "the JWT is malformed (a part is not JSON)".into(),
        _ => "the JWT could not be checked".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use superoffice_stub::login::{self, good_claims, mint_jwt, Signer, LOGIN_KID, ROGUE_KID};

    fn jwks() -> JwkSet {
        serde_json::from_value(login::jwks()).unwrap()
    }

    fn good() -> Value {
        good_claims("7T:ticket-1", "https://sod2.superoffice.com/Cust1/api/", "Cust1")
    }

    fn refused(token: &str) -> String {
        match validate(token, &jwks()) {
            Err(r) => r.why().to_string(),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn a_good_token_gives_its_ticket_and_webapi_url() {
        let claims = validate(&mint_jwt(&good(), Signer::Login, LOGIN_KID), &jwks()).unwrap();
        assert_eq!(claims.ticket.expose(), "7T:ticket-1");
        assert_eq!(claims.webapi_url.as_deref(), Some("https://sod2.superoffice.com/Cust1/api/"));
    }

    #[test]
    fn the_key_is_chosen_by_kid_never_by_position() {
        // The JWKS's only key, but the token names another kid: refused.
        let e = validate(&mint_jwt(&good(), Signer::Login, "another-kid"), &jwks()).unwrap_err();
        assert!(matches!(e, JwtRefusal::UnknownKey(_)), "{e:?}");
        // Signed by a key the JWKS does not publish.
        let e = validate(&mint_jwt(&good(), Signer::Rogue, ROGUE_KID), &jwks()).unwrap_err();
        assert!(matches!(e, JwtRefusal::UnknownKey(_)), "{e:?}");
        // Signed by another key while naming the published kid: the signature fails.
        assert!(refused(&mint_jwt(&good(), Signer::Rogue, LOGIN_KID)).contains("signature"));
    }

    #[test]
    fn a_token_failing_only_the_issuer_check_is_refused() {
        let mut c = good();
        c["iss"] = json!("Not SuperOffice");
        assert!(refused(&mint_jwt(&c, Signer::Login, LOGIN_KID)).contains("issuer"));
    }

    #[test]
    fn a_token_failing_only_the_audience_check_is_refused() {
        let mut c = good();
        c["aud"] = json!("spn:another-serial");
        assert!(refused(&mint_jwt(&c, Signer::Login, LOGIN_KID)).contains("audience"));
        let mut c = good();
        c[format!("{CLAIM_PREFIX}serial")] = json!("another-serial");
        assert!(refused(&mint_jwt(&c, Signer::Login, LOGIN_KID)).contains("audience"));
    }

    #[test]
    fn expiry_and_not_before_allow_300_seconds_of_skew_and_no_more() {
        let now = login::unix_now();
        let with = |k: &str, v: u64| {
            let mut c = good();
            c[k] = json!(v);
            mint_jwt(&c, Signer::Login, LOGIN_KID)
        };
        assert!(validate(&with("exp", now - 200), &jwks()).is_ok());
        assert!(refused(&with("exp", now - 400)).contains("expired"));
        assert!(validate(&with("nbf", now + 200), &jwks()).is_ok());
        assert!(refused(&with("nbf", now + 400)).contains("not valid yet"));
        let mut c = good();
        c.as_object_mut().unwrap().remove("exp");
        assert!(refused(&mint_jwt(&c, Signer::Login, LOGIN_KID)).contains("exp"));
    }

    #[test]
    fn only_rs256_is_accepted() {
        use base64::Engine as _;
        let token = mint_jwt(&good(), Signer::Login, LOGIN_KID);
        let (_, rest) = token.split_once('.').unwrap();
        for alg in ["HS256", "none", "RS512"] {
            let header = json!({ "alg": alg, "kid": LOGIN_KID });
            let forged = format!(
                "{}.{rest}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string())
            );
            assert!(validate(&forged, &jwks()).is_err(), "{alg}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused_without_quoting_them() {
        let token = mint_jwt(&good(), Signer::Login, LOGIN_KID);
        for bad in ["", "a", "a.b", "a.b.c.d", "!!!.@@@.###", &token[..token.len() / 2], &format!("{token}.x")] {
            let why = refused(bad);
            assert!(bad.len() < 5 || !why.contains(bad), "{why}");
        }
        let mut c = good();
        c.as_object_mut().unwrap().remove(&format!("{CLAIM_PREFIX}ticket"));
        assert!(refused(&mint_jwt(&c, Signer::Login, LOGIN_KID)).contains("ticket"));
    }
}
