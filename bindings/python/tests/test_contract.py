"""The contract's hardening seen from Python: a refused batch raises while failed
items do not, the tenant lookup asks the library for the size it needs, and
international host names."""

from __future__ import annotations

import socket
import subprocess

import pytest

from conftest import REPO_ROOT, STUB_TICKET, header
from superoffice_ffi import Client, InvalidArgumentError, NotFoundError, ResultCode, lookup_tenant_api_url
from superoffice_ffi import client as client_module


def test_a_refused_batch_raises_and_failed_items_do_not(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with pytest.raises(InvalidArgumentError) as info:
            so.send_many([670, 671], max_concurrency=0)  # the library's range is 1 to 64
        assert info.value.code == ResultCode.INVALID_ARGUMENT
        assert "max_concurrency" in info.value.message
        assert stub.count(prefix) == 0
        results = so.send_many([670, 0, 99999], max_concurrency=2)
    assert [r.code for r in results] == [ResultCode.OK, ResultCode.INVALID_ARGUMENT, ResultCode.NOT_FOUND]
    assert stub.count(prefix) == 2


def test_lookup_takes_the_size_the_library_reports(stub, monkeypatch):
    monkeypatch.setattr(client_module, "_URL_BUFFER_START", 8)
    path = "/api/state/Cust12345"
    before = stub.count(path)
    assert lookup_tenant_api_url("Cust12345", stub.url) == f"{stub.url}/Cust12345/api"
    assert stub.count(path) - before == 2, "one lookup to learn the size, one to fetch the URL"


IDNA_HOST = "so-stub.bæk.test"
IDNA_HOST_ASCII = "so-stub.xn--bk-1ia.test"


def _idna_host_resolves() -> bool:
    """``tests/ensure-idna-host.sh`` adds the name to /etc/hosts when it can."""
    subprocess.run([str(REPO_ROOT / "tests" / "ensure-idna-host.sh")], check=False)
    try:
        return socket.gethostbyname(IDNA_HOST_ASCII) == "127.0.0.1"
    except OSError:
        return False


def test_international_host_names(stub, prefix):
    # The conversion, always: accepted, and refused with the reason.
    Client("https://crm.bæk.no/SuperOffice", ticket=STUB_TICKET).close()
    with pytest.raises(InvalidArgumentError) as info:
        Client("https://ok.xn--zz-.no/x", ticket=STUB_TICKET)
    assert "not valid under IDNA" in info.value.message and "'xn--zz-'" in info.value.message
    if not _idna_host_resolves():
        pytest.skip(f"{IDNA_HOST_ASCII} does not resolve to 127.0.0.1: conversion tested alone")
    port = stub.url.rsplit(":", 1)[1]
    with Client(f"http://{IDNA_HOST}:{port}{prefix}/status=404/Cust1", ticket=STUB_TICKET) as so:
        with pytest.raises(NotFoundError) as info:
            so.send_customer_centre_password_email(670)
    assert f"http://{IDNA_HOST}:{port}{prefix}" in info.value.message
    assert "xn--" not in info.value.message
    [request] = stub.requests(prefix)
    assert header(request, "host") == f"{IDNA_HOST_ASCII}:{port}"
