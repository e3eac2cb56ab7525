//! `superoffice`: the operator's command line over the Rust core (not the C ABI).
//!
//! `superoffice send-password-email --person-id 670 --to ...` sends one e-mail;
//! `superoffice send-password-email --csv persons.csv` sends thousands, with a progress
//! bar and a journal so that a re-run never sends an accepted e-mail twice;
//! `superoffice check` checks the connection options (the credential obtained, the
//! tenant's state) and sends no e-mail.
#![deny(unsafe_code)]

mod args;
mod check;
mod input;
mod journal;
mod outcome;
mod progress;
mod report;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use superoffice::Client;

use args::{Cli, Command, SendArgs, UsageError};
use input::{Defaults, Row};
use journal::Journal;
use report::Report;

/// The core's own retries are off: the command line retries what the server provably
/// did not take itself, so that a 429 or 503 pauses every worker, not just one.
const CORE_RETRIES: u32 = 0;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::SendPasswordEmail(args) => send_password_email(args),
        Command::Check(args) => check::check(args),
    };
    match status {
        Ok(code) => ExitCode::from(code as u8),
        Err(UsageError(message)) => {
            eprintln!("superoffice: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn send_password_email(args: SendArgs) -> Result<i32, UsageError> {
    let settings = args.connection.settings(CORE_RETRIES)?;
    let Some(csv) = args.csv.clone() else {
        let by_address = args.person_id.is_none();
        let mut row = Row {
            line: 0,
            person_id: args.person_id.unwrap_or(0),
            by_address,
            from: args.from.clone(),
            to: args.to.clone(),
            subject: args.subject.clone(),
        };
        if by_address {
            let to = row.to.as_deref().ok_or("give --person-id ID or --to ADDRESS for one e-mail, or --csv FILE")?;
            superoffice::person::checked_address(to).map_err(|e| e.message)?;
            let client = Client::new(&settings).map_err(|e| e.message)?;
            match run::Resolver::new(&client, args.max_retries).resolve(&row, &run::Gate::default(), |wait, why| {
                eprintln!("{why}: waiting {} before searching again", superoffice::retry::human(wait));
            }) {
                Ok(resolved) => row = resolved,
                Err(u) => return Ok(run::unresolved_single(&row, &u, args.json)),
            }
            if args.dry_run {
                println!("dry run: would send to {} at {}", row.describe(), settings.base().root());
                return Ok(0);
            }
            return Ok(run::single(&client, &row, args.max_retries, args.json));
        }
        if args.dry_run {
            println!("dry run: would send to {} at {}", row.describe(), settings.base().root());
            return Ok(0);
        }
        let client = Client::new(&settings).map_err(|e| e.message)?;
        return Ok(run::single(&client, &row, args.max_retries, args.json));
    };

    let defaults = Defaults { from: args.from.clone(), to: args.to.clone(), subject: args.subject.clone() };
    let input = input::read(&csv, &defaults)?;
    let journal_path = args.journal.clone().unwrap_or_else(|| {
        let mut name = csv.clone().into_os_string();
        name.push(".journal.sqlite");
        PathBuf::from(name)
    });
    let tenant = settings.base().root();
    let mut report = Report {
        tenant: tenant.clone(),
        csv: csv.display().to_string(),
        journal: journal_path.display().to_string(),
        dry_run: args.dry_run,
        ..Report::default()
    };
    report.counts.rows = input.total;
    report.counts.bad = input.bad.len();
    for bad in &input.bad {
        eprintln!("superoffice: line {}: {}; not sent", bad.line, bad.reason);
    }
    report.bad_rows = input.bad;

    if args.dry_run {
        let previous = match Journal::open_to_read(&journal_path, &tenant)? {
            Some(j) => j.previous()?,
            None => Default::default(),
        };
        let plan = run::plan(input.rows, &previous, args.resend_unknown, &mut report);
        // Rows by address: looked up (no e-mail), to show who would get which e-mail.
        if plan.to_send.iter().any(|r| r.by_address) {
            let client = Client::new(&settings).map_err(|e| e.message)?;
            let resolver = run::Resolver::new(&client, args.max_retries);
            let gate = run::Gate::default();
            for row in plan.to_send.iter().filter(|r| r.by_address) {
                match resolver.resolve(row, &gate, |wait, why| {
                    eprintln!("{why}: waiting {} before searching again", superoffice::retry::human(wait));
                }) {
                    Ok(resolved) => report.resolved.push(resolved),
                    Err(u) => report.add_unresolved(row.clone(), u),
                }
            }
        }
    } else {
        let client = Client::new(&settings).map_err(|e| e.message)?;
        let journal = Journal::open(&journal_path, &tenant)?;
        let previous = journal.previous()?;
        let plan = run::plan(input.rows, &previous, args.resend_unknown, &mut report);
        run::batch(
            &client,
            &journal.into_writer(),
            plan,
            usize::from(args.concurrency),
            args.max_retries,
            args.resend_unknown,
            &mut report,
        );
    }
    if args.json {
        println!("{:#}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(report.exit_status())
}
