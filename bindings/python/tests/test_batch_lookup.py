"""send_many over so_send_cc_password_emails_with_progress, and
lookup_tenant_api_url against the stub's /api/state."""

from __future__ import annotations

import time

import pytest

from conftest import STUB_TICKET, body
from superoffice_ffi import (
    Client,
    InvalidArgumentError,
    NotFoundError,
    ResultCode,
    SendItem,
    SendResult,
    ServerError,
    TenantUnavailableError,
    lookup_tenant_api_url,
)


def test_send_many_mixed_results(stub, prefix):
    progress = []
    items = [
        670,
        SendItem(671, sender="support@example.com", recipient="kari@example.com", subject="Hi"),
        (99999,),
        {"person_id": 672, "subject": "Mapping"},
        (673, None, "ola@example.com"),
    ]
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        results = so.send_many(items, max_concurrency=3,
                               progress=lambda done, total: progress.append((done, total)))
    assert len(results) == 5 and all(isinstance(r, SendResult) for r in results)
    for i in (0, 1, 3, 4):
        assert results[i].ok and results[i].code == ResultCode.OK, results[i]
        assert results[i].message is None and results[i].error_type is None
        assert results[i].exception() is None
        results[i].raise_for_error()
    failed = results[2]
    assert not failed.ok
    assert failed.code == ResultCode.NOT_FOUND
    assert failed.http_status == 404
    assert failed.error_type == "SoNotFoundException"
    assert "Person id 99999 not found" in failed.message
    error = failed.exception()
    assert isinstance(error, NotFoundError) and error.http_status == 404
    with pytest.raises(NotFoundError):
        failed.raise_for_error()

    assert progress and progress[-1] == (5, 5)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert all(total == 5 for _, total in progress)

    recorded = {body(r)["PersonId"]: body(r) for r in stub.requests(prefix)}
    assert sorted(recorded) == [670, 671, 672, 673, 99999]
    assert recorded[671] == {"PersonId": 671, "From": "support@example.com",
                             "To": "kari@example.com", "Subject": "Hi"}
    assert recorded[672] == {"PersonId": 672, "From": None, "To": None, "Subject": "Mapping"}
    assert recorded[673] == {"PersonId": 673, "From": None, "To": "ola@example.com",
                             "Subject": None}


def test_send_many_success_status(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        [result] = so.send_many([670])
    assert result.ok and result.code == ResultCode.OK
    assert result.http_status in (0, 200, 204)


def test_send_many_all_failing(stub, prefix):
    with Client(stub.tenant(prefix, "status=500"), ticket=STUB_TICKET, max_retries=0) as so:
        results = so.send_many(range(1, 11))
    assert len(results) == 10
    for result in results:
        assert not result.ok
        assert result.code == ResultCode.SERVER and result.http_status == 500
        assert result.error_type == "SoStubException"
        assert isinstance(result.exception(), ServerError)
    assert stub.count(prefix) == 10


def test_send_many_empty(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        assert so.send_many([]) == []
        assert so.send_many(iter(())) == []
    assert stub.count(prefix) == 0


@pytest.mark.parametrize("max_concurrency", [0, 65])
def test_send_many_concurrency_refused_by_library(stub, prefix, max_concurrency):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with pytest.raises(InvalidArgumentError):
            so.send_many([670, 671], max_concurrency=max_concurrency)
    assert stub.count(prefix) == 0


def test_send_many_runs_concurrently(stub, prefix):
    with Client(stub.tenant(prefix, "delay_ms=200"), ticket=STUB_TICKET) as so:
        started = time.monotonic()
        results = so.send_many(range(1, 9), max_concurrency=8)
        elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert elapsed < 1.2, f"8 items at concurrency 8 took {elapsed:.2f}s"


def test_send_many_progress_that_raises_is_ignored(stub, prefix):
    def progress(done, total):
        raise RuntimeError("broken progress bar")

    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        results = so.send_many([670, 671], progress=progress)
    assert all(r.ok for r in results)


def test_send_many_repeatedly_frees_results(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        for _ in range(50):
            results = so.send_many([670, 99999, 671])
            assert [r.ok for r in results] == [True, False, True]


def test_lookup_running_tenant(stub):
    assert lookup_tenant_api_url("Cust12345", stub.url) == f"{stub.url}/Cust12345/api"
    assert lookup_tenant_api_url("Cust12345", state_endpoint=stub.url + "/") == \
        f"{stub.url}/Cust12345/api"


def test_lookup_tenant_in_online_maintenance_is_running(stub):
    url = lookup_tenant_api_url("CustOM", stub.url)
    assert url.startswith("http") and url.endswith("/api")


@pytest.mark.parametrize("customer", ["CustMaint", "CustSusp"])
def test_lookup_unavailable_tenant(stub, customer):
    with pytest.raises(TenantUnavailableError) as info:
        lookup_tenant_api_url(customer, stub.url)
    assert info.value.code == ResultCode.TENANT_UNAVAILABLE
    assert customer in info.value.message


def test_lookup_unknown_customer(stub):
    with pytest.raises(NotFoundError) as info:
        lookup_tenant_api_url("CustNobody", stub.url)
    assert info.value.http_status == 404


def test_lookup_then_send(stub, prefix):
    api_url = lookup_tenant_api_url("Cust12345", stub.url)
    with Client(api_url, ticket=STUB_TICKET) as so:
        so.send_customer_centre_password_email(670)


@pytest.mark.parametrize("customer_id, error", [(None, TypeError), (12345, TypeError),
                                                ("Cust\x00", ValueError)])
def test_lookup_bad_input(stub, customer_id, error):
    with pytest.raises(error):
        lookup_tenant_api_url(customer_id, stub.url)


def test_lookup_bad_state_endpoint(stub):
    with pytest.raises(TypeError):
        lookup_tenant_api_url("Cust12345", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        lookup_tenant_api_url("Cust12345", "ftp://example.com")
