//! Property tests of the credentials parsers with arbitrary input: the partner key in
//! PEM and .NET XML (mutated real keys and random text), and the JWT check (bad base64,
//! wrong segment counts, huge claims, tampered tokens). Never a panic; every refusal is a
//! message that quotes none of the input; a tampered token is never accepted. The same
//! properties are fuzzed by `fuzz/fuzz_targets/credentials.rs`. And the shared table's
//! key: one identity, one key; any change in it, another.

use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use proptest::prelude::*;
use serde_json::json;
use superoffice::credentials::jwt::{validate, JwtRefusal};
use superoffice::credentials::key::PartnerKey;
use superoffice_stub::login::{good_claims, mint_jwt, Signer, LOGIN_KID};

const PKCS1: &str = include_str!("keys/partner.pkcs1.pem");
const PKCS8: &str = include_str!("keys/partner.pkcs8.pem");
const XML: &str = include_str!("keys/partner.xml");

fn jwks() -> JwkSet {
    serde_json::from_value(superoffice_stub::login::jwks()).unwrap()
}

/// One of the real keys with a run of bytes replaced, removed or repeated.
fn mutated_key() -> impl Strategy<Value = String> {
    let base = prop::sample::select(vec![PKCS1, PKCS8, XML]);
    (base, any::<prop::sample::Index>(), 0usize..40, prop::collection::vec(any::<char>(), 0..8), 0u8..3).prop_map(
        |(text, at, len, insert, how)| {
            let chars: Vec<char> = text.chars().collect();
            let i = at.index(chars.len());
            let end = (i + len).min(chars.len());
            let mut out: Vec<char> = chars[..i].to_vec();
            match how {
                0 => out.extend(insert),
                1 => out.extend(chars[i..end].iter().chain(chars[i..end].iter())),
                _ => {}
            }
            out.extend(&chars[end..]);
            out.into_iter().collect()
        },
    )
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)),
    ]
}

fn assert_quiet_refusal(refusal: &JwtRefusal, token: &str) {
    let why = match refusal {
        JwtRefusal::Check(w) | JwtRefusal::UnknownKey(w) | JwtRefusal::Timing(w) => w,
    };
    assert!(why.len() < 300, "{why}");
    if token.len() >= 12 {
        assert!(!why.contains(token), "{why}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn key_parsing_never_panics_nor_quotes_the_key(text in prop_oneof![mutated_key(), any::<String>()]) {
        match PartnerKey::parse(&text) {
            Ok(key) => prop_assert_eq!(key.sign(b"x").map(|s| s.len()), Ok(256)),
            Err(e) => {
                prop_assert!(e.0.contains("private key"), "{}", e.0);
                // Key material (runs of the base64 alphabet) never shows; the message's own
                // words (the PEM headers it expects) may also be in the input.
                let said = &e.0;
                // No run of 24 characters of the input appears in the message.
                let chars: Vec<char> = text.chars().collect();
                for w in chars.windows(24).step_by(7).filter(|w| w.iter().all(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')) {
                    let piece: String = w.iter().collect();
                    prop_assert!(!said.contains(&piece), "{}", e.0);
                }
            }
        }
    }

    #[test]
    fn jwts_of_any_shape_are_refused_without_a_panic(parts in prop::collection::vec(segment(), 0..6)) {
        let token = parts.join(".");
        match validate(&token, &jwks()) {
            Ok(_) => prop_assert!(false, "accepted {token:?}"),
            Err(r) => assert_quiet_refusal(&r, &token),
        }
    }

    #[test]
    fn a_tampered_token_is_never_accepted(at in any::<prop::sample::Index>(), to in "[A-Za-z0-9_-]") {
        let token = mint_jwt(&good_claims("7T:t", "https://sod2.superoffice.com/C/api/", "C"), Signer::Login, LOGIN_KID);
        let i = at.index(token.len());
        let mut tampered = token.clone().into_bytes();
        if tampered[i] == b'.' || tampered[i] == to.as_bytes()[0] {
            return Ok(());
        }
        tampered[i] = to.as_bytes()[0];
        let tampered = String::from_utf8(tampered).unwrap();
        // A change in the last character of a segment may only touch padding bits.
        if let Ok(c) = validate(&tampered, &jwks()) {
            let original = validate(&token, &jwks()).unwrap();
            prop_assert_eq!(c.ticket.expose(), original.ticket.expose());
        }
    }

    #[test]
    fn huge_claims_are_refused_or_checked_without_a_panic(n in 0usize..200_000, key in "[a-z]{1,8}") {
        let mut claims = good_claims("7T:t", "https://sod2.superoffice.com/C/api/", "C");
        claims[key] = json!("x".repeat(n));
        let token = mint_jwt(&claims, Signer::Login, LOGIN_KID);
        match validate(&token, &jwks()) {
            Ok(c) => {
                prop_assert!(token.len() <= 64 * 1024);
                prop_assert_eq!(c.ticket.expose(), "7T:t");
            }
            Err(r) => {
                prop_assert!(token.len() > 64 * 1024 || matches!(r, JwtRefusal::Check(_)));
                assert_quiet_refusal(&r, &token);
            }
        }
    }
}

/// The shared table's key: the SHA-256 of an identity. The same identity gives the same
/// key; a change in any one part (token, client secret, key, login URL, tenant, CA file
/// contents, proxy) gives another; the key holds none of the secrets.
mod shared_identity {
    use super::*;
    use superoffice::credentials::shared::Key;
    use superoffice::credentials::Scheme;
    use superoffice::settings::ProxySetting;

    #[derive(Clone, Debug)]
    struct Identity {
        token: String,
        secret: String,
        pkcs8: bool,
        login: String,
        tenant: String,
        ca: Option<Vec<u8>>,
        proxy: Option<String>,
    }

    fn key_of(i: &Identity) -> Key {
        let scheme = Scheme::system_user(&i.token, if i.pkcs8 { PKCS8 } else { XML }, &i.secret).unwrap();
        let proxy = match &i.proxy {
            None => ProxySetting::Direct,
            Some(p) => ProxySetting::parse(Some(p)).unwrap(),
        };
        scheme.identity(&i.login, &i.tenant, i.ca.as_deref(), &proxy)
    }

    fn identity() -> impl Strategy<Value = Identity> {
        (
            "[A-Za-z0-9 -]{1,24}",
            "[A-Za-z0-9]{1,24}",
            any::<bool>(),
            "https://[a-z]{1,8}\\.example\\.com/login",
            "Cust[0-9]{1,6}",
            prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
            prop::option::of("http://[a-z]{1,8}:3128"),
        )
            .prop_map(|(token, secret, pkcs8, login, tenant, ca, proxy)| Identity { token, secret, pkcs8, login, tenant, ca, proxy })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn one_identity_one_key_and_any_change_another(i in identity(), which in 0usize..8) {
            let key = key_of(&i);
            prop_assert_eq!(key, key_of(&i.clone()));
            if let Key::Shared(bytes) = key {
                for secret in [&i.token, &i.secret] {
                    prop_assert!(secret.len() < 4 || !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
                }
            } else {
                prop_assert!(false, "an identity's key is a shared one");
            }
            let mut other = i.clone();
            match which {
                0 => other.token.push('x'),
                1 => other.secret.push('x'),
                2 => {} // the same key in another form: below
                3 => other.login.push_str("/x"),
                4 => other.tenant.push('0'),
                5 => other.ca = match other.ca { None => Some(Vec::new()), Some(mut c) => { c.push(0); Some(c) } },
                6 => other.proxy = match other.proxy { None => Some("http://p:3128".into()), Some(_) => None },
                _ => other.ca = match other.ca { None => Some(b"-----BEGIN CERTIFICATE-----".to_vec()), Some(_) => None },
            }
            if which == 2 {
                // PKCS#8 and XML hold the same partner key: the same identity.
                let mut same = i.clone();
                same.pkcs8 = !same.pkcs8;
                prop_assert_eq!(key, key_of(&same));
            } else {
                prop_assert_ne!(key, key_of(&other));
            }
        }
    }
}
