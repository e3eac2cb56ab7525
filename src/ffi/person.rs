//! Finding a person by e-mail address, and sending to an address.

use std::ffi::c_char;

use super::client::so_client;
use super::errors::{delivery_of, set_last_delivery};
use super::{guard_result, opt_str_arg, so_delivery, so_result, str_arg, try_ref};
use crate::error::{Error, ErrorKind};

/// Finds the persons whose e-mail address is `email`: `GET {base}/api/v1/Person` with
/// `$select=personId,fullName,email/emailAddress`, `$filter=email/emailAddress is
/// '<email>'` (the address trimmed, each `'` doubled, percent-encoded where a URL needs
/// it), `$entities=person`, `$top=51` and `$jsonSafe=true`, with the client's
/// credentials, headers, timeouts and retries (as for a send; the client's `$select` is
/// the send's and is not added). Blocks for at most the total timeout.
///
/// Every row of the answer is checked: a `person` whose address equals `email` (both
/// trimmed, compared without regard to case). If any row is not, the whole search fails
/// with `SO_ERR_IO` ("the server did not apply the e-mail filter"), as it does when the
/// rows carry no e-mail column: such an answer is never read as "no person". Rows of one
/// person count once. More than 50 persons on the address is `SO_ERR_AMBIGUOUS_RECIPIENT`.
/// Messages name the request (`GET ...`) and hold person ids and counts, never another
/// person's address or name.
///
/// Sized call, as `so_lookup_tenant_api_url_sized`: on `SO_OK` the person ids are written
/// to `person_ids` and `*count` is their number (0 when no person has the address; not an
/// error here). On `SO_ERR_BUFFER_TOO_SMALL` nothing is written to `person_ids` and
/// `*count` is the number of ids found: call again with that capacity (the directory may
/// have changed in between, so check the code again). `person_ids` may be NULL when
/// `capacity` is 0, to ask for the count alone. `count` must not be NULL; on other
/// failures `*count` is 0.
///
/// `SO_ERR_INVALID_ARGUMENT` (before any request) when `email` holds a control character,
/// has no `@` or is longer than 254 characters. A search sends no e-mail:
/// `so_last_delivery()` is `SO_DELIVERY_NONE` after it.
#[no_mangle]
pub extern "C" fn so_find_persons_by_email(
    c: *const so_client,
    email: *const c_char,
    person_ids: *mut i32,
    capacity: usize,
    count: *mut usize,
) -> so_result {
    guard_result(|| {
        if count.is_null() {
            return Err(Error::null("count"));
        }
        // SAFETY: checked non-NULL above; the caller passes a writable size_t.
        unsafe { count.write(0) };
        let client = try_ref(c, "client")?;
        let email = str_arg(email, "email")?;
        if person_ids.is_null() && capacity > 0 {
            return Err(Error::null("person_ids"));
        }
        let found = client.inner.find_persons_by_email(email)?;
        // SAFETY: as above.
        unsafe { count.write(found.len()) };
        if capacity < found.len() {
            return Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("{} persons were found, person_ids holds {capacity}", found.len()),
            ));
        }
        for (i, p) in found.iter().enumerate() {
            // SAFETY: the caller passes `capacity` writable ids; `i` < found.len() <= capacity.
            unsafe { person_ids.add(i).write(p.person_id) };
        }
        Ok(())
    })
}

/// Sends the Customer Centre password e-mail of the one person whose e-mail address is
/// `to`, to `to`: finds the persons as `so_find_persons_by_email` does, then, with
/// exactly one, sends as `so_send_cc_password_email(c, person_id, from, to, subject)`
/// does (`to` trimmed). `from` and `subject` may be NULL (JSON null); `to` must not.
///
/// No person has the address: nothing is sent, `SO_ERR_RECIPIENT_NOT_FOUND`. Several
/// persons: nothing is sent, `SO_ERR_AMBIGUOUS_RECIPIENT`, whose message lists up to 10
/// of their person ids. A search that fails (its answer not trusted, a timeout, ...)
/// sends nothing either. The search and the send each have the client's total timeout.
///
/// `*out_person_id` (when `out_person_id` is not NULL) is set to 0 at the start and to
/// the person id as soon as the one person is known, before the e-mail request: after a
/// send whose outcome is unknown, the caller knows whose e-mail may have gone out. It
/// stays 0 when no single person was found.
///
/// `so_last_delivery()` is about the e-mail request: `SO_DELIVERY_NOT_SENT` after every
/// failure before it (a bad argument, no person or several, a search that failed or
/// timed out, its answer not trusted); after it, as for `so_send_cc_password_email`.
#[no_mangle]
pub extern "C" fn so_send_cc_password_email_to_address(
    c: *const so_client,
    from: *const c_char,
    to: *const c_char,
    subject: *const c_char,
    out_person_id: *mut i32,
) -> so_result {
    guard_result(|| {
        let report = |id: i32| {
            if !out_person_id.is_null() {
                // SAFETY: the caller passes a writable int32_t or NULL (checked).
                unsafe { out_person_id.write(id) };
            }
        };
        report(0);
        // Until the e-mail request starts, nothing was sent.
        set_last_delivery(so_delivery::SO_DELIVERY_NOT_SENT);
        let client = try_ref(c, "client")?;
        let from = opt_str_arg(from, "from")?;
        let to = str_arg(to, "to")?;
        let subject = opt_str_arg(subject, "subject")?;
        let outcome = client.inner.send_cc_password_email_to_address_with(from, to, subject, |id| {
            report(id);
            // Should the send panic, the request may have gone out.
            set_last_delivery(so_delivery::SO_DELIVERY_UNKNOWN);
        });
        set_last_delivery(delivery_of(outcome.as_ref()));
        outcome.map(|_| ())
    })
}
