"""Result codes of the C ABI and the exceptions they become.

Every failing native call raises exactly one exception from this module. This
module is the one place where ``so_result`` codes map to classes
(:data:`EXCEPTION_BY_CODE`); the function that reads the thread's last error and
builds the exception is :func:`superoffice_ffi._native.error_from_last_error`.
:class:`ResultCode` has exactly the names and values of ``enum so_result`` in
``include/superoffice.h`` (``tests/contract.rs`` checks it), :class:`Delivery` those of
``enum so_delivery``.

Every :class:`SuperOfficeError` says whether the e-mail may have gone out:
:attr:`SuperOfficeError.delivery` (``NOT_SENT``: the server provably never had the
request, safe to send again; ``UNKNOWN``: it may have been processed; ``ANSWERED``: the
server answered with an HTTP status; ``NONE``: the call sends no e-mail) and
:attr:`SuperOfficeError.may_have_been_sent` (the library's rule: true for ``UNKNOWN``
and for an answered 5xx other than 503).

Hierarchy (builtin bases in brackets)::

    SuperOfficeError                       any failure reported by the library
    +-- InvalidArgumentError  [ValueError] SO_ERR_INVALID_ARGUMENT (2)
    |   +-- NullArgumentError              SO_ERR_NULL_ARGUMENT (1)
    +-- BufferTooSmallError                SO_ERR_BUFFER_TOO_SMALL (3)
    +-- SuperOfficeConnectionError [ConnectionError]  SO_ERR_CONNECT (10)
    +-- TLSError              [ConnectionError]       SO_ERR_TLS (11)
    +-- SuperOfficeTimeoutError [TimeoutError]        SO_ERR_TIMEOUT (12)
    +-- TransportError        [OSError]    SO_ERR_IO (13)
    +-- OperationCancelledError            SO_ERR_CANCELLED (14): an AsyncClient's send
    |                                      ended by aclose() (task.cancel() raises
    |                                      asyncio.CancelledError instead)
    +-- HTTPStatusError                    SO_ERR_HTTP_STATUS (20): other non-2xx
    |   +-- BadRequestError                SO_ERR_BAD_REQUEST (21): 400
    |   +-- UnauthorizedError              SO_ERR_UNAUTHORIZED (22): 401
    |   +-- ForbiddenError                 SO_ERR_FORBIDDEN (23): 403
    |   +-- NotFoundError                  SO_ERR_NOT_FOUND (24): 404
    |   +-- RateLimitedError               SO_ERR_RATE_LIMITED (25): 429
    |   +-- ServerError                    SO_ERR_SERVER (26): 5xx
    +-- TenantUnavailableError             SO_ERR_TENANT_UNAVAILABLE (27)
    +-- CredentialsError                   SO_ERR_CREDENTIALS (28): no credential
    |                                      from the login service (system user,
    |                                      OAuth refresh); nothing was sent
    +-- PanicError                         SO_ERR_PANIC (99): a library bug
    +-- ClientClosedError     [RuntimeError]  the Client was closed (no native call)

Loading problems are not :class:`SuperOfficeError`: they raise
:class:`LibraryLoadError` (an :class:`ImportError`) and its subclass
:class:`LibraryVersionError`.

The binding's first names, ``TlsError``, ``IoError`` and ``HttpStatusError``, still
work as deprecated aliases of the same classes (importing them warns with a
:class:`DeprecationWarning`); they will be removed in 0.2.
"""

from __future__ import annotations

import enum
import warnings
from typing import Any, Dict, Optional, Tuple, Type, Union

__all__ = [
    "ResultCode",
    "Delivery",
    "SuperOfficeError",
    "InvalidArgumentError",
    "NullArgumentError",
    "BufferTooSmallError",
    "SuperOfficeConnectionError",
    "TLSError",
    "SuperOfficeTimeoutError",
    "TransportError",
    "OperationCancelledError",
    "HTTPStatusError",
    "BadRequestError",
    "UnauthorizedError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitedError",
    "ServerError",
    "TenantUnavailableError",
    "CredentialsError",
    "PanicError",
    "ClientClosedError",
    "LibraryLoadError",
    "LibraryVersionError",
    "EXCEPTION_BY_CODE",
    "exception_class_for",
]


class ResultCode(enum.IntEnum):
    """The ``so_result`` codes (values fixed by the C ABI contract)."""

    OK = 0
    NULL_ARGUMENT = 1
    INVALID_ARGUMENT = 2
    BUFFER_TOO_SMALL = 3
    CONNECT = 10
    TLS = 11
    TIMEOUT = 12
    IO = 13
    CANCELLED = 14
    HTTP_STATUS = 20
    BAD_REQUEST = 21
    UNAUTHORIZED = 22
    FORBIDDEN = 23
    NOT_FOUND = 24
    RATE_LIMITED = 25
    SERVER = 26
    TENANT_UNAVAILABLE = 27
    CREDENTIALS = 28
    PANIC = 99


class Delivery(enum.IntEnum):
    """The ``so_delivery`` values: whether the server may have a send's request."""

    NONE = 0
    NOT_SENT = 1
    UNKNOWN = 2
    ANSWERED = 3


def _delivery(value: int) -> Delivery:
    try:
        return Delivery(value)
    except ValueError:
        return Delivery.UNKNOWN


def may_have_been_sent(delivery: int, http_status: int) -> bool:
    """The library's rule (``so_may_have_been_sent``): whether a send that ended with
    this delivery and HTTP status may have e-mailed the customer."""
    from ._native import lib  # the library is loaded by whoever raised the error

    return bool(lib.so_may_have_been_sent(int(delivery), int(http_status)))


def _code(value: int) -> Union[ResultCode, int]:
    try:
        return ResultCode(value)
    except ValueError:
        return value


class SuperOfficeError(Exception):
    """A failure reported by libsuperoffice.

    Attributes:
        code: the ``so_result`` code (a :class:`ResultCode` member, or a plain
            ``int`` for a code this binding does not know; ``None`` for
            :class:`ClientClosedError`, which no native call produced).
        http_status: the HTTP status of the server's answer, ``0`` when there
            was none (connection failures, timeouts, argument errors).
        error_type: the ``ErrorType`` of the server's SuperOffice error body
            (e.g. ``"SoNotFoundException"``), ``""`` when it sent none.
        message: the library's message, a sentence saying what failed.
        delivery: whether the server may have the e-mail request (a
            :class:`Delivery`): ``NOT_SENT`` (safe to send again), ``UNKNOWN`` (it
            may have been processed), ``ANSWERED`` (an HTTP status), ``NONE`` (the
            failing call was not a send).
    """

    code: Optional[Union[ResultCode, int]]
    http_status: int
    error_type: str
    message: str
    delivery: Delivery

    def __init__(
        self,
        message: str,
        code: Optional[int] = None,
        http_status: int = 0,
        error_type: str = "",
        delivery: int = Delivery.NONE,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = None if code is None else _code(code)
        self.http_status = http_status
        self.error_type = error_type
        self.delivery = _delivery(delivery)

    @property
    def may_have_been_sent(self) -> bool:
        """Whether the e-mail may have gone out: true for ``UNKNOWN`` and for an
        answered 5xx other than 503; false for ``NOT_SENT``, ``NONE`` and 4xx, 429 and
        503 answers (the library's rule)."""
        if self.delivery in (Delivery.NONE, Delivery.NOT_SENT):
            return False
        return may_have_been_sent(self.delivery, self.http_status)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"http_status={self.http_status!r}, error_type={self.error_type!r}, "
            f"delivery={self.delivery!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:  # keep the attributes when pickled
        return (
            type(self),
            (self.message, None if self.code is None else int(self.code),
             self.http_status, self.error_type, int(self.delivery)),
        )


class InvalidArgumentError(SuperOfficeError, ValueError):
    """The library refused a value: not UTF-8, a CR/LF or control character in a
    header value, a malformed or non-http(s) URL, a value out of range."""


class NullArgumentError(InvalidArgumentError):
    """A required pointer was NULL (the binding normally prevents this)."""


class BufferTooSmallError(SuperOfficeError):
    """An output buffer was too small (handled inside the binding)."""


class SuperOfficeConnectionError(SuperOfficeError, ConnectionError):
    """Name resolution failed, or the connection was refused or unreachable."""


class TLSError(SuperOfficeError, ConnectionError):
    """The TLS handshake or certificate verification failed."""


class SuperOfficeTimeoutError(SuperOfficeError, TimeoutError):
    """The connect timeout or the total timeout expired."""


class TransportError(SuperOfficeError, OSError):
    """The connection broke, or the server's answer was not valid HTTP
    (``SO_ERR_IO``; httpx's name for the same family)."""


class OperationCancelledError(SuperOfficeError):
    """An asynchronous send was cancelled before it ended (its client was closed);
    the message says whether the server may already have received the request."""


class HTTPStatusError(SuperOfficeError):
    """The server answered with a status outside 2xx (see :attr:`http_status`).

    Raised as such for statuses that have no subclass (3xx, 405, 418, ...);
    its subclasses cover 400, 401, 403, 404, 429 and 5xx.
    """


class BadRequestError(HTTPStatusError):
    """The server answered 400 Bad Request."""


class UnauthorizedError(HTTPStatusError):
    """The server answered 401: the credentials were refused."""


class ForbiddenError(HTTPStatusError):
    """The server answered 403 Forbidden."""


class NotFoundError(HTTPStatusError):
    """The server answered 404 (e.g. ``SoNotFoundException`` for a missing person)."""


class RateLimitedError(HTTPStatusError):
    """The server answered 429, after any retries the client was allowed."""


class ServerError(HTTPStatusError):
    """The server answered with a 5xx status."""


class TenantUnavailableError(SuperOfficeError):
    """The online tenant is not running (maintenance, suspended)."""


class CredentialsError(SuperOfficeError):
    """No credential could be obtained from SuperOffice's login service (system user
    or OAuth refresh token). The message says which step failed: the login service's
    own ``ErrorMessage``, the JWT check that failed, or an unreachable login service.
    No request was sent to the API."""


class PanicError(SuperOfficeError):
    """A bug inside libsuperoffice, caught at its boundary. Please report it."""


class ClientClosedError(SuperOfficeError, RuntimeError):
    """The :class:`~superoffice_ffi.Client` was used after ``close()``.

    Raised by the binding itself; no native call is made, so :attr:`code` is
    ``None`` and :attr:`http_status` is ``0``.
    """

    def __init__(self, message: str = "the SuperOffice client is closed") -> None:
        super().__init__(message, delivery=Delivery.NOT_SENT)

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message,))


class LibraryLoadError(ImportError):
    """libsuperoffice could not be found or loaded."""


class LibraryVersionError(LibraryLoadError):
    """The loaded libsuperoffice is a version this binding was not written for."""


EXCEPTION_BY_CODE: Dict[int, Type[SuperOfficeError]] = {
    ResultCode.NULL_ARGUMENT: NullArgumentError,
    ResultCode.INVALID_ARGUMENT: InvalidArgumentError,
    ResultCode.BUFFER_TOO_SMALL: BufferTooSmallError,
    ResultCode.CONNECT: SuperOfficeConnectionError,
    ResultCode.TLS: TLSError,
    ResultCode.TIMEOUT: SuperOfficeTimeoutError,
    ResultCode.IO: TransportError,
    ResultCode.CANCELLED: OperationCancelledError,
    ResultCode.HTTP_STATUS: HTTPStatusError,
    ResultCode.BAD_REQUEST: BadRequestError,
    ResultCode.UNAUTHORIZED: UnauthorizedError,
    ResultCode.FORBIDDEN: ForbiddenError,
    ResultCode.NOT_FOUND: NotFoundError,
    ResultCode.RATE_LIMITED: RateLimitedError,
    ResultCode.SERVER: ServerError,
    ResultCode.TENANT_UNAVAILABLE: TenantUnavailableError,
    ResultCode.CREDENTIALS: CredentialsError,
    ResultCode.PANIC: PanicError,
}


def exception_class_for(code: int) -> Type[SuperOfficeError]:
    """The exception class for a non-zero ``so_result`` code (the base class
    :class:`SuperOfficeError` for a code this binding does not know)."""
    return EXCEPTION_BY_CODE.get(code, SuperOfficeError)


#: The binding's first names, kept as deprecated aliases (removed in 0.2).
DEPRECATED_NAMES: Dict[str, str] = {
    "TlsError": "TLSError",
    "IoError": "TransportError",
    "HttpStatusError": "HTTPStatusError",
}


def __getattr__(name: str) -> Any:
    new = DEPRECATED_NAMES.get(name)
    if new is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"superoffice_ffi.{name} is deprecated; use superoffice_ffi.{new}",
        DeprecationWarning,
        stacklevel=2,
    )
    return globals()[new]
