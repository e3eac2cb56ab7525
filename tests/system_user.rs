//! The credentials the library gets itself, against the stub's login service
//! (docs/stub-protocol.md, "Login service"): the system user in its three key forms,
//! one login for many threads, the 401 renewal, each failure directive, the JWKS
//! refetch, a tenant that moved, the OAuth refresh token, and redaction of all of it.

use superoffice_stub as stub;
mod support;

use std::sync::Arc;

use superoffice::log::Level;
use superoffice::{Client, ErrorKind, Settings, SettingsBuilder};
use support::*;

const TOKEN: &str = "Partner App-8k8Q7DmBgo";
const CLIENT_SECRET: &str = "client-secret-leak-check";
const PKCS1: &str = include_str!("keys/partner.pkcs1.pem");
const PKCS8: &str = include_str!("keys/partner.pkcs8.pem");
const XML: &str = include_str!("keys/partner.xml");
const AUTHENTICATE: &str = "/login/api/PartnerSystemUser/Authenticate";

struct Case {
    stub: stub::Stub,
    prefix: String,
}

impl Case {
    /// A unique prefix followed by the login service's directives.
    fn new(name: &str, directives: &str) -> Case {
        let stub = stub::Stub::start();
        let mut prefix = unique(name);
        if !directives.is_empty() {
            prefix.push('/');
            prefix.push_str(directives);
        }
        Case { stub, prefix }
    }

    fn settings(&self, key: &str, tenant_directives: &str) -> (SettingsBuilder, Arc<Lines>) {
        let base = format!("{}{}/{}Cust12345", self.stub.url(), self.prefix, tenant_directives);
        let mut s = builder(&base, 2000, 10_000);
        s.system_user(TOKEN, key, CLIENT_SECRET).unwrap();
        s.login_url(Some(&format!("{}{}/login", self.stub.url(), self.prefix))).unwrap();
        s.context_identifier(Some("Cust12345")).unwrap();
        let lines = Arc::new(Lines::default());
        s.logger(Some(lines.clone()));
        (s, lines)
    }

    /// A client of [`Case::settings`].
    fn client(&self, key: &str, tenant_directives: &str) -> (Client, Arc<Lines>) {
        let (s, lines) = self.settings(key, tenant_directives);
        (Client::new(&s.build()).unwrap(), lines)
    }

    fn logins(&self) -> usize {
        self.stub.requests(&self.prefix).iter().filter(|r| r.path.ends_with(AUTHENTICATE)).count()
    }

    fn jwks_fetches(&self) -> usize {
        self.stub.requests(&self.prefix).iter().filter(|r| r.path.ends_with("/.well-known/jwks")).count()
    }

    fn api_requests(&self) -> Vec<stub::RecordedRequest> {
        self.stub.requests(&self.prefix).into_iter().filter(|r| r.path.ends_with(stub::ENDPOINT)).collect()
    }
}

#[test]
fn each_key_form_gets_a_ticket_once_and_sends_it_with_the_app_token() {
    for key in [PKCS1, PKCS8, XML] {
        let case = Case::new("su-forms", "");
        let (s, _) = case.settings(key, "");
        let client = Client::new(&s.build()).unwrap();
        assert_eq!(client.login_exchanges(), 0, "nothing is sent before the first send");
        send(&client).unwrap();
        send(&client).unwrap();
        assert_eq!(case.logins(), 1, "the ticket is reused");
        let login = case.stub.requests(&case.prefix).into_iter().find(|r| r.path.ends_with(AUTHENTICATE)).unwrap();
        let body = login.body_json().unwrap();
        assert_eq!(body["ApplicationToken"], CLIENT_SECRET);
        assert_eq!(body["ContextIdentifier"], "Cust12345");
        assert_eq!(body["ReturnTokenType"], "JWT");
        assert!(body["SignedSystemToken"].as_str().unwrap().starts_with(&format!("{TOKEN}.")));
        assert_eq!(login.header("content-type"), Some("application/json"));
        let api = case.api_requests();
        assert_eq!(api.len(), 2);
        for r in &api {
            assert!(r.header("authorization").unwrap().starts_with("SOTicket 7T:stub-ticket-"), "{r:?}");
            assert_eq!(r.header("so-apptoken"), Some(CLIENT_SECRET));
        }
    }
}

#[test]
fn thirty_two_threads_starting_at_once_make_one_login() {
    let case = Case::new("su-flight", "login_delay_ms=300");
    let (s, _) = case.settings(XML, "");
    let client = Arc::new(Client::new(&s.build()).unwrap());
    let barrier = Arc::new(std::sync::Barrier::new(32));
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (client, barrier) = (client.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                send(&client)
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(case.logins(), 1);
    assert_eq!(case.jwks_fetches(), 1);
    assert_eq!(case.api_requests().len(), 32);
}

#[test]
fn a_revoked_ticket_is_renewed_once_and_the_request_sent_once_more() {
    let case = Case::new("su-revoked", "revoke_first=1");
    let (client, lines) = case.client(PKCS8, "");
    let sent = send(&client).unwrap();
    assert_eq!(sent.http_status, 204);
    assert_eq!(case.logins(), 2);
    let api = case.api_requests();
    assert_eq!(api.len(), 2);
    assert_ne!(api[0].header("authorization"), api[1].header("authorization"));
    assert!(lines.all().iter().any(|(l, m)| *l == Level::Warn && m.contains("401")));
    // The renewed ticket is kept.
    send(&client).unwrap();
    assert_eq!(case.logins(), 2);
}

#[test]
fn a_second_401_is_the_answer_never_a_loop() {
    let case = Case::new("su-always-revoked", "revoke_first=100");
    let (client, _) = case.client(PKCS8, "");
    let e = expect_err(send(&client), "revoked twice");
    assert_error(&e, ErrorKind::Unauthorized, 401, &[], "revoked twice");
    assert_eq!(case.logins(), 2);
    assert_eq!(case.api_requests().len(), 2);
}

fn failing(name: &str, directives: &str, pieces: &[&str]) -> Case {
    let case = Case::new(name, directives);
    let (mut s, lines) = case.settings(XML, "echo_credentials/");
    s.timeouts_ms(1000, 1500);
    let client = Client::new(&s.build()).unwrap();
    let e = expect_err(send(&client), directives);
    assert_error(&e, ErrorKind::Credentials, 0, pieces, directives);
    assert!(case.api_requests().is_empty(), "{directives}: no e-mail request without a credential");
    for text in std::iter::once(e.message.clone()).chain(lines.all().into_iter().map(|(_, m)| m)) {
        assert!(!text.contains(CLIENT_SECRET) && !text.contains(TOKEN), "{directives}: {text}");
    }
    case
}

#[test]
fn each_failure_of_the_login_service_is_a_credentials_error_that_names_its_step() {
    failing("su-refused", "login=refused", &["refused the system user", "not approved"]);
    failing("su-500", "login=500", &["answered 500"]);
    failing("su-slow", "login_delay_ms=5000", &["could not be reached", "in time"]);
    failing("su-expired", "jwt=expired", &["JWT was refused", "expired"]);
    failing("su-not-yet", "jwt=not_yet", &["JWT was refused", "not valid yet"]);
    failing("su-iss", "jwt=wrong_iss", &["JWT was refused", "issuer"]);
    failing("su-aud", "jwt=wrong_aud", &["JWT was refused", "audience"]);
    failing("su-no-ticket", "jwt=no_ticket", &["JWT was refused", "ticket"]);
    failing("su-garbage", "jwt=garbage", &["JWT was refused", "malformed"]);
    let unknown = failing("su-unknown-key", "jwt=unknown_key", &["JWT was refused", "does not publish"]);
    assert_eq!(unknown.jwks_fetches(), 2, "the JWKS is fetched again once for an unknown kid");
    let stub = stub::Stub::start();
    let closed = format!("http://127.0.0.1:{}/login", closed_port());
    let mut s = builder(&format!("{}/Cust12345", stub.url()), 1000, 2000);
    s.system_user(TOKEN, XML, CLIENT_SECRET).unwrap();
    s.login_url(Some(&closed)).unwrap();
    let e = expect_err(send(&Client::new(&s.build()).unwrap()), "closed");
    assert_error(&e, ErrorKind::Credentials, 0, &["could not be reached"], "closed");
    assert_eq!(stub.count("/"), 0);
}

#[test]
fn an_inconsistent_key_is_refused_when_it_is_set_without_quoting_it() {
    let mut s = Settings::builder("http://127.0.0.1:1/Cust1").unwrap();
    let broken = XML.replacen("<D>", "<D>AAAA", 1);
    let e = s.system_user(TOKEN, &broken, CLIENT_SECRET).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(!e.message.contains(&XML[30..70]), "{}", e.message);
}

#[test]
fn a_rotated_jwks_is_fetched_again_once() {
    let case = Case::new("su-rotated", "jwks_stale_first=1");
    let (s, _) = case.settings(PKCS1, "");
    send(&Client::new(&s.build()).unwrap()).unwrap();
    assert_eq!(case.jwks_fetches(), 2);
    assert_eq!(case.logins(), 1);
}

#[test]
fn a_tenant_that_moved_is_followed_and_the_log_says_so() {
    let case = Case::new("su-moved", "webapi_host=localhost");
    let (client, lines) = case.client(XML, "");
    send(&client).unwrap();
    let api = case.api_requests();
    assert_eq!(api.len(), 1);
    assert!(api[0].header("host").unwrap().starts_with("localhost:"), "{:?}", api[0].header("host"));
    assert!(lines.all().iter().any(|(_, m)| m.contains("another host") && m.contains("localhost")));
}

#[test]
fn secrets_obtained_are_hidden_even_when_the_server_quotes_them() {
    let case = Case::new("su-echo", "");
    let (client, lines) = case.client(XML, "echo_credentials/status=500/");
    let e = expect_err(send(&client), "echo");
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(e.message.contains("received authorization=SOTicket ***"), "{}", e.message);
    for text in std::iter::once(e.message.clone()).chain(lines.all().into_iter().map(|(_, m)| m)) {
        assert!(!text.contains("7T:stub-ticket-"), "{text}");
        assert!(!text.contains(CLIENT_SECRET), "{text}");
    }
}

fn oauth_settings(case: &Case) -> Settings {
    let base = format!("{}{}/Cust12345", case.stub.url(), case.prefix);
    let mut s = builder(&base, 2000, 10_000);
    s.oauth_refresh("client-id-1", CLIENT_SECRET, stub::login::REFRESH_TOKEN).unwrap();
    s.login_url(Some(&format!("{}{}/login", case.stub.url(), case.prefix))).unwrap();
    s.build()
}

fn token_requests(case: &Case) -> Vec<stub::RecordedRequest> {
    case.stub.requests(&case.prefix).into_iter().filter(|r| r.path.ends_with("/common/oauth/tokens")).collect()
}

#[test]
fn oauth_gets_a_bearer_token_and_keeps_it_until_it_runs_out() {
    let case = Case::new("oauth-ok", "");
    let client = Client::new(&oauth_settings(&case)).unwrap();
    send(&client).unwrap();
    send(&client).unwrap();
    let tokens = token_requests(&case);
    assert_eq!(tokens.len(), 1);
    let form = tokens[0].body_str();
    assert!(form.contains("grant_type=refresh_token") && form.contains("client_id=client%2Did%2D1"), "{form}");
    assert_eq!(tokens[0].header("content-type"), Some("application/x-www-form-urlencoded"));
    for r in case.api_requests() {
        assert!(r.header("authorization").unwrap().starts_with("Bearer 8A:stub-access-"));
        assert_eq!(r.header("so-apptoken"), Some(CLIENT_SECRET));
    }
}

#[test]
fn oauth_renews_before_expiry_with_the_new_refresh_token() {
    // expires_in 60 s is within the renewal margin: every send renews.
    let case = Case::new("oauth-rotate", "oauth_rotate/oauth_expires_in=60");
    let client = Client::new(&oauth_settings(&case)).unwrap();
    send(&client).unwrap();
    send(&client).unwrap();
    let tokens = token_requests(&case);
    assert_eq!(tokens.len(), 2);
    assert!(tokens[0].body_str().contains(&format!("refresh_token={}", stub::login::REFRESH_TOKEN.replace('-', "%2D"))));
    assert!(tokens[1].body_str().contains("refresh_token=stub%2Drefresh%2D"), "{}", tokens[1].body_str());
}

#[test]
fn oauth_renews_on_a_401_and_sends_once_more_never_twice() {
    let case = Case::new("oauth-revoked", "revoke_first=1");
    let client = Client::new(&oauth_settings(&case)).unwrap();
    assert_eq!(send(&client).unwrap().http_status, 204);
    assert_eq!(token_requests(&case).len(), 2);
    let api = case.api_requests();
    assert_eq!(api.len(), 2);
    assert_ne!(api[0].header("authorization"), api[1].header("authorization"));
    // The renewed token is kept.
    send(&client).unwrap();
    assert_eq!(token_requests(&case).len(), 2);

    let always = Case::new("oauth-always-revoked", "revoke_first=100");
    let client = Client::new(&oauth_settings(&always)).unwrap();
    let e = expect_err(send(&client), "revoked");
    assert_error(&e, ErrorKind::Unauthorized, 401, &[], "oauth revoked twice");
    assert_eq!(token_requests(&always).len(), 2);
    assert_eq!(always.api_requests().len(), 2);
}

#[test]
fn oauth_invalid_grant_is_a_credentials_error() {
    let case = Case::new("oauth-bad", "oauth=invalid_grant");
    let e = expect_err(send(&Client::new(&oauth_settings(&case)).unwrap()), "invalid_grant");
    assert_error(&e, ErrorKind::Credentials, 0, &["refused the refresh token", "invalid_grant"], "invalid_grant");
    assert!(!e.message.contains(stub::login::REFRESH_TOKEN) && !e.message.contains(CLIENT_SECRET));
    assert!(case.api_requests().is_empty());
}

#[test]
fn no_login_service_known_is_refused_when_the_client_is_made() {
    let mut s = Settings::builder("https://crm.example.com/Cust1").unwrap();
    s.system_user(TOKEN, XML, CLIENT_SECRET).unwrap();
    let e = Client::new(&s.build()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("so_options_set_login_url"), "{}", e.message);
    let mut s = Settings::builder("https://sod2.superoffice.com/Cust1").unwrap();
    s.system_user(TOKEN, XML, CLIENT_SECRET).unwrap();
    assert!(Client::new(&s.build()).is_ok());
}

#[test]
fn a_batch_shares_one_login_and_one_renewal() {
    use superoffice::send::batch::send_many;
    use superoffice::PasswordEmail;
    let case = Case::new("su-batch", "revoke_first=1/login_delay_ms=200");
    let (client, _) = case.client(XML, "");
    let items: Vec<PasswordEmail> =
        (1..=40).map(|id| PasswordEmail { person_id: id, from: None, to: None, subject: None }).collect();
    let mut ok = 0;
    send_many(&client, &items, 8, |_, result, _| {
        result.unwrap();
        ok += 1;
    });
    assert_eq!(ok, 40);
    // One login, one renewal after the revoked ticket, whatever the threads that saw it.
    assert_eq!(case.logins(), 2);
    let api = case.api_requests();
    assert!(api.len() >= 41 && api.len() <= 48, "{} requests: 40 and one resend for each that saw the 401", api.len());
}
