"""Python binding for libsuperoffice, the native SuperOffice WebAPI client.

::

    from superoffice_ffi import Client

    with Client("https://sod.superoffice.com/Cust12345", ticket=t, app_token=a,
                language="sv") as so:
        so.send_customer_centre_password_email(
            670, sender="support@example.com", recipient="kari@example.com",
            subject="Your password")

Importing the package does not load the shared library: that happens when the first
client is created (or :func:`version`, :func:`library_path` or
:func:`lookup_tenant_api_url` is called). It is looked for as
:mod:`superoffice_ffi._native` describes (``SUPEROFFICE_LIB`` first) and its version
checked; failures raise :class:`LibraryLoadError` / :class:`LibraryVersionError`
(both ``ImportError``) naming ``SUPEROFFICE_LIB``.
"""

from __future__ import annotations

from typing import Any

from . import _native, client, errors
from .aio import AsyncClient, cancelled_delivery
from .client import (
    LOG_DEBUG,
    LOG_ERROR,
    LOG_INFO,
    LOG_WARN,
    Client,
    CredentialsCallback,
    LogCallback,
    OAuthRefresh,
    ProgressCallback,
    SendItem,
    SendResult,
    SystemUser,
    forget_credentials,
    logging_log_callback,
    lookup_tenant_api_url,
    version,
)
from .errors import (
    BadRequestError,
    BufferTooSmallError,
    ClientClosedError,
    Delivery,
    ForbiddenError,
    HTTPStatusError,
    InvalidArgumentError,
    LibraryLoadError,
    LibraryVersionError,
    NotFoundError,
    NullArgumentError,
    OperationCancelledError,
    PanicError,
    RateLimitedError,
    ResultCode,
    ServerError,
    SuperOfficeConnectionError,
    SuperOfficeError,
    SuperOfficeTimeoutError,
    TenantUnavailableError,
    CredentialsError,
    RecipientError,
    RecipientNotFoundError,
    AmbiguousRecipientError,
    TLSError,
    TransportError,
    UnauthorizedError,
)

__version__ = "0.1.0"

#: The libsuperoffice version this binding was written for.
REQUIRED_LIBRARY_VERSION = _native.REQUIRED_VERSION


def library_path() -> str:
    """The path (or system name) of the loaded libsuperoffice (loading it if needed)."""
    return str(_native.LIBRARY_PATH)


def library_source() -> str:
    """How the library was found: ``"SUPEROFFICE_LIB"``, ``"package"``,
    ``"repository"`` or ``"system"``."""
    return str(_native.LIBRARY_SOURCE)


# The public names: the client module's, the error classes (not their lookup helpers),
# and what this package adds.
__all__ = [
    "AsyncClient",
    "cancelled_delivery",
    "version",
    "library_path",
    "library_source",
    "REQUIRED_LIBRARY_VERSION",
]
__all__ += client.__all__
__all__ += [n for n in errors.__all__ if n not in ("EXCEPTION_BY_CODE", "exception_class_for")]


def __getattr__(name: str) -> Any:
    """The binding's first, deprecated names (``TlsError``, ``IoError``,
    ``HttpStatusError``): the same classes, with a :class:`DeprecationWarning`."""
    if name in errors.DEPRECATED_NAMES:
        return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
