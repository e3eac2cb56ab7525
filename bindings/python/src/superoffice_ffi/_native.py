"""The low-level layer: find and load libsuperoffice, declare every function.

This is the only module that touches ctypes' view of the C ABI. It

* finds the shared library (see :func:`find_library` for the order) the
  first time something needs it, not at import: importing the package works
  without a library (type checkers, documentation tools, ``pip show``), and a
  missing library is a :class:`LibraryLoadError` naming ``SUPEROFFICE_LIB``
  when a client is created or ``version()`` is called,
* checks ``so_version()`` against :data:`REQUIRED_VERSION`,
* declares ``argtypes`` and ``restype`` for every exported function
  (``include/superoffice.h`` is the reference; ``docs/c-api-extensions.md``
  lists what was added to the first contract),
* turns result codes into exceptions in one place: the ``errcheck`` functions
  below call :func:`error_from_last_error`, which reads
  ``so_last_error_message``, ``so_last_error_http_status`` and
  ``so_last_error_type`` right after the failing call, on the same thread.

Nothing here validates values: :mod:`superoffice_ffi.client` converts Python
values to C ones (types, NUL, what fits in a C integer), and the library decides
everything else (a positive person id, URLs, header values, ranges).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int32,
    c_size_t,
    c_uint32,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

from .errors import (
    LibraryLoadError,
    LibraryVersionError,
    ResultCode,
    SuperOfficeError,
    exception_class_for,
)

#: The libsuperoffice version this binding was written for. A library is
#: accepted when it has the same major version (for 0.x: the same 0.minor)
#: and is at least this version.
REQUIRED_VERSION = "0.1.0"

#: Environment variable naming the library file to load (checked first).
ENV_VAR = "SUPEROFFICE_LIB"

if sys.platform == "win32":  # pragma: no cover - the win_amd64 wheel's; not run here
    LIBRARY_FILE_NAME = "superoffice.dll"
elif sys.platform == "darwin":  # pragma: no cover
    LIBRARY_FILE_NAME = "libsuperoffice.dylib"
else:
    LIBRARY_FILE_NAME = "libsuperoffice.so"

_PACKAGE_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------
# Finding the library
# --------------------------------------------------------------------------

def _repository_root() -> Optional[Path]:
    """The repository this package's source lives in, if it is run from it.

    ``<repo>/bindings/python/src/superoffice_ffi/_native.py``: true for an
    editable install or ``PYTHONPATH=bindings/python/src``; false once the
    package is copied into a site-packages directory.
    """
    parents = _PACKAGE_DIR.parents
    if len(parents) < 4:
        return None
    root = parents[3]
    if (root / "Cargo.toml").is_file() and (root / "bindings" / "python").is_dir():
        return root
    return None


def library_candidates() -> List[Tuple[str, str]]:
    """Where the library is looked for, in order, as ``(source, path)`` pairs.

    1. ``SUPEROFFICE_LIB``: the file it names (when set and non-empty it is the
       only candidate: a wrong value is an error, not a reason to look elsewhere);
    2. ``package``: a copy inside this package (what a wheel built with
       ``build-wheel.sh`` carries);
    3. ``repository``: ``target/release`` of the repository this package's
       source is in (editable or development installs);
    4. ``system``: ``ctypes.util.find_library("superoffice")``.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return [(ENV_VAR, env)]
    found: List[Tuple[str, str]] = []
    bundled = _PACKAGE_DIR / LIBRARY_FILE_NAME
    if bundled.is_file():
        found.append(("package", str(bundled)))
    root = _repository_root()
    if root is not None:
        built = root / "target" / "release" / LIBRARY_FILE_NAME
        if built.is_file():
            found.append(("repository", str(built)))
    system = ctypes.util.find_library("superoffice")
    if system:
        found.append(("system", system))
    return found


def find_library() -> Tuple[str, str]:
    """The first library candidate, as ``(source, path)``; raises
    :class:`LibraryLoadError` when there is none."""
    env = os.environ.get(ENV_VAR)
    if env and not os.path.isfile(env):
        raise LibraryLoadError(
            f"{ENV_VAR} is set to {env!r}, which is not a file; point it at "
            f"{LIBRARY_FILE_NAME} (e.g. target/release/{LIBRARY_FILE_NAME}) or unset it"
        )
    candidates = library_candidates()
    if not candidates:
        root = _repository_root()
        repo_hint = (
            f", {root / 'target' / 'release' / LIBRARY_FILE_NAME}" if root else ""
        )
        raise LibraryLoadError(
            f"cannot find {LIBRARY_FILE_NAME}: looked at ${ENV_VAR} (unset), "
            f"{_PACKAGE_DIR / LIBRARY_FILE_NAME}{repo_hint} and the system library "
            f"path; build it with `cargo build --release` and set {ENV_VAR} to it, "
            f"or install a wheel that bundles it"
        )
    return candidates[0]


def _parse_version(text: str) -> Tuple[int, int, int]:
    core = text.strip().split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    if len(parts) != 3:
        raise ValueError(text)
    major, minor, patch = (int(p) for p in parts)
    return major, minor, patch


def is_compatible_version(found: str, required: str = REQUIRED_VERSION) -> bool:
    """Whether a library reporting ``found`` can serve a binding written for
    ``required``: same major version (same ``0.minor`` before 1.0), not older."""
    try:
        have = _parse_version(found)
    except ValueError:
        return False
    want = _parse_version(required)
    if have[0] != want[0]:
        return False
    if want[0] == 0 and have[1] != want[1]:
        return False
    return have >= want


# --------------------------------------------------------------------------
# C types
# --------------------------------------------------------------------------

class so_options(Structure):
    """Opaque ``so_options`` (only ever used through a pointer)."""


class so_client(Structure):
    """Opaque ``so_client`` (only ever used through a pointer)."""


class so_operation(Structure):
    """Opaque ``so_operation``: one asynchronous send (only ever used through a pointer)."""


class so_completion_queue(Structure):
    """Opaque ``so_completion_queue``: completed asynchronous sends for one waiting thread."""


so_options_p = POINTER(so_options)
so_client_p = POINTER(so_client)
so_operation_p = POINTER(so_operation)
so_completion_queue_p = POINTER(so_completion_queue)
so_result = c_int32
#: ``so_delivery``: whether the server may have a send's request (see errors.Delivery).
so_delivery = c_int32


class so_batch_item(Structure):
    """``so_batch_item``: one e-mail of a batch (``from`` is a Python keyword)."""

    _fields_ = [
        ("person_id", c_int32),
        ("from_", c_char_p),
        ("to", c_char_p),
        ("subject", c_char_p),
    ]


class so_batch_result(Structure):
    """``so_batch_result``: one item's outcome; the strings are the library's,
    read them before ``so_batch_results_clear``."""

    _fields_ = [
        ("code", c_int32),
        ("http_status", c_int32),
        ("message", c_char_p),
        ("error_type", c_char_p),
    ]


#: ``int32_t (*)(void *userdata, char *buffer, size_t buffer_len)``
so_credentials_callback = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t)
#: ``void (*)(void *userdata, int32_t level, const char *message)``
so_log_callback = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)
#: ``void (*)(void *userdata, size_t done, size_t total)``
so_progress_callback = CFUNCTYPE(None, c_void_p, c_size_t, c_size_t)
#: ``void (*)(void *userdata, so_operation *op, so_result code)``
so_completion_callback = CFUNCTYPE(None, c_void_p, c_void_p, c_int32)

#: Log levels of ``so_log_callback``.
SO_LOG_ERROR = 1
SO_LOG_WARN = 2
SO_LOG_INFO = 3
SO_LOG_DEBUG = 4

# --------------------------------------------------------------------------
# Errors: the one place where result codes become exceptions
# --------------------------------------------------------------------------

def _text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def error_from_last_error(code: int) -> SuperOfficeError:
    """Build the exception for ``code`` from this thread's last error.

    Must run on the thread of the failing call, before any other ``so_*`` call
    that would clear the last error (the readers used here do not clear it).
    """
    message = _text(lib.so_last_error_message())
    status = int(lib.so_last_error_http_status())
    error_type = _text(lib.so_last_error_type())
    delivery = int(lib.so_last_delivery())
    if not message:
        message = result_str(code)
    return exception_class_for(code)(message, code, status, error_type, delivery)


def _check_result(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """errcheck for functions returning ``so_result``: raise unless ``SO_OK``."""
    if result != ResultCode.OK:
        raise error_from_last_error(result)
    return result


def _check_pointer_or(code_if_null: int) -> Callable[[Any, Any, Tuple[Any, ...]], Any]:
    """errcheck for constructors returning NULL on error.

    The code is ``so_last_error_code()``; ``code_if_null`` only stands in should
    the library report none. The message, status and ErrorType are the library's.
    """

    def check(result: Any, func: Any, args: Tuple[Any, ...]) -> Any:
        if not result:
            code = int(lib.so_last_error_code())
            raise error_from_last_error(code if code != ResultCode.OK else code_if_null)
        return result

    return check


# --------------------------------------------------------------------------
# Declarations: every exported function
# --------------------------------------------------------------------------

# (name, restype, argtypes, errcheck)
FUNCTIONS: Sequence[Tuple[str, Any, List[Any], Optional[Callable[..., Any]]]] = [
    # Settings
    ("so_options_new", so_options_p, [c_char_p], _check_pointer_or(ResultCode.INVALID_ARGUMENT)),
    ("so_options_set_basic_auth", so_result, [so_options_p, c_char_p, c_char_p], _check_result),
    ("so_options_set_ticket", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_bearer_token", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_app_token", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_system_user", so_result, [so_options_p, c_char_p, c_char_p, c_char_p], _check_result),
    ("so_options_set_oauth_refresh", so_result, [so_options_p, c_char_p, c_char_p, c_char_p], _check_result),
    ("so_options_set_login_url", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_shared_credentials", so_result, [so_options_p, c_int32], _check_result),
    ("so_options_set_context_identifier", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_xsrf_token", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_language", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_culture", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_timezone", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_select", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_timeout_ms", so_result, [so_options_p, c_uint32, c_uint32], _check_result),
    ("so_options_set_max_retries", so_result, [so_options_p, c_uint32], _check_result),
    ("so_options_set_ca_file", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_proxy", so_result, [so_options_p, c_char_p], _check_result),
    ("so_options_set_credentials_callback", so_result,
     [so_options_p, so_credentials_callback, c_void_p], _check_result),
    ("so_options_set_log_callback", so_result,
     [so_options_p, so_log_callback, c_void_p], _check_result),
    ("so_options_free", None, [so_options_p], None),
    # Client
    ("so_client_new", so_client_p, [so_options_p], _check_pointer_or(ResultCode.INVALID_ARGUMENT)),
    ("so_send_cc_password_email", so_result,
     [so_client_p, c_int32, c_char_p, c_char_p, c_char_p], _check_result),
    ("so_client_free", None, [so_client_p], None),
    # Sending to an e-mail address
    ("so_find_persons_by_email", so_result,
     [so_client_p, c_char_p, POINTER(c_int32), c_size_t, POINTER(c_size_t)], _check_result),
    ("so_send_cc_password_email_to_address", so_result,
     [so_client_p, c_char_p, c_char_p, c_char_p, POINTER(c_int32)], _check_result),
    ("so_client_authenticate", so_result, [so_client_p], _check_result),
    ("so_credentials_forget_all", None, [], None),
    # Batch: SO_OK when the batch ran (failed items are in the results and the
    # count); any other code is a refused batch, raised like any failure.
    ("so_send_cc_password_email_batch", so_result,
     [so_client_p, POINTER(so_batch_item), c_size_t, c_uint32, so_progress_callback, c_void_p,
      POINTER(so_batch_result), POINTER(c_size_t)],
     _check_result),
    # The same, with each item's delivery (an so_delivery per item).
    ("so_send_cc_password_email_batch_with_deliveries", so_result,
     [so_client_p, POINTER(so_batch_item), c_size_t, c_uint32, so_progress_callback, c_void_p,
      POINTER(so_batch_result), POINTER(c_int32), POINTER(c_size_t)],
     _check_result),
    # The first batch functions (their code cannot tell a refused batch from failed
    # items); declared for completeness, unused by this binding.
    ("so_send_cc_password_emails", so_result,
     [so_client_p, POINTER(so_batch_item), c_size_t, c_uint32, POINTER(so_batch_result)], None),
    ("so_send_cc_password_emails_with_progress", so_result,
     [so_client_p, POINTER(so_batch_item), c_size_t, c_uint32, so_progress_callback, c_void_p,
      POINTER(so_batch_result)], None),
    ("so_batch_results_clear", None, [POINTER(so_batch_result), c_size_t], None),
    # Asynchronous send (operations are passed as plain addresses: c_void_p)
    ("so_options_set_max_in_flight", so_result, [so_options_p, c_uint32], _check_result),
    ("so_send_cc_password_email_async", so_result,
     [so_client_p, c_int32, c_char_p, c_char_p, c_char_p, so_completion_callback, c_void_p,
      POINTER(c_void_p)], _check_result),
    ("so_operation_cancel", so_result, [c_void_p], _check_result),
    ("so_operation_http_status", c_int32, [c_void_p], None),
    ("so_operation_error_message", c_char_p, [c_void_p], None),
    ("so_operation_error_type", c_char_p, [c_void_p], None),
    ("so_operation_delivery", so_delivery, [c_void_p], None),
    ("so_operation_free", None, [c_void_p], None),
    # The completion queue (so_completion_queue_push is passed as a completion callback)
    ("so_completion_queue_new", so_completion_queue_p, [], None),
    ("so_completion_queue_push", None, [c_void_p, c_void_p, so_result], None),
    ("so_completion_queue_wait", so_result,
     [so_completion_queue_p, c_uint32, POINTER(c_void_p), POINTER(so_result), c_size_t, POINTER(c_size_t)],
     _check_result),
    ("so_completion_queue_fd", c_int, [so_completion_queue_p], None),
    ("so_completion_queue_close", None, [so_completion_queue_p], None),
    ("so_completion_queue_free", None, [so_completion_queue_p], None),
    # Tenant lookup
    ("so_lookup_tenant_api_url_sized", so_result,
     [c_char_p, c_char_p, c_void_p, c_size_t, POINTER(c_size_t)], _check_result),
    # The first lookup (the size only in the message); unused by this binding.
    ("so_lookup_tenant_api_url", so_result, [c_char_p, c_char_p, c_void_p, c_size_t], _check_result),
    # Errors and version
    ("so_last_error_code", so_result, [], None),
    ("so_last_error_message", c_char_p, [], None),
    ("so_last_error_http_status", c_int32, [], None),
    ("so_last_error_type", c_char_p, [], None),
    ("so_last_delivery", so_delivery, [], None),
    ("so_may_have_been_sent", c_int32, [c_int32, c_int32], None),
    ("so_result_str", c_char_p, [so_result], None),
    ("so_version", c_char_p, [], None),
]


def _declare(library: ctypes.CDLL, path: str) -> None:
    missing = []
    for name, restype, argtypes, errcheck in FUNCTIONS:
        try:
            func = getattr(library, name)
        except AttributeError:
            missing.append(name)
            continue
        func.restype = restype
        func.argtypes = argtypes
        if errcheck is not None:
            func.errcheck = errcheck
    if missing:
        raise LibraryLoadError(
            f"{path} does not export {', '.join(missing)}; it is not a libsuperoffice "
            f"this binding can use (it needs version {REQUIRED_VERSION} or a compatible one)"
        )


def _load() -> Tuple[ctypes.CDLL, str, str]:
    source, path = find_library()
    try:
        library = ctypes.CDLL(path)
    except OSError as exc:
        raise LibraryLoadError(f"cannot load {path} (found via {source}): {exc}") from exc
    # Check the version before anything else is declared or called.
    try:
        get_version = library.so_version
    except AttributeError:
        raise LibraryLoadError(
            f"{path} (found via {source}) does not export so_version; it is not libsuperoffice"
        ) from None
    get_version.restype = c_char_p
    get_version.argtypes = []
    found = _text(get_version())
    if not is_compatible_version(found):
        raise LibraryVersionError(
            f"{path} (found via {source}) is libsuperoffice {found or '(no version)'}, but "
            f"this superoffice_ffi was written for {REQUIRED_VERSION}; install a matching "
            f"library or point {ENV_VAR} at one"
        )
    _declare(library, path)
    return library, path, source


class _Loaded:
    """The library once loaded: the CDLL, where it was found and its version."""

    def __init__(self) -> None:
        self.library, self.path, self.source = _load()
        self.version = _text(self.library.so_version())


_loaded: Optional[_Loaded] = None
_load_lock = threading.Lock()


def loaded() -> _Loaded:
    """Load the library on first use (once, whichever thread comes first).

    A failure is not remembered: the next call looks again, so setting
    ``SUPEROFFICE_LIB`` after a :class:`LibraryLoadError` works.
    """
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = _Loaded()
    return _loaded


class _Library:
    """Stands for the loaded ``ctypes.CDLL``: the first attribute read loads it.

    Each function, once looked up, is kept as an attribute of this object, so
    later calls cost what a call through the CDLL itself costs.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        func = getattr(loaded().library, name)
        setattr(self, name, func)
        return func


#: Every ``so_*`` function, declared; the library loads on first use.
lib: Any = _Library()


def __getattr__(name: str) -> Any:
    """``LIBRARY_PATH``, ``LIBRARY_SOURCE`` and ``LIBRARY_VERSION`` load the library."""
    if name == "LIBRARY_PATH":
        return loaded().path
    if name == "LIBRARY_SOURCE":
        return loaded().source
    if name == "LIBRARY_VERSION":
        return loaded().version
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def result_str(code: int) -> str:
    """The library's static text for a result code."""
    return _text(lib.so_result_str(code))


def version() -> str:
    """``so_version()``: the loaded library's version, e.g. ``"0.1.0"``."""
    return _text(lib.so_version())
