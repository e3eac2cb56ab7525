//! TLS trust: https against a local rustls server whose certificates come from a test
//! certificate authority made at test time (rcgen). Trusted through a CA file, refused
//! with a precise message when the issuer is unknown, the certificate has expired or is
//! not yet valid, or names another host; the default trust store is the system's.

use superoffice_stub as stub;
mod support;

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use superoffice::ffi::client::{so_client_free, so_client_new, so_send_cc_password_email};
use superoffice::ffi::errors::{so_last_error_http_status, so_last_error_message};
use superoffice::ffi::options::{
    so_options_free, so_options_new, so_options_set_ca_file, so_options_set_proxy, so_options_set_ticket,
    so_options_set_timeout_ms,
};
use superoffice::ffi::so_result;
use superoffice::tls::{default_roots_info, root_certs, RootSource};
use superoffice::{Client, ErrorKind};
use support::tls::{TestCa, TlsServer};
use support::*;

/// A client of `url` that trusts the CA file when given.
fn client(url: &str, ca_file: Option<&PathBuf>) -> Client {
    let mut s = builder(&format!("{url}/Cust12345"), 2000, 5000);
    if let Some(p) = ca_file {
        s.ca_file(Some(p.to_str().unwrap())).unwrap();
    }
    Client::new(&s.build()).unwrap()
}

#[test]
fn a_certificate_from_a_trusted_ca_file_is_accepted() {
    let ca = TestCa::new("superoffice-ffi test CA");
    let (dir, ca_file) = ca.pem_in_temp_dir("trusted");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1", "localhost"], 2020, 2090));
    let c = client(&server.url(), Some(&ca_file));
    let sent = send(&c).unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(sent.http_status, 204);
    // The pool keeps the TLS connection: a second send works too.
    send(&c).unwrap();
    assert_eq!(server.requests(), 2);
    // A host name (not only an IP address) is verified the same way.
    let by_name = client(&format!("https://localhost:{}", server.port()), Some(&ca_file));
    send(&by_name).unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(server.requests(), 3);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn trusted_through_the_c_abi_so_options_set_ca_file() {
    let ca = TestCa::new("superoffice-ffi test CA (C ABI)");
    let (dir, ca_file) = ca.pem_in_temp_dir("ffi");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    let base = CString::new(format!("{}/Cust12345", server.url())).unwrap();
    let path = CString::new(ca_file.to_str().unwrap()).unwrap();
    let send_with = |ca: Option<&CString>| -> (so_result, String) {
        let o = so_options_new(base.as_ptr());
        assert!(!o.is_null());
        assert_eq!(so_options_set_ticket(o, c"7T:dGVzdA==".as_ptr()), so_result::SO_OK);
        assert_eq!(so_options_set_timeout_ms(o, 2000, 5000), so_result::SO_OK);
        assert_eq!(so_options_set_proxy(o, c"".as_ptr()), so_result::SO_OK);
        if let Some(ca) = ca {
            assert_eq!(so_options_set_ca_file(o, ca.as_ptr()), so_result::SO_OK);
        }
        let c = so_client_new(o);
        so_options_free(o);
        assert!(!c.is_null());
        let r = so_send_cc_password_email(c, 670, std::ptr::null(), std::ptr::null(), std::ptr::null());
        // SAFETY: the library's last error message, read on this thread before any other call.
        let msg = unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned();
        assert_eq!(so_last_error_http_status(), 0);
        so_client_free(c);
        (r, msg)
    };
    assert_eq!(send_with(Some(&path)), (so_result::SO_OK, String::new()));
    let (r, msg) = send_with(None);
    assert_eq!(r, so_result::SO_ERR_TLS);
    assert!(msg.contains("unknown issuer"), "{msg}");
    assert_eq!(server.requests(), 1);

    // A path that cannot be read, or a file without a certificate, is refused at once.
    let o = so_options_new(base.as_ptr());
    assert_eq!(so_options_set_ca_file(o, c"/nonexistent/ca.pem".as_ptr()), so_result::SO_ERR_INVALID_ARGUMENT);
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let not_pem = CString::new(not_pem.to_str().unwrap()).unwrap();
    assert_eq!(so_options_set_ca_file(o, not_pem.as_ptr()), so_result::SO_ERR_INVALID_ARGUMENT);
    // NULL clears it.
    assert_eq!(so_options_set_ca_file(o, std::ptr::null()), so_result::SO_OK);
    so_options_free(o);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_untrusted_certificate_is_tls_unknown_issuer() {
    let ca = TestCa::new("trusted CA");
    let other = TestCa::new("some other CA");
    let (dir, ca_file) = ca.pem_in_temp_dir("untrusted");
    let server = TlsServer::start(&other.leaf(&["127.0.0.1"], 2020, 2090));
    for trust in [None, Some(&ca_file)] {
        let mut s = builder(&format!("{}/Cust12345", server.url()), 2000, 5000);
        if let Some(p) = trust {
            s.ca_file(Some(p.to_str().unwrap())).unwrap();
        }
        let lines = std::sync::Arc::new(Lines::default());
        s.logger(Some(lines.clone()));
        let e = expect_err(send(&Client::new(&s.build()).unwrap()), "untrusted");
        assert_error(
            &e,
            ErrorKind::Tls,
            0,
            &["not trusted (unknown issuer)", &format!("127.0.0.1:{}", server.port())],
            "untrusted",
        );
        assert!(lines.retry_waits().is_empty(), "a TLS failure is not retried");
    }
    assert_eq!(server.requests(), 0, "no request went over an unverified connection");
    std::fs::remove_dir_all(dir).ok();
}

/// A certificate out of its validity period: expired, or not valid yet.
#[test]
fn a_certificate_out_of_its_dates_is_tls() {
    for (from, to, what, said) in [(2019, 2021, "expired", "certificate has expired"), (2080, 2090, "notyet", "not valid yet")] {
        let ca = TestCa::new("test CA");
        let (dir, ca_file) = ca.pem_in_temp_dir(what);
        let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], from, to));
        let e = expect_err(send(&client(&server.url(), Some(&ca_file))), what);
        assert_error(&e, ErrorKind::Tls, 0, &[said], what);
        assert_eq!(server.requests(), 0, "{what}");
        std::fs::remove_dir_all(dir).ok();
    }
}

#[test]
fn a_certificate_for_another_host_is_tls_wrong_name() {
    let ca = TestCa::new("test CA");
    let (dir, ca_file) = ca.pem_in_temp_dir("wrongname");
    let server = TlsServer::start(&ca.leaf(&["crm.example.com", "10.1.2.3"], 2020, 2090));
    for url in [server.url(), format!("https://localhost:{}", server.port())] {
        let e = expect_err(send(&client(&url, Some(&ca_file))), "wrong name");
        assert_error(&e, ErrorKind::Tls, 0, &["not valid for this host name"], &url);
    }
    assert_eq!(server.requests(), 0);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn https_to_a_plain_http_server_is_tls_and_http_to_a_tls_server_is_io() {
    let stub = stub::Stub::start();
    let https_to_plain = stub.url().replace("http://", "https://");
    let e = expect_err(send(&client(&https_to_plain, None)), "https to http");
    assert_error(&e, ErrorKind::Tls, 0, &["did not answer with TLS"], "https to http");
    assert_eq!(stub.count(""), 0);

    let ca = TestCa::new("test CA");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    let plain_to_tls = server.url().replace("https://", "http://");
    let e = expect_err(send(&client(&plain_to_tls, None)), "http to https");
    assert!(matches!(e.kind, ErrorKind::Io | ErrorKind::Timeout), "{:?}: {}", e.kind, e.message);
    assert_eq!(server.requests(), 0);
}

#[test]
fn default_roots_are_the_systems_and_a_ca_file_adds_to_them() {
    let (source, count) = default_roots_info();
    let system_bundle = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .iter()
        .any(|p| std::path::Path::new(p).exists());
    if system_bundle {
        assert_eq!(source, RootSource::System, "this machine has a system trust store");
    }
    assert!(count > 50, "{count} default roots");

    let ca = TestCa::new("added CA");
    let (dir, ca_file) = ca.pem_in_temp_dir("roots");
    let with_file = match root_certs(Some(ca_file.to_str().unwrap())).unwrap() {
        ureq::tls::RootCerts::Specific(v) => v.len(),
        _ => panic!("specific roots expected"),
    };
    assert_eq!(with_file, count + 1, "the CA file adds to the defaults, it does not replace them");
    let without = match root_certs(None).unwrap() {
        ureq::tls::RootCerts::Specific(v) => v.len(),
        _ => panic!("specific roots expected"),
    };
    assert_eq!(without, count);

    // The file is read again when the client is made: a file gone by then is an error.
    let mut s = builder("https://127.0.0.1:1/Cust1", 1000, 1000);
    s.ca_file(Some(ca_file.to_str().unwrap())).unwrap();
    std::fs::remove_file(&ca_file).unwrap();
    let e = Client::new(&s.build()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("cannot read CA file"), "{}", e.message);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn without_the_system_store_the_bundled_mozilla_roots_are_used() {
    // The fallback is chosen once per process, so it is checked in a child process whose
    // environment points rustls-native-certs at an empty bundle.
    if std::env::var_os("SO_TLS_CHILD").is_some() {
        let (source, count) = default_roots_info();
        println!("ROOTS {source:?} {count}");
        return;
    }
    let dir = temp_dir("empty-store");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "without_the_system_store_the_bundled_mozilla_roots_are_used", "--nocapture"])
        .env("SO_TLS_CHILD", "1")
        .env("SSL_CERT_FILE", &empty)
        .env("SSL_CERT_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text.lines().find(|l| l.starts_with("ROOTS ")).expect("child printed its roots");
    assert!(line.starts_with("ROOTS Bundled "), "{line}");
    let n: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n > 100, "{line}");
    std::fs::remove_dir_all(dir).ok();
}
