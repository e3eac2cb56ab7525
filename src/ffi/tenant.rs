//! Online tenant lookup.

use std::ffi::c_char;

use super::{guard_result, opt_str_arg, so_result, str_arg};
use crate::error::{Error, ErrorKind};
use crate::tenant;

/// Finds where an online tenant lives: calls `GET {state_endpoint}/api/state/{customer_id}`
/// (`state_endpoint` NULL means "https://sod.superoffice.com"; use
/// "https://online.superoffice.com" or the stage host for other environments) and, when
/// the tenant is running (`Running` or `OnlineMaintenance`), writes its current API URL,
/// NUL-terminated, into `url_out` (`url_out_len` bytes), ready for `so_options_new`.
///
/// `SO_ERR_TENANT_UNAVAILABLE` when the tenant is in maintenance, suspended or otherwise
/// not running; `SO_ERR_BUFFER_TOO_SMALL` (message says the size needed) when the URL
/// does not fit; other codes as for a send. Uses the default timeouts.
#[no_mangle]
pub extern "C" fn so_lookup_tenant_api_url(
    state_endpoint: *const c_char,
    customer_id: *const c_char,
    url_out: *mut c_char,
    url_out_len: usize,
) -> so_result {
    guard_result(|| {
        let endpoint = opt_str_arg(state_endpoint, "state_endpoint")?;
        let customer = str_arg(customer_id, "customer_id")?;
        if url_out.is_null() {
            return Err(Error::null("url_out"));
        }
        let url = tenant::lookup_api_url(endpoint, customer)?;
        let needed = url.len() + 1;
        if url_out_len < needed {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("the API URL needs a buffer of {needed} bytes, url_out_len is {url_out_len}"),
            ));
        }
        // SAFETY: the caller passes `url_out_len` writable bytes; `needed` fits in them.
        unsafe {
            std::ptr::copy_nonoverlapping(url.as_ptr(), url_out.cast::<u8>(), url.len());
            *url_out.add(url.len()) = 0;
        }
        Ok(())
    })
}
