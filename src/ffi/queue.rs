//! `so_completion_queue`: completed asynchronous sends collected for one waiting thread.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use super::operation::so_operation;
use super::{free_box, guard, guard_result, reader, so_result, try_mut, try_ref};
use crate::send::completions::CompletionQueue;
use crate::error::Error;

/// A queue of completed asynchronous sends (opaque), for a program that would rather
/// wait for completions on a thread of its own, in batches, than run code on the
/// library's threads: a runtime with a global lock (Python's) then never has the
/// library's threads enter it.
///
/// Use: pass `so_completion_queue_push` as the callback of
/// `so_send_cc_password_email_async` and the queue as its userdata; then one thread
/// calls `so_completion_queue_wait`, which returns the operations that have ended (and
/// their codes) in the order they ended. Thread-safe. Free it with
/// `so_completion_queue_free` once no operation that uses it is outstanding (the
/// clients that sent them are freed, or every such operation has ended) and no thread
/// waits in it.
pub struct so_completion_queue {
    inner: CompletionQueue<(usize, so_result)>,
}

/// A new, empty completion queue; NULL only when memory is exhausted (the last error
/// says so).
#[no_mangle]
pub extern "C" fn so_completion_queue_new() -> *mut so_completion_queue {
    guard(
        |_| std::ptr::null_mut(),
        || Ok(Box::into_raw(Box::new(so_completion_queue { inner: CompletionQueue::default() }))),
    )
}

/// A `so_completion_callback` that puts the ended operation `op` and its `code` in the
/// queue `queue` (a `so_completion_queue *` passed as the userdata of
/// `so_send_cc_password_email_async`). It returns at once, and wakes a thread waiting in
/// `so_completion_queue_wait`. NULL `queue` or `op`: nothing is queued. The operation
/// stays the caller's: free it with `so_operation_free` once it was taken from the queue.
#[no_mangle]
pub extern "C" fn so_completion_queue_push(queue: *mut c_void, op: *mut so_operation, code: so_result) {
    reader((), || {
        let Ok(q) = try_ref(queue.cast::<so_completion_queue>().cast_const(), "queue") else { return };
        if !op.is_null() {
            q.inner.push((op as usize, code));
        }
    })
}

/// Waits until at least one operation has ended, `so_completion_queue_close` is
/// called, or `timeout_ms` milliseconds pass (0: does not wait); then writes up to
/// `capacity` ended operations to `ops` and their result codes to `codes` (both arrays
/// of at least `capacity` elements), in the order they ended, and their number to
/// `*out_count` (0 after a timeout, or when the queue is closed and empty).
///
/// Returns `SO_OK`, or `SO_ERR_NULL_ARGUMENT` (NULL `queue` or `out_count`, or NULL `ops`
/// or `codes` with `capacity` above 0; nothing is taken then). Any number of threads may
/// wait; each completion goes to one of them.
#[no_mangle]
pub extern "C" fn so_completion_queue_wait(
    queue: *const so_completion_queue,
    timeout_ms: u32,
    ops: *mut *mut so_operation,
    codes: *mut so_result,
    capacity: usize,
    out_count: *mut usize,
) -> so_result {
    guard_result(|| {
        let count = try_mut(out_count, "out_count")?;
        *count = 0;
        let q = try_ref(queue, "queue")?;
        if capacity > 0 && (ops.is_null() || codes.is_null()) {
            return Err(Error::null(if ops.is_null() { "ops" } else { "codes" }));
        }
        let mut i = 0usize;
        let taken = q.inner.take(Duration::from_millis(u64::from(timeout_ms)), capacity, |(op, code)| {
            // SAFETY: both arrays hold at least `capacity` elements (the caller's promise),
            // and `take` hands out at most `capacity` items.
            unsafe {
                *ops.add(i) = op as *mut so_operation;
                *codes.add(i) = code;
            }
            i += 1;
        });
        *count = taken;
        Ok(())
    })
}

/// A file descriptor that is readable exactly while ended operations wait in `queue`,
/// for a program that waits in an event loop (poll, epoll, kqueue, asyncio's
/// `loop.add_reader`) instead of on a thread of its own: when it is readable, take the
/// operations with `so_completion_queue_wait(queue, 0, ...)`, which does not wait; once
/// the queue is empty the descriptor is no longer readable.
///
/// Only watch it: never read, write or close it (the library keeps its state, and closes
/// it in `so_completion_queue_free`). The first call makes it (one end of a socket pair on
/// Unix); later calls return the same descriptor. Any number of threads may watch it and
/// take from the queue; each completion goes to one of them.
///
/// Returns -1 where there is none: on systems other than Unix (Windows: wait on a thread
/// with `so_completion_queue_wait` instead), when it could not be made (the last error
/// says why, `SO_ERR_IO`), or for NULL `queue` (`SO_ERR_NULL_ARGUMENT`).
#[no_mangle]
pub extern "C" fn so_completion_queue_fd(queue: *const so_completion_queue) -> c_int {
    guard(
        |_| -1,
        || {
            let q = try_ref(queue, "queue")?;
            readiness_fd(&q.inner)
        },
    )
}

#[cfg(unix)]
fn readiness_fd(queue: &CompletionQueue<(usize, so_result)>) -> Result<c_int, Error> {
    queue
        .readiness_fd()
        .map_err(|e| Error::new(crate::error::ErrorKind::Io, format!("could not make the completion queue's descriptor: {e}")))
}

#[cfg(not(unix))]
fn readiness_fd(_: &CompletionQueue<(usize, so_result)>) -> Result<c_int, Error> {
    Ok(-1)
}

/// Wakes every thread waiting in `so_completion_queue_wait`; from now on it does not
/// wait (it still returns what is queued, and completions are still queued). For a
/// program that stops its waiting thread before `so_completion_queue_free`. NULL is a
/// no-op.
#[no_mangle]
pub extern "C" fn so_completion_queue_close(queue: *const so_completion_queue) {
    reader((), || {
        if let Ok(q) = try_ref(queue, "queue") {
            q.inner.close();
        }
    })
}

/// Frees a completion queue (operations still in it are not freed: they remain the
/// caller's). NULL is a no-op. See `so_completion_queue` for when it may be called.
#[no_mangle]
pub extern "C" fn so_completion_queue_free(queue: *mut so_completion_queue) {
    free_box(queue);
}
