//! The C ABI with arbitrary bytes: every setter, `so_options_new`, `so_client_new`, and
//! `so_send_cc_password_email` against the in-process stub (or a closed port).
//!
//! Invariants: no panic (a panic caught at the boundary still aborts here: libFuzzer's
//! panic hook); every result is a documented code; the last error is empty on success
//! and otherwise a message of at most 4 KiB; no secret passed to a setter shows up in a
//! message. Sends only ever go to 127.0.0.1 (the base URL of a sending client is fixed;
//! fuzzed base URLs and proxies are only parsed and built, never used).
#![no_main]

#[path = "../../tests/stub/mod.rs"]
mod stub;

use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use superoffice::ffi::client::*;
use superoffice::ffi::errors::*;
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;

static STUB: OnceLock<(stub::Stub, u16)> = OnceLock::new();

fn stub() -> &'static (stub::Stub, u16) {
    STUB.get_or_init(|| {
        let s = stub::Stub::start();
        s.set_log_cap(1000);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        (s, closed)
    })
}

/// Splits the input into NUL-free fields (each becomes a C string).
struct Fields<'a> {
    parts: std::slice::Split<'a, u8, fn(&u8) -> bool>,
}

impl<'a> Fields<'a> {
    fn next(&mut self) -> CString {
        CString::new(self.parts.next().unwrap_or(b"")).unwrap()
    }

    /// A secret: a marker no message text holds, then arbitrary bytes.
    fn secret(&mut self) -> CString {
        let mut v = b"S3cr3t!".to_vec();
        v.extend_from_slice(self.parts.next().unwrap_or(b""));
        CString::new(v).unwrap()
    }
}

fn last_message() -> String {
    // SAFETY: the library's string, read at once.
    unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned()
}

thread_local! {
    /// What may be shown: the URLs and every field that is not a secret.
    static PUBLIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

const CODES: [i32; 17] = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23, 24, 25, 26, 27, 99];

/// Checks one call's result and the thread's last error.
fn check(r: so_result, what: &str, secrets: &[&CString]) {
    let code = r as i32;
    assert!(CODES.contains(&code), "{what}: unknown code {code}");
    assert_ne!(r, so_result::SO_ERR_PANIC, "{what}: panic caught at the boundary: {}", last_message());
    let msg = last_message();
    assert_eq!(so_last_error_code() as i32, code, "{what}");
    if r == so_result::SO_OK {
        assert!(msg.is_empty(), "{what}: message after success: {msg}");
    } else {
        assert!(!msg.is_empty() && msg.len() <= 4095, "{what}: message of {} bytes", msg.len());
        for s in secrets {
            let s = s.to_string_lossy();
            if !PUBLIC.with(|p| p.borrow().contains(&*s)) {
                assert!(!msg.contains(&*s), "{what}: message shows a secret: {msg}");
            }
        }
    }
}

fn p(s: &CString) -> *const c_char {
    s.as_ptr()
}

/// Fault directives the sending client may meet (none that waits for a timeout).
const DIRECTIVES: [&str; 12] = [
    "",
    "/status=400",
    "/status=404/body=message",
    "/status=500/body=html",
    "/status=503/retry_after=0",
    "/status=302/location=http%3A%2F%2F127.0.0.1%3A1%2Fx",
    "/drop=after",
    "/drop=during",
    "/garbage",
    "/truncate",
    "/header_flood=150",
    "/status=502/body=big",
];

/// The setters of one optional header-valued string each, with the name `check` reports.
type TextSetter = extern "C" fn(*mut so_options, *const c_char) -> so_result;
const HEADER_SETTERS: [(&str, TextSetter); 6] = [
    ("app", so_options_set_app_token),
    ("xsrf", so_options_set_xsrf_token),
    ("language", so_options_set_language),
    ("culture", so_options_set_culture),
    ("timezone", so_options_set_timezone),
    ("select", so_options_set_select),
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let split: fn(&u8) -> bool = |b| *b == 0;
    let mut f = Fields { parts: rest.split(split) };
    let flags = u16::from_le_bytes([head[0], head[1]]);
    let person_id = i32::from_le_bytes([head[2], head[3], head[4], head[5]]);
    let pick = head[6];
    let timeouts = head[7];

    // 1. Options with a fuzzed base URL and every setter: parsed and built, never used.
    let base = f.next();
    let (user, password, ticket, bearer) = (f.next(), f.secret(), f.secret(), f.secret());
    let (app, xsrf) = (f.secret(), f.secret());
    let (language, culture, timezone, select, proxy) = (f.next(), f.next(), f.next(), f.next(), f.next());
    let (from, to, subject) = (f.next(), f.next(), f.next());
    PUBLIC.with(|p| {
        let mut p = p.borrow_mut();
        p.clear();
        for field in [&base, &user, &language, &culture, &timezone, &select, &proxy, &from, &to, &subject] {
            p.push_str(&field.to_string_lossy());
            p.push('\n');
        }
    });
    let secrets = [&password, &ticket, &bearer, &app, &xsrf];
    let headers = [&app, &xsrf, &language, &culture, &timezone, &select];
    let o = so_options_new(p(&base));
    if o.is_null() {
        check(so_last_error_code(), "so_options_new", &[&password]);
    } else {
        type Setter<'a> = (&'a str, Box<dyn Fn() -> so_result + 'a>);
        let mut setters: Vec<Setter> = vec![
            ("basic", Box::new(|| so_options_set_basic_auth(o, p(&user), p(&password)))),
            ("ticket", Box::new(|| so_options_set_ticket(o, p(&ticket)))),
            ("bearer", Box::new(|| so_options_set_bearer_token(o, p(&bearer)))),
        ];
        for (&(what, set), value) in HEADER_SETTERS.iter().zip(headers) {
            setters.push((what, Box::new(move || set(o, p(value)))));
        }
        let more: [Setter; 4] = [
            ("proxy", Box::new(|| so_options_set_proxy(o, p(&proxy)))),
            ("timeouts", Box::new(|| so_options_set_timeout_ms(o, u32::from(timeouts) * 7, person_id as u32))),
            ("retries", Box::new(|| so_options_set_max_retries(o, u32::from(pick)))),
            ("ca_file", Box::new(|| match pick % 4 {
                0 => so_options_set_ca_file(o, std::ptr::null()),
                1 => so_options_set_ca_file(o, c"/nonexistent/ca.pem".as_ptr()),
                2 => so_options_set_ca_file(o, c"/etc/hostname".as_ptr()),
                _ => so_options_set_ca_file(o, c"/etc/ssl/certs/ca-certificates.crt".as_ptr()),
            })),
        ];
        setters.extend(more);
        for (i, (what, set)) in setters.iter().enumerate() {
            if flags & (1 << i) != 0 {
                check(set(), what, &secrets);
            }
        }
        let c = so_client_new(o);
        if c.is_null() {
            check(so_last_error_code(), "so_client_new", &secrets);
        }
        so_client_free(c);
        so_options_free(o);
    }

    // 2. A client of the stub (fixed base URL, no proxy) with fuzzed headers, and a send
    //    with fuzzed arguments.
    let (stub, closed) = stub();
    let url = if pick % 16 == 15 {
        format!("http://127.0.0.1:{closed}/Cust1")
    } else {
        format!("{}/fuzz{}/Cust12345", stub.url(), DIRECTIVES[pick as usize % DIRECTIVES.len()])
    };
    PUBLIC.with(|p| p.borrow_mut().push_str(&url));
    let url = CString::new(url).unwrap();
    let o = so_options_new(p(&url));
    assert!(!o.is_null());
    check(so_options_set_proxy(o, c"".as_ptr()), "proxy", &[]);
    check(so_options_set_timeout_ms(o, 1000, 2000), "timeouts", &[]);
    check(so_options_set_max_retries(o, u32::from(flags >> 14)), "retries", &[]);
    match flags >> 13 & 3 {
        0 => check(so_options_set_ticket(o, p(&ticket)), "ticket", &secrets),
        1 => check(so_options_set_bearer_token(o, p(&bearer)), "bearer", &secrets),
        2 => check(so_options_set_basic_auth(o, p(&user), p(&password)), "basic", &secrets),
        _ => check(so_options_set_ticket(o, c"7T:dGVzdA==".as_ptr()), "ticket", &[]),
    }
    for (&(what, set), value) in HEADER_SETTERS.iter().zip(headers) {
        check(set(o, p(value)), what, &secrets);
    }
    let c = so_client_new(o);
    so_options_free(o);
    if c.is_null() {
        check(so_last_error_code(), "so_client_new (stub)", &secrets);
        return;
    }
    let nul = |s: &CString, bit: u16| if flags & bit != 0 { std::ptr::null() } else { s.as_ptr() };
    let r = so_send_cc_password_email(c, person_id, nul(&from, 1 << 13), nul(&to, 1 << 14), nul(&subject, 1 << 15));
    check(r, "send", &secrets);
    so_client_free(c);
});
