"""Shared fixtures: the stub server (SO_STUB_URL), per-test tenant paths, and
reading back the stub's request log."""

from __future__ import annotations

import json
import os
import re
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

STUB_TICKET = "7T:dGVzdA=="
STUB_BEARER = "8A:Cust12345.token"
STUB_BASIC = ("tje0", "Tje0")
STUB_BASIC_HEADER = "Basic dGplMDpUamUw"
STUB_XSRF = "xsrf-123"
ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail"

BINDING_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BINDING_DIR.parents[1]


class Stub:
    """The stub server's URL, tenant paths with directives, and its request log."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def tenant(self, prefix: str, *directives: str, name: str = "Cust12345") -> str:
        """``{stub}{prefix}/{directive}/.../{name}``: a base URL for a Client."""
        segments = [prefix.strip("/")] + list(directives) + ([name] if name else [])
        return self.url + "/" + "/".join(segments)

    def endpoint_path(self, prefix: str, *directives: str, name: str = "Cust12345") -> str:
        return self.tenant(prefix, *directives, name=name)[len(self.url):] + ENDPOINT

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read().decode("utf-8"))

    def requests(self, prefix: str) -> List[Dict[str, Any]]:
        """The recorded requests whose path starts with ``prefix``, oldest first."""
        return self._get("/_stub/requests?prefix=" + urllib.parse.quote(prefix, safe="/"))

    def count(self, prefix: str) -> int:
        return int(self._get("/_stub/count?prefix=" + urllib.parse.quote(prefix, safe="/"))["count"])


def header(request: Dict[str, Any], name: str) -> Optional[str]:
    """The value of a recorded request's header (names compared case-insensitively);
    None when absent, all values joined with ", " when repeated."""
    values = [value for key, value in request["headers"] if key.lower() == name.lower()]
    return ", ".join(values) if values else None


def body(request: Dict[str, Any]) -> Dict[str, Any]:
    return json.loads(request["body"])


@pytest.fixture(scope="session")
def stub_url() -> str:
    url = os.environ.get("SO_STUB_URL")
    if not url:
        pytest.fail(
            "SO_STUB_URL is not set: run the tests with "
            "`tests/with-stub.sh bindings/python/run-tests.sh` from the repository root",
            pytrace=False,
        )
    return url.rstrip("/")


@pytest.fixture
def stub(stub_url: str) -> Stub:
    return Stub(stub_url)


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A tenant-path prefix unique to this test: ``/py-<testname>-<uuid>``."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")[:60]
    return f"/py-{name}-{uuid.uuid4().hex[:12]}"
