"""Every result code becomes the right exception, with status and ErrorType."""

from __future__ import annotations

import re
import socket
import time

import pytest

import superoffice_ffi
from conftest import STUB_TICKET
from superoffice_ffi import (
    BadRequestError, Client, ClientClosedError, ForbiddenError, HTTPStatusError,
    InvalidArgumentError, NotFoundError, RateLimitedError, ResultCode, ServerError,
    SuperOfficeConnectionError, SuperOfficeError, SuperOfficeTimeoutError, TLSError,
    TransportError, UnauthorizedError,
)
from superoffice_ffi import _native, errors
from superoffice_ffi.errors import EXCEPTION_BY_CODE, exception_class_for


@pytest.mark.parametrize(
    "status, cls, code, error_type, text",
    [
        (400, BadRequestError, ResultCode.BAD_REQUEST, "SoStubException", "stub status 400"),
        (401, UnauthorizedError, ResultCode.UNAUTHORIZED, "SoStubException", "stub status 401"),
        (403, ForbiddenError, ResultCode.FORBIDDEN, "SoStubException", "stub status 403"),
        (404, NotFoundError, ResultCode.NOT_FOUND, "SoNotFoundException", "Person id 670 not found"),
        (429, RateLimitedError, ResultCode.RATE_LIMITED, "SoStubException", "stub status 429"),
        (500, ServerError, ResultCode.SERVER, "SoStubException", "stub status 500"),
        (503, ServerError, ResultCode.SERVER, "SoStubException", "stub status 503"),
        (418, HTTPStatusError, ResultCode.HTTP_STATUS, "SoStubException", "stub status 418"),
    ],
)
def test_http_status_maps_to_exception(stub, prefix, status, cls, code, error_type, text):
    with Client(stub.tenant(prefix, f"status={status}"), ticket=STUB_TICKET, max_retries=0) as so:
        with pytest.raises(HTTPStatusError) as info:
            so.send_customer_centre_password_email(670)
    error = info.value
    assert type(error) is cls
    assert isinstance(error, SuperOfficeError)
    assert error.code == code and isinstance(error.code, ResultCode)
    assert error.http_status == status
    assert error.error_type == error_type
    assert text in error.message and str(error) == error.message
    assert STUB_TICKET not in error.message
    assert stub.count(prefix) == 1


def test_invalid_credentials_are_unauthorized(stub, prefix):
    with Client(stub.tenant(prefix), ticket="not-a-valid-ticket") as so:
        with pytest.raises(UnauthorizedError) as info:
            so.send_customer_centre_password_email(670)
    assert info.value.http_status == 401
    assert info.value.error_type == "UnauthorizedAccessException"
    assert "not-a-valid-ticket" not in info.value.message


def test_missing_person_is_not_found(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with pytest.raises(NotFoundError) as info:
            so.send_customer_centre_password_email(99999)
    assert info.value.http_status == 404
    assert info.value.error_type == "SoNotFoundException"
    assert "Person id 99999 not found" in info.value.message


def test_redirect_is_not_followed(stub, prefix):
    with Client(stub.tenant(prefix, "status=302"), ticket=STUB_TICKET) as so:
        with pytest.raises(HTTPStatusError) as info:
            so.send_customer_centre_password_email(670)
    assert type(info.value) is HTTPStatusError
    assert info.value.http_status == 302
    assert stub.count(prefix) == 1


def test_garbage_answer_is_io_error(stub, prefix):
    with Client(stub.tenant(prefix, "garbage"), ticket=STUB_TICKET) as so:
        with pytest.raises(TransportError) as info:
            so.send_customer_centre_password_email(670)
    assert info.value.code == ResultCode.IO
    assert info.value.http_status == 0
    assert isinstance(info.value, OSError)
    assert info.value.message


def test_dropped_connection_after_request_is_io_error_and_not_resent(stub, prefix):
    with Client(stub.tenant(prefix, "drop=after"), ticket=STUB_TICKET, max_retries=2) as so:
        with pytest.raises(TransportError) as info:
            so.send_customer_centre_password_email(670)
    assert info.value.code == ResultCode.IO
    # The POST may have been processed: it must not be sent twice.
    assert stub.count(prefix) == 1


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_port_is_connection_error():
    url = f"http://127.0.0.1:{_refused_port()}/Cust12345"
    with Client(url, ticket=STUB_TICKET, max_retries=0, timeout=5) as so:
        with pytest.raises(SuperOfficeConnectionError) as info:
            so.send_customer_centre_password_email(670)
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == ResultCode.CONNECT
    assert info.value.http_status == 0


def test_delay_beyond_timeout_is_timeout_error(stub, prefix):
    with Client(stub.tenant(prefix, "delay_ms=3000"), ticket=STUB_TICKET, timeout=0.3) as so:
        started = time.monotonic()
        with pytest.raises(SuperOfficeTimeoutError) as info:
            so.send_customer_centre_password_email(670)
        elapsed = time.monotonic() - started
    assert isinstance(info.value, TimeoutError)
    assert info.value.code == ResultCode.TIMEOUT
    assert elapsed < 2.0


def test_https_to_a_plain_http_server_is_tls_error(stub):
    url = stub.url.replace("http://", "https://", 1) + "/Cust12345"
    with Client(url, ticket=STUB_TICKET, max_retries=0, timeout=5) as so:
        with pytest.raises(TLSError) as info:
            so.send_customer_centre_password_email(670)
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == ResultCode.TLS


def test_rate_limit_is_retried_within_max_retries(stub, prefix):
    with Client(stub.tenant(prefix, "fail_first=1", "status=429"), ticket=STUB_TICKET,
                max_retries=2) as so:
        so.send_customer_centre_password_email(670)
    assert stub.count(prefix) == 2


def test_no_retry_when_max_retries_is_zero(stub, prefix):
    with Client(stub.tenant(prefix, "fail_first=1", "status=503"), ticket=STUB_TICKET,
                max_retries=0) as so:
        with pytest.raises(ServerError) as info:
            so.send_customer_centre_password_email(670)
    assert info.value.http_status == 503
    assert stub.count(prefix) == 1


def test_errors_do_not_leak_between_calls(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with pytest.raises(NotFoundError):
            so.send_customer_centre_password_email(99999)
        so.send_customer_centre_password_email(670)  # the last error was cleared
        assert _native.lib.so_last_error_message() in (b"", None)
        assert _native.lib.so_last_error_http_status() == 0


def documented_classes():
    """The code -> class table that the errors module's docstring draws (its hierarchy,
    one ``Name ... SO_ERR_X (n)`` line a class): written apart from EXCEPTION_BY_CODE,
    so that the two are checked against each other."""
    table = {}
    for name, member, value in re.findall(r"(\w+Error)\b[^\n]*?SO_ERR_(\w+) \((\d+)\)", errors.__doc__):
        code = ResultCode(int(value))
        assert code.name == member, f"the docstring gives {member} the value of {code.name}"
        assert code not in table, f"the docstring names {code.name} twice"
        table[code] = getattr(errors, name)
    return table


def test_every_code_has_a_class_and_library_text():
    expected = documented_classes()
    assert set(expected) == set(ResultCode) - {ResultCode.OK}
    assert len(set(expected.values())) == len(expected), "one class per code"
    assert all(issubclass(cls, SuperOfficeError) for cls in expected.values())
    assert dict(EXCEPTION_BY_CODE) == expected
    for code in ResultCode:
        assert _native.result_str(code), f"so_result_str({code}) is empty"
        if code != ResultCode.OK:
            assert exception_class_for(code) is expected[code]
    assert exception_class_for(12345) is SuperOfficeError


def test_builtin_bases():
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(SuperOfficeTimeoutError, TimeoutError)
    assert issubclass(SuperOfficeConnectionError, ConnectionError)
    assert issubclass(TLSError, ConnectionError)
    assert issubclass(ClientClosedError, RuntimeError)
    for name in superoffice_ffi.__all__:
        obj = getattr(superoffice_ffi, name)
        if isinstance(obj, type) and issubclass(obj, BaseException) and name.endswith("Error"):
            if name not in ("LibraryLoadError", "LibraryVersionError"):
                assert issubclass(obj, SuperOfficeError), name


def test_error_from_last_error_reads_this_threads_error():
    # A native argument error (no network): more than 10 retries are refused.
    with pytest.raises(InvalidArgumentError) as info:
        Client("http://127.0.0.1:1/Cust12345", max_retries=11)
    assert info.value.code == ResultCode.INVALID_ARGUMENT
    assert info.value.message


def test_retry_after_longer_than_the_time_left_fails_at_once(stub, prefix):
    with Client(stub.tenant(prefix, "status=429", "retry_after=120"), ticket=STUB_TICKET,
                timeout=5, max_retries=2) as so:
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as info:
            so.send_customer_centre_password_email(670)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert info.value.http_status == 429
    assert "120" in info.value.message
    assert stub.count(prefix) == 1


def test_names_as_pep8_and_httpx_spell_them():
    assert issubclass(superoffice_ffi.TLSError, ConnectionError)
    assert issubclass(superoffice_ffi.TransportError, OSError)
    assert issubclass(superoffice_ffi.HTTPStatusError, superoffice_ffi.SuperOfficeError)
    assert issubclass(superoffice_ffi.NotFoundError, superoffice_ffi.HTTPStatusError)
    assert exception_class_for(ResultCode.TLS) is superoffice_ffi.TLSError
    assert exception_class_for(ResultCode.IO) is superoffice_ffi.TransportError
    assert exception_class_for(ResultCode.HTTP_STATUS) is superoffice_ffi.HTTPStatusError
    for old in ("TlsError", "IoError", "HttpStatusError"):
        assert old not in superoffice_ffi.__all__


@pytest.mark.parametrize("old, new", [("TlsError", "TLSError"), ("IoError", "TransportError"),
                                      ("HttpStatusError", "HTTPStatusError")])
def test_old_names_are_deprecated_aliases(old, new):
    with pytest.warns(DeprecationWarning, match=new):
        cls = getattr(superoffice_ffi, old)
    assert cls is getattr(superoffice_ffi, new)
    with pytest.warns(DeprecationWarning):
        from superoffice_ffi import errors
        assert getattr(errors, old) is getattr(errors, new)
