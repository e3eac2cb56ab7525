//! The partner's RSA private key, read in the three forms SuperOffice's partners hold it:
//! PEM PKCS#1 (`BEGIN RSA PRIVATE KEY`), PEM PKCS#8 (`BEGIN PRIVATE KEY`), and .NET's
//! `RSAKeyValue` XML (the Developer Portal's form), and the signature the login service
//! asks for (RSA PKCS#1 v1.5 with SHA-256).
//!
//! Every cryptographic step is `ring`'s (the crate rustls already uses): PEM framing by
//! `rustls-pki-types`, DER by `RsaKeyPair::from_der` / `from_pkcs8`, the XML's numbers by
//! `RsaKeyPair::from_components` (no DER is built here). Messages never quote the key.

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::rsa::{KeyPairComponents, PublicKeyComponents};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use zeroize::Zeroizing;

/// Why a key could not be read: a sentence that names the form, never the key's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most bytes of key text read: a 4096-bit key in any of the three forms is under 4 KiB.
pub const MAX_KEY_TEXT: usize = 64 * 1024;

/// A partner's private key, ready to sign.
pub struct PartnerKey {
    pair: RsaKeyPair,
}

impl std::fmt::Debug for PartnerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartnerKey({} bits)", self.pair.public().modulus_len() * 8)
    }
}

impl PartnerKey {
    /// Reads a key from its text: PEM (PKCS#1 or PKCS#8) or .NET `RSAKeyValue` XML.
    pub fn parse(text: &str) -> Result<PartnerKey, KeyError> {
        if text.len() > MAX_KEY_TEXT {
            return Err(KeyError(format!(
                "the private key is longer than {MAX_KEY_TEXT} bytes; expected PEM (PKCS#1 or PKCS#8) or .NET RSAKeyValue XML"
            )));
        }
        let trimmed = text.trim_start_matches('\u{feff}').trim();
        let pair = if trimmed.starts_with('<') {
            from_xml(trimmed)?
        } else if trimmed.starts_with("-----BEGIN") {
            from_pem(trimmed)?
        } else {
            return Err(KeyError(
                "the private key is neither PEM (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----) nor .NET RSAKeyValue XML".into(),
            ));
        };
        if pair.public().modulus_len() < 256 {
            return Err(KeyError("the private key is shorter than 2048 bits".into()));
        }
        let key = PartnerKey { pair };
        // `ring` checks some of the CRT numbers when it reads a key and the rest when it
        // signs (it verifies each signature it makes): a key whose numbers do not agree
        // fails here, when it is set, rather than at the first send.
        key.sign(b"superoffice-ffi key check")?;
        Ok(key)
    }

    /// RSA PKCS#1 v1.5 with SHA-256 over `message`. Fails when the key's numbers do not
    /// agree (`ring` verifies the signature it made) or the system has no random source
    /// (used for blinding).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| KeyError("the private key could not sign (its RSA numbers do not agree)".into()))?;
        Ok(signature)
    }

    /// The public key's modulus and exponent, big-endian (for the tests' checks).
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        let public = PublicKeyComponents::<Vec<u8>>::from(self.pair.public());
        (public.n, public.e)
    }
}

fn from_pem(text: &str) -> Result<RsaKeyPair, KeyError> {
    let der = PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|_| {
        KeyError("the private key's PEM could not be read (no RSA PRIVATE KEY or PRIVATE KEY block, or bad base64)".into())
    })?;
    let pair = match &der {
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der())
            .map_err(|e| KeyError(format!("the PKCS#1 private key is not a valid RSA key ({e})")))?,
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der())
            .map_err(|e| KeyError(format!("the PKCS#8 private key is not a valid RSA key ({e})")))?,
        _ => return Err(KeyError("the private key is not an RSA key (PKCS#1 or PKCS#8 expected)".into())),
    };
    Ok(pair)
}

/// The eight elements of .NET's `RSAKeyValue`, in the order `ring` wants them.
const XML_ELEMENTS: [&str; 8] = ["Modulus", "Exponent", "P", "Q", "DP", "DQ", "InverseQ", "D"];

/// A strict reader of `<RSAKeyValue>` with exactly the eight elements (any order, each
/// once, white space between them allowed), each value standard Base64.
fn from_xml(text: &str) -> Result<RsaKeyPair, KeyError> {
    let bad = |why: &str| KeyError(format!("the RSAKeyValue XML private key {why}"));
    let mut rest = text
        .strip_prefix("<RSAKeyValue>")
        .and_then(|r| r.strip_suffix("</RSAKeyValue>"))
        .ok_or_else(|| bad("must be <RSAKeyValue>...</RSAKeyValue>"))?;
    let mut values: [Option<Zeroizing<Vec<u8>>>; 8] = Default::default();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let open_end = rest.find('>').filter(|_| rest.starts_with('<')).ok_or_else(|| bad("has text outside its elements"))?;
        let name = &rest[1..open_end];
        let index = XML_ELEMENTS
            .iter()
            .position(|e| *e == name)
            .ok_or_else(|| bad("has an element that is not one of Modulus, Exponent, P, Q, DP, DQ, InverseQ, D"))?;
        let after = &rest[open_end + 1..];
        let close = format!("</{name}>");
        let value_end = after.find(&close).ok_or_else(|| bad(&format!("has no </{name}>")))?;
        let value: String = after[..value_end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let value = Zeroizing::new(value);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_bytes())
            .map_err(|_| bad(&format!("has an element {name} that is not standard Base64")))?;
        if bytes.is_empty() {
            return Err(bad(&format!("has an empty element {name}")));
        }
        if values[index].replace(Zeroizing::new(bytes)).is_some() {
            return Err(bad(&format!("has the element {name} twice")));
        }
        rest = &after[value_end + close.len()..];
    }
    if let Some(missing) = XML_ELEMENTS.iter().zip(&values).find(|(_, v)| v.is_none()).map(|(n, _)| n) {
        return Err(bad(&format!("has no element {missing}")));
    }
    let v = |i: usize| values[i].as_deref().map(Vec::as_slice).unwrap_or_default();
    let components = KeyPairComponents {
        public_key: PublicKeyComponents { n: v(0), e: v(1) },
        p: v(2),
        q: v(3),
        dP: v(4),
        dQ: v(5),
        qInv: v(6),
        d: v(7),
    };
    RsaKeyPair::from_components(&components).map_err(|e| bad(&format!("is not a consistent RSA key ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS1: &str = include_str!("../../tests/keys/partner.pkcs1.pem");
    const PKCS8: &str = include_str!("../../tests/keys/partner.pkcs8.pem");
    const XML: &str = include_str!("../../tests/keys/partner.xml");

    #[test]
    fn the_three_forms_are_one_key() {
        let a = PartnerKey::parse(PKCS1).unwrap();
        let b = PartnerKey::parse(PKCS8).unwrap();
        let c = PartnerKey::parse(XML).unwrap();
        assert_eq!(a.public_components(), b.public_components());
        assert_eq!(a.public_components(), c.public_components());
        // PKCS#1 v1.5 signatures are deterministic: the three sign alike.
        assert_eq!(a.sign(b"x").unwrap(), b.sign(b"x").unwrap());
        assert_eq!(a.sign(b"x").unwrap(), c.sign(b"x").unwrap());
        assert_eq!(a.sign(b"x").unwrap().len(), 256);
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        let k = PartnerKey::parse(XML).unwrap();
        let (n, e) = k.public_components();
        let sig = k.sign(b"Partner App-8k8Q7DmBgo.202612040550").unwrap();
        ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, b"Partner App-8k8Q7DmBgo.202612040550", &sig)
            .unwrap();
    }

    #[test]
    fn xml_with_white_space_and_another_order_is_read() {
        let spaced = XML.replace("><", ">\n  <").replace("<D>", "<D>\n");
        assert!(PartnerKey::parse(&spaced).is_ok());
    }

    #[test]
    fn unreadable_keys_are_refused_without_quoting_them() {
        let secret_piece = &XML[20..60];
        let cases = [
            String::new(),
            "not a key".into(),
            XML.replace("<D>", "<X>").replace("</D>", "</X>"),
            XML.replace("<P>", "<P>!!"),
            XML.replacen("<Modulus>", "<Modulus>AAAA", 1),
            XML.replace("</RSAKeyValue>", "<D>AQAB</D></RSAKeyValue>"),
            PKCS8.replace("BEGIN PRIVATE KEY", "BEGIN CERTIFICATE").replace("END PRIVATE KEY", "END CERTIFICATE"),
            PKCS1.replacen('M', "!", 1),
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
            format!("<RSAKeyValue>{secret_piece}"),
            "x".repeat(MAX_KEY_TEXT + 1),
            // DP cut short: ring reads it, and refuses it only when it signs.
            XML.replacen("<DP>hAy5", "<DP>", 1),
        ];
        for case in &cases {
            let e = PartnerKey::parse(case).unwrap_err();
            assert!(!e.0.contains(secret_piece), "{}", e.0);
            assert!(e.0.contains("private key"), "{}", e.0);
        }
    }
}
