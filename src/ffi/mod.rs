//! The C ABI: the only place with `unsafe`, raw pointers and C types.
//!
//! Every exported function runs its body inside [`guard`], which clears the thread's
//! last error, catches panics, and turns the core's error into a `so_result` plus the
//! thread's last error; the readers of the last error run inside [`reader`], and the
//! `_free` functions inside [`free_box`] (both catch panics and leave the last error
//! alone). Pointer and string checks are the helpers below.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
// The exported functions take raw pointers from C, which has no `unsafe`: each one
// checks them through the helpers below (rustls-ffi's convention), so they are not
// `unsafe fn` on the Rust side.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod batch;
pub mod client;
pub mod errors;
mod fork;
pub mod operation;
pub mod options;
pub mod queue;
pub mod tenant;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind};
pub use errors::{so_delivery, so_result};

/// Runs an exported function's body: clears the last error, catches any panic, records
/// a failure as the thread's last error. `on_error` is what the caller gets on failure.
pub(crate) fn guard<T>(on_error: impl FnOnce(so_result) -> T, body: impl FnOnce() -> Result<T, Error>) -> T {
    errors::clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => {
            let code = so_result::from(error.kind);
            errors::set_last_error(&error);
            on_error(code)
        }
        Err(_) => {
            errors::set_last_error(&Error::new(
                ErrorKind::Panic,
                "internal error: a bug inside superoffice-ffi was caught at the library boundary (panic); please report it",
            ));
            on_error(so_result::SO_ERR_PANIC)
        }
    }
}

/// The guard of the readers (`so_last_error_*`, `so_result_str`, `so_version`): catches
/// any panic, giving `fallback`, and leaves the thread's last error as it is.
pub(crate) fn reader<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// [`guard`] for the constructors (`so_options_new`, `so_client_new`): the new object
/// boxed and handed out, or NULL on failure.
pub(crate) fn guard_new<T>(body: impl FnOnce() -> Result<T, Error>) -> *mut T {
    guard(|_| std::ptr::null_mut(), || body().map(|value| Box::into_raw(Box::new(value))))
}

/// [`guard`] for functions that return a `so_result`.
pub(crate) fn guard_result(body: impl FnOnce() -> Result<(), Error>) -> so_result {
    guard(|code| code, || body().map(|()| so_result::SO_OK))
}

/// A required C string argument, checked for NULL and UTF-8.
pub(crate) fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    opt_str_arg(ptr, what)?.ok_or_else(|| Error::null(what))
}

/// An optional C string argument (NULL is `None`), checked for UTF-8.
pub(crate) fn opt_str_arg<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller passes a NUL-terminated string that lives for the call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// A shared reference from a pointer the library handed out, checked for NULL.
pub(crate) fn try_ref<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Error> {
    // SAFETY: non-NULL pointers are ones this library returned and the caller has not freed.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::null(what))
}

/// A mutable reference from a pointer the library handed out, checked for NULL.
pub(crate) fn try_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as for `try_ref`; the caller uses the object from one thread at a time.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::null(what))
}

/// Takes back ownership of a box the library handed out; NULL is `None`.
pub(crate) fn take_box<T>(ptr: *mut T) -> Option<Box<T>> {
    // SAFETY: non-NULL pointers are ones `Box::into_raw` produced and that were not freed.
    (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
}

/// Frees a box the library handed out, inside a panic guard; NULL is a no-op. Does not
/// touch the thread's last error.
pub(crate) fn free_box<T>(ptr: *mut T) {
    let _ = catch_unwind(AssertUnwindSafe(|| drop(take_box(ptr))));
}
