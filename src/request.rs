//! The request: URL, headers and JSON body, built from the settings once per client.

use bytes::Bytes;
use percent_encoding::{AsciiSet, CONTROLS};
use ureq::http::header::{HeaderName, HeaderValue, ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, USER_AGENT};
use ureq::http::{HeaderMap, Uri};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::settings::{Secret, Settings};

/// The endpoint's path below the base URL.
pub const ENDPOINT_PATH: &str = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";

/// The `User-Agent` this library sends.
pub const USER_AGENT_VALUE: &str = concat!("superoffice-ffi/", env!("CARGO_PKG_VERSION"));

/// Characters of a query value (`$select`, the person search's `$filter`) that are
/// percent-encoded: everything a query cannot carry as is, what would change its meaning
/// (`&`, `=`, `#`, `%`) and what would be read as a space (`+`). Non-ASCII is always
/// encoded (UTF-8). `'`, `@`, `/`, `,` and `$` are legal in a query and stay.
pub(crate) const QUERY_VALUE_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One Customer Centre password e-mail to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordEmail<'a> {
    /// The person whose reply template is used; positive.
    pub person_id: i32,
    /// Sender's address, or `None` for JSON `null`.
    pub from: Option<&'a str>,
    /// Recipient's address, or `None` for JSON `null`.
    pub to: Option<&'a str>,
    /// Subject, or `None` for JSON `null`.
    pub subject: Option<&'a str>,
}

impl PasswordEmail<'_> {
    /// The request body: `{"PersonId":..,"From":..,"To":..,"Subject":..}`.
    pub fn json_body(&self) -> Result<Vec<u8>, Error> {
        if self.person_id <= 0 {
            return Err(Error::invalid(format!(
                "person_id must be positive, got {}",
                self.person_id
            )));
        }
        // Keys in the reference page's order; serde_json escapes the strings (those with
        // nothing to escape, the usual case, are copied as they are: the same bytes).
        let len = |v: Option<&str>| v.map_or(4, |s| s.len() + 2);
        let mut out = Vec::with_capacity(56 + len(self.from) + len(self.to) + len(self.subject));
        out.extend_from_slice(b"{\"PersonId\":");
        out.extend_from_slice(self.person_id.to_string().as_bytes());
        let fields: [(&[u8], _); 3] =
            [(b",\"From\":", self.from), (b",\"To\":", self.to), (b",\"Subject\":", self.subject)];
        for (key, value) in fields {
            out.extend_from_slice(key);
            match value {
                None => out.extend_from_slice(b"null"),
                Some(v) if !v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) => {
                    out.push(b'"');
                    out.extend_from_slice(v.as_bytes());
                    out.push(b'"');
                }
                Some(v) => serde_json::to_writer(&mut out, v).map_err(|e| Error::invalid(e.to_string()))?,
            }
        }
        out.push(b'}');
        Ok(out)
    }
}


/// What does not change from one request to the next.
#[derive(Clone, Debug)]
pub struct PreparedRequest {
    /// The full URL, `$select` included.
    pub uri: Uri,
    /// The URL as shown in messages and logs (it holds no secret), with the host as the
    /// user wrote it.
    pub shown_url: String,
    /// Every header but `Authorization`.
    pub headers: HeaderMap,
    /// The base URL's root (`https://host/Cust12345`), for the other requests (the person
    /// search).
    pub root: String,
    /// [`root`](Self::root) as messages show it.
    pub shown_root: String,
}

/// A header value built from a secret: its bytes are wiped when the last copy is dropped.
pub fn secret_header_value(value: Zeroizing<String>) -> Result<HeaderValue, Error> {
    let bytes = Bytes::from_owner(Zeroizing::new(value.as_bytes().to_vec()));
    HeaderValue::from_maybe_shared(bytes)
        .map_err(|_| Error::invalid("a credential holds characters not allowed in a header"))
}

fn plain_header_value(what: &str, value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_bytes(value.as_bytes())
        .map_err(|_| Error::invalid(format!("{what} holds characters not allowed in a header")))
}

fn secret_value(value: &Secret) -> Result<HeaderValue, Error> {
    secret_header_value(Zeroizing::new(value.expose().to_string()))
}

impl PreparedRequest {
    /// Builds the URL and the fixed headers from the settings.
    pub fn new(settings: &Settings) -> Result<PreparedRequest, Error> {
        let mut url = format!("{}{}", settings.base.root(), ENDPOINT_PATH);
        let mut shown_url = format!("{}{}", settings.base.shown_root(), ENDPOINT_PATH);
        if let Some(select) = &settings.select {
            let query: String = percent_encoding::utf8_percent_encode(select, QUERY_VALUE_ENCODE).collect();
            for u in [&mut url, &mut shown_url] {
                u.push_str("?$select=");
                u.push_str(&query);
            }
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| Error::invalid(format!("'{url}' is not a valid request URL")))?;

        let mut headers = HeaderMap::with_capacity(12);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if let Some(t) = &settings.app_token {
            headers.insert(HeaderName::from_static("so-apptoken"), secret_value(t)?);
        }
        if let Some(t) = &settings.xsrf_token {
            headers.insert(HeaderName::from_static("x-xsrf-token"), secret_value(t)?);
        }
        if let Some(lang) = &settings.language {
            let v = plain_header_value("the language", lang)?;
            headers.insert(ACCEPT_LANGUAGE, v.clone());
            headers.insert(HeaderName::from_static("so-language"), v);
        }
        if let Some(c) = &settings.culture {
            headers.insert(HeaderName::from_static("so-culture"), plain_header_value("the culture", c)?);
        }
        if let Some(tz) = &settings.timezone {
            headers.insert(
                HeaderName::from_static("so-timezone"),
                plain_header_value("the time zone", tz)?,
            );
        }
        Ok(PreparedRequest { uri, shown_url, headers, root: settings.base.root(), shown_root: settings.base.shown_root() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: PasswordEmail) -> String {
        String::from_utf8(e.json_body().unwrap()).unwrap()
    }

    #[test]
    fn body_is_pascal_case_in_reference_order() {
        let e = PasswordEmail { person_id: 670, from: Some("autem"), to: Some("et"), subject: Some("eos") };
        assert_eq!(body(e), r#"{"PersonId":670,"From":"autem","To":"et","Subject":"eos"}"#);
    }

    #[test]
    fn absent_strings_are_null_and_text_is_escaped() {
        let e = PasswordEmail { person_id: 1, from: None, to: Some("a\"b\\c\nd é"), subject: None };
        let s = body(e);
        assert_eq!(s, "{\"PersonId\":1,\"From\":null,\"To\":\"a\\\"b\\\\c\\nd é\",\"Subject\":null}");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["To"], "a\"b\\c\nd é");
    }

    #[test]
    fn body_matches_serde_json_for_every_kind_of_string() {
        let texts = ["", "plain", "a\"b", "back\\slash", "tab\tnew\nline\r", "\u{1}\u{1f}\u{7f}", "é ü 日本", "</script>"];
        for id in [1, 9, 10, 670, 99_999, i32::MAX] {
            for t in texts {
                for (from, to, subject) in [(Some(t), None, Some(t)), (None, Some(t), None)] {
                    let e = PasswordEmail { person_id: id, from, to, subject };
                    let expected = serde_json::json!({"PersonId": id, "From": from, "To": to, "Subject": subject});
                    let got: serde_json::Value = serde_json::from_slice(&e.json_body().unwrap()).unwrap();
                    assert_eq!(got, expected);
                    let mut reference = format!("{{\"PersonId\":{id}");
                    for (k, v) in [("From", from), ("To", to), ("Subject", subject)] {
                        reference.push_str(&format!(",\"{k}\":{}", serde_json::to_string(&v).unwrap()));
                    }
                    reference.push('}');
                    assert_eq!(String::from_utf8(e.json_body().unwrap()).unwrap(), reference);
                }
            }
        }
    }

    #[test]
    fn person_id_must_be_positive() {
        for id in [0, -1, i32::MIN] {
            let e = PasswordEmail { person_id: id, from: None, to: None, subject: None };
            assert_eq!(e.json_body().unwrap_err().kind, crate::error::ErrorKind::InvalidArgument);
        }
    }

    #[test]
    fn url_and_headers() -> Result<(), crate::error::Error> {
        let s = Settings::builder("https://sod.superoffice.com/Cust12345/api/")?
            .select(Some("name,department,category/id"))?
            .language(Some("sv"))?
            .culture(Some("sv-SE"))?
            .timezone(Some("UTC,includeTZOffset"))?
            .app_token(Some("app"))?
            .build();
        let p = PreparedRequest::new(&s)?;
        assert_eq!(
            p.uri.to_string(),
            "https://sod.superoffice.com/Cust12345/api/v1/Agents/Person/SendCustomerCentrePasswordEmail?$select=name,department,category/id"
        );
        assert_eq!(p.headers["accept"], "application/json");
        assert_eq!(p.headers["content-type"], "application/json; charset=utf-8");
        assert_eq!(p.headers["accept-language"], "sv");
        assert_eq!(p.headers["so-language"], "sv");
        assert_eq!(p.headers["so-culture"], "sv-SE");
        assert_eq!(p.headers["so-timezone"], "UTC,includeTZOffset");
        assert_eq!(p.headers["so-apptoken"], "app");
        assert!(p.headers.get("x-xsrf-token").is_none());
        Ok(())
    }

    #[test]
    fn select_is_percent_encoded_where_needed() {
        let s = Settings::builder("http://h").unwrap().select(Some("a b,c&d=e#f/g")).unwrap().build();
        let p = PreparedRequest::new(&s).unwrap();
        assert_eq!(p.uri.query(), Some("$select=a%20b,c%26d%3De%23f/g"));
    }
}
