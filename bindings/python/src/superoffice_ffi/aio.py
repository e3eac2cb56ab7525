"""asyncio: :class:`AsyncClient`, over the library's asynchronous send.

::

    from superoffice_ffi import AsyncClient

    async with AsyncClient("https://sod.superoffice.com/Cust12345", ticket=t) as so:
        await so.send_customer_centre_password_email(670, recipient="kari@example.com")

A send is ``so_send_cc_password_email_async``: the library does the waiting on its own
worker threads (at most ``max_in_flight`` per client). Its completion callback is the
library's own ``so_completion_queue_push``, so those threads never enter Python (no
GIL taken, no Python thread state made per completion). The event loop itself watches
the queue's descriptor (``so_completion_queue_fd``, readable while completions wait,
through ``loop.add_reader``) and, when woken, takes every send that ended meanwhile at
once (``so_completion_queue_wait`` without waiting) and settles them: one wake-up of the
loop for all of them, and no Python thread in between. Where a loop has no
``add_reader`` (Windows' Proactor loop) or the library has no descriptor (Windows), one
Python thread per process waits on the queue instead (with the GIL released), puts the
sends in their loop's inbox and wakes that loop (``loop.call_soon_threadsafe``) once per
batch. No thread is held per call, and the event loop never blocks on the network.
Cancelling the awaiting task (``task.cancel()``, ``asyncio.wait_for``, a ``TaskGroup``)
cancels the native send at once (``so_operation_cancel``): one not sent yet is never
sent; one on the network has its connection closed. :class:`asyncio.CancelledError` is
raised at once, and says whether the e-mail may have gone out: its ``delivery``
attribute, read with :func:`cancelled_delivery` wherever the cancellation is caught::

    try:
        async with asyncio.timeout(5):
            await so.send_customer_centre_password_email(670)
    except TimeoutError as e:
        if cancelled_delivery(e) == Delivery.NOT_SENT:  # cancelled before it started
            ...  # safe to send again later

It is ``Delivery.NOT_SENT`` for a send cancelled before it started (still queued),
``Delivery.UNKNOWN`` for one cancelled on the network (the server may have it), or the
send's own delivery when it had ended just before. The exception stays a plain
:class:`asyncio.CancelledError` (``asyncio.timeout`` recognises its own by type); the
task's ``CancelledError`` seen by ``await task``, and the ``TimeoutError`` of
``asyncio.timeout`` and ``asyncio.wait_for``, carry it as their context or cause, where
:func:`cancelled_delivery` finds it.

Failures raise the exceptions of the synchronous :class:`~superoffice_ffi.Client`;
a send ended by :meth:`AsyncClient.aclose` raises :class:`OperationCancelledError`.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import os
import threading
import weakref
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
from .errors import Delivery, ResultCode, SuperOfficeError, exception_class_for

__all__ = ["AsyncClient", "DEFAULT_MAX_IN_FLIGHT", "cancelled_delivery"]


def cancelled_delivery(error: BaseException) -> Optional[Delivery]:
    """The delivery of a cancelled :class:`AsyncClient` send, from the exception the
    caller caught: the :class:`asyncio.CancelledError` raised inside the awaiting
    coroutine carries it as its ``delivery`` attribute; a task's own ``CancelledError``
    (``await task`` after ``task.cancel()``) and the :class:`TimeoutError` of
    ``asyncio.timeout``/``asyncio.wait_for`` carry that one as their context or cause.
    ``None`` when the exception did not end an :class:`AsyncClient` send."""
    todo: List[BaseException] = [error]
    seen: List[int] = []
    while todo and len(seen) < 16:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.append(id(current))
        delivery = getattr(current, "delivery", None)
        if isinstance(current, asyncio.CancelledError) and isinstance(delivery, Delivery):
            return delivery
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None

#: The library's default for ``max_in_flight``.
DEFAULT_MAX_IN_FLIGHT = 16


class _Inbox:
    """Completed sends waiting for one event loop. The library's threads put them in;
    the first put into an empty inbox schedules one :meth:`drain` on the loop, which
    settles everything that arrived until it ran (and what arrives while it runs)."""

    __slots__ = ("_loop", "items", "lock", "scheduled", "watched", "_ops", "_codes", "_count")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Weak: the inbox is kept in a dictionary keyed weakly by its loop.
        self._loop = weakref.ref(loop)
        self.items: "collections.deque[Tuple[_Pending, int, int]]" = collections.deque()
        self.lock = threading.Lock()
        self.scheduled = False
        #: The completions this loop watches the descriptor of (None: it does not).
        self.watched: Optional[_Completions] = None

    def watch(self, completions: "_Completions") -> bool:
        """On the loop's thread: has the loop watch the completion queue's descriptor
        and take completions itself. False where it cannot (no descriptor, or a loop
        without ``add_reader``)."""
        if completions.fd < 0:
            return False
        self._ops = (ctypes.c_void_p * _Completions.BATCH)()
        self._codes = (_native.so_result * _Completions.BATCH)()
        self._count = ctypes.c_size_t()
        try:
            self.loop.add_reader(completions.fd, self.take)
        except (NotImplementedError, AttributeError):  # e.g. the Proactor loop
            return False
        self.watched = completions
        return True

    def take(self) -> None:
        """On the loop, when the descriptor is readable: take every completion waiting
        (without waiting) and settle those of this loop at once."""
        completions = self.watched
        if completions is None or completions is not _completions_of_process:
            # A child after fork(): the descriptor is the parent's queue's; stop watching.
            self.watched = None
            try:
                self.loop.remove_reader(completions.fd if completions else -1)
            except Exception:  # pragma: no cover - the loop is closing
                pass
            return
        ops, codes, count = self._ops, self._codes, self._count
        while True:
            _queue_wait(completions.queue, 0, ops, codes, _Completions.BATCH, count)
            n = count.value
            if not n:
                return
            _deliver([(ops[i] or 0, codes[i]) for i in range(n)], self)
            if n < _Completions.BATCH:
                return

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        if loop is None:  # pragma: no cover - a pending send's future keeps its loop
            raise RuntimeError("the event loop is gone")
        return loop

    def put(self, entry: "_Pending", op: int, code: int) -> None:
        """Queue one outcome; wake the loop when no drain is scheduled yet."""
        self.put_many(((entry, op, code),))

    def put_many(self, items: "Iterable[Tuple[_Pending, int, int]]") -> None:
        """Queue outcomes (from any thread); wake the loop when no drain is scheduled yet."""
        self.items.extend(items)
        with self.lock:
            if self.scheduled:
                return
            self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # the event loop is closed: nobody awaits these any more
            with self.lock:
                self.scheduled = False
            self.discard()

    def drain(self) -> None:
        """On the event loop: settle every queued outcome. A put after the flag is reset
        schedules the next drain; one before it is taken by this one."""
        with self.lock:
            self.scheduled = False
        items = self.items
        while True:
            try:
                entry, op, code = items.popleft()
            except IndexError:
                return
            try:
                _settle(entry, op, code)
            except BaseException as e:  # pragma: no cover - _settle does not raise
                self.loop.call_exception_handler({"message": "superoffice_ffi: settling a send failed", "exception": e})

    def discard(self) -> None:
        """Frees the operations of a closed loop's inbox."""
        while True:
            try:
                _, op, _ = self.items.popleft()
            except IndexError:
                return
            lib.so_operation_free(op)


#: One inbox per event loop (kept while the loop lives).
_inboxes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox]" = weakref.WeakKeyDictionary()
_inboxes_lock = threading.Lock()


def _inbox_of(loop: asyncio.AbstractEventLoop) -> _Inbox:
    inbox = _inboxes.get(loop)
    if inbox is not None:
        return inbox
    completions = _completions()
    with _inboxes_lock:
        inbox = _inboxes.get(loop)
        if inbox is None:
            inbox = _inboxes[loop] = _Inbox(loop)
            if not inbox.watch(completions):
                completions.start_thread()
        return inbox


class _Pending:
    """One send awaiting its callback. ``op`` is the native operation's address; it is
    freed on the event loop's thread, in :func:`_settle`, so that a cancellation (also
    on that thread) never reaches a freed operation."""

    __slots__ = ("inbox", "future", "op", "settled", "delivery")

    def __init__(self, inbox: _Inbox) -> None:
        self.inbox = inbox
        self.future: "asyncio.Future[int]" = inbox.loop.create_future()
        self.op: Optional[int] = None
        self.settled = False
        #: The native delivery, read when settled.
        self.delivery = Delivery.UNKNOWN

    def cancel_native(self) -> Delivery:
        """On the loop, when the awaiting task was cancelled: cancel the native send
        (unless it has been settled, and so freed, already), and say its delivery. A
        queued send ends within the cancel (``NOT_SENT``); one on the network ends
        later, so it is ``UNKNOWN`` (the library's delivery for it) unless it had ended
        already."""
        if self.settled or not self.op:
            return self.delivery
        try:
            lib.so_operation_cancel(self.op)
        except SuperOfficeError:  # pragma: no cover - NULL is never passed
            pass
        delivery = int(lib.so_operation_delivery(self.op))
        return Delivery.UNKNOWN if delivery == Delivery.NONE else Delivery(delivery)


#: Sends awaiting their completion, by the address of their operation.
_pending: Dict[int, _Pending] = {}
#: Completions taken before their send was registered in _pending (by address).
_early: Dict[int, int] = {}
_pending_lock = threading.Lock()


def _text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _settle(entry: _Pending, op: int, code: int) -> None:
    """On the event loop: read the outcome, free the operation, complete the future.
    (The operation stays valid until freed here, so the library's thread only hands it
    over: the less it does while holding the GIL, the less the loop waits for it.)"""
    entry.settled = True
    future = entry.future
    if future.done():  # the task was cancelled; the native send ended as cancelled
        _op_free(op)
        return
    status = _op_status(op)
    if code == _OK:
        _op_free(op)
        entry.delivery = Delivery.ANSWERED
        future.set_result(status)
        return
    message = _text(lib.so_operation_error_message(op))
    error_type = _text(lib.so_operation_error_type(op))
    delivery = int(lib.so_operation_delivery(op))
    entry.delivery = Delivery(delivery)
    _op_free(op)
    future.set_exception(
        exception_class_for(code)(message or _native.result_str(code), code, status, error_type, delivery)
    )


# The library's functions a send calls every time, looked up once (by _bind, with the
# first AsyncClient: importing the package does not load the library).
_op_status: Any = None
_op_free: Any = None
_queue_wait: Any = None
_send_async: Any = None
_OK = int(ResultCode.OK)


def _bind() -> None:
    global _op_status, _op_free, _queue_wait, _send_async
    _op_status = lib.so_operation_http_status
    _op_free = lib.so_operation_free
    _queue_wait = lib.so_completion_queue_wait
    _send_async = lib.so_send_cc_password_email_async


class _Completions:
    """The process's completion queue: its descriptor, watched by the event loops, or
    (where a loop cannot watch it) the Python thread that waits on it. Made with the
    first :class:`AsyncClient` of a process (a child after ``fork()`` makes its own);
    both live as long as the process."""

    BATCH = 256

    def __init__(self) -> None:
        _bind()
        queue = lib.so_completion_queue_new()
        if not queue:  # pragma: no cover - only when memory is exhausted
            raise MemoryError("so_completion_queue_new failed")
        self.queue = queue
        #: The userdata of every send: the queue's address.
        self.userdata = ctypes.cast(queue, ctypes.c_void_p).value
        #: The callback of every send: the library's so_completion_queue_push.
        self.callback = _native.so_completion_callback(
            int(ctypes.cast(lib.so_completion_queue_push, ctypes.c_void_p).value or 0)
        )
        #: Readable while completions wait; -1 where the library has none (Windows).
        self.fd = int(lib.so_completion_queue_fd(queue))
        self.thread: Optional[threading.Thread] = None
        self._thread_lock = threading.Lock()

    def start_thread(self) -> None:
        """Starts the waiting thread, for loops that cannot watch the descriptor."""
        with self._thread_lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="superoffice-completions", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        ops = (ctypes.c_void_p * self.BATCH)()
        codes = (_native.so_result * self.BATCH)()
        count = ctypes.c_size_t()
        while True:
            try:
                _queue_wait(self.queue, 60000, ops, codes, self.BATCH, ctypes.byref(count))
                n = count.value
                if n:
                    _deliver([(ops[i] or 0, codes[i]) for i in range(n)], None)
            except BaseException:  # pragma: no cover - keep waiting whatever happens
                pass


def _deliver(done: List[Tuple[int, int]], here: Optional[_Inbox]) -> None:
    """Hand every ended send to its event loop: those of ``here`` (the inbox of the
    loop running this, when a loop took them) are settled at once; the others go to
    their loop's inbox, one batch (and at most one wake-up) per loop."""
    mine: List[Tuple[_Pending, int, int]] = []
    others: Dict[int, Tuple[_Inbox, List[Tuple[_Pending, int, int]]]] = {}
    with _pending_lock:
        pop = _pending.pop
        for op, code in done:
            entry = pop(op, None)
            if entry is None:
                _early[op] = code  # its send has not registered yet: it will find it
            elif entry.inbox is here:
                mine.append((entry, op, code))
            else:
                others.setdefault(id(entry.inbox), (entry.inbox, []))[1].append((entry, op, code))
    for inbox, items in others.values():
        inbox.put_many(items)
    for entry, op, code in mine:
        try:
            _settle(entry, op, code)
        except BaseException as e:  # pragma: no cover - _settle does not raise
            entry.inbox.loop.call_exception_handler({"message": "superoffice_ffi: settling a send failed", "exception": e})


_completions_of_process: Optional[_Completions] = None
_completions_lock = threading.Lock()


def _completions() -> _Completions:
    """This process's completion queue and thread (made on first use; a child after
    ``fork()`` makes its own, see :func:`_forget_completions`)."""
    global _completions_of_process
    current = _completions_of_process
    if current is not None:
        return current
    with _completions_lock:
        if _completions_of_process is None:
            _completions_of_process = _Completions()
        return _completions_of_process


def _forget_completions() -> None:
    """In a child after ``fork()``: the parent's completions thread does not exist here,
    and its queue is the parent's. Both are left alone (never waited on or freed); the
    next send makes new ones."""
    global _completions_of_process, _completions_lock, _pending_lock, _inboxes_lock
    # A lock held by a parent's thread at the fork stays held in the child: new ones.
    _completions_of_process = None
    _completions_lock = threading.Lock()
    _pending_lock = threading.Lock()
    _inboxes_lock = threading.Lock()
    _pending.clear()  # the parent's sends: never completed here
    _early.clear()
    _inboxes.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_completions)


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
        _completions()  # the process's completion queue, made before the first send
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
        entry = _Pending(_inbox_of(asyncio.get_running_loop()))
        completions = _completions()
        op = ctypes.c_void_p()
        handle = self._core._acquire()
        try:
            _send_async(
                handle, person_id, sender, recipient, subject, completions.callback, completions.userdata,
                ctypes.byref(op),
            )
        finally:
            self._core._release()
        address = op.value or 0
        entry.op = address
        with _pending_lock:
            code = _early.pop(address, None)
            if code is None:
                _pending[address] = entry
        if code is not None:  # it ended before it was registered
            entry.inbox.put(entry, address, code)
        try:
            return await entry.future
        except asyncio.CancelledError as e:
            # The task was cancelled (the future with it): the native send follows at
            # once. (No done-callback: that would cost the loop one more callback per send.)
            # The same CancelledError goes on (asyncio.timeout() tells its own by type),
            # saying whether the e-mail may have gone out.
            e.delivery = entry.cancel_native()  # type: ignore[attr-defined]
            raise

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
                        delivery=e.delivery,
                    )
                return SendResult(
                    code=ResultCode.OK, http_status=status, message=None, error_type=None, ok=True,
                    delivery=Delivery.ANSWERED,
                )

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
