//! Online tenant lookup: `GET {state endpoint}/api/state/{CustId}`.

use std::io::Read;

use crate::error::{Error, ErrorKind};
use crate::settings::{BaseUrl, Settings};

/// SuperOffice Online's production state endpoint.
pub const DEFAULT_STATE_ENDPOINT: &str = "https://sod.superoffice.com";

/// The states in which a tenant serves requests.
const RUNNING_STATES: [&str; 2] = ["Running", "OnlineMaintenance"];

/// Asks the state endpoint where a customer's tenant lives; its current API URL when running.
pub fn lookup_api_url(state_endpoint: Option<&str>, customer_id: &str) -> Result<String, Error> {
    if customer_id.is_empty() || !customer_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::invalid(format!(
            "customer id '{}' is not valid (expected e.g. Cust12345)",
            customer_id.chars().take(64).collect::<String>()
        )));
    }
    let base = BaseUrl::parse(state_endpoint.unwrap_or(DEFAULT_STATE_ENDPOINT))?;
    let url = format!("{}://{}/api/state/{}", base.scheme, base.authority, customer_id);
    let settings = Settings::new(&base.root())?;
    let client_agent = crate::http::ClientAgent::new(&settings, 1)?;
    let agent = client_agent.get();
    let response = agent
        .get(&url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| {
            let mut err = crate::http::classify(&e, &url, &settings);
            err.message = settings.secrets().hide(&err.message.replacen("POST ", "GET ", 1));
            err
        })?;
    let status = response.status();
    let mut body = Vec::new();
    let _ = response.into_body().as_reader().take(64 * 1024).read_to_end(&mut body);
    if !status.is_success() {
        let mut e = Error::new(
            ErrorKind::from_status(status.as_u16()),
            format!("GET {url}: {} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        );
        e.http_status = status.as_u16();
        return Err(e);
    }
    let doc: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| Error::new(ErrorKind::Io, format!("GET {url}: the answer is not JSON")))?;
    let state = doc.get("State").and_then(|v| v.as_str()).unwrap_or("");
    let running = doc.get("IsRunning").and_then(|v| v.as_bool()).unwrap_or(false);
    if !running || !RUNNING_STATES.contains(&state) {
        let mut e = Error::new(
            ErrorKind::TenantUnavailable,
            format!(
                "tenant {customer_id} is not running (State: {}, IsRunning: {running})",
                if state.is_empty() { "unknown" } else { state }
            ),
        );
        e.http_status = status.as_u16();
        return Err(e);
    }
    let api = doc.get("Api").and_then(|v| v.as_str()).unwrap_or("");
    BaseUrl::parse(api).map_err(|_| {
        Error::new(ErrorKind::Io, format!("GET {url}: the answer has no valid Api URL"))
    })?;
    Ok(api.to_string())
}
