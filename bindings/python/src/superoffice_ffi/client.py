"""The Pythonic layer: :class:`Client`, batch sending and tenant lookup.

Everything here checks Python types and ranges, encodes strings, and then
makes one call into :mod:`superoffice_ffi._native`. HTTP behaviour and the
validation of values (URLs, header values, retry limits) live in the Rust
library, once; its refusals arrive as :class:`InvalidArgumentError`.
"""

from __future__ import annotations

import ctypes
import logging
import math
import numbers
import operator
import os
import threading
from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _native
from ._native import lib
from .errors import (
    BufferTooSmallError,
    ClientClosedError,
    Delivery,
    InvalidArgumentError,
    ResultCode,
    SuperOfficeError,
    exception_class_for,
    may_have_been_sent,
)

__all__ = [
    "Client",
    "SystemUser",
    "OAuthRefresh",
    "SendItem",
    "SendResult",
    "lookup_tenant_api_url",
    "forget_credentials",
    "logging_log_callback",
    "CredentialsCallback",
    "LogCallback",
    "ProgressCallback",
    "LOG_ERROR",
    "LOG_WARN",
    "LOG_INFO",
    "LOG_DEBUG",
]

_logger = logging.getLogger("superoffice_ffi")

#: ``() -> str | None``: returns a fresh ticket or bearer token, or None.
CredentialsCallback = Callable[[], Optional[str]]
#: ``(level, message) -> None`` with the ``LOG_*`` levels.
LogCallback = Callable[[int, str], None]
#: ``(done, total) -> None``.
ProgressCallback = Callable[[int, int], None]

LOG_ERROR = _native.SO_LOG_ERROR
LOG_WARN = _native.SO_LOG_WARN
LOG_INFO = _native.SO_LOG_INFO
LOG_DEBUG = _native.SO_LOG_DEBUG

_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)
_UINT32_MAX = 2**32 - 1

PathLike = Union[str, "os.PathLike[str]"]


# --------------------------------------------------------------------------
# Checks done before any native call: types and the ranges of the C types
# --------------------------------------------------------------------------

def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, ResultCode.INVALID_ARGUMENT)


def _encode(name: str, value: Any, *, optional: bool = True) -> Optional[bytes]:
    """A ``str`` (or None when optional) as NUL-free UTF-8 bytes."""
    if value is None:
        if optional:
            return None
        raise TypeError(f"{name} must be a str, not None")
    if not isinstance(value, str):
        expected = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {expected}, not {type(value).__name__}")
    if "\x00" in value:
        raise _invalid(f"{name} must not contain a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid(f"{name} cannot be encoded as UTF-8: {exc.reason}") from None


def _integer(name: str, value: Any) -> int:
    """Any integer but a bool, as an ``int``."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None


def _person_id(value: Any) -> int:
    """A person id as a C ``int32_t``. Whether it is a valid id (positive) is the
    library's rule: it refuses 0 and negative ids with ``SO_ERR_INVALID_ARGUMENT``."""
    number = _integer("person_id", value)
    if not _INT32_MIN <= number <= _INT32_MAX:
        # ctypes would silently wrap it into another id: not a C int32_t.
        raise _invalid(f"person_id {number} does not fit in a 32-bit signed integer")
    return number


def _uint32(name: str, value: Any, *, minimum: int = 0) -> int:
    number = _integer(name, value)
    if not minimum <= number <= _UINT32_MAX:
        raise _invalid(f"{name} must be between {minimum} and {_UINT32_MAX}, not {number}")
    return number


def _milliseconds(name: str, seconds: Any) -> int:
    """Seconds (None: no limit) as the C ABI's milliseconds (0: no limit)."""
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(seconds).__name__}")
    value = float(seconds)
    if math.isnan(value) or value <= 0:
        raise _invalid(f"{name} must be a positive number of seconds, or None for no limit")
    # Round up, so that a tiny positive timeout never becomes 0 (= no limit).
    ms = math.ceil(value * 1000) if math.isfinite(value) else _UINT32_MAX + 1
    if ms > _UINT32_MAX:
        raise _invalid(f"{name} must be at most {_UINT32_MAX / 1000:.0f} seconds, or None for no limit")
    return ms


def _select(value: Any) -> Optional[bytes]:
    if value is None or isinstance(value, str):
        return _encode("select", value)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        fields = list(value)
        for field in fields:
            if not isinstance(field, str):
                raise TypeError(f"select fields must be str, not {type(field).__name__}")
        return _encode("select", ",".join(fields))
    raise TypeError(f"select must be a str, an iterable of str or None, not {type(value).__name__}")


def _basic(value: Any) -> Tuple[bytes, bytes]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError("basic must be a (username, password) tuple")
    user = _encode("basic username", value[0], optional=False)
    password = _encode("basic password", value[1], optional=False)
    assert user is not None and password is not None
    return user, password


# --------------------------------------------------------------------------
# Callbacks: Python callables behind C function pointers
# --------------------------------------------------------------------------

def _credentials_thunk(callback: CredentialsCallback) -> Any:
    if not callable(callback):
        raise TypeError("credentials_callback must be callable")

    def thunk(userdata: Any, buffer: Optional[int], buffer_len: int) -> int:
        try:
            token = callback()
            if token is None:
                return 0
            if not isinstance(token, str):
                _logger.error("credentials_callback returned %s, not str or None; ignored",
                              type(token).__name__)
                return 0
            data = token.encode("utf-8")
            if not data or b"\x00" in data or len(data) > buffer_len or not buffer:
                _logger.error("credentials_callback returned an empty, NUL-containing or "
                              "too long (%d > %d bytes) value; ignored", len(data), buffer_len)
                return 0
            ctypes.memmove(buffer, data, len(data))
            return len(data)
        except Exception:  # never let an exception unwind into the library
            _logger.exception("credentials_callback raised; no fresh credentials")
            return 0

    return _native.so_credentials_callback(thunk)


def _log_thunk(callback: LogCallback) -> Any:
    if not callable(callback):
        raise TypeError("log_callback must be callable")

    def thunk(userdata: Any, level: int, message: Optional[bytes]) -> None:
        try:
            callback(int(level), message.decode("utf-8", "replace") if message else "")
        except Exception:
            _logger.exception("log_callback raised; the message was dropped")

    return _native.so_log_callback(thunk)


def _progress_thunk(callback: ProgressCallback) -> Any:
    if not callable(callback):
        raise TypeError("progress must be callable")

    def thunk(userdata: Any, done: int, total: int) -> None:
        try:
            callback(int(done), int(total))
        except Exception:
            _logger.exception("progress callback raised; ignored")

    return _native.so_progress_callback(thunk)


_LOGGING_LEVELS = {
    LOG_ERROR: logging.ERROR,
    LOG_WARN: logging.WARNING,
    LOG_INFO: logging.INFO,
    LOG_DEBUG: logging.DEBUG,
}


def logging_log_callback(level: int, message: str) -> None:
    """A ready-made ``log_callback`` that forwards the library's log lines to
    the :mod:`logging` logger ``"superoffice_ffi.native"``."""
    logging.getLogger("superoffice_ffi.native").log(
        _LOGGING_LEVELS.get(level, logging.DEBUG), "%s", message
    )


# --------------------------------------------------------------------------
# Batch items and results
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class SendItem:
    """One e-mail of :meth:`Client.send_many` (same meaning as the arguments of
    :meth:`Client.send_customer_centre_password_email`)."""

    person_id: int
    sender: Optional[str] = None
    recipient: Optional[str] = None
    subject: Optional[str] = None


@dataclass(frozen=True)
class SendResult:
    """The outcome of one item of :meth:`Client.send_many`.

    Attributes:
        code: :attr:`ResultCode.OK` or the item's failure code.
        http_status: the HTTP status, ``0`` when there was no HTTP answer.
        message: the library's message, ``None`` on success.
        error_type: the server's ``ErrorType``, ``None`` when it sent none.
        ok: ``code == ResultCode.OK``.
        delivery: whether the server may have the item's request (a
            :class:`Delivery`; ``ANSWERED`` on success).
    """

    code: Union[ResultCode, int]
    http_status: int
    message: Optional[str]
    error_type: Optional[str]
    ok: bool
    delivery: Delivery = Delivery.NONE

    @property
    def may_have_been_sent(self) -> bool:
        """Whether the item's e-mail may have gone out (the library's rule, as
        :attr:`SuperOfficeError.may_have_been_sent`; true on success)."""
        if self.delivery in (Delivery.NONE, Delivery.NOT_SENT):
            return False
        return may_have_been_sent(self.delivery, self.http_status)

    def exception(self) -> Optional[SuperOfficeError]:
        """The exception :meth:`Client.send_customer_centre_password_email`
        would have raised for this item, or None when it succeeded."""
        if self.ok:
            return None
        return exception_class_for(int(self.code))(
            self.message or _native.result_str(int(self.code)),
            int(self.code),
            self.http_status,
            self.error_type or "",
            self.delivery,
        )

    def raise_for_error(self) -> None:
        """Raise :meth:`exception` when the item failed."""
        error = self.exception()
        if error is not None:
            raise error


ItemLike = Union[SendItem, int, Mapping[str, Any], Sequence[Any]]


def _item(index: int, item: Any) -> Tuple[int, Optional[bytes], Optional[bytes], Optional[bytes]]:
    where = f"items[{index}]"
    if isinstance(item, SendItem):
        fields = (item.person_id, item.sender, item.recipient, item.subject)
    elif isinstance(item, Mapping):
        unknown = set(item) - {"person_id", "sender", "recipient", "subject"}
        if unknown:
            raise TypeError(f"{where} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        if "person_id" not in item:
            raise TypeError(f"{where} has no person_id")
        fields = (item["person_id"], item.get("sender"), item.get("recipient"), item.get("subject"))
    elif isinstance(item, (tuple, list)):
        if not 1 <= len(item) <= 4:
            raise TypeError(f"{where} must be (person_id[, sender[, recipient[, subject]]])")
        fields = tuple(item) + (None,) * (4 - len(item))
    else:
        fields = (item, None, None, None)
    try:
        return (
            _person_id(fields[0]),
            _encode("sender", fields[1]),
            _encode("recipient", fields[2]),
            _encode("subject", fields[3]),
        )
    except (TypeError, ValueError) as exc:
        # Name the item, keep the exception's class (and its attributes).
        exc.args = (f"{where}: {exc}",) + exc.args[1:]
        if isinstance(exc, SuperOfficeError):
            exc.message = exc.args[0]
        raise


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------

class _LoginCredentials:
    """What a login flow needs: plain holders with identity equality, each field passed to
    the flow's setter in the order of ``__slots__``; the ``repr`` shows only the fields in
    ``_shown``, the others as ``***``."""

    __slots__: Tuple[str, ...] = ()
    _shown: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        shown = (f"{f}={getattr(self, f)!r}" if f in self._shown else f"{f}=***" for f in self.__slots__)
        return f"{type(self).__name__}({', '.join(shown)})"


@dataclass(repr=False, eq=False)
class SystemUser(_LoginCredentials):
    """A SuperOffice Online system user: the library signs, exchanges, validates and
    renews its ticket (see ``so_options_set_system_user`` in ``superoffice.h``).

    Args:
        token: the tenant's system user token, exactly as received.
        private_key: the partner's RSA key's text: PEM PKCS#1, PEM PKCS#8 or .NET
            ``<RSAKeyValue>`` XML (read when the client is made).
        client_secret: the application's client secret (also sent as
            ``SO-AppToken`` unless ``app_token`` is given).

    Its ``repr`` shows none of the three.
    """

    __slots__ = ("token", "private_key", "client_secret")
    token: str
    private_key: str
    client_secret: str


@dataclass(repr=False, eq=False)
class OAuthRefresh(_LoginCredentials):
    """The OAuth 2.0 refresh token flow: the library gets and renews a Bearer access
    token (see ``so_options_set_oauth_refresh`` in ``superoffice.h``).

    Its ``repr`` shows only the client id.
    """

    __slots__ = ("client_id", "client_secret", "refresh_token")
    client_id: str
    client_secret: str
    refresh_token: str
    _shown = ("client_id",)


def _login_scheme(
    system_user: Optional[SystemUser], oauth: Optional[OAuthRefresh]
) -> Optional[Tuple[Any, Tuple[Optional[bytes], ...]]]:
    if system_user is not None and oauth is not None:
        raise TypeError("give system_user or oauth, not both")
    flows = (
        ("system_user", system_user, SystemUser, lib.so_options_set_system_user),
        ("oauth", oauth, OAuthRefresh, lib.so_options_set_oauth_refresh),
    )
    for name, value, cls, setter in flows:
        if value is None:
            continue
        if not isinstance(value, cls):
            raise TypeError(f"{name} must be a {cls.__name__}, not {type(value).__name__}")
        fields = cls.__slots__
        return setter, tuple(_encode(f"{name}.{f}", getattr(value, f), optional=False) for f in fields)
    return None


class Client:
    """A SuperOffice WebAPI client for one installation or tenant.

    Args:
        base_url: the installation's or tenant's URL, e.g.
            ``"https://sod.superoffice.com/Cust12345"``, with or without a
            trailing ``/api``; ``http`` or ``https`` only.
        ticket: a SuperOffice ticket, sent as ``Authorization: SOTicket <ticket>``.
        bearer_token: an OAuth access token, sent as ``Authorization: Bearer <token>``.
        basic: a ``(username, password)`` tuple for ``Authorization: Basic``.
            A client has one authentication scheme. The rule is the library's
            (documented in ``superoffice.h``): a scheme set replaces the one set
            before, so when several are given, the last of ``ticket``,
            ``bearer_token``, ``basic`` (in that order) is the one used.
        system_user: a :class:`SystemUser`: the client gets its own ticket from
            SuperOffice's login service on the first send, shares it across threads
            (one login however many send at once), and on a 401 gets a new one and
            sends that request once more. Failures raise :class:`CredentialsError`.
        oauth: an :class:`OAuthRefresh`: the client gets and renews a Bearer token.
            ``system_user`` and ``oauth`` replace ``ticket``, ``bearer_token`` and
            ``basic``.
        shared_credentials: True (default): a ticket or token the client gets
            from the login service is shared with this process's other clients of
            the same identity (system user or OAuth, login URL, tenant, token, key,
            client secret, CA file contents, proxy): one login for all of them, kept
            after the clients close (until refused, expired, or
            :func:`forget_credentials`). False: the client keeps its own.
        login_url: SuperOffice's login service, e.g.
            ``"https://sod.superoffice.com/login"``; None derives it from the base
            URL's host.
        context_identifier: the tenant, e.g. ``"Cust12345"``; None: the base URL's
            first path segment.
        app_token: the application token, sent as ``SO-AppToken``.
        xsrf_token: sent as ``X-XSRF-TOKEN``, beside any authentication scheme.
        language: sent as ``Accept-Language`` and ``SO-Language``.
        culture: sent as ``SO-Culture``.
        timezone: sent as ``SO-TimeZone``.
        select: ``$select`` for the query: a string, or an iterable of field names.
        connect_timeout: seconds to connect (None: no limit). Default 10.
        timeout: seconds for the whole call, retries and waits included
            (None: no limit). Default 30.
        max_retries: retries of requests the server provably did not process
            (failed connections, 429, 503); 0 disables, at most 10. Default 2.
        ca_file: a PEM bundle added to the default roots.
        proxy: ``"http://[user:pass@]host:port"``; ``""`` for no proxy at all;
            None (default) uses the proxy environment variables.
        credentials_callback: called with no arguments on a 401 when a ticket or
            bearer token is set; returns a fresh one (``str``), or None. It may run
            on any thread that sends (the worker threads of a batch); exceptions
            are logged and mean None.
        log_callback: called as ``log_callback(level, message)`` with
            ``LOG_ERROR`` (1) .. ``LOG_DEBUG`` (4), possibly from several threads
            at once; see :func:`logging_log_callback`.

    Raises:
        TypeError: an argument of the wrong type.
        InvalidArgumentError: (a ``ValueError``) a value refused: a malformed
            URL or an international host name IDNA refuses, CR/LF in a header
            value, a NUL character, an out-of-range number.

    A client is safe to share between threads: sends run in parallel (ctypes
    releases the GIL during native calls) over one pool of connections. Use it
    as a context manager, or call :meth:`close`.
    """

    #: Asynchronous sends on the network at once (``AsyncClient``'s setting).
    _max_in_flight: Optional[int] = None

    def __init__(
        self,
        base_url: str,
        *,
        ticket: Optional[str] = None,
        bearer_token: Optional[str] = None,
        basic: Optional[Tuple[str, str]] = None,
        system_user: Optional[SystemUser] = None,
        oauth: Optional[OAuthRefresh] = None,
        shared_credentials: bool = True,
        login_url: Optional[str] = None,
        context_identifier: Optional[str] = None,
        app_token: Optional[str] = None,
        xsrf_token: Optional[str] = None,
        language: Optional[str] = None,
        culture: Optional[str] = None,
        timezone: Optional[str] = None,
        select: Union[str, Iterable[str], None] = None,
        connect_timeout: Optional[float] = 10.0,
        timeout: Optional[float] = 30.0,
        max_retries: int = 2,
        ca_file: Optional[PathLike] = None,
        proxy: Optional[str] = None,
        credentials_callback: Optional[CredentialsCallback] = None,
        log_callback: Optional[LogCallback] = None,
    ) -> None:
        # State first, so that close()/__del__ work whatever fails below.
        self._lock = threading.Lock()
        self._handle: Any = None
        self._active = 0
        self._closed = True
        self._keepalive: Tuple[Any, ...] = ()
        self._base_url = base_url

        # 1. Python-side checks: types, C ranges, NUL. No native call yet.
        url_b = _encode("base_url", base_url, optional=False)
        ticket_b = _encode("ticket", ticket)
        bearer_b = _encode("bearer_token", bearer_token)
        basic_b = _basic(basic) if basic is not None else None
        login_scheme = _login_scheme(system_user, oauth)
        if not isinstance(shared_credentials, bool):
            raise TypeError(
                f"shared_credentials must be True or False, not {type(shared_credentials).__name__}"
            )
        login_url_b = _encode("login_url", login_url)
        context_b = _encode("context_identifier", context_identifier)
        headers = [
            (lib.so_options_set_app_token, _encode("app_token", app_token)),
            (lib.so_options_set_xsrf_token, _encode("xsrf_token", xsrf_token)),
            (lib.so_options_set_language, _encode("language", language)),
            (lib.so_options_set_culture, _encode("culture", culture)),
            (lib.so_options_set_timezone, _encode("timezone", timezone)),
            (lib.so_options_set_select, _select(select)),
        ]
        connect_ms = _milliseconds("connect_timeout", connect_timeout)
        total_ms = _milliseconds("timeout", timeout)
        retries = _uint32("max_retries", max_retries)
        if ca_file is not None and not isinstance(ca_file, (str, os.PathLike)):
            raise TypeError(f"ca_file must be a path or None, not {type(ca_file).__name__}")
        ca_file_b = _encode("ca_file", os.fspath(ca_file) if ca_file is not None else None)
        proxy_b = _encode("proxy", proxy)
        credentials_thunk = (
            _credentials_thunk(credentials_callback) if credentials_callback is not None else None
        )
        log_thunk = _log_thunk(log_callback) if log_callback is not None else None

        # 2. Native settings; the library validates values and may refuse them.
        options = lib.so_options_new(url_b)
        try:
            if ticket_b is not None:
                lib.so_options_set_ticket(options, ticket_b)
            if bearer_b is not None:
                lib.so_options_set_bearer_token(options, bearer_b)
            if basic_b is not None:
                lib.so_options_set_basic_auth(options, basic_b[0], basic_b[1])
            if login_scheme is not None:
                login_scheme[0](options, *login_scheme[1])
            lib.so_options_set_shared_credentials(options, 1 if shared_credentials else 0)
            if login_url_b is not None:
                lib.so_options_set_login_url(options, login_url_b)
            if context_b is not None:
                lib.so_options_set_context_identifier(options, context_b)
            for setter, value in headers:
                if value is not None:
                    setter(options, value)
            lib.so_options_set_timeout_ms(options, connect_ms, total_ms)
            lib.so_options_set_max_retries(options, retries)
            if self._max_in_flight is not None:  # set by AsyncClient (aio.py)
                lib.so_options_set_max_in_flight(options, self._max_in_flight)
            if ca_file_b is not None:
                lib.so_options_set_ca_file(options, ca_file_b)
            if proxy_b is not None:
                lib.so_options_set_proxy(options, proxy_b)
            if credentials_thunk is not None:
                lib.so_options_set_credentials_callback(options, credentials_thunk, None)
            if log_thunk is not None:
                lib.so_options_set_log_callback(options, log_thunk, None)
            handle = lib.so_client_new(options)
        finally:
            lib.so_options_free(options)

        # The native client holds the callbacks' function pointers: keep the
        # ctypes thunks alive until it is freed.
        self._keepalive = tuple(t for t in (credentials_thunk, log_thunk) if t is not None)
        self._handle = handle
        self._closed = False

    # -- handle access: a reader count, never held across a native send ----

    def _acquire(self) -> Any:
        with self._lock:
            if self._closed:
                raise ClientClosedError(
                    f"the SuperOffice client for {self._base_url} is closed"
                )
            self._active += 1
            return self._handle

    def _release(self) -> None:
        handle = None
        with self._lock:
            self._active -= 1
            if self._closed and self._active == 0 and self._handle is not None:
                handle, self._handle = self._handle, None
        if handle is not None:
            self._free(handle)

    def _free(self, handle: Any) -> None:
        lib.so_client_free(handle)
        self._keepalive = ()

    def close(self) -> None:
        """Close the client. Idempotent, thread-safe and non-blocking.

        Later calls raise :class:`ClientClosedError`. Sends already running on
        other threads finish normally; the native client is freed when the
        last of them returns (at once when none is running).
        """
        handle = None
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._active == 0 and self._handle is not None:
                handle, self._handle = self._handle, None
        if handle is not None:
            self._free(handle)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def base_url(self) -> str:
        """The base URL the client was created with."""
        return self._base_url

    def __enter__(self) -> "Client":
        if self._closed:
            raise ClientClosedError(f"the SuperOffice client for {self._base_url} is closed")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may be gone
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<superoffice_ffi.Client {self._base_url!r} {state}>"

    # -- sending ----------------------------------------------------------

    def authenticate(self) -> None:
        """Get the credential now, without sending an e-mail (``so_client_authenticate``).

        For a :class:`SystemUser`, the login and the JWT check; for an
        :class:`OAuthRefresh`, the token request (or the credential another client
        of the same identity already holds). Meant for start-up: a wrong key,
        secret, tenant or login service shows before the first e-mail. For a
        ticket, bearer token or Basic credentials it returns at once: there is
        nothing to obtain, and nothing is verified.

        Raises:
            CredentialsError: no credential could be obtained (the message says
                which step failed).
            ClientClosedError: the client was closed.
        """
        handle = self._acquire()
        try:
            lib.so_client_authenticate(handle)
        finally:
            self._release()

    def send_customer_centre_password_email(
        self,
        person_id: int,
        *,
        sender: Optional[str] = None,
        recipient: Optional[str] = None,
        subject: Optional[str] = None,
    ) -> None:
        """``POST /api/v1/Agents/Person/SendCustomerCentrePasswordEmail``.

        Sends the Customer Centre password e-mail to a person. The JSON body is
        ``{"PersonId": person_id, "From": sender, "To": recipient,
        "Subject": subject}``; ``None`` is sent as JSON ``null`` (the server's
        defaults). ``sender``/``recipient`` stand for the API's ``From``/``To``
        (``from`` is a Python keyword).

        Args:
            person_id: the person's id; the library refuses 0 and negative ids.
            sender: the ``From`` address, or None.
            recipient: the ``To`` address, or None.
            subject: the ``Subject``, or None.

        Raises:
            TypeError: wrong argument types (``bool`` is not a person id).
            InvalidArgumentError: a person id that is not positive (the
                library's rule) or does not fit in 32 bits, a NUL character.
            ClientClosedError: the client was closed.
            SuperOfficeError: a subclass for every failure the library reports.
        """
        pid = _person_id(person_id)
        sender_b = _encode("sender", sender)
        recipient_b = _encode("recipient", recipient)
        subject_b = _encode("subject", subject)
        handle = self._acquire()
        try:
            lib.so_send_cc_password_email(handle, pid, sender_b, recipient_b, subject_b)
        finally:
            self._release()

    def find_person_ids_by_email(self, email: str) -> List[int]:
        """The ids of the persons whose e-mail address is ``email``.

        ``GET /api/v1/Person`` with ``$filter=email/emailAddress is '<email>'``
        (trimmed; compared without regard to case; retired persons are not
        searched). Every row of the answer is checked by the library: one that is
        not a person with that address fails the whole search.

        Returns:
            The person ids, ``[]`` when no person has the address.

        Raises:
            InvalidArgumentError: the address has a control character, no ``@``,
                or more than 254 characters (nothing is sent).
            TransportError: the server's answer cannot be trusted (it did not
                apply the e-mail filter, or its rows carry no e-mail column).
            AmbiguousRecipientError: more than 50 persons have the address.
            ClientClosedError: the client was closed.
            SuperOfficeError: a subclass for every other failure.
        """
        email_b = _encode("email", email, optional=False)
        handle = self._acquire()
        try:
            count = ctypes.c_size_t(0)
            ids = (ctypes.c_int32 * 4)()
            try:
                lib.so_find_persons_by_email(handle, email_b, ids, len(ids), ctypes.byref(count))
            except BufferTooSmallError:
                # The library said how many it found; one more search with room for
                # them (should more appear in between, that one raises).
                ids = (ctypes.c_int32 * count.value)()
                lib.so_find_persons_by_email(handle, email_b, ids, len(ids), ctypes.byref(count))
            return [int(ids[i]) for i in range(count.value)]
        finally:
            self._release()

    def send_customer_centre_password_email_to_address(
        self,
        recipient: str,
        sender: Optional[str] = None,
        subject: Optional[str] = None,
    ) -> int:
        """Send the Customer Centre password e-mail of the one person whose
        e-mail address is ``recipient``, to that address.

        Finds the persons as :meth:`find_person_ids_by_email` does; with exactly
        one, sends as :meth:`send_customer_centre_password_email` does.

        Returns:
            The person id the e-mail was sent for.

        Raises:
            RecipientNotFoundError: no person has the address; nothing was sent.
            AmbiguousRecipientError: several persons have it (the message lists
                up to 10 of their ids); nothing was sent.
            InvalidArgumentError, TransportError, ClientClosedError,
            SuperOfficeError: as for :meth:`find_person_ids_by_email` and a send.
        """
        recipient_b = _encode("recipient", recipient, optional=False)
        sender_b = _encode("sender", sender)
        subject_b = _encode("subject", subject)
        person = ctypes.c_int32(0)
        handle = self._acquire()
        try:
            lib.so_send_cc_password_email_to_address(
                handle, sender_b, recipient_b, subject_b, ctypes.byref(person))
            return int(person.value)
        finally:
            self._release()

    def send_many(
        self,
        items: Iterable[ItemLike],
        *,
        max_concurrency: int = 8,
        progress: Optional[ProgressCallback] = None,
    ) -> List[SendResult]:
        """Send many password e-mails, up to ``max_concurrency`` at once.

        Args:
            items: each a :class:`SendItem`, a person id, a tuple
                ``(person_id[, sender[, recipient[, subject]]])`` or a mapping
                with those keys.
            max_concurrency: how many requests may run at once, 1 to 64.
            progress: called as ``progress(done, total)`` as items finish, on
                the thread that called ``send_many`` (never on another).

        Returns:
            One :class:`SendResult` per item, in the order of ``items``. A failed
            item does not raise (an item the library refuses, such as a person id
            of 0, has its own ``INVALID_ARGUMENT`` result and is not sent); see
            :attr:`SendResult.ok` and :meth:`SendResult.raise_for_error`.

        Raises:
            TypeError, InvalidArgumentError: an item that is not one, or a bad
                argument (nothing is sent).
            ClientClosedError: the client was closed.
            SuperOfficeError: the library refused the batch as a whole (nothing
                was sent), e.g. ``max_concurrency`` out of range.
        """
        checked = [_item(i, item) for i, item in enumerate(items)]
        concurrency = _uint32("max_concurrency", max_concurrency)
        # A NULL function pointer when there is no callback (ctypes refuses None).
        progress_thunk = (
            _progress_thunk(progress) if progress is not None else _native.so_progress_callback()
        )

        count = len(checked)
        c_items = (_native.so_batch_item * count)()
        for slot, (pid, sender_b, recipient_b, subject_b) in zip(c_items, checked):
            slot.person_id = pid
            slot.from_ = sender_b
            slot.to = recipient_b
            slot.subject = subject_b
        c_results = (_native.so_batch_result * count)()
        c_deliveries = (ctypes.c_int32 * count)()
        failed = ctypes.c_size_t(0)

        handle = self._acquire()
        try:
            try:
                # Raises when the library refused the batch; otherwise every item
                # has its result (the library initialises every slot first, so
                # clearing is always safe).
                lib.so_send_cc_password_email_batch_with_deliveries(
                    handle, c_items, count, concurrency, progress_thunk, None, c_results,
                    c_deliveries, ctypes.byref(failed),
                )
                return [self._result(slot, delivery) for slot, delivery in zip(c_results, c_deliveries)]
            finally:
                lib.so_batch_results_clear(c_results, count)
        finally:
            self._release()

    @staticmethod
    def _result(slot: Any, delivery: int) -> SendResult:
        code = int(slot.code)
        try:
            typed_code: Union[ResultCode, int] = ResultCode(code)
        except ValueError:
            typed_code = code
        message = slot.message
        error_type = slot.error_type
        return SendResult(
            code=typed_code,
            http_status=int(slot.http_status),
            message=message.decode("utf-8", "replace") if message is not None else None,
            error_type=error_type.decode("utf-8", "replace") if error_type is not None else None,
            ok=code == ResultCode.OK,
            delivery=Delivery(delivery) if delivery in Delivery._value2member_map_ else Delivery.UNKNOWN,
        )


# --------------------------------------------------------------------------
# Tenant lookup
# --------------------------------------------------------------------------

#: The first buffer tried; a longer URL is fetched again with the size the
#: library reports.
_URL_BUFFER_START = 512


def lookup_tenant_api_url(customer_id: str, state_endpoint: Optional[str] = None) -> str:
    """The API URL of an online tenant, from SuperOffice's tenant-state service.

    Calls ``GET {state_endpoint}/api/state/{customer_id}``.

    Args:
        customer_id: e.g. ``"Cust12345"``.
        state_endpoint: the state service; None for ``https://sod.superoffice.com``.

    Returns:
        The tenant's ``Api`` URL, e.g. ``"https://sod2.superoffice.com/Cust12345/api"``.

    Raises:
        TenantUnavailableError: the tenant is not running (maintenance, suspended).
        NotFoundError: no such customer.
        SuperOfficeError: any other failure.
    """
    customer_b = _encode("customer_id", customer_id, optional=False)
    endpoint_b = _encode("state_endpoint", state_endpoint)
    needed = ctypes.c_size_t(0)
    buffer = ctypes.create_string_buffer(_URL_BUFFER_START)
    try:
        lib.so_lookup_tenant_api_url_sized(endpoint_b, customer_b, buffer, len(buffer),
                                           ctypes.byref(needed))
    except BufferTooSmallError:
        # The library said how much it needs; one more lookup with that (should
        # the URL have grown in between, that one raises BufferTooSmallError).
        buffer = ctypes.create_string_buffer(needed.value)
        lib.so_lookup_tenant_api_url_sized(endpoint_b, customer_b, buffer, len(buffer),
                                           ctypes.byref(needed))
    return buffer.value.decode("utf-8", "replace")


def forget_credentials() -> None:
    """Drop and wipe every credential the library obtained from the login service in
    this process (``so_credentials_forget_all``): shared ones and each client's own.
    Every client logs in again on its next send."""
    lib.so_credentials_forget_all()


def version() -> str:
    """The loaded libsuperoffice's version (``so_version()``), e.g. ``"0.1.0"``."""
    return _native.version()
