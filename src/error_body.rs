//! SuperOffice error bodies: `{"Error":true,"ErrorType":..,"ErrorMessage"|"Message":..}`.

/// What a SuperOffice error body says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// `ErrorType`, e.g. `SoNotFoundException`.
    pub error_type: Option<String>,
    /// `ErrorMessage`, or `Message` in the variant some servers send.
    pub message: Option<String>,
}

/// Longest text taken from one field of an error body.
const MAX_FIELD: usize = 1024;

fn field(v: &serde_json::Value, key: &str) -> Option<String> {
    let s = v.get(key)?.as_str()?.trim();
    if s.is_empty() {
        return None;
    }
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_FIELD)
        .collect();
    Some(cleaned)
}

/// The string value of `"key":` in text that is not whole JSON (a body cut at the read
/// bound), decoded by serde_json.
fn scan_field(body: &[u8], key: &str) -> Option<String> {
    let needle = format!("\"{key}\"");
    let start = body.windows(needle.len()).position(|w| w == needle.as_bytes())? + needle.len();
    let rest = &body[start..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let mut values = serde_json::Deserializer::from_slice(&rest[colon + 1..]).into_iter::<String>();
    let v = serde_json::Value::String(values.next()?.ok()?);
    field(&serde_json::json!({ "v": v }), "v")
}

/// Parses an error body; `None` when it is not a JSON object with either field. A body
/// cut short at the read bound is scanned for the two fields.
pub fn parse(body: &[u8]) -> Option<ErrorBody> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        if !body.trim_ascii_start().starts_with(b"{") {
            return None;
        }
        let parsed = ErrorBody {
            error_type: scan_field(body, "ErrorType"),
            message: scan_field(body, "ErrorMessage").or_else(|| scan_field(body, "Message")),
        };
        return (parsed.error_type.is_some() || parsed.message.is_some()).then_some(parsed);
    };
    if !v.is_object() {
        return None;
    }
    let parsed = ErrorBody {
        error_type: field(&v, "ErrorType"),
        message: field(&v, "ErrorMessage").or_else(|| field(&v, "Message")),
    };
    (parsed.error_type.is_some() || parsed.message.is_some()).then_some(parsed)
}

/// A short, one-line excerpt of a body that is not a SuperOffice error body.
pub fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    (!one_line.is_empty()).then_some(one_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_body() {
        let b = br#"{"Error": true, "ErrorType": "SoNotFoundException", "ErrorMessage": "Contact id 99999 not found", "ErrorSource": "SuperOffice.Services.Implementation"}"#;
        let p = parse(b).unwrap();
        assert_eq!(p.error_type.as_deref(), Some("SoNotFoundException"));
        assert_eq!(p.message.as_deref(), Some("Contact id 99999 not found"));
    }

    #[test]
    fn message_variant() {
        let b = br#"{"Error": true, "ErrorType": "ArgumentException", "Message": "bad", "ErrorSource": "x"}"#;
        let p = parse(b).unwrap();
        assert_eq!(p.error_type.as_deref(), Some("ArgumentException"));
        assert_eq!(p.message.as_deref(), Some("bad"));
    }

    #[test]
    fn a_body_cut_at_the_bound_still_gives_its_fields() {
        let b = br#"{"Error":true,"ErrorType":"SoStubException","ErrorMessage":"stub \"500\"","Padding":"xxxxxxxx"#;
        let p = parse(b).unwrap();
        assert_eq!(p.error_type.as_deref(), Some("SoStubException"));
        assert_eq!(p.message.as_deref(), Some("stub \"500\""));
        assert_eq!(parse(br#"{"Padding":"xxxx"#), None);
        assert_eq!(parse(br#"{"ErrorType": 5, "x"#), None);
    }

    #[test]
    fn not_error_bodies() {
        assert_eq!(parse(b"<html>oops</html>"), None);
        assert_eq!(parse(b"null"), None);
        assert_eq!(parse(b"[1,2]"), None);
        assert_eq!(parse(b"{}"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(&[0xff, 0xfe, b'{']), None);
    }

    #[test]
    fn fields_are_bounded_and_single_line() {
        let long = "x".repeat(10_000);
        let b = format!(r#"{{"ErrorType":"T","ErrorMessage":"{long}\nline2"}}"#);
        let p = parse(b.as_bytes()).unwrap();
        assert_eq!(p.message.unwrap().len(), MAX_FIELD);
        let b = br#"{"ErrorType":"T","ErrorMessage":"a\nb"}"#;
        assert_eq!(parse(b).unwrap().message.as_deref(), Some("a b"));
    }

    #[test]
    fn excerpt_is_one_bounded_line() {
        assert_eq!(excerpt(b"<html>\n <b>Bad</b>\n</html>").as_deref(), Some("<html> <b>Bad</b> </html>"));
        assert_eq!(excerpt(b"   ").as_deref(), None);
        assert_eq!(excerpt("y".repeat(1000).as_bytes()).unwrap().len(), 200);
    }
}
