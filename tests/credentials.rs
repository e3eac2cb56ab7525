//! Credentials never leak: not in error messages (core and C ABI), not in log lines, not
//! in `Debug` output, not to another host through a redirect. (That secrets are wiped
//! from memory is `tests/zeroize.rs`.)

use superoffice_stub as stub;
mod support;

use std::ffi::{CStr, CString};
use std::sync::Arc;

use superoffice::ffi::errors::so_last_error_message;
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;
use superoffice::settings::Auth;
use superoffice::{Client, Error, ErrorKind, Settings};
use support::*;

use support::secrets::*;

// The stub takes any `fresh-...` ticket or token as valid, so these reach the directives.
const TICKET_SECRET: &str = "fresh-ticket-leak-check";
const BEARER_SECRET: &str = "fresh-bearer-leak-check";

const SECRETS: [&str; 7] = [USER, PASSWORD, TICKET_SECRET, BEARER_SECRET, APP_TOKEN, XSRF, PROXY_PASSWORD];

fn assert_clean(text: &str, what: &str) {
    assert_hidden(text, &SECRETS, what);
    // Nor their base64 forms (Basic authentication).
    assert!(!text.contains(&basic_b64(USER, PASSWORD)), "{what} shows the Basic credentials: {text}");
}

fn with_every_secret(base: &str, auth: Auth) -> (Settings, Arc<Lines>) {
    let (s, lines) = with_tokens(base, (300, 1000), auth, APP_TOKEN, XSRF);
    (s.build(), lines)
}

fn auths() -> Vec<Auth> {
    vec![
        Auth::basic(USER, PASSWORD).unwrap(),
        Auth::ticket(TICKET_SECRET).unwrap(),
        Auth::bearer(BEARER_SECRET).unwrap(),
    ]
}

fn check_failure(e: &Error, lines: &Lines, what: &str) {
    assert_clean(&e.message, what);
    assert_clean(&format!("{e:?}"), what);
    assert_clean(e.error_type.as_deref().unwrap_or(""), what);
    for (_, l) in lines.all() {
        assert_clean(&l, &format!("{what}: a log line"));
    }
}

#[test]
fn no_failure_message_or_log_line_shows_a_secret() {
    let stub = stub::Stub::start();
    let elsewhere = stub::Stub::start();
    let mut bases = vec![
        format!("http://127.0.0.1:{}/Cust1", closed_port()),
        "http://no-such-host.invalid/Cust1".to_string(),
        stub.url().replace("http://", "https://") + "/Cust1",
    ];
    for d in [
        "",
        "status=400",
        "status=403/body=html",
        "status=404",
        "status=500/body=big",
        "status=503/retry_after=0",
        "status=429/retry_after=120",
        "drop=after",
        "garbage",
        "hang",
        "header_flood=1000",
    ] {
        let d = if d.is_empty() { String::new() } else { format!("/{d}") };
        bases.push(format!("{}{}{d}/Cust12345", stub.url(), unique("leak")));
    }
    let location = format!("{}/Cust12345", elsewhere.url()).replace(':', "%3A").replace('/', "%2F");
    bases.push(format!("{}{}/status=307/location={location}/Cust12345", stub.url(), unique("leak")));

    for base in &bases {
        for auth in auths() {
            let (s, lines) = with_every_secret(base, auth);
            let c = Client::new(&s).unwrap();
            assert_clean(&format!("{c:?}"), "Debug of the client");
            assert_clean(&format!("{s:?}"), "Debug of the settings");
            // Basic fails with 401 (the stub knows other credentials); the ticket and token
            // are valid, so the directive decides.
            match send(&c) {
                Ok(_) => {} // nothing to show
                Err(e) => check_failure(&e, &lines, base),
            }
            for (_, l) in lines.all() {
                assert_clean(&l, "a log line");
            }
        }
    }
    assert_eq!(elsewhere.count(""), 0, "a redirect took no credential to another host");
}

#[test]
fn a_proxy_password_never_shows() {
    let mut s = builder("http://127.0.0.1:9/Cust1", 300, 1000);
    s.proxy(Some(&format!("http://{USER}:{PROXY_PASSWORD}@127.0.0.1:{}", closed_port()))).unwrap();
    let lines = Arc::new(Lines::default());
    s.logger(Some(lines.clone()));
    assert_clean(&format!("{s:?}"), "Debug of the settings");
    let c = Client::new(&s.build()).unwrap();
    assert_clean(&format!("{c:?}"), "Debug of the client");
    let e = expect_err(send(&c), "proxy down");
    check_failure(&e, &lines, "proxy down");
}

#[test]
fn refused_settings_do_not_echo_secrets() {
    let mut s = Settings::builder("http://127.0.0.1:9/Cust1").unwrap();
    let bad = |v: &str| format!("{v}\r\nInjected: 1");
    let mut errors = vec![
        Auth::basic(&bad(USER), PASSWORD).unwrap_err(),
        Auth::basic(USER, &bad(PASSWORD)).unwrap_err(),
        Auth::basic(&format!("{USER}:x"), PASSWORD).unwrap_err(),
        Auth::ticket(&bad(TICKET_SECRET)).unwrap_err(),
        Auth::bearer(&bad(BEARER_SECRET)).unwrap_err(),
        s.app_token(Some(&bad(APP_TOKEN))).unwrap_err(),
        s.xsrf_token(Some(&bad(XSRF))).unwrap_err(),
        s.proxy(Some(&format!("http://u:{PROXY_PASSWORD}@h:99999"))).unwrap_err(),
        s.proxy(Some(&format!("http://u:{PROXY_PASSWORD}@h:1 x"))).unwrap_err(),
    ];
    errors.push(Settings::new(&format!("https://{USER}:{PASSWORD}@host/Cust1")).unwrap_err());
    errors.push(Settings::new(&format!("https://{USER}:{PASSWORD}@host/Cust1 x")).unwrap_err());
    errors.push(Settings::new(&format!("{USER}:{PASSWORD}@host")).unwrap_err());
    for e in errors {
        assert_eq!(e.kind, ErrorKind::InvalidArgument);
        assert_clean(&e.message, "a refused setting");
    }
}

#[test]
fn the_c_abi_last_error_never_shows_a_secret() {
    let last = || unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned();
    let c = |s: &str| CString::new(s).unwrap();
    let o = so_options_new(c("http://127.0.0.1:9/Cust1").as_ptr());
    assert!(!o.is_null());
    let r = so_options_set_basic_auth(o, c(&format!("{USER}:")).as_ptr(), c(PASSWORD).as_ptr());
    assert_eq!(r, so_result::SO_ERR_INVALID_ARGUMENT);
    assert_clean(&last(), "basic");
    let r = so_options_set_proxy(o, c(&format!("http://u:{PROXY_PASSWORD}@:1")).as_ptr());
    assert_eq!(r, so_result::SO_ERR_INVALID_ARGUMENT);
    assert_clean(&last(), "proxy");
    for (what, value) in [
        ("ticket", format!("{TICKET_SECRET}\x01")),
        ("bearer", format!("{BEARER_SECRET}\n")),
        ("app", format!("{APP_TOKEN}\r")),
        ("xsrf", format!("{XSRF}\t")),
    ] {
        let v = c(&value);
        let r = match what {
            "ticket" => so_options_set_ticket(o, v.as_ptr()),
            "bearer" => so_options_set_bearer_token(o, v.as_ptr()),
            "app" => so_options_set_app_token(o, v.as_ptr()),
            _ => so_options_set_xsrf_token(o, v.as_ptr()),
        };
        assert_eq!(r, so_result::SO_ERR_INVALID_ARGUMENT);
        assert_clean(&last(), what);
    }
    so_options_free(o);
    let o = so_options_new(c(&format!("https://{USER}:{PASSWORD}@host/Cust1")).as_ptr());
    assert!(o.is_null());
    assert_clean(&last(), "so_options_new with credentials in the URL");
}

#[test]
fn credentials_go_to_the_base_urls_host_only() {
    // Every redirect status, pointing at another server: nothing is sent there.
    let stub = stub::Stub::start();
    let elsewhere = stub::Stub::start();
    for status in [301, 302, 303, 307, 308] {
        let target = format!("{}/Cust12345", elsewhere.url()).replace(':', "%3A").replace('/', "%2F");
        let prefix = unique("redir");
        let (s, lines) =
            with_every_secret(&format!("{}{prefix}/status={status}/location={target}/Cust12345", stub.url()), Auth::basic("tje0", "Tje0").unwrap());
        let e = expect_err(send(&Client::new(&s).unwrap()), "redirect");
        assert_eq!(e.kind, ErrorKind::HttpStatus);
        assert_eq!(e.http_status, status);
        assert!(e.message.contains(&elsewhere.url()), "the message names the Location: {}", e.message);
        check_failure(&e, &lines, "redirect");
        assert_eq!(stub.count(&prefix), 1);
    }
    assert_eq!(elsewhere.count(""), 0);
}
