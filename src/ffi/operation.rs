//! The asynchronous send: `so_operation`, its completion callback, and
//! `so_options_set_max_in_flight`.

use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, OnceLock};

use super::client::so_client;
use super::errors::c_string;
use super::options::{so_options, with_options};
use super::errors::{delivery_of, set_last_delivery};
use super::{guard_result, opt_str_arg, reader, so_delivery, so_result, try_mut, try_ref};
use crate::error::Error;
use crate::send::operation::{Job, Operation};
use crate::request::PasswordEmail;

/// One asynchronous send (opaque), made by `so_send_cc_password_email_async`.
///
/// It stays valid, and its readers (`so_operation_http_status`,
/// `so_operation_error_message`, `so_operation_error_type`) work, until
/// `so_operation_free`, which may be called from its callback or at any time after it,
/// before or after `so_client_free` (an operation outlives its client). Called before
/// the callback, `so_operation_free` cancels the operation; the callback still comes,
/// and the library frees the operation after it has returned.
pub struct so_operation {
    core: Operation,
    callback: unsafe extern "C" fn(*mut c_void, *mut so_operation, so_result),
    userdata: *mut c_void,
    message: OnceLock<CString>,
    error_type: OnceLock<CString>,
}

// SAFETY: the header requires the callback and its userdata to be usable from any thread.
unsafe impl Send for so_operation {}
// SAFETY: as above; the rest is the core's thread-safe state.
unsafe impl Sync for so_operation {}

/// Called exactly once per operation, on a thread of the library (never on the thread
/// that started it, never while a lock of the library is held), when the operation has
/// ended: sent and answered, failed, or cancelled. `code` is its result (`SO_OK`, any
/// failure of `so_send_cc_password_email`, or `SO_ERR_CANCELLED`). The operation stays
/// valid (its readers work) until `so_operation_free`, which the callback may call.
/// The callback may start new sends; it must not call `so_client_free` on its own client.
pub type so_completion_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, op: *mut so_operation, code: so_result)>;

impl Job for so_operation {
    fn operation(&self) -> &Operation {
        &self.core
    }

    fn completed(self: Arc<Self>) {
        let code = self.core.with_outcome(|outcome| match outcome {
            Some(Err(e)) => {
                let _ = self.message.set(c_string(&e.message));
                let _ = self.error_type.set(c_string(e.error_type.as_deref().unwrap_or("")));
                so_result::from(e.kind)
            }
            _ => so_result::SO_OK,
        });
        let op = Arc::as_ptr(&self).cast_mut();
        // SAFETY: the caller's callback with its userdata; `op` stays valid during the call
        // because `self` holds a reference until it returns.
        unsafe { (self.callback)(self.userdata, op, code) };
    }
}

/// Starts sending `POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail`
/// (the request of `so_send_cc_password_email`, with the same retries, timeouts, codes
/// and messages) on a thread of the library, and returns at once without waiting for the
/// network.
///
/// The arguments are checked at once, with the checks of the synchronous send (NULL `c`,
/// `callback` or `out_op`; `person_id` positive; strings UTF-8; NULL strings are sent as
/// JSON null): on a bad argument it returns the code, sets this thread's last error,
/// writes NULL to `*out_op` (when `out_op` is not NULL) and never calls `callback`.
/// Otherwise it returns `SO_OK`, writes the new operation to `*out_op` (before the
/// callback can run), and `callback(userdata, op, code)` follows later, exactly once,
/// whatever happens: success, failure, `so_operation_cancel`, `so_operation_free` before
/// the end, or `so_client_free`. The strings are copied; they need not outlive the call.
///
/// At most `max_in_flight` (see `so_options_set_max_in_flight`) sends of one client are
/// on the network at once; more wait in order (first in, first out). The library's
/// worker threads are started lazily, at most `max_in_flight` per client, plus one
/// thread per client that delivers the callbacks of operations cancelled before they
/// were sent. Each worker sends through a connection pool of its own (one keep-alive
/// connection per worker, made with the client's settings), so that cancelling one
/// request interrupts that request alone; the synchronous send and the batch use the
/// client's shared pool.
///
/// `callback` may be `so_completion_queue_push` with a `so_completion_queue` as
/// `userdata`: the operation then goes into that queue, for a thread of the caller to
/// take with `so_completion_queue_wait`.
///
/// Free the operation with `so_operation_free`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn so_send_cc_password_email_async(
    c: *const so_client,
    person_id: i32,
    from: *const c_char,
    to: *const c_char,
    subject: *const c_char,
    callback: so_completion_callback,
    userdata: *mut c_void,
    out_op: *mut *mut so_operation,
) -> so_result {
    guard_result(|| {
        // A refused start sends nothing (`SO_DELIVERY_NOT_SENT`); a started one leaves
        // `so_last_delivery` at `SO_DELIVERY_NONE`: its delivery is the operation's.
        start_async(c, person_id, [from, to, subject], callback, userdata, out_op).inspect_err(|e| set_last_delivery(e.delivery.code()))
    })
}

fn start_async(
    c: *const so_client,
    person_id: i32,
    [from, to, subject]: [*const c_char; 3],
    callback: so_completion_callback,
    userdata: *mut c_void,
    out_op: *mut *mut so_operation,
) -> Result<(), Error> {
    {
        let out = try_mut(out_op, "out_op")?;
        *out = std::ptr::null_mut();
        let client = try_ref(c, "client")?;
        let callback = callback.ok_or_else(|| Error::null("callback"))?;
        let body = PasswordEmail {
            person_id,
            from: opt_str_arg(from, "from")?,
            to: opt_str_arg(to, "to")?,
            subject: opt_str_arg(subject, "subject")?,
        }
        .json_body()?;
        let op = Arc::new(so_operation {
            core: client.sends.operation(body),
            callback,
            userdata,
            message: OnceLock::new(),
            error_type: OnceLock::new(),
        });
        // The caller's reference; the pool holds its own until the callback has returned.
        let handle = Arc::into_raw(Arc::clone(&op)).cast_mut();
        *out = handle;
        if let Err(e) = client.sends.submit(op) {
            *out = std::ptr::null_mut();
            // SAFETY: made by `Arc::into_raw` just above and not handed out.
            drop(unsafe { Arc::from_raw(handle) });
            return Err(e);
        }
        Ok(())
    }
}

/// Cancels an operation. One that has not started sending is never sent; one on the
/// network has its connection closed (ureq's `Agent::shutdown()` on the agent of the
/// worker sending it, which serves that request alone) and ends promptly. Either way its
/// callback comes with `SO_ERR_CANCELLED`, and the message of one that was on the
/// network says that the server may already have received the request. A connect or
/// name lookup in progress is not interrupted (ureq can interrupt a connection only once
/// it is made): the callback then comes when it ends, at most the connect timeout later
/// for a connect, the total timeout for a name lookup. Cancelling an operation that has ended (its outcome
/// stays as it was), or cancelling twice, is a no-op that returns `SO_OK`. NULL gives
/// `SO_ERR_NULL_ARGUMENT`.
#[no_mangle]
pub extern "C" fn so_operation_cancel(op: *mut so_operation) -> so_result {
    guard_result(|| {
        try_ref(op.cast_const(), "op")?.core.cancel();
        Ok(())
    })
}

/// The HTTP status the server answered for an ended operation; 0 while it runs, when
/// there was no HTTP answer (a connection failure, a timeout, a cancellation), or for
/// NULL. Does not touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_operation_http_status(op: *const so_operation) -> i32 {
    reader(0, || {
        let Ok(op) = try_ref(op, "op") else { return 0 };
        op.core.with_outcome(|outcome| match outcome {
            Some(Ok(sent)) => i32::from(sent.http_status),
            Some(Err(e)) => i32::from(e.http_status),
            None => 0,
        })
    })
}

/// Whether the server may have the request of an ended operation:
/// `SO_DELIVERY_ANSWERED` after `SO_OK` or an HTTP status; `SO_DELIVERY_NOT_SENT` when it
/// provably never had it (among others, an operation cancelled before any byte of it was
/// written: cancelled while queued, or freed with its client before it started);
/// `SO_DELIVERY_UNKNOWN` when it may have been processed (among others, an operation
/// cancelled while on the network). `SO_DELIVERY_NONE` while it runs, or for NULL. Set
/// before the callback is called. Does not touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_operation_delivery(op: *const so_operation) -> so_delivery {
    reader(so_delivery::SO_DELIVERY_NONE, || {
        let Ok(op) = try_ref(op, "op") else { return so_delivery::SO_DELIVERY_NONE };
        op.core.with_outcome(|outcome| match outcome {
            Some(outcome) => delivery_of(outcome.as_ref()),
            None => so_delivery::SO_DELIVERY_NONE,
        })
    })
}

fn text_of(op: *const so_operation, pick: impl FnOnce(&so_operation) -> Option<&CString>) -> *const c_char {
    try_ref(op, "op").ok().and_then(pick).map_or(c"".as_ptr(), |s: &CString| s.as_ptr())
}

/// The message of a failed operation (what failed, for which URL, what the server said;
/// at most 4 KiB, never a secret); "" on success, while it runs, or for NULL. Set before
/// the callback is called; valid until `so_operation_free`. Never free it. Does not
/// touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_operation_error_message(op: *const so_operation) -> *const c_char {
    reader(c"".as_ptr(), || text_of(op, |o| o.message.get()))
}

/// The server's `ErrorType` for a failed operation (e.g. "SoNotFoundException"); "" when
/// there is none, while it runs, or for NULL. Valid until `so_operation_free`. Never
/// free it. Does not touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_operation_error_type(op: *const so_operation) -> *const c_char {
    reader(c"".as_ptr(), || text_of(op, |o| o.error_type.get()))
}

/// Releases the caller's hold on an operation. NULL is a no-op. May be called from the
/// operation's callback, or at any time after it, before or after `so_client_free`.
/// Called before the callback, it cancels the operation (as `so_operation_cancel`); the
/// callback still comes, and the library frees the operation after it has returned.
/// `op` must not be used afterwards (except as the callback's argument, which stays valid
/// during that call). Does not touch this thread's last error.
#[no_mangle]
pub extern "C" fn so_operation_free(op: *mut so_operation) {
    reader((), || {
        if op.is_null() {
            return;
        }
        // SAFETY: made by `Arc::into_raw` in `so_send_cc_password_email_async`; the
        // caller gives back its reference once.
        let op = unsafe { Arc::from_raw(op.cast_const()) };
        op.core.cancel();
        drop(op);
    })
}

/// Sets how many asynchronous sends (`so_send_cc_password_email_async`) of one client
/// may be on the network at once: 1 to 1024, default 16. It also bounds that client's
/// worker threads. It does not bound the synchronous send or the batch (whose
/// `max_concurrency` is its own). Out of range gives `SO_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn so_options_set_max_in_flight(o: *mut so_options, n: u32) -> so_result {
    with_options(o, |b| b.max_in_flight(n))
}
