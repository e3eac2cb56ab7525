//! Finding a person by e-mail address, and sending to an address, against the stub's
//! Person archive (docs/person-search.md, docs/stub-protocol.md).

use superoffice_stub as stub;

mod support;

use std::sync::Arc;

use superoffice::log::Level;
use superoffice::{Client, Delivery, Error, ErrorKind, PersonMatch};
use support::{assert_error, builder, closed_port, unique, Lines};

const QUERY_HEAD: &str = "$select=personId,fullName,email/emailAddress&$filter=email/emailAddress%20is%20";
const QUERY_TAIL: &str = "&$entities=person&$top=51&$jsonSafe=true";

/// A client for a fresh tenant prefix with `directives`, and its log.
fn client(s: &stub::Stub, name: &str, directives: &str) -> (Client, String, Arc<Lines>) {
    let prefix = unique(name);
    let sep = if directives.is_empty() { "" } else { "/" };
    let mut b = builder(&format!("{}{prefix}{sep}{directives}/Cust12345/api/", s.url()), 2000, 5000);
    let lines = Arc::new(Lines::default());
    b.logger(Some(lines.clone())).max_retries(2).unwrap();
    (Client::new(&b.build()).unwrap(), prefix, lines)
}

fn ids(found: &[PersonMatch]) -> Vec<i32> {
    found.iter().map(|p| p.person_id).collect()
}

fn find(s: &stub::Stub, directives: &str, email: &str) -> Result<Vec<PersonMatch>, Error> {
    client(s, "find", directives).0.find_persons_by_email(email)
}

#[test]
fn the_wire_is_the_documented_search_with_the_clients_credentials_and_headers() {
    let s = stub::Stub::start();
    let prefix = unique("wire");
    let mut b = builder(&format!("{}{prefix}/auth=ticket/Cust12345/api/", s.url()), 2000, 5000);
    b.app_token(Some("app-123")).unwrap().language(Some("sv")).unwrap().select(Some("name")).unwrap();
    let c = Client::new(&b.build()).unwrap();
    let found = c.find_persons_by_email("  Finn.O'Brien@Example.com ").unwrap();
    assert_eq!(
        found,
        vec![PersonMatch { person_id: 16, full_name: "Finn O'Brien".into(), email: "finn.o'brien@example.com".into() }]
    );
    let reqs = s.requests(&prefix);
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert!(r.path.ends_with("/Cust12345/api/v1/Person"), "{}", r.path);
    // The address trimmed, its quote doubled; the client's own $select is the send's only.
    assert_eq!(r.query, format!("{QUERY_HEAD}'Finn.O''Brien@Example.com'{QUERY_TAIL}"));
    assert_eq!(r.header("authorization"), Some("SOTicket 7T:dGVzdA=="));
    assert_eq!(r.header("so-apptoken"), Some("app-123"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("so-language"), Some("sv"));
    assert_eq!(r.header("content-type"), None);
    assert!(r.body.is_empty());
}

#[test]
fn exact_case_insensitive_apostrophe_plus_and_non_ascii_addresses() {
    let s = stub::Stub::start();
    for (address, want) in [
        ("ann.able@example.com", vec![11]),
        ("ANN.ABLE@EXAMPLE.COM", vec![11]),
        ("eve.mixed@example.com", vec![15]),
        ("finn.o'brien@example.com", vec![16]),
        ("hal+news@example.com", vec![18]),
        ("JÖ@EXÄMPLE.COM", vec![21]),
        // The same person twice (two rows) counts once.
        ("gus@example.com", vec![17]),
        // A retired person and an active one: the active one only.
        ("ida@example.com", vec![20]),
        ("retired@example.com", vec![]),
        ("nobody@example.com", vec![]),
        ("shared@example.com", vec![12, 13]),
    ] {
        assert_eq!(ids(&find(&s, "", address).unwrap()), want, "{address}");
    }
    // The key as a string, and `$jsonSafe` ignored (keys with `/`) are read as they are.
    assert_eq!(ids(&find(&s, "archive=key_string", "ann.able@example.com").unwrap()), vec![11]);
    let found = find(&s, "archive=jsonsafe_ignored", "Eve.Mixed@example.com").unwrap();
    assert_eq!(found, vec![PersonMatch { person_id: 15, full_name: "Eve Mixed".into(), email: "Eve.Mixed@Example.COM".into() }]);
}

#[test]
fn sending_to_an_address_sends_to_the_one_person_only() {
    let s = stub::Stub::start();
    let (c, prefix, _) = client(&s, "to-one", "");
    let (id, sent) = c.send_cc_password_email_to_address(Some("support@example.com"), " IDA@example.com ", Some("Hi")).unwrap();
    assert_eq!((id, sent.http_status), (20, 204));
    assert_eq!(s.sends(&prefix).into_iter().collect::<Vec<_>>(), vec![(20, 1)]);
    let post = s.requests(&prefix).into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.body_str(), r#"{"PersonId":20,"From":"support@example.com","To":"IDA@example.com","Subject":"Hi"}"#);
}

#[test]
fn two_persons_on_one_address_is_ambiguous_and_nothing_is_sent() {
    let s = stub::Stub::start();
    let (c, prefix, _) = client(&s, "ambiguous", "");
    let e = c.send_cc_password_email_to_address(None, "Shared@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::AmbiguousRecipient, 0, &["2 persons", "Shared@example.com", "person ids 12, 13"], "ambiguous");
    assert_eq!(e.delivery, Delivery::NotSent);
    assert_eq!(s.sends_total(&prefix), 0);
}

#[test]
fn a_retired_person_only_is_not_found_and_nothing_is_sent() {
    let s = stub::Stub::start();
    let (c, prefix, _) = client(&s, "retired", "");
    let e = c.send_cc_password_email_to_address(None, "retired@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::RecipientNotFound, 0, &["no person has the e-mail address retired@example.com"], "retired");
    assert_eq!(e.delivery, Delivery::NotSent);
    assert_eq!(s.sends_total(&prefix), 0);
}

#[test]
fn a_server_that_ignores_the_filter_is_not_trusted_and_no_one_gets_an_email() {
    let s = stub::Stub::start();
    let every_name: Vec<String> = stub::archive::directory(0)
        .into_iter()
        .filter(|p| p.id != 11)
        .flat_map(|p| std::iter::once(p.full_name).chain(p.emails))
        .collect();
    let (c, prefix, lines) = client(&s, "ignored", "archive=filter_ignored");
    let e = c.find_persons_by_email("ann.able@example.com").unwrap_err();
    assert_error(&e, ErrorKind::Io, 200, &["GET ", "/api/v1/Person?", "the server did not apply the e-mail filter"], "find");
    let e = c.send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::Io, 200, &["the server did not apply the e-mail filter", "no e-mail was sent"], "send");
    assert_eq!(e.delivery, Delivery::NotSent);
    assert_eq!(s.sends_total(&prefix), 0, "the stub's send count");
    for p in stub::archive::directory(0) {
        assert_eq!(s.sends(&prefix).get(&p.id), None);
    }
    // Messages and log lines carry ids and counts, never other persons' names or addresses.
    let log: Vec<String> = lines.all().into_iter().map(|(_, l)| l).collect();
    for text in log.iter().chain([&e.message]) {
        for other in &every_name {
            assert!(!text.contains(other.as_str()), "{other:?} shown in {text}");
        }
    }
}

#[test]
fn rows_without_an_email_column_are_an_error_never_no_person() {
    let s = stub::Stub::start();
    for directives in ["archive=no_email", "archive=no_email/archive=jsonsafe_ignored"] {
        let (c, prefix, _) = client(&s, "no-email", directives);
        let e = c.send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
        assert_error(&e, ErrorKind::Io, 200, &["no e-mail column"], directives);
        assert_eq!(e.delivery, Delivery::NotSent);
        assert_eq!(s.sends_total(&prefix), 0);
    }
    // No row at all is no person (the column cannot be missing from no row).
    assert_eq!(find(&s, "archive=no_email", "nobody@example.com").unwrap(), vec![]);
}

#[test]
fn fifty_persons_are_found_and_fifty_one_are_an_error() {
    let s = stub::Stub::start();
    assert_eq!(find(&s, "crowd=50", "crowd@example.com").unwrap().len(), 50);
    let e = find(&s, "crowd=51", "crowd@example.com").unwrap_err();
    assert_error(&e, ErrorKind::AmbiguousRecipient, 0, &["more than 50 persons", "51 rows"], "51");
    let (c, prefix, _) = client(&s, "crowd", "crowd=60");
    let e = c.send_cc_password_email_to_address(None, "crowd@example.com", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AmbiguousRecipient);
    assert_eq!(s.sends_total(&prefix), 0);
}

#[test]
fn the_search_is_resent_on_the_sends_rules_and_messages_name_get() {
    let s = stub::Stub::start();
    // 503 then 200: resent once.
    let (c, prefix, _) = client(&s, "retry", "status=503/retry_after=0/fail_first=1");
    assert_eq!(ids(&c.find_persons_by_email("ann.able@example.com").unwrap()), vec![11]);
    assert_eq!(s.requests(&prefix).iter().filter(|r| r.method == "GET").count(), 2);
    // 500: not resent, named as the GET it was.
    let (c, prefix, _) = client(&s, "fail", "status=500");
    let e = c.find_persons_by_email("ann.able@example.com").unwrap_err();
    assert_error(&e, ErrorKind::Server, 500, &["GET http://127.0.0.1:", "/api/v1/Person?$select=", "stub status 500"], "500");
    assert!(!e.message.contains("POST"), "{}", e.message);
    assert_eq!(s.count(&prefix), 1);
    // A send's failure after a search that went well names the POST.
    let (c, prefix, _) = client(&s, "send-fails", "status=400/archive=clean");
    let e = c.send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::BadRequest, 400, &["POST http://127.0.0.1:", "SendCustomerCentrePasswordEmail"], "send");
    assert_eq!(e.delivery, Delivery::Answered);
    assert_eq!(s.sends(&prefix).get(&11), Some(&1));
    // The search's own failure is not sent, its words are the search's.
    let (c, prefix, _) = client(&s, "search-500", "status=500");
    let e = c.send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::Server, 500, &["GET http://", "no e-mail was sent"], "search 500");
    assert_eq!(e.delivery, Delivery::NotSent);
    assert!(!e.message.contains("it may have been processed"), "{}", e.message);
    assert_eq!(s.sends_total(&prefix), 0);
    // The e-mail request's connection dropped after it was sent: unknown.
    let (c, prefix, _) = client(&s, "send-drop", "drop=after/archive=clean");
    let e = c.send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
    assert_eq!((e.kind, e.delivery), (ErrorKind::Io, Delivery::Unknown), "{}", e.message);
    assert_eq!(s.sends(&prefix).get(&11), Some(&1));
    assert_eq!(s.sends(&prefix).get(&11), Some(&1));
    // Nothing listening: the transport error names the GET too.
    let b = builder(&format!("http://127.0.0.1:{}/Cust1/api/", closed_port()), 1000, 2000);
    let e = Client::new(&b.build()).unwrap().find_persons_by_email("a@example.com").unwrap_err();
    assert_error(&e, ErrorKind::Connect, 0, &["GET http://127.0.0.1:", "/Cust1/api/v1/Person?"], "refused");
}

#[test]
fn a_search_timeout_sends_nothing() {
    let s = stub::Stub::start();
    let prefix = unique("slow");
    let b = builder(&format!("{}{prefix}/delay_ms=3000/Cust1/api/", s.url()), 500, 800);
    let e = Client::new(&b.build()).unwrap().send_cc_password_email_to_address(None, "ann.able@example.com", None).unwrap_err();
    assert_error(&e, ErrorKind::Timeout, 0, &["GET http://127.0.0.1:", "no e-mail was sent"], "timeout");
    assert_eq!(e.delivery, Delivery::NotSent);
    assert_eq!(s.sends_total(&prefix), 0);
}

#[test]
fn bad_addresses_are_refused_before_any_request() {
    let s = stub::Stub::start();
    let (c, prefix, _) = client(&s, "refused", "");
    for bad in ["no-at-sign.example.com", "", "a@b\r\nX: y", "a\u{7f}@b", "x@y\u{0}"] {
        let e = c.find_persons_by_email(bad).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{bad:?}: {}", e.message);
        let e = c.send_cc_password_email_to_address(None, bad, None).unwrap_err();
        assert_eq!((e.kind, e.delivery), (ErrorKind::InvalidArgument, Delivery::NotSent), "{bad:?}");
    }
    assert_eq!(s.count(&prefix), 0);
}

#[test]
fn a_successful_search_logs_ids_and_counts() {
    let s = stub::Stub::start();
    let (c, _, lines) = client(&s, "log", "");
    c.find_persons_by_email("shared@example.com").unwrap();
    let log = lines.all();
    assert!(log.iter().any(|(l, m)| *l == Level::Info && m.starts_with("GET http://") && m.contains("200 OK")), "{log:?}");
    assert!(log.iter().any(|(_, m)| m.contains("found 2 person(s)") && m.contains("12, 13")), "{log:?}");
    for (_, m) in &log {
        assert!(!m.contains("Bo Shared") && !m.contains("Cy Shared") && !m.contains("Shared@Example.com"), "{m}");
    }
}
