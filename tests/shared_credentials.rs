//! One credential per identity per process, against the stub's login service, counting
//! the logins it receives: clients in turn and on many threads share one login, a revoked
//! ticket is renewed once for all, clients that differ in trust never share, opting out
//! restores a login per client, forgetting makes the next send log in, waiters recover
//! from a failed login, an expired OAuth token is not reused; and the clock named when
//! the login service refuses the time.
//!
//! The table is process-wide: every test here takes [`serial`] first, so that one test's
//! `forget_all` never touches another's credentials.

use superoffice_stub as stub;
mod support;

use std::sync::{Arc, Barrier, Mutex, MutexGuard};

use superoffice::credentials::shared;
use superoffice::log::Level;
use superoffice::{Client, ErrorKind, SettingsBuilder};
use support::*;

const TOKEN: &str = "Partner App-8k8Q7DmBgo";
const CLIENT_SECRET: &str = "client-secret-shared-check";
const XML: &str = include_str!("keys/partner.xml");
const AUTHENTICATE: &str = "/login/api/PartnerSystemUser/Authenticate";
const OAUTH: &str = "/login/common/oauth/tokens";

fn serial() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

struct Case {
    stub: stub::Stub,
    prefix: String,
}

impl Case {
    fn new(name: &str, directives: &str) -> Case {
        let stub = stub::Stub::start();
        let mut prefix = unique(name);
        if !directives.is_empty() {
            prefix.push('/');
            prefix.push_str(directives);
        }
        Case { stub, prefix }
    }

    fn base(&self) -> String {
        format!("{}{}/Cust12345", self.stub.url(), self.prefix)
    }

    fn login_url(&self) -> String {
        format!("{}{}/login", self.stub.url(), self.prefix)
    }

    /// Settings for the system user (shared credentials, the default), with a log capture.
    fn system_user(&self) -> (SettingsBuilder, Arc<Lines>) {
        let mut s = builder(&self.base(), 2000, 10_000);
        s.system_user(TOKEN, XML, CLIENT_SECRET).unwrap();
        s.login_url(Some(&self.login_url())).unwrap();
        s.context_identifier(Some("Cust12345")).unwrap();
        let lines = Arc::new(Lines::default());
        s.logger(Some(lines.clone()));
        (s, lines)
    }

    fn oauth(&self) -> SettingsBuilder {
        let mut s = builder(&self.base(), 2000, 10_000);
        s.oauth_refresh("client-id", CLIENT_SECRET, stub::login::REFRESH_TOKEN).unwrap();
        s.login_url(Some(&self.login_url())).unwrap();
        s.context_identifier(Some("Cust12345")).unwrap();
        s
    }

    fn count(&self, suffix: &str) -> usize {
        self.stub.requests(&self.prefix).iter().filter(|r| r.path.ends_with(suffix)).count()
    }

    fn logins(&self) -> usize {
        self.count(AUTHENTICATE)
    }
}

fn client(s: &SettingsBuilder) -> Client {
    Client::new(&s.build()).unwrap()
}

fn lines_with(lines: &Lines, piece: &str) -> Vec<String> {
    lines.all().into_iter().map(|(_, l)| l).filter(|l| l.contains(piece)).collect()
}

#[test]
fn five_clients_in_turn_make_one_login() {
    let _one = serial();
    let case = Case::new("sh-turn", "");
    let mut took = 0;
    for i in 0..5 {
        let (s, lines) = case.system_user();
        let c = client(&s);
        send(&c).unwrap();
        send(&c).unwrap();
        drop(c); // the next client is made after this one is freed
        let obtained = lines_with(&lines, "login for tenant Cust12345 (system user)");
        let shared = lines_with(&lines, "took a shared credential for tenant Cust12345 (system user)");
        if i == 0 {
            assert_eq!(obtained.len(), 1, "{:?}", lines.all());
            assert!(obtained[0].contains("obtained in") && obtained[0].contains("6 hours (sliding)"), "{}", obtained[0]);
            assert!(obtained[0].contains("shared with this process's clients of the same identity"), "{}", obtained[0]);
            assert!(!obtained[0].contains("7T:") && !obtained[0].contains(CLIENT_SECRET), "{}", obtained[0]);
            assert!(shared.is_empty());
        } else {
            assert!(obtained.is_empty(), "{:?}", lines.all());
            assert_eq!(shared.len(), 1, "said once per credential, not per send: {:?}", lines.all());
            took += 1;
        }
    }
    assert_eq!(case.logins(), 1);
    assert_eq!(took, 4);
}

#[test]
fn thirty_two_clients_on_thirty_two_threads_make_one_login() {
    let _one = serial();
    let case = Case::new("sh-flight", "login_delay_ms=300");
    let (s, _) = case.system_user();
    let barrier = Arc::new(Barrier::new(32));
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (settings, barrier) = (s.build(), barrier.clone());
            std::thread::spawn(move || {
                let c = Client::new(&settings).unwrap();
                barrier.wait();
                send(&c).map(|_| c.login_exchanges())
            })
        })
        .collect();
    let made: u64 = threads.into_iter().map(|t| t.join().unwrap().unwrap()).sum();
    assert_eq!(case.logins(), 1);
    assert_eq!(made, 1, "one client made the login, on its own agent");
    assert_eq!(case.count(stub::ENDPOINT), 32);
}

#[test]
fn clients_with_different_ca_files_never_share_and_the_same_contents_do() {
    let _one = serial();
    let case = Case::new("sh-ca", "");
    let (ca1, ca2) = (tls::TestCa::new("shared-ca-1"), tls::TestCa::new("shared-ca-2"));
    let (dir1, file1) = ca1.pem_in_temp_dir("sh-ca1");
    let (dir2, file2) = ca2.pem_in_temp_dir("sh-ca2");
    let (dir3, file3) = ca1.pem_in_temp_dir("sh-ca1-copy"); // the same contents elsewhere
    for file in [&file1, &file2, &file3] {
        let (mut s, _) = case.system_user();
        s.ca_file(Some(file.to_str().unwrap())).unwrap();
        send(&client(&s)).unwrap();
    }
    assert_eq!(case.logins(), 2, "CA 1 and CA 2 log in each; CA 1's copy shares CA 1's");
    // Another key is another identity too.
    let (mut s, _) = case.system_user();
    s.system_user(TOKEN, include_str!("keys/partner.pkcs8.pem"), "another-client-secret").unwrap();
    let _ = send(&client(&s));
    assert_eq!(case.logins(), 3);
    for d in [dir1, dir2, dir3] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_revoked_ticket_is_renewed_once_across_eight_clients() {
    let _one = serial();
    let case = Case::new("sh-revoked", "revoke_first=1/login_delay_ms=200");
    let (s, _) = case.system_user();
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (settings, barrier) = (s.build(), barrier.clone());
            std::thread::spawn(move || {
                let c = Client::new(&settings).unwrap();
                barrier.wait();
                send(&c)
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(case.logins(), 2, "the first ticket and exactly one renewal");
    let refused = case
        .stub
        .requests(&case.prefix)
        .into_iter()
        .filter(|r| r.path.ends_with(stub::ENDPOINT) && r.header("authorization") == Some("SOTicket 7T:stub-ticket-1"))
        .count();
    assert!(refused >= 1, "at least one client sent the revoked ticket");
}

#[test]
fn opting_out_restores_one_login_per_client() {
    let _one = serial();
    superoffice::ffi::client::so_credentials_forget_all(); // what earlier tests left
    let case = Case::new("sh-optout", "");
    for _ in 0..3 {
        let (mut s, lines) = case.system_user();
        s.shared_credentials(false);
        let c = client(&s);
        send(&c).unwrap();
        send(&c).unwrap();
        assert!(lines_with(&lines, "kept by this client only").len() == 1, "{:?}", lines.all());
    }
    assert_eq!(case.logins(), 3);
    // Not in the table once the clients are gone.
    assert_eq!(shared::census(), (0, 0));
}

#[test]
fn forgetting_makes_the_next_send_log_in_and_empties_the_table() {
    let _one = serial();
    let case = Case::new("sh-forget", "");
    let (s, _) = case.system_user();
    let c = client(&s);
    send(&c).unwrap();
    let (mut o, _) = case.system_user();
    o.shared_credentials(false);
    let own = client(&o);
    send(&own).unwrap();
    assert_eq!(case.logins(), 2);
    assert!(shared::census().1 >= 2, "{:?}", shared::census());
    superoffice::ffi::client::so_credentials_forget_all();
    assert_eq!(shared::census(), (0, 0), "the table holds nothing");
    send(&c).unwrap();
    assert_eq!(case.logins(), 3, "the next send logs in again");
    send(&own).unwrap();
    assert_eq!(case.logins(), 4, "a client's own credential is forgotten too");
    drop((c, own));
    superoffice::ffi::client::so_credentials_forget_all();
    assert_eq!(shared::census(), (0, 0));
}

#[test]
fn waiters_recover_from_a_failed_login() {
    let _one = serial();
    let case = Case::new("sh-recover", "login_refuse_first=1/login_delay_ms=300");
    let (s, _) = case.system_user();
    let barrier = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (settings, barrier) = (s.build(), barrier.clone());
            std::thread::spawn(move || {
                let c = Client::new(&settings).unwrap();
                barrier.wait();
                send(&c)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "only the client whose login was refused fails: {failed:?}");
    assert_eq!(failed[0].kind, ErrorKind::Credentials);
    assert!(failed[0].message.contains("login_refuse_first"), "{}", failed[0].message);
    assert_eq!(case.logins(), 2, "the refused login, then one for every waiter");
}

#[test]
fn an_expired_oauth_token_is_not_reused_and_a_valid_one_is() {
    let _one = serial();
    // expires_in of 30 s: within the minute's margin, so it is never handed out again.
    let short = Case::new("sh-oauth-short", "oauth_expires_in=30");
    send(&client(&short.oauth())).unwrap();
    send(&client(&short.oauth())).unwrap();
    assert_eq!(short.count(OAUTH), 2);
    let long = Case::new("sh-oauth-long", "oauth_expires_in=3600");
    let lines = Arc::new(Lines::default());
    send(&client(&long.oauth())).unwrap();
    let mut s = long.oauth();
    s.logger(Some(lines.clone()));
    send(&client(&s)).unwrap();
    assert_eq!(long.count(OAUTH), 1);
    assert_eq!(lines_with(&lines, "took a shared credential for tenant Cust12345 (OAuth refresh token)").len(), 1);
}

#[test]
fn authenticate_logs_in_once_without_sending_an_email() {
    let _one = serial();
    let case = Case::new("sh-auth", "");
    let (s, _) = case.system_user();
    let c = client(&s);
    c.authenticate().unwrap();
    c.authenticate().unwrap();
    assert_eq!(case.logins(), 1);
    assert_eq!(case.count(stub::ENDPOINT), 0, "no e-mail request");
    send(&c).unwrap();
    assert_eq!(case.logins(), 1);
    // A ticket given: nothing to obtain, nothing verified, nothing sent.
    let before = case.stub.requests(&case.prefix).len();
    let given = client(&builder(&case.base(), 2000, 10_000));
    given.authenticate().unwrap();
    assert_eq!(case.stub.requests(&case.prefix).len(), before, "nothing sent for a ticket given");
    // A refused login is the send's error.
    let refused = Case::new("sh-auth-refused", "login=refused");
    let (s, _) = refused.system_user();
    let e = client(&s).authenticate().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Credentials);
    assert!(e.message.contains("not approved"), "{}", e.message);
}

/// The message of a login the stub refuses with its clock `minutes` off.
fn clock_message(name: &str, directives: &str) -> String {
    let case = Case::new(name, directives);
    let (s, _) = case.system_user();
    let e = expect_err(send(&client(&s)), "the login service refuses");
    assert_eq!(e.kind, ErrorKind::Credentials);
    assert_eq!(case.count(stub::ENDPOINT), 0);
    e.message
}

#[test]
fn the_clock_is_named_when_it_is_wrong() {
    let _one = serial();
    let behind = clock_message("sh-clock-behind", "clock_min=20");
    assert!(behind.contains("InvalidTimestamp"), "{behind}");
    assert!(
        behind.contains(
            "InvalidTimestamp; this machine's clock is 20 minutes behind the login service's; the system user token is \
             stamped with this machine's time, so the login service refuses it: correct the clock"
        ),
        "{behind}"
    );
    let ahead = clock_message("sh-clock-ahead", "clock_min=-20");
    assert!(ahead.contains("this machine's clock is 20 minutes ahead of the login service's;"), "{ahead}");
    assert!(ahead.contains("so the login service refuses it: correct the clock"), "{ahead}");
    // A refusal for the time with clocks a minute apart says nothing of the clock.
    let minute = clock_message("sh-clock-minute", "clock_min=1/login=invalid_timestamp");
    assert!(minute.contains("InvalidTimestamp"), "{minute}");
    assert!(!minute.contains("machine's clock") && !minute.contains("correct the clock"), "{minute}");
    // The JWT's nbf/exp refused with the clocks 3 minutes apart (within the stamp's
    // window): the clock is named there too; with the clocks together, it is not.
    let jwt = clock_message("sh-clock-jwt", "clock_min=3/jwt=not_yet");
    assert!(jwt.contains("the login service's JWT was refused: the JWT is not valid yet"), "{jwt}");
    assert!(
        jwt.contains(
            "; this machine's clock is 3 minutes behind the login service's; the JWT's validity (nbf/exp) is checked \
             against this machine's time, so it fails: correct the clock"
        ),
        "{jwt}"
    );
    let jwt = clock_message("sh-clock-jwt-same", "jwt=expired");
    assert!(jwt.contains("the JWT has expired") && !jwt.contains("machine's clock"), "{jwt}");
    // Within the window, a login succeeds with the clocks 3 minutes apart.
    let case = Case::new("sh-clock-near", "clock_min=3");
    let (s, lines) = case.system_user();
    send(&client(&s)).unwrap();
    assert!(lines.all().iter().all(|(l, _)| *l != Level::Error));
}
