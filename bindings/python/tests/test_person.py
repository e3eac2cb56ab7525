"""Finding a person by e-mail address and sending to an address, against the stub's
Person archive (docs/stub-protocol.md): the ids, the recipient errors (a family apart
from the HTTP errors), untrusted answers, and the stub's send count."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from conftest import STUB_TICKET, body
from superoffice_ffi import (
    AmbiguousRecipientError,
    Client,
    Delivery,
    HTTPStatusError,
    InvalidArgumentError,
    RecipientError,
    RecipientNotFoundError,
    ResultCode,
    SuperOfficeError,
    TransportError,
)


def sends(stub, prefix):
    """The e-mail requests the stub received under ``prefix``: (total, by person id)."""
    url = stub.url + "/_stub/sends?prefix=" + urllib.parse.quote(prefix, safe="/")
    with urllib.request.urlopen(url, timeout=10) as response:
        v = json.loads(response.read().decode("utf-8"))
    return v["total"], {int(k): n for k, n in v["persons"].items()}


def test_find_person_ids_by_email(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        assert so.find_person_ids_by_email("SHARED@example.com") == [12, 13]
        assert so.find_person_ids_by_email(" finn.o'brien@example.com ") == [16]
        assert so.find_person_ids_by_email("retired@example.com") == []
        assert so.find_person_ids_by_email("jö@exämple.com") == [21]
        # Five persons need a second call with room for them (the first has room for 4).
    with Client(stub.tenant(prefix, "crowd=7"), ticket=STUB_TICKET) as so:
        assert so.find_person_ids_by_email("crowd@example.com") == list(range(100001, 100008))
    [first, *_] = stub.requests(prefix)
    assert first["method"] == "GET"
    assert "$filter=email/emailAddress%20is%20'SHARED@example.com'" in first["query"]
    assert sends(stub, prefix) == (0, {})


def test_send_to_an_address(stub, prefix):
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        person = so.send_customer_centre_password_email_to_address(
            "ida@example.com", sender="support@example.com", subject="Hi")
    assert person == 20
    assert sends(stub, prefix) == (1, {20: 1})
    [post] = [r for r in stub.requests(prefix) if r["method"] == "POST"]
    assert body(post) == {"PersonId": 20, "From": "support@example.com", "To": "ida@example.com",
                          "Subject": "Hi"}


def test_recipient_errors_are_a_family_apart_and_send_nothing(stub, prefix):
    assert issubclass(RecipientNotFoundError, RecipientError)
    assert issubclass(AmbiguousRecipientError, RecipientError)
    assert not issubclass(RecipientError, HTTPStatusError)
    with Client(stub.tenant(prefix), ticket=STUB_TICKET) as so:
        with pytest.raises(RecipientNotFoundError) as not_found:
            so.send_customer_centre_password_email_to_address("retired@example.com")
        assert not_found.value.code == ResultCode.RECIPIENT_NOT_FOUND == 29
        assert "no person has the e-mail address retired@example.com" in str(not_found.value)
        assert not_found.value.delivery == Delivery.NOT_SENT
        with pytest.raises(AmbiguousRecipientError) as ambiguous:
            so.send_customer_centre_password_email_to_address("shared@example.com")
        assert ambiguous.value.code == ResultCode.AMBIGUOUS_RECIPIENT == 30
        assert "person ids 12, 13" in str(ambiguous.value)
        assert not isinstance(ambiguous.value, HTTPStatusError)
        with pytest.raises(InvalidArgumentError):
            so.find_person_ids_by_email("no-at-sign")
        with pytest.raises(TypeError):
            so.find_person_ids_by_email(None)
    assert sends(stub, prefix) == (0, {})


@pytest.mark.parametrize("directive, said", [
    ("archive=filter_ignored", "did not apply the e-mail filter"),
    ("archive=no_email", "no e-mail column"),
])
def test_untrusted_answers_send_nothing(stub, prefix, directive, said):
    with Client(stub.tenant(prefix, directive), ticket=STUB_TICKET) as so:
        with pytest.raises(TransportError) as e:
            so.find_person_ids_by_email("ann.able@example.com")
        assert said in str(e.value)
        assert str(e.value).startswith("GET http://")
        with pytest.raises(SuperOfficeError) as e:
            so.send_customer_centre_password_email_to_address("ann.able@example.com")
        assert e.value.delivery == Delivery.NOT_SENT
    assert sends(stub, prefix) == (0, {})


def test_keys_as_the_server_gives_them_are_read(stub, prefix):
    with Client(stub.tenant(prefix, "archive=jsonsafe_ignored", "archive=key_string"),
                ticket=STUB_TICKET) as so:
        assert so.find_person_ids_by_email("Eve.Mixed@Example.com") == [15]
