#![deny(unsafe_code)]
//! superoffice-ffi: a native client for the SuperOffice CRM WebAPI with a C ABI.
//!
//! The safe core (settings, request building, sending, error mapping) knows nothing of C;
//! [`ffi`] is the thin shell that checks and converts what C callers pass, calls the core
//! once, and maps its errors to `so_result` codes and the thread's last error.
//!
//! Every [`Error`] says whether the e-mail may have gone out: its [`Delivery`]
//! (`NotSent`, `Unknown`, `Answered`), decided for the network in [`http::classify`]; the
//! table of failures and their delivery is on [`Delivery`].

pub mod client;
pub mod credentials;
pub mod error;
pub mod error_body;
pub mod ffi;
pub mod http;
pub mod log;
pub mod process;
pub mod request;
pub mod redact;
pub mod retry;
pub mod secret;
pub mod send;
pub mod settings;
pub mod tenant;
pub mod tls;
pub mod url;

pub use client::{Client, Sent};
pub use error::{Delivery, Error, ErrorKind};
pub use request::PasswordEmail;
pub use settings::{Settings, SettingsBuilder};

/// The library's version, as `so_version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
