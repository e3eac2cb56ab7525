//! Batch sending over one client.

use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;

use super::client::so_client;
use super::errors::c_string;
use super::{guard_result, opt_str_arg, so_result, try_ref};
use crate::batch;
use crate::error::{Error, ErrorKind};
use crate::request::PasswordEmail;

/// One e-mail of a batch. The strings may be NULL (sent as JSON null) and must stay
/// valid for the duration of the call.
#[repr(C)]
pub struct so_batch_item {
    /// The person; must be positive.
    pub person_id: i32,
    /// Sender's address, or NULL.
    pub from: *const c_char,
    /// Recipient's address, or NULL.
    pub to: *const c_char,
    /// Subject, or NULL.
    pub subject: *const c_char,
}

/// The outcome of one item. `message` and `error_type` are owned by the library: free
/// them with `so_batch_results_clear`, never with `free()`.
#[repr(C)]
pub struct so_batch_result {
    /// `SO_OK` or the item's failure.
    pub code: so_result,
    /// The HTTP status answered, 0 when there was no HTTP answer.
    pub http_status: i32,
    /// What failed, as `so_last_error_message()` would say; NULL on success.
    pub message: *mut c_char,
    /// The server's `ErrorType`; NULL when it sent none.
    pub error_type: *mut c_char,
}

/// Told how far a batch has come: `done` of `total` items have their result. Called on
/// the thread that called the batch function, after each item.
pub type so_progress_callback = Option<unsafe extern "C" fn(userdata: *mut c_void, done: usize, total: usize)>;

/// Sends many e-mails concurrently over the client's connection pool, at most
/// `max_concurrency` (1 to 64) at a time, each with the rules of
/// `so_send_cc_password_email` (a rate-limited batch waits and goes on). Writes exactly
/// one result per item into `results` (an array of `count`, whose previous content is
/// overwritten, not freed); call `so_batch_results_clear(results, count)` afterwards.
/// An item with a bad argument (person id not positive, a string not UTF-8) gets its own
/// `SO_ERR_INVALID_ARGUMENT` result and is not sent.
///
/// Returns `SO_OK` when every item succeeded; otherwise the code of the first failed
/// item by index, with a summary in the last error. NULL `c`, `items` or `results`
/// (with `count` > 0) or `max_concurrency` 0 fail at once and send nothing.
#[no_mangle]
pub extern "C" fn so_send_cc_password_emails(
    c: *const so_client,
    items: *const so_batch_item,
    count: usize,
    max_concurrency: u32,
    results: *mut so_batch_result,
) -> so_result {
    so_send_cc_password_emails_with_progress(c, items, count, max_concurrency, None, std::ptr::null_mut(), results)
}

/// `so_send_cc_password_emails` with a progress callback (NULL for none) called with
/// `userdata` after each item.
#[no_mangle]
pub extern "C" fn so_send_cc_password_emails_with_progress(
    c: *const so_client,
    items: *const so_batch_item,
    count: usize,
    max_concurrency: u32,
    progress: so_progress_callback,
    userdata: *mut c_void,
    results: *mut so_batch_result,
) -> so_result {
    guard_result(|| {
        let client = try_ref(c, "client")?;
        if count == 0 {
            return Ok(());
        }
        if items.is_null() {
            return Err(Error::null("items"));
        }
        if results.is_null() {
            return Err(Error::null("results"));
        }
        if max_concurrency == 0 || max_concurrency as usize > batch::MAX_CONCURRENCY {
            return Err(Error::invalid(format!(
                "max_concurrency {max_concurrency} is out of range (1 to {})",
                batch::MAX_CONCURRENCY
            )));
        }
        // SAFETY: the caller passes `count` items and room for `count` results.
        let items = unsafe { std::slice::from_raw_parts(items, count) };
        let results = unsafe { std::slice::from_raw_parts_mut(results.cast::<MaybeUninit<so_batch_result>>(), count) };
        let mut codes = vec![so_result::SO_OK; count];

        let mut emails = Vec::with_capacity(count);
        let mut to_send = Vec::with_capacity(count);
        for (i, item) in items.iter().enumerate() {
            let converted = (|| {
                let email = PasswordEmail {
                    person_id: item.person_id,
                    from: opt_str_arg(item.from, "from")?,
                    to: opt_str_arg(item.to, "to")?,
                    subject: opt_str_arg(item.subject, "subject")?,
                };
                email.json_body()?;
                Ok::<_, Error>(email)
            })();
            match converted {
                Ok(email) => {
                    emails.push(email);
                    to_send.push(i);
                }
                Err(e) => codes[i] = write_result(&mut results[i], Err(e)),
            }
        }
        let mut done = count - to_send.len();
        if done > 0 {
            report(progress, userdata, done, count);
        }
        batch::send_many(&client.inner, &emails, max_concurrency as usize, |j, outcome, _| {
            let i = to_send[j];
            codes[i] = write_result(&mut results[i], outcome.map(|_| ()));
            done += 1;
            report(progress, userdata, done, count);
        });

        let failed: Vec<usize> = (0..count).filter(|&i| codes[i] != so_result::SO_OK).collect();
        match failed.first() {
            None => Ok(()),
            Some(&first) => {
                // SAFETY: every slot was written above.
                let r = unsafe { results[first].assume_init_ref() };
                let mut e = Error::new(
                    kind_of(r.code),
                    format!(
                        "{} of {} e-mails failed; the first, item {}: {}",
                        failed.len(),
                        count,
                        first,
                        cstr_or_empty(r.message)
                    ),
                );
                e.http_status = u16::try_from(r.http_status).unwrap_or(0);
                Err(e)
            }
        }
    })
}

fn report(progress: so_progress_callback, userdata: *mut c_void, done: usize, total: usize) {
    if let Some(cb) = progress {
        // SAFETY: the caller's callback, called on the caller's thread.
        unsafe { cb(userdata, done, total) }
    }
}

fn write_result(slot: &mut MaybeUninit<so_batch_result>, outcome: Result<(), Error>) -> so_result {
    let result = match outcome {
        Ok(()) => so_batch_result {
            code: so_result::SO_OK,
            http_status: 204,
            message: std::ptr::null_mut(),
            error_type: std::ptr::null_mut(),
        },
        Err(e) => so_batch_result {
            code: so_result::from(e.kind),
            http_status: i32::from(e.http_status),
            message: c_string(&e.message).into_raw(),
            error_type: e.error_type.as_deref().map_or(std::ptr::null_mut(), |t| c_string(t).into_raw()),
        },
    };
    slot.write(result).code
}

fn cstr_or_empty(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: written by `write_result` from a CString.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn kind_of(code: so_result) -> ErrorKind {
    use so_result::*;
    match code {
        SO_ERR_NULL_ARGUMENT => ErrorKind::NullArgument,
        SO_ERR_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
        SO_ERR_BUFFER_TOO_SMALL => ErrorKind::BufferTooSmall,
        SO_ERR_CONNECT => ErrorKind::Connect,
        SO_ERR_TLS => ErrorKind::Tls,
        SO_ERR_TIMEOUT => ErrorKind::Timeout,
        SO_ERR_IO => ErrorKind::Io,
        SO_ERR_BAD_REQUEST => ErrorKind::BadRequest,
        SO_ERR_UNAUTHORIZED => ErrorKind::Unauthorized,
        SO_ERR_FORBIDDEN => ErrorKind::Forbidden,
        SO_ERR_NOT_FOUND => ErrorKind::NotFound,
        SO_ERR_RATE_LIMITED => ErrorKind::RateLimited,
        SO_ERR_SERVER => ErrorKind::Server,
        SO_ERR_TENANT_UNAVAILABLE => ErrorKind::TenantUnavailable,
        SO_ERR_PANIC => ErrorKind::Panic,
        SO_OK | SO_ERR_HTTP_STATUS => ErrorKind::HttpStatus,
    }
}

/// Frees the strings of `count` results written by a batch function and sets them to
/// NULL (the array itself stays the caller's). Safe to call twice. NULL is a no-op.
#[no_mangle]
pub extern "C" fn so_batch_results_clear(results: *mut so_batch_result, count: usize) {
    if results.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes the array a batch function wrote.
        let results = unsafe { std::slice::from_raw_parts_mut(results, count) };
        for r in results {
            for p in [&mut r.message, &mut r.error_type] {
                if !p.is_null() {
                    // SAFETY: made by `CString::into_raw` in `write_result`, not freed yet.
                    drop(unsafe { CString::from_raw(*p) });
                    *p = std::ptr::null_mut();
                }
            }
        }
    });
}
