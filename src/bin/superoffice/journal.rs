//! The journal: one SQLite file that records, for every row, whether it is being sent
//! or how it ended, so that a re-run never sends an accepted e-mail again.
//!
//! A row is keyed by (tenant URL, person id, to, subject). Before its request goes out
//! the row is committed as `sending`; after the answer its outcome is committed before
//! that worker takes another row. A crash at any instant (SIGKILL included) therefore
//! leaves every row not started, decided, or `sending`; a later run turns `sending`
//! into `unknown`.
//!
//! The file is in WAL mode with `synchronous=FULL` (a commit is on disk before the
//! request is sent) and `locking_mode=EXCLUSIVE`: a run holds the file's lock from its
//! first write to its exit, so a second run on the same journal is refused instead of
//! racing the first. During a run one writer thread owns the connection and commits the
//! workers' changes in groups: each worker waits until its own change is on disk.
//!
//! Each outcome records its delivery (`not_sent`, `unknown`, `answered`: whether the
//! server may have the request). A journal of an older version (schema 1) gets the column
//! when a run opens it; its rows `unknown` with code `Credentials` (no credential could be
//! had, so no e-mail request went out) become `failed`, `not_sent`, and are sent again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use superoffice::Delivery;

use crate::input::Row;
use crate::outcome::{delivery_str, parse_delivery, Outcome, State};

/// What identifies one e-mail in the journal (besides the tenant).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub person_id: i32,
    /// `""` when the e-mail has no `To`.
    pub to: String,
    /// `""` when it has no subject.
    pub subject: String,
}

impl Key {
    pub fn of(row: &Row) -> Key {
        Key {
            person_id: row.person_id,
            to: row.to.clone().unwrap_or_default(),
            subject: row.subject.clone().unwrap_or_default(),
        }
    }
}

/// A row as an earlier run left it.
#[derive(Clone, Debug)]
pub struct Previous {
    pub state: State,
    pub outcome: Outcome,
    pub updated_at: String,
}

/// A journal open for a run.
pub struct Journal {
    conn: Mutex<Connection>,
    tenant: String,
    path: PathBuf,
}

/// A journal failure, said as a sentence.
pub type JournalError = String;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS emails (
    tenant      TEXT    NOT NULL,
    person_id   INTEGER NOT NULL,
    recipient   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    sender      TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('sending', 'accepted', 'failed', 'unknown')),
    code        TEXT,
    http_status INTEGER,
    error_type  TEXT,
    message     TEXT,
    delivery    TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    csv_line    INTEGER,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant, person_id, recipient, subject)
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '2');
";

/// Brings a journal of schema 1 to schema 2: the delivery column, and its rows that a
/// credentials failure left `unknown` read as not sent.
const MIGRATE_1_TO_2: &str = "
ALTER TABLE emails ADD COLUMN delivery TEXT;
UPDATE emails SET state = 'failed', delivery = 'not_sent' WHERE state = 'unknown' AND code = 'Credentials';
UPDATE meta SET value = '2' WHERE key = 'schema';
";

/// Whether the `emails` table has the delivery column (schema 2).
fn has_delivery(conn: &Connection) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare("SELECT 1 FROM pragma_table_info('emails') WHERE name = 'delivery'")?;
    stmt.exists([])
}

/// A row's delivery: the recorded one, else (a journal of schema 1) what its state and
/// status say: an answer for a status, not sent for a failure without one (a connection
/// that could not be made, a bad argument), unknown otherwise.
fn delivery_of(recorded: Option<&str>, state: State, http_status: u16) -> Delivery {
    if let Some(d) = recorded.and_then(parse_delivery) {
        return d;
    }
    match state {
        State::Accepted => Delivery::Answered,
        State::Failed if http_status != 0 => Delivery::Answered,
        State::Failed => Delivery::NotSent,
        State::Unknown | State::Sending => Delivery::Unknown,
    }
}

/// Said of a row a run left `sending`.
const INTERRUPTED: &str = "the run that sent it stopped before an answer was recorded";

/// Now, as SQLite writes it: `2026-12-01T14:22:32.123Z`.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

fn db_error(path: &Path, what: &str, e: rusqlite::Error) -> JournalError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) {
            return format!(
                "the journal {} is in use by another run of superoffice (wait for it to end)",
                path.display()
            );
        }
    }
    format!("journal {}: {what}: {e}", path.display())
}

impl Journal {
    /// Opens (creating it if needed) the journal for a run that sends, takes its lock,
    /// and turns rows an earlier run left `sending` into `unknown`.
    pub fn open(path: &Path, tenant: &str) -> Result<Journal, JournalError> {
        let conn = Connection::open(path).map_err(|e| db_error(path, "cannot open it", e))?;
        let setup = || -> rusqlite::Result<String> {
            conn.busy_timeout(std::time::Duration::ZERO)?;
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Ok(mode);
            }
            conn.pragma_update(None, "synchronous", "FULL")?;
            // The first write takes the lock this run keeps until it exits.
            conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA}"))?;
            if !has_delivery(&conn)? {
                conn.execute_batch(MIGRATE_1_TO_2)?;
            }
            conn.execute_batch("COMMIT;")?;
            conn.execute(
                &format!(
                    "UPDATE emails SET state = 'unknown', code = 'Interrupted', http_status = 0, error_type = NULL,
                        message = 'the run that sent it stopped before an answer was recorded', delivery = 'unknown',
                        updated_at = {NOW}
                     WHERE state = 'sending'"
                ),
                [],
            )?;
            Ok("wal".into())
        };
        let mode = setup().map_err(|e| db_error(path, "cannot prepare it", e))?;
        if mode != "wal" {
            return Err(format!("journal {}: SQLite refused WAL mode (it is in {mode} mode)", path.display()));
        }
        Ok(Journal { conn: Mutex::new(conn), tenant: tenant.to_string(), path: path.to_path_buf() })
    }

    /// Opens an existing journal only to read it (a dry run); `None` when there is none.
    pub fn open_to_read(path: &Path, tenant: &str) -> Result<Option<Journal>, JournalError> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open(path).map_err(|e| db_error(path, "cannot open it", e))?;
        conn.busy_timeout(std::time::Duration::ZERO).map_err(|e| db_error(path, "cannot open it", e))?;
        let has_table: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'emails'", [], |r| r.get(0))
            .optional()
            .map_err(|e| db_error(path, "cannot read it", e))?;
        if has_table.is_none() {
            return Err(format!("{} is not a superoffice journal", path.display()));
        }
        Ok(Some(Journal { conn: Mutex::new(conn), tenant: tenant.to_string(), path: path.to_path_buf() }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every row recorded for this tenant.
    pub fn previous(&self) -> Result<HashMap<Key, Previous>, JournalError> {
        let conn = self.lock();
        let read = || -> rusqlite::Result<HashMap<Key, Previous>> {
            // A journal of schema 1 (read by a dry run, before any run migrated it) has no
            // delivery column.
            let delivery = if has_delivery(&conn)? { "delivery" } else { "NULL" };
            let mut stmt = conn.prepare(&format!(
                "SELECT person_id, recipient, subject, state, code, http_status, error_type, message, updated_at, {delivery}
                 FROM emails WHERE tenant = ?1"
            ))?;
            let rows = stmt.query_map([&self.tenant], |r| {
                let state: String = r.get(3)?;
                let mut state = State::parse(&state).unwrap_or(State::Unknown);
                let code = r.get::<_, Option<String>>(4)?.unwrap_or_default();
                let http_status = r.get::<_, Option<u16>>(5)?.unwrap_or(0);
                let recorded: Option<String> = r.get(9)?;
                let mut delivery = delivery_of(recorded.as_deref(), state, http_status);
                // An older version journaled a credentials failure as unknown; no e-mail
                // request went out.
                if state == State::Unknown && code == "Credentials" {
                    state = State::Failed;
                    delivery = Delivery::NotSent;
                }
                let mut outcome = Outcome {
                    state,
                    code,
                    http_status,
                    error_type: r.get(6)?,
                    message: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    delivery,
                };
                // A row a crashed run left `sending` counts as unknown (a dry run reads
                // it before any run has rewritten it).
                if state == State::Sending {
                    outcome = Outcome {
                        state: State::Unknown,
                        code: "Interrupted".into(),
                        http_status: 0,
                        error_type: None,
                        message: INTERRUPTED.into(),
                        delivery: Delivery::Unknown,
                    };
                }
                Ok((
                    Key { person_id: r.get(0)?, to: r.get(1)?, subject: r.get(2)? },
                    Previous { state: outcome.state, outcome, updated_at: r.get(8)? },
                ))
            })?;
            rows.collect()
        };
        read().map_err(|e| db_error(&self.path, "cannot read it", e))
    }

    /// Hands the connection to a writer thread for the run's commits.
    pub fn into_writer(self) -> Writer {
        let conn = self.conn.into_inner().unwrap_or_else(|p| p.into_inner());
        let (jobs, rx) = mpsc::channel::<Job>();
        let (tenant, path) = (self.tenant, self.path);
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || write_loop(conn, &tenant, &path, &rx))
            .expect("start the journal's writer thread");
        Writer { jobs: Some(jobs), thread: Some(thread) }
    }
}

/// One change to commit.
enum Op {
    /// The row is being sent (allowed from no row, `failed`, or `unknown` when resent).
    Mark { key: Key, sender: Option<String>, line: u64, resend_unknown: bool },
    /// The row's outcome.
    Record { key: Key, outcome: Outcome },
}

struct Job {
    op: Op,
    /// `Ok(false)` when a mark was refused.
    reply: mpsc::SyncSender<Result<bool, JournalError>>,
}

/// Most changes committed in one transaction.
const GROUP_LIMIT: usize = 256;

/// The writer: commits what the workers ask for in groups (one transaction, one sync
/// to disk, for everything asked while the last commit was on its way), and answers
/// each worker only once its change is on disk.
fn write_loop(mut conn: Connection, tenant: &str, path: &Path, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_LIMIT {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit(&mut conn, tenant, &group) {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                let message = db_error(path, "cannot record what is being sent", e);
                for job in group {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

/// One transaction for a group; on any failure none of it is kept.
fn commit(conn: &mut Connection, tenant: &str, group: &[Job]) -> rusqlite::Result<Vec<bool>> {
    let tx = rusqlite::Transaction::new(conn, rusqlite::TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        results.push(match &job.op {
            Op::Mark { key, sender, line, resend_unknown } => {
                let mut stmt = tx.prepare_cached(&format!(
                    "INSERT INTO emails (tenant, person_id, recipient, subject, sender, state, attempts, csv_line, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'sending', 1, ?6, {NOW})
                     ON CONFLICT (tenant, person_id, recipient, subject) DO UPDATE SET
                         state = 'sending', sender = excluded.sender, attempts = attempts + 1,
                         csv_line = excluded.csv_line, updated_at = excluded.updated_at
                     WHERE state = 'failed' OR (state = 'unknown' AND ?7)"
                ))?;
                stmt.execute(params![tenant, key.person_id, key.to, key.subject, sender, line, resend_unknown])? == 1
            }
            Op::Record { key, outcome } => {
                let mut stmt = tx.prepare_cached(&format!(
                    "UPDATE emails SET state = ?5, code = ?6, http_status = ?7, error_type = ?8, message = ?9,
                         delivery = ?10, updated_at = {NOW}
                     WHERE tenant = ?1 AND person_id = ?2 AND recipient = ?3 AND subject = ?4"
                ))?;
                stmt.execute(params![
                    tenant,
                    key.person_id,
                    key.to,
                    key.subject,
                    outcome.state.as_str(),
                    outcome.code,
                    outcome.http_status,
                    outcome.error_type,
                    outcome.message,
                    delivery_str(outcome.delivery)
                ])?;
                true
            }
        });
    }
    tx.commit()?;
    Ok(results)
}

/// The journal during a run: workers on any thread ask it to commit, and wait until
/// their change is on disk. Dropping it commits what was asked and closes the file.
pub struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn ask(&self, op: Op) -> Result<bool, JournalError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let stopped = || "the journal's writer stopped".to_string();
        self.jobs.as_ref().ok_or_else(stopped)?.send(Job { op, reply }).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Commits that `row` is being sent, just before its request goes out. False when
    /// the journal says it must not be sent (accepted meanwhile, or already `sending`).
    pub fn mark_sending(&self, row: &Row, resend_unknown: bool) -> Result<bool, JournalError> {
        self.ask(Op::Mark { key: Key::of(row), sender: row.from.clone(), line: row.line, resend_unknown })
    }

    /// Commits a row's outcome after its answer.
    pub fn record(&self, row: &Row, outcome: &Outcome) -> Result<(), JournalError> {
        self.ask(Op::Record { key: Key::of(row), outcome: outcome.clone() }).map(|_| ())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("so-cli-journal-{}-{name}.sqlite", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
        p
    }

    fn row(id: i32) -> Row {
        Row { line: 2, person_id: id, from: Some("f".into()), to: Some("t".into()), subject: None }
    }

    fn outcome(state: State) -> Outcome {
        Outcome { state, code: "X".into(), http_status: 0, error_type: None, message: "m".into(), delivery: Delivery::Unknown }
    }

    #[test]
    fn states_move_only_the_safe_way() {
        let path = temp("states");
        {
            let j = Journal::open(&path, "http://h/t").unwrap().into_writer();
            assert!(j.mark_sending(&row(1), false).unwrap());
            assert!(!j.mark_sending(&row(1), true).unwrap(), "a row being sent is not sent twice");
            j.record(&row(1), &outcome(State::Accepted)).unwrap();
            assert!(!j.mark_sending(&row(1), true).unwrap(), "an accepted row is never sent again");
            assert!(j.mark_sending(&row(2), false).unwrap());
            j.record(&row(2), &outcome(State::Failed)).unwrap();
            assert!(j.mark_sending(&row(2), false).unwrap(), "a failed row is retried");
            assert!(j.mark_sending(&row(3), false).unwrap());
            // Row 3 is left `sending`, as after a crash.
            assert!(matches!(Journal::open(&path, "http://h/t"), Err(e) if e.contains("in use")));
        }
        let j = Journal::open(&path, "http://h/t").unwrap();
        let prev = j.previous().unwrap();
        let j = j.into_writer();
        assert_eq!(prev[&Key::of(&row(1))].state, State::Accepted);
        assert_eq!(prev[&Key::of(&row(2))].state, State::Unknown, "left sending: unknown");
        assert_eq!(prev[&Key::of(&row(3))].state, State::Unknown);
        assert!(!j.mark_sending(&row(3), false).unwrap());
        assert!(j.mark_sending(&row(3), true).unwrap());
        let other = Journal::open_to_read(&temp("none"), "x").unwrap();
        assert!(other.is_none());
    }

    #[test]
    fn a_schema_1_journal_is_migrated_and_its_credentials_rows_are_not_sent() {
        let path = temp("schema1");
        {
            let c = Connection::open(&path).unwrap();
            // The schema of the previous version, without the delivery column.
            c.execute_batch(&SCHEMA.replace("    delivery    TEXT,\n", "").replace("'2'", "'1'")).unwrap();
            for (id, state, code, status) in
                [(1, "unknown", "Credentials", 0), (2, "unknown", "Timeout", 0), (3, "failed", "NotFound", 404), (4, "failed", "Connect", 0)]
            {
                c.execute(
                    "INSERT INTO emails (tenant, person_id, recipient, subject, state, code, http_status, updated_at)
                     VALUES ('http://h/t', ?1, 't', '', ?2, ?3, ?4, 'then')",
                    params![id, state, code, status],
                )
                .unwrap();
            }
        }
        let key = |id| Key { person_id: id, to: "t".into(), subject: String::new() };
        // A dry run reads it as it is: the credentials row as not sent.
        let read = Journal::open_to_read(&path, "http://h/t").unwrap().unwrap().previous().unwrap();
        assert_eq!((read[&key(1)].state, read[&key(1)].outcome.delivery), (State::Failed, Delivery::NotSent));
        drop(read);
        let j = Journal::open(&path, "http://h/t").unwrap();
        let prev = j.previous().unwrap();
        let expect = [
            (1, State::Failed, Delivery::NotSent),
            (2, State::Unknown, Delivery::Unknown),
            (3, State::Failed, Delivery::Answered),
            (4, State::Failed, Delivery::NotSent),
        ];
        for (id, state, delivery) in expect {
            assert_eq!((prev[&key(id)].state, prev[&key(id)].outcome.delivery), (state, delivery), "row {id}");
        }
        let j = j.into_writer();
        let row = |id| Row { line: 2, person_id: id, from: None, to: Some("t".into()), subject: None };
        assert!(j.mark_sending(&row(1), false).unwrap(), "the credentials row goes out again");
        assert!(!j.mark_sending(&row(2), false).unwrap(), "an unknown row does not");
    }
}
