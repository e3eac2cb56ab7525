//! Authentication: the schemes and their `Authorization` header, the provider of fresh
//! credentials, and the secrets they add to a client's [`Secrets`]. The secret string type
//! itself is [`crate::secret::Secret`].

use base64::Engine as _;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::redact::Secrets;

pub use crate::secret::Secret;

/// Checks a value that goes into an HTTP header: not empty, no control characters.
pub fn check_header_value(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "{what} must not contain CR, LF or other control characters"
        )));
    }
    Ok(())
}

/// How requests authenticate; one scheme at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (an XSRF token may still be sent).
    #[default]
    None,
    /// `Authorization: Basic base64(user:password)`.
    Basic { user: Secret, password: Secret },
    /// `Authorization: SOTicket <ticket>`.
    Ticket(Secret),
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

impl Auth {
    /// Basic authentication, checked.
    pub fn basic(user: &str, password: &str) -> Result<Auth, Error> {
        if user.contains(':') {
            return Err(Error::invalid("the user name for basic authentication must not contain ':'"));
        }
        if user.chars().chain(password.chars()).any(|c| c.is_control()) {
            return Err(Error::invalid(
                "the user name and password must not contain control characters",
            ));
        }
        if user.is_empty() {
            return Err(Error::invalid("the user name for basic authentication must not be empty"));
        }
        Ok(Auth::Basic { user: Secret::new(user), password: Secret::new(password) })
    }

    /// Ticket authentication, checked.
    pub fn ticket(ticket: &str) -> Result<Auth, Error> {
        check_header_value("the ticket", ticket)?;
        Ok(Auth::Ticket(Secret::new(ticket)))
    }

    /// Bearer authentication, checked.
    pub fn bearer(token: &str) -> Result<Auth, Error> {
        check_header_value("the access token", token)?;
        Ok(Auth::Bearer(Secret::new(token)))
    }

    /// The `Authorization` header value, if any; wiped when dropped.
    ///
    /// Every buffer is allocated at its final size: a `String` that grows leaves its old
    /// block, with the part of the secret written so far, unwiped on the heap
    /// (`tests/zeroize.rs` checks this).
    pub fn header_value(&self) -> Option<Zeroizing<String>> {
        fn joined(parts: &[&str]) -> Zeroizing<String> {
            let mut out = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
            for p in parts {
                out.push_str(p);
            }
            out
        }
        match self {
            Auth::None => None,
            Auth::Basic { user, password } => {
                let pair = joined(&[user.expose(), ":", password.expose()]);
                let encoded = base64::encoded_len(pair.len(), true).unwrap_or(0);
                let mut v = Zeroizing::new(String::with_capacity("Basic ".len() + encoded));
                v.push_str("Basic ");
                base64::engine::general_purpose::STANDARD.encode_string(pair.as_bytes(), &mut v);
                Some(v)
            }
            Auth::Ticket(t) => Some(joined(&["SOTicket ", t.expose()])),
            Auth::Bearer(t) => Some(joined(&["Bearer ", t.expose()])),
        }
    }

    /// The same scheme with a fresh credential, for ticket and bearer; `None` otherwise.
    pub fn refreshed(&self, fresh: &str) -> Option<Result<Auth, Error>> {
        match self {
            Auth::Ticket(_) => Some(Auth::ticket(fresh)),
            Auth::Bearer(_) => Some(Auth::bearer(fresh)),
            _ => None,
        }
    }

    /// Adds this scheme's secrets: the ticket or bearer token; the basic user's password,
    /// `user:password` and its base64.
    pub fn add_secrets(&self, s: &mut Secrets) {
        match self {
            Auth::None => {}
            Auth::Ticket(t) | Auth::Bearer(t) => s.add(t.expose()),
            Auth::Basic { user, password } => {
                s.add(password.expose());
                // Allocated at its final size: a growing buffer would leave a freed copy of
                // its start unwiped (tests/zeroize.rs).
                let (user, password) = (user.expose(), password.expose());
                let mut pair = Zeroizing::new(String::with_capacity(user.len() + 1 + password.len()));
                pair.push_str(user);
                pair.push(':');
                pair.push_str(password);
                s.add(&pair);
                s.add(&Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())));
            }
        }
    }
}

/// Asks the host program for a fresh ticket or token after a 401.
pub trait CredentialsProvider: Send + Sync {
    /// A fresh credential, or `None` when there is none.
    fn fresh_credential(&self) -> Option<Secret>;
}

/// Shown as `callback` (what it holds is the host program's).
impl std::fmt::Debug for dyn CredentialsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("callback")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_refuse_control_characters() {
        assert!(check_header_value("x", "7T:abc==").is_ok());
        for bad in ["", "a\rb", "a\nb", "a\u{0}b", "a\tb", "a\u{7f}"] {
            assert!(check_header_value("x", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn basic_auth_header_matches_the_reference_sample() {
        let auth = Auth::basic("tje0", "Tje0").unwrap();
        assert_eq!(auth.header_value().unwrap().as_str(), "Basic dGplMDpUamUw");
        assert!(Auth::basic("a:b", "x").is_err());
        assert!(Auth::basic("", "x").is_err());
        assert!(Auth::basic("a", "x\ny").is_err());
    }

    #[test]
    fn ticket_and_bearer_headers() {
        assert_eq!(
            Auth::ticket("7T:dGVzdA==").unwrap().header_value().unwrap().as_str(),
            "SOTicket 7T:dGVzdA=="
        );
        assert_eq!(Auth::bearer("8A:x").unwrap().header_value().unwrap().as_str(), "Bearer 8A:x");
        assert!(Auth::ticket("a\nb").is_err());
    }
}
