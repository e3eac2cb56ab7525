//! The summary at the end of a run: as text, or as JSON (`--json`; the shape is
//! documented in the README, "From the command line").

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::input::{BadRow, Row};
use crate::outcome::{delivery_str, Outcome, State};
use crate::progress::outcome_text;

/// How many rows went which way.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Data rows in the CSV file.
    pub rows: usize,
    /// Rows not sent because they are malformed.
    pub bad: usize,
    /// Rows with the same person id, To and subject as an earlier row of the file.
    pub duplicates: usize,
    /// Rows an earlier run had sent and the server accepted: skipped.
    pub already_accepted: usize,
    /// Rows an earlier run left unknown: not resent (no --resend-unknown).
    pub unknown_not_resent: usize,
    /// Rows this run was to send.
    pub to_send: usize,
    pub accepted: usize,
    pub failed: usize,
    /// Of `failed`, those the server provably never had ("failed (not sent)").
    pub failed_not_sent: usize,
    pub unknown: usize,
    /// Rows by address that no person has (in `failed` and `failed_not_sent` too).
    pub not_found: usize,
    /// Rows by address that several persons have (likewise).
    pub ambiguous: usize,
    /// Rows this run did not get to (interrupted).
    pub not_started: usize,
}

/// A row listed in the summary with its outcome.
#[derive(Clone, Debug)]
pub struct Listed {
    pub row: Row,
    pub outcome: Outcome,
    /// When an earlier run recorded it; `None` for this run.
    pub earlier_run: Option<String>,
    /// A row by address that several persons have: their ids.
    pub candidates: Vec<i32>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub tenant: String,
    pub csv: String,
    pub journal: String,
    pub dry_run: bool,
    pub interrupted: bool,
    /// Why the run stopped on its own (the journal could not be written).
    pub fatal: Option<String>,
    pub counts: Counts,
    pub failed: Vec<Listed>,
    pub unknown: Vec<Listed>,
    pub bad_rows: Vec<BadRow>,
    /// A dry run: the rows by address and the person each would be sent for.
    pub resolved: Vec<Row>,
}

/// Rows listed in the text summary per list; `--json` and the journal have them all.
const LISTED_IN_TEXT: usize = 20;

impl Report {
    pub fn add_outcome(&mut self, row: Row, outcome: Outcome) {
        match outcome.state {
            State::Accepted => self.counts.accepted += 1,
            State::Failed => {
                self.counts.failed += 1;
                if outcome.not_sent() {
                    self.counts.failed_not_sent += 1;
                }
                self.failed.push(Listed { row, outcome, earlier_run: None, candidates: Vec::new() });
            }
            State::Unknown | State::Sending => {
                self.counts.unknown += 1;
                self.unknown.push(Listed { row, outcome, earlier_run: None, candidates: Vec::new() });
            }
        }
    }

    /// A row by address without a single person: failed (not sent), listed with the
    /// candidate ids.
    pub fn add_unresolved(&mut self, row: Row, u: crate::outcome::Unresolved) {
        match u.outcome.code.as_str() {
            "RecipientNotFound" => self.counts.not_found += 1,
            "AmbiguousRecipient" => self.counts.ambiguous += 1,
            _ => {}
        }
        self.counts.failed += 1;
        self.counts.failed_not_sent += 1;
        self.failed.push(Listed { row, outcome: u.outcome, earlier_run: None, candidates: u.candidates });
    }

    /// 0 when every row is accepted (a dry run: when every row is valid), else 1.
    pub fn exit_status(&self) -> i32 {
        let c = &self.counts;
        let clean = if self.dry_run {
            c.bad == 0 && c.failed == 0
        } else {
            c.bad == 0
                && c.failed == 0
                && c.unknown == 0
                && c.unknown_not_resent == 0
                && c.not_started == 0
                && self.fatal.is_none()
        };
        i32::from(!clean)
    }

    fn sort(&mut self) {
        self.failed.sort_by_key(|l| l.row.line);
        self.unknown.sort_by_key(|l| l.row.line);
    }

    pub fn text(&mut self) -> String {
        self.sort();
        let c = self.counts;
        let mut out = String::new();
        let _ = writeln!(out, "{} rows in {} for {}", c.rows, self.csv, self.tenant);
        if self.dry_run {
            let _ = writeln!(out, "  dry run: nothing sent; {} would be sent", c.to_send - c.failed);
        } else {
            let _ = writeln!(out, "  accepted            {:>7}", c.accepted);
            let _ = writeln!(out, "  failed              {:>7}", c.failed);
            let _ = writeln!(out, "    of them not sent  {:>7}", c.failed_not_sent);
            let _ = writeln!(out, "  unknown             {:>7}", c.unknown);
            if c.not_started > 0 {
                let _ = writeln!(out, "  not started         {:>7}", c.not_started);
            }
        }
        if c.not_found + c.ambiguous > 0 || !self.resolved.is_empty() {
            let _ = writeln!(out, "  no person (address) {:>7}", c.not_found);
            let _ = writeln!(out, "  several (address)   {:>7}", c.ambiguous);
        }
        let _ = writeln!(out, "  already accepted    {:>7}", c.already_accepted);
        let _ = writeln!(out, "  unknown, not resent {:>7}", c.unknown_not_resent);
        let _ = writeln!(out, "  duplicates          {:>7}", c.duplicates);
        let _ = writeln!(out, "  bad rows            {:>7}", c.bad);
        if self.interrupted {
            let _ = writeln!(out, "Interrupted: run the same command again to go on.");
        }
        if let Some(e) = &self.fatal {
            let _ = writeln!(out, "Stopped: {e}");
        }
        let list = |out: &mut String, title: &str, items: &[Listed]| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "{title}");
            for l in items.iter().take(LISTED_IN_TEXT) {
                let when = l.earlier_run.as_ref().map(|t| format!(" (recorded {t})")).unwrap_or_default();
                let candidates = if l.candidates.is_empty() {
                    String::new()
                } else {
                    format!(" (candidates: {})", superoffice::person::listed_ids(&l.candidates))
                };
                let _ = writeln!(out, "  {}: {}{when}{candidates}", l.row.describe(), outcome_text(&l.outcome));
            }
            if items.len() > LISTED_IN_TEXT {
                let _ = writeln!(out, "  ... and {} more (see --json or the journal)", items.len() - LISTED_IN_TEXT);
            }
        };
        if !self.resolved.is_empty() {
            let _ = writeln!(out, "Would send (dry run; each address looked up):");
            for r in self.resolved.iter().take(LISTED_IN_TEXT) {
                let _ = writeln!(out, "  {}", r.describe());
            }
            if self.resolved.len() > LISTED_IN_TEXT {
                let _ = writeln!(out, "  ... and {} more (see --json)", self.resolved.len() - LISTED_IN_TEXT);
            }
        }
        let failed_title = if self.dry_run {
            "Would not be sent (no single person has the address, or the search failed):"
        } else {
            "Failed (a re-run sends them again; \"not sent\": the server never had them):"
        };
        list(&mut out, failed_title, &self.failed);
        list(
            &mut out,
            "Unknown (the server may have sent them; check, then re-run with --resend-unknown to send them again):",
            &self.unknown,
        );
        if !self.bad_rows.is_empty() {
            let _ = writeln!(out, "Bad rows (not sent; fix them and run again):");
            for b in self.bad_rows.iter().take(LISTED_IN_TEXT) {
                let _ = writeln!(out, "  line {}: {}", b.line, b.reason);
            }
            if self.bad_rows.len() > LISTED_IN_TEXT {
                let _ = writeln!(out, "  ... and {} more (see --json)", self.bad_rows.len() - LISTED_IN_TEXT);
            }
        }
        if !self.dry_run {
            let _ = writeln!(out, "Journal: {}", self.journal);
        }
        out
    }

    pub fn json(&mut self) -> Value {
        self.sort();
        let c = self.counts;
        let listed = |items: &[Listed]| -> Vec<Value> {
            items
                .iter()
                .map(|l| {
                    json!({
                        "line": l.row.line,
                        "person_id": l.row.person_id,
                        "from": l.row.from,
                        "to": l.row.to,
                        "subject": l.row.subject,
                        "state": l.outcome.state.as_str(),
                        "code": l.outcome.code,
                        "http_status": l.outcome.http_status,
                        "error_type": l.outcome.error_type,
                        "message": l.outcome.message,
                        "delivery": delivery_str(l.outcome.delivery),
                        "earlier_run": l.earlier_run,
                        "by_address": l.row.by_address,
                        "candidates": l.candidates,
                    })
                })
                .collect()
        };
        json!({
            "tenant": self.tenant,
            "csv": self.csv,
            "journal": self.journal,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "stopped_by": self.fatal,
            "counts": {
                "rows": c.rows,
                "bad": c.bad,
                "duplicates": c.duplicates,
                "already_accepted": c.already_accepted,
                "unknown_not_resent": c.unknown_not_resent,
                "to_send": c.to_send,
                "accepted": c.accepted,
                "failed": c.failed,
                "failed_not_sent": c.failed_not_sent,
                "unknown": c.unknown,
                "not_found": c.not_found,
                "ambiguous": c.ambiguous,
                "not_started": c.not_started,
            },
            "resolved": self.resolved.iter().map(|r| json!({"line": r.line, "to": r.to, "person_id": r.person_id})).collect::<Vec<_>>(),
            "failed": listed(&self.failed),
            "unknown": listed(&self.unknown),
            "bad_rows": self.bad_rows.iter().map(|b| json!({"line": b.line, "reason": b.reason})).collect::<Vec<_>>(),
            "exit_status": self.exit_status(),
        })
    }
}

/// `--json` for a single send.
pub fn single_json(row: &Row, o: &Outcome) -> Value {
    json!({
        "person_id": row.person_id,
        "from": row.from,
        "to": row.to,
        "subject": row.subject,
        "state": o.state.as_str(),
        "code": o.code,
        "http_status": o.http_status,
        "error_type": o.error_type,
        "message": o.message,
        "delivery": delivery_str(o.delivery),
    })
}
