//! The standard proxy environment variables (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`,
//! their lower-case forms, `NO_PROXY`), honoured unless a proxy is set explicitly, read
//! when a client is created. A test binary of its own, every test holding one lock, so
//! that changing the environment races nothing.

use superoffice_stub as stub;
mod support;

use std::sync::{Mutex, MutexGuard};

use superoffice::settings::ProxySetting;
use superoffice::{Client, ErrorKind};
use support::tls::{TestCa, TlsServer};
use support::*;

const VARS: [&str; 8] =
    ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

/// Holds the environment for one test, with every proxy variable cleared.
struct Env(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Env {
    fn lock() -> Env {
        static LOCK: Mutex<()> = Mutex::new(());
        let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        for v in VARS {
            std::env::remove_var(v);
        }
        Env(guard)
    }

    fn set(&self, name: &str, value: &str) {
        std::env::set_var(name, value);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for v in VARS {
            std::env::remove_var(v);
        }
    }
}

/// Settings that take the proxy from the environment (the default).
fn from_env(base: &str) -> superoffice::SettingsBuilder {
    let mut s = builder(base, 2000, 5000);
    s.proxy(None).unwrap();
    s
}

fn connects(proxy: &Tinyproxy, port: u16) -> usize {
    proxy.log().matches(&format!("CONNECT 127.0.0.1:{port}")).count()
}

#[test]
fn each_variable_is_honoured() {
    let env = Env::lock();
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(None, &[stub.port()]);
    for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        for v in VARS {
            std::env::remove_var(v);
        }
        env.set(var, &proxy.url(None));
        let before = connects(&proxy, stub.port());
        let prefix = unique("env");
        let c = Client::new(&from_env(&format!("{}{prefix}/Cust12345", stub.url())).build()).unwrap();
        assert_eq!(send(&c).unwrap_or_else(|e| panic!("{var}: {}", e.message)).http_status, 204);
        assert_eq!(stub.count(&prefix), 1);
        assert_eq!(connects(&proxy, stub.port()), before + 1, "{var}: went through the proxy");
    }
}

#[test]
fn https_through_the_environments_proxy() {
    let env = Env::lock();
    let ca = TestCa::new("env proxy CA");
    let server = TlsServer::start(&ca.leaf(&["127.0.0.1"], 2020, 2090));
    let (dir, ca_file) = ca.pem_in_temp_dir("proxyenv");
    let proxy = Tinyproxy::start(None, &[server.port()]);
    env.set("HTTPS_PROXY", &proxy.url(None));
    let mut s = from_env(&format!("{}/Cust12345", server.url()));
    s.ca_file(Some(ca_file.to_str().unwrap())).unwrap();
    assert_eq!(send(&Client::new(&s.build()).unwrap()).unwrap_or_else(|e| panic!("{}", e.message)).http_status, 204);
    assert_eq!(server.requests(), 1);
    assert_eq!(connects(&proxy, server.port()), 1);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_explicit_choice_wins_over_the_environment() {
    let env = Env::lock();
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(None, &[stub.port()]);
    // The environment names a proxy that is down: only an explicit choice can succeed.
    env.set("HTTP_PROXY", &format!("http://127.0.0.1:{}", closed_port()));
    env.set("ALL_PROXY", &format!("http://127.0.0.1:{}", closed_port()));

    let prefix = unique("env-down");
    let mut s = from_env(&format!("{}{prefix}/Cust12345", stub.url()));
    s.max_retries(0).unwrap();
    let e = expect_err(send(&Client::new(&s.build()).unwrap()), "env proxy down");
    assert_eq!(e.kind, ErrorKind::Connect, "the environment's proxy was used: {}", e.message);
    assert_eq!(stub.count(&prefix), 0);

    // "" (so_options_set_proxy(o, "")): no proxy at all.
    let prefix = unique("env-direct");
    let mut s = from_env(&format!("{}{prefix}/Cust12345", stub.url()));
    s.proxy(Some("")).unwrap();
    send(&Client::new(&s.build()).unwrap()).unwrap();
    assert_eq!(stub.count(&prefix), 1);

    // An explicit proxy.
    let prefix = unique("env-explicit");
    let mut s = from_env(&format!("{}{prefix}/Cust12345", stub.url()));
    s.proxy(Some(&proxy.url(None))).unwrap();
    send(&Client::new(&s.build()).unwrap()).unwrap();
    assert_eq!(stub.count(&prefix), 1);
    assert_eq!(connects(&proxy, stub.port()), 1);

    // And back to the default (NULL): the environment again.
    s.proxy(None).unwrap();
    assert_eq!(s.build().proxy(), &ProxySetting::FromEnvironment);
    s.max_retries(0).unwrap();
    assert_eq!(expect_err(send(&Client::new(&s.build()).unwrap()), "default again").kind, ErrorKind::Connect);
}

#[test]
fn no_proxy_is_honoured() {
    let env = Env::lock();
    let stub = stub::Stub::start();
    let down = format!("http://127.0.0.1:{}", closed_port());
    for (var, value) in [("NO_PROXY", "127.0.0.1"), ("no_proxy", "localhost,127.0.0.1"), ("NO_PROXY", "*")] {
        for v in VARS {
            std::env::remove_var(v);
        }
        env.set("HTTP_PROXY", &down);
        env.set(var, value);
        let prefix = unique("noproxy");
        let c = Client::new(&from_env(&format!("{}{prefix}/Cust12345", stub.url())).build()).unwrap();
        send(&c).unwrap_or_else(|e| panic!("{var}={value}: {}", e.message));
        assert_eq!(stub.count(&prefix), 1, "{var}={value}");
    }
}

#[test]
fn the_environment_is_read_when_the_client_is_created() {
    let env = Env::lock();
    let stub = stub::Stub::start();
    let proxy = Tinyproxy::start(None, &[stub.port()]);
    let prefix = unique("env-read-once");
    let base = format!("{}{prefix}/Cust12345", stub.url());

    env.set("HTTP_PROXY", &proxy.url(None));
    let made_with_proxy = Client::new(&from_env(&base).build()).unwrap();
    std::env::remove_var("HTTP_PROXY");
    let made_without = Client::new(&from_env(&base).build()).unwrap();
    env.set("HTTP_PROXY", &format!("http://127.0.0.1:{}", closed_port()));

    send(&made_with_proxy).unwrap();
    assert_eq!(connects(&proxy, stub.port()), 1);
    send(&made_without).unwrap();
    assert_eq!(connects(&proxy, stub.port()), 1, "made without a proxy: went direct");
    assert_eq!(stub.count(&prefix), 2);
}

#[test]
fn proxy_credentials_from_the_environment_never_show() {
    let env = Env::lock();
    let stub = stub::Stub::start();
    let password = "Env-Pr0xy-Secret-99";
    let proxy = Tinyproxy::start(Some(("envuser", password)), &[stub.port()]);
    env.set("HTTP_PROXY", &proxy.url(Some(("envuser", password))));
    let prefix = unique("env-auth");
    let lines = std::sync::Arc::new(Lines::default());
    let mut s = from_env(&format!("{}{prefix}/Cust12345", stub.url()));
    s.logger(Some(lines.clone()));
    let c = Client::new(&s.build()).unwrap();
    send(&c).unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(stub.count(&prefix), 1);

    env.set("HTTP_PROXY", &proxy.url(Some(("envuser", "wrong-Env-Pr0xy-Secret-99"))));
    let mut s = from_env(&format!("{}{prefix}/Cust12345", stub.url()));
    s.logger(Some(lines.clone()));
    let e = expect_err(send(&Client::new(&s.build()).unwrap()), "wrong env credentials");
    assert_eq!(e.kind, ErrorKind::Connect);
    assert!(!e.message.contains(password), "{}", e.message);
    for (_, l) in lines.all() {
        assert!(!l.contains(password), "{l}");
    }
    assert!(!format!("{c:?}").contains(password));
}
