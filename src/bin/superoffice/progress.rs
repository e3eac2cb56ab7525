//! How a run shows its progress on standard error: a bar on a terminal, else one line
//! per e-mail.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use superoffice::retry::human;

use crate::input::Row;
use crate::outcome::{Outcome, State};

/// Counts shown while a run goes on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub accepted: usize,
    pub failed: usize,
    pub unknown: usize,
}

pub enum Progress {
    Bar(ProgressBar),
    Lines { total: usize, done: usize },
}

/// One line saying how a row ended: `accepted (HTTP 204)`, or for a failure the
/// library's message with the HTTP status and `ErrorType`.
pub fn outcome_text(o: &Outcome) -> String {
    match o.state {
        State::Accepted => format!("accepted (HTTP {})", o.http_status),
        State::Sending => "being sent".into(),
        State::Failed | State::Unknown => {
            let mut details = if o.http_status != 0 {
                format!("HTTP {}", o.http_status)
            } else {
                "no HTTP answer".to_string()
            };
            if let Some(t) = &o.error_type {
                let _ = write!(details, ", ErrorType {t}");
            }
            if !o.code.is_empty() {
                let _ = write!(details, ", {}", o.code);
            }
            let what = match o.state {
                State::Failed if o.not_sent() => "failed (not sent)",
                State::Failed => "failed",
                _ => "unknown (the server may have it)",
            };
            format!("{what}: {} [{details}]", o.message)
        }
    }
}

impl Progress {
    /// A bar when standard error is a terminal, else lines.
    pub fn new(total: usize) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress::Lines { total, done: 0 };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:32.cyan/blue}] {pos}/{len}  {rate}  ETA {eta}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.1}/s", s.per_sec());
        })
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress::Bar(bar)
    }

    fn counts(t: &Tally) -> String {
        format!("failed {}  unknown {}", t.failed, t.unknown)
    }

    /// One row ended.
    pub fn row_done(&mut self, row: &Row, outcome: &Outcome, tally: &Tally) {
        match self {
            Progress::Bar(bar) => {
                bar.inc(1);
                bar.set_message(Self::counts(tally));
            }
            Progress::Lines { total, done } => {
                *done += 1;
                let width = total.to_string().len();
                eprintln!("[{done:>width$}/{total}] {}: {}", row.describe(), outcome_text(outcome));
            }
        }
    }

    /// The whole run waits for the server (`None`: it no longer waits).
    pub fn waiting(&mut self, wait: Option<(Duration, &str)>, tally: &Tally) {
        match self {
            Progress::Bar(bar) => match wait {
                Some((left, why)) => bar.set_message(format!(
                    "{}  waiting {} ({why})",
                    Self::counts(tally),
                    human(Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0)))
                )),
                None => bar.set_message(Self::counts(tally)),
            },
            Progress::Lines { .. } => {}
        }
    }

    /// Said once when the whole run starts to wait (lines mode: one line).
    pub fn pause_started(&mut self, wait: Duration, why: &str) {
        if let Progress::Lines { .. } = self {
            eprintln!("{why}: every worker waits {} before sending again", human(wait));
        }
    }

    /// A note above the bar (or a line).
    pub fn note(&mut self, text: &str) {
        match self {
            Progress::Bar(bar) => bar.println(text),
            Progress::Lines { .. } => {
                eprintln!("{text}");
                let _ = std::io::stderr().flush();
            }
        }
    }

    pub fn finish(&mut self) {
        if let Progress::Bar(bar) = self {
            bar.disable_steady_tick();
            bar.tick();
            bar.abandon();
            // The bar's last line has no line end of its own.
            eprintln!();
        }
    }
}
