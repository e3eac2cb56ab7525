"""asyncio: :class:`AsyncClient`, over the library's asynchronous send.

::

    from superoffice_ffi import AsyncClient

    async with AsyncClient("https://sod.superoffice.com/Cust12345", ticket=t) as so:
        await so.send_customer_centre_password_email(670, recipient="kari@example.com")

A send is ``so_send_cc_password_email_async``: the library does the waiting on its own
worker threads (at most ``max_in_flight`` per client) and calls one ctypes callback when
the send has ended; the callback hands the outcome to the event loop with
``loop.call_soon_threadsafe``. No Python thread is held per call, and the event loop
never blocks on the network. Cancelling the awaiting task (``task.cancel()``,
``asyncio.wait_for``, a ``TaskGroup``) cancels the native send at once
(``so_operation_cancel``): one not sent yet is never sent; one on the network has its
connection closed. :class:`asyncio.CancelledError` is raised at once.

Failures raise the exceptions of the synchronous :class:`~superoffice_ffi.Client`;
a send ended by :meth:`AsyncClient.aclose` raises :class:`OperationCancelledError`.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import threading
from typing import Any, Dict, Iterable, List, Optional, Tuple

from . import _native
from ._native import lib
from .client import (
    Client,
    ItemLike,
    SendResult,
    _encode,
    _item,
    _person_id,
    _uint32,
)
from .errors import ResultCode, SuperOfficeError, exception_class_for

__all__ = ["AsyncClient", "DEFAULT_MAX_IN_FLIGHT"]

#: The library's default for ``max_in_flight``.
DEFAULT_MAX_IN_FLIGHT = 16


class _Pending:
    """One send awaiting its callback. ``op`` is the native operation's address; it is
    freed on the event loop's thread, in :func:`_settle`, so that a cancellation (also
    on that thread) never reaches a freed operation."""

    __slots__ = ("loop", "future", "op", "settled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: "asyncio.Future[int]" = loop.create_future()
        self.op: Optional[int] = None
        self.settled = False

    def cancel_native(self, future: "asyncio.Future[int]") -> None:
        """Done-callback of the future: a cancelled task cancels the native send."""
        if future.cancelled() and not self.settled and self.op:
            try:
                lib.so_operation_cancel(self.op)
            except SuperOfficeError:  # pragma: no cover - NULL is never passed
                pass


_pending: Dict[int, _Pending] = {}
_pending_lock = threading.Lock()
_keys = itertools.count(1)


def _text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _settle(entry: _Pending, op: int, code: int) -> None:
    """On the event loop: read the outcome, free the operation, complete the future.
    (The operation stays valid until freed here, so the library's thread only hands it
    over: the less it does while holding the GIL, the less the loop waits for it.)"""
    entry.settled = True
    future = entry.future
    if future.done():  # the task was cancelled; the native send ended as cancelled
        lib.so_operation_free(op)
        return
    status = int(lib.so_operation_http_status(op))
    if code == ResultCode.OK:
        lib.so_operation_free(op)
        future.set_result(status)
        return
    message = _text(lib.so_operation_error_message(op))
    error_type = _text(lib.so_operation_error_type(op))
    lib.so_operation_free(op)
    future.set_exception(
        exception_class_for(code)(message or _native.result_str(code), code, status, error_type)
    )


def _on_complete(userdata: Optional[int], op: Optional[int], code: int) -> None:
    """The native callback, on a thread of the library: hand the operation to the event
    loop. Never raises into the library."""
    try:
        with _pending_lock:
            entry = _pending.pop(int(userdata or 0), None)
        if entry is None or not op:  # pragma: no cover - every send registers itself
            if op:
                lib.so_operation_free(op)
            return
        try:
            entry.loop.call_soon_threadsafe(_settle, entry, op, int(code))
        except RuntimeError:  # the event loop is closed: nobody awaits it any more
            lib.so_operation_free(op)
    except BaseException:  # pragma: no cover - never unwind into the library
        pass


#: One callback for every send, alive for the whole process (the library may call it
#: until the last client is closed).
_CALLBACK = _native.so_completion_callback(_on_complete)


class _Core(Client):
    """The synchronous client underneath, with ``max_in_flight`` set on its options."""

    def __init__(self, base_url: str, max_in_flight: int, **settings: Any) -> None:
        self._max_in_flight = max_in_flight
        super().__init__(base_url, **settings)


class AsyncClient:
    """A SuperOffice WebAPI client for asyncio.

    Takes the arguments of :class:`~superoffice_ffi.Client`, plus:

    Args:
        max_in_flight: how many sends of this client may be on the network at once,
            1 to 1024 (default 16); more wait in order. It also bounds the library's
            worker threads for this client, which start with the first send.

    Use it with ``async with``, or call :meth:`aclose`.
    """

    def __init__(self, base_url: str, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, **settings: Any) -> None:
        # One keyword set: every other argument is Client's, checked there.
        self._max_in_flight = _uint32("max_in_flight", max_in_flight, minimum=1)
        self._core = _Core(base_url, self._max_in_flight, **settings)

    @property
    def base_url(self) -> str:
        """The base URL the client was created with."""
        return self._core.base_url

    @property
    def max_in_flight(self) -> int:
        """How many sends may be on the network at once."""
        return self._max_in_flight

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._core.closed

    async def _send(
        self, person_id: int, sender: Optional[bytes], recipient: Optional[bytes], subject: Optional[bytes]
    ) -> int:
        loop = asyncio.get_running_loop()
        entry = _Pending(loop)
        key = next(_keys)
        with _pending_lock:
            _pending[key] = entry
        op = ctypes.c_void_p()
        try:
            handle = self._core._acquire()
            try:
                lib.so_send_cc_password_email_async(
                    handle, person_id, sender, recipient, subject, _CALLBACK, key, ctypes.byref(op)
                )
            finally:
                self._core._release()
        except BaseException:
            with _pending_lock:
                _pending.pop(key, None)
            raise
        entry.op = op.value
        entry.future.add_done_callback(entry.cancel_native)
        return await entry.future

    async def send_customer_centre_password_email(
        self,
        person_id: int,
        *,
        sender: Optional[str] = None,
        recipient: Optional[str] = None,
        subject: Optional[str] = None,
    ) -> None:
        """``POST /api/v1/Agents/Person/SendCustomerCentrePasswordEmail``, awaited.

        The arguments and exceptions are those of
        :meth:`Client.send_customer_centre_password_email`; the arguments are checked
        before anything is sent. Cancelling the awaiting task cancels the send.

        Raises:
            OperationCancelledError: the client was closed before the send ended.
            SuperOfficeError: a subclass for every failure the library reports.
        """
        await self._send(
            _person_id(person_id),
            _encode("sender", sender),
            _encode("recipient", recipient),
            _encode("subject", subject),
        )

    async def send_many(
        self, items: Iterable[ItemLike], *, max_concurrency: Optional[int] = None
    ) -> List[SendResult]:
        """Send many password e-mails concurrently.

        Args:
            items: as for :meth:`Client.send_many`.
            max_concurrency: how many sends are started and awaited at once (at least
                1); None (default) is ``max_in_flight``. At most ``max_in_flight`` are
                on the network at any time in any case.

        Returns:
            One :class:`SendResult` per item, in the order of ``items``; a failed item
            does not raise.

        Raises:
            TypeError, InvalidArgumentError: a bad item or argument (nothing is sent).
        """
        checked = [_item(i, item) for i, item in enumerate(items)]
        limit = (
            self._max_in_flight
            if max_concurrency is None
            else _uint32("max_concurrency", max_concurrency, minimum=1)
        )
        gate = asyncio.Semaphore(limit)

        async def one(fields: Tuple[int, Optional[bytes], Optional[bytes], Optional[bytes]]) -> SendResult:
            async with gate:
                try:
                    status = await self._send(*fields)
                except SuperOfficeError as e:
                    return SendResult(
                        code=e.code if e.code is not None else ResultCode.PANIC,
                        http_status=e.http_status,
                        message=e.message,
                        error_type=e.error_type or None,
                        ok=False,
                    )
                return SendResult(code=ResultCode.OK, http_status=status, message=None, error_type=None, ok=True)

        return list(await asyncio.gather(*(one(fields) for fields in checked)))

    async def aclose(self) -> None:
        """Close the client: sends still outstanding are cancelled (their awaiters get
        :class:`OperationCancelledError`), and the library's threads for this client
        have exited when it returns. Idempotent. The wait happens on the loop's
        default executor, so the event loop keeps running meanwhile."""
        if self._core.closed:
            return
        await asyncio.get_running_loop().run_in_executor(None, self._core.close)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<superoffice_ffi.AsyncClient {self.base_url!r} {state}>"
