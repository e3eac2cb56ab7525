//! Validation: what the real service would refuse (method, content type, body, credentials).

use super::*;

pub(super) struct Rejection {
    pub(super) status: u16,
    pub(super) etype: &'static str,
    pub(super) msg: String,
    pub(super) message_key: bool,
    pub(super) extra: Vec<(String, String)>,
}

pub(super) fn reject(status: u16, etype: &'static str, msg: impl Into<String>) -> Rejection {
    Rejection { status, etype, msg: msg.into(), message_key: false, extra: Vec::new() }
}

pub(super) fn credentials(sh: &Shared, head: &Head) -> Option<AuthKind> {
    let auths: Vec<&str> = head.headers_named("authorization").collect();
    match auths.len() {
        0 => {
            let xsrf: Vec<&str> = head.headers_named("x-xsrf-token").collect();
            (xsrf.len() == 1 && xsrf[0].trim() == "xsrf-123").then_some(AuthKind::Xsrf)
        }
        1 => {
            let v = auths[0].trim();
            let (scheme, cred) = match v.find([' ', '\t']) {
                Some(i) => (&v[..i], v[i..].trim()),
                None => (v, ""),
            };
            let fresh = cred.starts_with("fresh-");
            let issued = sh.issued_valid(cred, head.header("so-apptoken"));
            match scheme.to_ascii_lowercase().as_str() {
                "basic" if cred == "dGplMDpUamUw" => Some(AuthKind::Basic),
                "soticket" if cred == "7T:dGVzdA==" || fresh || (issued && cred.starts_with("7T:")) => Some(AuthKind::Ticket),
                "bearer" if cred == "8A:Cust12345.token" || fresh || (issued && cred.starts_with("8A:")) => Some(AuthKind::Bearer),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Validates an endpoint request; on success returns the body's PersonId.
pub(super) fn validate(sh: &Shared, head: &Head, body: &[u8], required: Option<AuthKind>) -> Result<Value, Rejection> {
    if head.method != "POST" {
        let mut r = reject(
            405,
            "MethodNotAllowed",
            format!("stub: method {} is not allowed here, use POST", head.method),
        );
        r.extra.push(("Allow".into(), "POST".into()));
        return Err(r);
    }
    let ct = head.header("content-type").unwrap_or("").trim();
    if !ct.to_ascii_lowercase().starts_with("application/json") {
        return Err(reject(
            415,
            "UnsupportedMediaType",
            format!("stub: Content-Type must be application/json, got {ct:?}"),
        ));
    }
    let person_id = check_body(body).map_err(|msg| Rejection {
        status: 400,
        etype: "ArgumentException",
        msg,
        message_key: true,
        extra: Vec::new(),
    })?;
    match credentials(sh, head) {
        Some(kind) if required.is_none() || required == Some(kind) => {}
        _ => return Err(reject(401, "UnauthorizedAccessException", "Invalid credentials")),
    }
    if person_id.as_i64() == Some(99999) {
        return Err(reject(404, "SoNotFoundException", "Person id 99999 not found"));
    }
    Ok(person_id)
}

/// The body's keys are bound without regard to case, as the real service binds them
/// (`personId` from the official TypeScript client, `PersonId` from this library);
/// a missing `From`, `To` or `Subject` is null, as there. Stricter than the service: an
/// unknown key, or one key given twice, is refused, so a misspelt key is caught.
pub(super) fn check_body(body: &[u8]) -> Result<Value, String> {
    const KEYS: [&str; 4] = ["PersonId", "From", "To", "Subject"];
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("stub: the body is not valid JSON: {e}"))?;
    let obj = v.as_object().ok_or("stub: the body must be a JSON object")?;
    let mut found: [Option<&Value>; 4] = [None; 4];
    for (k, value) in obj {
        let Some(i) = KEYS.iter().position(|known| known.eq_ignore_ascii_case(k)) else {
            return Err(format!("stub: unexpected key {k:?} (expected PersonId, From, To, Subject)"));
        };
        if found[i].replace(value).is_some() {
            return Err(format!("stub: key {:?} is given twice", KEYS[i]));
        }
    }
    let pid = found[0].ok_or("stub: missing key \"PersonId\"")?;
    if !(pid.is_i64() || pid.is_u64()) {
        return Err(format!("stub: PersonId must be an integer, got {pid}"));
    }
    for (k, value) in KEYS.iter().zip(found).skip(1) {
        if let Some(value) = value {
            if !(value.is_string() || value.is_null()) {
                return Err(format!("stub: {k} must be a string or null, got {value}"));
            }
        }
    }
    Ok(pid.clone())
}

/// `echo_credentials`: what a careless server says back, every credential it received
/// (and the request's `Subject`, for secrets no header carries to this server).
pub(super) fn echoed_credentials(head: &Head, body: &[u8]) -> String {
    let mut out = String::from(": received");
    for name in ["authorization", "so-apptoken", "x-xsrf-token", "proxy-authorization"] {
        if let Some(v) = head.header(name) {
            out.push_str(&format!(" {name}={v}"));
            if let Some(b64) = v.get(..6).filter(|s| s.eq_ignore_ascii_case("basic ")).map(|_| &v[6..]) {
                if let Some(pair) = base64_decode(b64.trim()) {
                    out.push_str(&format!(" (that is {pair})"));
                }
            }
        }
    }
    let subject = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let obj = v.as_object()?;
        obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("subject")).and_then(|(_, s)| s.as_str().map(String::from))
    });
    if let Some(subject) = subject {
        out.push_str(&format!(" subject={subject}"));
    }
    out
}

fn base64_decode(text: &str) -> Option<String> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for b in text.bytes().filter(|b| *b != b'=') {
        bits = (bits << 6) | ABC.iter().position(|c| *c == b)? as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}
