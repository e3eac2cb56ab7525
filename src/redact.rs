//! Keeping secrets out of text: user information in URLs, and every configured secret.
//!
//! Every message that may quote a URL (the base URL, a proxy URL, a library's error
//! text) goes through [`hide_userinfo`], the one place that decides what counts as user
//! information. Every text that came from the server or from a library below this one
//! (error bodies, `Location`, ureq's and the system's error text) goes through a
//! [`Secrets`] before it reaches a message, a log line or a batch result: the one place
//! that decides which configured values are secret.

use zeroize::Zeroizing;

/// Longest text kept from a library's error, in characters.
const MAX_QUOTED: usize = 300;

/// What a hidden secret becomes.
pub const HIDDEN: &str = "***";

/// Shortest start of a secret hidden where a text was cut short (at a length bound) in
/// the middle of it: shorter ends are too likely to be ordinary text.
const MIN_CUT_PREFIX: usize = 4;

/// Hides the user information of every URL-like word of `text`: in
/// `http://user:pa@ss@host:3128/x` everything between `://` and the last `@` of the word
/// becomes `***`. A word without `://` is hidden up to its last `@` when a `:` comes
/// before that `@` (`user:password@host`); a plain e-mail address stays as it is.
/// Control characters become spaces, so the text stays one line.
pub fn hide_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        hide_in_url(word, &mut out);
    }
    one_bounded_line(&out)
}

/// [`hide_userinfo`] for a text that is meant to be one URL (a base URL as the caller
/// wrote it): the rule applies to the whole text, spaces included, so a password with a
/// space in it (`https://user:pa ss@host`) is hidden whole.
pub fn hide_userinfo_of_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    hide_in_url(url, &mut out);
    one_bounded_line(&out)
}

/// The rule: everything between `://` and the last `@` is user information; without
/// `://`, everything before the last `@` when a `:` comes before it.
fn hide_in_url(url: &str, out: &mut String) {
    let hidden = url.rfind('@').and_then(|at| match url[..at].find("://") {
        Some(s) => Some((s + 3, at)),
        None => url[..at].contains(':').then_some((0, at)),
    });
    match hidden {
        Some((start, at)) => {
            out.push_str(&url[..start]);
            out.push_str(HIDDEN);
            out.push_str(&url[at..]);
        }
        None => out.push_str(url),
    }
}

fn one_bounded_line(text: &str) -> String {
    text.chars().take(MAX_QUOTED).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The secrets of one client: every value whose text must never reach a message, a log
/// line or a batch result. Wiped from memory when dropped; `Debug` shows only how many.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so a secret that contains another is hidden whole.
    list: Vec<Zeroizing<String>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} hidden)", self.list.len())
    }
}

impl Secrets {
    /// Adds one secret (a credential the callback returned, for instance). Empty text
    /// is not a secret.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() || self.list.iter().any(|s| s.as_str() == secret) {
            return;
        }
        self.list.push(Zeroizing::new(secret.to_string()));
        self.list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The password of a proxy URL `scheme://user:password@host:port`, as written and
    /// percent-decoded.
    pub fn add_proxy_password(&mut self, url: &str) {
        let rest = url.find("://").map_or(url, |i| &url[i + 3..]);
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        let Some(at) = authority.rfind('@') else { return };
        let Some((_, password)) = authority[..at].split_once(':') else { return };
        self.add(password);
        // Decoded into a buffer of its final size, wiped when dropped.
        let mut decoded = Zeroizing::new(Vec::with_capacity(password.len()));
        decoded.extend(percent_encoding::percent_decode_str(password));
        if let Ok(text) = std::str::from_utf8(&decoded) {
            self.add(text);
        }
    }

    /// `text` with every secret replaced by `***`. A text that ends with the start of a
    /// secret (at least four bytes of it: a quote cut at a length bound) loses that end
    /// too.
    pub fn hide(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.list {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), HIDDEN);
            }
        }
        for secret in &self.list {
            let longest = (MIN_CUT_PREFIX..secret.len())
                .rev()
                .filter(|&n| secret.is_char_boundary(n))
                .find(|&n| out.ends_with(&secret[..n]));
            if let Some(n) = longest {
                out.truncate(out.len() - n);
                out.push_str(HIDDEN);
            }
        }
        out
    }

    /// [`hide`](Self::hide) for an optional text.
    pub fn hide_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.hide(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_user_information_up_to_the_last_at() {
        for (text, shown) in [
            ("via http://u:p@proxy:3128 failed", "via http://***@proxy:3128 failed"),
            ("http://us@er:p@ss@proxy:3128/", "http://***@proxy:3128/"),
            ("http://u:p%40x@h", "http://***@h"),
            ("user:secret@host:80", "***@host:80"),
            ("to kari@example.com failed", "to kari@example.com failed"),
            ("plain text", "plain text"),
            ("user:secret@host://x", "***@host://x"),
            ("a\nb", "a b"),
        ] {
            assert_eq!(hide_userinfo(text), shown, "{text:?}");
        }
    }

    #[test]
    fn one_url_hides_user_information_with_spaces_in_it() {
        for (url, shown) in [
            ("https://user:pa ss@host/x", "https://***@host/x"),
            ("user:pa ss@host", "***@host"),
            // Found by fuzz/fuzz_targets/base_url.rs.
            ("https://URL 'https://***@>' is not a v", "https://***@>' is not a v"),
            ("https://host/a b", "https://host/a b"),
        ] {
            assert_eq!(hide_userinfo_of_url(url), shown, "{url:?}");
        }
    }

    #[test]
    fn a_secret_cut_at_the_end_is_hidden_too() {
        let mut secrets = Secrets::default();
        secrets.add("7T:abcdefgh");
        assert_eq!(secrets.hide("ticket 7T:abcde"), "ticket ***");
        assert_eq!(secrets.hide("ticket 7T:"), "ticket 7T:", "fewer than four bytes stay");
        assert_eq!(secrets.hide("nothing here"), "nothing here");
        assert_eq!(format!("{secrets:?}"), "Secrets(1 hidden)");
    }
}
