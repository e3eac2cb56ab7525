//! `superoffice check`: the connection options checked before the first e-mail, step by
//! step, with no e-mail sent and no secret printed.
//!
//! 1. `settings`: the options make a client (the base URL, the key, the CA file, the login
//!    service known or derived);
//! 2. `credential`: for a system user or an OAuth refresh token, the credential is obtained
//!    now (login and JWT check, or the token request): its expiry and the WebAPI host; for
//!    a ticket, token or Basic credentials given, "given, not verified" (no call is made);
//! 3. `tenant`: when the base URL's host is one of SuperOffice Online's (or
//!    `--state-endpoint` is given), the tenant's state from the tenant lookup.
//!
//! Exit 0 when every step passes, 1 naming the step that failed (2 on a usage error).

use std::time::SystemTime;

use serde_json::{json, Value};
use superoffice::credentials::{derive_context_identifier, derive_login_url};
use superoffice::settings::Auth;
use superoffice::{Client, Settings};

use crate::args::{CheckArgs, UsageError};

/// One step: its name, whether it passed (`None`: skipped), and what it found.
struct Step {
    name: &'static str,
    passed: Option<bool>,
    detail: String,
}

/// "2026-12-06 15:10 UTC".
fn utc_minute(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

fn host_of(url: &str) -> String {
    superoffice::settings::BaseUrl::parse(url).map(|b| b.shown_authority).unwrap_or_else(|_| url.chars().take(100).collect())
}

/// The authentication scheme as the check shows it (no secret).
fn scheme_of(settings: &Settings, client: Option<&Client>) -> String {
    if let Some(provider) = client.and_then(Client::provider) {
        return format!("{} (login service {}, tenant {})", provider.kind(), provider.login_url(), provider.context_identifier());
    }
    match settings.auth() {
        Auth::Basic { .. } => "Basic (user name and password)".into(),
        Auth::Ticket(_) => "SOTicket (a ticket given)".into(),
        Auth::Bearer(_) => "Bearer (an access token given)".into(),
        _ if settings.has_login_scheme() => "system user or OAuth refresh token".into(),
        _ => "none".into(),
    }
}

pub fn check(args: CheckArgs) -> Result<i32, UsageError> {
    let settings = args.connection.settings(0)?;
    let base = settings.base().clone();
    let endpoint = format!("POST {}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail", base.shown_root());
    let mut steps = Vec::new();
    let client = match Client::new(&settings) {
        Ok(c) => {
            steps.push(Step { name: "settings", passed: Some(true), detail: "the options make a client".into() });
            Some(c)
        }
        Err(e) => {
            steps.push(Step { name: "settings", passed: Some(false), detail: e.message });
            None
        }
    };
    let scheme = scheme_of(&settings, client.as_ref());

    if let Some(client) = &client {
        match client.check_credential() {
            Ok(Some(info)) => {
                let kept = if info.sliding {
                    format!("kept until {} if unused (each use extends it by 6 hours)", utc_minute(info.expires))
                } else {
                    format!("expires {}", utc_minute(info.expires))
                };
                let host = host_of(info.webapi_url.as_deref().unwrap_or(&info.api_url));
                steps.push(Step {
                    name: "credential",
                    passed: Some(true),
                    detail: format!("obtained from {}; {kept}; WebAPI host {host}", info.login_url),
                });
            }
            Ok(None) => steps.push(Step {
                name: "credential",
                passed: Some(true),
                detail: "given, not verified (checking it would need a call; none is made)".into(),
            }),
            Err(e) => steps.push(Step { name: "credential", passed: Some(false), detail: e.message }),
        }
    }

    let online_state = derive_login_url(&base).map(|login| login.trim_end_matches("/login").to_string());
    let state_endpoint = args.state_endpoint.clone().or(online_state);
    let all_passed_so_far = steps.iter().all(|s| s.passed != Some(false));
    match (state_endpoint, all_passed_so_far) {
        (Some(state), true) => {
            let tenant = settings_tenant(&settings, client.as_ref(), &base);
            match tenant {
                None => steps.push(Step { name: "tenant", passed: Some(false), detail: "the base URL names no tenant".into() }),
                Some(tenant) => match superoffice::tenant::lookup_api_url(Some(&state), &tenant) {
                    Ok(api) => steps.push(Step {
                        name: "tenant",
                        passed: Some(true),
                        detail: format!("{tenant} is running; its API is at {api}"),
                    }),
                    Err(e) => steps.push(Step { name: "tenant", passed: Some(false), detail: e.message }),
                },
            }
        }
        (None, true) => steps.push(Step {
            name: "tenant",
            passed: None,
            detail: format!("not looked up: {} is not a SuperOffice Online host", base.shown_authority),
        }),
        (_, false) => {}
    }

    let failed = steps.iter().find(|s| s.passed == Some(false));
    if args.json {
        let v = json!({
            "ok": failed.is_none(),
            "endpoint": endpoint,
            "scheme": scheme,
            "steps": steps.iter().map(|s| json!({
                "step": s.name,
                "passed": s.passed,
                "detail": s.detail,
            })).collect::<Vec<Value>>(),
            "failed_step": failed.map(|s| s.name),
        });
        println!("{v:#}");
    } else {
        println!("endpoint:    {endpoint}");
        println!("scheme:      {scheme}");
        for s in &steps {
            let mark = match s.passed {
                Some(true) => "ok",
                Some(false) => "FAILED",
                None => "skipped",
            };
            println!("{:<12} {mark}: {}", format!("{}:", s.name), s.detail);
        }
        match failed {
            None => println!("check passed: no e-mail was sent"),
            Some(s) => println!("check failed at the {} step: {}", s.name, s.detail),
        }
    }
    Ok(i32::from(failed.is_some()))
}

/// The tenant: the one sent to the login service, else the base URL's first segment.
fn settings_tenant(_settings: &Settings, client: Option<&Client>, base: &superoffice::settings::BaseUrl) -> Option<String> {
    client
        .and_then(Client::provider)
        .map(|p| p.context_identifier().to_string())
        .or_else(|| derive_context_identifier(base))
}
