//! The `superoffice` command line, run as a program against the stub server: one
//! e-mail, a CSV of 1,000 rows, SIGKILL and a re-run, Ctrl-C, `--json`, rate limits and
//! the progress bar under a real pseudo-terminal (`script`).
#![cfg(feature = "cli")]

use superoffice_stub as stub;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_superoffice");
const TICKET: &str = "7T:dGVzdA==";

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "so-cli-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A unique tenant prefix, and the base URL with directives after it.
fn tenant(s: &stub::Stub, name: &str, directives: &str) -> (String, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let prefix = format!("/cli-{}-{name}", N.fetch_add(1, Ordering::SeqCst));
    let sep = if directives.is_empty() { "" } else { "/" };
    (prefix.clone(), format!("{}{prefix}{sep}{directives}/Cust12345", s.url()))
}

/// `superoffice send-password-email` with nothing from this process's environment but
/// the stub's base URL and ticket.
fn cli(base: &str) -> Command {
    let mut c = Command::new(BIN);
    c.arg("send-password-email").env_clear().env("SO_BASE_URL", base).env("SO_TICKET", TICKET);
    c.stdin(Stdio::null());
    c
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn ran(out: Output) -> Ran {
    let r = Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!r.stdout.contains(TICKET) && !r.stderr.contains(TICKET), "a secret was printed");
    r
}

fn run(c: &mut Command) -> Ran {
    ran(c.output().expect("run superoffice"))
}

fn json_of(r: &Ran) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr))
}

/// A CSV with a header and `rows` lines `person_id,to,subject,from`.
fn write_csv(path: &Path, rows: impl IntoIterator<Item = Vec<u8>>) {
    let mut text = b"person_id,to,subject,from\n".to_vec();
    for r in rows {
        text.extend_from_slice(&r);
        text.push(b'\n');
    }
    std::fs::write(path, text).unwrap();
}

fn good_row(id: usize) -> Vec<u8> {
    format!("{id},p{id}@example.com,Your password,support@example.com").into_bytes()
}

/// Requests the stub received per `PersonId`. Every request must be whole.
fn per_person(s: &stub::Stub, prefix: &str) -> HashMap<i64, usize> {
    let (whole, cut) = per_person_and_cut(s, prefix);
    assert_eq!(cut, 0, "requests without a whole body");
    whole
}

/// Requests the stub received per `PersonId`, and how many arrived without a whole body
/// (a program killed while writing one: the server cannot have acted on it).
fn per_person_and_cut(s: &stub::Stub, prefix: &str) -> (HashMap<i64, usize>, usize) {
    let mut out = HashMap::new();
    let mut cut = 0;
    for r in s.requests(prefix) {
        match r.body_json().and_then(|v| v["PersonId"].as_i64()) {
            Some(id) => *out.entry(id).or_insert(0) += 1,
            None => cut += 1,
        }
    }
    (out, cut)
}

/// The journal's state per person id.
fn journal_states(path: &Path) -> HashMap<i64, String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut stmt = c.prepare("SELECT person_id, state FROM emails").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

fn count_state(states: &HashMap<i64, String>, state: &str) -> usize {
    states.values().filter(|s| *s == state).count()
}

/// Polls until `done` or a generous limit (a stuck run fails the test, it is never
/// timed).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let limit = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(Instant::now() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends a signal to a child that has not been waited for (so its pid is still its own,
/// a zombie at worst).
fn signal(child: &Child, name: &str) {
    let sig = match name {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        other => panic!("no signal {other}"),
    };
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill -{name}: {}", std::io::Error::last_os_error());
}

/// The `--json` summary of a CSV run, as the README documents it: every key, its type,
/// and no other key.
fn check_summary_shape(v: &Value) {
    let obj = v.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bad_rows", "counts", "csv", "dry_run", "exit_status", "failed", "interrupted", "journal", "resolved",
            "stopped_by", "tenant", "unknown"
        ]
    );
    assert!(v["tenant"].is_string() && v["csv"].is_string() && v["journal"].is_string());
    assert!(v["dry_run"].is_boolean() && v["interrupted"].is_boolean());
    assert!(v["stopped_by"].is_null() || v["stopped_by"].is_string());
    assert!(matches!(v["exit_status"].as_u64(), Some(0 | 1)));
    let counts = v["counts"].as_object().expect("counts");
    let mut names: Vec<&str> = counts.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "accepted", "already_accepted", "ambiguous", "bad", "duplicates", "failed", "failed_not_sent", "not_found",
            "not_started", "rows", "to_send", "unknown", "unknown_not_resent"
        ]
    );
    assert!(counts.values().all(Value::is_u64), "{counts:?}");
    let c = |k: &str| counts[k].as_u64().unwrap();
    assert_eq!(
        c("rows"),
        c("bad") + c("duplicates") + c("already_accepted") + c("unknown_not_resent") + c("to_send"),
        "every row is counted once: {counts:?}"
    );
    if !v["dry_run"].as_bool().unwrap() {
        assert_eq!(c("to_send"), c("accepted") + c("failed") + c("unknown") + c("not_started"), "{counts:?}");
    }
    for list in ["failed", "unknown"] {
        for item in v[list].as_array().expect("a list") {
            let mut k: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            k.sort_unstable();
            assert_eq!(
                k,
                [
                    "by_address", "candidates", "code", "delivery", "earlier_run", "error_type", "from", "http_status",
                    "line", "message", "person_id", "state", "subject", "to"
                ]
            );
            assert_eq!(item["state"], if list == "failed" { "failed" } else { "unknown" });
            let deliveries: &[&str] = if list == "failed" { &["not_sent", "answered"] } else { &["unknown"] };
            assert!(deliveries.contains(&item["delivery"].as_str().unwrap()), "{item}");
            // A failure with an HTTP status was answered; one without was not sent (a row by
            // address whose search failed was not sent either, whatever the search's status).
            if list == "failed" && item["by_address"] == false {
                assert_eq!(item["delivery"] == "answered", item["http_status"] != 0, "{item}");
            }
            assert!(item["line"].is_u64() && item["person_id"].is_u64() && item["http_status"].is_u64());
            assert!(item["code"].is_string() && item["message"].is_string());
            for nullable in ["from", "to", "subject", "error_type", "earlier_run"] {
                assert!(item[nullable].is_null() || item[nullable].is_string(), "{nullable}: {item}");
            }
        }
    }
    for bad in v["bad_rows"].as_array().expect("bad_rows") {
        assert!(bad["line"].is_u64() && bad["reason"].is_string(), "{bad}");
        assert_eq!(bad.as_object().unwrap().len(), 2);
    }
    if !v["dry_run"].as_bool().unwrap() {
        assert_eq!(v["counts"]["failed"].as_u64().unwrap() as usize, v["failed"].as_array().unwrap().len());
    }
    // Rows by address without a single person are failed (not sent), and listed.
    let unresolved = |code: &str| v["failed"].as_array().unwrap().iter().filter(|f| f["code"] == code).count() as u64;
    assert_eq!(c("not_found"), unresolved("RecipientNotFound"), "{counts:?}");
    assert_eq!(c("ambiguous"), unresolved("AmbiguousRecipient"), "{counts:?}");
    assert_eq!(
        c("failed_not_sent") as usize,
        v["failed"].as_array().unwrap().iter().filter(|f| f["delivery"] == "not_sent").count(),
        "failed (not sent) is counted apart within the failed rows"
    );
    assert_eq!(
        (c("unknown") + c("unknown_not_resent")) as usize,
        v["unknown"].as_array().unwrap().len()
    );
    assert_eq!(c("bad") as usize, v["bad_rows"].as_array().unwrap().len());
}

#[test]
fn one_email_prints_one_line() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "one", "");
    let r = run(cli(&base).args([
        "--person-id", "670", "--from", "support@example.com", "--to", "kari@example.com", "--subject", "Your password",
    ]));
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "person 670 -> kari@example.com: accepted (HTTP 204)\n");
    assert_eq!(r.stderr, "");
    let got = s.requests(&prefix);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body_str(),
        r#"{"PersonId":670,"From":"support@example.com","To":"kari@example.com","Subject":"Your password"}"#
    );
    assert_eq!(got[0].header("authorization"), Some("SOTicket 7T:dGVzdA=="));

    // A failure: one line with the library's message, the HTTP status and the ErrorType.
    let r = run(cli(&base).args(["--person-id", "99999", "--to", "nobody@example.com"]));
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    for piece in ["person 99999", "failed", "404 Not Found", "Person id 99999 not found", "HTTP 404", "ErrorType SoNotFoundException"] {
        assert!(r.stderr.contains(piece), "{piece}: {}", r.stderr);
    }

    // --json for one e-mail.
    let r = run(cli(&base).args(["--person-id", "7", "--json"]));
    assert_eq!(r.code, Some(0));
    let v = json_of(&r);
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["http_status"], 204);
    assert_eq!(v["person_id"], 7);
    assert!(v["to"].is_null());
    assert_eq!(s.count(&prefix), 3);

    // Basic authentication from a password file; the password is never printed.
    let dir = TempDir::new("pw");
    std::fs::write(dir.path("pw"), "Tje0\n").unwrap();
    let mut c = cli(&base);
    c.env_remove("SO_TICKET").env("SO_USERNAME", "tje0");
    let r = run(c.args(["--person-id", "8", "--password-file"]).arg(dir.path("pw")));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(s.requests(&prefix)[3].header("authorization"), Some("Basic dGplMDpUamUw"));
}

#[test]
fn usage_errors_exit_2_and_help_warns_about_secrets() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "usage", "");
    let dir = TempDir::new("usage");
    let csv = dir.path("p.csv");
    write_csv(&csv, [good_row(1)]);
    std::fs::write(dir.path("noid.csv"), "id,subject\n1,Hi\n").unwrap();
    let cases: Vec<(&str, Command)> = vec![
        ("no base URL", {
            let mut c = cli(&base);
            c.env_remove("SO_BASE_URL").args(["--person-id", "1"]);
            c
        }),
        ("no credentials", {
            let mut c = cli(&base);
            c.env_remove("SO_TICKET").args(["--person-id", "1"]);
            c
        }),
        ("two schemes", {
            let mut c = cli(&base);
            c.args(["--person-id", "1", "--bearer-token", "8A:x"]);
            c
        }),
        ("person id 0", {
            let mut c = cli(&base);
            c.args(["--person-id", "0"]);
            c
        }),
        ("person id and csv", {
            let mut c = cli(&base);
            c.args(["--person-id", "1", "--csv"]).arg(&csv);
            c
        }),
        ("neither", cli(&base)),
        ("no person_id column", {
            let mut c = cli(&base);
            c.arg("--csv").arg(dir.path("noid.csv"));
            c
        }),
        ("a column and its option", {
            let mut c = cli(&base);
            c.args(["--to", "x@example.com", "--csv"]).arg(&csv);
            c
        }),
        ("missing CSV", {
            let mut c = cli(&base);
            c.arg("--csv").arg(dir.path("missing.csv"));
            c
        }),
        ("bad base URL", {
            let mut c = cli("ftp://host/x");
            c.args(["--person-id", "1"]);
            c
        }),
        ("bad timeout", {
            let mut c = cli(&base);
            c.args(["--person-id", "1", "--timeout", "soon"]);
            c
        }),
    ];
    for (what, mut c) in cases {
        let r = run(&mut c);
        assert_eq!(r.code, Some(2), "{what}: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.is_empty(), "{what}");
    }
    assert_eq!(s.count(&prefix), 0, "nothing is sent on a usage error");

    let r = run(cli(&base).arg("--help"));
    assert_eq!(r.code, Some(0));
    for piece in ["`ps`", "shell history", "SO_TICKET", "--ticket-file", "--password-file", "--resend-unknown", "--dry-run"] {
        assert!(r.stdout.contains(piece), "--help lacks {piece}");
    }
}

#[test]
fn a_thousand_rows_with_bad_rows_and_404s() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "thousand", "");
    let dir = TempDir::new("thousand");
    let csv = dir.path("persons.csv");
    // Lines are row index + 2: four bad rows, four 404s (each to its own address).
    let bad: HashMap<usize, Vec<u8>> = [
        (100, b"abc,x@example.com,S,f@example.com".to_vec()),
        (200, b"-3,x@example.com,S,f@example.com".to_vec()),
        (300, b"0,x@example.com,S,f@example.com".to_vec()),
        (400, b"401,\xff\xfe@example.com,S,f@example.com".to_vec()),
    ]
    .into_iter()
    .collect();
    let not_found = [150usize, 450, 750, 999];
    let rows = (0..1000).map(|i| {
        if let Some(b) = bad.get(&i) {
            b.clone()
        } else if not_found.contains(&i) {
            format!("99999,nf{i}@example.com,Your password,support@example.com").into_bytes()
        } else {
            good_row(i + 1)
        }
    });
    write_csv(&csv, rows);

    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "8", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    let c = &v["counts"];
    assert_eq!((c["rows"].as_u64(), c["bad"].as_u64(), c["to_send"].as_u64()), (Some(1000), Some(4), Some(996)));
    assert_eq!((c["accepted"].as_u64(), c["failed"].as_u64(), c["unknown"].as_u64()), (Some(992), Some(4), Some(0)));
    let bad_lines: Vec<u64> = v["bad_rows"].as_array().unwrap().iter().map(|b| b["line"].as_u64().unwrap()).collect();
    assert_eq!(bad_lines, [102, 202, 302, 402]);
    assert!(v["bad_rows"][0]["reason"].as_str().unwrap().contains("'abc' is not a positive integer"));
    assert!(v["bad_rows"][3]["reason"].as_str().unwrap().contains("not valid UTF-8"));
    let failed_lines: Vec<u64> = v["failed"].as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(failed_lines, not_found.map(|i| i as u64 + 2));
    for f in v["failed"].as_array().unwrap() {
        assert_eq!((f["http_status"].as_u64(), f["error_type"].as_str()), (Some(404), Some("SoNotFoundException")));
        assert_eq!(f["code"], "NotFound");
        assert!(f["message"].as_str().unwrap().contains("Person id 99999 not found"));
    }
    assert_eq!(v["journal"], format!("{}.journal.sqlite", csv.display()));
    // Not a terminal: one line per row on standard error, and each bad row by its line.
    let item_lines = r.stderr.lines().filter(|l| l.starts_with('[')).count();
    assert_eq!(item_lines, 996, "{}", r.stderr);
    for line in bad_lines {
        assert!(r.stderr.contains(&format!("line {line}: ")), "bad line {line} not reported");
    }
    // The stub saw each valid row once.
    assert_eq!(s.count(&prefix), 996);
    let seen = per_person(&s, &prefix);
    assert_eq!(seen[&99999], 4);
    assert!(seen.iter().all(|(id, n)| *id == 99999 || *n == 1), "a row was sent twice");
    assert_eq!(seen.len(), 993);
    let journal_bytes = std::fs::read(dir.path("persons.csv.journal.sqlite")).unwrap();
    let wal = std::fs::read(dir.path("persons.csv.journal.sqlite-wal")).unwrap_or_default();
    for bytes in [journal_bytes, wal] {
        assert!(!bytes.windows(TICKET.len()).any(|w| w == TICKET.as_bytes()), "the ticket is in the journal");
    }

    // A re-run skips the accepted rows and retries the failed ones.
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "8", "--json"]));
    assert_eq!(r.code, Some(1));
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["already_accepted"], 992);
    assert_eq!(v["counts"]["to_send"], 4);
    assert_eq!(v["counts"]["failed"], 4);
    assert_eq!(s.count(&prefix), 1000);

    // A dry run sends nothing and says what would be sent.
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--dry-run", "--json"]));
    assert_eq!(r.code, Some(1), "bad rows make a dry run fail");
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["counts"]["to_send"], 4);
    assert_eq!(s.count(&prefix), 1000);
}

#[test]
fn sigkill_mid_run_then_rerun_never_sends_an_accepted_row_twice() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "kill", "delay_ms=25");
    let dir = TempDir::new("kill");
    let csv = dir.path("persons.csv");
    write_csv(&csv, (1..=2000).map(good_row));
    let journal = dir.path("persons.csv.journal.sqlite");

    let mut child = cli(&base)
        .arg("--csv")
        .arg(&csv)
        .args(["--concurrency", "16"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("400 requests at the stub", || s.count(&prefix) >= 400);
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let before = journal_states(&journal);
    let sent_before = s.count(&prefix);
    assert!(sent_before < 2000, "the run ended before the kill");
    // Every request that reached the stub is recorded as accepted or as being sent.
    assert_eq!(count_state(&before, "accepted") + count_state(&before, "sending"), before.len());
    let in_flight: Vec<i64> = before.iter().filter(|(_, st)| *st == "sending").map(|(id, _)| *id).collect();
    assert!(!in_flight.is_empty(), "no row was in flight at the kill");

    // The re-run: accepted rows skipped, the ones in flight listed as unknown, not resent.
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "16", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["unknown_not_resent"].as_u64(), Some(in_flight.len() as u64));
    let mut listed: Vec<i64> = v["unknown"].as_array().unwrap().iter().map(|u| u["person_id"].as_i64().unwrap()).collect();
    listed.sort_unstable();
    let mut expected = in_flight.clone();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert!(v["unknown"].as_array().unwrap().iter().all(|u| u["earlier_run"].is_string() && u["code"] == "Interrupted"));
    assert_eq!(v["counts"]["already_accepted"].as_u64(), Some(count_state(&before, "accepted") as u64));
    assert_eq!(v["counts"]["failed"], 0);
    let after = journal_states(&journal);
    assert_eq!(count_state(&after, "accepted") + in_flight.len(), 2000);
    // A request the kill cut short (only part of it written) is one of those in flight.
    let (seen, cut) = per_person_and_cut(&s, &prefix);
    assert!(cut <= in_flight.len(), "{cut} cut requests");
    for (id, state) in &after {
        let n = seen.get(id).copied().unwrap_or(0);
        match state.as_str() {
            "accepted" => assert_eq!(n, 1, "person {id}: accepted, sent {n} times"),
            "unknown" => assert!(n <= 1, "person {id}: unknown, resent ({n} requests)"),
            other => panic!("person {id}: {other} after the re-run"),
        }
    }

    // Told to, a run sends the unknown ones again; the accepted ones still once.
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--resend-unknown", "--json"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(json_of(&r)["counts"]["accepted"].as_u64(), Some(in_flight.len() as u64));
    let (seen, _) = per_person_and_cut(&s, &prefix);
    assert_eq!(seen.len(), 2000);
    for (id, n) in seen {
        assert!(n == 1 || (in_flight.contains(&id) && n <= 2), "person {id} sent {n} times");
    }
}

#[test]
fn ctrl_c_lets_in_flight_rows_finish_and_records_them() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "int", "delay_ms=300");
    let dir = TempDir::new("int");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=300).map(good_row));
    let child = cli(&base)
        .arg("--csv")
        .arg(&csv)
        .args(["--concurrency", "4", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("8 requests at the stub", || s.count(&prefix) >= 8);
    signal(&child, "INT");
    let r = ran(child.wait_with_output().unwrap());
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("interrupted: no new e-mails"), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["interrupted"], true);
    let sent = s.count(&prefix);
    assert!(sent < 300);
    // Every request that went out finished and was recorded; the rest never started.
    assert_eq!(v["counts"]["accepted"].as_u64(), Some(sent as u64));
    assert_eq!(v["counts"]["not_started"].as_u64(), Some(300 - sent as u64));
    let states = journal_states(&dir.path("p.csv.journal.sqlite"));
    assert_eq!(count_state(&states, "accepted"), sent);
    assert_eq!(states.len(), sent, "no row left being sent");

    // The same command goes on where it stopped.
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "16", "--json"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(json_of(&r)["counts"]["already_accepted"].as_u64(), Some(sent as u64));
    assert_eq!(s.count(&prefix), 300);
    assert!(per_person(&s, &prefix).values().all(|n| *n == 1));
}

#[test]
fn a_second_ctrl_c_aborts_and_the_rows_in_flight_become_unknown() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "abort", "hang");
    let dir = TempDir::new("abort");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=50).map(good_row));
    let child = cli(&base)
        .arg("--csv")
        .arg(&csv)
        .args(["--concurrency", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("3 requests at the stub", || s.count(&prefix) >= 3);
    // Signals sent close together may arrive as one: send until the program is gone.
    let mut child = child;
    let limit = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < limit, "Ctrl-C did not abort");
        signal(&child, "INT");
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = ran(child.wait_with_output().unwrap());
    assert_eq!(r.code, Some(130), "{}", r.stderr);
    assert!(r.stderr.contains("aborted; 3 e-mail(s) were being sent"), "{}", r.stderr);
    let states = journal_states(&dir.path("p.csv.journal.sqlite"));
    assert_eq!((states.len(), count_state(&states, "sending")), (3, 3));

    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--dry-run", "--json"]));
    assert_eq!(r.code, Some(0));
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["unknown_not_resent"], 3);
    assert_eq!(v["counts"]["to_send"], 47);
    assert_eq!(s.count(&prefix), 3);
}

#[test]
fn a_rate_limit_pauses_the_whole_run_and_every_row_goes_out() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "rate", "fail_first=2/status=429/retry_after=1");
    let dir = TempDir::new("rate");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=40).map(good_row));
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "4"]));
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("rate limited: HTTP 429: every worker waits 1 s before sending again"),
        "{}",
        r.stderr
    );
    assert_eq!(s.count(&prefix), 42);
    let seen = per_person(&s, &prefix);
    assert_eq!(seen.len(), 40);
    assert_eq!(seen.values().sum::<usize>(), 42);

    // With no retries allowed, a 503 is a failure a re-run sends again.
    let (prefix, base) = tenant(&s, "busy", "fail_first=1/status=503");
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "1", "--max-retries", "0", "--json"]));
    assert_eq!(r.code, Some(1));
    let v = json_of(&r);
    assert_eq!((v["counts"]["failed"].as_u64(), v["failed"][0]["http_status"].as_u64()), (Some(1), Some(503)));
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--json"]));
    assert_eq!(r.code, Some(0));
    assert_eq!(s.count(&prefix), 41);
}

#[test]
fn a_progress_bar_on_a_terminal() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "tty", "fail_first=1/status=429/retry_after=2");
    let dir = TempDir::new("tty");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=60).map(good_row));
    // `script` (util-linux) runs the program on a new pseudo-terminal.
    let command = format!("stty cols 120 rows 40; {BIN} send-password-email --csv {} --concurrency 2", csv.display());
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("SO_BASE_URL", &base)
        .env("SO_TICKET", TICKET)
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) must be installed");
    let r = ran(out);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let screen = r.stdout;
    for piece in ["60/60", "/s", "ETA", "failed 0", "unknown 0", "waiting", "rate limited: HTTP 429"] {
        assert!(screen.contains(piece), "the terminal lacks {piece:?}: {screen:?}");
    }
    assert!(screen.contains('\r'), "the bar redraws in place");
    assert!(
        screen.lines().any(|l| l.trim_start().starts_with("accepted") && l.trim_end().ends_with(" 60")),
        "the summary follows the bar: {screen:?}"
    );
    assert!(!screen.contains("[ 1/60]"), "no per-row lines on a terminal");
    assert_eq!(s.count(&prefix), 61);
}

#[test]
fn sigterm_stops_like_ctrl_c() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "term", "delay_ms=300");
    let dir = TempDir::new("term");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=100).map(good_row));
    let child = cli(&base)
        .arg("--csv")
        .arg(&csv)
        .args(["--concurrency", "2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("2 requests at the stub", || s.count(&prefix) >= 2);
    signal(&child, "TERM");
    let r = ran(child.wait_with_output().unwrap());
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["interrupted"], true);
    let sent = s.count(&prefix);
    assert_eq!(v["counts"]["accepted"].as_u64(), Some(sent as u64));
    let states = journal_states(&dir.path("p.csv.journal.sqlite"));
    assert_eq!((states.len(), count_state(&states, "accepted")), (sent, sent));
}

#[test]
fn refused_credentials_stop_the_run() {
    let s = stub::Stub::start();
    // The stub's tenant wants a bearer token; the ticket is refused with 401.
    let (prefix, base) = tenant(&s, "auth", "auth=bearer");
    let dir = TempDir::new("auth");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=200).map(good_row));
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--concurrency", "4", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert!(v["stopped_by"].as_str().unwrap().contains("HTTP 401"), "{v}");
    assert_eq!(v["interrupted"], false);
    let sent = s.count(&prefix) as u64;
    assert!(sent <= 8, "{sent} requests after the first 401");
    assert_eq!(v["counts"]["failed"].as_u64(), Some(sent));
    assert_eq!(v["counts"]["not_started"].as_u64(), Some(200 - sent));
    assert!(v["failed"].as_array().unwrap().iter().all(|f| f["http_status"] == 401 && f["code"] == "Unauthorized"));
}

#[test]
fn no_answer_is_unknown_and_no_connection_is_failed() {
    let s = stub::Stub::start();
    let dir = TempDir::new("judge");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=3).map(good_row));

    // A timeout waiting for the answer, and a connection dropped after the request:
    // the server may have the e-mail, so a re-run does not send it again.
    for (name, directives) in [("slow", "delay_ms=3000"), ("drop", "drop=after")] {
        let (prefix, base) = tenant(&s, name, directives);
        let journal = dir.path(&format!("{name}.sqlite"));
        let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--timeout", "0.3", "--json"]));
        assert_eq!(r.code, Some(1), "{name}: {}", r.stderr);
        let v = json_of(&r);
        check_summary_shape(&v);
        assert_eq!(v["counts"]["unknown"], 3, "{name}: {v}");
        let code = v["unknown"][0]["code"].as_str().unwrap();
        assert!(code == "Timeout" || code == "Io", "{name}: {code}");
        let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--json"]));
        assert_eq!(r.code, Some(1));
        let v = json_of(&r);
        assert_eq!((v["counts"]["unknown_not_resent"].as_u64(), v["counts"]["to_send"].as_u64()), (Some(3), Some(0)));
        assert_eq!(s.count(&prefix), 3, "{name}: an unknown row was sent again");
    }

    // A port where nothing listens: provably never sent; retried, then failed, and a
    // re-run sends it again.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let base = format!("http://127.0.0.1:{port}/Cust12345");
    let journal = dir.path("refused.sqlite");
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--max-retries", "1", "--json"]));
    assert_eq!(r.code, Some(1));
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["failed"], 3, "{v}");
    assert!(v["failed"].as_array().unwrap().iter().all(|f| f["code"] == "Connect" && f["http_status"] == 0));
    assert!(r.stderr.contains("no connection to the server: every worker waits"), "{}", r.stderr);
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--max-retries", "0", "--json"]));
    assert_eq!(json_of(&r)["counts"]["to_send"], 3, "failed rows are sent again");
}

#[test]
fn connection_options_reach_the_wire_and_bad_ones_are_refused_without_echo() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "opts", "");
    let dir = TempDir::new("opts");
    std::fs::write(dir.path("app"), "app-secret-123\n").unwrap();
    std::fs::write(dir.path("ticket"), format!("{TICKET}\n")).unwrap();
    let mut c = cli(&base);
    c.env_remove("SO_TICKET").env("SO_LANGUAGE", "sv");
    let r = run(c
        .args(["--person-id", "670", "--culture", "sv-SE", "--timezone", "UTC", "--proxy", "", "--timeout", "5"])
        .arg("--ticket-file")
        .arg(dir.path("ticket"))
        .arg("--app-token-file")
        .arg(dir.path("app")));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains("app-secret") && !r.stderr.contains("app-secret"));
    let got = &s.requests(&prefix)[0];
    for (name, value) in [
        ("authorization", "SOTicket 7T:dGVzdA=="),
        ("so-apptoken", "app-secret-123"),
        ("so-language", "sv"),
        ("accept-language", "sv"),
        ("so-culture", "sv-SE"),
        ("so-timezone", "UTC"),
    ] {
        assert_eq!(got.header(name), Some(value), "{name}");
    }

    for (what, args) in [
        ("a proxy URL with a password", vec!["--proxy", "http://u:pw-secret-9@:3128"]),
        ("a CA file that does not exist", vec!["--ca-file", "/nonexistent/ca.pem"]),
        ("a ticket and its file", vec!["--ticket-file", "/nonexistent/ticket"]),
        ("a control character in the language", vec!["--language", "s\u{1}v"]),
    ] {
        let r = run(cli(&base).args(["--person-id", "1"]).args(&args));
        assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
        assert!(!r.stderr.contains("pw-secret-9"), "{what}: {}", r.stderr);
    }
    assert_eq!(s.count(&prefix), 1);
}

#[test]
fn a_run_stops_early_when_every_row_would_become_unknown() {
    let s = stub::Stub::start();
    let dir = TempDir::new("breaker");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=60).map(good_row));

    // No answer within --timeout: the run stops after 10 unknown rows in a row.
    let (prefix, base) = tenant(&s, "noanswer", "delay_ms=3000");
    let journal = dir.path("noanswer.sqlite");
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--timeout", "0.2", "--concurrency", "2", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert!(v["stopped_by"].as_str().unwrap().contains("10 e-mails in a row got no answer"), "{v}");
    let unknown = v["counts"]["unknown"].as_u64().unwrap();
    assert!((10..=12).contains(&unknown), "{unknown} unknown");
    assert_eq!(v["counts"]["not_started"].as_u64(), Some(60 - unknown));
    assert_eq!(s.count(&prefix) as u64, unknown);

    // https to a server that does not speak TLS: stopped at the first failure.
    let base = format!("https://127.0.0.1:{}/tls/Cust12345", s.port());
    let journal = dir.path("tls.sqlite");
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--concurrency", "2", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert!(v["stopped_by"].as_str().unwrap().contains("TLS"), "{v}");
    assert!(v["counts"]["unknown"].as_u64().unwrap() <= 2, "{v}");
    assert_eq!(v["unknown"][0]["code"], "Tls");

    // An untrusted certificate: not sent (failed), and still a TLS failure that stops the
    // run, by its kind; the stub's TLS listener decrypted nothing.
    let tls = s.tls().unwrap();
    let decrypted = tls["decrypted"].as_u64().unwrap();
    let base = format!("{}/Cust12345", tls["url"].as_str().unwrap());
    let journal = dir.path("untrusted.sqlite");
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--concurrency", "2", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert!(v["stopped_by"].as_str().unwrap().contains("not trusted"), "{v}");
    let failed = v["counts"]["failed"].as_u64().unwrap();
    assert!((1..=2).contains(&failed), "{v}");
    assert_eq!(v["counts"]["failed_not_sent"].as_u64(), Some(failed));
    assert_eq!(v["counts"]["unknown"], 0);
    assert_eq!(v["failed"][0]["code"], "Tls");
    assert_eq!(s.tls().unwrap()["decrypted"].as_u64(), Some(decrypted));
}

/// The system user from the environment: the CLI gets its own ticket, and a 401 that a new
/// ticket cures does not stop a CSV run; a login that fails stops it, with no e-mail sent.
#[test]
fn a_system_user_csv_run_survives_a_revoked_ticket() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "system-user", "revoke_first=1");
    let dir = TempDir::new("system-user");
    let csv = dir.path("persons.csv");
    write_csv(&csv, (0..20).map(|i| good_row(i + 1)));
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/partner.pkcs1.pem");
    let secret_file = dir.path("client-secret");
    std::fs::write(&secret_file, "cli-client-secret-leak-check\n").unwrap();
    let login = format!("{}{prefix}/revoke_first=1/login", s.url());
    let system_user = |base: &str, login: &str| {
        let mut c = Command::new(BIN);
        c.arg("send-password-email")
            .env_clear()
            .env("SO_BASE_URL", base)
            .env("SO_SYSTEM_USER_TOKEN", "Partner App-8k8Q7DmBgo")
            .env("SO_PRIVATE_KEY_FILE", &key)
            .env("SO_LOGIN_URL", login)
            .env("SO_CONTEXT_IDENTIFIER", "Cust12345")
            .arg("--client-secret-file")
            .arg(&secret_file)
            .stdin(Stdio::null());
        c
    };
    let r = run(system_user(&base, &login).arg("--csv").arg(&csv).args(["--concurrency", "4", "--json"]));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let logins = s.requests(&prefix).iter().filter(|r| r.path.ends_with("/PartnerSystemUser/Authenticate")).count();
    assert_eq!(logins, 2, "one login, one renewal after the revoked ticket");
    let api = |prefix: &str| -> std::collections::HashSet<i64> {
        s.requests(prefix)
            .iter()
            .filter(|r| r.path.ends_with(stub::ENDPOINT))
            .filter_map(|r| r.body_json()?["PersonId"].as_i64())
            .collect()
    };
    assert_eq!(api(&prefix).len(), 20);
    assert!(!r.stdout.contains("cli-client-secret-leak-check") && !r.stderr.contains("cli-client-secret-leak-check"));

    let (prefix, base) = tenant(&s, "system-user-refused", "login=refused");
    let login = format!("{}{prefix}/login=refused/login", s.url());
    let journal = dir.path("refused.sqlite");
    let r = run(system_user(&base, &login).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--concurrency", "4", "--json"]));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert!(v["stopped_by"].as_str().unwrap().contains("not approved"), "{v}");
    assert!(api(&prefix).is_empty());
    // The rows the refused login stopped are failed (not sent), none unknown.
    let failed = v["counts"]["failed"].as_u64().unwrap();
    assert!(failed >= 1, "{v}");
    assert_eq!((v["counts"]["failed_not_sent"].as_u64(), v["counts"]["unknown"].as_u64()), (Some(failed), Some(0)));
    assert!(v["failed"].as_array().unwrap().iter().all(|f| f["code"] == "Credentials" && f["delivery"] == "not_sent"));
    let text = run(system_user(&base, &login).arg("--csv").arg(&csv).arg("--journal").arg(&journal).arg("--dry-run"));
    assert!(text.stdout.contains("20 would be sent"), "{}", text.stdout);
    // The same journal with a good login: every row goes out, each exactly once.
    let good = format!("{}{prefix}/login", s.url());
    let r = run(system_user(&base, &good).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--concurrency", "4", "--json"]));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let v = json_of(&r);
    assert_eq!((v["counts"]["accepted"].as_u64(), v["counts"]["unknown_not_resent"].as_u64()), (Some(20), Some(0)));
    assert_eq!(per_person_at(&s, &prefix).len(), 20);
    assert!(per_person_at(&s, &prefix).values().all(|n| *n == 1), "{:?}", per_person_at(&s, &prefix));

    // The login service's clock 20 minutes ahead: the stop message names the clock and
    // does not blame the settings.
    let (prefix, base) = tenant(&s, "system-user-clock", "clock_min=20");
    let login = format!("{}{prefix}/clock_min=20/login", s.url());
    let r = run(system_user(&base, &login).arg("--csv").arg(&csv).arg("--journal").arg(dir.path("clock.sqlite")).args(["--concurrency", "4"]));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("this machine's clock is 20 minutes behind the login service's; the system user token is stamped \
         with this machine's time, so the login service refuses it: correct the clock"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("check the system user settings"), "{}", r.stderr);
    assert!(api(&prefix).is_empty());
}

/// Requests to the endpoint per `PersonId` under `prefix` (login requests left out).
fn per_person_at(s: &stub::Stub, prefix: &str) -> HashMap<i64, usize> {
    let mut out = HashMap::new();
    for r in s.requests(prefix).iter().filter(|r| r.path.ends_with(stub::ENDPOINT)) {
        if let Some(id) = r.body_json().and_then(|v| v["PersonId"].as_i64()) {
            *out.entry(id).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn a_connect_timeout_is_retried_and_failed_not_sent_and_sent_again() {
    let s = stub::Stub::start();
    let Some(port) = s.unaccepting_port() else {
        eprintln!("SKIPPED: this kernel completes connections beyond a full backlog");
        return;
    };
    let dir = TempDir::new("connect-timeout");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=2).map(good_row));
    let base = format!("http://127.0.0.1:{port}/Cust12345");
    let journal = dir.path("ct.sqlite");
    let r = run(cli(&base)
        .arg("--csv")
        .arg(&csv)
        .arg("--journal")
        .arg(&journal)
        .args(["--connect-timeout", "0.2", "--max-retries", "1", "--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!((v["counts"]["failed"].as_u64(), v["counts"]["failed_not_sent"].as_u64()), (Some(2), Some(2)), "{v}");
    assert!(v["failed"].as_array().unwrap().iter().all(|f| f["code"] == "Timeout" && f["delivery"] == "not_sent"));
    assert!(r.stderr.contains("no connection to the server: every worker waits"), "retried within the run: {}", r.stderr);
    assert!(r.stderr.contains("failed (not sent)"), "{}", r.stderr);
    let states = journal_states(&journal);
    assert_eq!(count_state(&states, "failed"), 2);
    let dry = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--dry-run", "--json"]));
    assert_eq!(json_of(&dry)["counts"]["to_send"], 2, "failed (not sent) rows go out again");
}

#[test]
fn rows_reset_after_reading_stay_unknown_on_the_rerun() {
    let s = stub::Stub::start();
    let dir = TempDir::new("reset");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=3).map(good_row));
    let (prefix, base) = tenant(&s, "reset", "drop=reset");
    let journal = dir.path("reset.sqlite");
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["unknown"], 3, "{v}");
    assert!(v["unknown"].as_array().unwrap().iter().all(|u| u["delivery"] == "unknown" && u["code"] == "Io"));
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--json"]));
    let v = json_of(&r);
    assert_eq!((v["counts"]["unknown_not_resent"].as_u64(), v["counts"]["to_send"].as_u64()), (Some(3), Some(0)));
    assert_eq!(s.count(&prefix), 3, "a row reset after the server read it was sent again");
}

#[test]
fn a_journal_of_the_previous_version_sends_its_credentials_rows_again() {
    let s = stub::Stub::start();
    let dir = TempDir::new("oldjournal");
    let csv = dir.path("p.csv");
    write_csv(&csv, (1..=4).map(good_row));
    let (prefix, base) = tenant(&s, "old", "");
    let journal = dir.path("old.sqlite");
    // The tenant as the journal keys it (a dry run does not make the journal).
    let dry = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--dry-run", "--json"]));
    let key = json_of(&dry)["tenant"].as_str().unwrap().to_string();
    assert!(!journal.exists());
    {
        // The previous version's schema (no delivery column): rows 1 and 2 left unknown by
        // a refused login, row 3 unknown after a timeout, row 4 accepted.
        let c = rusqlite::Connection::open(&journal).unwrap();
        c.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('schema', '1');
             CREATE TABLE emails (tenant TEXT NOT NULL, person_id INTEGER NOT NULL, recipient TEXT NOT NULL,
                 subject TEXT NOT NULL, sender TEXT,
                 state TEXT NOT NULL CHECK (state IN ('sending', 'accepted', 'failed', 'unknown')),
                 code TEXT, http_status INTEGER, error_type TEXT, message TEXT, attempts INTEGER NOT NULL DEFAULT 0,
                 csv_line INTEGER, updated_at TEXT NOT NULL, PRIMARY KEY (tenant, person_id, recipient, subject));",
        )
        .unwrap();
        for (id, state, code) in [(1, "unknown", "Credentials"), (2, "unknown", "Credentials"), (3, "unknown", "Timeout"), (4, "accepted", "Ok")] {
            c.execute(
                "INSERT INTO emails (tenant, person_id, recipient, subject, sender, state, code, http_status, message, attempts, updated_at)
                 VALUES (?1, ?2, ?3, 'Your password', 'support@example.com', ?4, ?5, 0, 'm', 1, 'then')",
                rusqlite::params![key, id, format!("p{id}@example.com"), state, code],
            )
            .unwrap();
        }
    }
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--journal").arg(&journal).args(["--json"]));
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["to_send"], 2, "{v}");
    assert_eq!(v["counts"]["accepted"], 2, "{v}");
    assert_eq!((v["counts"]["unknown_not_resent"].as_u64(), v["counts"]["already_accepted"].as_u64()), (Some(1), Some(1)));
    let sent = per_person(&s, &prefix);
    assert_eq!(sent, HashMap::from([(1, 1), (2, 1)]), "the old credentials rows, each once");
    let states = journal_states(&journal);
    assert_eq!((states[&1].as_str(), states[&2].as_str(), states[&3].as_str()), ("accepted", "accepted", "unknown"));
}

/// A CSV of addresses (`to,subject,from`).
fn write_address_csv(path: &Path, rows: &[&str]) {
    let mut text = String::from("to,subject,from\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

/// The person searches the stub received under a prefix.
fn searches(s: &stub::Stub, prefix: &str) -> usize {
    s.requests(prefix).iter().filter(|r| r.method == "GET" && r.path.ends_with("/api/v1/Person")).count()
}

#[test]
fn one_email_by_address_looks_the_person_up() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "one-to", "");
    let r = run(cli(&base).args(["--to", "Eve.Mixed@example.com", "--subject", "Hi"]));
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "Eve.Mixed@example.com (person 15): accepted (HTTP 204)\n");
    assert_eq!(s.sends(&prefix).into_iter().collect::<Vec<_>>(), vec![(15, 1)]);
    // Several persons: nothing sent, the candidates named.
    let r = run(cli(&base).args(["--to", "shared@example.com", "--json"]));
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let v = json_of(&r);
    assert_eq!((v["state"].as_str(), v["code"].as_str(), v["delivery"].as_str()), (Some("failed"), Some("AmbiguousRecipient"), Some("not_sent")));
    assert_eq!(v["candidates"], serde_json::json!([12, 13]));
    let r = run(cli(&base).args(["--to", "retired@example.com"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("failed (not sent): no person has the e-mail address retired@example.com"), "{}", r.stderr);
    // A dry run looks up and sends nothing.
    let r = run(cli(&base).args(["--to", "ann.able@example.com", "--dry-run"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("ann.able@example.com (person 11)"), "{}", r.stdout);
    assert_eq!(s.sends_total(&prefix), 1);
    assert_eq!(searches(&s, &prefix), 4);
    // An address that cannot be one is a usage error, before any request.
    let r = run(cli(&base).args(["--to", "no-at-sign"]));
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(searches(&s, &prefix), 4);
}

#[test]
fn a_csv_of_addresses_sends_each_resolved_person_once_and_a_rerun_none_again() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "addresses", "");
    let dir = TempDir::new("addresses");
    let csv = dir.path("addresses.csv");
    write_address_csv(
        &csv,
        &[
            "ann.able@example.com,Your password,support@example.com",
            "nobody@example.com,Your password,support@example.com",
            "shared@example.com,Your password,support@example.com",
            "\"finn.o'brien@example.com\",Your password,support@example.com",
            "GUS@example.com,Your password,support@example.com",
            // The same address again, another subject: another e-mail, the same search.
            "ann.able@example.com,Welcome,support@example.com",
            "not-an-address,Your password,support@example.com",
        ],
    );
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--json", "--concurrency", "3"]));
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    let c = &v["counts"];
    assert_eq!((c["rows"].as_u64(), c["bad"].as_u64(), c["to_send"].as_u64()), (Some(7), Some(1), Some(6)));
    assert_eq!((c["accepted"].as_u64(), c["failed"].as_u64(), c["failed_not_sent"].as_u64()), (Some(4), Some(2), Some(2)));
    assert_eq!((c["not_found"].as_u64(), c["ambiguous"].as_u64()), (Some(1), Some(1)));
    // Each resolved person exactly once per e-mail; nobody else.
    let sent: Vec<(i64, usize)> = s.sends(&prefix).into_iter().collect();
    assert_eq!(sent, vec![(11, 2), (16, 1), (17, 1)]);
    assert_eq!(searches(&s, &prefix), 5, "one search per address");
    let failed = v["failed"].as_array().unwrap();
    let ambiguous = failed.iter().find(|f| f["code"] == "AmbiguousRecipient").unwrap();
    assert_eq!((ambiguous["line"].as_u64(), ambiguous["to"].as_str()), (Some(4), Some("shared@example.com")));
    assert_eq!(ambiguous["candidates"], serde_json::json!([12, 13]));
    let not_found = failed.iter().find(|f| f["code"] == "RecipientNotFound").unwrap();
    assert_eq!((not_found["line"].as_u64(), not_found["delivery"].as_str()), (Some(3), Some("not_sent")));
    // The journal keys the rows by address, with the person beside.
    let j = rusqlite::Connection::open(dir.path("addresses.csv.journal.sqlite")).unwrap();
    let mut stmt = j.prepare("SELECT person_id, recipient, subject, resolved_person_id, state FROM emails ORDER BY recipient, subject").unwrap();
    let rows: Vec<(i64, String, String, i64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        rows,
        vec![
            (0, "GUS@example.com".into(), "Your password".into(), 17, "accepted".into()),
            (0, "ann.able@example.com".into(), "Welcome".into(), 11, "accepted".into()),
            (0, "ann.able@example.com".into(), "Your password".into(), 11, "accepted".into()),
            (0, "finn.o'brien@example.com".into(), "Your password".into(), 16, "accepted".into()),
        ]
    );
    drop(stmt);
    drop(j);

    // The re-run sends none again: accepted rows are skipped before any search; the
    // unresolved ones are looked up again (and still fail).
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--json"));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["counts"]["already_accepted"], 4);
    assert_eq!(v["counts"]["to_send"], 2);
    assert_eq!(s.sends(&prefix).into_iter().collect::<Vec<_>>(), sent);
    assert_eq!(searches(&s, &prefix), 7, "only the two unresolved addresses were searched again");
}

#[test]
fn a_dry_run_of_addresses_looks_them_up_and_sends_nothing() {
    let s = stub::Stub::start();
    let (prefix, base) = tenant(&s, "addresses-dry", "");
    let dir = TempDir::new("addresses-dry");
    let csv = dir.path("a.csv");
    write_address_csv(&csv, &["ida@example.com,S,", "shared@example.com,S,", "nobody@example.com,S,"]);
    let r = run(cli(&base).arg("--csv").arg(&csv).args(["--dry-run", "--json"]));
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let v = json_of(&r);
    check_summary_shape(&v);
    assert_eq!(v["resolved"], serde_json::json!([{"line": 2, "to": "ida@example.com", "person_id": 20}]));
    assert_eq!((v["counts"]["not_found"].as_u64(), v["counts"]["ambiguous"].as_u64()), (Some(1), Some(1)));
    let r = run(cli(&base).arg("--csv").arg(&csv).arg("--dry-run"));
    assert!(r.stdout.contains("line 2: ida@example.com (person 20)"), "{}", r.stdout);
    assert!(r.stdout.contains("(candidates: 12, 13)"), "{}", r.stdout);
    assert_eq!(s.sends_total(&prefix), 0, "a dry run sends nothing");
    assert_eq!(searches(&s, &prefix), 6);
    assert!(!dir.path("a.csv.journal.sqlite").exists());
}

/// `superoffice check` with a system user against the stub's login service: the step it
/// names, never a secret, and no e-mail sent.
fn check_command(s: &stub::Stub, base: &str, login: &str, key: &Path, secret_file: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("check")
        .env_clear()
        .env("SO_BASE_URL", base)
        .env("SO_SYSTEM_USER_TOKEN", "Partner App-8k8Q7DmBgo")
        .env("SO_PRIVATE_KEY_FILE", key)
        .env("SO_LOGIN_URL", login)
        .env("SO_CONTEXT_IDENTIFIER", "Cust12345")
        .arg("--client-secret-file")
        .arg(secret_file)
        .args(["--timeout", "5", "--proxy", ""])
        .stdin(Stdio::null());
    let _ = s;
    c
}

#[test]
fn check_passes_against_the_stub_and_names_the_step_that_fails() {
    let s = stub::Stub::start();
    let dir = TempDir::new("check");
    let secret_file = dir.path("client-secret");
    std::fs::write(&secret_file, "cli-check-secret-leak-check\n").unwrap();
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/partner.pkcs1.pem");
    let no_secret = |r: &Ran| {
        for secret in ["cli-check-secret-leak-check", "Partner App-8k8Q7DmBgo", "7T:stub-ticket-", "MII"] {
            assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{secret} printed:\n{}\n{}", r.stdout, r.stderr);
        }
    };
    let emails = |prefix: &str| s.requests(prefix).iter().filter(|r| r.path.ends_with(stub::ENDPOINT)).count();

    // Passes: the endpoint, the scheme, the credential obtained with its expiry and host,
    // and the tenant's state from --state-endpoint (the stub's lookup).
    let (prefix, base) = tenant(&s, "check-ok", "");
    let login = format!("{}{prefix}/login", s.url());
    let r = run(check_command(&s, &base, &login, &key, &secret_file).args(["--state-endpoint", &s.url()]));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    no_secret(&r);
    assert!(r.stdout.contains(&format!("endpoint:    POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail")), "{}", r.stdout);
    assert!(r.stdout.contains("scheme:      system user (login service"), "{}", r.stdout);
    assert!(r.stdout.contains("credential:  ok: obtained from"), "{}", r.stdout);
    assert!(r.stdout.contains("if unused (each use extends it by 6 hours); WebAPI host 127.0.0.1:"), "{}", r.stdout);
    assert!(r.stdout.contains("tenant:      ok: Cust12345 is running"), "{}", r.stdout);
    assert!(r.stdout.contains("check passed"), "{}", r.stdout);
    assert_eq!(emails(&prefix), 0, "no e-mail");
    assert_eq!(s.requests(&prefix).iter().filter(|r| r.path.ends_with("/PartnerSystemUser/Authenticate")).count(), 1);

    // --json: the same, as JSON; without --state-endpoint a non-Online host skips the tenant.
    let r = run(check_command(&s, &base, &login, &key, &secret_file).arg("--json"));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    no_secret(&r);
    let v = json_of(&r);
    assert_eq!(v["ok"], true);
    assert_eq!(v["failed_step"], Value::Null);
    assert_eq!(v["steps"][1]["step"], "credential");
    assert_eq!(v["steps"][1]["passed"], true);
    assert_eq!(v["steps"][2]["step"], "tenant");
    assert_eq!(v["steps"][2]["passed"], Value::Null);
    assert!(v["steps"][2]["detail"].as_str().unwrap().contains("not a SuperOffice Online host"), "{v}");

    // A wrong key (a valid RSA key that is not the partner's): the login service refuses
    // its signature; the credential step fails.
    let rogue = dir.path("rogue.pem");
    let der = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/rogue.pkcs8.der")).unwrap();
    let b64 = base64_lines(&der);
    std::fs::write(&rogue, format!("-----BEGIN PRIVATE KEY-----\n{b64}-----END PRIVATE KEY-----\n")).unwrap();
    let (prefix, base) = tenant(&s, "check-key", "");
    let login = format!("{}{prefix}/login", s.url());
    let r = run(check_command(&s, &base, &login, &rogue, &secret_file).arg("--json"));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    no_secret(&r);
    let v = json_of(&r);
    assert_eq!(v["failed_step"], "credential", "{v}");
    assert!(v["steps"][1]["detail"].as_str().unwrap().contains("InvalidSignature"), "{v}");
    assert_eq!(emails(&prefix), 0);

    // A refused login.
    let (prefix, base) = tenant(&s, "check-refused", "login=refused");
    let login = format!("{}{prefix}/login=refused/login", s.url());
    let r = run(&mut check_command(&s, &base, &login, &key, &secret_file));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    no_secret(&r);
    assert!(r.stdout.contains("check failed at the credential step: the login service refused the system user"), "{}", r.stdout);
    assert!(r.stdout.contains("not approved"), "{}", r.stdout);
    assert_eq!(emails(&prefix), 0);

    // An unreachable login service.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (_, base) = tenant(&s, "check-unreachable", "");
    let r = run(&mut check_command(&s, &base, &format!("http://127.0.0.1:{port}/login"), &key, &secret_file));
    assert_eq!(r.code, Some(1), "{}\n{}", r.stdout, r.stderr);
    no_secret(&r);
    assert!(r.stdout.contains("check failed at the credential step: the login service could not be reached"), "{}", r.stdout);

    // A ticket given: given, not verified, nothing sent.
    let (prefix, base) = tenant(&s, "check-ticket", "");
    let r = run(Command::new(BIN).arg("check").env_clear().env("SO_BASE_URL", &base).env("SO_TICKET", TICKET).stdin(Stdio::null()));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("scheme:      SOTicket (a ticket given)"), "{}", r.stdout);
    assert!(r.stdout.contains("credential:  ok: given, not verified"), "{}", r.stdout);
    assert_eq!(s.requests(&prefix).len(), 0, "no call at all");
}

/// Standard base64 in 64-character lines (a PEM body), for a test key.
fn base64_lines(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    text.as_bytes().chunks(64).map(|l| format!("{}\n", std::str::from_utf8(l).unwrap())).collect()
}
