"""What goes on the wire: every authentication scheme and every header option,
read back from the stub's request log."""

from __future__ import annotations

import json
import threading
import urllib.parse

import pytest

from conftest import (
    STUB_BASIC,
    STUB_BASIC_HEADER,
    STUB_BEARER,
    STUB_TICKET,
    STUB_XSRF,
    body,
    header,
)
from superoffice_ffi import LOG_DEBUG, LOG_ERROR, Client, NotFoundError, UnauthorizedError


@pytest.mark.parametrize(
    "directive, kwargs, authorization",
    [
        ("auth=ticket", {"ticket": STUB_TICKET}, f"SOTicket {STUB_TICKET}"),
        ("auth=bearer", {"bearer_token": STUB_BEARER}, f"Bearer {STUB_BEARER}"),
        ("auth=basic", {"basic": STUB_BASIC}, STUB_BASIC_HEADER),
        ("auth=xsrf", {"xsrf_token": STUB_XSRF}, None),
    ],
    ids=["ticket", "bearer", "basic", "xsrf"],
)
def test_auth_scheme_on_the_wire(stub, prefix, directive, kwargs, authorization):
    with Client(stub.tenant(prefix, directive), **kwargs) as so:
        assert so.send_customer_centre_password_email(670) is None
    [request] = stub.requests(prefix)
    assert request["method"] == "POST"
    assert request["path"] == stub.endpoint_path(prefix, directive)
    assert header(request, "Authorization") == authorization
    if "xsrf_token" in kwargs:
        assert header(request, "X-XSRF-TOKEN") == STUB_XSRF
    else:
        assert header(request, "X-XSRF-TOKEN") is None
    assert header(request, "SO-AppToken") is None


def test_every_header_option_and_body(stub, prefix):
    with Client(
        stub.tenant(prefix),
        ticket=STUB_TICKET,
        app_token="app-token-1",
        xsrf_token=STUB_XSRF,
        language="sv",
        culture="nb-NO",
        timezone="Europe/Oslo",
        select="Name,Id",
    ) as so:
        so.send_customer_centre_password_email(
            670, sender="support@example.com", recipient="kari@example.com",
            subject="Your password",
        )
    [request] = stub.requests(prefix)
    assert header(request, "Authorization") == f"SOTicket {STUB_TICKET}"
    assert header(request, "SO-AppToken") == "app-token-1"
    assert header(request, "X-XSRF-TOKEN") == STUB_XSRF
    assert header(request, "Accept-Language") == "sv"
    assert header(request, "SO-Language") == "sv"
    assert header(request, "SO-Culture") == "nb-NO"
    assert header(request, "SO-TimeZone") == "Europe/Oslo"
    assert header(request, "Content-Type") == "application/json; charset=utf-8"
    assert header(request, "Accept") == "application/json"
    assert body(request) == {
        "PersonId": 670,
        "From": "support@example.com",
        "To": "kari@example.com",
        "Subject": "Your password",
    }
    query = urllib.parse.parse_qs(request["query"].lstrip("?"), keep_blank_values=True)
    assert query == {"$select": ["Name,Id"]}


def test_none_fields_are_json_null_and_no_optional_headers(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        so.send_customer_centre_password_email(670)
    [request] = stub.requests(prefix)
    raw = json.loads(request["body"])
    assert list(raw) == ["PersonId", "From", "To", "Subject"]
    assert raw == {"PersonId": 670, "From": None, "To": None, "Subject": None}
    for name in ("SO-AppToken", "X-XSRF-TOKEN", "SO-Language", "SO-Culture", "SO-TimeZone"):
        assert header(request, name) is None, name
    assert "$select" not in urllib.parse.unquote(request["query"] or "")


def test_select_as_list_and_unicode_text(stub, prefix):
    subject = "Ditt passord \u2013 \u00e6\u00f8\u00e5 \U0001F511"
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, select=["Name", "Id"]) as so:
        so.send_customer_centre_password_email(2**31 - 1, sender="s\u00f8ren@example.com",
                                               subject=subject)
    [request] = stub.requests(prefix)
    assert body(request) == {"PersonId": 2**31 - 1, "From": "s\u00f8ren@example.com",
                             "To": None, "Subject": subject}
    query = urllib.parse.parse_qs(request["query"].lstrip("?"))
    assert query == {"$select": ["Name,Id"]}


@pytest.mark.parametrize("suffix", ["/api", "/api/", "/"])
def test_base_url_with_api_suffix(stub, prefix, suffix):
    with Client(stub.tenant(prefix) + suffix, ticket=STUB_TICKET) as so:
        so.send_customer_centre_password_email(670)
    [request] = stub.requests(prefix)
    assert request["path"] == stub.endpoint_path(prefix)


def test_credentials_callback_refreshes_ticket(stub, prefix):
    calls = []

    def fresh_ticket():
        calls.append(threading.get_ident())
        return "fresh-abc"

    with Client(stub.tenant(prefix), ticket="expired-ticket",
                credentials_callback=fresh_ticket) as so:
        so.send_customer_centre_password_email(670)
    assert len(calls) == 1
    first, second = stub.requests(prefix)
    assert header(first, "Authorization") == "SOTicket expired-ticket"
    assert header(second, "Authorization") == "SOTicket fresh-abc"


def test_credentials_callback_refreshes_bearer_token(stub, prefix):
    with Client(stub.tenant(prefix), bearer_token="expired",
                credentials_callback=lambda: "fresh-token") as so:
        so.send_customer_centre_password_email(670)
    assert [header(r, "Authorization") for r in stub.requests(prefix)] == [
        "Bearer expired", "Bearer fresh-token"]


@pytest.mark.parametrize(
    "callback",
    [lambda: None, lambda: 1 / 0, lambda: 42, lambda: "", lambda: "x" * 100_000],
    ids=["none", "raises", "not-str", "empty", "too-long"],
)
def test_credentials_callback_without_fresh_credentials(stub, prefix, callback):
    with Client(stub.tenant(prefix), ticket="expired-ticket",
                credentials_callback=callback) as so:
        with pytest.raises(UnauthorizedError) as info:
            so.send_customer_centre_password_email(670)
    assert info.value.http_status == 401
    assert info.value.error_type == "UnauthorizedAccessException"
    assert stub.count(prefix) == 1


def test_log_callback_gets_messages_without_secrets(stub, prefix):
    lines = []
    lock = threading.Lock()

    def log(level, message):
        with lock:
            lines.append((level, message))

    with Client(stub.tenant(prefix, "status=404"), ticket=STUB_TICKET, app_token="app-secret-9",
                log_callback=log) as so:
        with pytest.raises(NotFoundError):
            so.send_customer_centre_password_email(670)
    assert lines, "the log callback was never called"
    for level, message in lines:
        assert LOG_ERROR <= level <= LOG_DEBUG
        assert isinstance(message, str)
        assert STUB_TICKET not in message and "app-secret-9" not in message


def test_log_callback_that_raises_does_not_break_sending(stub, prefix):
    def log(level, message):
        raise RuntimeError("log sink is broken")

    with Client(stub.tenant(prefix), ticket=STUB_TICKET, log_callback=log) as so:
        so.send_customer_centre_password_email(670)
    assert stub.count(prefix) == 1


def test_proxy_empty_string_means_direct(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET, proxy="") as so:
        so.send_customer_centre_password_email(670)
    assert stub.count(prefix) == 1

