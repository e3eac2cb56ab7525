//! `so_client`: sends requests; shared between threads.

use std::ffi::c_char;
use std::sync::Arc;

use super::options::so_options;
use super::errors::{delivery_of, set_last_delivery};
use super::{free_box, guard, guard_new, guard_result, opt_str_arg, so_delivery, so_result, try_ref};
use crate::client::Client;
use crate::request::PasswordEmail;
use crate::send::workers::Pool;

/// Opaque client: immutable after creation and safe to share between threads. Many
/// threads may send through one client at once, over one pool of keep-alive
/// connections. Free it with `so_client_free` once no thread uses it.
pub struct so_client {
    pub(crate) inner: Arc<Client>,
    /// The workers of the asynchronous send (no thread until the first one).
    pub(crate) sends: Pool,
}

/// Creates a client from settings. `o` stays the caller's (free it when convenient;
/// the client keeps its own copy). Returns NULL on error (NULL `o`, an unreadable CA
/// file, a setting that cannot form a request) with the thread's last error set.
#[no_mangle]
pub extern "C" fn so_client_new(o: *const so_options) -> *mut so_client {
    guard_new(|| {
        let settings = try_ref(o, "options")?.builder.build();
        super::fork::watch();
        let inner = Arc::new(Client::new(&settings)?);
        let sends = Pool::new(Arc::clone(&inner));
        Ok(so_client { inner, sends })
    })
}

/// Sends `POST {base}/api/v1/Agents/Person/SendCustomerCentrePasswordEmail` with the body
/// `{"PersonId":person_id,"From":from,"To":to,"Subject":subject}`; NULL strings are sent
/// as JSON null. `person_id` must be positive. Returns `SO_OK` when the server answered
/// 2xx; otherwise the code, with the message, HTTP status and the server's `ErrorType`
/// in this thread's last error. Requests the server provably did not process are
/// retried (see `so_options_set_max_retries`); no other request is ever sent twice.
/// Redirects are not followed. Blocks for at most the total timeout.
///
/// `so_last_delivery()` then says whether the server may have the request:
/// `SO_DELIVERY_ANSWERED` after `SO_OK` or an HTTP status, `SO_DELIVERY_NOT_SENT` or
/// `SO_DELIVERY_UNKNOWN` after the other failures (the message ends with "it was not
/// sent" or "it may have been processed").
#[no_mangle]
pub extern "C" fn so_send_cc_password_email(
    c: *const so_client,
    person_id: i32,
    from: *const c_char,
    to: *const c_char,
    subject: *const c_char,
) -> so_result {
    guard_result(|| {
        let outcome = (|| {
            let client = try_ref(c, "client")?;
            let email = PasswordEmail {
                person_id,
                from: opt_str_arg(from, "from")?,
                to: opt_str_arg(to, "to")?,
                subject: opt_str_arg(subject, "subject")?,
            };
            // Should the send panic, the request may have gone out.
            set_last_delivery(so_delivery::SO_DELIVERY_UNKNOWN);
            client.inner.send_cc_password_email(&email)
        })();
        set_last_delivery(delivery_of(outcome.as_ref()));
        outcome.map(|_| ())
    })
}

/// Gets the client's credential now, without sending an e-mail: for a system user, the
/// login and the JWT check; for an OAuth refresh token, the token request (or the
/// credential another client of the same identity already holds, see
/// `so_options_set_shared_credentials`). Returns `SO_OK`, or `SO_ERR_CREDENTIALS` with the
/// message a send would give (which step failed), `SO_ERR_NULL_ARGUMENT` for NULL, or
/// `SO_ERR_PANIC`. Meant for start-up: a wrong key, secret, tenant or login service is
/// found before the first e-mail. For a client given a ticket, a token or Basic
/// credentials it returns `SO_OK` at once: there is nothing to obtain, and nothing is
/// verified. Nothing is sent to the API. Blocks for at most the total timeout.
#[no_mangle]
pub extern "C" fn so_client_authenticate(c: *const so_client) -> so_result {
    guard_result(|| try_ref(c, "client")?.inner.authenticate())
}

/// Drops and wipes every credential the library obtained from the login service in this
/// process (the shared ones and each client's own): every client logs in again on its
/// next send. A login under way meanwhile still serves the send that started it and is
/// kept nowhere. Safe from any thread at any time; never fails.
#[no_mangle]
pub extern "C" fn so_credentials_forget_all() {
    guard(drop, || {
        crate::credentials::shared::forget_all();
        Ok(())
    });
}

/// Frees a client: closes its pooled connections at once (ureq's `Agent::shutdown`) and
/// wipes its secrets (its key, client secret, tokens, and its own copies of credentials).
/// NULL is a no-op.
///
/// A credential obtained from the login service and shared (the default, see
/// `so_options_set_shared_credentials`) is not the client's alone: it stays in the
/// process's table, in memory only, after the client is freed, so that a client made
/// later for the same identity reuses a ticket still valid instead of logging in again.
/// It is dropped and wiped when refused, when it expires (a ticket 6 hours after its
/// last use, an access token at its `expires_in`) or by `so_credentials_forget_all`. A
/// client that keeps its own credential (`so_options_set_shared_credentials(o, 0)`)
/// wipes it when freed.
/// No thread may be using `c`, and it must not be used afterwards.
///
/// Asynchronous sends still outstanding are cancelled (see `so_operation_cancel`), and
/// `so_client_free` returns only after every callback has returned and every worker
/// thread of the client has exited: no callback runs after it returns, and once every
/// client is freed the library may be unloaded. A wait for an answer is interrupted at
/// once; a connect in progress may hold it up to the connect timeout, a name lookup up to
/// the total timeout (ureq bounds a lookup by the total timeout only).
/// The operations themselves outlive the client: free each with `so_operation_free`.
/// A callback must not call `so_client_free` on its own client.
#[no_mangle]
pub extern "C" fn so_client_free(c: *mut so_client) {
    free_box(c);
}
