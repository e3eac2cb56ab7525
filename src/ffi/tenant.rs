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
/// Whenever the lookup found the URL, `*needed` is set to the bytes it needs, its NUL
/// included: on `SO_OK`, and on `SO_ERR_BUFFER_TOO_SMALL` when it does not fit (then
/// nothing is written to `url_out`; call again with a buffer of `*needed` bytes; the URL
/// may have changed in between, so check the code again). `url_out` may be NULL when
/// `url_out_len` is 0, to ask for the size alone. `needed` must not be NULL.
///
/// `SO_ERR_TENANT_UNAVAILABLE` when the tenant is in maintenance, suspended or otherwise
/// not running; other codes as for a send. Uses the default timeouts.
#[no_mangle]
pub extern "C" fn so_lookup_tenant_api_url_sized(
    state_endpoint: *const c_char,
    customer_id: *const c_char,
    url_out: *mut c_char,
    url_out_len: usize,
    needed: *mut usize,
) -> so_result {
    guard_result(|| {
        if needed.is_null() {
            return Err(Error::null("needed"));
        }
        lookup_into(state_endpoint, customer_id, url_out, url_out_len, |n| {
            // SAFETY: checked non-NULL above; the caller passes a writable size_t.
            unsafe { needed.write(n) }
        })
    })
}

/// The first tenant lookup, kept with its first contract: `so_lookup_tenant_api_url_sized`
/// without `needed`; `url_out` must not be NULL, and on `SO_ERR_BUFFER_TOO_SMALL` only
/// the message says the size needed. Prefer `so_lookup_tenant_api_url_sized`.
#[no_mangle]
pub extern "C" fn so_lookup_tenant_api_url(
    state_endpoint: *const c_char,
    customer_id: *const c_char,
    url_out: *mut c_char,
    url_out_len: usize,
) -> so_result {
    guard_result(|| {
        if url_out.is_null() {
            return Err(Error::null("url_out"));
        }
        lookup_into(state_endpoint, customer_id, url_out, url_out_len, |_| {})
    })
}

/// Looks the tenant up; reports the size needed; copies the URL when it fits.
fn lookup_into(
    state_endpoint: *const c_char,
    customer_id: *const c_char,
    url_out: *mut c_char,
    url_out_len: usize,
    report_needed: impl FnOnce(usize),
) -> Result<(), Error> {
    let endpoint = opt_str_arg(state_endpoint, "state_endpoint")?;
    let customer = str_arg(customer_id, "customer_id")?;
    if url_out.is_null() && url_out_len > 0 {
        return Err(Error::null("url_out"));
    }
    let url = tenant::lookup_api_url(endpoint, customer)?;
    let needed = url.len() + 1;
    report_needed(needed);
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
}
