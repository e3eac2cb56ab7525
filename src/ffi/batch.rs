//! Batch sending over one client.

use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;

use super::client::so_client;
use super::errors::c_string;
use super::{guard_result, opt_str_arg, reader, so_delivery, so_result, try_ref};
use crate::send::batch;
use crate::error::Error;
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
///
/// Every batch function first initialises every slot (right after checking its pointer
/// arguments): code `SO_ERR_PANIC`, HTTP status 0, both strings NULL. So
/// `so_batch_results_clear(results, count)` is always safe after a batch call, whatever
/// it returned. A refused batch writes its own code into every slot; a slot the batch
/// did not reach (only after a caught panic) keeps `SO_ERR_PANIC`.
#[repr(C)]
pub struct so_batch_result {
    /// `SO_OK` or the item's failure: an `so_result` value, as a fixed-width integer.
    pub code: i32,
    /// The HTTP status answered, 0 when there was no HTTP answer.
    pub http_status: i32,
    /// What failed, as `so_last_error_message()` would say; NULL on success.
    pub message: *mut c_char,
    /// The server's `ErrorType`; NULL when it sent none.
    pub error_type: *mut c_char,
}

/// Told how far a batch has come: `done` of `total` items have their result. Called on
/// the thread that called the batch function (never on another), after each item.
pub type so_progress_callback = Option<unsafe extern "C" fn(userdata: *mut c_void, done: usize, total: usize)>;

/// Sends many e-mails concurrently over the client's connection pool, at most
/// `max_concurrency` (1 to 64) at a time, each with the rules of
/// `so_send_cc_password_email` (a rate-limited batch waits and goes on). Writes exactly
/// one result per item into `results` (an array of `count`, whose previous content is
/// overwritten, not freed); call `so_batch_results_clear(results, count)` afterwards,
/// which is safe whatever this returned. An item with a bad argument (person id not
/// positive, a string not UTF-8) gets its own `SO_ERR_INVALID_ARGUMENT` result and is
/// not sent. `progress` (NULL for none) is called with `userdata` after each item, on
/// the calling thread.
///
/// Returns `SO_OK` when the batch ran: every item has its result, and `*failed` (when
/// `failed` is not NULL) is the number of items whose code is not `SO_OK`. Any other
/// code means the batch was refused and nothing was sent: NULL `c`, `items` or
/// `results` with `count` > 0 (`SO_ERR_NULL_ARGUMENT`), `max_concurrency` out of range
/// (`SO_ERR_INVALID_ARGUMENT`), or a caught panic; every slot then holds that code.
#[no_mangle]
pub extern "C" fn so_send_cc_password_email_batch(
    c: *const so_client,
    items: *const so_batch_item,
    count: usize,
    max_concurrency: u32,
    progress: so_progress_callback,
    userdata: *mut c_void,
    results: *mut so_batch_result,
    failed: *mut usize,
) -> so_result {
    guard_result(|| {
        let failures = run_batch(c, items, count, max_concurrency, progress, userdata, results, std::ptr::null_mut())?;
        write_failed(failed, &failures);
        Ok(())
    })
}

fn write_failed(failed: *mut usize, failures: &batch::Failures) {
    if !failed.is_null() {
        // SAFETY: a non-NULL `failed` points to a writable size_t.
        unsafe { failed.write(failures.count()) };
    }
}

/// `so_send_cc_password_email_batch`, also writing each item's delivery (an
/// `so_delivery` value, see `so_last_delivery`) into `deliveries[i]` when `deliveries` is
/// not NULL (an array of `count` `int32_t`): `SO_DELIVERY_ANSWERED` for an item that
/// succeeded or got an HTTP status, `SO_DELIVERY_NOT_SENT` for one the server provably
/// never had (a bad argument, no connection, ...), `SO_DELIVERY_UNKNOWN` for one it may
/// have processed. Every slot is first set to `SO_DELIVERY_UNKNOWN` (with the result
/// slots); a refused batch sets every slot to `SO_DELIVERY_NOT_SENT`.
///
/// A function of its own, because `so_batch_result` keeps its layout: programs compiled
/// against an older header allocate arrays of it, so it cannot grow a field.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn so_send_cc_password_email_batch_with_deliveries(
    c: *const so_client,
    items: *const so_batch_item,
    count: usize,
    max_concurrency: u32,
    progress: so_progress_callback,
    userdata: *mut c_void,
    results: *mut so_batch_result,
    deliveries: *mut i32,
    failed: *mut usize,
) -> so_result {
    guard_result(|| {
        let failures = run_batch(c, items, count, max_concurrency, progress, userdata, results, deliveries)?;
        write_failed(failed, &failures);
        Ok(())
    })
}

/// The first batch function, kept with its first contract: like
/// `so_send_cc_password_email_batch` without a progress callback, except that it returns
/// `SO_OK` only when every item succeeded, and otherwise the code of the first failed
/// item by index, with a summary in the last error. That code alone cannot tell a
/// refused batch from failed items (both may be `SO_ERR_INVALID_ARGUMENT`); the slots
/// can (a refused batch writes its code into every slot, with NULL messages). Prefer
/// `so_send_cc_password_email_batch`.
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
/// `userdata` after each item, on the calling thread. Same return values as
/// `so_send_cc_password_emails`; prefer `so_send_cc_password_email_batch`.
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
        run_batch(c, items, count, max_concurrency, progress, userdata, results, std::ptr::null_mut())?.into_result(count)
    })
}

/// The batch itself: checks the pointers, initialises every slot, checks the rest,
/// sends. `Err` is a refused batch (its code is then in every slot). `deliveries` may be
/// NULL.
#[allow(clippy::too_many_arguments)]
fn run_batch(
    c: *const so_client,
    items: *const so_batch_item,
    count: usize,
    max_concurrency: u32,
    progress: so_progress_callback,
    userdata: *mut c_void,
    results: *mut so_batch_result,
    deliveries: *mut i32,
) -> Result<batch::Failures, Error> {
    let deliveries: &mut [i32] = if count == 0 || deliveries.is_null() {
        &mut []
    } else {
        // SAFETY: the caller passes room for `count` deliveries when it passes any.
        unsafe { std::slice::from_raw_parts_mut(deliveries, count) }
    };
    deliveries.fill(so_delivery::SO_DELIVERY_UNKNOWN as i32);
    let mut set_delivery = |i: usize, d: so_delivery| {
        if let Some(slot) = deliveries.get_mut(i) {
            *slot = d as i32;
        }
    };
    if count > 0 && results.is_null() {
        (0..count).for_each(|i| set_delivery(i, so_delivery::SO_DELIVERY_NOT_SENT));
        return Err(Error::null("results"));
    }
    let results: &mut [MaybeUninit<so_batch_result>] = if count == 0 {
        &mut []
    } else {
        // SAFETY: the caller passes room for `count` results.
        unsafe { std::slice::from_raw_parts_mut(results.cast::<MaybeUninit<so_batch_result>>(), count) }
    };
    for slot in results.iter_mut() {
        slot.write(so_batch_result {
            code: so_result::SO_ERR_PANIC as i32,
            http_status: 0,
            message: std::ptr::null_mut(),
            error_type: std::ptr::null_mut(),
        });
    }
    // From here on every slot is initialised.
    let mut refuse = |results: &mut [MaybeUninit<so_batch_result>], e: Error| {
        for (i, slot) in results.iter_mut().enumerate() {
            // SAFETY: initialised above.
            unsafe { slot.assume_init_mut() }.code = so_result::from(e.kind) as i32;
            set_delivery(i, so_delivery::SO_DELIVERY_NOT_SENT);
        }
        Err(e)
    };
    let client = match try_ref(c, "client") {
        Ok(client) => client,
        Err(e) => return refuse(results, e),
    };
    if count == 0 {
        return Ok(batch::Failures::default());
    }
    if items.is_null() {
        return refuse(results, Error::null("items"));
    }
    let concurrency = match batch::check_concurrency(u64::from(max_concurrency)) {
        Ok(n) => n,
        Err(e) => return refuse(results, e),
    };
    drop(refuse);
    // SAFETY: the caller passes `count` items.
    let items = unsafe { std::slice::from_raw_parts(items, count) };
    let mut failures = batch::Failures::default();

    let mut emails = Vec::with_capacity(count);
    let mut to_send = Vec::with_capacity(count);
    for (i, item) in items.iter().enumerate() {
        let converted = (|| {
            Ok::<_, Error>(PasswordEmail {
                person_id: item.person_id,
                from: opt_str_arg(item.from, "from")?,
                to: opt_str_arg(item.to, "to")?,
                subject: opt_str_arg(item.subject, "subject")?,
            })
        })();
        match converted {
            Ok(email) => {
                emails.push(email);
                to_send.push(i);
            }
            Err(e) => {
                write_result(&mut results[i], Err(&e));
                set_delivery(i, e.delivery.code());
                failures.record(i, e);
            }
        }
    }
    let mut done = count - to_send.len();
    if done > 0 {
        report(progress, userdata, done, count);
    }
    batch::send_many(&client.inner, &emails, concurrency, |j, outcome, _| {
        let i = to_send[j];
        write_result(&mut results[i], outcome.as_ref().map(|sent| sent.http_status));
        set_delivery(i, super::errors::delivery_of(outcome.as_ref()));
        if let Err(e) = outcome {
            failures.record(i, e);
        }
        done += 1;
        report(progress, userdata, done, count);
    });
    Ok(failures)
}

fn report(progress: so_progress_callback, userdata: *mut c_void, done: usize, total: usize) {
    if let Some(cb) = progress {
        // SAFETY: the caller's callback, called on the caller's thread.
        unsafe { cb(userdata, done, total) }
    }
}

/// Writes an item's result into its (initialised) slot.
fn write_result(slot: &mut MaybeUninit<so_batch_result>, outcome: Result<u16, &Error>) {
    let result = match outcome {
        Ok(status) => so_batch_result {
            code: so_result::SO_OK as i32,
            http_status: i32::from(status),
            message: std::ptr::null_mut(),
            error_type: std::ptr::null_mut(),
        },
        Err(e) => so_batch_result {
            code: so_result::from(e.kind) as i32,
            http_status: i32::from(e.http_status),
            message: c_string(&e.message).into_raw(),
            error_type: e.error_type.as_deref().map_or(std::ptr::null_mut(), |t| c_string(t).into_raw()),
        },
    };
    // SAFETY: every slot was initialised by `run_batch` (with NULL strings).
    *unsafe { slot.assume_init_mut() } = result;
}

/// Frees the strings of `count` results written by a batch function and sets them to
/// NULL (the array itself stays the caller's). Safe to call twice. NULL is a no-op.
#[no_mangle]
pub extern "C" fn so_batch_results_clear(results: *mut so_batch_result, count: usize) {
    reader((), || {
        if results.is_null() {
            return;
        }
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
