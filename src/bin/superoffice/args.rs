//! The command line: what may be given, and the client settings it makes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use superoffice::Settings;

/// Said under `--help`: where secrets show.
const SECRETS_NOTE: &str = "\
Secrets show in `ps` and in shell history when given on the command line (--ticket, \
--bearer-token, --password, --app-token, --system-user-token, --client-secret, a proxy URL \
with a password). Prefer the environment variables SO_TICKET, SO_BEARER_TOKEN, SO_PASSWORD, \
SO_APP_TOKEN, SO_SYSTEM_USER_TOKEN and SO_CLIENT_SECRET, or --ticket-file, \
--bearer-token-file, --password-file, --app-token-file, --system-user-token-file and \
--client-secret-file.

Exit status: 0 when every e-mail was accepted, 1 when any failed, is unknown or was not \
sent, 2 on a usage error.";

/// Send SuperOffice Customer Centre password e-mails: one, or a CSV file of thousands
/// with a journal so that a re-run never sends an e-mail twice.
#[derive(Parser, Debug)]
#[command(name = "superoffice", version, after_help = SECRETS_NOTE)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Send Customer Centre password e-mails
    /// (POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail).
    ///
    /// One e-mail: --person-id with --from, --to and --subject, or --to alone: the person is
    /// then looked up by that address (GET {base}/api/v1/Person), and nothing is sent when no
    /// person, or more than one, has it. Many: --csv FILE, whose header row names the
    /// columns person_id, from, to and subject in any order (from, to and subject may
    /// instead be given once as options, for every row); a header with to and no person_id
    /// looks each row's person up by its address (one search per address in a run). Each row's
    /// outcome is committed to a journal (SQLite, FILE.journal.sqlite by default): a
    /// re-run skips accepted rows, retries failed ones and does not resend rows whose
    /// outcome is unknown (the request may have reached the server) unless
    /// --resend-unknown is given.
    #[command(after_help = SECRETS_NOTE)]
    SendPasswordEmail(SendArgs),

    /// Check the connection options before the first e-mail, and send none.
    ///
    /// Prints the endpoint it would call and the authentication scheme; for a system user
    /// or an OAuth refresh token, gets the credential now (login and JWT check, or the
    /// token request) and prints its expiry and the WebAPI host; a ticket, token or Basic
    /// credentials are given, not verified (no call is made). When the base URL's host is
    /// one of SuperOffice Online's, it prints the tenant's state. Never prints a secret.
    /// Exit status 0 when every step passes, 1 naming the step that failed, 2 on a usage
    /// error.
    #[command(after_help = SECRETS_NOTE)]
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct SendArgs {
    /// One e-mail: the person's id (a positive integer). Without it, --to is looked up: the
    /// one person with that e-mail address gets the e-mail
    #[arg(long, value_name = "ID", value_parser = clap::value_parser!(i32).range(1..),
          conflicts_with = "csv", required_unless_present_any = ["csv", "to"])]
    pub person_id: Option<i32>,

    /// Sender's e-mail address (with --csv: for every row, instead of a "from" column)
    #[arg(long, value_name = "ADDRESS")]
    pub from: Option<String>,

    /// Recipient's e-mail address (with --csv: for every row, instead of a "to" column)
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,

    /// The e-mail's subject (with --csv: for every row, instead of a "subject" column)
    #[arg(long, value_name = "TEXT")]
    pub subject: Option<String>,

    /// Many e-mails: a CSV file with a header row (person_id, from, to, subject)
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// The journal of this CSV's e-mails [default: FILE.journal.sqlite beside the CSV]
    #[arg(long, value_name = "JOURNAL", requires = "csv")]
    pub journal: Option<PathBuf>,

    /// E-mails sent at the same time, over one connection pool (1 to 64)
    #[arg(long, value_name = "N", default_value_t = 4, requires = "csv",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// Send again the rows an earlier run left unknown (the server may have them already)
    #[arg(long, requires = "csv")]
    pub resend_unknown: bool,

    /// Check the CSV and the options, look up the persons of rows by address, and send
    /// nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print a machine-readable summary (JSON) on standard output
    #[arg(long)]
    pub json: bool,

    /// Times an e-mail the server provably did not take (429, 503, no connection) is sent
    /// again; every worker waits for the server's Retry-After first
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_retries: u32,

    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Debug)]
#[command(next_help_heading = "Connection")]
pub struct Connection {
    /// The installation's or tenant's URL, e.g. https://sod.superoffice.com/Cust12345
    #[arg(long, value_name = "URL", env = "SO_BASE_URL")]
    pub base_url: Option<String>,

    /// SOTicket credential (shows in `ps`: prefer SO_TICKET or --ticket-file)
    #[arg(long, value_name = "TICKET", env = "SO_TICKET", hide_env_values = true)]
    pub ticket: Option<String>,

    /// Read the ticket from this file's first line
    #[arg(long, value_name = "FILE")]
    pub ticket_file: Option<PathBuf>,

    /// Bearer access token (shows in `ps`: prefer SO_BEARER_TOKEN or --bearer-token-file)
    #[arg(long, value_name = "TOKEN", env = "SO_BEARER_TOKEN", hide_env_values = true)]
    pub bearer_token: Option<String>,

    /// Read the bearer token from this file's first line
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,

    /// User name for Basic authentication (onsite)
    #[arg(long, value_name = "USER", env = "SO_USERNAME", hide_env_values = true)]
    pub user: Option<String>,

    /// Password for Basic authentication (shows in `ps`: prefer SO_PASSWORD or --password-file)
    #[arg(long, value_name = "PASSWORD", env = "SO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// Read the password from this file's first line
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// SO-AppToken, the application secret of an Online app (prefer SO_APP_TOKEN)
    #[arg(long, value_name = "TOKEN", env = "SO_APP_TOKEN", hide_env_values = true)]
    pub app_token: Option<String>,

    /// Read the app token from this file's first line
    #[arg(long, value_name = "FILE")]
    pub app_token_file: Option<PathBuf>,

    /// SuperOffice Online system user token: the library gets and renews its own ticket
    /// (needs --private-key-file and a client secret; prefer SO_SYSTEM_USER_TOKEN)
    #[arg(long, value_name = "TOKEN", env = "SO_SYSTEM_USER_TOKEN", hide_env_values = true)]
    pub system_user_token: Option<String>,

    /// Read the system user token from this file's first line
    #[arg(long, value_name = "FILE")]
    pub system_user_token_file: Option<PathBuf>,

    /// The partner's RSA private key for the system user: PEM (PKCS#1 or PKCS#8) or .NET
    /// RSAKeyValue XML
    #[arg(long, value_name = "FILE", env = "SO_PRIVATE_KEY_FILE")]
    pub private_key_file: Option<PathBuf>,

    /// The application's client secret for the system user; also the app token (prefer
    /// SO_CLIENT_SECRET or --client-secret-file)
    #[arg(long, value_name = "SECRET", env = "SO_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,

    /// Read the client secret from this file's first line
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,

    /// SuperOffice's login service (default: from the base URL's host, e.g.
    /// https://sod.superoffice.com/login)
    #[arg(long, value_name = "URL", env = "SO_LOGIN_URL")]
    pub login_url: Option<String>,

    /// The tenant sent to the login service (default: the base URL's first path segment)
    #[arg(long, value_name = "CUST", env = "SO_CONTEXT_IDENTIFIER")]
    pub context_identifier: Option<String>,

    /// Language code (Accept-Language and SO-Language), e.g. sv
    #[arg(long, value_name = "CODE", env = "SO_LANGUAGE")]
    pub language: Option<String>,

    /// Culture (SO-Culture), e.g. sv-SE
    #[arg(long, value_name = "CULTURE", env = "SO_CULTURE")]
    pub culture: Option<String>,

    /// Time zone (SO-TimeZone), e.g. UTC
    #[arg(long, value_name = "ZONE", env = "SO_TIMEZONE")]
    pub timezone: Option<String>,

    /// Most seconds one request may take, answer included (0: no limit)
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Most seconds to connect (0: no limit)
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub connect_timeout: Duration,

    /// Proxy URL, http://[user:password@]host:port; "" for none [default: HTTPS_PROXY,
    /// HTTP_PROXY, ALL_PROXY and NO_PROXY]
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Extra trusted certificate authorities (PEM file), beside the system's
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

/// A duration in (decimal) seconds; 0 means no limit.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.trim().parse().map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !secs.is_finite() || !(0.0..=4_000_000.0).contains(&secs) {
        return Err(format!("{text} is out of range (0 to 4000000 seconds)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A usage error: said once, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl From<String> for UsageError {
    fn from(message: String) -> UsageError {
        UsageError(message)
    }
}

impl From<&str> for UsageError {
    fn from(message: &str) -> UsageError {
        UsageError(message.into())
    }
}

/// A setting the core refused: its message, which never holds a secret.
impl From<superoffice::Error> for UsageError {
    fn from(e: superoffice::Error) -> UsageError {
        UsageError(e.message)
    }
}

/// One secret from its option or its file; both is a usage error.
fn secret(value: &Option<String>, file: &Option<PathBuf>, what: &str, option: &str) -> Result<Option<String>, UsageError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!(
            "the {what} is given twice: both --{option} (or its environment variable) and --{option}-file"
        )
        .into()),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, Some(path)) => read_secret_file(path, what).map(Some),
        (None, None) => Ok(None),
    }
}

/// The first line of a secret file, without its line end. The message never holds
/// the file's content.
fn read_secret_file(path: &Path, what: &str) -> Result<String, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} from {}: {e}", path.display()))?;
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()).into());
    }
    Ok(first.to_string())
}

fn path_text(path: &Path, what: &str) -> Result<String, UsageError> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the {what} path {} is not valid UTF-8", path.display()).into())
}

impl Connection {
    /// The client settings these options ask for. Every value is checked by the core;
    /// its messages never hold a secret.
    pub fn settings(&self, max_retries_in_core: u32) -> Result<Settings, UsageError> {
        let base = self
            .base_url
            .as_deref()
            .ok_or("no base URL: give --base-url or set SO_BASE_URL (e.g. https://sod.superoffice.com/Cust12345)")?;
        let mut b = Settings::builder(base)?;

        let ticket = secret(&self.ticket, &self.ticket_file, "ticket", "ticket")?;
        let bearer = secret(&self.bearer_token, &self.bearer_token_file, "bearer token", "bearer-token")?;
        let password = secret(&self.password, &self.password_file, "password", "password")?;
        let basic = match (&self.user, password) {
            (Some(user), Some(password)) => Some((user.clone(), password)),
            (Some(_), None) => return Err("--user (SO_USERNAME) needs a password: SO_PASSWORD or --password-file".into()),
            (None, Some(_)) => return Err("a password is given without --user (SO_USERNAME)".into()),
            (None, None) => None,
        };
        let system_user = secret(&self.system_user_token, &self.system_user_token_file, "system user token", "system-user-token")?;
        let schemes =
            [ticket.is_some(), bearer.is_some(), basic.is_some(), system_user.is_some()].iter().filter(|b| **b).count();
        if schemes > 1 {
            return Err("more than one way to authenticate is given (ticket, bearer token, user and \
                        password, from options or SO_* environment variables): give one"
                .into());
        }
        if let Some(token) = system_user {
            let key_path = self
                .private_key_file
                .as_ref()
                .ok_or("a system user token needs the partner's private key: --private-key-file (SO_PRIVATE_KEY_FILE)")?;
            let key = zeroize::Zeroizing::new(
                std::fs::read_to_string(key_path)
                    .map_err(|e| format!("cannot read the private key from {}: {e}", key_path.display()))?,
            );
            let client_secret = secret(&self.client_secret, &self.client_secret_file, "client secret", "client-secret")?
                .ok_or("a system user token needs the client secret: SO_CLIENT_SECRET or --client-secret-file")?;
            b.system_user(&token, &key, &client_secret)?
                .login_url(self.login_url.as_deref())?
                .context_identifier(self.context_identifier.as_deref())?;
        } else if let Some(t) = ticket {
            b.ticket(&t)?;
        } else if let Some(t) = bearer {
            b.bearer_token(&t)?;
        } else if let Some((user, password)) = basic {
            b.basic_auth(&user, &password)?;
        } else {
            return Err("no credentials: set SO_TICKET, SO_BEARER_TOKEN, SO_USERNAME and SO_PASSWORD, or \
                        SO_SYSTEM_USER_TOKEN with SO_PRIVATE_KEY_FILE and SO_CLIENT_SECRET (or --ticket-file, \
                        --bearer-token-file, --user with --password-file, --system-user-token-file)"
                .into());
        }

        let app_token = secret(&self.app_token, &self.app_token_file, "app token", "app-token")?;
        if app_token.is_some() || !b.has_login_scheme() {
            // A system user's client secret is its app token unless one is given.
            b.app_token(app_token.as_deref())?;
        }
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(u32::from(!d.is_zero()));
        b.language(self.language.as_deref())?
            .culture(self.culture.as_deref())?
            .timezone(self.timezone.as_deref())?
            .timeouts_ms(ms(self.connect_timeout), ms(self.timeout))
            .max_retries(max_retries_in_core)?;
        if let Some(path) = &self.ca_file {
            b.ca_file(Some(&path_text(path, "CA file")?))?;
        }
        if let Some(proxy) = &self.proxy {
            b.proxy(Some(proxy))?;
        }
        Ok(b.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("inf").is_err());
    }
}

/// The options of `superoffice check` (see check.rs).
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Print the result as JSON on standard output
    #[arg(long)]
    pub json: bool,

    /// The tenant state endpoint of the tenant step [default: the SuperOffice Online
    /// environment of the base URL's host, e.g. https://online.superoffice.com; none for
    /// other hosts]
    #[arg(long, value_name = "URL")]
    pub state_endpoint: Option<String>,

    #[command(flatten)]
    pub connection: Connection,
}
