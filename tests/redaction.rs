//! A server that quotes the credentials back never makes them leak: every configured
//! secret is hidden from the message (core and C ABI), from the log lines and from the
//! batch results. The stub's `echo_credentials` directive quotes every credential header
//! it received, a Basic pair decoded, and the body's `Subject`.

use superoffice_stub as stub;
mod support;

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;

use superoffice::send::batch;
use superoffice::ffi::batch::{so_batch_item, so_batch_result, so_batch_results_clear, so_send_cc_password_email_batch};
use superoffice::ffi::client::{so_client_free, so_client_new, so_send_cc_password_email};
use superoffice::ffi::errors::so_last_error_message;
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;
use superoffice::settings::{Auth, CredentialsProvider, Secret};
use superoffice::{Client, Error, PasswordEmail, SettingsBuilder};
use support::*;

use support::secrets::*;

const TICKET: &str = "7T:redact-ticket-secret";
const BEARER: &str = "8A:redact-bearer-secret";
// The stub takes `fresh-...` tickets as valid; `status=401` still refuses them.
const FRESH: &str = "fresh-redact-callback-secret";


/// What every failure of one scheme is checked for: the secret is gone, and the stub's
/// quote is still there (with `***` in the secret's place), so the test would see a leak.
fn check(e: &Error, lines: &Lines, secrets: &[&str], what: &str) {
    assert!(e.message.contains("received authorization="), "{what}: the stub did not quote: {}", e.message);
    assert!(e.message.contains("***"), "{what}: {}", e.message);
    assert_hidden(&e.message, secrets, &format!("{what}: the message"));
    assert_hidden(e.error_type.as_deref().unwrap_or(""), secrets, &format!("{what}: the ErrorType"));
    let log = lines.all();
    assert!(!log.is_empty(), "{what}: no log line");
    for (_, line) in &log {
        assert_hidden(line, secrets, &format!("{what}: a log line"));
    }
}

fn email(subject: &str) -> PasswordEmail<'_> {
    PasswordEmail { person_id: 670, from: Some("a@example.com"), to: Some("b@example.com"), subject: Some(subject) }
}

/// Sends once and as a batch of two through the core; checks message, log and results.
fn run(settings: &SettingsBuilder, lines: Arc<Lines>, subject: &str, secrets: &[&str], what: &str) {
    let client = Client::new(&settings.build()).unwrap();
    let e = client.send_cc_password_email(&email(subject)).unwrap_err();
    check(&e, &lines, secrets, what);
    let items = [email(subject), email(subject)];
    let mut outcomes = Vec::new();
    batch::send_many(&client, &items, 2, |_, r, _| outcomes.push(r));
    assert_eq!(outcomes.len(), 2);
    for r in outcomes {
        check(&r.unwrap_err(), &lines, secrets, &format!("{what} (batch result)"));
    }
}

fn base(stub: &stub::Stub, name: &str, directives: &str) -> String {
    format!("{}{}/echo_credentials/{directives}/Cust1", stub.url(), unique(name))
}

fn tokens(base: &str, auth: Auth) -> (SettingsBuilder, Arc<Lines>) {
    with_tokens(base, (2000, 5000), auth, APP_TOKEN, XSRF)
}

#[test]
fn ticket_app_token_and_xsrf_token_quoted_by_the_server_are_hidden() {
    let stub = stub::Stub::start();
    let (s, lines) = tokens(&base(&stub, "redact-ticket", "x"), Auth::ticket(TICKET).unwrap());
    run(&s, lines, "hello", &[TICKET, APP_TOKEN, XSRF], "ticket");
}

#[test]
fn a_bearer_token_quoted_by_the_server_is_hidden() {
    let stub = stub::Stub::start();
    let (s, lines) = tokens(&base(&stub, "redact-bearer", "x"), Auth::bearer(BEARER).unwrap());
    run(&s, lines, "hello", &[BEARER, APP_TOKEN, XSRF], "bearer");
}

#[test]
fn a_password_and_its_base64_quoted_by_the_server_are_hidden() {
    let stub = stub::Stub::start();
    let (s, lines) = tokens(&base(&stub, "redact-basic", "x"), Auth::basic(USER, PASSWORD).unwrap());
    let b64 = basic_b64(USER, PASSWORD);
    run(&s, lines, "hello", &[PASSWORD, &b64, APP_TOKEN, XSRF], "basic");
}

#[test]
fn a_proxy_password_quoted_by_the_server_is_hidden() {
    // The proxy's credentials go to the proxy alone, so here the server quotes it from
    // the subject: whatever text carries it, it is hidden.
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(Some(("proxyuser", PROXY_PASSWORD)), &[stub.port()]);
    let (mut s, lines) = tokens(&base(&stub, "redact-proxy", "x"), Auth::ticket(TICKET).unwrap());
    s.proxy(Some(&proxy.url(Some(("proxyuser", PROXY_PASSWORD))))).unwrap();
    run(&s, lines, &format!("my proxy password is {PROXY_PASSWORD}"), &[PROXY_PASSWORD, TICKET], "proxy");
}

struct Fresh;
impl CredentialsProvider for Fresh {
    fn fresh_credential(&self) -> Option<Secret> {
        Some(Secret::new(FRESH))
    }
}

#[test]
fn a_credential_from_the_callback_quoted_by_the_server_is_hidden() {
    let stub = stub::Stub::start();
    let (mut s, lines) = tokens(&base(&stub, "redact-fresh", "status=401"), Auth::ticket(TICKET).unwrap());
    s.credentials(Some(Arc::new(Fresh)));
    let client = Client::new(&s.build()).unwrap();
    let e = client.send_cc_password_email(&email("hello")).unwrap_err();
    assert!(e.message.contains("SOTicket ***"), "{}", e.message);
    check(&e, &lines, &[FRESH, TICKET, APP_TOKEN, XSRF], "callback");
    let prefix = s.build().base().path.trim_end_matches("/Cust1").to_string();
    let sent: Vec<_> = stub.requests(&prefix).iter().filter_map(|r| r.header("authorization").map(String::from)).collect();
    assert_eq!(sent, [format!("SOTicket {TICKET}"), format!("SOTicket {FRESH}")], "the fresh ticket was sent");
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

extern "C" fn collect_log(userdata: *mut c_void, _level: i32, message: *const c_char) {
    // SAFETY: userdata is the test's Lines; message is a valid C string for the call.
    let lines = unsafe { &*(userdata as *const Lines) };
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    lines.0.lock().unwrap().push((superoffice::log::Level::Info, text));
}

#[test]
fn the_c_abi_message_log_callback_and_batch_results_hide_every_secret() {
    let stub = stub::Stub::start();
    let b64 = basic_b64(USER, PASSWORD);
    for (scheme, secrets) in [
        ("ticket", vec![TICKET, APP_TOKEN, XSRF]),
        ("bearer", vec![BEARER, APP_TOKEN, XSRF]),
        ("basic", vec![PASSWORD, b64.as_str(), APP_TOKEN, XSRF]),
    ] {
        let lines = Lines::default();
        let o = so_options_new(cs(&base(&stub, "redact-c", "x")).as_ptr());
        assert!(!o.is_null());
        let r = match scheme {
            "ticket" => so_options_set_ticket(o, cs(TICKET).as_ptr()),
            "bearer" => so_options_set_bearer_token(o, cs(BEARER).as_ptr()),
            _ => so_options_set_basic_auth(o, cs(USER).as_ptr(), cs(PASSWORD).as_ptr()),
        };
        assert_eq!(r, so_result::SO_OK);
        assert_eq!(so_options_set_app_token(o, cs(APP_TOKEN).as_ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_xsrf_token(o, cs(XSRF).as_ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_proxy(o, cs("").as_ptr()), so_result::SO_OK);
        let userdata = &lines as *const Lines as *mut c_void;
        assert_eq!(so_options_set_log_callback(o, Some(collect_log), userdata), so_result::SO_OK);
        let c = so_client_new(o);
        so_options_free(o);
        assert!(!c.is_null());

        let subject = cs("hello");
        let r = so_send_cc_password_email(c, 670, std::ptr::null(), std::ptr::null(), subject.as_ptr());
        assert_eq!(r, so_result::SO_ERR_UNAUTHORIZED);
        let message = unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned();
        assert!(message.contains("received authorization="), "{message}");
        assert_hidden(&message, &secrets, &format!("{scheme}: so_last_error_message"));

        let items: Vec<so_batch_item> = (0..3)
            .map(|_| so_batch_item {
                person_id: 670,
                from: std::ptr::null(),
                to: std::ptr::null(),
                subject: subject.as_ptr(),
            })
            .collect();
        let mut results: Vec<so_batch_result> = (0..3)
            .map(|_| so_batch_result { code: -1, http_status: 0, message: std::ptr::null_mut(), error_type: std::ptr::null_mut() })
            .collect();
        let mut failed = 0usize;
        let r = so_send_cc_password_email_batch(c, items.as_ptr(), 3, 2, None, std::ptr::null_mut(), results.as_mut_ptr(), &mut failed);
        assert_eq!(r, so_result::SO_OK);
        assert_eq!(failed, 3);
        for res in &results {
            assert_eq!(res.code, so_result::SO_ERR_UNAUTHORIZED as i32);
            let m = unsafe { CStr::from_ptr(res.message) }.to_string_lossy().into_owned();
            assert!(m.contains("received authorization="), "{m}");
            assert_hidden(&m, &secrets, &format!("{scheme}: a batch result"));
        }
        so_batch_results_clear(results.as_mut_ptr(), 3);
        so_client_free(c);

        let log = lines.all();
        assert!(log.len() >= 4, "{scheme}: log lines {log:?}");
        for (_, line) in &log {
            assert_hidden(line, &secrets, &format!("{scheme}: a log line"));
        }
    }
}
