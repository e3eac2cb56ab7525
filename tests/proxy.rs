//! Explicit proxies (`SettingsBuilder::proxy` / `so_options_set_proxy`), through a real
//! tinyproxy started by the test: plain http, https, an authenticating proxy whose
//! credentials never show in a message, a log line or `Debug` output. The
//! environment-variable cases are in `tests/proxy_env.rs` (their own process).
//!
//! ureq 3 tunnels every request through an HTTP proxy with CONNECT, plain http
//! included: the proxy sees `CONNECT host:port` and never the request itself (its
//! headers, `Authorization` among them, stay inside the tunnel). A proxy must
//! therefore allow CONNECT to the server's port (tinyproxy's `ConnectPort`).

use superoffice_stub as stub;
mod support;

use std::ffi::{CStr, CString};
use std::sync::Arc;

use superoffice::ffi::client::{so_client_free, so_client_new, so_send_cc_password_email};
use superoffice::ffi::errors::so_last_error_message;
use superoffice::ffi::options::{
    so_options_free, so_options_new, so_options_set_proxy, so_options_set_ticket, so_options_set_timeout_ms,
};
use superoffice::ffi::so_result;
use superoffice::{Client, ErrorKind};
use support::tls::{TestCa, TlsServer};
use support::*;

const PROXY_USER: &str = "proxyuser";
const PROXY_PASSWORD: &str = "Pr0xy-Pa55-never-shown";

fn via_proxy(base: &str, proxy: &str) -> (Client, Arc<Lines>) {
    let mut s = builder(base, 2000, 10_000);
    s.proxy(Some(proxy)).unwrap();
    let lines = Arc::new(Lines::default());
    s.logger(Some(lines.clone()));
    (Client::new(&s.build()).unwrap(), lines)
}

fn assert_no_password(text: &str, what: &str) {
    assert!(!text.contains(PROXY_PASSWORD), "{what} shows the proxy password: {text}");
}

#[test]
fn plain_http_goes_through_the_proxy() {
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(None, &[stub.port()]);
    let prefix = unique("proxied");
    let (c, _) = via_proxy(&format!("{}{prefix}/Cust12345", stub.url()), &proxy.url(None));
    assert_eq!(send(&c).unwrap().http_status, 204);
    assert_eq!(send(&c).unwrap().http_status, 204);
    let reqs = stub.requests(&prefix);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("authorization"), Some("SOTicket 7T:dGVzdA=="), "the request arrives whole");
    assert!(reqs[0].header("proxy-authorization").is_none());
    let log = proxy.log();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{}", stub.port())), "went through the proxy: {log}");
    assert!(!log.contains(&prefix), "the proxy never saw the request inside the tunnel: {log}");

    // Without the proxy (explicitly none) it goes direct.
    let direct = settings(&format!("{}{prefix}/Cust12345", stub.url()), 2000, 5000);
    let before = proxy.log().matches("CONNECT").count();
    send(&Client::new(&direct).unwrap()).unwrap();
    assert_eq!(proxy.log().matches("CONNECT").count(), before);
}

#[test]
fn https_goes_through_connect() {
    let ca = TestCa::new("proxy test CA");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    let (dir, ca_file) = ca.pem_in_temp_dir("proxy");
    let proxy = Tinyproxy::start(None, &[server.port()]);
    let (c, _) = via_proxy(&format!("{}/Cust12345", server.url()), &proxy.url(None));
    let mut s = c.settings().to_builder();
    s.ca_file(Some(ca_file.to_str().unwrap())).unwrap();
    let c = Client::new(&s.build()).unwrap();
    assert_eq!(send(&c).unwrap_or_else(|e| panic!("{}", e.message)).http_status, 204);
    assert_eq!(server.requests(), 1);
    assert!(proxy.log().contains(&format!("CONNECT 127.0.0.1:{}", server.port())), "{}", proxy.log());

    // The certificate is still verified end to end through the tunnel.
    let (c, _) = via_proxy(&format!("{}/Cust12345", server.url()), &proxy.url(None));
    let e = expect_err(send(&c), "tunnel without the CA");
    assert_error(&e, ErrorKind::Tls, 0, &["unknown issuer"], "tunnel without the CA");
    assert_eq!(server.requests(), 1);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_tunnel_the_proxy_refuses_is_connect() {
    let ca = TestCa::new("proxy test CA");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    // CONNECT is allowed to another port only.
    let proxy = Tinyproxy::start(None, &[closed_port()]);
    let (c, lines) = via_proxy(&format!("{}/Cust12345", server.url()), &proxy.url(None));
    let e = expect_err(send(&c), "refused tunnel");
    assert_error(&e, ErrorKind::Connect, 0, &["proxy refused the tunnel"], "refused tunnel");
    assert_eq!(server.requests(), 0);
    // Nothing reached the server, so the attempt may be, and is, retried.
    assert_eq!(lines.retry_waits().len(), 2, "{:?}", lines.all());
}

#[test]
fn an_authenticating_proxy() {
    let stub = stub::Stub::start();
    let ca = TestCa::new("proxy test CA");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    let (dir, ca_file) = ca.pem_in_temp_dir("proxyauth");
    let proxy = Tinyproxy::start(Some((PROXY_USER, PROXY_PASSWORD)), &[server.port(), stub.port()]);
    let good = proxy.url(Some((PROXY_USER, PROXY_PASSWORD)));
    let bad = proxy.url(Some((PROXY_USER, &format!("{PROXY_PASSWORD}-wrong"))));

    // Right credentials: http and https both go through.
    let prefix = unique("auth-ok");
    let (c, lines) = via_proxy(&format!("{}{prefix}/Cust12345", stub.url()), &good);
    assert_eq!(send(&c).unwrap().http_status, 204);
    assert_eq!(stub.count(&prefix), 1);
    let reqs = stub.requests(&prefix);
    assert!(reqs[0].header("proxy-authorization").is_none(), "the proxy's credentials stop at the proxy");
    assert_no_password(&format!("{c:?}"), "Debug of the client");
    assert_no_password(&format!("{:?}", c.settings()), "Debug of the settings");
    for (_, l) in lines.all() {
        assert_no_password(&l, "a log line");
    }

    let mut s = builder(&format!("{}/Cust12345", server.url()), 2000, 10_000);
    s.proxy(Some(&good)).unwrap();
    s.ca_file(Some(ca_file.to_str().unwrap())).unwrap();
    assert_eq!(send(&Client::new(&s.build()).unwrap()).unwrap_or_else(|e| panic!("{}", e.message)).http_status, 204);
    assert_eq!(server.requests(), 1);

    // Wrong or missing credentials: the proxy refuses the tunnel (407), for http and
    // https alike; nothing reaches the server.
    for proxy_url in [bad.clone(), proxy.url(None)] {
        let prefix = unique("auth-bad");
        let (c, lines) = via_proxy(&format!("{}{prefix}/Cust12345", stub.url()), &proxy_url);
        let e = expect_err(send(&c), "407");
        // tinyproxy answers a CONNECT without valid credentials 401 (others say 407).
        assert_error(&e, ErrorKind::Connect, 0, &["proxy refused the tunnel"], "407");
        assert!(e.message.contains("401") || e.message.contains("407"), "{}", e.message);
        assert_no_password(&e.message, "the 407 message");
        for (_, l) in lines.all() {
            assert_no_password(&l, "a log line");
        }
        assert_eq!(stub.count(&prefix), 0);
    }
    let mut s = builder(&format!("{}/Cust12345", server.url()), 2000, 10_000);
    s.proxy(Some(&bad)).unwrap();
    s.ca_file(Some(ca_file.to_str().unwrap())).unwrap();
    s.max_retries(0).unwrap();
    let e = expect_err(send(&Client::new(&s.build()).unwrap()), "CONNECT 407");
    assert_error(&e, ErrorKind::Connect, 0, &["proxy refused the tunnel"], "https 407");
    assert_no_password(&e.message, "the CONNECT 407 message");
    assert_eq!(server.requests(), 1);
    assert_no_password(&proxy.log(), "tinyproxy's log");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_proxy_that_is_down_is_connect_and_never_shows_its_password() {
    let port = closed_port();
    let url = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}");
    let (c, lines) = via_proxy("http://127.0.0.1:9/Cust12345", &url);
    let e = expect_err(send(&c), "proxy down");
    assert_eq!(e.kind, ErrorKind::Connect, "{}", e.message);
    assert_no_password(&e.message, "the message");
    assert_eq!(lines.retry_waits().len(), 2, "not connected, so retried");
    for (_, l) in lines.all() {
        assert_no_password(&l, "a log line");
    }
    assert_no_password(&format!("{c:?}"), "Debug of the client");
}

#[test]
fn bad_proxy_urls_are_invalid_arguments_without_echoing_credentials() {
    let mut s = builder("http://127.0.0.1:9/Cust1", 1000, 1000);
    for bad in [
        format!("http://u:{PROXY_PASSWORD}@127.0.0.1:3128 x"),
        format!("http://u:{PROXY_PASSWORD}@127.0.0.1:3128\r\nX: y"),
        format!("ftp://u:{PROXY_PASSWORD}@host:21"),
        format!("http://u:{PROXY_PASSWORD}@:3128"),
        format!("http://u:{PROXY_PASSWORD}@host:notaport"),
        format!("http://u:{PROXY_PASSWORD}@host:99999"),
        format!("http://u:{PROXY_PASSWORD}@host:0"),
        format!("http://u:{PROXY_PASSWORD}@host:3128/path"),
        format!("http://u:{PROXY_PASSWORD}@host:3128?q"),
        "http://".to_string(),
    ] {
        let e = s.proxy(Some(&bad)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad:?}: {}", e.message);
        assert_no_password(&e.message, "the message");
    }
    for good in ["http://proxy:3128", "http://u:p@proxy:3128/", "proxy:3128", "https://[::1]:3128", "socks5://127.0.0.1:1080", "http://proxy"] {
        s.proxy(Some(good)).unwrap_or_else(|e| panic!("{good}: {}", e.message));
    }
}

#[test]
fn proxied_through_the_c_abi() {
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(None, &[stub.port()]);
    let prefix = unique("c-proxy");
    let base = CString::new(format!("{}{prefix}/Cust12345", stub.url())).unwrap();
    let purl = CString::new(proxy.url(None)).unwrap();
    let o = so_options_new(base.as_ptr());
    assert_eq!(so_options_set_ticket(o, c"7T:dGVzdA==".as_ptr()), so_result::SO_OK);
    assert_eq!(so_options_set_timeout_ms(o, 2000, 5000), so_result::SO_OK);
    assert_eq!(so_options_set_proxy(o, purl.as_ptr()), so_result::SO_OK);
    let c = so_client_new(o);
    so_options_free(o);
    let r = so_send_cc_password_email(c, 670, c"a@example.com".as_ptr(), std::ptr::null(), std::ptr::null());
    // SAFETY: read at once on this thread.
    let msg = unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned();
    assert_eq!(r, so_result::SO_OK, "{msg}");
    so_client_free(c);
    assert_eq!(stub.count(&prefix), 1);
    assert!(proxy.log().contains(&format!("CONNECT 127.0.0.1:{}", stub.port())), "{}", proxy.log());
}
