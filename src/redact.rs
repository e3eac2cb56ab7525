//! Keeping secrets out of text: user information in URLs.
//!
//! Every message that may quote a URL (the base URL, a proxy URL, a library's error
//! text) goes through [`hide_userinfo`], the one place that decides what counts as user
//! information.

/// Longest text kept from a library's error, in characters.
const MAX_QUOTED: usize = 300;

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
        let hidden = word.rfind('@').and_then(|at| match word[..at].find("://") {
            Some(s) => Some((s + 3, at)),
            None => word[..at].contains(':').then_some((0, at)),
        });
        match hidden {
            Some((start, at)) => {
                out.push_str(&word[..start]);
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
    }
    out.chars().take(MAX_QUOTED).map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::hide_userinfo;

    #[test]
    fn hides_user_information_up_to_the_last_at() {
        assert_eq!(hide_userinfo("via http://u:p@proxy:3128 failed"), "via http://***@proxy:3128 failed");
        assert_eq!(hide_userinfo("http://us@er:p@ss@proxy:3128/"), "http://***@proxy:3128/");
        assert_eq!(hide_userinfo("http://u:p%40x@h"), "http://***@h");
        assert_eq!(hide_userinfo("user:secret@host:80"), "***@host:80");
        assert_eq!(hide_userinfo("to kari@example.com failed"), "to kari@example.com failed");
        assert_eq!(hide_userinfo("plain text"), "plain text");
        assert_eq!(hide_userinfo("user:secret@host://x"), "***@host://x");
        assert_eq!(hide_userinfo("a\nb"), "a b");
    }
}
