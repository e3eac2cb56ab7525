//! Every failure says whether the e-mail may have gone out: one send per case against
//! the in-process stub, a refused port, a port that never accepts and the stub's untrusted
//! TLS listener, each checked for its code and its delivery together (the table of
//! `superoffice::Delivery`, docs/c-api.md "Delivery").

use superoffice_stub as stub;
mod support;

use superoffice::{Client, Delivery, Error, ErrorKind, Settings, SettingsBuilder};
use support::*;

const TOKEN: &str = "Partner App-8k8Q7DmBgo";
const XML: &str = include_str!("keys/partner.xml");

/// What a send ended with: its kind (`None` for success), its delivery, the stub's count
/// of the requests it read, and the message.
struct Outcome {
    kind: Option<ErrorKind>,
    delivery: Delivery,
    may_have_been_sent: bool,
    read: usize,
    message: String,
}

fn send_with(stub: &stub::Stub, prefix: &str, s: &SettingsBuilder, person_id: i32) -> Outcome {
    let client = Client::new(&s.build()).unwrap();
    let email = superoffice::PasswordEmail { person_id, from: None, to: None, subject: None };
    let result = client.send_cc_password_email(&email);
    let read = stub.count(prefix);
    match result {
        Ok(_) => Outcome { kind: None, delivery: Delivery::Answered, may_have_been_sent: true, read, message: String::new() },
        Err(Error { kind, delivery, ref message, .. }) => {
            let may = result.as_ref().unwrap_err().may_have_been_sent();
            Outcome { kind: Some(kind), delivery, may_have_been_sent: may, read, message: message.clone() }
        }
    }
}

/// A builder for the stub's tenant `prefix/directives/Cust12345`, no retries (so that a
/// failure shows as it is).
fn tenant(stub: &stub::Stub, prefix: &str, directives: &str, connect_ms: u32, total_ms: u32) -> SettingsBuilder {
    let base = format!("{}{prefix}/{directives}/Cust12345", stub.url());
    let mut s = builder(&base, connect_ms, total_ms);
    s.max_retries(0).unwrap();
    s
}

fn check(name: &str, o: &Outcome, kind: Option<ErrorKind>, delivery: Delivery, read: Option<usize>, pieces: &[&str]) {
    assert_eq!((o.kind, o.delivery), (kind, delivery), "{name}: {}", o.message);
    if let Some(read) = read {
        assert_eq!(o.read, read, "{name}: requests the server read");
    }
    for p in pieces {
        assert!(o.message.contains(p), "{name}: {:?} lacks {p:?}", o.message);
    }
    let words = match delivery {
        Delivery::NotSent => Some("it was not sent"),
        Delivery::Unknown => Some("it may have been processed"),
        Delivery::Answered => None,
    };
    if let (Some(words), Some(_)) = (words, kind) {
        if kind != Some(ErrorKind::InvalidArgument) {
            assert!(o.message.ends_with(words), "{name}: {:?} does not end with {words:?}", o.message);
        }
    }
}

#[test]
fn each_failure_has_its_code_and_its_delivery() {
    let stub = stub::Stub::start();
    use Delivery::*;
    use ErrorKind as K;
    // (name, directives, connect ms, total ms, person id, kind, delivery, requests read, message pieces)
    #[allow(clippy::type_complexity)]
    let cases: &[(&str, &str, u32, u32, i32, Option<K>, Delivery, usize, &[&str])] = &[
        ("204", "", 2000, 5000, 670, None, Answered, 1, &[]),
        ("404", "status=404", 2000, 5000, 670, Some(K::NotFound), Answered, 1, &["404"]),
        ("503", "status=503/retry_after=0", 2000, 5000, 670, Some(K::Server), Answered, 1, &["503"]),
        ("close", "drop=after", 2000, 5000, 670, Some(K::Io), Unknown, 1, &["closed the connection"]),
        ("reset", "drop=reset", 2000, 5000, 670, Some(K::Io), Unknown, 1, &["reset"]),
        ("answer timeout", "hang", 2000, 300, 670, Some(K::Timeout), Unknown, 1, &["total timeout"]),
        ("not HTTP", "garbage", 2000, 5000, 670, Some(K::Io), Unknown, 1, &["not valid"]),
        ("person id 0", "", 2000, 5000, 0, Some(K::InvalidArgument), NotSent, 0, &["person_id"]),
    ];
    for (name, directives, connect, total, person, kind, delivery, read, pieces) in cases {
        let prefix = unique(&format!("dl-{}", name.replace(' ', "-")));
        let o = send_with(&stub, &prefix, &tenant(&stub, &prefix, directives, *connect, *total), *person);
        check(name, &o, *kind, *delivery, Some(*read), pieces);
    }
}

#[test]
fn may_have_been_sent_follows_delivery_and_status() {
    let stub = stub::Stub::start();
    for (directives, may) in [("status=404", false), ("status=429", false), ("status=503", false), ("status=500", true), ("status=502", true), ("drop=reset", true)] {
        let prefix = unique("dl-may");
        let o = send_with(&stub, &prefix, &tenant(&stub, &prefix, directives, 2000, 5000), 670);
        assert_eq!(o.may_have_been_sent, may, "{directives}: {}", o.message);
    }
    let o = send_with(&stub, "/none", &refused_builder(), 670);
    assert!(!o.may_have_been_sent);
}

fn refused_builder() -> SettingsBuilder {
    let mut s = builder(&format!("http://127.0.0.1:{}/Cust1", closed_port()), 1000, 5000);
    s.max_retries(0).unwrap();
    s
}

#[test]
fn a_refused_connection_is_not_sent_and_is_still_retried() {
    let stub = stub::Stub::start();
    let o = send_with(&stub, "/nothing", &refused_builder(), 670);
    check("refused", &o, Some(ErrorKind::Connect), Delivery::NotSent, None, &["connection refused"]);
    // Retries do not change: a connection that could not be made is sent again.
    let mut s = refused_builder();
    s.max_retries(2).unwrap();
    let o = send_with(&stub, "/nothing", &s, 670);
    check("refused, retried", &o, Some(ErrorKind::Connect), Delivery::NotSent, None, &["after 2 retries"]);
}

#[test]
fn a_connect_phase_timeout_is_not_sent() {
    let stub = stub::Stub::start();
    let Some(port) = stub.unaccepting_port() else {
        eprintln!("SKIPPED: this kernel completes connections beyond a full backlog");
        return;
    };
    let mut s = builder(&format!("http://127.0.0.1:{port}/Cust1"), 300, 5000);
    s.max_retries(0).unwrap();
    let o = send_with(&stub, "/nothing", &s, 670);
    check("connect timeout", &o, Some(ErrorKind::Timeout), Delivery::NotSent, None, &["connect timeout of 300 ms"]);
}

#[test]
fn an_untrusted_certificate_is_not_sent_and_the_listener_decrypts_nothing() {
    let stub = stub::Stub::start();
    let tls = stub.tls().unwrap();
    let url = tls["url"].as_str().unwrap().to_string();
    let decrypted = || stub.tls().unwrap()["decrypted"].as_u64().unwrap();
    let mut s = builder(&format!("{url}/Cust12345"), 2000, 5000);
    s.max_retries(0).unwrap();
    let before = decrypted();
    let o = send_with(&stub, "/nothing", &s, 670);
    check("untrusted", &o, Some(ErrorKind::Tls), Delivery::NotSent, None, &["not trusted"]);
    assert_eq!(decrypted(), before, "the listener decrypted a request the client should never have sent");
    // The same listener, trusted, decrypts the request: the count can move.
    let dir = temp_dir("dl-ca");
    let pem = dir.join("ca.pem");
    std::fs::write(&pem, tls["ca_pem"].as_str().unwrap()).unwrap();
    s.ca_file(Some(pem.to_str().unwrap())).unwrap();
    let o = send_with(&stub, "/nothing", &s, 670);
    assert_eq!(o.kind, None, "{}", o.message);
    assert_eq!(decrypted(), before + 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_refused_login_is_not_sent() {
    let stub = stub::Stub::start();
    let prefix = unique("dl-login") + "/login=refused";
    let mut s = builder(&format!("{}{prefix}/Cust12345", stub.url()), 2000, 5000);
    s.system_user(TOKEN, XML, "client-secret").unwrap();
    s.login_url(Some(&format!("{}{prefix}/login", stub.url()))).unwrap();
    s.context_identifier(Some("Cust12345")).unwrap();
    let o = send_with(&stub, &prefix, &s, 670);
    check("login refused", &o, Some(ErrorKind::Credentials), Delivery::NotSent, None, &["refused the system user"]);
    let api = stub.requests(&prefix).into_iter().filter(|r| r.path.ends_with(stub::ENDPOINT)).count();
    assert_eq!(api, 0, "no e-mail request without a credential");
}

#[test]
fn settings_errors_say_nothing_was_sent() {
    // Argument errors are NotSent wherever they come from.
    let e = Settings::builder("ftp://nowhere").unwrap_err();
    assert_eq!(e.delivery, Delivery::NotSent);
}
