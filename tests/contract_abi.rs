//! The C ABI's contract against the stub: an unambiguous batch, a tenant lookup that
//! reports the size it needs, international host names.

use superoffice_stub as stub;
mod support;

use std::ffi::{c_char, CStr, CString};
use std::process::Command;

use superoffice::ffi::batch::*;
use superoffice::ffi::client::{so_client, so_client_free, so_client_new, so_send_cc_password_email};
use superoffice::ffi::errors::{so_last_error_code, so_last_error_message};
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;
use superoffice::ffi::tenant::{so_lookup_tenant_api_url, so_lookup_tenant_api_url_sized};
use superoffice::{Client, ErrorKind, Settings};
use support::*;

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn last_message() -> String {
    // SAFETY: the library's thread-local C string.
    unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned()
}

fn client(base: &str) -> *mut so_client {
    let o = so_options_new(cs(base).as_ptr());
    assert!(!o.is_null(), "{}", last_message());
    assert_eq!(so_options_set_ticket(o, cs(TICKET).as_ptr()), so_result::SO_OK);
    assert_eq!(so_options_set_proxy(o, cs("").as_ptr()), so_result::SO_OK);
    let c = so_client_new(o);
    so_options_free(o);
    assert!(!c.is_null());
    c
}

fn garbage_slots(n: usize) -> Vec<so_batch_result> {
    (0..n)
        .map(|_| so_batch_result {
            code: 12345,
            http_status: 777,
            message: 0x1 as *mut c_char, // garbage: must be overwritten before anything reads it
            error_type: 0x1 as *mut c_char,
        })
        .collect()
}

fn item(person_id: i32) -> so_batch_item {
    so_batch_item { person_id, from: std::ptr::null(), to: std::ptr::null(), subject: std::ptr::null() }
}

#[test]
fn a_refused_batch_and_a_batch_with_failed_items_are_told_apart() {
    let stub = stub::Stub::start();
    let c = client(&format!("{}{}/Cust1", stub.url(), unique("batch")));
    let items = [item(670), item(0), item(99999), item(671)];

    // Refused: max_concurrency out of range. Every slot is initialised, with the code.
    let mut results = garbage_slots(4);
    let mut failed = 999usize;
    let r = so_send_cc_password_email_batch(c, items.as_ptr(), 4, 0, None, std::ptr::null_mut(), results.as_mut_ptr(), &mut failed);
    assert_eq!(r, so_result::SO_ERR_INVALID_ARGUMENT);
    assert_eq!(failed, 999, "not written on a refused batch");
    for res in &results {
        assert_eq!(res.code, so_result::SO_ERR_INVALID_ARGUMENT as i32);
        assert_eq!(res.http_status, 0);
        assert!(res.message.is_null() && res.error_type.is_null());
    }
    so_batch_results_clear(results.as_mut_ptr(), 4); // safe: the garbage was overwritten

    // Refused: NULL items. Same.
    let mut results = garbage_slots(4);
    let r = so_send_cc_password_email_batch(c, std::ptr::null(), 4, 2, None, std::ptr::null_mut(), results.as_mut_ptr(), &mut failed);
    assert_eq!(r, so_result::SO_ERR_NULL_ARGUMENT);
    assert!(results.iter().all(|r| r.code == so_result::SO_ERR_NULL_ARGUMENT as i32 && r.message.is_null()));
    so_batch_results_clear(results.as_mut_ptr(), 4);

    // Ran, two items failed: SO_OK and the count.
    let mut results = garbage_slots(4);
    let r = so_send_cc_password_email_batch(c, items.as_ptr(), 4, 2, None, std::ptr::null_mut(), results.as_mut_ptr(), &mut failed);
    assert_eq!(r, so_result::SO_OK, "{}", last_message());
    assert_eq!(failed, 2);
    let codes: Vec<i32> = results.iter().map(|r| r.code).collect();
    assert_eq!(codes, [0, so_result::SO_ERR_INVALID_ARGUMENT as i32, so_result::SO_ERR_NOT_FOUND as i32, 0]);
    so_batch_results_clear(results.as_mut_ptr(), 4);

    // The first function keeps its contract: the first failed item's code.
    let mut results = garbage_slots(4);
    let r = so_send_cc_password_emails(c, items.as_ptr(), 4, 2, results.as_mut_ptr());
    assert_eq!(r, so_result::SO_ERR_INVALID_ARGUMENT);
    assert!(last_message().starts_with("2 of 4 e-mails failed; the first, item 1"), "{}", last_message());
    assert!(!results[1].message.is_null(), "an item's failure has its message, a refusal has none");
    so_batch_results_clear(results.as_mut_ptr(), 4);
    so_client_free(c);
}

#[test]
fn the_tenant_lookup_reports_the_size_it_needs() {
    let stub = stub::Stub::start();
    let endpoint = cs(&stub.url());
    let expected = format!("{}/Cust12345/api", stub.url());
    let mut needed = 0usize;

    // Asking for the size alone.
    let r = so_lookup_tenant_api_url_sized(endpoint.as_ptr(), cs("Cust12345").as_ptr(), std::ptr::null_mut(), 0, &mut needed);
    assert_eq!(r, so_result::SO_ERR_BUFFER_TOO_SMALL);
    assert_eq!(needed, expected.len() + 1);

    // Too small a buffer: nothing written, the size reported.
    let mut small = vec![b'#' as c_char; 8];
    needed = 0;
    let r = so_lookup_tenant_api_url_sized(endpoint.as_ptr(), cs("Cust12345").as_ptr(), small.as_mut_ptr(), 8, &mut needed);
    assert_eq!(r, so_result::SO_ERR_BUFFER_TOO_SMALL);
    assert_eq!(needed, expected.len() + 1);
    assert!(small.iter().all(|b| *b == b'#' as c_char));

    // Exactly the size needed.
    let mut buf = vec![0 as c_char; needed];
    let r = so_lookup_tenant_api_url_sized(endpoint.as_ptr(), cs("Cust12345").as_ptr(), buf.as_mut_ptr(), needed, &mut needed);
    assert_eq!(r, so_result::SO_OK, "{}", last_message());
    assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), expected);

    // NULL needed is refused; the first function still works as before.
    let r = so_lookup_tenant_api_url_sized(endpoint.as_ptr(), cs("Cust12345").as_ptr(), buf.as_mut_ptr(), buf.len(), std::ptr::null_mut());
    assert_eq!(r, so_result::SO_ERR_NULL_ARGUMENT);
    let r = so_lookup_tenant_api_url(endpoint.as_ptr(), cs("Cust12345").as_ptr(), small.as_mut_ptr(), 8);
    assert_eq!(r, so_result::SO_ERR_BUFFER_TOO_SMALL);
    assert!(last_message().contains(&format!("needs a buffer of {} bytes", expected.len() + 1)));
}

/// The international test host: its ASCII form resolves to 127.0.0.1 when
/// `tests/ensure-idna-host.sh` could make it so.
const IDNA_HOST: &str = "so-stub.bæk.test";
const IDNA_HOST_ASCII: &str = "so-stub.xn--bk-1ia.test";

fn idna_host_resolves() -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ensure-idna-host.sh");
    Command::new(script).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn an_international_host_name_is_sent_in_ascii_and_shown_as_written() {
    // Conversion: always.
    let s = Settings::new("https://crm.bæk.no/SuperOffice").unwrap();
    assert_eq!(s.base().root(), "https://crm.xn--bk-1ia.no/SuperOffice");
    let e = Settings::new("https://crm.xn--zz-.no/SuperOffice").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("not valid under IDNA") && e.message.contains("'xn--zz-'"), "{}", e.message);
    let o = so_options_new(cs("https://crm.bæk.no/SuperOffice").as_ptr());
    assert!(!o.is_null(), "{}", last_message());
    so_options_free(o);
    assert!(so_options_new(cs("https://b\u{fffd}k.no/").as_ptr()).is_null());
    assert_eq!(so_last_error_code(), so_result::SO_ERR_INVALID_ARGUMENT);
    assert!(last_message().contains("not valid under IDNA"), "{}", last_message());

    if !idna_host_resolves() {
        eprintln!("{IDNA_HOST_ASCII} does not resolve to 127.0.0.1 (/etc/hosts not writable): conversion tested alone");
        return;
    }
    let stub = stub::Stub::start();
    let prefix = unique("idna");
    let base = format!("http://{IDNA_HOST}:{}{prefix}/status=404/Cust1", stub.port());
    let c = Client::new(&settings(&base, 2000, 5000)).unwrap();
    let e = send(&c).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
    assert!(e.message.contains(&format!("http://{IDNA_HOST}:{}{prefix}", stub.port())), "shown as written: {}", e.message);
    assert!(!e.message.contains("xn--"), "{}", e.message);
    let reqs = stub.requests(&prefix);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("host"), Some(format!("{IDNA_HOST_ASCII}:{}", stub.port()).as_str()));

    // And through the C ABI, to a 204.
    let c = client(&format!("http://{IDNA_HOST}:{}{prefix}/ok/Cust1", stub.port()));
    assert_eq!(so_send_cc_password_email(c, 670, std::ptr::null(), std::ptr::null(), std::ptr::null()), so_result::SO_OK, "{}", last_message());
    so_client_free(c);
}
