//! The credentials parsers: the partner key (PEM PKCS#1/PKCS#8, .NET RSAKeyValue XML) and
//! the JWT check.
//!
//! Invariants: never panics, whatever the bytes; an unreadable key is a message that
//! names the private key and quotes no 24-character base64 run of the input; a JWT check of
//! arbitrary text never accepts it (no key of the JWKS signed it) and its refusal is
//! short and quotes no token.
#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use superoffice::credentials::jwt::{validate, JwkSet, JwtRefusal};
use superoffice::credentials::key::PartnerKey;

const XML: &str = include_str!("../../tests/keys/partner.xml");

/// A JWKS holding the test partner key's public half under two kids.
fn jwks() -> &'static JwkSet {
    static J: OnceLock<JwkSet> = OnceLock::new();
    J.get_or_init(|| {
        let (n, e) = PartnerKey::parse(XML).unwrap().public_components();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let key = |kid: &str| serde_json::json!({ "kty": "RSA", "alg": "RS256", "kid": kid, "n": b64(&n), "e": b64(&e) });
        serde_json::from_value(serde_json::json!({ "keys": [key("a"), key("b")] })).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        let parsed = PartnerKey::parse(&text);
        if let Ok(key) = &parsed {
            // A key that was read signs (its numbers were checked when it was read).
            assert_eq!(key.sign(b"x").map(|s| s.len()).ok(), Some(key.public_components().0.len().max(256)));
        }
        if let Err(e) = parsed {
            assert!(e.0.contains("private key"), "{}", e.0);
            // Key material (runs of the base64 alphabet) never shows; the message's own
            // words (the PEM headers it expects) may also be in the input.
            let said = &e.0;
            let chars: Vec<char> = text.chars().collect();
            for w in chars.windows(24).step_by(5).filter(|w| w.iter().all(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')) {
                let piece: String = w.iter().collect();
                assert!(!said.contains(&piece), "{}", e.0);
            }
        }
    } else {
        match validate(&text, jwks()) {
            Ok(_) => panic!("accepted a token no key of the JWKS signed"),
            Err(JwtRefusal::Check(why) | JwtRefusal::UnknownKey(why) | JwtRefusal::Timing(why)) => {
                assert!(why.len() < 300, "{why}");
                if text.len() >= 12 {
                    assert!(!why.contains(text.as_ref()), "{why}");
                }
            }
        }
    }
});
