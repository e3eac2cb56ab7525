//! The base URL of an installation or tenant: parsed, normalised, its host name in its
//! ASCII form (IDNA), and shown without user information.

use crate::error::Error;
use crate::redact::hide_userinfo_of_url;

/// The base URL of an installation or tenant, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and optional port, the host lower-cased and in its ASCII form (an
    /// international name converted by IDNA, `xn--...`): what goes on the wire.
    pub authority: String,
    /// Host and optional port as the user wrote them (ASCII lower-cased): what
    /// messages show.
    pub shown_authority: String,
    /// The tenant path without a trailing `/` or `/api`, e.g. `/Cust12345` or ``.
    pub path: String,
}

impl BaseUrl {
    /// Parses and normalises a base URL such as `https://sod.superoffice.com/Cust12345/api/`.
    pub fn parse(input: &str) -> Result<BaseUrl, Error> {
        let bad = |why: &str| Error::invalid(format!("base URL '{}' {why}", shown_url(input)));
        if input.is_empty() {
            return Err(bad("is empty"));
        }
        if input.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("contains a space or control character"));
        }
        let (ascii_input, shown_authority) = match idna_host(input) {
            Ok(Some((converted, shown))) => (converted, Some(shown)),
            Ok(None) => (input.to_string(), None),
            Err(why) => return Err(bad(&why)),
        };
        let uri: ureq::http::Uri = ascii_input
            .parse()
            .map_err(|_| bad("is not a valid URL"))?;
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => "http",
            Some(s) if s.eq_ignore_ascii_case("https") => "https",
            Some(_) => return Err(bad("must start with http:// or https://")),
            None => return Err(bad("must be absolute (http:// or https://)")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad(
                "must not contain credentials; use so_options_set_basic_auth",
            ));
        }
        if authority.host().is_empty() {
            return Err(bad("has no host"));
        }
        // The URI parser takes any text after the host's ':' as a port.
        let port = authority.as_str()[authority.as_str().rfind(']').unwrap_or(0)..]
            .rsplit_once(':')
            .map(|(_, p)| p);
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            if !p.bytes().all(|b| b.is_ascii_digit()) || !matches!(p.parse::<u16>(), Ok(1..)) {
                return Err(bad("has an invalid port (expected a number from 1 to 65535)"));
            }
        }
        if uri.query().is_some() || input.contains('#') {
            return Err(bad("must not have a query or fragment"));
        }
        let mut path = uri.path().trim_end_matches('/').to_string();
        // Compared as bytes: the path may end in a multi-byte character (found by
        // fuzz/fuzz_targets/base_url.rs: slicing the string there panicked).
        if path.len() >= 4 && path.as_bytes()[path.len() - 4..].eq_ignore_ascii_case(b"/api") {
            path.truncate(path.len() - 4);
        }
        let path = path.trim_end_matches('/').to_string();
        let authority = authority.as_str().to_ascii_lowercase();
        Ok(BaseUrl {
            scheme: scheme.to_string(),
            shown_authority: shown_authority.unwrap_or_else(|| authority.clone()),
            authority,
            path,
        })
    }

    /// `scheme://authority/path` of this base, without `/api`: the URL requests go to.
    pub fn root(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }

    /// [`root`](Self::root) with the host as the user wrote it: the URL messages show.
    pub fn shown_root(&self) -> String {
        format!("{}://{}{}", self.scheme, self.shown_authority, self.path)
    }
}

/// An international host name (one with non-ASCII characters, or an `xn--` label) in
/// its ASCII form, as browsers, curl and .NET's `Uri` send it (IDNA, UTS 46 with the
/// URL standard's rules). `Ok(None)` when the host needs no conversion; otherwise the
/// input with its host converted, and the authority as written (lower-cased where
/// ASCII). `Err` names what IDNA refuses.
fn idna_host(input: &str) -> Result<Option<(String, String)>, String> {
    let Some(start) = input.find("://").map(|i| i + 3) else { return Ok(None) };
    let end = input[start..].find(['/', '?', '#']).map_or(input.len(), |i| start + i);
    let authority = &input[start..end];
    if authority.contains('@') || authority.starts_with('[') {
        return Ok(None); // refused later (credentials), or an IPv6 literal
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let needs = !host.is_ascii()
        || host.split('.').any(|label| label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
    if !needs {
        return Ok(None);
    }
    let ascii = idna::domain_to_ascii_cow(host.as_bytes(), idna::AsciiDenyList::URL).map_err(|_| {
        let label = host
            .split('.')
            .find(|l| idna::domain_to_ascii_cow(l.as_bytes(), idna::AsciiDenyList::URL).is_err());
        match label {
            Some(l) => format!(
                "has a host name that is not valid under IDNA (UTS 46): the label '{}' is refused \
                 (a character not allowed in host names, or bad punycode)",
                l.chars().take(64).collect::<String>()
            ),
            None => "has a host name that is not valid under IDNA (UTS 46): its labels mix \
                     writing directions or break the joining rules"
                .to_string(),
        }
    })?;
    if ascii.is_empty() {
        return Err("has no host".into());
    }
    let converted = format!("{}{}{}{}", &input[..start], ascii, &authority[host.len()..], &input[end..]);
    Ok(Some((converted, authority.to_ascii_lowercase())))
}

/// What of a URL may be shown in a message: never its user information.
///
/// The rule is [`crate::redact::hide_userinfo_of_url`]'s (the whole input is one URL,
/// spaces included); at most 200 characters are shown.
fn shown_url(input: &str) -> String {
    hide_userinfo_of_url(input).chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> BaseUrl {
        BaseUrl::parse(s).unwrap()
    }

    #[test]
    fn base_url_forms_mean_the_same() {
        for form in [
            "https://sod.superoffice.com/Cust12345",
            "https://sod.superoffice.com/Cust12345/",
            "https://sod.superoffice.com/Cust12345/api",
            "https://sod.superoffice.com/Cust12345/api/",
            "https://SOD.superoffice.com/Cust12345/API/",
        ] {
            assert_eq!(base(form).root(), "https://sod.superoffice.com/Cust12345", "{form}");
        }
        assert_eq!(base("http://127.0.0.1:8080").root(), "http://127.0.0.1:8080");
        assert_eq!(base("http://127.0.0.1:8080/api").root(), "http://127.0.0.1:8080");
        assert_eq!(base("https://crm.example.com/SuperOffice/").root(), "https://crm.example.com/SuperOffice");
        assert_eq!(base("https://h/apis").root(), "https://h/apis");
        assert_eq!(base("https://[::1]:8443/x").root(), "https://[::1]:8443/x");
        assert_eq!(base("http://h:65535").root(), "http://h:65535");
        // A path that ends in a multi-byte character (found by fuzzing: it panicked).
        assert_eq!(base("http://1/27xt\u{44b}080").path, "/27xt\u{44b}080");
        assert_eq!(base("http://h/\u{44b}").path, "/\u{44b}");
    }

    #[test]
    fn international_host_names_go_out_in_their_ascii_form() {
        let b = base("https://crm.bæk.no/SuperOffice");
        assert_eq!(b.root(), "https://crm.xn--bk-1ia.no/SuperOffice");
        assert_eq!(b.shown_root(), "https://crm.bæk.no/SuperOffice");
        let b = base("http://Sø.BÆK.no:8080/api");
        assert_eq!(b.root(), "http://xn--s-5ga.xn--bk-1ia.no:8080");
        assert_eq!(b.shown_root(), "http://sø.bÆk.no:8080");
        assert_eq!(base("https://crm.xn--bk-1ia.no/x").root(), "https://crm.xn--bk-1ia.no/x");
        assert_eq!(base("https://crm.xn--bk-1ia.no/x").shown_root(), "https://crm.xn--bk-1ia.no/x");
        assert_eq!(base("https://plain.example.com").shown_root(), "https://plain.example.com");
        for bad in ["https://xn--zz-.no/x", "https://a\u{200d}b.no/", "https://bæk\u{fffd}.no/", "https://a.xn--a-ecp.ru/"] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(e.message.contains("not valid under IDNA"), "{bad}: {}", e.message);
        }
        let e = BaseUrl::parse("https://ok.xn--zz-.no/x").unwrap_err();
        assert!(e.message.contains("the label 'xn--zz-' is refused"), "{}", e.message);
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in [
            "",
            "sod.superoffice.com/Cust1",
            "ftp://host/x",
            "https://",
            "https://host/a b",
            "https://host/x?y=1",
            "https://host/x#frag",
            "https://user:pw@host/x",
            "https://host/\r\nX: y",
            "http:/host",
            "https://host:port/x",
            "https://host:99999/x",
            "https://host:0/x",
            "https://[::1]:x/y",
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(!e.message.contains("pw@"), "{}", e.message);
        }
    }

    #[test]
    fn refused_base_urls_never_show_user_information() {
        for (bad, secret) in [
            ("https://user:secret@host/x", "secret"),
            ("https://us@er:secret@host/x", "secret"),
            ("https://user:sec/ret@host/x", "sec/ret"),
            ("https://user:secret@host/x y", "secret"),
            ("https://user:sec ret@host/x", "sec"),
            ("user:sec ret@host", "sec"),
            ("user:secret@host", "secret"),
            ("user:secret@host://x", "secret"),
        ] {
            let e = BaseUrl::parse(bad).unwrap_err();
            assert!(!e.message.contains(secret), "{bad}: {}", e.message);
        }
        let e = BaseUrl::parse("https://host/\r\nX: y").unwrap_err();
        assert!(!e.message.contains('\n') && !e.message.contains('\r'), "{}", e.message);
    }
}
