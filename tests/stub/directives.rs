//! Directives: the fault and behaviour settings read from a tenant path segment.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AuthKind {
    Basic,
    Ticket,
    Bearer,
    Xsrf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fault {
    Hang,
    DropBefore,
    DropAfter,
    /// Read the whole request, record it, then reset the connection (RST, not FIN).
    DropReset,
    DropDuring,
    Garbage,
    Truncate,
}

/// Directives that are gated by `fail_first`.
#[derive(Clone, Debug, Default)]
pub(super) struct Behaviour {
    pub(super) status: Option<u16>,
    pub(super) location: Option<String>,
    pub(super) retry_after: Option<String>,
    pub(super) delay_ms: Option<u64>,
    pub(super) fault: Option<Fault>,
    pub(super) ok_body: Option<u64>,
    pub(super) header_flood: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Directives {
    // Always in force.
    pub(super) body_style: BodyStyle,
    pub(super) auth: Option<AuthKind>,
    pub(super) null_body: bool,
    /// `echo_credentials`: error messages quote the credentials received.
    pub(super) echo_credentials: bool,
    pub(super) fail_first: Option<u64>,
    // In force for the first `fail_first` requests (always when there is no fail_first).
    pub(super) act: Behaviour,
}

pub(super) fn header_safe(v: &str) -> bool {
    v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

pub(super) fn parse_directives(tenant: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    for seg in tenant.split('/') {
        if seg.is_empty() {
            continue;
        }
        // A segment without `=` is a directive only when it is one of the bare ones;
        // anything else (`auth`, `Cust12345`, `status`) is just a name.
        let (key, raw) = match seg.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None if matches!(seg, "hang" | "garbage" | "truncate" | "null_body" | "echo_credentials") => (seg, None),
            None => continue,
        };
        let bad = |why: &str| format!("stub: bad directive {seg:?}: {why}");
        let value = raw.map(percent_decode);
        let need = || value.clone().ok_or_else(|| bad("needs a value"));
        let num = |what: &str| -> Result<u64, String> {
            need()?.trim().parse::<u64>().map_err(|_| bad(&format!("{what} must be a non-negative integer")))
        };
        match key {
            "hang" | "garbage" | "truncate" | "null_body" | "echo_credentials" if raw.is_none() => match key {
                "echo_credentials" => d.echo_credentials = true,
                "hang" => d.act.fault = Some(Fault::Hang),
                "garbage" => d.act.fault = Some(Fault::Garbage),
                "truncate" => d.act.fault = Some(Fault::Truncate),
                _ => d.null_body = true,
            },
            "status" => {
                let n = num("status")?;
                if !(200..=599).contains(&n) {
                    return Err(bad("status must be 200..=599"));
                }
                d.act.status = Some(n as u16);
            }
            "body" => {
                d.body_style = match need()?.as_str() {
                    "message" => BodyStyle::Message,
                    "none" => BodyStyle::None,
                    "html" => BodyStyle::Html,
                    "big" => BodyStyle::Big,
                    "json" => BodyStyle::Json,
                    _ => return Err(bad("body must be message, none, html, big or json")),
                }
            }
            "location" => {
                let v = need()?;
                if !header_safe(&v) {
                    return Err(bad("control characters are not allowed"));
                }
                d.act.location = Some(v);
            }
            "retry_after" => {
                let v = need()?.replace('_', " ");
                if !header_safe(&v) {
                    return Err(bad("control characters are not allowed"));
                }
                d.act.retry_after = Some(v);
            }
            "fail_first" => d.fail_first = Some(num("fail_first")?),
            "delay_ms" => {
                let n = num("delay_ms")?;
                if n > 3_600_000 {
                    return Err(bad("delay_ms is at most 3600000"));
                }
                d.act.delay_ms = Some(n);
            }
            "drop" => {
                d.act.fault = Some(match need()?.as_str() {
                    "before" => Fault::DropBefore,
                    "after" => Fault::DropAfter,
                    "during" => Fault::DropDuring,
                    "reset" => Fault::DropReset,
                    _ => return Err(bad("drop must be before, after, reset or during")),
                })
            }
            "ok_body" => d.act.ok_body = Some(num("ok_body")?),
            "header_flood" => {
                let n = num("header_flood")?;
                if n > 1_000_000 {
                    return Err(bad("header_flood is at most 1000000"));
                }
                d.act.header_flood = Some(n as usize);
            }
            "auth" => {
                d.auth = Some(match need()?.to_ascii_lowercase().as_str() {
                    "basic" => AuthKind::Basic,
                    "ticket" | "soticket" => AuthKind::Ticket,
                    "bearer" => AuthKind::Bearer,
                    "xsrf" => AuthKind::Xsrf,
                    _ => return Err(bad("auth must be basic, ticket, bearer or xsrf")),
                })
            }
            // Anything else is just a name.
            _ => {}
        }
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
