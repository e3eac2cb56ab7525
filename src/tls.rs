//! Which certificate authorities a client trusts.
//!
//! The default is the operating system's trust store (what onsite installations with an
//! internal CA expect), read once per process; when the system has none, Mozilla's roots
//! bundled in the library. `so_options_set_ca_file` adds a PEM bundle to these.

use std::sync::Arc;

use once_cell::sync::Lazy;
use ureq::tls::{Certificate, PemItem, RootCerts};

use crate::error::Error;

/// Where the default roots came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootSource {
    /// The operating system's trust store.
    System,
    /// Mozilla's roots compiled into the library.
    Bundled,
}

static DEFAULT_ROOTS: Lazy<(RootSource, Arc<Vec<Certificate<'static>>>)> = Lazy::new(|| {
    let system: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if system.is_empty() {
        let bundled = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned())
            .collect();
        (RootSource::Bundled, Arc::new(bundled))
    } else {
        (RootSource::System, Arc::new(system))
    }
});

/// Where the default roots of this process come from, and how many there are.
pub fn default_roots_info() -> (RootSource, usize) {
    (DEFAULT_ROOTS.0, DEFAULT_ROOTS.1.len())
}

/// Reads the certificates of a PEM file; an error when it has none.
pub fn load_pem_file(path: &str) -> Result<Vec<Certificate<'static>>, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("cannot read CA file '{path}': {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(_) => return Err(Error::invalid(format!("CA file '{path}' is not valid PEM"))),
        }
    }
    if certs.is_empty() {
        return Err(Error::invalid(format!("CA file '{path}' holds no certificate")));
    }
    Ok(certs)
}

/// The roots for a client: the defaults, plus the CA file's when one is set.
pub fn root_certs(ca_file: Option<&str>) -> Result<RootCerts, Error> {
    let defaults = &DEFAULT_ROOTS.1;
    match ca_file {
        None => Ok(RootCerts::Specific(Arc::clone(defaults))),
        Some(path) => {
            let mut all: Vec<Certificate<'static>> = defaults.as_ref().clone();
            all.extend(load_pem_file(path)?);
            Ok(RootCerts::Specific(Arc::new(all)))
        }
    }
}
