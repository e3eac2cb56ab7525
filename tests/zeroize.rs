//! Secrets are wiped from memory when options and clients are freed.
//!
//! This test binary's global allocator looks into every heap block as it is freed (and
//! every block a `realloc` moves away from) and counts the blocks that still hold a
//! secret. Through the C ABI, with secrets passed from stack buffers (so that the test
//! itself leaves no heap copy), it checks:
//! - options: every secret setter, replacing schemes, clearing, `so_options_free`;
//! - a client made and freed without sending;
//! - a client that sends: the HTTP stack's own buffers are measured and reported, not
//!   asserted (they are outside this library's reach, as SECURITY.md says);
//! - the process's table of shared credentials: a ticket obtained from the stub's login
//!   service outlives its client, and `so_credentials_forget_all` wipes the table's copies.
//!
//! One `#[test]`, so that nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ffi::c_char;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use superoffice::ffi::client::{so_client_free, so_client_new, so_send_cc_password_email};
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;

const MAX_NEEDLES: usize = 8;
const NEEDLE_CAP: usize = 96;

struct Needles {
    bytes: UnsafeCell<[[u8; NEEDLE_CAP]; MAX_NEEDLES]>,
    lens: [AtomicUsize; MAX_NEEDLES],
    hits: [AtomicUsize; MAX_NEEDLES],
}

// SAFETY: `bytes` is written only while the scanner is disarmed, by the one test thread.
unsafe impl Sync for Needles {}

static NEEDLES: Needles = Needles {
    bytes: UnsafeCell::new([[0; NEEDLE_CAP]; MAX_NEEDLES]),
    lens: [const { AtomicUsize::new(0) }; MAX_NEEDLES],
    hits: [const { AtomicUsize::new(0) }; MAX_NEEDLES],
};
static ARMED: AtomicBool = AtomicBool::new(false);

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Counts the needles still present in a block about to be freed.
unsafe fn scan(ptr: *const u8, size: usize) {
    if !ARMED.load(Ordering::SeqCst) {
        return;
    }
    let block = std::slice::from_raw_parts(ptr, size);
    let all = &*NEEDLES.bytes.get();
    for (i, needle) in all.iter().enumerate() {
        let len = NEEDLES.lens[i].load(Ordering::SeqCst);
        if len > 0 && contains(block, &needle[..len]) {
            NEEDLES.hits[i].fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct Scanner;

unsafe impl GlobalAlloc for Scanner {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        scan(ptr, layout.size());
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ARMED.load(Ordering::SeqCst) {
            return System.realloc(ptr, layout, new_size);
        }
        // Move by hand so that the old block is seen as it is given back.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let new = System.alloc(new_layout);
        if !new.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            scan(ptr, layout.size());
            System.dealloc(ptr, layout);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Scanner = Scanner;

/// The secrets, each a NUL-terminated stack buffer (never on the heap in this test).
struct Secret {
    name: &'static str,
    buf: [u8; NEEDLE_CAP],
    len: usize,
}

impl Secret {
    fn new(name: &'static str, text: &str) -> Secret {
        let mut buf = [0u8; NEEDLE_CAP];
        buf[..text.len()].copy_from_slice(text.as_bytes());
        Secret { name, buf, len: text.len() }
    }
    fn ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }
}

fn set_needles(secrets: &[&Secret]) {
    assert!(!ARMED.load(Ordering::SeqCst));
    // SAFETY: disarmed, one thread.
    let all = unsafe { &mut *NEEDLES.bytes.get() };
    for i in 0..MAX_NEEDLES {
        NEEDLES.lens[i].store(0, Ordering::SeqCst);
        NEEDLES.hits[i].store(0, Ordering::SeqCst);
    }
    for (i, s) in secrets.iter().enumerate() {
        all[i][..s.len].copy_from_slice(&s.buf[..s.len]);
        NEEDLES.lens[i].store(s.len, Ordering::SeqCst);
    }
}

/// Runs `phase` with the scanner armed; the freed blocks that still held each secret.
fn measure(secrets: &[&Secret], phase: impl FnOnce()) -> Vec<(&'static str, usize)> {
    set_needles(secrets);
    ARMED.store(true, Ordering::SeqCst);
    phase();
    ARMED.store(false, Ordering::SeqCst);
    secrets.iter().enumerate().map(|(i, s)| (s.name, NEEDLES.hits[i].load(Ordering::SeqCst))).collect()
}

/// A server that answers every request `204`, keeping what it reads on its stack only.
fn stack_only_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let mut buf = [0u8; 16384];
            let mut have = 0usize;
            loop {
                match s.read(&mut buf[have..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => have += n,
                }
                // The request is complete when its JSON body has arrived.
                if buf[..have].ends_with(b"}") || have == buf.len() {
                    let _ = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
                    buf.fill(0);
                    have = 0;
                }
            }
            buf.fill(0);
        }
    });
    port
}

fn report(phase: &str, hits: &[(&'static str, usize)]) {
    println!("{phase}:");
    for (name, n) in hits {
        println!("    {name:<28} {n} freed block(s) still held it");
    }
}

#[test]
fn secrets_are_wiped_when_options_and_clients_are_freed() {
    let user = Secret::new("basic user name", "Zq9UserNeedle0451");
    let password = Secret::new("basic password", "Zq9PasswordNeedle7781");
    // base64("Zq9UserNeedle0451:Zq9PasswordNeedle7781"), as sent in the header.
    let basic_b64 = Secret::new("basic header (base64)", "WnE5VXNlck5lZWRsZTA0NTE6WnE5UGFzc3dvcmROZWVkbGU3Nzgx");
    let ticket = Secret::new("ticket", "Zq9TicketNeedle3318");
    let bearer = Secret::new("bearer token", "Zq9BearerNeedle9927");
    let app = Secret::new("app token", "Zq9AppTokenNeedle5150");
    let xsrf = Secret::new("XSRF token", "Zq9XsrfNeedle2206");
    let proxy_pw = Secret::new("proxy password", "Zq9ProxyPwNeedle6604");
    let proxy_url = Secret::new("proxy URL", "http://puser:Zq9ProxyPwNeedle6604@127.0.0.1:9");
    let all = [&user, &password, &basic_b64, &ticket, &bearer, &app, &xsrf, &proxy_pw];

    // Warm up once: the trust store is loaded on the first client of the process.
    let base = Secret::new("base", "http://127.0.0.1:9/Cust1");
    let o = so_options_new(base.ptr());
    let c = so_client_new(o);
    so_client_free(c);
    so_options_free(o);

    // A. Options: every setter, replacing and clearing, then free.
    let a = measure(&all, || {
        let o = so_options_new(base.ptr());
        assert_eq!(so_options_set_basic_auth(o, user.ptr(), password.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_ticket(o, ticket.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_bearer_token(o, bearer.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_basic_auth(o, user.ptr(), password.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_app_token(o, app.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_app_token(o, std::ptr::null()), so_result::SO_OK);
        assert_eq!(so_options_set_app_token(o, app.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_xsrf_token(o, xsrf.ptr()), so_result::SO_OK);
        so_options_free(o);
    });
    report("A. options set, replaced, cleared and freed", &a);
    for (name, n) in &a {
        assert_eq!(*n, 0, "options: {name} left in freed memory");
    }

    // B. Clients made and freed without sending, for each scheme.
    for scheme in ["basic", "ticket", "bearer"] {
        let b = measure(&all, || {
            let o = so_options_new(base.ptr());
            match scheme {
                "basic" => so_options_set_basic_auth(o, user.ptr(), password.ptr()),
                "ticket" => so_options_set_ticket(o, ticket.ptr()),
                _ => so_options_set_bearer_token(o, bearer.ptr()),
            };
            so_options_set_app_token(o, app.ptr());
            so_options_set_xsrf_token(o, xsrf.ptr());
            let c = so_client_new(o);
            assert!(!c.is_null());
            so_options_free(o);
            so_client_free(c);
        });
        report(&format!("B. {scheme} client made and freed"), &b);
        for (name, n) in &b {
            assert_eq!(*n, 0, "{scheme} client: {name} left in freed memory");
        }
    }

    // C. A client that sends over plain http. The request head (with its Authorization
    // and X-XSRF-Token) is written into ureq's connection buffers, which ureq does not
    // wipe: those copies are reported, not asserted (SECURITY.md says so). The password
    // itself must never be there.
    let port = stack_only_server();
    let url = Secret::new("url", &format!("http://127.0.0.1:{port}/Cust1"));
    for scheme in ["basic", "ticket"] {
        let c_hits = measure(&all, || {
            let o = so_options_new(url.ptr());
            match scheme {
                "basic" => so_options_set_basic_auth(o, user.ptr(), password.ptr()),
                _ => so_options_set_ticket(o, ticket.ptr()),
            };
            so_options_set_app_token(o, app.ptr());
            so_options_set_xsrf_token(o, xsrf.ptr());
            so_options_set_proxy(o, c"".as_ptr());
            let c = so_client_new(o);
            so_options_free(o);
            let r = so_send_cc_password_email(c, 670, std::ptr::null(), std::ptr::null(), std::ptr::null());
            assert_eq!(r, so_result::SO_OK);
            so_client_free(c);
        });
        report(&format!("C. {scheme} client that sent one request, then freed (HTTP stack buffers)"), &c_hits);
        // The password itself never leaves this library: only its base64 form is sent.
        assert_eq!(c_hits[1], ("basic password", 0));
        // The app token and base URL are no secrets of the request head's making: the
        // library's own copies of every secret are wiped (section B).
    }

    // D. A proxy URL with a password (kept by the HTTP stack's proxy settings).
    let d = measure(&all, || {
        let o = so_options_new(base.ptr());
        assert_eq!(so_options_set_proxy(o, proxy_url.ptr()), so_result::SO_OK);
        let c = so_client_new(o);
        assert_eq!(so_options_set_proxy(o, c"".as_ptr()), so_result::SO_OK);
        so_options_free(o);
        so_client_free(c);
    });
    report("D. proxy URL with a password, set, cleared, client made and freed", &d);

    // E. The credentials the library gets itself: a system user (token, partner key,
    // client secret) and an OAuth refresh token, set, replaced, made into a client (which
    // gets no credential before its first send) and freed. The key's text is read before
    // the scanner is armed and freed after; its needle is one of its base64 lines.
    let key_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/partner.pkcs1.pem");
    let key_text = std::ffi::CString::new(std::fs::read_to_string(key_path).unwrap()).unwrap();
    let key_line = key_text.to_str().unwrap().lines().nth(3).unwrap().to_string();
    let key_needle = Secret::new("private key (PEM text)", &key_line);
    let su_token = Secret::new("system user token", "Zq9SystemUserNeedle1184");
    let su_secret = Secret::new("client secret", "Zq9ClientSecretNeedle3390");
    let refresh = Secret::new("refresh token", "Zq9RefreshNeedle7702");
    let client_id = Secret::new("client id", "Zq9ClientIdNotSecret");
    let login = Secret::new("login", "http://127.0.0.1:9/login");
    let creds = [&key_needle, &su_token, &su_secret, &refresh];
    let e = measure(&creds, || {
        let o = so_options_new(base.ptr());
        assert_eq!(so_options_set_system_user(o, su_token.ptr(), key_text.as_ptr(), su_secret.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_oauth_refresh(o, client_id.ptr(), su_secret.ptr(), refresh.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_system_user(o, su_token.ptr(), key_text.as_ptr(), su_secret.ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_login_url(o, login.ptr()), so_result::SO_OK);
        let c = so_client_new(o);
        assert!(!c.is_null());
        assert_eq!(so_options_set_oauth_refresh(o, client_id.ptr(), su_secret.ptr(), refresh.ptr()), so_result::SO_OK);
        let c2 = so_client_new(o);
        assert!(!c2.is_null());
        assert_eq!(so_options_set_ticket(o, ticket.ptr()), so_result::SO_OK);
        so_options_free(o);
        so_client_free(c);
        so_client_free(c2);
    });
    report("E. system user and OAuth refresh token set, replaced, clients made and freed", &e);
    // The PEM text is decoded by rustls-pki-types, whose reader keeps lines in buffers it
    // does not wipe: those copies are reported, not asserted (SECURITY.md says so). The
    // library's own copies of every other credential are wiped.
    for (name, n) in &e[1..] {
        assert_eq!(*n, 0, "credentials: {name} left in freed memory");
    }
    drop(key_text);

    // F. The table of shared credentials: a system user's ticket, obtained from the stub's
    // login service (scanner disarmed), outlives its client; so_credentials_forget_all
    // drops the table's copies, each wiped (scanner armed: only the table frees then).
    let stub = superoffice_stub::Stub::start();
    let prefix = format!("/zeroize-shared-{}", std::process::id());
    let su_base = Secret::new("base", &format!("{}{prefix}/Cust12345", stub.url()));
    let su_login = Secret::new("login", &format!("{}{prefix}/login", stub.url()));
    let pkcs8 = std::ffi::CString::new(include_str!("keys/partner.pkcs8.pem")).unwrap();
    let o = so_options_new(su_base.ptr());
    assert_eq!(so_options_set_system_user(o, su_token.ptr(), pkcs8.as_ptr(), su_secret.ptr()), so_result::SO_OK);
    assert_eq!(so_options_set_login_url(o, su_login.ptr()), so_result::SO_OK);
    assert_eq!(so_options_set_proxy(o, c"".as_ptr()), so_result::SO_OK);
    let c = so_client_new(o);
    so_options_free(o);
    assert_eq!(so_send_cc_password_email(c, 670, std::ptr::null(), std::ptr::null(), std::ptr::null()), so_result::SO_OK);
    so_client_free(c);
    let sent = stub.requests(&prefix).into_iter().find(|r| r.path.ends_with(superoffice_stub::ENDPOINT)).unwrap();
    let authorization = sent.header("authorization").unwrap().to_string();
    let ticket_text = authorization.strip_prefix("SOTicket ").unwrap().to_string();
    drop(sent);
    assert_eq!(superoffice::credentials::shared::census().1, 1, "the ticket outlives its client");
    // The stub's connection threads are done with their copies before the scanner is armed.
    while stub.open_connections() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let shared_ticket = Secret::new("shared ticket", &ticket_text);
    let shared_header = Secret::new("shared Authorization value", &authorization);
    drop((ticket_text, authorization));
    let f = measure(&[&shared_ticket, &shared_header], || {
        superoffice::ffi::client::so_credentials_forget_all();
    });
    report("F. so_credentials_forget_all: the shared table's ticket", &f);
    assert_eq!(superoffice::credentials::shared::census(), (0, 0), "the table holds nothing");
    for (name, n) in &f {
        assert_eq!(*n, 0, "shared table: {name} left in freed memory");
    }
    drop(stub);
}
