//! Answers: status lines, headers, and SuperOffice-shaped error bodies.

use super::*;

/// Per-request answer context.
pub(super) struct Ctx {
    pub(super) minor: u8,
    pub(super) keep_alive: bool,
}

impl Ctx {
    pub(super) fn connection_header(&self) -> &'static str {
        if !self.keep_alive {
            "Connection: close\r\n"
        } else if self.minor == 0 {
            "Connection: keep-alive\r\n"
        } else {
            ""
        }
    }

    pub(super) fn flow(&self) -> Flow {
        if self.keep_alive {
            Flow::KeepAlive
        } else {
            Flow::Close
        }
    }
}

pub(super) fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Stub Status",
    }
}

pub(super) fn status_has_body(code: u16) -> bool {
    !(code == 204 || code == 304 || (100..200).contains(&code))
}

/// Writes a complete answer in one write.
pub(super) fn respond(
    c: &mut Conn,
    ctx: &Ctx,
    status: u16,
    content_type: Option<&str>,
    extra: &[(String, String)],
    body: &[u8],
) -> io::Result<Flow> {
    let mut out = Vec::with_capacity(256 + body.len());
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", status, reason(status));
    if let Some(ct) = content_type {
        let _ = write!(out, "Content-Type: {ct}\r\n");
    }
    let with_body = status_has_body(status);
    if with_body {
        let _ = write!(out, "Content-Length: {}\r\n", body.len());
    }
    for (n, v) in extra {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    out.extend_from_slice(ctx.connection_header().as_bytes());
    out.extend_from_slice(b"\r\n");
    if with_body {
        out.extend_from_slice(body);
    }
    c.write_all(&out)?;
    Ok(ctx.flow())
}

// ---------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum BodyStyle {
    #[default]
    Json,
    Message,
    None,
    Html,
    Big,
}

pub(super) fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// (content type, body) of an error answer in the given style.
pub(super) fn error_payload(
    style: BodyStyle,
    status: u16,
    etype: &str,
    msg: &str,
    message_key: bool,
) -> (Option<&'static str>, Vec<u8>) {
    let key = if message_key || style == BodyStyle::Message { "Message" } else { "ErrorMessage" };
    let base = format!(
        "{{\"Error\":true,\"ErrorType\":{},\"{}\":{},\"ErrorSource\":\"Stub\"",
        js(etype),
        key,
        js(msg)
    );
    match style {
        BodyStyle::Json | BodyStyle::Message => (Some(JSON_CT), format!("{base}}}").into_bytes()),
        BodyStyle::None => (None, Vec::new()),
        BodyStyle::Html => {
            let page = format!(
                "<!DOCTYPE html>\n<html><head><title>{status} {r}</title></head>\
                 <body><h1>{status} {r}</h1><p>The stub was told to answer with an HTML page.</p></body></html>\n",
                r = reason(status)
            );
            (Some("text/html; charset=utf-8"), page.into_bytes())
        }
        BodyStyle::Big => {
            let open = ",\"Padding\":\"";
            let close = "\"}";
            let mut out = Vec::with_capacity(BIG_BODY_BYTES);
            out.extend_from_slice(base.as_bytes());
            out.extend_from_slice(open.as_bytes());
            let pad = BIG_BODY_BYTES.saturating_sub(base.len() + open.len() + close.len());
            out.resize(out.len() + pad, b'x');
            out.extend_from_slice(close.as_bytes());
            (Some(JSON_CT), out)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn respond_error(
    c: &mut Conn,
    ctx: &Ctx,
    style: BodyStyle,
    status: u16,
    etype: &str,
    msg: &str,
    message_key: bool,
    extra: &[(String, String)],
) -> io::Result<Flow> {
    let (ct, body) = error_payload(style, status, etype, msg, message_key);
    respond(c, ctx, status, ct, extra, &body)
}

// ---------------------------------------------------------------------------------------
